/* Grid-point planning (theory, surrogates) and one Monte Carlo trial of every
 * selected pipeline, with all student fits sharing one design. */
#include "kdbench/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/hash.h"

static const char *const names[KD_NPIPES] = {"strong", "optimal", "mask", "w2s", "weak"};

const char *kd_pipeline_name(kd_pipeline p) { return names[p]; }

kd_status kd_pipelines_parse(const char *list, unsigned *mask) {
  unsigned m = 0;
  const char *s = list;
  while (*s) {
    size_t len = strcspn(s, ",");
    int found = -1;
    for (int i = 0; i < KD_NPIPES; ++i)
      if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0) found = i;
    if (found < 0)
      return kd_fail(KD_EINVAL,
                     "unknown pipeline '%.*s' (expected strong, optimal, mask, w2s or weak)",
                     (int)len, s);
    m |= 1u << found;
    s += len;
    if (*s == ',') ++s;
  }
  if (!m) return kd_fail(KD_EINVAL, "no pipeline named in '%s'", list);
  *mask = m;
  return KD_OK;
}

static int has(unsigned pipes, kd_pipeline p) { return (pipes >> p) & 1u; }

/* ---- theory of one point ----------------------------------------------------------- */

/* E over a random source with coordinate means mu and variances v (v may be NULL) of
 * the exact ridgeless risk, where one exists (docs/theory.md#finite-size); -1 otherwise. */
static double exact_risk(const kd_problem *pr, const kd_point *pt, int isotropic,
                         const double *mu, const double *v, double sigma_lab) {
  size_t p = pr->p;
  double n = (double)pt->n, extra = 0;
  if (pt->ridge != 0) return -1;
  if (n > p + 1.0) {
    if (v)
      for (size_t i = 0; i < p; ++i) extra += pr->lambda[i] * v[i];
    return kd_exact_ols(pr->lambda, pr->beta, mu, p, n, sigma_lab) + extra;
  }
  if (isotropic && p > n + 1.0) {
    if (v)
      for (size_t i = 0; i < p; ++i) extra += v[i];
    return kd_exact_iso_minnorm(pr->lambda[0], pr->beta, mu, p, n, sigma_lab) +
           pr->lambda[0] * (n / p) * extra;
  }
  return -1;
}

static void set_theory(kd_plan *pl, kd_pipeline pipe, double exact, double de) {
  pl->kind[pipe] = exact >= 0 ? KD_THEORY_EXACT : KD_THEORY_DE;
  pl->theory[pipe] = exact >= 0 ? exact : de;
}

static int spectrum_isotropic(const kd_problem *pr) {
  return pr->lambda[0] == pr->lambda[pr->p - 1];
}

static kd_status plan_weak(const kd_problem *pr, kd_plan *pl) {
  size_t p = pr->p;
  kd_weak_spec w = {.m = (double)pl->pt.m, .k = pl->pt.k, .ridge = pl->pt.weak_ridge,
                    .lambda_w = NULL, .sigma = pr->sigma};
  if (w.m < 1) return kd_fail(KD_EINVAL, "m (the weak model's samples) must be positive");
  /* At the student's interpolation peak (Omega = 0) every k gives an infinite w2s
   * risk: there is nothing to optimise, so the teacher keeps the mask's k (or all). */
  if (pl->pt.k == 0 && !(pl->de.omega > 0)) pl->pt.k = pl->k_mask ? pl->k_mask : p;
  if (pl->pt.k == 0) {
    double best;
    kd_status st = kd_best_k_w2s(pr->lambda, pr->beta, p, &pl->de, &w, pr->teacher_sigma,
                                 &pl->pt.k, &best);
    if (st != KD_OK) return st;
  }
  if (pl->pt.k > p) return kd_fail(KD_EINVAL, "k = %zu exceeds p = %zu", pl->pt.k, p);
  w.k = pl->pt.k;
  kd_status st = kd_weak_moments(pr->lambda, pr->beta, p, &w, pl->mu, pl->v, &pl->weak);
  if (st != KD_OK) return st;
  pl->dropped = 0;
  for (size_t i = pl->pt.k; i < p; ++i) pl->dropped += pr->lambda[i] * pr->beta[i] * pr->beta[i];
  return KD_OK;
}

kd_status kd_plan_point(const kd_problem *pr, const kd_point *pt, unsigned pipes, kd_plan *pl) {
  size_t p = pr->p;
  memset(pl, 0, sizeof *pl);
  pl->pt = *pt;
  pl->pipes = pipes;
  if (pt->n == 0) return kd_fail(KD_EINVAL, "n must be a positive integer");
  if (!(pt->ridge >= 0) || !isfinite(pt->ridge))
    return kd_fail(KD_EINVAL, "ridge must be >= 0, got %g", pt->ridge);
  kd_status st = kd_de_solve(pr->lambda, p, (double)pt->n, pt->ridge, &pl->de);
  if (st != KD_OK) return st;

  pl->beta_opt = malloc(sizeof(double) * p);
  pl->beta_mask = malloc(sizeof(double) * p);
  pl->mu = calloc(p, sizeof(double));
  pl->v = calloc(p, sizeof(double));
  if (!pl->beta_opt || !pl->beta_mask || !pl->mu || !pl->v) {
    kd_plan_free(pl);
    return kd_fail(KD_ENOMEM, "cannot allocate the plan of a point with p = %zu", p);
  }
  kd_optimal_gains(pr->lambda, p, &pl->de, pl->beta_opt);
  for (size_t i = 0; i < p; ++i) pl->beta_opt[i] *= pr->beta[i];
  pl->k_mask = kd_optimal_mask_k(pr->lambda, p, &pl->de);
  for (size_t i = 0; i < p; ++i) pl->beta_mask[i] = i < pl->k_mask ? pr->beta[i] : 0.0;

  if (has(pipes, KD_PIPE_W2S) || has(pipes, KD_PIPE_WEAK)) {
    st = plan_weak(pr, pl);
    if (st != KD_OK) {
      kd_plan_free(pl);
      return st;
    }
  }

  int iso = spectrum_isotropic(pr);
  double sg = pr->sigma, st_sigma = pr->teacher_sigma;
  set_theory(pl, KD_PIPE_STRONG, exact_risk(pr, pt, iso, pr->beta, NULL, sg),
             kd_risk_surrogate(pr->lambda, pr->beta, pr->beta, p, &pl->de, sg));
  set_theory(pl, KD_PIPE_OPTIMAL, exact_risk(pr, pt, iso, pl->beta_opt, NULL, st_sigma),
             kd_risk_optimal(pr->lambda, pr->beta, p, &pl->de, st_sigma));
  set_theory(pl, KD_PIPE_MASK, exact_risk(pr, pt, iso, pl->beta_mask, NULL, st_sigma),
             kd_risk_surrogate(pr->lambda, pr->beta, pl->beta_mask, p, &pl->de, st_sigma));
  if (has(pipes, KD_PIPE_W2S) || has(pipes, KD_PIPE_WEAK)) {
    double ew = kd_risk_weak(pr->lambda, pr->beta, p, pl->mu, pl->v);
    set_theory(pl, KD_PIPE_WEAK, pl->weak.exact ? ew : -1, ew);
    double ex = pl->weak.exact ? exact_risk(pr, pt, iso, pl->mu, pl->v, st_sigma) : -1;
    set_theory(pl, KD_PIPE_W2S, ex,
               kd_risk_w2s(pr->lambda, pr->beta, p, &pl->de, pl->mu, pl->v, st_sigma));
  }

  /* Ridgeless at |n - p| <= 1 (or a weak model at |m - k| <= 1): the expected risk is
   * infinite for Gaussian designs. Report it so, exactly. */
  int student_peak = pt->ridge == 0 && labs((long)pt->n - (long)p) <= 1;
  int weak_peak = pt->weak_ridge == 0 && labs((long)pt->m - (long)pl->pt.k) <= 1 &&
                  (has(pipes, KD_PIPE_W2S) || has(pipes, KD_PIPE_WEAK));
  for (int q = 0; q < KD_NPIPES; ++q) {
    int peak = q == KD_PIPE_WEAK ? weak_peak : (student_peak || (q == KD_PIPE_W2S && weak_peak));
    if (peak) {
      pl->peak[q] = 1;
      pl->theory[q] = INFINITY;
      pl->kind[q] = KD_THEORY_EXACT;
    }
  }

  /* The student's designs depend on (n, p) only: points that differ in the teacher, the
   * ridge, the spectrum or the noise see the same standard-normal draws (common random
   * numbers), so their differences are paired and not blurred by fresh noise. */
  char key[256];
  snprintf(key, sizeof key, "n=%zu p=%zu", pt->n, p);
  pl->id = kd_hash32(key);
  snprintf(key, sizeof key, "weak m=%zu k=%zu p=%zu weak_ridge=%.17g", pl->pt.m, pl->pt.k, p,
           pt->weak_ridge);
  pl->weak_id = kd_hash32(key);
  return KD_OK;
}

void kd_plan_free(kd_plan *pl) {
  free(pl->beta_opt);
  free(pl->beta_mask);
  free(pl->mu);
  free(pl->v);
  pl->beta_opt = pl->beta_mask = pl->mu = pl->v = NULL;
}

/* The four p-vectors above, and kd_best_k_w2s's two scratch vectors of p + 1 while it
 * searches k (counted whenever the plan has a weak model: it may have searched). */
size_t kd_plan_bytes(const kd_problem *pr, const kd_plan *pl) {
  int weak = has(pl->pipes, KD_PIPE_W2S) || has(pl->pipes, KD_PIPE_WEAK);
  return sizeof(double) * (4 * pr->p + (weak ? 2 * (pr->p + 1) : 0));
}

/* ---- one trial ------------------------------------------------------------------------- */

kd_status kd_trial_ws_init(kd_trial_ws *ws, const kd_problem *pr, const kd_plan *pl) {
  size_t p = pr->p;
  memset(ws, 0, sizeof *ws);
  ws->sources = malloc(sizeof(double) * p * 4);
  ws->sigma = malloc(sizeof(double) * 4);
  ws->risk = malloc(sizeof(double) * 4);
  ws->weak_hat = malloc(sizeof(double) * (pl->pt.k ? pl->pt.k : 1));
  if (!ws->sources || !ws->sigma || !ws->risk || !ws->weak_hat) {
    kd_trial_ws_free(ws);
    return kd_fail(KD_ENOMEM, "cannot allocate trial buffers for p = %zu", p);
  }
  return KD_OK;
}

size_t kd_trial_ws_bytes(const kd_problem *pr, const kd_plan *pl) {
  return sizeof(double) * (4 * pr->p + 4 + 4 + (pl->pt.k ? pl->pt.k : 1));
}

void kd_trial_ws_free(kd_trial_ws *ws) {
  free(ws->sources);
  free(ws->sigma);
  free(ws->risk);
  free(ws->weak_hat);
  memset(ws, 0, sizeof *ws);
}

/* The weak model: m samples of its top-k features. The dropped features are
 * independent of the kept ones (diagonal Gaussian design), so their contribution to
 * the labels is exactly an extra Gaussian noise of variance `dropped`: drawing it as
 * such avoids generating the m x (p - k) block. */
static kd_status run_weak(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                          uint64_t seed, uint32_t trial, kd_trial_ws *ws, double *risk,
                          int *fallback) {
  size_t k = pl->pt.k;
  double sigma = sqrt(pr->sigma * pr->sigma + pl->dropped);
  kd_stage st = {
      .n = pl->pt.m, .p = k, .lambda = pr->lambda, .ridge = pl->pt.weak_ridge, .k = 1,
      .sources = pr->beta, .sigma = &sigma, .target = pr->beta, .metric = NULL,
      .design = {seed, pl->weak_id, trial, KD_STAGE_WEAK | KD_PURPOSE_DESIGN},
      .noise = {seed, pl->weak_id, trial, KD_STAGE_WEAK | KD_PURPOSE_NOISE},
      .risk = risk, .beta_hat = ws->weak_hat};
  kd_status s = kd_stage_run(be, &st);
  if (s != KD_OK) return s;
  *risk += pl->dropped;
  *fallback = st.fallback;
  return KD_OK;
}

kd_status kd_run_trial(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                       uint64_t seed, uint32_t trial, kd_trial_ws *ws,
                       double risk[KD_NPIPES], int fallback[KD_NPIPES]) {
  size_t p = pr->p, nrhs = 0;
  kd_pipeline slot[4];
  for (int q = 0; q < KD_NPIPES; ++q) {
    risk[q] = NAN;
    fallback[q] = 0;
  }
  if ((has(pl->pipes, KD_PIPE_W2S) || has(pl->pipes, KD_PIPE_WEAK)) && !ws->weak_ready) {
    kd_status s = run_weak(be, pr, pl, seed, trial, ws, &ws->weak_risk, &ws->weak_fallback);
    if (s != KD_OK) return s;
  }
  if (has(pl->pipes, KD_PIPE_W2S) || has(pl->pipes, KD_PIPE_WEAK)) {
    risk[KD_PIPE_WEAK] = ws->weak_risk;
    fallback[KD_PIPE_WEAK] = ws->weak_fallback;
  }
  for (int q = KD_PIPE_STRONG; q <= KD_PIPE_W2S; ++q) {
    if (!has(pl->pipes, (kd_pipeline)q)) continue;
    double *src = ws->sources + nrhs * p;
    switch ((kd_pipeline)q) {
      case KD_PIPE_STRONG: memcpy(src, pr->beta, sizeof(double) * p); break;
      case KD_PIPE_OPTIMAL: memcpy(src, pl->beta_opt, sizeof(double) * p); break;
      case KD_PIPE_MASK: memcpy(src, pl->beta_mask, sizeof(double) * p); break;
      default:
        memcpy(src, ws->weak_hat, sizeof(double) * pl->pt.k);
        memset(src + pl->pt.k, 0, sizeof(double) * (p - pl->pt.k));
    }
    ws->sigma[nrhs] = q == KD_PIPE_STRONG ? pr->sigma : pr->teacher_sigma;
    slot[nrhs++] = (kd_pipeline)q;
  }
  if (nrhs == 0) return KD_OK;
  kd_stage st = {
      .n = pl->pt.n, .p = p, .lambda = pr->lambda, .ridge = pl->pt.ridge, .k = nrhs,
      .sources = ws->sources, .sigma = ws->sigma, .target = pr->beta, .metric = NULL,
      .design = {seed, pl->id, trial, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
      .noise = {seed, pl->id, trial, KD_STAGE_STUDENT | KD_PURPOSE_NOISE},
      .risk = ws->risk, .beta_hat = NULL};
  kd_status s = kd_stage_run(be, &st);
  if (s != KD_OK) return s;
  for (size_t r = 0; r < nrhs; ++r) {
    risk[slot[r]] = ws->risk[r];
    fallback[slot[r]] = st.fallback;
  }
  fallback[KD_PIPE_W2S] |= fallback[KD_PIPE_WEAK]; /* a fallback in either of its stages */
  return KD_OK;
}
