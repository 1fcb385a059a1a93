/* Grid-point planning (the surrogates, the weak model, each selected pipeline's theory,
 * its chain resolved into fits) and the trials of a point, with every pipeline's risk
 * read off its chain's last fit. The registry is pipeline_registry.c's; what the
 * descriptors share, pipeline_theory.c's. */
#include "kdbench/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int has(unsigned pipes, kd_pipeline p) { return (pipes >> p) & 1u; }

/* ---- the plan of one point ---------------------------------------------------------------- */

/* Whether a chain has a stage on the point's top k features: the weak model, whose k
 * the plan resolves (plan_weak). */
static int uses_weak(const kd_chain *ch) {
  for (int s = 0; s < ch->length; ++s)
    if (ch->stage[s].features.kind == KD_FEATURES_TOP_K) return 1;
  return 0;
}

static kd_status plan_weak(const kd_problem *pr, kd_plan *pl) {
  size_t p = pr->p;
  pl->weak_lambda = pr->lambda_w;
  kd_weak_spec w = {.m = (double)pl->pt.m, .k = pl->pt.k, .ridge = pl->pt.weak_ridge,
                    .lambda_w = pr->lambda_w, .sigma = pr->sigma};
  if (w.m < 1) return kd_fail(KD_EINVAL, "m (the weak model's samples) must be positive");
  if (pl->pt.k == 0 && pl->pt.weak_ridge < 0)
    return kd_fail(KD_EINVAL, "the weak model's ridge 'auto' needs its k (--k N or --k all), "
                   "not the theory-optimal k");
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
  if (pl->pt.weak_ridge < 0) { /* the theory-optimal ridge of the weak model's own fit */
    kd_status st = kd_best_weak_ridge(pr->lambda, pr->beta, p, &w, &pl->pt.weak_ridge);
    if (st != KD_OK) return st;
    w.ridge = pl->pt.weak_ridge;
  }
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

  const kd_chain *chains[KD_NPIPES];
  int count = 0, weak = 0;
  for (int q = 0; q < KD_NPIPES; ++q) {
    pl->chain_of[q] = -1;
    if (!has(pipes, (kd_pipeline)q)) continue;
    weak |= uses_weak(&kd_pipelines[q]->chain);
    pl->chain_of[q] = count;
    chains[count++] = &kd_pipelines[q]->chain;
  }
  if (weak) st = plan_weak(pr, pl);
  if (st == KD_OK) st = kd_program_build(&pl->prog, pr, pl, chains, count);
  if (st != KD_OK) {
    kd_plan_free(pl);
    return st;
  }
  for (int q = 0; q < KD_NPIPES; ++q) {
    if (pl->chain_of[q] < 0) continue;
    kd_pipelines[q]->theory(pr, pl, &pl->theory[q], &pl->kind[q]);
    /* Ridgeless at |n - p| <= 1 (the weak model: |m - k| <= 1) in any fit of the chain:
     * the expected risk is infinite for Gaussian designs. Report it so, exactly. */
    const kd_program *prog = &pl->prog;
    for (int c = 0; c < prog->ncalls; ++c) {
      const kd_call *call = &prog->call[c];
      if (prog->uses[pl->chain_of[q]] >> c & 1u && call->ridge == 0 &&
          labs((long)call->n - (long)call->p) <= 1)
        pl->peak[q] = 1;
    }
    if (pl->peak[q]) {
      pl->theory[q] = INFINITY;
      pl->kind[q] = KD_THEORY_EXACT;
    }
  }
  /* The streams (kd_stream): the student's depend on (n, p) only, the weak model's on
   * (m, k, p, weak ridge) only. */
  pl->id = kd_stream_id(KD_STREAM_STUDENT, 0, pt->n, p, p, pt->ridge);
  pl->weak_id = kd_stream_id(KD_STREAM_WEAK, 0, pl->pt.m, pl->pt.k, p, pl->pt.weak_ridge);
  return KD_OK;
}

void kd_plan_free(kd_plan *pl) {
  free(pl->beta_opt);
  free(pl->beta_mask);
  free(pl->mu);
  free(pl->v);
  pl->beta_opt = pl->beta_mask = pl->mu = pl->v = NULL;
  kd_program_free(&pl->prog);
}

/* The four p-vectors above, kd_best_k_w2s's two scratch vectors of p + 1 while it
 * searches k (counted whenever the plan has a weak model: it may have searched), and
 * the program's own copies (subset fits). */
size_t kd_plan_bytes(const kd_problem *pr, const kd_plan *pl) {
  int weak = 0;
  for (int q = 0; q < KD_NPIPES; ++q)
    weak |= has(pl->pipes, (kd_pipeline)q) && uses_weak(&kd_pipelines[q]->chain);
  return sizeof(double) * (4 * pr->p + (weak ? 2 * (pr->p + 1) : 0)) + pl->prog.owned_bytes;
}

void kd_plan_columns(const kd_problem *pr, const kd_plan *pl, kd_pipeline q, size_t *m,
                     size_t *k, double *sigma) {
  const kd_pipeline_type *t = kd_pipelines[q];
  const kd_labels *last = &t->chain.stage[t->chain.length - 1].labels;
  *m = t->m_column ? pl->pt.m : 0;
  *k = t->k_column ? t->k_column(pl) : 0;
  *sigma = last->noise == KD_NOISE_SIGMA     ? pr->sigma
           : last->noise == KD_NOISE_TEACHER ? pr->teacher_sigma
                                             : last->sigma;
}

int kd_plan_near_peak(const kd_plan *pl, kd_pipeline q) {
  if (pl->chain_of[q] < 0) return 0;
  const kd_program *prog = &pl->prog;
  for (int c = 0; c < prog->ncalls; ++c) {
    const kd_call *call = &prog->call[c];
    if (!(prog->uses[pl->chain_of[q]] >> c & 1u) || call->ridge != 0) continue;
    if (call->top_k && pl->weak.exact) continue; /* the weak moments are exact: no DE error */
    const double n = (double)call->n, p = (double)call->p;
    if (fabs(n - p) < p / 10.0) return 1;
  }
  return 0;
}

/* ---- trials ---------------------------------------------------------------------------- */

kd_status kd_run_trials(kd_backend *be, const kd_plan *pl, uint64_t seed, uint32_t first,
                        uint32_t count, kd_trial_ws *ws, double *risk, int *fallback) {
  kd_status s = kd_program_run(be, &pl->prog, seed, first, count, ws);
  if (s != KD_OK) return s;
  const kd_program *prog = &pl->prog;
  for (int q = 0; q < KD_NPIPES; ++q) {
    const int ch = pl->chain_of[q];
    for (uint32_t i = 0; i < count; ++i) {
      double r = NAN;
      int fb = 0;
      if (ch >= 0) {
        const int out = prog->out_call[ch];
        r = ws->risk[out][(size_t)i * prog->call[out].nrhs + (size_t)prog->out_rhs[ch]];
        for (int c = 0; c < prog->ncalls; ++c) /* a fallback in any of its fits */
          if (prog->uses[ch] >> c & 1u) fb |= ws->fallback[c][i];
      }
      risk[(size_t)q * count + i] = r;
      fallback[(size_t)q * count + i] = fb;
    }
  }
  return KD_OK;
}

kd_status kd_run_trial(kd_backend *be, const kd_plan *pl, uint64_t seed, uint32_t trial,
                       kd_trial_ws *ws, double risk[KD_NPIPES], int fallback[KD_NPIPES]) {
  return kd_run_trials(be, pl, seed, trial, 1, ws, risk, fallback);
}
