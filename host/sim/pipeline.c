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

int kd_pipeline_fits_student(const kd_pipeline_type *t) {
  if (t->groups) return t->student_groups;
  for (int s = 0; s < t->chain.length; ++s) {
    const kd_chain_stage *c = &t->chain.stage[s];
    if (c->stream == KD_STREAM_STUDENT && c->samples.kind == KD_SAMPLES_N &&
        c->features.kind == KD_FEATURES_ALL)
      return 1;
  }
  return 0;
}

/* Whether a chain has a stage on the point's student features, whose order the plan
 * builds. */
static int uses_student(const kd_chain *ch) {
  for (int s = 0; s < ch->length; ++s)
    if (ch->stage[s].features.kind == KD_FEATURES_STUDENT) return 1;
  return 0;
}

static kd_status plan_student(const kd_problem *pr, kd_plan *pl) {
  const kd_student_features *f = &pl->pt.features;
  if (f->count > pr->p)
    return kd_fail(KD_EINVAL, "student-features = %zu exceeds p = %zu", f->count, pr->p);
  pl->order = malloc(sizeof(size_t) * pr->p);
  if (!pl->order) return kd_fail(KD_ENOMEM, "cannot allocate the feature order of p = %zu", pr->p);
  return kd_feature_order_build(pr, f->order, f->seed, pl->order);
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

/* Row r's peak: ridgeless at |n - p| <= 1 (the weak model: |m - k| <= 1) in a direct fit
 * it depends on, where the expected risk is infinite for Gaussian designs (an SGD fit
 * has no peak). */
static int at_peak(const kd_plan *pl, const kd_plan_row *r) {
  const kd_program *prog = &pl->prog;
  for (int c = 0; c < prog->ncalls; ++c) {
    const kd_call *call = &prog->call[c];
    if (kd_program_uses(prog, r->chain, r->stage, c) && call->ridge == 0 && !call->sgd &&
        labs((long)call->n - (long)call->p) <= 1)
      return 1;
  }
  return 0;
}

static double label_sigma(const kd_problem *pr, const kd_labels *lb) {
  return lb->noise == KD_NOISE_SIGMA     ? pr->sigma
         : lb->noise == KD_NOISE_TEACHER ? pr->teacher_sigma
                                         : lb->sigma;
}

/* A new row of pipeline q: stage `stage` of the program's chain `chain`. */
static kd_plan_row *add_row(kd_plan *pl, kd_pipeline q, int chain, int stage, const char *group,
                            int step, double sigma) {
  if (pl->nrows == KD_PLAN_ROWS) {
    kd_fail(KD_EINVAL, "pipelines: more than %d rows at a point", KD_PLAN_ROWS);
    return NULL;
  }
  kd_plan_row *r = &pl->row[pl->nrows++];
  *r = (kd_plan_row){.pipe = q, .step = step, .chain = chain, .stage = stage, .sigma = sigma};
  snprintf(r->group, sizeof r->group, "%s", group);
  return r;
}

/* The selected pipelines' chains (a pipeline with groups: one chain per group, written
 * into `groups`, KD_PROGRAM_CHAINS of them) and their rows, theory not yet in. */
static kd_status plan_rows(const kd_problem *pr, kd_plan *pl, kd_pipe_group *groups,
                           int *ngroups, const kd_chain **chains, int *count) {
  *count = *ngroups = 0;
  for (int q = 0; q < KD_NPIPES; ++q) {
    pl->chain_of[q] = pl->first_row[q] = -1;
    if (!has(pl->pipes, (kd_pipeline)q)) continue;
    const kd_pipeline_type *t = kd_pipelines[q];
    pl->chain_of[q] = *count;
    pl->first_row[q] = pl->nrows;
    if (!t->groups) {
      const kd_chain *ch = &t->chain;
      if (*count == KD_PROGRAM_CHAINS)
        return kd_fail(KD_EINVAL, "pipelines: more than %d chains", KD_PROGRAM_CHAINS);
      chains[(*count)++] = ch;
      const int last = ch->length - 1;
      if (!add_row(pl, (kd_pipeline)q, *count - 1, last, "", 0,
                   label_sigma(pr, &ch->stage[last].labels)))
        return KD_EINVAL;
      pl->rows_of[q] = 1;
      continue;
    }
    int n = 0;
    kd_status st = t->groups(pr, pl, groups + *ngroups, KD_PROGRAM_CHAINS - *count, &n);
    if (st != KD_OK) return st;
    for (int g = 0; g < n; ++g) {
      const kd_pipe_group *grp = &groups[*ngroups + g];
      chains[(*count)++] = &grp->chain;
      for (int i = 0; i < grp->rows; ++i) {
        kd_plan_row *r = add_row(pl, (kd_pipeline)q, *count - 1, grp->stage[i], grp->name,
                                 grp->step[i],
                                 label_sigma(pr, &grp->chain.stage[grp->stage[i]].labels));
        if (!r) return KD_EINVAL;
        r->checkpoint = grp->checkpoint[i];
      }
    }
    *ngroups += n;
    pl->rows_of[q] = pl->nrows - pl->first_row[q];
  }
  return KD_OK;
}

/* Every row's theory, and its peak (reported as an exact infinite risk). */
static void plan_theory(const kd_problem *pr, kd_plan *pl, const kd_pipe_group *groups) {
  double value[KD_CHAIN_MAX];
  kd_theory_kind kind[KD_CHAIN_MAX];
  int g = 0;
  for (int q = 0; q < KD_NPIPES; ++q) {
    if (pl->first_row[q] < 0) continue;
    const kd_pipeline_type *t = kd_pipelines[q];
    kd_plan_row *r = &pl->row[pl->first_row[q]];
    if (!t->groups) {
      t->theory(pr, pl, &r->theory, &r->kind);
    } else {
      for (int done = 0; done < pl->rows_of[q]; done += groups[g++].rows) {
        t->group_theory(pr, pl, &groups[g], value, kind);
        for (int i = 0; i < groups[g].rows; ++i) {
          r[done + i].theory = value[i];
          r[done + i].kind = kind[i];
        }
      }
    }
    for (int i = 0; i < pl->rows_of[q]; ++i) {
      r[i].peak = at_peak(pl, &r[i]);
      if (r[i].peak) {
        r[i].theory = INFINITY;
        r[i].kind = KD_THEORY_EXACT;
      }
    }
  }
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
  kd_pipe_group *groups = calloc(KD_PROGRAM_CHAINS, sizeof *groups); /* checkpoints 0 */
  if (!pl->beta_opt || !pl->beta_mask || !pl->mu || !pl->v || !groups) {
    free(groups);
    kd_plan_free(pl);
    return kd_fail(KD_ENOMEM, "cannot allocate the plan of a point with p = %zu", p);
  }
  kd_optimal_gains(pr->lambda, p, &pl->de, pl->beta_opt);
  for (size_t i = 0; i < p; ++i) pl->beta_opt[i] *= pr->beta[i];
  pl->k_mask = kd_optimal_mask_k(pr->lambda, p, &pl->de);
  for (size_t i = 0; i < p; ++i) pl->beta_mask[i] = i < pl->k_mask ? pr->beta[i] : 0.0;

  const kd_chain *chains[KD_PROGRAM_CHAINS];
  int count = 0, ngroups = 0, weak = 0, student = 0;
  for (int q = 0; q < KD_NPIPES; ++q) {
    weak |= has(pipes, (kd_pipeline)q) && uses_weak(&kd_pipelines[q]->chain);
    student |= has(pipes, (kd_pipeline)q) && uses_student(&kd_pipelines[q]->chain);
  }
  if (weak) st = plan_weak(pr, pl);
  if (st == KD_OK && student) st = plan_student(pr, pl);
  if (st == KD_OK) st = plan_rows(pr, pl, groups, &ngroups, chains, &count);
  if (st == KD_OK) st = kd_program_build(&pl->prog, pr, pl, chains, count);
  if (st == KD_OK) plan_theory(pr, pl, groups);
  free(groups);
  if (st != KD_OK) {
    kd_plan_free(pl);
    return st;
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
  free(pl->order);
  pl->beta_opt = pl->beta_mask = pl->mu = pl->v = NULL;
  pl->order = NULL;
  kd_program_free(&pl->prog);
}

/* The four p-vectors above, kd_best_k_w2s's two scratch vectors of p + 1 while it
 * searches k (counted whenever the plan has a weak model: it may have searched), the
 * feature order, and the program's own copies (subset fits). */
size_t kd_plan_bytes(const kd_problem *pr, const kd_plan *pl) {
  int weak = 0;
  for (int q = 0; q < KD_NPIPES; ++q)
    weak |= has(pl->pipes, (kd_pipeline)q) && uses_weak(&kd_pipelines[q]->chain);
  return sizeof(double) * (4 * pr->p + (weak ? 2 * (pr->p + 1) : 0)) +
         (pl->order ? sizeof(size_t) * pr->p : 0) + pl->prog.owned_bytes;
}

void kd_plan_columns(const kd_plan *pl, int r, size_t *m, size_t *k) {
  const kd_pipeline_type *t = kd_pipelines[pl->row[r].pipe];
  *m = t->m_column ? pl->pt.m : 0;
  *k = t->k_column ? t->k_column(pl) : 0;
}

int kd_plan_near_peak(const kd_plan *pl, int r) {
  const kd_program *prog = &pl->prog;
  const kd_plan_row *row = &pl->row[r];
  for (int c = 0; c < prog->ncalls; ++c) {
    const kd_call *call = &prog->call[c];
    if (!kd_program_uses(prog, row->chain, row->stage, c) || call->ridge != 0) continue;
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
  for (int q = 0; q < pl->nrows; ++q) {
    const kd_plan_row *row = &pl->row[q];
    const int out = prog->stage_call[row->chain][row->stage];
    const size_t rhs = (size_t)prog->stage_rhs[row->chain][row->stage];
    for (uint32_t i = 0; i < count; ++i) {
      int fb = 0;
      for (int c = 0; c < prog->ncalls; ++c) /* a fallback in any of its fits */
        if (kd_program_uses(prog, row->chain, row->stage, c)) fb |= ws->fallback[c][i];
      const kd_call *c = &prog->call[out];
      risk[(size_t)q * count + i] =
          ws->risk[out][((size_t)i * c->nrhs + rhs) * kd_call_risks(c) + (size_t)row->checkpoint];
      fallback[(size_t)q * count + i] = fb;
    }
  }
  return KD_OK;
}

kd_status kd_run_trial(kd_backend *be, const kd_plan *pl, uint64_t seed, uint32_t trial,
                       kd_trial_ws *ws, double *risk, int *fallback) {
  return kd_run_trials(be, pl, seed, trial, 1, ws, risk, fallback);
}
