/* bench_cpu_stage: time per trial of the CPU stage (docs/gpu.md#flops, docs/gpu.md#timing).
 *
 * Trials run as kdbench runs them (kd_trial_team, pipeline.h): at shapes whose design
 * has at most KD_TEAM_MAX_ELEMS entries, one trial per core side by side, each with
 * single-threaded BLAS; at larger shapes one trial at a time with BLAS on every core.
 * A sample is a batch of trials (4 per worker side by side; 1 one at a time) and its
 * time per trial is the batch's wall time / its trials: the inverse throughput.
 *
 * Per shape: one warm-up batch (trials 0, 1, ...), then batches on the next trials
 * until at least `min_samples` samples and `min_time` seconds are in, or, for slow
 * shapes, `max_time` seconds and `floor_samples` samples. Reported: median, min and
 * IQR of the time per trial, trials/s, GFLOP/s under the flop model below and its
 * share of a DGEMM ceiling measured in the same run, each trial's own latency; then
 * the stage's steps timed alone on the same shape with the threads one trial has (one
 * core side by side, all of them one at a time) to show where time goes: generation,
 * the label products (X S + z sigma^T), the Gram by dsyrk (what the backend calls) and,
 * beside it, by dgemm (the full product: SYRK against GEMM on this machine), the
 * factorisation (dlansy + dpotrf), the condition estimate (dpocon), the k solves
 * (dpotrs) and the product back to p coordinates (X^T A when p > n, X^T Y otherwise).
 *
 * Flop model (docs/gpu.md#flops), m = min(n, p), M = max(n, p), k right-hand sides:
 *   F = m^2 M + m^3/3 + 2 m^2 k + 2 n p k + [p > n] 2 n p k
 * The Gram counts m^2 M (SYRK computes one triangle), not the 2 m^2 M of a DGEMM.
 *
 * Problem: lambda_i = i^-2, lambda_i beta*_i^2 = i^-1.5, k = 4 sources
 * beta* x {1, 0.75, 0.5, 0.25}, sigma = 0.5 for each, risk against beta*.
 *
 *   bench_cpu_stage [--quick] [--one-at-a-time] [--shape NxP[:RIDGE]] [--json FILE]
 *     --quick          the three small shapes on a short budget (a smoke test)
 *     --one-at-a-time  every shape one trial at a time with BLAS on every core (the
 *                      way kdbench ran before trials went side by side), for comparison
 *     --shape          this shape alone instead of the list (e.g. 2048x2048, the largest
 *                      design trials run side by side with, or 4000x4000:1e-3)
 *     --json           also write the results to FILE (read by bench/compare.sh) */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kdbench/backend.h"
#include "kdbench/hash.h"
#include "kdbench/pipeline.h"
#include "kdbench/problem.h"
#include "kdbench/version.h"
#include "timing.h"

#define K_RHS 4
#define SIGMA 0.5
#define SEED 20240601u
#define DGEMM_N 2000
#define FLOP_MODEL "F = m^2 M + m^3/3 + 2 m^2 k + 2 n p k + [p>n] 2 n p k (SYRK counts m^2 M)"

static const double source_scale[K_RHS] = {1.0, 0.75, 0.5, 0.25};

typedef struct {
  size_t n, p;
  double ridge;
  int quick; /* part of the --quick set */
} shape;

/* The square shape sits at the interpolation peak: its main row is ridge 1e-3; the
 * ridgeless row after it shows what the peak costs (and how often it falls back). */
static const shape shapes[] = {
    {200, 500, 0.0, 1},     {1000, 2000, 0.0, 1}, {2000, 1000, 0.0, 1},
    {4000, 4000, 1e-3, 0},  {4000, 4000, 0.0, 0},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* ---- timing harness ------------------------------------------------------------------ */

static const budget stage_full = {5, 1.5, 12.0, 3};
static const budget stage_quick = {3, 0.2, 1.0, 3};
static const budget part_full = {5, 0.3, 4.0, 3};
static const budget part_quick = {3, 0.05, 0.5, 3};

/* ---- the DGEMM ceiling -------------------------------------------------------------------- */

typedef struct {
  int n;
  double *a, *b, *c;
} dgemm_ctx;

static double time_dgemm(void *ctx, unsigned rep) {
  (void)rep;
  dgemm_ctx *d = ctx;
  double t0 = now();
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, d->n, d->n, d->n, 1.0, d->a, d->n,
              d->b, d->n, 0.0, d->c, d->n);
  return now() - t0;
}

/* GFLOP/s of an n^3 DGEMM (median of 5 after a warm-up), or a negative value. */
static double dgemm_ceiling(int n) {
  size_t nn = (size_t)n * (size_t)n;
  dgemm_ctx d = {n, xmalloc(nn * sizeof(double)), xmalloc(nn * sizeof(double)),
                 xmalloc(nn * sizeof(double))};
  kd_rng_addr a = {.seed = SEED, .point = 1, .trial = 0, .purpose = KD_PURPOSE_DESIGN};
  kd_rng_fill(a, (size_t)n, 0, (size_t)n, NULL, d.a, (size_t)n);
  a.trial = 1;
  kd_rng_fill(a, (size_t)n, 0, (size_t)n, NULL, d.b, (size_t)n);
  const budget b = {5, 0.0, 0.0, 5};
  timing t;
  int rc = measure(time_dgemm, &d, &b, &t);
  free(d.a);
  free(d.b);
  free(d.c);
  return rc == 0 ? 2.0 * n * (double)n * n / t.median * 1e-9 : -1;
}

/* ---- one shape's problem and stage ---------------------------------------------------------- */

typedef struct {
  double *lambda, *beta, *sources, *scale;
  double sigma[K_RHS], risk[K_RHS];
} problem;

static kd_status problem_init(problem *pr, size_t p) {
  const kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 2.0};
  const kd_beta_spec bspec = {.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  memset(pr, 0, sizeof *pr);
  kd_status rc = kd_spectrum_build(&spec, &p, &pr->lambda);
  if (rc == KD_OK) rc = kd_beta_build(&bspec, p, pr->lambda, SEED, &pr->beta);
  if (rc != KD_OK) return rc;
  pr->sources = xmalloc(p * K_RHS * sizeof(double));
  pr->scale = xmalloc(p * sizeof(double));
  for (size_t j = 0; j < p; ++j) pr->scale[j] = sqrt(pr->lambda[j]);
  for (size_t r = 0; r < K_RHS; ++r) {
    for (size_t j = 0; j < p; ++j) pr->sources[j + r * p] = source_scale[r] * pr->beta[j];
    pr->sigma[r] = SIGMA;
  }
  return KD_OK;
}

static void problem_free(problem *pr) {
  free(pr->lambda);
  free(pr->beta);
  free(pr->sources);
  free(pr->scale);
}

static kd_rng_addr stream(const shape *s, unsigned purpose) {
  char name[64];
  snprintf(name, sizeof name, "bench n=%zu p=%zu ridge=%g", s->n, s->p, s->ridge);
  return (kd_rng_addr){.seed = SEED, .point = kd_hash32(name), .trial = 0, .purpose = purpose};
}

#define BATCH_PER_WORKER 4

typedef struct {
  kd_trial_team team;
  kd_stage proto;     /* the stage; its trial, risks set per trial */
  unsigned batch;     /* trials per sample */
  uint32_t base;      /* the first trial of the current batch */
  double *risk;       /* batch x K_RHS */
  int *fallback;      /* batch */
  double *latency;    /* batch: each trial's own seconds */
  double *lat_all;    /* every timed trial's latency */
  unsigned lat_count, lat_cap;
  unsigned fallbacks; /* timed trials that took the orthogonal-factorisation path */
} stage_ctx;

static kd_status stage_trial(void *ctx, kd_backend *be, int worker, uint32_t trial) {
  (void)worker;
  stage_ctx *c = ctx;
  const unsigned i = trial - c->base;
  kd_stage st = c->proto;
  st.design.trial = st.noise.trial = trial;
  st.risk = c->risk + (size_t)i * K_RHS;
  double t0 = now();
  kd_status rc = kd_stage_run(be, &st);
  c->latency[i] = now() - t0;
  c->fallback[i] = st.fallback;
  return rc;
}

/* One batch: its wall time (measure() sees batches; run_shape divides by the size). */
static double time_stage(void *ctx, unsigned rep) {
  stage_ctx *c = ctx;
  double t0 = now();
  kd_status rc = kd_trial_team_run(&c->team, c->base, c->batch, stage_trial, c, NULL);
  double t = now() - t0;
  if (rc != KD_OK) {
    fprintf(stderr, "bench_cpu_stage: %s\n", kd_last_error());
    return -1;
  }
  c->base += c->batch;
  if (rep == 0) return t;
  for (unsigned i = 0; i < c->batch; ++i) {
    c->fallbacks += (unsigned)c->fallback[i];
    if (c->lat_count == c->lat_cap) {
      c->lat_cap = c->lat_cap ? 2 * c->lat_cap : 256;
      double *grown = xmalloc(c->lat_cap * sizeof *grown);
      if (c->lat_count) memcpy(grown, c->lat_all, c->lat_count * sizeof *grown);
      free(c->lat_all);
      c->lat_all = grown;
    }
    c->lat_all[c->lat_count++] = c->latency[i];
  }
  return t;
}

/* A batch's timing -> the timing per trial (count stays the number of batches). */
static void per_trial(timing *t, unsigned batch) {
  t->median /= batch;
  t->min /= batch;
  t->q1 /= batch;
  t->q3 /= batch;
  t->total /= batch;
}

/* ---- the stage's steps timed alone -------------------------------------------------------------- */

typedef struct {
  size_t n, p, m;
  int kernel; /* p > n: G = X X^T, else X^T X */
  double shift; /* n ridge */
  kd_rng_addr design;
  const double *scale; /* NULL on the whitened path (ridgeless n >= p) */
  const double *sources, *sigma;
  double *x, *gram, *factor, *rhs, *sol, *work, *y, *z, *b;
  lapack_int *iwork;
  double anorm; /* of the Gram, for the condition estimate */
} parts_ctx;

static double time_generation(void *ctx, unsigned rep) {
  parts_ctx *c = ctx;
  kd_rng_addr a = c->design;
  a.trial = rep;
  double t0 = now();
  kd_rng_fill(a, c->n, 0, c->p, c->scale, c->x, c->n);
  return now() - t0;
}

static double time_gram(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const int m = (int)c->m, depth = (int)(c->kernel ? c->p : c->n);
  double t0 = now();
  cblas_dsyrk(CblasColMajor, CblasLower, c->kernel ? CblasNoTrans : CblasTrans, m, depth, 1.0,
              c->x, (int)c->n, 0.0, c->gram, m);
  for (size_t i = 0; i < c->m; ++i) c->gram[i + i * c->m] += c->shift;
  return now() - t0;
}

/* The Gram as a full m x m dgemm (twice SYRK's flops): is SYRK the faster here? */
static double time_gram_gemm(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const int m = (int)c->m, depth = (int)(c->kernel ? c->p : c->n), n = (int)c->n;
  double t0 = now();
  cblas_dgemm(CblasColMajor, c->kernel ? CblasNoTrans : CblasTrans,
              c->kernel ? CblasTrans : CblasNoTrans, m, m, depth, 1.0, c->x, n, c->x, n, 0.0,
              c->factor, m);
  return now() - t0;
}

/* The label products as the backend forms them: Y = X S + z sigma^T. */
static double time_labels(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const int n = (int)c->n, p = (int)c->p;
  double t0 = now();
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, K_RHS, p, 1.0, c->x, n, c->sources,
              p, 0.0, c->y, n);
  cblas_dger(CblasColMajor, n, K_RHS, 1.0, c->z, 1, c->sigma, 1, c->y, n);
  return now() - t0;
}

/* The product back to p coordinates: X^T A (p > n) or X^T Y (n >= p), p x k. */
static double time_back(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const int n = (int)c->n, p = (int)c->p;
  double t0 = now();
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, p, K_RHS, n, 1.0, c->x, n, c->y, n, 0.0,
              c->b, p);
  return now() - t0;
}

/* The norm and the Cholesky factor of the Gram, as the backend takes them. */
static double time_factor(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const lapack_int m = (lapack_int)c->m;
  memcpy(c->factor, c->gram, c->m * c->m * sizeof(double));
  double t0 = now();
  c->anorm = LAPACKE_dlansy_work(LAPACK_COL_MAJOR, '1', 'L', m, c->factor, m, c->work);
  lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', m, c->factor, m);
  double t = now() - t0;
  if (info != 0) fprintf(stderr, "bench_cpu_stage: Cholesky step failed (info %d)\n", (int)info);
  return info == 0 ? t : -1;
}

/* The condition estimate on the factor time_factor left. */
static double time_cond(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const lapack_int m = (lapack_int)c->m;
  double rcond = 0, t0 = now();
  lapack_int info = LAPACKE_dpocon_work(LAPACK_COL_MAJOR, 'L', m, c->factor, m, c->anorm,
                                        &rcond, c->work, c->iwork);
  double t = now() - t0;
  return info == 0 ? t : -1;
}

/* The k solves against that factor. */
static double time_solves(void *ctx, unsigned rep) {
  (void)rep;
  parts_ctx *c = ctx;
  const lapack_int m = (lapack_int)c->m;
  memcpy(c->sol, c->rhs, c->m * K_RHS * sizeof(double));
  double t0 = now();
  lapack_int info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', m, K_RHS, c->factor, m, c->sol, m);
  double t = now() - t0;
  return info == 0 ? t : -1;
}

typedef struct {
  timing gen, labels, gram, gram_gemm, factor, cond, solves, back;
} parts;

/* factor + condition estimate + solves: what the backend does with a Gram. */
static double factor_solve(const parts *p) {
  return p->factor.median + p->cond.median + p->solves.median;
}

/* The steps alone, with the threads one trial of the team has: one core when trials
 * run side by side (BLAS and generation on one thread), every core otherwise. */
static int time_parts(const shape *s, const problem *pr, const budget *b,
                      const kd_trial_team *team, parts *out) {
  const int blas_before = openblas_get_num_threads(), omp_before = omp_get_max_threads();
  if (team->workers > 1) {
    openblas_set_num_threads(1);
    omp_set_num_threads(1);
  }
  parts_ctx c = {.n = s->n, .p = s->p, .m = s->n < s->p ? s->n : s->p, .kernel = s->p > s->n,
                 .shift = (double)s->n * s->ridge,
                 .design = stream(s, KD_PURPOSE_DESIGN | KD_STAGE_STUDENT)};
  c.scale = (c.kernel || s->ridge > 0) ? pr->scale : NULL;
  c.sources = pr->sources;
  c.sigma = pr->sigma;
  c.x = xmalloc(s->n * s->p * sizeof(double));
  c.y = xmalloc(s->n * K_RHS * sizeof(double));
  c.z = xmalloc(s->n * sizeof(double));
  c.b = xmalloc(s->p * K_RHS * sizeof(double));
  c.gram = xmalloc(c.m * c.m * sizeof(double));
  c.factor = xmalloc(c.m * c.m * sizeof(double));
  c.rhs = xmalloc(c.m * K_RHS * sizeof(double));
  c.sol = xmalloc(c.m * K_RHS * sizeof(double));
  c.work = xmalloc(3 * c.m * sizeof(double));
  c.iwork = xmalloc(c.m * sizeof(lapack_int));
  kd_rng_addr r = c.design;
  r.purpose = KD_PURPOSE_NOISE;
  kd_rng_fill(r, c.m, 0, K_RHS, NULL, c.rhs, c.m);
  kd_rng_fill(r, s->n, 0, 1, NULL, c.z, s->n);
  int rc = measure(time_generation, &c, b, &out->gen);
  if (rc == 0) rc = measure(time_labels, &c, b, &out->labels);
  if (rc == 0) rc = measure(time_gram_gemm, &c, b, &out->gram_gemm);
  if (rc == 0) rc = measure(time_gram, &c, b, &out->gram);
  if (rc == 0) rc = measure(time_factor, &c, b, &out->factor);
  if (rc == 0) rc = measure(time_cond, &c, b, &out->cond);
  if (rc == 0) rc = measure(time_solves, &c, b, &out->solves);
  if (rc == 0) rc = measure(time_back, &c, b, &out->back);
  if (team->workers > 1) {
    openblas_set_num_threads(blas_before);
    omp_set_num_threads(omp_before);
  }
  free(c.x);
  free(c.y);
  free(c.z);
  free(c.b);
  free(c.gram);
  free(c.factor);
  free(c.rhs);
  free(c.sol);
  free(c.work);
  free(c.iwork);
  return rc;
}

/* ---- one shape, end to end ------------------------------------------------------------------- */

typedef struct {
  shape s;
  timing stage;   /* per trial: batch wall time / batch size */
  timing latency; /* each trial's own time (count: trials) */
  int workers, blas_threads;
  unsigned batch;
  parts parts;
  unsigned fallbacks;
  double flops;
} result;

static const char *path_name(const shape *s) {
  if (s->p > s->n) return "kernel";
  return s->ridge > 0 ? "primal" : "primal-whitened";
}

static int run_shape(kd_backend *be, const shape *s, int quick, int one_at_a_time,
                     result *out) {
  problem pr;
  kd_status st = problem_init(&pr, s->p);
  stage_ctx c = {0};
  if (st == KD_OK && one_at_a_time)
    c.team = (kd_trial_team){.workers = 1, .single_blas = 0, .be = be};
  else if (st == KD_OK)
    st = kd_trial_team_open(&c.team, be, s->n * s->p, 0, 0);
  if (st != KD_OK) {
    fprintf(stderr, "bench_cpu_stage: %s\n", kd_last_error());
    return -1;
  }
  c.proto = (kd_stage){.n = s->n, .p = s->p, .lambda = pr.lambda, .ridge = s->ridge, .k = K_RHS,
                       .sources = pr.sources, .sigma = pr.sigma, .target = pr.beta,
                       .design = stream(s, KD_PURPOSE_DESIGN | KD_STAGE_STUDENT),
                       .noise = stream(s, KD_PURPOSE_NOISE | KD_STAGE_STUDENT)};
  c.batch = c.team.workers > 1 ? BATCH_PER_WORKER * (unsigned)c.team.workers : 1;
  c.risk = xmalloc(c.batch * K_RHS * sizeof(double));
  c.fallback = xmalloc(c.batch * sizeof(int));
  c.latency = xmalloc(c.batch * sizeof(double));
  out->s = *s;
  out->flops = model_flops(s->n, s->p, K_RHS);
  out->workers = c.team.workers;
  out->blas_threads = c.team.single_blas ? 1 : openblas_get_num_threads();
  out->batch = c.batch;
  int rc = measure(time_stage, &c, quick ? &stage_quick : &stage_full, &out->stage);
  if (rc == 0) {
    per_trial(&out->stage, c.batch);
    summarize(c.lat_all, c.lat_count, &out->latency);
  }
  out->fallbacks = c.fallbacks;
  if (rc == 0) rc = time_parts(s, &pr, quick ? &part_quick : &part_full, &c.team, &out->parts);
  kd_trial_team_close(&c.team);
  free(c.risk);
  free(c.fallback);
  free(c.latency);
  free(c.lat_all);
  problem_free(&pr);
  return rc;
}

/* ---- reports ------------------------------------------------------------------------------------- */

static double gflops(const result *r) { return r->flops / r->stage.median * 1e-9; }
static double normals_per_s(const result *r) {
  return (double)r->s.n * (double)r->s.p / r->parts.gen.median;
}

static void print_result(FILE *f, const result *r, double ceiling) {
  const timing *t = &r->stage;
  const double med = t->median;
  fprintf(f, "\nn=%zu p=%zu k=%d ridge=%g (%s form)\n", r->s.n, r->s.p, K_RHS, r->s.ridge,
          path_name(&r->s));
  if (r->workers > 1)
    fprintf(f, "  mode     %d trials side by side, BLAS on 1 thread each; batches of %u\n",
            r->workers, r->batch);
  else
    fprintf(f, "  mode     one trial at a time, BLAS on %d thread(s)\n", r->blas_threads);
  fprintf(f, "  stage    %u trials: median %.3f ms/trial, min %.3f ms, IQR %.3f ms, "
             "%.2f trials/s; latency of one trial: median %.3f ms\n",
          t->count * r->batch, 1e3 * med, 1e3 * t->min, 1e3 * (t->q3 - t->q1),
          t->count / t->total, 1e3 * r->latency.median);
  fprintf(f, "  flops    %.3e/trial: %.2f GFLOP/s = %.1f %% of the DGEMM ceiling\n", r->flops,
          gflops(r), 100 * gflops(r) / ceiling);
  fprintf(f, "  fallback %u of %u timed trials took the orthogonal path\n", r->fallbacks,
          t->count * r->batch);
  const parts *p = &r->parts;
  /* the steps were timed with one trial's threads: compare them with its latency */
  const double lat = r->latency.median;
  const double fs = factor_solve(p);
  double rest = lat - p->gen.median - p->gram.median - fs;
  fprintf(f, "  steps    (of one trial's latency) generation %.3f ms (%.0f %%; %.3g normals/s, "
             "%.2f GB/s), Gram %.3f ms (%.0f %%), factor+solve %.3f ms (%.0f %%), rest %.3f ms\n",
          1e3 * p->gen.median, 100 * p->gen.median / lat, normals_per_s(r),
          8e-9 * normals_per_s(r), 1e3 * p->gram.median, 100 * p->gram.median / lat,
          1e3 * fs, 100 * fs / lat, 1e3 * rest);
  fprintf(f, "  detail   labels %.3f ms, X^T %s %.3f ms (of the rest); dlansy + dpotrf %.3f ms, "
             "dpocon %.3f ms, dpotrs %.3f ms (of factor+solve); the Gram by dgemm %.3f ms: "
             "SYRK is %.2fx %s\n",
          1e3 * p->labels.median, r->s.p > r->s.n ? "A" : "Y", 1e3 * p->back.median,
          1e3 * p->factor.median, 1e3 * p->cond.median, 1e3 * p->solves.median,
          1e3 * p->gram_gemm.median, p->gram_gemm.median / p->gram.median,
          p->gram.median <= p->gram_gemm.median ? "faster (kept)" : "SLOWER than dgemm");
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; ++s) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if ((unsigned char)*s >= 0x20) fputc(*s, f);
  }
  fputc('"', f);
}

static void json_timing(FILE *f, const char *name, const timing *t) {
  fprintf(f, "\"%s\": {\"count\": %u, \"median_s\": %.6e, \"min_s\": %.6e, \"q1_s\": %.6e, "
             "\"q3_s\": %.6e, \"total_s\": %.6e}",
          name, t->count, t->median, t->min, t->q1, t->q3, t->total);
}

static void json_result(FILE *f, const result *r, double ceiling) {
  fprintf(f, "    {\"n\": %zu, \"p\": %zu, \"k\": %d, \"ridge\": %g, \"path\": \"%s\", ", r->s.n,
          r->s.p, K_RHS, r->s.ridge, path_name(&r->s));
  fprintf(f, "\"flops\": %.6e, \"gflops\": %.4f, \"pct_dgemm\": %.3f, \"trials_per_s\": %.4f, "
             "\"fallbacks\": %u, \"trials\": %u,\n     \"workers\": %d, \"blas_threads\": %d, "
             "\"batch\": %u,\n     ",
          r->flops, gflops(r), 100 * gflops(r) / ceiling, r->stage.count / r->stage.total,
          r->fallbacks, r->stage.count * r->batch, r->workers, r->blas_threads, r->batch);
  json_timing(f, "stage", &r->stage);
  fputs(",\n     ", f);
  json_timing(f, "latency", &r->latency);
  fputs(",\n     ", f);
  json_timing(f, "generation", &r->parts.gen);
  fputs(",\n     ", f);
  json_timing(f, "gram", &r->parts.gram);
  fprintf(f, ",\n     \"factor_solve\": {\"median_s\": %.6e}", factor_solve(&r->parts));
  const struct {
    const char *name;
    const timing *t;
  } more[] = {{"labels", &r->parts.labels}, {"gram_gemm", &r->parts.gram_gemm},
              {"factor", &r->parts.factor}, {"cond", &r->parts.cond},
              {"solves", &r->parts.solves}, {"back", &r->parts.back}};
  for (size_t i = 0; i < sizeof more / sizeof more[0]; ++i) {
    fputs(",\n     ", f);
    json_timing(f, more[i].name, more[i].t);
  }
  fprintf(f, ",\n     \"gen_normals_per_s\": %.6e, \"gen_gb_per_s\": %.4f}", normals_per_s(r),
          8e-9 * normals_per_s(r));
}

static int write_json(const char *path, const char *describe, double ceiling, int quick,
                      int one_at_a_time, const result *r, size_t count) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return -1;
  }
  fprintf(f, "{\n  \"bench\": \"bench_cpu_stage\",\n  \"kdbench\": \"%s (%s)\",\n  \"backend\": ",
          KDBENCH_VERSION, KDBENCH_GIT_COMMIT);
  json_string(f, describe);
  fprintf(f, ",\n  \"nproc\": %ld,\n  \"omp_threads\": %d,\n  \"quick\": %s,\n"
             "  \"mode\": \"%s\",\n  \"flop_model\": \"%s\",\n",
          sysconf(_SC_NPROCESSORS_ONLN), omp_get_max_threads(), quick ? "true" : "false",
          one_at_a_time ? "one trial at a time" : "as kdbench runs trials", FLOP_MODEL);
  fprintf(f, "  \"problem\": \"lambda_i = i^-2, lambda_i beta_i^2 = i^-1.5, k = 4 sources "
             "beta* x {1, 0.75, 0.5, 0.25}, sigma = 0.5\",\n");
  fprintf(f, "  \"dgemm\": {\"n\": %d, \"gflops\": %.4f},\n  \"shapes\": [\n", DGEMM_N, ceiling);
  for (size_t i = 0; i < count; ++i) {
    json_result(f, &r[i], ceiling);
    fputs(i + 1 < count ? ",\n" : "\n", f);
  }
  fputs("  ]\n}\n", f);
  return fclose(f) == 0 ? 0 : -1;
}

/* ---- main ------------------------------------------------------------------------------------------- */

static int usage(void) {
  fputs("usage: bench_cpu_stage [--quick] [--one-at-a-time] [--shape NxP[:RIDGE]] [--json FILE]\n",
        stderr);
  return 2;
}

/* "NxP" or "NxP:RIDGE" -> *s (parse_shape_arg); 0 on success. */
static int parse_shape(const char *text, shape *s) {
  size_t n, p;
  double ridge;
  if (parse_shape_arg(text, &n, &p, &ridge) != 0) return -1;
  *s = (shape){n, p, ridge, 1};
  return 0;
}

int main(int argc, char **argv) {
  int quick = 0, one_at_a_time = 0;
  const char *json = NULL;
  const shape *list = shapes;
  size_t nlist = N_SHAPES;
  shape alone;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) quick = 1;
    else if (strcmp(argv[i], "--one-at-a-time") == 0) one_at_a_time = 1;
    else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
    else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      if (parse_shape(argv[++i], &alone) != 0) {
        fprintf(stderr, "bench_cpu_stage: bad --shape '%s' (NxP or NxP:RIDGE)\n", argv[i]);
        return 2;
      }
      list = &alone;
      nlist = 1;
    }
    else return usage();
  }
  kd_backend be;
  if (kd_backend_open("cpu", &be) != KD_OK) {
    fprintf(stderr, "bench_cpu_stage: %s\n", kd_last_error());
    return 1;
  }
  char describe[256];
  be.type->describe(be.state, describe, sizeof describe);
  printf("kdbench %s (%s) CPU stage benchmark, %s, %s\n%s; %ld online CPUs, %d OpenMP threads\n",
         KDBENCH_VERSION, KDBENCH_GIT_COMMIT, quick ? "quick" : "full",
         one_at_a_time ? "one trial at a time" : "trials as kdbench runs them",
         describe, sysconf(_SC_NPROCESSORS_ONLN), omp_get_max_threads());
  printf("flop model: %s\n", FLOP_MODEL);
  double ceiling = dgemm_ceiling(DGEMM_N);
  printf("DGEMM ceiling (cblas_dgemm %d^3, median of 5): %.2f GFLOP/s\n", DGEMM_N, ceiling);
  fflush(stdout);
  result res[N_SHAPES];
  size_t count = 0;
  int rc = 0;
  for (size_t i = 0; i < nlist && rc == 0; ++i) {
    if (quick && !list[i].quick) continue;
    rc = run_shape(&be, &list[i], quick, one_at_a_time, &res[count]);
    if (rc == 0) print_result(stdout, &res[count++], ceiling);
    fflush(stdout);
  }
  kd_backend_close(&be);
  if (rc == 0 && json)
    rc = write_json(json, describe, ceiling, quick, one_at_a_time, res, count);
  return rc == 0 ? 0 : 1;
}
