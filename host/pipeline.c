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

/* ---- trials ---------------------------------------------------------------------------- */

kd_status kd_trial_ws_init(kd_trial_ws *ws, const kd_problem *pr, const kd_plan *pl,
                           size_t batch) {
  size_t p = pr->p, k = pl->pt.k ? pl->pt.k : 1;
  memset(ws, 0, sizeof *ws);
  if (batch == 0) batch = 1;
  ws->batch = batch;
  ws->stages = malloc(sizeof *ws->stages * batch);
  ws->sources = malloc(sizeof(double) * p * 4 * batch);
  ws->sigma = malloc(sizeof(double) * 4);
  ws->risk = malloc(sizeof(double) * 4 * batch);
  ws->weak_hat = malloc(sizeof(double) * k * batch);
  ws->weak_risk = malloc(sizeof(double) * batch);
  ws->weak_fallback = malloc(sizeof(int) * batch);
  if (!ws->stages || !ws->sources || !ws->sigma || !ws->risk || !ws->weak_hat ||
      !ws->weak_risk || !ws->weak_fallback) {
    kd_trial_ws_free(ws);
    return kd_fail(KD_ENOMEM, "cannot allocate the buffers of %zu trials for p = %zu", batch, p);
  }
  return KD_OK;
}

size_t kd_trial_ws_bytes(const kd_problem *pr, const kd_plan *pl, size_t batch) {
  const size_t k = pl->pt.k ? pl->pt.k : 1;
  if (batch == 0) batch = 1;
  return sizeof(kd_stage) * batch + sizeof(double) * (4 + (4 * pr->p + 4 + k + 1) * batch) +
         sizeof(int) * batch;
}

void kd_trial_ws_free(kd_trial_ws *ws) {
  free(ws->stages);
  free(ws->sources);
  free(ws->sigma);
  free(ws->risk);
  free(ws->weak_hat);
  free(ws->weak_risk);
  free(ws->weak_fallback);
  memset(ws, 0, sizeof *ws);
}

/* One trial: kd_stage_run; more: kd_stage_run_batch (one by one where the backend has
 * no batches). */
static kd_status run_stages(kd_backend *be, kd_stage *st, uint32_t count) {
  return count == 1 ? kd_stage_run(be, st) : kd_stage_run_batch(be, st, count);
}

/* The weak models: m samples of their top-k features. The dropped features are
 * independent of the kept ones (diagonal Gaussian design), so their contribution to
 * the labels is exactly an extra Gaussian noise of variance `dropped`: drawing it as
 * such avoids generating the m x (p - k) block. */
static kd_status run_weak(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                          uint64_t seed, uint32_t first, uint32_t count, kd_trial_ws *ws) {
  size_t k = pl->pt.k;
  ws->weak_sigma = sqrt(pr->sigma * pr->sigma + pl->dropped);
  for (uint32_t i = 0; i < count; ++i)
    ws->stages[i] = (kd_stage){
        .n = pl->pt.m, .p = k, .lambda = pr->lambda, .ridge = pl->pt.weak_ridge, .k = 1,
        .sources = pr->beta, .sigma = &ws->weak_sigma, .target = pr->beta, .metric = NULL,
        .design = {seed, pl->weak_id, first + i, KD_STAGE_WEAK | KD_PURPOSE_DESIGN},
        .noise = {seed, pl->weak_id, first + i, KD_STAGE_WEAK | KD_PURPOSE_NOISE},
        .risk = &ws->weak_risk[i], .beta_hat = ws->weak_hat + (size_t)i * k};
  kd_status s = run_stages(be, ws->stages, count);
  if (s != KD_OK) return s;
  for (uint32_t i = 0; i < count; ++i) {
    ws->weak_risk[i] += pl->dropped;
    ws->weak_fallback[i] = ws->stages[i].fallback;
  }
  return KD_OK;
}

kd_status kd_run_trials(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                        uint64_t seed, uint32_t first, uint32_t count, kd_trial_ws *ws,
                        double *risk, int *fallback) {
  size_t p = pr->p, nrhs = 0;
  const int weak = has(pl->pipes, KD_PIPE_W2S) || has(pl->pipes, KD_PIPE_WEAK);
  kd_pipeline slot[4];
  if (count > ws->batch)
    return kd_fail(KD_EINVAL, "%u trials in buffers of %zu", count, ws->batch);
  for (size_t at = 0; at < (size_t)KD_NPIPES * count; ++at) {
    risk[at] = NAN;
    fallback[at] = 0;
  }
  if (weak && !ws->weak_ready) { /* the teachers first: the w2s students learn from them */
    kd_status s = run_weak(be, pr, pl, seed, first, count, ws);
    if (s != KD_OK) return s;
  }
  for (uint32_t i = 0; weak && i < count; ++i) {
    risk[KD_PIPE_WEAK * count + i] = ws->weak_risk[i];
    fallback[KD_PIPE_WEAK * count + i] = ws->weak_fallback[i];
  }
  for (int q = KD_PIPE_STRONG; q <= KD_PIPE_W2S; ++q)
    if (has(pl->pipes, (kd_pipeline)q)) {
      ws->sigma[nrhs] = q == KD_PIPE_STRONG ? pr->sigma : pr->teacher_sigma;
      slot[nrhs++] = (kd_pipeline)q;
    }
  if (nrhs == 0) return KD_OK;
  for (uint32_t i = 0; i < count; ++i) {
    double *src = ws->sources + (size_t)i * nrhs * p;
    for (size_t r = 0; r < nrhs; ++r, src += p)
      switch (slot[r]) {
        case KD_PIPE_STRONG: memcpy(src, pr->beta, sizeof(double) * p); break;
        case KD_PIPE_OPTIMAL: memcpy(src, pl->beta_opt, sizeof(double) * p); break;
        case KD_PIPE_MASK: memcpy(src, pl->beta_mask, sizeof(double) * p); break;
        default:
          memcpy(src, ws->weak_hat + (size_t)i * pl->pt.k, sizeof(double) * pl->pt.k);
          memset(src + pl->pt.k, 0, sizeof(double) * (p - pl->pt.k));
      }
    ws->stages[i] = (kd_stage){
        .n = pl->pt.n, .p = p, .lambda = pr->lambda, .ridge = pl->pt.ridge, .k = nrhs,
        .sources = ws->sources + (size_t)i * nrhs * p, .sigma = ws->sigma, .target = pr->beta,
        .metric = NULL,
        .design = {seed, pl->id, first + i, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
        .noise = {seed, pl->id, first + i, KD_STAGE_STUDENT | KD_PURPOSE_NOISE},
        .risk = ws->risk + (size_t)i * nrhs, .beta_hat = NULL};
  }
  kd_status s = run_stages(be, ws->stages, count);
  if (s != KD_OK) return s;
  for (uint32_t i = 0; i < count; ++i) {
    for (size_t r = 0; r < nrhs; ++r) {
      risk[slot[r] * count + i] = ws->risk[(size_t)i * nrhs + r];
      fallback[slot[r] * count + i] = ws->stages[i].fallback;
    }
    /* a fallback in either of its stages */
    fallback[KD_PIPE_W2S * count + i] |= fallback[KD_PIPE_WEAK * count + i];
  }
  return KD_OK;
}

kd_status kd_run_trial(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                       uint64_t seed, uint32_t trial, kd_trial_ws *ws,
                       double risk[KD_NPIPES], int fallback[KD_NPIPES]) {
  return kd_run_trials(be, pr, pl, seed, trial, 1, ws, risk, fallback);
}
