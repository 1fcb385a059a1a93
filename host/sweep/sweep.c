/* The sweep runner: the grid, point by point, theory beside simulation, each
 * finished point on disk before the next starts; points already in the output are
 * skipped; a signal stops between trials. */
#include "kdbench/sweep.h"

#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kdbench/backend.h"
#include "kdbench/grid.h"
#include "kdbench/memory_limit.h"
#include "kdbench/point.h"
#include "kdbench/progress.h"
#include "kdbench/run.h"
#include "kdbench/run_meta.h"
#include "kdbench/shard.h"
#include "kdbench/stop.h"
#include "kdbench/table.h"
#include "internal.h"

/* SIGINT / SIGTERM: host/base/stop.c */
int kd_sweep_stop_signal(void) { return *kd_stop_flag(); }

/* ---- validation before any work --------------------------------------------------------- */

typedef struct {
  kd_problem pr;
  int valid;
  size_t p;
  double alpha, sigma;
  uint64_t id; /* changes whenever the problem does (the teacher cache's key) */
} problem_slot;

static kd_status problem_for(const kd_config *c, const kd_grid_point *gp, problem_slot *ps) {
  if (ps->valid && ps->p == gp->p && ps->alpha == gp->alpha && ps->sigma == gp->sigma) return KD_OK;
  if (ps->valid) kd_problem_free(&ps->pr);
  ps->valid = 0;
  double tsig = c->teacher_sigma < 0 ? gp->sigma : c->teacher_sigma;
  kd_status st = kd_config_problem(c, gp->p, gp->alpha, gp->sigma, tsig, &ps->pr);
  if (st != KD_OK) return st;
  ps->valid = 1;
  ps->p = gp->p;
  ps->alpha = gp->alpha;
  ps->sigma = gp->sigma;
  ++ps->id;
  return KD_OK;
}

/* Builds every distinct problem of the grid once (cheap: O(p)), so that a bad
 * spectrum or beta* file is an error before any output exists. */
static kd_status check_problems(const kd_config *c, const kd_grid *g) {
  problem_slot ps = {0};
  kd_status st = KD_OK;
  for (size_t i = 0; i < g->count && st == KD_OK; ++i) st = problem_for(c, &g->pt[i], &ps);
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

/* The point the plan takes: the grid's values, the weak model's ridge and the student's
 * features. */
static kd_point point_of(const kd_config *c, const kd_grid_point *gp) {
  return (kd_point){.n = gp->n, .ridge = gp->ridge, .m = gp->m, .k = gp->k,
                    .weak_ridge = c->weak_ridge, .real_fraction = gp->real_fraction, .opts = &c->pipe_opts,
                    .features = {.count = gp->student_features, .order = c->feature_order,
                                 .seed = c->seed, .noise = c->noise_features,
                                 .level = c->noise_level}};
}

/* The rows of a point, every point's alike: the grid's first point's (a run that plans
 * no point before its files are opened, --theory-only). */
static kd_status point_rows(const kd_config *c, const kd_grid *g, size_t *rows) {
  problem_slot ps = {0};
  kd_plan pl;
  kd_status st = g->count ? problem_for(c, &g->pt[0], &ps) : KD_OK;
  if (st == KD_OK && g->count) {
    kd_point pt = point_of(c, &g->pt[0]);
    st = kd_plan_point(&ps.pr, &pt, c->pipelines, &pl);
    if (st == KD_OK) *rows = (size_t)pl.nrows, kd_plan_free(&pl);
  }
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

/* The null risk beta*' Sigma beta* (the zero predictor's) of every grid point, for the
 * metadata of a run with generations (the level a collapsing chain drifts to). */
static kd_status null_risks(const kd_config *c, const kd_grid *g, double **out) {
  *out = NULL;
  if (!(c->pipelines >> KD_PIPE_RECURSIVE & 1u)) return KD_OK;
  if (!(*out = malloc(sizeof(double) * (g->count ? g->count : 1))))
    return kd_fail(KD_ENOMEM, "out of memory");
  problem_slot ps = {0};
  kd_status st = KD_OK;
  for (size_t i = 0; i < g->count && st == KD_OK; ++i) {
    st = problem_for(c, &g->pt[i], &ps);
    double sum = 0;
    for (size_t j = 0; st == KD_OK && j < ps.pr.p; ++j)
      sum += ps.pr.lambda[j] * ps.pr.beta[j] * ps.pr.beta[j];
    (*out)[i] = sum;
  }
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

/* ---- the memory check ---------------------------------------------------------------- */

/* Whether a selected pipeline has a stage of the point's m samples (a weak teacher's):
 * then m and k are part of what names the point. */
static int fits_m(unsigned pipes) {
  for (int q = 0; q < KD_NPIPES; ++q)
    for (int s = 0; (pipes >> q & 1u) && s < kd_pipelines[q]->chain.length; ++s)
      if (kd_pipelines[q]->chain.stage[s].samples.kind == KD_SAMPLES_M) return 1;
  return 0;
}

static kd_status refuse(const kd_config *c, const kd_grid_point *gp, size_t k, size_t need,
                        size_t have, int device) {
  char weak[64] = "";
  if (fits_m(c->pipelines)) snprintf(weak, sizeof weak, ", m = %zu, k = %zu", gp->m, k);
  const char *why = ""; /* the limit that binds (ulimit -v, the cgroup's) */
  if (!device) kd_available_memory_why(&why);
  return kd_fail(KD_ENOMEM, "point n = %zu, p = %zu%s needs %.2f GiB of %smemory but only "
                 "%.2f GiB is %s%s%s", gp->n, gp->p, weak, need / 1073741824.0,
                 device ? "device " : "", have / 1073741824.0,
                 device ? "free on the device" : "available", *why ? " " : "", why);
}

static size_t plus(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* Plans every point once, in the order they run, for two models of the run.
 * Memory (kd_point_memory, host/sim/point.c), plus what the sweep holds beside a point:
 * the problem's lambda and beta*, the risks of its trials, the wall times; the largest
 * need goes into *peak. With `check`, the first point whose need exceeds what is
 * available (host) or free (the device) is refused in one line naming it, the need and
 * what is free; a point's p-vectors are checked before it is planned, so that an absurd
 * p is refused rather than allocated.
 * Cost (the progress line's, when `cost` is not NULL): cost[i] is point i's
 * kd_point_cost, plus its weak teachers' stages where the teacher cache (host/sim/point.c)
 * cannot serve them from the point before. */
static kd_status model_memory(const kd_config *c, const kd_grid *g, const kd_backend *be,
                              int check, kd_memory *peak, double *cost, size_t *rows) {
  const size_t avail = check ? kd_available_memory() : 0;
  const size_t dev_free = check && be->type->device_free ? be->type->device_free(be->state) : 0;
  problem_slot ps = {0};
  kd_workspace grown = {0};
  kd_status st = KD_OK;
  *peak = (kd_memory){0};
  kd_point teacher = {0}; /* the cached teachers' (m, k, weak ridge) */
  uint64_t teacher_problem = 0;
  for (size_t i = 0; i < g->count && st == KD_OK; ++i) {
    const kd_grid_point *gp = &g->pt[i];
    size_t beside = sizeof(double) * (2 * gp->p + g->count);
    /* the problem, the plan's and one worker's p-vectors (kd_plan_bytes, kd_trial_ws_bytes) */
    if (avail && plus(beside, sizeof(double) * 8 * gp->p) > avail)
      return refuse(c, gp, gp->k, plus(beside, sizeof(double) * 8 * gp->p), avail, 0);
    kd_point pt = point_of(c, gp);
    kd_plan pl;
    st = problem_for(c, gp, &ps);
    if (st == KD_OK) st = kd_plan_point(&ps.pr, &pt, c->pipelines, &pl);
    if (st != KD_OK) break;
    if (i == 0) *rows = (size_t)pl.nrows;
    beside = plus(beside, sizeof(double) * (size_t)pl.nrows * c->trials); /* its risks */
    kd_memory m = kd_point_memory(be->type, &grown, &ps.pr, &pl, c->trials);
    if (cost) {
      cost[i] = kd_point_cost(gp->n, gp->p, c->trials);
      int fitted = teacher_problem != ps.id || teacher.m != pl.pt.m || teacher.k != pl.pt.k ||
                   teacher.weak_ridge != pl.pt.weak_ridge;
      if (pl.prog.cached >= 0 && fitted) { /* the program's teacher, the fit the cache holds */
        const kd_call *t = &pl.prog.call[pl.prog.cached];
        cost[i] += c->trials * kd_stage_cost(t->n, t->p);
        teacher = pl.pt;
        teacher_problem = ps.id;
      }
    }
    m.host = plus(m.host, beside);
    if (avail && m.host > avail) st = refuse(c, gp, pl.pt.k, m.host, avail, 0);
    else if (dev_free && m.device > dev_free) st = refuse(c, gp, pl.pt.k, m.device, dev_free, 1);
    kd_plan_free(&pl);
    if (m.host > peak->host) peak->host = m.host;
    if (m.device > peak->device) peak->device = m.device;
  }
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

kd_status kd_sweep_memory(const kd_config *cfg, kd_memory *peak) {
  kd_config c = *cfg;
  kd_grid g = {0};
  kd_backend be = {0};
  kd_status st = kd_config_check(&c);
  if (st == KD_OK) st = kd_config_resolve_p(&c);
  if (st == KD_OK) st = kd_grid_build(&c, &g);
  if (st == KD_OK) st = kd_backend_open(c.run.backend, &be);
  size_t rows = 0;
  if (st == KD_OK) st = model_memory(&c, &g, &be, 0, peak, NULL, &rows);
  kd_backend_close(&be);
  kd_grid_free(&g);
  return st;
}

/* ---- rows and the table ------------------------------------------------------------------- */

/* "peak": a ridgeless fit of the pipeline at its interpolation peak, the student's
 * |n - p| <= 1 or (w2s, weak) the weak teacher's |m - k| <= 1 (kd_plan_point): the
 * expected risk is infinite and the mean meaningless (use the median).
 * "near-peak": a theory that is a deterministic equivalent of a ridgeless fit within
 * a tenth of that fit's peak (kd_plan_near_peak). */
static const char *flag_of(const kd_plan *pl, int q) {
  if (pl->row[q].peak) return "peak";
  if (pl->row[q].kind != KD_THEORY_DE) return "";
  return kd_plan_near_peak(pl, q) ? "near-peak" : "";
}

static int swept(const kd_config *c, kd_axis a) {
  for (int i = 0; i < c->n_swept; ++i)
    if (c->swept[i] == a) return 1;
  return 0;
}

/* Row q of the point; `first`: the risks of its group's step 1 (NULL: none, or it is
 * that row), against which beats_first counts the trials. */
static kd_row make_row(const kd_config *c, const kd_problem *pr, const kd_plan *pl,
                       const kd_grid_point *gp, int q, const double *risks, uint32_t trials,
                       const double *first, long fallbacks) {
  const kd_plan_row *pr_row = &pl->row[q];
  kd_row r = {.pipeline = pr_row->pipe, .n = pl->pt.n, .p = pr->p, .sigma = pr_row->sigma,
              .step = pr_row->step, .beats = NAN, .beats_low = NAN, .beats_high = NAN};
  snprintf(r.group, sizeof r.group, "%s", pr_row->group);
  kd_plan_columns(pl, q, &r.m, &r.k); /* the pipeline's own */
  r.ridge = pl->pt.ridge;
  r.alpha = c->spectrum_spec.kind == KD_SPEC_POWERLAW ? gp->alpha : NAN;
  r.signal_exp = c->beta_spec.kind == KD_BETA_POWERLAW ? c->signal_exp : NAN;
  /* the mix's rows, and every row where it is swept */
  r.real_fraction = pr_row->pipe == KD_PIPE_MIX || swept(c, KD_AXIS_REAL_FRACTION) ? gp->real_fraction : NAN;
  if (kd_pipelines[pr_row->pipe]->features_column)
    r.student_features = pl->pt.features.count ? pl->pt.features.count : pr->p;
  kd_summarize(risks, trials, &r.s);
  r.theory = pr_row->theory;
  r.ratio = isfinite(r.theory) && r.theory > 0 ? r.s.mean / r.theory : NAN;
  r.test_risk = r.s.mean + gp->sigma * gp->sigma; /* the truth's noise, whatever the labels' */
  r.fallbacks = fallbacks;
  r.exact = pr_row->kind == KD_THEORY_EXACT;
  snprintf(r.flag, sizeof r.flag, "%s", flag_of(pl, q));
  if (first && first != risks && trials)
    kd_beats_fraction(risks, first, trials, &r.beats, &r.beats_low, &r.beats_high);
  return r;
}

/* The risks of row q's group's step 1 at the point (NULL: a row without steps). */
static const double *first_of(const kd_plan *pl, int q, const double *risks, uint32_t trials) {
  const kd_plan_row *r = &pl->row[q];
  if (r->step < 1) return NULL;
  for (int i = pl->first_row[r->pipe]; i <= q; ++i)
    if (pl->row[i].step == 1 && !strcmp(pl->row[i].group, r->group))
      return risks + (size_t)i * trials;
  return NULL;
}

static double axis_value(const kd_row *r, kd_axis a, const kd_grid_point *gp) {
  switch (a) {
    case KD_AXIS_N: return (double)r->n;
    case KD_AXIS_P: return (double)r->p;
    case KD_AXIS_M: return (double)gp->m;
    case KD_AXIS_K: return (double)gp->k;
    case KD_AXIS_RIDGE: return r->ridge;
    case KD_AXIS_ALPHA: return gp->alpha;
    case KD_AXIS_REAL_FRACTION: return gp->real_fraction;
    case KD_AXIS_STUDENT_FEATURES:
      return (double)(gp->student_features ? gp->student_features : gp->p);
    default: return gp->sigma;
  }
}


/* n and k, swept or not, are columns of every row: k is the row's (the weak model's,
 * the swept value, for w2s and weak; the mask's size for mask); a swept axis's own
 * column would repeat them. */
static int own_column(kd_axis a) { return a == KD_AXIS_N || a == KD_AXIS_K; }

/* The first selected pipeline with several rows at a point (NULL: none). */
static const kd_pipeline_type *multi_rows(const kd_config *c) {
  for (int q = 0; q < KD_NPIPES; ++q)
    if (c->pipelines >> q & 1u && kd_pipelines[q]->groups) return kd_pipelines[q];
  return NULL;
}

/* The live table's columns: the swept axes without a column of their own (the last
 * first), then n, pipeline, k, (with a pipeline of several rows: its group and step,
 * named as its columns), the simulation, its theory and their ratio. */
static void live_columns(kd_table *t, const kd_config *c) {
  for (int i = c->n_swept - 1; i >= 0; --i)
    if (!own_column(c->swept[i]))
      kd_table_column(t, &(kd_column){.head = kd_axis_name(c->swept[i]), .fmt = "%.4g",
                                      .width = 8, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "n", .fmt = "%.0f", .width = 6, .sep = "  "});
  int name = 8; /* the pipeline column: as wide as the longest selected name */
  for (int q = 0; q < KD_NPIPES; ++q)
    if (c->pipelines >> q & 1u && (int)strlen(kd_pipelines[q]->name) > name)
      name = (int)strlen(kd_pipelines[q]->name);
  kd_table_column(t, &(kd_column){.head = "pipeline", .align = KD_LEFT, .width = name, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "k", .fmt = "%.0f", .width = 5});
  const kd_pipeline_type *multi = multi_rows(c);
  if (multi) {
    kd_table_column(t, &(kd_column){.head = multi->group_column, .align = KD_LEFT, .width = 14,
                                    .sep = "  "});
    kd_table_column(t, &(kd_column){.head = multi->step_column, .fmt = "%.0f", .width = 4,
                                    .sep = "  "});
  }
  const int test = c->run.test_risk; /* --risk test */
  kd_table_column(t, &(kd_column){.head = test ? "sim_test" : "sim_mean", .fmt = "%.5g",
                                  .width = 11, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "+-CI95", .fmt = "%.2g", .width = 9, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = test ? "test_theory" : "theory", .fmt = "%.5g",
                                  .width = 11, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "ratio", .fmt = "%.3f", .width = 6, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "kind", .align = KD_LEFT, .width = 5, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "flag", .align = KD_LEFT, .sep = "  "});
}

/* The setting, on comment lines above the header. */
static void live_caption(kd_table *t, const kd_config *c, const char *backend) {
  enum { T = KD_TABLE_TEXT };
  kd_table_caption(t, T, "# kdbench sweep over ");
  for (int i = 0; i < c->n_swept; ++i)
    kd_table_caption(t, T, "%s%s", i ? "," : "", kd_axis_name(c->swept[i]));
  kd_table_caption(t, T, ":");
  if (!swept(c, KD_AXIS_P)) kd_table_caption(t, T, " p = %zu,", c->p);
  if (c->spectrum_spec.kind != KD_SPEC_POWERLAW) kd_table_caption(t, T, " spectrum %s,", c->spectrum);
  else if (!swept(c, KD_AXIS_ALPHA)) kd_table_caption(t, T, " lambda_i = i^-%g,", c->alpha);
  if (c->beta_spec.kind == KD_BETA_POWERLAW)
    kd_table_caption(t, T, " lambda_i beta_i^2 = i^-%g,", c->signal_exp);
  else kd_table_caption(t, T, " beta* %s,", c->beta);
  if (!swept(c, KD_AXIS_SIGMA)) kd_table_caption(t, T, " sigma = %g,", c->sigma);
  if (c->teacher_sigma >= 0) kd_table_caption(t, T, " teacher sigma = %g,", c->teacher_sigma);
  if (!swept(c, KD_AXIS_RIDGE)) kd_table_caption(t, T, " ridge = %g,", c->ridge);
  if (!swept(c, KD_AXIS_M)) kd_table_caption(t, T, " m = %zu,", c->m);
  if (c->weak_ridge < 0) kd_table_caption(t, T, " weak ridge auto,");
  else if (c->weak_ridge != 0) kd_table_caption(t, T, " weak ridge = %g,", c->weak_ridge);
  if ((c->pipelines >> KD_PIPE_MIX & 1u) && !swept(c, KD_AXIS_REAL_FRACTION))
    kd_table_caption(t, T, " real fraction = %g,", c->real_fraction);
  if (c->theory_only) kd_table_caption(t, T, " theory only\n# backend: %s\n", backend);
  else
    kd_table_caption(t, T, " %u trial%s, seed %llu\n# backend: %s\n", c->trials,
                     c->trials == 1 ? "" : "s", (unsigned long long)c->seed, backend);
  kd_table_caption(t, T, c->run.test_risk ? "# risk = test risk (b - beta*)' Sigma (b - beta*) + "
                                            "sigma^2; ratio = their ratio; CI = 95%% t-interval\n"
                                          : "# risk = excess risk (b - beta*)' Sigma (b - beta*); "
                                            "CI = 95%% t-interval\n");
}

static void write_table_header(FILE *t, const kd_config *c, const char *backend) {
  kd_table live;
  kd_table_init(&live);
  live_caption(&live, c, backend);
  live_columns(&live, c);
  kd_table_text_head(&live, t);
  kd_table_free(&live);
}

/* "n=200 p=500": the swept axes of a point (progress lines). */
static void point_label(const kd_config *c, const kd_grid_point *gp, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < c->n_swept && used < len; ++i) {
    kd_row r = {.n = gp->n, .p = gp->p, .ridge = gp->ridge};
    used += (size_t)snprintf(buf + used, len - used, "%s%s=%g", i ? " " : "",
                             kd_axis_name(c->swept[i]), axis_value(&r, c->swept[i], gp));
  }
}

static void live_row(kd_table *t, const kd_config *c, const kd_row *r, const kd_grid_point *gp) {
  char median[48] = "", fallbacks[48] = "", flag[128];
  for (int i = c->n_swept - 1; i >= 0; --i)
    if (!own_column(c->swept[i])) kd_table_num(t, axis_value(r, c->swept[i], gp), NULL);
  kd_table_num(t, (double)r->n, NULL);
  kd_table_text(t, kd_pipeline_name(r->pipeline), NULL);
  if (r->k)
    kd_table_num(t, (double)r->k, NULL);
  else
    kd_table_none(t);
  if (multi_rows(c)) {
    kd_table_text(t, r->group, NULL);
    if (r->step) kd_table_num(t, (double)r->step, NULL);
    else kd_table_none(t);
  }
  const double noise = c->run.test_risk ? gp->sigma * gp->sigma : 0; /* --risk test */
  const double theory = r->theory + noise;
  kd_table_num(t, r->s.mean + noise, NULL);
  kd_table_num(t, r->s.ci_high - r->s.mean, NULL);
  kd_table_num(t, theory, NULL);
  kd_table_num(t, noise && isfinite(theory) && theory > 0 ? (r->s.mean + noise) / theory : r->ratio,
               NULL);
  kd_table_text(t, r->exact ? "exact" : "de", NULL);
  if (!strcmp(r->flag, "peak")) snprintf(median, sizeof median, " (median %.4g)", r->s.median + noise);
  if (r->fallbacks)
    snprintf(fallbacks, sizeof fallbacks, " [%ld fallback%s]", r->fallbacks,
             r->fallbacks == 1 ? "" : "s");
  snprintf(flag, sizeof flag, "%s%s%s", r->flag, median, fallbacks);
  kd_table_text(t, flag, NULL);
}

/* A point's rows in the table: the progress line (on the same terminal, most likely) is
 * erased first, and the rows are flushed before it is drawn again. */
static void table_rows(FILE *t, kd_progress *pg, const kd_config *c, const kd_row *rows,
                       size_t count, const kd_grid_point *gp) {
  if (!t) return;
  kd_table live;
  kd_table_init(&live);
  live.nan_none = c->theory_only; /* no simulation: '-', not nan */
  live_columns(&live, c);
  for (size_t r = 0; r < count; ++r) live_row(&live, c, &rows[r], gp);
  kd_progress_hide(pg);
  if (live.st == KD_OK)
    kd_table_text_rows(&live, t);
  else /* the run's files have the rows */
    fprintf(stderr, "kdbench: warning: %s: rows left out of the table\n", kd_last_error());
  fflush(t);
  kd_table_free(&live);
}

/* ---- the run -------------------------------------------------------------------------------- */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  const kd_config *c;
  const kd_grid *g;
  kd_backend *be;
  kd_run_store *rs;
  kd_run_meta *meta;
  double *wall;
  const double *cost; /* the cost model's, by grid point (model_memory) */
  FILE *table;
  kd_progress *pg;
} run_ctx;

/* Computes point i (the j-th of this process: shard) and appends its rows; prior[0 ..
 * nprior): its rows in the run extended (--extend), whose trials are kept (their risks)
 * and completed with the rest. */
static kd_status compute_point(run_ctx *x, size_t i, size_t j, const char *key,
                               const kd_row *prior, size_t nprior, problem_slot *ps,
                               kd_teacher_cache *cache, double *risks) {
  const kd_config *c = x->c;
  const kd_grid_point *gp = &x->g->pt[i];
  double t0 = now();
  kd_status st = problem_for(c, gp, ps);
  if (st != KD_OK) return st;
  kd_point pt = point_of(c, gp);
  kd_plan pl;
  st = kd_plan_point(&ps->pr, &pt, c->pipelines, &pl);
  if (st != KD_OK) return st;
  long fallbacks[KD_PLAN_ROWS], before[KD_PLAN_ROWS] = {0};
  const uint32_t first = nprior ? (uint32_t)prior->n_risks : 0;
  for (size_t r = 0; r < nprior; ++r) { /* an extended run's trials so far, row by row */
    const kd_row *o = &prior[r];
    for (int q = 0; q < pl.nrows; ++q)
      if (pl.row[q].pipe == o->pipeline && pl.row[q].step == o->step &&
          !strcmp(pl.row[q].group, o->group)) {
        memcpy(risks + (size_t)q * c->trials, o->risks, sizeof(double) * first);
        before[q] = o->fallbacks;
      }
  }
  st = kd_run_point_from(x->be, &ps->pr, ps->id, &pl, c->seed, first, c->trials, cache,
                         kd_stop_flag(), risks, fallbacks);
  for (int q = 0; q < pl.nrows; ++q) fallbacks[q] += before[q];
  kd_row *rows = st == KD_OK ? malloc(sizeof *rows * (size_t)pl.nrows) : NULL;
  if (st == KD_OK && !rows) st = kd_fail(KD_ENOMEM, "cannot allocate %d rows", pl.nrows);
  size_t count = 0;
  double wall = now() - t0;
  for (int q = 0; q < pl.nrows && st == KD_OK; ++q) {
    kd_row r = make_row(c, &ps->pr, &pl, gp, q, risks + (size_t)q * c->trials, c->trials,
                        first_of(&pl, q, risks, c->trials), fallbacks[q]);
    r.point = i;
    memcpy(r.key, key, sizeof r.key);
    r.wall_s = wall;
    if (c->raw) {
      r.risks = risks + (size_t)q * c->trials; /* borrowed: not freed */
      r.n_risks = c->trials;
    }
    rows[count++] = r;
  }
  kd_stop_hold(); /* a stop forced by the watchdog waits for the whole point */
  if (st == KD_OK) st = kd_run_append(x->rs, rows, count);
  if (st == KD_OK) {
    x->wall[j] = wall;
    ++x->meta->points_done;
    st = kd_run_meta_write(x->rs->meta_path, x->meta);
  }
  kd_stop_unhold();
  if (st == KD_OK) table_rows(x->table, x->pg, c, rows, count, gp);
  char label[128];
  point_label(c, gp, label, sizeof label);
  if (st == KD_OK)
    kd_progress_point(x->pg, label, wall, x->cost[i], c->trials, 0);
  free(rows);
  kd_plan_free(&pl);
  return st;
}

/* What a run holds from its start to its end. Zero-initialised, so that sweep_close frees
 * whatever was opened, however far sweep_open got: the one cleanup path. */
typedef struct {
  kd_config c;
  kd_grid g;
  kd_scenario_id id;
  char *scenario; /* the setting as INI text, for the meta */
  kd_shard sh;    /* shard: the points this process computes and the CSV it writes */
  kd_backend be;
  double *cost; /* the cost model's, by grid point (model_memory) */
  double *null_risk; /* by grid point, with generations (null_risks); else NULL */
  double *risks, *wall;
  size_t rows; /* of every point */
  kd_run_store rs;
  int store_open;
  problem_slot ps;
  kd_teacher_cache cache;
  kd_row *part; /* --extend: the kept points with fewer trials, to complete */
  size_t n_part;
} sweep;

/* --extend: the run's files afresh, holding the kept points if they have all their
 * trials; else (the run had fewer) kept aside, s->part, to be completed. No run there:
 * as without --extend. */
static kd_status open_extended(sweep *s) {
  const size_t per_point = s->rows;
  if (s->sh.spec.count) return kd_fail(KD_EINVAL, "--extend: not with --shard (extend the merged run)");
  kd_row *rows;
  size_t n;
  kd_status st = kd_extend_rows(&s->c, &s->g, &s->id, s->sh.csv, per_point, &rows, &n, stderr);
  if (st != KD_OK) return st;
  if (!rows) return kd_run_open(&s->rs, s->sh.csv, &s->id, &s->g, per_point, s->c.run.force, stderr);
  const int whole = n && rows[0].s.count == s->c.trials; /* every row has the run's trials */
  st = kd_run_open_from(&s->rs, s->sh.csv, &s->id, &s->g, rows, whole ? n : 0, stderr);
  if (st == KD_OK && !s->c.run.quiet)
    printf("# extending %s: %zu of its points kept%s\n", s->sh.csv, n / per_point,
           whole || !n ? "" : ", to be completed with the new trials");
  if (whole) {
    for (size_t i = 0; i < n; ++i) kd_row_free(&rows[i]);
    free(rows);
  } else {
    s->part = rows, s->n_part = n;
  }
  return st;
}

/* Everything before the first point: checks, the grid, the shard, the backend, the
 * memory check and the run's files. */
static kd_status sweep_open(sweep *s, const kd_config *cfg) {
  kd_config *c = &s->c;
  *c = *cfg;
  kd_status st = kd_config_check(c);
  if (st == KD_OK) st = kd_config_resolve_p(c);
  if (st == KD_OK) st = kd_grid_build(c, &s->g);
  if (st == KD_OK) st = check_problems(c, &s->g);
  if (st == KD_OK) st = kd_scenario_id_make(c, &s->g, &s->id);
  size_t scenario_len = 0;
  FILE *sf = open_memstream(&s->scenario, &scenario_len);
  if (sf) {
    kd_config_print(c, sf, 0);
    fclose(sf);
  }
  if (st == KD_OK) st = kd_shard_open(&s->sh, c, &s->g);
  /* --theory-only opens no backend and runs no trials: no memory check, one unit of cost
   * a point */
  if (st == KD_OK && !c->theory_only) st = kd_backend_open(c->run.backend, &s->be);
  kd_memory peak;
  s->cost = malloc(sizeof(double) * (s->g.count ? s->g.count : 1));
  if (st == KD_OK && !s->cost) st = kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; st == KD_OK && c->theory_only && i < s->g.count; ++i) s->cost[i] = 1;
  if (st == KD_OK && !c->theory_only) st = model_memory(c, &s->g, &s->be, 1, &peak, s->cost, &s->rows);
  if (st == KD_OK && c->theory_only) st = point_rows(c, &s->g, &s->rows);
  if (st == KD_OK) st = null_risks(c, &s->g, &s->null_risk);
  if (st == KD_OK && c->run.extend) {
    st = open_extended(s);
    s->store_open = st == KD_OK;
  } else if (st == KD_OK) {
    st = kd_run_open(&s->rs, s->sh.csv, &s->id, &s->g, s->rows, c->run.force, stderr);
    s->store_open = st == KD_OK;
    if (s->store_open) st = kd_shard_save_scenario(&s->sh, c); /* shard */
  }
  s->risks = malloc(sizeof(double) * (s->rows ? s->rows : 1) * c->trials);
  s->wall = malloc(sizeof(double) * (s->sh.n_points ? s->sh.n_points : 1));
  if (st == KD_OK && (!s->risks || !s->wall))
    st = kd_fail(KD_ENOMEM, "cannot allocate %u trials", c->trials);
  return st;
}

static void sweep_close(sweep *s) {
  for (size_t i = 0; i < s->n_part; ++i) kd_row_free(&s->part[i]);
  free(s->part);
  kd_teacher_cache_free(&s->cache);
  if (s->ps.valid) kd_problem_free(&s->ps.pr);
  if (s->store_open) kd_run_close(&s->rs);
  kd_shard_close(&s->sh); /* shard */
  kd_backend_close(&s->be);
  kd_grid_free(&s->g);
  free(s->scenario);
  free(s->risks);
  free(s->wall);
  free(s->cost);
  free(s->null_risk);
}

/* The shard's line (when sharded) and the live table's caption and header. */
static void sweep_announce(const sweep *s, FILE *table) {
  if (!table) return;
  char desc[512] = "none (theory only)";
  if (s->be.type) s->be.type->describe(s->be.state, desc, sizeof desc);
  if (s->sh.spec.count) /* shard */
    fprintf(table, "# shard %u/%u%s: %zu of %zu points (%.1f %% of the flop-model cost), in %s\n",
            s->sh.spec.index, s->sh.spec.count, s->sh.from_slurm ? " (the Slurm array task)" : "",
            s->sh.n_points, s->g.count, 100 * s->sh.cost_share, s->sh.csv);
  write_table_header(table, &s->c, desc);
}

/* Point i, finished by an earlier run of the same scenario: its rows, as they are. */
static void resume_point(run_ctx *x, size_t i, size_t j, const kd_row *done, size_t count) {
  x->wall[j] = done->wall_s;
  ++x->meta->points_done;
  ++x->meta->points_resumed;
  table_rows(x->table, x->pg, x->c, done, count, &x->g->pt[i]);
  char label[128];
  point_label(x->c, &x->g->pt[i], label, sizeof label);
  kd_progress_point(x->pg, label, 0, x->cost[i], x->c->trials, 1);
}

/* ---- theory only ------------------------------------------------------------------- */

/* --theory-only: up to this many consecutive points not on disk that share a problem
 * are planned side by side (OpenMP) and written in one append and one metadata write
 * (per point, the metadata's rewrite alone would make 10^4 points quadratic). */
#define THEORY_BLOCK 256

static int same_problem(const kd_grid_point *a, const kd_grid_point *b) {
  return a->p == b->p && a->alpha == b->alpha && a->sigma == b->sigma;
}

/* Shard points j0 .. j0+count-1 (none on disk, one problem): their rows, in order. */
static kd_status theory_block(sweep *s, run_ctx *x, size_t j0, size_t count) {
  const kd_config *c = &s->c;
  kd_status st = problem_for(c, &s->g.pt[s->sh.points[j0]], &s->ps);
  if (st != KD_OK) return st;
  const size_t per = s->rows;
  kd_row *rows = calloc(count * per, sizeof *rows);
  kd_status *sts = calloc(count, sizeof *sts);
  char(*why)[512] = calloc(count, sizeof *why);
  if (!rows || !sts || !why) st = kd_fail(KD_ENOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic, 1) if (st == KD_OK && count > 1)
  for (size_t b = 0; b < count; ++b) {
    if (st != KD_OK) continue;
    const size_t i = s->sh.points[j0 + b];
    const kd_grid_point *gp = &s->g.pt[i];
    double t0 = now();
    kd_point pt = point_of(c, gp);
    kd_plan pl;
    sts[b] = kd_plan_point(&s->ps.pr, &pt, c->pipelines, &pl);
    if (sts[b] != KD_OK) {
      snprintf(why[b], sizeof why[b], "%s", kd_last_error());
      continue;
    }
    char key[17];
    kd_point_key(s->id.hash, gp, key);
    kd_row *r = rows + b * per;
    for (int q = 0; q < pl.nrows && (size_t)q < per; ++q, ++r) {
      *r = make_row(c, &s->ps.pr, &pl, gp, q, NULL, 0, NULL, 0);
      r->point = i;
      memcpy(r->key, key, sizeof r->key);
    }
    kd_plan_free(&pl);
    const double wall = now() - t0;
    for (size_t q = 0; q < per; ++q) rows[b * per + q].wall_s = wall;
  }
  size_t good = 0; /* the points before the first failure are kept */
  while (st == KD_OK && good < count && sts[good] == KD_OK) ++good;
  if (st == KD_OK && good < count) st = kd_fail(sts[good], "%s", why[good]);
  kd_stop_hold(); /* a stop forced by the watchdog waits for the whole block */
  kd_status wst = good ? kd_run_append(x->rs, rows, good * per) : KD_OK;
  for (size_t b = 0; wst == KD_OK && b < good; ++b) {
    const size_t i = s->sh.points[j0 + b];
    x->wall[j0 + b] = rows[b * per].wall_s;
    ++x->meta->points_done;
    table_rows(x->table, x->pg, c, rows + b * per, per, &s->g.pt[i]);
    char label[128];
    point_label(c, &s->g.pt[i], label, sizeof label);
    kd_progress_point(x->pg, label, x->wall[j0 + b], 1, 0, 0);
  }
  if (wst == KD_OK && good) wst = kd_run_meta_write(s->rs.meta_path, x->meta);
  kd_stop_unhold();
  free(rows);
  free(sts);
  free(why);
  return wst != KD_OK ? wst : st;
}

/* The shard's points, --theory-only: those on disk as a resume takes them, the others
 * in blocks (theory_block). */
static kd_status walk_theory(sweep *s, run_ctx *x) {
  /* Each plan allocates and frees a few p-vectors; glibc's default trimming hands that
   * memory back to the kernel every time and faults it in again (a third of the CPU
   * time at p = 10^5): keep it. */
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  kd_status st = kd_run_meta_write(s->rs.meta_path, x->meta);
  for (size_t j = 0; j < s->sh.n_points && st == KD_OK;) {
    char key[17];
    size_t count = 0, b = 0;
    kd_point_key(s->id.hash, &s->g.pt[s->sh.points[j]], key);
    const kd_row *done = kd_run_find(&s->rs, key, &count);
    if (done) {
      resume_point(x, s->sh.points[j], j, done, count);
      ++j;
      continue;
    }
    if (*kd_stop_flag()) return kd_fail(KD_ESTOP, "stopped");
    for (b = 1; b < THEORY_BLOCK && j + b < s->sh.n_points; ++b) {
      const kd_grid_point *next = &s->g.pt[s->sh.points[j + b]];
      kd_point_key(s->id.hash, next, key);
      if (!same_problem(&s->g.pt[s->sh.points[j]], next) || kd_run_find(&s->rs, key, &count)) break;
    }
    st = theory_block(s, x, j, b);
    j += b;
  }
  return st;
}

/* The shard's points in order, until the last or the first error or stop. */
static kd_status walk_points(sweep *s, run_ctx *x) {
  if (s->c.theory_only) return walk_theory(s, x);
  kd_status st = kd_run_meta_write(s->rs.meta_path, x->meta);
  for (size_t j = 0; j < s->sh.n_points && st == KD_OK; ++j) {
    size_t i = s->sh.points[j]; /* shard: the global index */
    char key[17];
    kd_point_key(s->id.hash, &s->g.pt[i], key);
    size_t count = 0;
    const kd_row *done = kd_run_find(&s->rs, key, &count);
    size_t nprior = 0;
    const kd_row *prior = NULL;
    for (size_t r = 0; !done && r < s->n_part && !prior; ++r) /* --extend: to complete */
      if (!strcmp(s->part[r].key, key)) prior = &s->part[r];
    while (prior && prior + nprior < s->part + s->n_part && !strcmp(prior[nprior].key, key)) ++nprior;
    if (done) resume_point(x, i, j, done, count);
    else if (*kd_stop_flag()) st = kd_fail(KD_ESTOP, "stopped");
    else st = compute_point(x, i, j, key, prior, nprior, &s->ps, &s->cache, s->risks);
  }
  return st;
}

/* The run's last word: a stop or an error says what was kept (or, when nothing finished,
 * removes the files, so that nothing looks like a run); a resumed run says so. */
static kd_status sweep_verdict(const sweep *s, const kd_run_meta *meta, kd_status st, FILE *table) {
  if (st == KD_ESTOP)
    return kd_fail(KD_ESTOP, "stopped by %s after %zu of %zu points; they are in %s: run the same "
                   "command again to resume", *kd_stop_flag() == SIGTERM ? "SIGTERM" : "SIGINT",
                   meta->points_done, s->sh.n_points, s->sh.csv);
  if (st != KD_OK && meta->points_done == 0 && s->rs.n_rows == 0) {
    unlink(s->rs.csv_path);
    unlink(s->rs.jsonl_path);
    unlink(s->rs.meta_path);
  } else if (st != KD_OK && meta->points_done > 0) /* one line: the error, then what was kept */
    return kd_fail(st, "%s; %zu finished point(s) kept in %s: run the same command again to resume",
                   kd_last_error(), meta->points_done, s->sh.csv);
  else if (st == KD_OK && meta->points_resumed && table)
    fprintf(table, "# %zu of %zu points were already in %s (same scenario) and were not recomputed\n",
            meta->points_resumed, s->sh.n_points, s->sh.csv);
  return st;
}

/* The run proper, on a sweep that sweep_open opened. */
static kd_status sweep_points(sweep *s, const char *command, FILE *table) {
  const kd_config *c = &s->c;
  sweep_announce(s, table);
  const kd_run_meta_shard shard_meta = {s->sh.spec, s->sh.from_slurm, s->sh.grid_points,
                                        s->sh.cost_share, s->sh.points, s->sh.n_points};
  kd_run_meta meta = {.cfg = c, .command = command, .scenario = s->scenario ? s->scenario : "",
                      .id = &s->id, .backend = &s->be, .started = time(NULL),
                      .points_total = s->sh.n_points, .rows_per_point = s->rows,
                      .null_risk = s->null_risk, .grid_points = s->g.count,
                      .wall_s = s->wall,
                      .shard = s->sh.spec.count ? &shard_meta : NULL};
  double cost_total = 0;
  for (size_t j = 0; j < s->sh.n_points; ++j) {
    s->wall[j] = NAN;
    cost_total += s->cost[s->sh.points[j]];
  }
  kd_progress pg;
  kd_progress_start(&pg, stderr, !c->run.quiet && isatty(STDERR_FILENO), c->run.verbose,
                    s->sh.n_points, cost_total);
  run_ctx x = {.c = c, .g = &s->g, .be = &s->be, .rs = &s->rs, .meta = &meta, .wall = s->wall,
               .cost = s->cost, .table = table, .pg = &pg};
  kd_stop_arm(s->sh.csv);
  kd_status st = walk_points(s, &x);
  kd_progress_end(&pg);
  kd_stop_disarm();
  if (st == KD_OK) {
    meta.finished = time(NULL);
    st = kd_run_meta_write(s->rs.meta_path, &meta);
  }
  return sweep_verdict(s, &meta, st, table);
}

kd_status kd_sweep_run(const kd_config *cfg, const char *command, FILE *table) {
  sweep s = {0};
  kd_status st = sweep_open(&s, cfg);
  if (st == KD_OK) st = sweep_points(&s, command, table);
  sweep_close(&s);
  return st;
}
