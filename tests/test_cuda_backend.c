/* The CUDA backend against the CPU reference: the design generated on the device is
 * the CPU's bit for bit, and per-trial risks and fits agree to 1e-9 (relative) at
 * shapes covering p > n, n > p, ridge and ridgeless, several right-hand sides and
 * small problems, away from n = p where the Gram's conditioning would set the
 * tolerance. Also the QR fallback (forced, and on a genuinely ill-conditioned
 * design), both Gram methods, the memory check, determinism and input checks.
 *
 * Every test probes the device first and, where there is none, skips saying why. */
#include <criterion/criterion.h>

#ifdef KDBENCH_HAVE_CUDA

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/backend.h"
#include "kdbench/cuda_debug.h"

#define SEED 0x6b6462656e6368ULL /* "kdbench" */
#define TOL 1e-9

/* Skips the running test, giving the probe's reason ("no CUDA device: ..."). */
static void require_device(void) {
  if (kd_backend_cuda.probe() != KD_OK) cr_skip_test("%s", kd_last_error());
}

static double *vec(size_t len) {
  double *v = calloc(len ? len : 1, sizeof *v);
  cr_assert_not_null(v);
  return v;
}

/* lambda_j = (j+1)^-alpha (alpha = 0: isotropic). */
static double *power_law(size_t p, double alpha) {
  double *l = vec(p);
  for (size_t j = 0; j < p; ++j) l[j] = pow((double)(j + 1), -alpha);
  return l;
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
  const size_t shapes[][2] = {{1000, 3000}, {37, 5}, {2, 1}, {1, 1}, {1, 4}, {999, 7}};
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
 * Cholesky factor collapses, and both backends must flag the trial. (Their answers
 * differ there by design: dgelsy truncates the null directions, plain QR does not.) */
Test(stage, ill_conditioned_trial_falls_back) {
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
  free_problem(&ref);
  free_problem(&got);
  kd_backend_close(&cpu);
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

#else

Test(cuda, not_built) { cr_skip_test("CUDA backend not built"); }

#endif
