/* bench_stage: time per trial of one backend's stage, in llm.c's manner: each shape's
 * trial 0 is first checked against the CPU reference ("match" when every risk and fit
 * agrees to 1e-9 relative; the CPU backend is checked against a state of its own, which
 * must agree exactly), then timed.
 *
 *   bench_stage [--backend cpu|cuda] [--quick] [--check-max-m M] [--json FILE]
 *     --backend      the backend timed (default cuda when built, else cpu)
 *     --quick        the three small shapes on a short budget (the device script's dry
 *                    run uses it with --backend cpu)
 *     --check-max-m  check against the CPU only shapes with min(n, p) <= M (default
 *                    8192: the CPU reference of a 20000 x 20000 stage takes minutes);
 *                    the others say "not checked"
 *     --json         also write the results to FILE
 *
 * Per shape: two warm-up calls (a CUDA stage runs a shape's first trial directly and
 * captures its graph on the second), then calls on fresh trials until at least 5
 * samples and 1 s are in, or 10 s and 3 samples (--quick: 3 samples and 0.2 s, or 1 s).
 * A sample is one call, of one trial (kd_stage_run) or, for the batched row, of 64
 * (kd_stage_run_batch; its time per trial is the call's over 64), timed by the wall
 * clock, which the call returns to only once the device has finished. Reported: median, minimum and IQR of
 * the time per trial, trials/s, TFLOP/s under the flop model of bench/README.md (k = 4),
 * that rate as a share of the FP64 peak (66.9 TFLOP/s, H100/H200 tensor cores; cuda
 * only) and of a DGEMM ceiling measured in the same run (cublasDgemm 8192^3 on the
 * device, cblas_dgemm 2000^3 on the CPU), and the fallbacks among the timed trials.
 *
 * Problem: lambda_i = i^-2, lambda_i beta*_i^2 = i^-1.5 (beta*_i = i^0.25), k = 4
 * sources beta* x {1, 0.75, 0.5, 0.25}, sigma = 0.5 each, risk against beta*. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/backend.h"
#include "timing.h"
#ifdef KDBENCH_HAVE_CUDA
#include "kdbench/cuda_debug.h"
#endif

#define K_RHS 4
#define SEED 20240601u
#define TOL 1e-9
#define FP64_PEAK_TFLOPS 66.9 /* H100/H200 SXM, FP64 tensor cores */

typedef struct {
  size_t n, p;
  double ridge;
  int quick;      /* part of the --quick set */
  unsigned batch; /* trials per kd_stage_run_batch call (1: kd_stage_run) */
} shape;

/* 200 x 500 to 20000 x 20000, the square shapes with a small ridge, away from the
 * interpolation peak where the fallback would dominate; and the small shape batched,
 * 64 trials a call, the way a sweep's many small trials can run. */
static const shape shapes[] = {
    {200, 500, 0, 1, 1},       {200, 500, 0, 1, 64},       {1000, 2000, 0, 1, 1},
    {2000, 1000, 0, 1, 1},     {4000, 4000, 1e-3, 0, 1},   {8192, 16384, 0, 0, 1},
    {16384, 8192, 0, 0, 1},    {20000, 20000, 1e-3, 0, 1},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static const budget full = {5, 1.0, 10.0, 3}, quick = {3, 0.2, 1.0, 3};

typedef struct {
  double *lambda, *beta, *sources, sigma[K_RHS];
} problem;

static problem problem_make(size_t p) {
  problem pr = {xmalloc(p * sizeof(double)), xmalloc(p * sizeof(double)),
                xmalloc(p * K_RHS * sizeof(double)), {0}};
  const double scale[K_RHS] = {1.0, 0.75, 0.5, 0.25};
  for (size_t j = 0; j < p; ++j) {
    pr.lambda[j] = pow((double)(j + 1), -2.0);
    pr.beta[j] = pow((double)(j + 1), 0.25);
  }
  for (size_t r = 0; r < K_RHS; ++r) {
    pr.sigma[r] = 0.5;
    for (size_t j = 0; j < p; ++j) pr.sources[j + r * p] = scale[r] * pr.beta[j];
  }
  return pr;
}

static void problem_free(problem *pr) {
  free(pr->lambda);
  free(pr->beta);
  free(pr->sources);
}

/* Trial t's stage of the shape; risk (K_RHS) and beta_hat (p x K_RHS or NULL) given. */
static kd_stage stage_of(const shape *s, const problem *pr, uint32_t t, double *risk,
                         double *beta_hat) {
  const uint32_t point = (uint32_t)(s->n * 7919u + s->p);
  return (kd_stage){.n = s->n, .p = s->p, .lambda = pr->lambda, .ridge = s->ridge, .k = K_RHS,
                    .sources = pr->sources, .sigma = pr->sigma, .target = pr->beta,
                    .design = {SEED, point, t, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                    .noise = {SEED, point, t, KD_STAGE_STUDENT | KD_PURPOSE_NOISE},
                    .risk = risk, .beta_hat = beta_hat};
}

/* The largest relative difference of the risks and fits of trials 0 .. batch - 1 (run
 * as the shape is timed) from the CPU's, or a negative value when a stage failed. */
static double check_against_cpu(kd_backend *be, kd_backend *cpu, const shape *s,
                                const problem *pr) {
  const size_t pk = s->p * K_RHS, count = s->batch;
  double *risk = xmalloc(2 * count * K_RHS * sizeof(double));
  double *beta = xmalloc(2 * count * pk * sizeof(double));
  kd_stage *st = xmalloc(count * sizeof *st);
  for (size_t t = 0; t < count; ++t)
    st[t] = stage_of(s, pr, (uint32_t)t, risk + t * K_RHS, beta + t * pk);
  double worst = kd_stage_run_batch(be, st, count) == KD_OK ? 0 : -1;
  for (size_t t = 0; t < count && worst >= 0; ++t) {
    double *risk_ref = risk + (count + t) * K_RHS, *beta_ref = beta + (count + t) * pk;
    kd_stage ref = stage_of(s, pr, (uint32_t)t, risk_ref, beta_ref);
    if (kd_stage_run(cpu, &ref) != KD_OK) {
      worst = -1;
      break;
    }
    for (size_t r = 0; r < K_RHS; ++r) {
      worst = fmax(worst, fabs(st[t].risk[r] - risk_ref[r]) / fabs(risk_ref[r]));
      double d = 0, n = 0;
      for (size_t j = 0; j < s->p; ++j) {
        const double x = st[t].beta_hat[j + r * s->p], y = beta_ref[j + r * s->p];
        d += (x - y) * (x - y);
        n += y * y;
      }
      worst = fmax(worst, sqrt(d / n));
    }
  }
  free(risk);
  free(beta);
  free(st);
  return worst;
}

typedef struct {
  kd_backend *be;
  const shape *s;
  const problem *pr;
  unsigned fallbacks;
} stage_ctx;

/* Trials first .. first + batch - 1 in one call; its seconds per trial. */
static double run_trials(stage_ctx *c, uint32_t first) {
  const unsigned batch = c->s->batch;
  double *risk = xmalloc(batch * K_RHS * sizeof(double));
  kd_stage *st = xmalloc(batch * sizeof *st);
  for (unsigned t = 0; t < batch; ++t)
    st[t] = stage_of(c->s, c->pr, first + t, risk + t * K_RHS, NULL);
  const double t0 = now();
  const kd_status rc = kd_stage_run_batch(c->be, st, batch);
  const double t = now() - t0;
  for (unsigned i = 0; i < batch; ++i) c->fallbacks += (unsigned)st[i].fallback;
  free(risk);
  free(st);
  return rc == KD_OK ? t / batch : -1;
}

static double time_trial(void *ctx, unsigned rep) {
  stage_ctx *c = ctx;
  const uint32_t b = c->s->batch;
  /* rep 0 is the warm-up: two calls (a CUDA stage's shape runs directly, then is
   * captured as a graph); the fallbacks counted are the timed trials' */
  if (rep == 0) {
    const unsigned before = c->fallbacks;
    const double t = run_trials(c, b) < 0 ? -1 : run_trials(c, 2 * b);
    c->fallbacks = before;
    return t;
  }
  return run_trials(c, (rep + 2) * b);
}

/* The DGEMM ceiling of the backend's hardware, in TFLOP/s (< 0: not measured). */
static double dgemm_ceiling(const char *backend) {
#ifdef KDBENCH_HAVE_CUDA
  if (strcmp(backend, "cuda") == 0) {
    double tflops = -1;
    return kd_cuda_dgemm_tflops(8192, 9, &tflops) == KD_OK ? tflops : -1;
  }
#endif
  (void)backend;
  const int n = 2000;
  const size_t nn = (size_t)n * n;
  double *a = xmalloc(nn * sizeof(double)), *b = xmalloc(nn * sizeof(double)),
         *c = xmalloc(nn * sizeof(double));
  kd_rng_fill((kd_rng_addr){SEED, 1, 0, KD_PURPOSE_DESIGN}, nn, 0, 1, NULL, a, nn);
  kd_rng_fill((kd_rng_addr){SEED, 1, 1, KD_PURPOSE_DESIGN}, nn, 0, 1, NULL, b, nn);
  double best = INFINITY;
  for (int r = 0; r < 4; ++r) { /* r = 0: the warm-up */
    const double t0 = now();
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    if (r > 0) best = fmin(best, now() - t0);
  }
  free(a);
  free(b);
  free(c);
  return 2.0 * n * (double)n * n / best * 1e-12;
}

int main(int argc, char **argv) {
#ifdef KDBENCH_HAVE_CUDA
  const char *backend = "cuda";
#else
  const char *backend = "cpu";
#endif
  const char *json = NULL;
  int is_quick = 0;
  size_t check_max_m = 8192;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) backend = argv[++i];
    else if (strcmp(argv[i], "--quick") == 0) is_quick = 1;
    else if (strcmp(argv[i], "--check-max-m") == 0 && i + 1 < argc)
      check_max_m = (size_t)strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
    else {
      fprintf(stderr, "usage: bench_stage [--backend cpu|cuda] [--quick] [--check-max-m M] "
                      "[--json FILE]\n");
      return 2;
    }
  }
  kd_backend be, cpu;
  if (kd_backend_open(backend, &be) != KD_OK || kd_backend_open("cpu", &cpu) != KD_OK) {
    fprintf(stderr, "bench_stage: %s\n", kd_last_error());
    return 1;
  }
  const int on_cuda = strcmp(be.type->name, "cuda") == 0;
  char desc[512];
  be.type->describe(be.state, desc, sizeof desc);
  const double ceiling = dgemm_ceiling(be.type->name);
  printf("# bench_stage: %s\n# DGEMM ceiling %.2f TFLOP/s%s; flop model m^2 M + m^3/3 + "
         "2 m^2 k + 2 n p k + [p>n] 2 n p k, k = %d\n",
         desc, ceiling, on_cuda ? " (cublasDgemm 8192^3)" : " (cblas_dgemm 2000^3)", K_RHS);
  printf("%7s %7s %7s %5s  %-11s %10s %9s %9s %9s %9s %7s %7s %9s\n", "n", "p", "ridge",
         "batch", "check", "median_ms", "min_ms", "iqr_ms", "trials/s", "TFLOP/s", "%peak",
         "%dgemm", "fallbacks");
  FILE *js = json ? fopen(json, "w") : NULL;
  if (json && !js) {
    fprintf(stderr, "bench_stage: cannot write %s\n", json);
    return 1;
  }
  if (js)
    fprintf(js, "{\"backend\": \"%s\", \"describe\": \"%s\", \"dgemm_tflops\": %.6g, "
                "\"fp64_peak_tflops\": %.1f, \"k\": %d, \"shapes\": [",
            be.type->name, desc, ceiling, FP64_PEAK_TFLOPS, K_RHS);
  int mismatches = 0, failures = 0, first = 1;
  for (size_t i = 0; i < N_SHAPES; ++i) {
    const shape *s = &shapes[i];
    if (is_quick && !s->quick) continue;
    problem pr = problem_make(s->p);
    const size_t m = s->n < s->p ? s->n : s->p;
    char check[32] = "not checked";
    double worst = 0;
    if (m <= check_max_m) { /* the CPU backend, too, against a state of its own */
      worst = check_against_cpu(&be, &cpu, s, &pr);
      snprintf(check, sizeof check, "%s", worst < 0 ? "FAILED" : worst <= TOL ? "match" : "MISMATCH");
      mismatches += worst > TOL;
      failures += worst < 0;
    }
    stage_ctx c = {&be, s, &pr, 0};
    timing t;
    if (measure(time_trial, &c, is_quick ? &quick : &full, &t) != 0) {
      printf("%7zu %7zu %7g %5u  %-11s stage failed: %s\n", s->n, s->p, s->ridge, s->batch,
             check, kd_last_error());
      ++failures;
      problem_free(&pr);
      continue;
    }
    const double tflops = model_flops(s->n, s->p, K_RHS) / t.median * 1e-12;
    char pct_peak[16] = "-", pct_dgemm[16] = "-";
    if (on_cuda) snprintf(pct_peak, sizeof pct_peak, "%.1f", 100 * tflops / FP64_PEAK_TFLOPS);
    if (ceiling > 0) snprintf(pct_dgemm, sizeof pct_dgemm, "%.1f", 100 * tflops / ceiling);
    printf("%7zu %7zu %7g %5u  %-11s %10.3f %9.3f %9.3f %9.1f %9.3f %7s %7s %5u/%-4u\n",
           s->n, s->p, s->ridge, s->batch, check, 1e3 * t.median, 1e3 * t.min,
           1e3 * (t.q3 - t.q1), 1 / t.median, tflops, pct_peak, pct_dgemm, c.fallbacks,
           t.count * s->batch);
    fflush(stdout);
    if (js) {
      fprintf(js, "%s\n  {\"n\": %zu, \"p\": %zu, \"ridge\": %g, \"batch\": %u, \"check\": \"%s\", "
                  "\"check_rel\": %.3g, \"median_s\": %.6g, \"min_s\": %.6g, \"q1_s\": %.6g, "
                  "\"q3_s\": %.6g, \"samples\": %u, \"tflops\": %.6g, \"fallbacks\": %u}",
              first ? "" : ",", s->n, s->p, s->ridge, s->batch, check, worst, t.median, t.min, t.q1, t.q3,
              t.count, tflops, c.fallbacks);
      fflush(js); /* a run cut short keeps the shapes it measured */
      first = 0;
    }
    problem_free(&pr);
  }
  if (js) {
    fprintf(js, "\n]}\n");
    fclose(js);
  }
  kd_backend_close(&be);
  kd_backend_close(&cpu);
  if (mismatches || failures)
    fprintf(stderr, "bench_stage: %d shape(s) did not match the CPU, %d failed\n", mismatches,
            failures);
  return mismatches || failures ? 1 : 0;
}
