/* The CUDA backend against the CPU reference: the design generated on the device is
 * the CPU's bit for bit (past the launch grid's limits too), and per-trial risks and
 * fits agree to 1e-9 (relative) at shapes covering p > n, n > p, ridge and ridgeless,
 * several right-hand sides, small problems and m >= 2048, with a metric and without
 * beta_hat, away from n = p where the Gram's conditioning would set the tolerance.
 * Near n = p both backends must flag the same trials. Also the QR fallback (forced; on
 * a rank-deficient design, where it hands over to the CPU's dgelsy; past the 2-D copy
 * pitch limit), both Gram methods, batches, stages mixed by rows (the CPU's), CUDA graphs, the debug mode, another host
 * thread, the memory plan and check, determinism, settings and input checks; and,
 * without a device, the mapping of runtime errors.
 *
 * Every test probes the device first and, where there is none, skips saying why
 * (or fails, saying why, under KDBENCH_REQUIRE_CUDA=1). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* KDBENCH_REQUIRE_CUDA=1 (set by the device script): a machine that is meant to
 * have a usable device must not pass these tests by skipping them. */
static int device_required(void) {
  const char *v = getenv("KDBENCH_REQUIRE_CUDA");
  return v && strcmp(v, "1") == 0;
}

#ifdef KDBENCH_HAVE_CUDA

#include <cuda_runtime_api.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "kdbench/backend.h"
#include "kdbench/cuda_debug.h"
#include "stage_fixture.h"

#define SEED 0x6b6462656e6368ULL /* "kdbench" */
#define TOL 1e-9

/* Skips the running test, giving the probe's reason ("no CUDA device: ..."), or fails
 * it with that reason when a device is required. */
static void require_device(void) {
  if (kd_backend_cuda.probe() == KD_OK) return;
  if (device_required()) cr_assert_fail("KDBENCH_REQUIRE_CUDA=1: %s", kd_last_error());
  cr_skip_test("%s", kd_last_error());
}

static kd_rng_addr addr(uint32_t trial, uint32_t purpose) {
  return (kd_rng_addr){.seed = SEED, .point = 11, .trial = trial, .purpose = purpose};
}

/* ---- generation: bit for bit ------------------------------------------------------------ */

static void expect_same_design(size_t n, size_t p, int scaled) {
  double *scale = scaled ? power_law(p, 1) : NULL, *cpu = vec(n * p), *gpu = vec(n * p);
  if (scale)
    for (size_t j = 0; j < p; ++j) scale[j] = sqrt(scale[j]);
  kd_rng_addr a = addr(3, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN);
  kd_rng_fill(a, n, 0, p, scale, cpu, n);
  cr_assert_eq(kd_cuda_generate_design(a, n, p, scale, gpu), KD_OK, "%s", kd_last_error());
  size_t first = n * p;
  for (size_t i = 0; i < n * p && first == n * p; ++i)
    if (memcmp(&cpu[i], &gpu[i], sizeof(double)) != 0) first = i;
  cr_expect_eq(first, n * p, "%zu x %zu (%s): first difference at row %zu, column %zu: "
               "cpu %a, gpu %a", n, p, scaled ? "scaled" : "unscaled", first % n, first / n,
               cpu[first % (n * p)], gpu[first % (n * p)]);
  free(scale);
  free(cpu);
  free(gpu);
}

Test(generation, bit_identical_to_cpu) {
  require_device();
  /* past the grid's limits too: 70000 columns (65535 blocks in y), 2.5M rows (the
   * x-loop of 4096 blocks of 256 row pairs) */
  const size_t shapes[][2] = {{1000, 3000}, {37, 5}, {2, 1}, {1, 1}, {1, 4}, {999, 7},
                              {3, 70000}, {2500001, 2}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
    expect_same_design(shapes[s][0], shapes[s][1], 1);
    expect_same_design(shapes[s][0], shapes[s][1], 0);
  }
}

/* ---- stages: CUDA against CPU ------------------------------------------------------------ */

typedef struct {
  size_t n, p, k;
  double ridge, alpha;
  const char *what;
} shape;

typedef struct {
  double *lambda, *sources, *sigma, *target, *risk, *beta;
  kd_stage st;
} problem;

/* A stage of this shape: a smooth ground truth (also the target) and k - 1 surrogates
 * that differ from it, each with its own noise level. */
static problem make_problem(shape sh, uint32_t trial) {
  const size_t p = sh.p, k = sh.k;
  problem pb = {.lambda = power_law(p, sh.alpha), .sources = vec(p * k), .sigma = vec(k),
                .target = vec(p), .risk = vec(k), .beta = vec(p * k)};
  for (size_t j = 0; j < p; ++j) pb.target[j] = 1.0 / sqrt((double)(j + 1));
  for (size_t r = 0; r < k; ++r) {
    pb.sigma[r] = 0.25 + 0.25 * (double)r;
    for (size_t j = 0; j < p; ++j)
      pb.sources[j + r * p] = pb.target[j] * (r == 0 ? 1.0 : (j % 2 ? 0.5 : 1.3)) +
                              0.1 * (double)r;
  }
  pb.st = (kd_stage){.n = sh.n, .p = p, .lambda = pb.lambda, .ridge = sh.ridge, .k = k,
                     .sources = pb.sources, .sigma = pb.sigma, .target = pb.target,
                     .design = addr(trial, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN),
                     .noise = addr(trial, KD_STAGE_STUDENT | KD_PURPOSE_NOISE),
                     .risk = pb.risk, .beta_hat = pb.beta};
  return pb;
}

static void free_problem(problem *pb) {
  free(pb->lambda);
  free(pb->sources);
  free(pb->sigma);
  free(pb->target);
  free(pb->risk);
  free(pb->beta);
}

static double rel_diff(const double *a, const double *b, size_t len) {
  double d = 0, s = 0;
  for (size_t i = 0; i < len; ++i) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    s += b[i] * b[i];
  }
  return sqrt(d) / sqrt(s);
}

static void open_backend(const char *name, kd_backend *b) {
  cr_assert_eq(kd_backend_open(name, b), KD_OK, "%s", kd_last_error());
}

/* Runs `trials` trials of the shape on both backends and compares risks and fits.
 * `want_fallback`: the fallback flag the CUDA stage must report. */
static void compare(kd_backend *cuda, shape sh, uint32_t trials, int want_fallback) {
  kd_backend cpu;
  open_backend("cpu", &cpu);
  for (uint32_t t = 0; t < trials; ++t) {
    problem ref = make_problem(sh, t), got = make_problem(sh, t);
    cr_assert_eq(kd_stage_run(&cpu, &ref.st), KD_OK, "%s", kd_last_error());
    cr_assert_eq(kd_stage_run(cuda, &got.st), KD_OK, "%s", kd_last_error());
    cr_expect_eq(ref.st.fallback, 0, "%s: the CPU fell back", sh.what);
    cr_expect_eq(got.st.fallback, want_fallback, "%s, trial %u: fallback %d, expected %d",
                 sh.what, t, got.st.fallback, want_fallback);
    for (size_t r = 0; r < sh.k; ++r) {
      double rel = fabs(got.risk[r] - ref.risk[r]) / ref.risk[r];
      cr_expect_leq(rel, TOL, "%s, trial %u, rhs %zu: risk cuda %.17g cpu %.17g (rel %.2g)",
                    sh.what, t, r, got.risk[r], ref.risk[r], rel);
      double fit = rel_diff(got.beta + r * sh.p, ref.beta + r * sh.p, sh.p);
      cr_expect_leq(fit, TOL, "%s, trial %u, rhs %zu: beta_hat differs by %.2g (relative)",
                    sh.what, t, r, fit);
    }
    free_problem(&ref);
    free_problem(&got);
  }
  kd_backend_close(&cpu);
}

static const shape shapes[] = {
    {200, 400, 2, 0, 1, "p > n, ridgeless (kernel form)"},
    {400, 150, 2, 0, 1, "n > p, ridgeless (whitened)"},
    {150, 300, 3, 0.1, 1, "p > n, ridge"},
    {301, 100, 4, 0.05, 0.5, "n > p, ridge, odd n"},
    {50, 100, 1, 0, 0, "small p > n"},
    {100, 50, 4, 0, 2, "small n > p, steep spectrum"},
    {1, 5, 1, 0, 0, "one sample"},
    {7, 1, 2, 0.01, 0, "one feature"},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

Test(stage, risks_match_cpu) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  for (size_t i = 0; i < NSHAPES; ++i) compare(&cuda, shapes[i], 3, 0);
  kd_backend_close(&cuda);
}

Test(stage, gram_by_dgemm_matches_cpu) {
  require_device();
  cr_assert_eq(setenv("KDBENCH_CUDA_GRAM", "gemm", 1), 0);
  kd_backend cuda;
  open_backend("cuda", &cuda);
  unsetenv("KDBENCH_CUDA_GRAM");
  char desc[512];
  cuda.type->describe(cuda.state, desc, sizeof desc);
  cr_expect(strstr(desc, "Gram by DGEMM") != NULL, "describe: %s", desc);
  for (size_t i = 0; i < NSHAPES; ++i) compare(&cuda, shapes[i], 1, 0);
  kd_backend_close(&cuda);
}

/* A threshold above 1 fails every conditioning check: the QR path must give the
 * CPU's Cholesky answers on well-conditioned stages, for all four variants. */
Test(stage, forced_qr_fallback_matches_cpu) {
  require_device();
  cr_assert_eq(setenv("KDBENCH_CUDA_RCOND_MIN", "2", 1), 0);
  kd_backend cuda;
  open_backend("cuda", &cuda);
  unsetenv("KDBENCH_CUDA_RCOND_MIN");
  for (size_t i = 0; i < NSHAPES; ++i) compare(&cuda, shapes[i], 2, 1);
  kd_backend_close(&cuda);
}

/* Ten of twenty features carry variance 1e-30: X X^T is numerically of rank 10, the
 * Cholesky factor collapses, and so does the QR's R: both backends must take the same
 * path (QR, then dgelsy on the CPU's side) and give the same, finite answers. */
Test(stage, ill_conditioned_trial_falls_back_as_the_cpu) {
  require_device();
  shape sh = {12, 20, 1, 0, 0, "rank-deficient spectrum"};
  kd_backend cpu, cuda;
  open_backend("cpu", &cpu);
  open_backend("cuda", &cuda);
  problem ref = make_problem(sh, 0), got = make_problem(sh, 0);
  for (size_t j = 10; j < sh.p; ++j) ref.lambda[j] = got.lambda[j] = 1e-30;
  cr_assert_eq(kd_stage_run(&cpu, &ref.st), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_stage_run(&cuda, &got.st), KD_OK, "%s", kd_last_error());
  cr_expect_eq(ref.st.fallback, 1, "the CPU trusted its factor");
  cr_expect_eq(got.st.fallback, 1, "the CUDA backend trusted its factor");
  unsigned long qr = 0, gelsy = 0;
  kd_cuda_fallback_counts(cuda.state, &qr, &gelsy);
  cr_expect(qr == 0 && gelsy == 1, "QR %lu, dgelsy %lu: R is singular, the CPU's dgelsy "
            "must finish", qr, gelsy);
  cr_expect(isfinite(got.risk[0]), "risk %g", got.risk[0]);
  cr_expect_leq(fabs(got.risk[0] - ref.risk[0]), TOL * ref.risk[0], "risk cuda %.17g cpu %.17g",
                got.risk[0], ref.risk[0]);
  cr_expect_leq(rel_diff(got.beta, ref.beta, sh.p), TOL);
  free_problem(&ref);
  free_problem(&got);
  kd_backend_close(&cpu);
  kd_backend_close(&cuda);
}

/* Near n = p with a steep spectrum (outside the whitened path), rcond(G) straddles the
 * threshold from trial to trial: the device's estimate must flag exactly the trials
 * dpocon flags (the parameters were chosen on the CPU so that some are and some are
 * not), and their answers must agree as well as the conditioning allows. */
Test(stage, flags_the_same_trials_as_the_cpu_near_the_peak) {
  require_device();
  const shape near[] = {
      {198, 200, 1, 0, 2, "n = p - 2, alpha 2"},
      {198, 200, 1, 0, 2.5, "n = p - 2, alpha 2.5"},
      {198, 200, 1, 0, 3, "n = p - 2, alpha 3"},
      {202, 200, 1, 1e-12, 2.5, "n = p + 2, ridge 1e-12, alpha 2.5"},
      {202, 200, 1, 1e-12, 3, "n = p + 2, ridge 1e-12, alpha 3"},
  };
  kd_backend cpu, cuda;
  open_backend("cpu", &cpu);
  open_backend("cuda", &cuda);
  unsigned flagged = 0, total = 0;
  for (size_t i = 0; i < sizeof near / sizeof near[0]; ++i)
    for (uint32_t t = 0; t < 30; ++t, ++total) {
      problem ref = make_problem(near[i], t), got = make_problem(near[i], t);
      cr_assert_eq(kd_stage_run(&cpu, &ref.st), KD_OK, "%s", kd_last_error());
      cr_assert_eq(kd_stage_run(&cuda, &got.st), KD_OK, "%s", kd_last_error());
      flagged += ref.st.fallback;
      cr_expect_eq(got.st.fallback, ref.st.fallback,
                   "%s, trial %u: cuda fallback %d (rcond %.3g), cpu %d", near[i].what, t,
                   got.st.fallback, kd_cuda_last_rcond(cuda.state), ref.st.fallback);
      /* Cholesky's error is ~u / rcond >= 1e-10 here: 1e-5 leaves room */
      double rel = fabs(got.risk[0] - ref.risk[0]) / ref.risk[0];
      cr_expect_leq(rel, 1e-5, "%s, trial %u: risk cuda %.17g cpu %.17g", near[i].what, t,
                    got.risk[0], ref.risk[0]);
      free_problem(&ref);
      free_problem(&got);
    }
  cr_expect(flagged > 0 && flagged < total, "%u of %u flagged: the set does not straddle",
            flagged, total);
  kd_backend_close(&cpu);
  kd_backend_close(&cuda);
}

/* The production case: no beta_hat asked for, and a metric other than lambda. */
Test(stage, metric_and_no_beta_hat_match_cpu) {
  require_device();
  kd_backend cpu, cuda;
  open_backend("cpu", &cpu);
  open_backend("cuda", &cuda);
  for (size_t i = 0; i < NSHAPES; ++i) {
    problem ref = make_problem(shapes[i], 1), got = make_problem(shapes[i], 1);
    double *metric = vec(shapes[i].p);
    for (size_t j = 0; j < shapes[i].p; ++j) metric[j] = 1.0 + 0.5 * (double)(j % 3);
    ref.st.metric = got.st.metric = metric;
    ref.st.beta_hat = got.st.beta_hat = NULL;
    cr_assert_eq(kd_stage_run(&cpu, &ref.st), KD_OK, "%s", kd_last_error());
    cr_assert_eq(kd_stage_run(&cuda, &got.st), KD_OK, "%s", kd_last_error());
    for (size_t r = 0; r < shapes[i].k; ++r)
      cr_expect_leq(fabs(got.risk[r] - ref.risk[r]), TOL * ref.risk[r],
                    "%s, rhs %zu: risk cuda %.17g cpu %.17g", shapes[i].what, r, got.risk[r],
                    ref.risk[r]);
    /* and the metric was used: lambda's risk differs */
    problem plain = make_problem(shapes[i], 1);
    cr_assert_eq(kd_stage_run(&cuda, &plain.st), KD_OK, "%s", kd_last_error());
    cr_expect_neq(plain.risk[0], got.risk[0], "%s: the metric made no difference",
                  shapes[i].what);
    free(metric);
    free_problem(&ref);
    free_problem(&got);
    free_problem(&plain);
  }
  kd_backend_close(&cpu);
  kd_backend_close(&cuda);
}

/* cuSOLVER's large-matrix paths (blocked potrf, large workspaces) at m >= 2048. */
Test(stage, large_stages_match_cpu) {
  require_device();
  const shape big[] = {{2048, 4096, 2, 0, 1, "m = 2048, kernel form"},
                       {6000, 2500, 2, 0.01, 1, "m = 2500, primal form, ridge"}};
  kd_backend cuda;
  open_backend("cuda", &cuda);
  for (size_t i = 0; i < sizeof big / sizeof big[0]; ++i) compare(&cuda, big[i], 1, 0);
  kd_backend_close(&cuda);
}

/* A QR fallback whose system has more rows than a 2-D copy's 2^31-byte pitch allows
 * (2.7e8 x 1, ridge > 0): the copies go through kernels, the answer is the CPU's. */
Test(stage, fallback_past_the_pitch_limit, .timeout = 600) {
  require_device();
  cr_assert_eq(setenv("KDBENCH_CUDA_RCOND_MIN", "2", 1), 0);
  kd_backend cuda;
  open_backend("cuda", &cuda);
  unsetenv("KDBENCH_CUDA_RCOND_MIN");
  compare(&cuda, (shape){270000000, 1, 1, 0.5, 0, "2.7e8 x 1, ridge"}, 1, 1);
  kd_backend_close(&cuda);
}

/* Every buffer, the fallback's included, is reserved before the stage runs: after a
 * stage the state holds exactly the plan, and a fallback then takes nothing more. */
Test(stage, fallback_buffers_reserved_up_front) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  const shape sh = shapes[0];
  problem pb = make_problem(sh, 0);
  cr_assert_eq(kd_stage_run(&cuda, &pb.st), KD_OK, "%s", kd_last_error());
  kd_cuda_lib_bytes lib;
  kd_cuda_lib_workspaces(cuda.state, &lib);
  kd_cuda_plan plan;
  kd_cuda_plan_stage(sh.n, sh.p, sh.k, sh.ridge, &lib, &plan);
  const size_t held = kd_cuda_held_bytes(cuda.state);
  cr_expect_eq(held, kd_cuda_plan_device_bytes(&plan), "held %zu, plan %zu", held,
               kd_cuda_plan_device_bytes(&plan));
  kd_backend_close(&cuda);
  cr_assert_eq(setenv("KDBENCH_CUDA_RCOND_MIN", "2", 1), 0);
  open_backend("cuda", &cuda);
  unsetenv("KDBENCH_CUDA_RCOND_MIN");
  cr_assert_eq(kd_stage_run(&cuda, &pb.st), KD_OK, "%s", kd_last_error());
  cr_expect_eq(pb.st.fallback, 1);
  cr_expect_eq(kd_cuda_held_bytes(cuda.state), held, "the fallback allocated");
  free_problem(&pb);
  kd_backend_close(&cuda);
}

Test(stage, deterministic) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  shape sh = {300, 500, 3, 0, 1, "p > n"};
  problem a = make_problem(sh, 5), b = make_problem(sh, 5);
  cr_assert_eq(kd_stage_run(&cuda, &a.st), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_stage_run(&cuda, &b.st), KD_OK, "%s", kd_last_error());
  cr_expect_eq(memcmp(a.risk, b.risk, sh.k * sizeof(double)), 0, "risks differ between runs");
  cr_expect_eq(memcmp(a.beta, b.beta, sh.p * sh.k * sizeof(double)), 0,
               "beta_hat differs between runs");
  free_problem(&a);
  free_problem(&b);
  kd_backend_close(&cuda);
}

/* Runs every shape's trials 0..2 on a backend opened with the variable `name` set to
 * `value` and on one opened without it; results must be bit for bit the same. Returns
 * the description of the first. */
static void expect_same_results_with(const char *name, const char *value, char *desc,
                                     size_t len) {
  cr_assert_eq(setenv(name, value, 1), 0);
  kd_backend a, b;
  open_backend("cuda", &a);
  unsetenv(name);
  open_backend("cuda", &b);
  a.type->describe(a.state, desc, len);
  for (size_t i = 0; i < NSHAPES; ++i)
    for (uint32_t t = 0; t < 3; ++t) {
      problem x = make_problem(shapes[i], t), y = make_problem(shapes[i], t);
      cr_assert_eq(kd_stage_run(&a, &x.st), KD_OK, "%s=%s: %s", name, value, kd_last_error());
      cr_assert_eq(kd_stage_run(&b, &y.st), KD_OK, "%s", kd_last_error());
      cr_expect_eq(memcmp(x.risk, y.risk, shapes[i].k * sizeof(double)), 0,
                   "%s=%s, %s, trial %u: the risks differ", name, value, shapes[i].what, t);
      cr_expect_eq(memcmp(x.beta, y.beta, shapes[i].p * shapes[i].k * sizeof(double)), 0,
                   "%s=%s, %s, trial %u: beta_hat differs", name, value, shapes[i].what, t);
      free_problem(&x);
      free_problem(&y);
    }
  kd_backend_close(&a);
  kd_backend_close(&b);
}

/* A shape's first stage runs directly, its later ones replay a captured graph: the
 * numbers are those of direct runs, and the capture did not fail (describe says why
 * when it does). */
Test(stage, graphs_replay_the_direct_results) {
  require_device();
  char desc[512];
  expect_same_results_with("KDBENCH_CUDA_GRAPH", "0", desc, sizeof desc);
  cr_expect(strstr(desc, "no graphs: KDBENCH_CUDA_GRAPH=0") != NULL, "describe: %s", desc);
  kd_backend cuda;
  open_backend("cuda", &cuda);
  for (uint32_t t = 0; t < 3; ++t) {
    problem pb = make_problem(shapes[0], t);
    cr_assert_eq(kd_stage_run(&cuda, &pb.st), KD_OK, "%s", kd_last_error());
    free_problem(&pb);
  }
  cuda.type->describe(cuda.state, desc, sizeof desc);
  cr_expect(strstr(desc, "a CUDA graph per shape") != NULL, "describe: %s", desc);
  kd_backend_close(&cuda);
}

/* The debug mode synchronises after every step and changes no number. */
Test(stage, sync_mode_changes_no_number) {
  require_device();
  char desc[512];
  expect_same_results_with("KDBENCH_CUDA_SYNC", "1", desc, sizeof desc);
  cr_expect(strstr(desc, "synchronised after every step") != NULL, "describe: %s", desc);
  cr_expect(strstr(desc, "no graphs: KDBENCH_CUDA_SYNC=1") != NULL, "describe: %s", desc);
}

typedef struct {
  kd_backend *cuda;
  problem *pb;
  kd_status rc;
} thread_job;

static void *run_in_thread(void *arg) {
  thread_job *job = arg;
  job->rc = kd_stage_run(job->cuda, &job->pb->st);
  return NULL;
}

/* A stage run from a thread other than the one that opened the backend (the current
 * device is per thread): the same numbers. */
Test(stage, runs_from_another_thread) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  problem here = make_problem(shapes[2], 4), there = make_problem(shapes[2], 4);
  cr_assert_eq(kd_stage_run(&cuda, &here.st), KD_OK, "%s", kd_last_error());
  thread_job job = {&cuda, &there, KD_ENUM};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, run_in_thread, &job), 0);
  cr_assert_eq(pthread_join(th, NULL), 0);
  cr_expect_eq(job.rc, KD_OK);
  cr_expect_eq(memcmp(here.risk, there.risk, shapes[2].k * sizeof(double)), 0);
  free_problem(&here);
  free_problem(&there);
  kd_backend_close(&cuda);
}

/* ---- batches ---------------------------------------------------------------------------- */

/* `count` trials of the shape run as one batch on the device and one by one on the
 * CPU: every trial's risks and fits to 1e-9, and its fallback flag the CPU's. */
static void compare_batch(kd_backend *cuda, shape sh, uint32_t count, int lambda_gap) {
  kd_backend cpu;
  open_backend("cpu", &cpu);
  problem *ref = calloc(count, sizeof *ref), *got = calloc(count, sizeof *got);
  kd_stage *stages = calloc(count, sizeof *stages);
  cr_assert(ref && got && stages);
  double *lambda = power_law(sh.p, sh.alpha);
  if (lambda_gap)
    for (size_t j = sh.p / 2; j < sh.p; ++j) lambda[j] = 1e-30;
  for (uint32_t t = 0; t < count; ++t) {
    ref[t] = make_problem(sh, t);
    got[t] = make_problem(sh, t);
    ref[t].st.lambda = got[t].st.lambda = lambda; /* one problem for the whole batch */
    stages[t] = got[t].st;
  }
  cr_assert_eq(kd_stage_run_batch(cuda, stages, count), KD_OK, "%s", kd_last_error());
  unsigned mismatched = 0;
  for (uint32_t t = 0; t < count; ++t) {
    cr_assert_eq(kd_stage_run(&cpu, &ref[t].st), KD_OK, "%s", kd_last_error());
    cr_expect_eq(stages[t].fallback, ref[t].st.fallback, "%s, trial %u: fallback %d, cpu %d",
                 sh.what, t, stages[t].fallback, ref[t].st.fallback);
    for (size_t r = 0; r < sh.k; ++r) {
      const double rel = fabs(got[t].risk[r] - ref[t].risk[r]) / ref[t].risk[r];
      const double fit = rel_diff(got[t].beta + r * sh.p, ref[t].beta + r * sh.p, sh.p);
      if (!(rel <= TOL && fit <= TOL) && mismatched++ < 5)
        cr_expect_fail("%s, trial %u, rhs %zu: risk cuda %.17g cpu %.17g, beta_hat %.2g",
                       sh.what, t, r, got[t].risk[r], ref[t].risk[r], fit);
    }
    free_problem(&ref[t]);
    free_problem(&got[t]);
  }
  cr_expect_eq(mismatched, 0, "%s: %u right-hand sides differ", sh.what, mismatched);
  free(lambda);
  free(ref);
  free(got);
  free(stages);
  kd_backend_close(&cpu);
}

Test(batch, matches_the_cpu_stage_by_stage) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  for (size_t i = 0; i < 6; ++i) compare_batch(&cuda, shapes[i], 37, 0);
  kd_backend_close(&cuda);
}

/* A stage labelled by rows (kd_row_mix) is handed to the CPU backend, alone and in a
 * batch: risks, fits and fallback flags the CPU's bit for bit. */
Test(batch, mixed_rows_are_the_cpu_stage) {
  require_device();
  kd_backend cuda, cpu;
  open_backend("cuda", &cuda);
  open_backend("cpu", &cpu);
  enum { COUNT = 5 };
  for (size_t i = 0; i < 6; ++i) {
    shape sh = shapes[i];
    sh.k = 2; /* two label columns, two right-hand sides */
    const kd_row_mix mix[2] = {{2, {sh.n / 3, sh.n - sh.n / 3}, {1, 0}}, {1, {sh.n}, {0}}};
    problem ref[COUNT], got[COUNT];
    kd_stage st[COUNT];
    for (uint32_t t = 0; t < COUNT; ++t) {
      ref[t] = make_problem(sh, t), got[t] = make_problem(sh, t);
      ref[t].st.mix = got[t].st.mix = mix;
      ref[t].st.columns = got[t].st.columns = 2;
      cr_assert_eq(kd_stage_run(&cpu, &ref[t].st), KD_OK, "%s", kd_last_error());
      st[t] = got[t].st;
    }
    cr_assert_eq(kd_stage_run(&cuda, &got[0].st), KD_OK, "%s", kd_last_error());
    cr_expect_eq(memcmp(got[0].risk, ref[0].risk, 2 * sizeof(double)), 0, "%s alone", sh.what);
    cr_assert_eq(kd_stage_run_batch(&cuda, st, COUNT), KD_OK, "%s", kd_last_error());
    for (uint32_t t = 0; t < COUNT; ++t) {
      cr_expect_eq(memcmp(got[t].risk, ref[t].risk, 2 * sizeof(double)), 0, "%s trial %u",
                   sh.what, t);
      cr_expect_eq(memcmp(got[t].beta, ref[t].beta, 2 * sh.p * sizeof(double)), 0,
                   "%s trial %u", sh.what, t);
      cr_expect_eq(st[t].fallback, ref[t].st.fallback, "%s trial %u", sh.what, t);
      free_problem(&ref[t]);
      free_problem(&got[t]);
    }
  }
  kd_backend_close(&cpu);
  kd_backend_close(&cuda);
}

/* More trials than one batch holds (KD_CUDA_BATCH_MAX): several batches, the same. */
Test(batch, split_into_several_batches) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  compare_batch(&cuda, (shape){20, 30, 2, 0, 1, "20 x 30, 5000 trials"}, 5000, 0);
  kd_backend_close(&cuda);
}

/* Trials whose factor is not trusted run again alone, taking the fallback as they
 * would have: the rank-deficient spectrum, in a batch. */
Test(batch, untrusted_trials_fall_back_alone) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  compare_batch(&cuda, (shape){12, 20, 1, 0, 0, "rank-deficient spectrum"}, 5, 1);
  unsigned long qr = 0, gelsy = 0;
  kd_cuda_fallback_counts(cuda.state, &qr, &gelsy);
  cr_expect_eq(qr + gelsy, 5, "each flagged trial took a fallback alone");
  kd_backend_close(&cuda);
}

Test(batch, refuses_stages_of_different_problems) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  problem a = make_problem(shapes[0], 0), b = make_problem(shapes[0], 1);
  b.sigma[0] = 9;
  kd_stage two[2] = {a.st, b.st};
  cr_expect_eq(kd_stage_run_batch(&cuda, two, 2), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "stage 1 of a batch") != NULL, "%s", kd_last_error());
  free_problem(&a);
  free_problem(&b);
  kd_backend_close(&cuda);
}

/* ---- limits and inputs ------------------------------------------------------------------------ */

Test(limits, oversized_stage_is_refused_in_one_line) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  shape sh = {200000, 200000, 1, 0, 0, "320 GB design"};
  problem pb = make_problem(sh, 0);
  cr_expect_eq(kd_stage_run(&cuda, &pb.st), KD_ENOMEM);
  const char *msg = kd_last_error();
  cr_expect(strstr(msg, "MiB free") != NULL && strchr(msg, '\n') == NULL, "message: %s", msg);
  /* The backend stays usable after the refusal. */
  problem small = make_problem(shapes[0], 0);
  cr_expect_eq(kd_stage_run(&cuda, &small.st), KD_OK, "%s", kd_last_error());
  free_problem(&pb);
  free_problem(&small);
  kd_backend_close(&cuda);
}

Test(limits, invalid_inputs_are_rejected) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  problem pb = make_problem(shapes[0], 0);
  pb.st.lambda = NULL;
  cr_expect_eq(kd_stage_run(&cuda, &pb.st), KD_EINVAL);
  pb.st.lambda = pb.lambda;
  pb.lambda[3] = -1;
  cr_expect_eq(kd_stage_run(&cuda, &pb.st), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "lambda[3]") != NULL, "%s", kd_last_error());
  free_problem(&pb);
  kd_backend_close(&cuda);
}

Test(limits, bad_settings_are_refused) {
  require_device();
  const char *names[] = {"KDBENCH_CUDA_SYNC", "KDBENCH_CUDA_GRAPH", "KDBENCH_CUDA_GRAM"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    kd_backend cuda;
    cr_assert_eq(setenv(names[i], "yes", 1), 0);
    kd_status rc = kd_backend_open("cuda", &cuda);
    unsetenv(names[i]);
    cr_expect_eq(rc, KD_EINVAL, "%s=yes accepted", names[i]);
    cr_expect(strstr(kd_last_error(), names[i]) != NULL, "%s", kd_last_error());
    if (rc == KD_OK) kd_backend_close(&cuda);
  }
}

Test(limits, describe_names_device_and_libraries) {
  require_device();
  kd_backend cuda;
  open_backend("cuda", &cuda);
  char desc[512];
  cuda.type->describe(cuda.state, desc, sizeof desc);
  cr_expect(strncmp(desc, "cuda: ", 6) == 0 && strstr(desc, "cuBLAS") &&
                strstr(desc, "cuSOLVER") && strstr(desc, "driver"),
            "describe: %s", desc);
  kd_backend_close(&cuda);
}

/* ---- no device needed ---------------------------------------------------------------- */

/* Runtime errors map to what they are: the user's machine (no device, driver, kernel
 * image) is KD_ENODEV, memory KD_ENOMEM, a bug (an invalid value or pitch, an illegal
 * address) KD_ENUM, never "no device". */
Test(errors, runtime_errors_map_to_their_cause) {
  cr_expect_eq(kd_cuda_error_status(cudaSuccess), KD_OK);
  cr_expect_eq(kd_cuda_error_status(cudaErrorMemoryAllocation), KD_ENOMEM);
  cr_expect_eq(kd_cuda_error_status(cudaErrorNoDevice), KD_ENODEV);
  cr_expect_eq(kd_cuda_error_status(cudaErrorInsufficientDriver), KD_ENODEV);
  cr_expect_eq(kd_cuda_error_status(cudaErrorNoKernelImageForDevice), KD_ENODEV);
  cr_expect_eq(kd_cuda_error_status(cudaErrorECCUncorrectable), KD_ENODEV);
  cr_expect_eq(kd_cuda_error_status(cudaErrorInvalidValue), KD_ENUM);
  cr_expect_eq(kd_cuda_error_status(cudaErrorInvalidPitchValue), KD_ENUM);
  cr_expect_eq(kd_cuda_error_status(cudaErrorIllegalAddress), KD_ENUM);
  cr_expect_eq(kd_cuda_error_status(cudaErrorLaunchFailure), KD_ENUM);
  cr_expect_eq(kd_cuda_error_status(cudaErrorInvalidResourceHandle), KD_ENUM);
}

#else

Test(cuda, not_built) {
  if (device_required()) cr_assert_fail("KDBENCH_REQUIRE_CUDA=1: the CUDA backend is not built");
  cr_skip_test("CUDA backend not built");
}

#endif
