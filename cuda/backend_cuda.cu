/* The CUDA backend: the CPU backend's stage (host/backend_cpu.c, the reference) on one
 * GPU with cuBLAS and cuSOLVER, FP64 throughout (docs/gpu.md#device-steps).
 *
 *   p > n          kernel form   G = X X^T + n ridge I,  beta_hat = X^T G^-1 Y
 *   n >= p, ridge  primal form   G = X^T X + n ridge I,  beta_hat = G^-1 X^T Y
 *   n >= p, ridge 0  whitened    the same on Z (X = Z Lambda^1/2), theta = Lambda^1/2 beta,
 *                  so that the Gram's conditioning depends on n/p only
 *
 * A stage crosses PCIe twice: one upload of its inputs (lambda, sources, sigma, target,
 * metric) and one download of its results (k risks, beta_hat when asked, the solvers'
 * info words), followed by its only synchronisation. Between them, on one stream: X and
 * z generated in place, Y = X S + z sigma^T (DGEMM + DGER), the Gram on the small side
 * (DSYRK, or DGEMM), n ridge added to its diagonal, cusolverDnXpotrf, the conditioning
 * check on the device, cusolverDnXpotrs for all k right-hand sides at once, beta_hat =
 * X^T A when p > n, and the k risks by one fused reduction. When the check fails, the
 * stage is finished again from X and Y (which no step above overwrites) by the QR
 * fallback of qr_fallback.cu, and flagged.
 *
 * The conditioning check differs from the CPU's: instead of dpocon's 1-norm estimate it
 * uses the bound rcond(G) <= (min L_ii / max L_ii)^2, free to compute from the factor
 * (linalg_kernels.cu). The bound is optimistic, so near n = p the GPU may trust a factor
 * that the CPU sends to its fallback; away from it both trust every factor.
 *
 * Settings, read from the environment at init:
 *   KDBENCH_CUDA_GRAM=syrk|gemm   how the Gram is formed (default syrk; calibrate: DSYRK
 *                                 may run well below DGEMM speed, docs/gpu.md#flops)
 *   KDBENCH_CUDA_RCOND_MIN=x      the check's threshold (default 1e-10, the CPU's);
 *                                 any x > 1 sends every stage to the QR fallback */
#include <stdio.h>
#include <stdlib.h>

#include "kd_cuda.h"

/* The CPU's KD_CPU_RCOND_MIN: the least rcond(G) whose Cholesky solve we accept. */
#define KD_CUDA_RCOND_MIN 1e-10

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* ---- buffers ------------------------------------------------------------------------------ */

static int whitened(const kd_stage *st) { return st->ridge == 0 && st->n >= st->p; }

/* Doubles uploaded per stage: lambda, target, metric (p each), sigma (k), sources (p k). */
static size_t input_len(size_t p, size_t k) {
  return kd_add_sat(kd_add_sat(kd_mul_sat(3, p), k), kd_mul_sat(p, k));
}

static void stage_bytes(const kd_stage *st, size_t dev[KD_DEV_COUNT], size_t pin[KD_PIN_COUNT]) {
  const size_t n = st->n, p = st->p, k = st->k, m = min_sz(n, p), d = sizeof(double);
  dev[D_IN] = kd_mul_sat(input_len(p, k), d);
  dev[D_SCALE] = p * d;
  dev[D_SRC] = whitened(st) ? kd_mul_sat(kd_mul_sat(p, k), d) : 0;
  dev[D_X] = kd_mul_sat(kd_mul_sat(n, p), d);
  dev[D_NOISE] = n * d;
  dev[D_Y] = kd_mul_sat(kd_mul_sat(n, k), d);
  dev[D_A] = p > n ? dev[D_Y] : 0;
  dev[D_G] = kd_mul_sat(kd_mul_sat(m, m), d);
  dev[D_B] = kd_mul_sat(kd_mul_sat(p, k), d);
  dev[D_RISK] = k * d;
  dev[D_INFO] = KD_INFO_COUNT * sizeof(int);
  pin[H_IN] = dev[D_IN];
  pin[H_OUT] = kd_add_sat(dev[D_RISK], dev[D_B]);
  pin[H_INFO] = dev[D_INFO];
}

/* Every buffer of the Cholesky path, cusolverDnXpotrf's workspaces included (queried
 * again only when the order m changes). */
static kd_status reserve_stage(kd_cuda_state *s, const kd_stage *st) {
  size_t dev[KD_DEV_COUNT] = {0}, pin[KD_PIN_COUNT] = {0};
  stage_bytes(st, dev, pin);
  KD_TRY(kd_cuda_reserve_dev(s, dev, st));
  KD_TRY(kd_cuda_reserve_pin(s, pin));
  const int64_t m = (int64_t)min_sz(st->n, st->p);
  if (s->potrf_m != m) {
    KD_CUSOLVER(cusolverDnXpotrf_bufferSize(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, m,
                                            CUDA_R_64F, kd_dev(s, D_G), m, CUDA_R_64F,
                                            &s->potrf_dev_bytes, &s->potrf_host_bytes));
    s->potrf_m = m;
  }
  size_t work[KD_DEV_COUNT] = {0};
  work[D_POTRF] = s->potrf_dev_bytes;
  KD_TRY(kd_cuda_reserve_dev(s, work, st));
  return kd_cuda_reserve_host(s, s->potrf_host_bytes);
}

/* ---- the stage, step by step --------------------------------------------------------------- */

/* Device views of the uploaded inputs. */
typedef struct {
  const double *lambda, *target, *metric, *sigma, *sources;
} kd_inputs;

static kd_status upload(kd_cuda_state *s, const kd_stage *st, kd_inputs *in) {
  const size_t p = st->p, k = st->k, d = sizeof(double);
  double *h = (double *)s->pin[H_IN].ptr, *dv = kd_dev(s, D_IN);
  memcpy(h, st->lambda, p * d);
  memcpy(h + p, st->target, p * d);
  memcpy(h + 2 * p, st->metric ? st->metric : st->lambda, p * d);
  memcpy(h + 3 * p, st->sigma, k * d);
  memcpy(h + 3 * p + k, st->sources, p * k * d);
  KD_CUDA(cudaMemcpyAsync(dv, h, input_len(p, k) * d, cudaMemcpyHostToDevice, s->stream));
  *in = kd_inputs{dv, dv + p, dv + 2 * p, dv + 3 * p, dv + 3 * p + k};
  return KD_OK;
}

/* X (Z when whitened) and z from their streams; Y = X S + z sigma^T, which on the
 * whitened path is Z (sqrt(lambda) .* S) + z sigma^T: the same labels. */
static kd_status draw(kd_cuda_state *s, const kd_stage *st, const kd_inputs *in) {
  const int64_t n = (int64_t)st->n, p = (int64_t)st->p, k = (int64_t)st->k;
  double *scale = kd_dev(s, D_SCALE), *x = kd_dev(s, D_X), *z = kd_dev(s, D_NOISE);
  const double *src = in->sources;
  KD_TRY(kd_cuda_sqrt(s->stream, in->lambda, scale, st->p));
  if (whitened(st)) {
    KD_TRY(kd_cuda_scale_rows(s->stream, scale, 0, in->sources, kd_dev(s, D_SRC), st->p, st->k));
    src = kd_dev(s, D_SRC);
  }
  KD_TRY(kd_cuda_fill_normal(s->stream, st->design, st->n, st->p,
                             whitened(st) ? NULL : scale, x, st->n));
  KD_TRY(kd_cuda_fill_normal(s->stream, st->noise, st->n, 1, NULL, z, st->n));
  const double one = 1.0, zero = 0.0;
  double *y = kd_dev(s, D_Y);
  KD_CUBLAS(cublasDgemm_64(s->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, k, p, &one, x, n, src, p,
                           &zero, y, n));
  KD_CUBLAS(cublasDger_64(s->blas, n, k, &one, z, 1, in->sigma, 1, y, n));
  return KD_OK;
}

/* Lower triangle of G = X X^T (p > n) or X^T X (n >= p), plus n ridge on the diagonal.
 * DGEMM fills both triangles; only the lower one is read. */
static kd_status form_gram(kd_cuda_state *s, const kd_stage *st) {
  const int kernel = st->p > st->n;
  const int64_t n = (int64_t)st->n, m = (int64_t)min_sz(st->n, st->p);
  const int64_t depth = kernel ? (int64_t)st->p : n;
  const cublasOperation_t op = kernel ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op2 = kernel ? CUBLAS_OP_T : CUBLAS_OP_N;
  const double one = 1.0, zero = 0.0, *x = kd_dev(s, D_X);
  double *g = kd_dev(s, D_G);
  if (s->gram == KD_GRAM_SYRK)
    KD_CUBLAS(cublasDsyrk_64(s->blas, CUBLAS_FILL_MODE_LOWER, op, m, depth, &one, x, n, &zero,
                             g, m));
  else
    KD_CUBLAS(cublasDgemm_64(s->blas, op, op2, m, m, depth, &one, x, n, x, n, &zero, g, m));
  const double shift = (double)st->n * st->ridge;
  if (shift != 0) KD_TRY(kd_cuda_add_diagonal(s->stream, g, (size_t)m, shift));
  return KD_OK;
}

/* Cholesky of G in place, then the conditioning check into the trust flag. */
static kd_status factor(kd_cuda_state *s, const kd_stage *st) {
  const int64_t m = (int64_t)min_sz(st->n, st->p);
  double *g = kd_dev(s, D_G);
  KD_CUSOLVER(cusolverDnXpotrf(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, m, CUDA_R_64F, g,
                               m, CUDA_R_64F, s->dev[D_POTRF].ptr, s->potrf_dev_bytes,
                               s->host.ptr, s->potrf_host_bytes,
                               kd_dev_info(s, KD_INFO_POTRF)));
  return kd_cuda_check_cholesky(s->stream, g, (size_t)m, kd_dev_info(s, KD_INFO_POTRF),
                                s->rcond_min, kd_dev_info(s, KD_INFO_TRUSTED));
}

/* D_B = beta_hat (theta_hat when whitened) from the factor, all RHS at once. It runs
 * whether or not the factor was trusted (the verdict stays on the device); Y and X
 * survive it for the fallback. */
static kd_status solve_cholesky(kd_cuda_state *s, const kd_stage *st) {
  const int64_t n = (int64_t)st->n, p = (int64_t)st->p, k = (int64_t)st->k;
  const double one = 1.0, zero = 0.0, *x = kd_dev(s, D_X), *y = kd_dev(s, D_Y);
  double *g = kd_dev(s, D_G), *b = kd_dev(s, D_B);
  if (p > n) { /* A = G^-1 Y on a copy of Y, then beta_hat = X^T A */
    double *a = kd_dev(s, D_A);
    KD_CUDA(cudaMemcpyAsync(a, y, st->n * st->k * sizeof(double), cudaMemcpyDeviceToDevice,
                            s->stream));
    KD_CUSOLVER(cusolverDnXpotrs(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, n, k,
                                 CUDA_R_64F, g, n, CUDA_R_64F, a, n,
                                 kd_dev_info(s, KD_INFO_POTRS)));
    KD_CUBLAS(cublasDgemm_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, p, k, n, &one, x, n, a, n,
                             &zero, b, p));
  } else { /* C = X^T Y, then beta_hat = G^-1 C in place */
    KD_CUBLAS(cublasDgemm_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, p, k, n, &one, x, n, y, n,
                             &zero, b, p));
    KD_CUSOLVER(cusolverDnXpotrs(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, p, k,
                                 CUDA_R_64F, g, p, CUDA_R_64F, b, p,
                                 kd_dev_info(s, KD_INFO_POTRS)));
  }
  return KD_OK;
}

/* theta_hat -> beta_hat when whitened, the risks, and the stage's one download and
 * synchronisation: risks and beta_hat into the stage, the info words into `info`. */
static kd_status score_and_fetch(kd_cuda_state *s, kd_stage *st, const kd_inputs *in,
                                 int info[KD_INFO_COUNT]) {
  const size_t p = st->p, k = st->k, d = sizeof(double);
  double *b = kd_dev(s, D_B), *out = (double *)s->pin[H_OUT].ptr;
  if (whitened(st)) KD_TRY(kd_cuda_scale_rows(s->stream, kd_dev(s, D_SCALE), 1, b, b, p, k));
  KD_TRY(kd_cuda_risk(s->stream, b, p, k, in->target, in->metric, kd_dev(s, D_RISK)));
  KD_CUDA(cudaMemcpyAsync(out, kd_dev(s, D_RISK), k * d, cudaMemcpyDeviceToHost, s->stream));
  if (st->beta_hat)
    KD_CUDA(cudaMemcpyAsync(out + k, b, p * k * d, cudaMemcpyDeviceToHost, s->stream));
  KD_CUDA(cudaMemcpyAsync(s->pin[H_INFO].ptr, s->dev[D_INFO].ptr, KD_INFO_COUNT * sizeof(int),
                          cudaMemcpyDeviceToHost, s->stream));
  KD_CUDA(cudaStreamSynchronize(s->stream));
  memcpy(st->risk, out, k * d);
  if (st->beta_hat) memcpy(st->beta_hat, out + k, p * k * d);
  memcpy(info, s->pin[H_INFO].ptr, KD_INFO_COUNT * sizeof(int));
  return KD_OK;
}

/* A negative info word: the solver rejected an argument (a bug, not bad data). */
static kd_status check_info(const int info[KD_INFO_COUNT], kd_info_id word, const char *call) {
  if (info[word] >= 0) return KD_OK;
  return kd_fail(KD_ENUM, "cuda backend: %s argument %d is invalid", call, -info[word]);
}

static kd_status run(kd_cuda_state *s, kd_stage *st) {
  KD_TRY(reserve_stage(s, st));
  kd_inputs in;
  int info[KD_INFO_COUNT];
  KD_TRY(upload(s, st, &in));
  KD_CUDA(cudaMemsetAsync(s->dev[D_INFO].ptr, 0, KD_INFO_COUNT * sizeof(int), s->stream));
  KD_TRY(draw(s, st, &in));
  KD_TRY(form_gram(s, st));
  KD_TRY(factor(s, st));
  KD_TRY(solve_cholesky(s, st));
  KD_TRY(score_and_fetch(s, st, &in, info));
  KD_TRY(check_info(info, KD_INFO_POTRF, "cusolverDnXpotrf"));
  KD_TRY(check_info(info, KD_INFO_POTRS, "cusolverDnXpotrs"));
  if (info[KD_INFO_TRUSTED]) return KD_OK;
  KD_TRY(kd_cuda_solve_qr(s, st));
  KD_TRY(score_and_fetch(s, st, &in, info));
  KD_TRY(check_info(info, KD_INFO_GEQRF, "cusolverDnXgeqrf"));
  KD_TRY(check_info(info, KD_INFO_ORMQR, "cusolverDnDormqr"));
  st->fallback = 1;
  return KD_OK;
}

static kd_status cuda_run_stage(void *state, kd_stage *st) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  KD_TRY(kd_stage_validate(st));
  st->fallback = 0;
  kd_status rc = run(s, st);
  /* A failure may leave copies from the staging buffers in flight: let them land
   * before the next stage refills those buffers. */
  if (rc != KD_OK) cudaStreamSynchronize(s->stream);
  return rc;
}

/* ---- the descriptor ------------------------------------------------------------------------- */

/* KDBENCH_CUDA_DEVICE (kdbench --device K): the device of this process, numbered
 * among those CUDA_VISIBLE_DEVICES leaves visible; unset: the current one (0). */
static kd_status select_device(int count) {
  const char *dev = getenv("KDBENCH_CUDA_DEVICE");
  if (!dev || !*dev) return KD_OK;
  char *end = NULL;
  long k = strtol(dev, &end, 10);
  if (*end || k < 0) return kd_fail(KD_EINVAL, "KDBENCH_CUDA_DEVICE = '%s': expected a device number", dev);
  if (k >= count)
    return kd_fail(KD_ENODEV, "--device %ld: only %d CUDA device(s) visible (CUDA_VISIBLE_DEVICES = %s)",
                   k, count, getenv("CUDA_VISIBLE_DEVICES") ? getenv("CUDA_VISIBLE_DEVICES") : "unset");
  cudaError_t e = cudaSetDevice((int)k);
  if (e != cudaSuccess) return kd_fail(KD_ENODEV, "--device %ld: %s", k, cudaGetErrorString(e));
  return KD_OK;
}

static kd_status cuda_probe(void) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return kd_fail(KD_ENODEV, "no CUDA device: %s", cudaGetErrorString(e));
  if (count == 0) return kd_fail(KD_ENODEV, "no CUDA device: the driver reports none");
  KD_TRY(select_device(count));
  return kd_cuda_kernels_usable();
}

static kd_status read_settings(kd_cuda_state *s) {
  const char *gram = getenv("KDBENCH_CUDA_GRAM");
  s->gram = KD_GRAM_SYRK;
  if (gram && *gram && strcmp(gram, "syrk") != 0) {
    if (strcmp(gram, "gemm") != 0)
      return kd_fail(KD_EINVAL, "KDBENCH_CUDA_GRAM = '%s': expected syrk or gemm", gram);
    s->gram = KD_GRAM_GEMM;
  }
  const char *rcond = getenv("KDBENCH_CUDA_RCOND_MIN");
  s->rcond_min = KD_CUDA_RCOND_MIN;
  if (rcond && *rcond) {
    char *end = NULL;
    double v = strtod(rcond, &end);
    if (*end || !(v >= 0 && isfinite(v)))
      return kd_fail(KD_EINVAL, "KDBENCH_CUDA_RCOND_MIN = '%s': expected a non-negative number",
                     rcond);
    s->rcond_min = v;
  }
  return KD_OK;
}

static kd_status setup(kd_cuda_state *s) {
  KD_TRY(read_settings(s));
  int count = 0;
  KD_CUDA(cudaGetDeviceCount(&count));
  KD_TRY(select_device(count));
  KD_CUDA(cudaGetDevice(&s->device));
  KD_CUDA(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
  KD_CUBLAS(cublasCreate(&s->blas));
  KD_CUBLAS(cublasSetStream(s->blas, s->stream));
  KD_CUSOLVER(cusolverDnCreate(&s->solver));
  KD_CUSOLVER(cusolverDnSetStream(s->solver, s->stream));
  KD_CUSOLVER(cusolverDnCreateParams(&s->params));
  return KD_OK;
}

/* Tears down whatever exists (the state starts zeroed, so a partial setup is fine),
 * carrying on past failures. */
static void cuda_release(void *state) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  if (s->stream) cudaStreamSynchronize(s->stream);
  kd_cuda_free_buffers(s);
  if (s->params) cusolverDnDestroyParams(s->params);
  if (s->solver) cusolverDnDestroy(s->solver);
  if (s->blas) cublasDestroy(s->blas);
  if (s->stream) cudaStreamDestroy(s->stream);
  s->params = NULL;
  s->solver = NULL;
  s->blas = NULL;
  s->stream = NULL;
  s->potrf_m = 0;
}

static kd_status cuda_init(void *state) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  kd_status rc = setup(s);
  if (rc != KD_OK) cuda_release(s);
  return rc;
}

/* Device and library versions, for both the one-line description and the facts. */
typedef struct {
  cudaDeviceProp prop;
  int driver, runtime, blas[3], solver[3];
} cuda_versions;

static void query_versions(const kd_cuda_state *s, cuda_versions *v) {
  memset(v, 0, sizeof *v);
  cudaDriverGetVersion(&v->driver);
  cudaRuntimeGetVersion(&v->runtime);
  cublasGetProperty(MAJOR_VERSION, &v->blas[0]);
  cublasGetProperty(MINOR_VERSION, &v->blas[1]);
  cublasGetProperty(PATCH_LEVEL, &v->blas[2]);
  cusolverGetProperty(MAJOR_VERSION, &v->solver[0]);
  cusolverGetProperty(MINOR_VERSION, &v->solver[1]);
  cusolverGetProperty(PATCH_LEVEL, &v->solver[2]);
  if (cudaGetDeviceProperties(&v->prop, s->device) != cudaSuccess) {
    memset(&v->prop, 0, sizeof v->prop);
    snprintf(v->prop.name, sizeof v->prop.name, "device %d", s->device);
  }
}

static void cuda_describe(void *state, char *buf, size_t len) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  cuda_versions v;
  query_versions(s, &v);
  snprintf(buf, len,
           "cuda: %s (sm_%d%d, %d SMs, %.1f GiB), driver %d.%d, runtime %d.%d, "
           "cuBLAS %d.%d.%d, cuSOLVER %d.%d.%d, Gram by %s, rcond_min %g",
           v.prop.name, v.prop.major, v.prop.minor, v.prop.multiProcessorCount,
           (double)v.prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), v.driver / 1000,
           v.driver % 1000 / 10, v.runtime / 1000, v.runtime % 1000 / 10, v.blas[0], v.blas[1],
           v.blas[2], v.solver[0], v.solver[1], v.solver[2],
           s->gram == KD_GRAM_SYRK ? "DSYRK" : "DGEMM", s->rcond_min);
}

/* The metadata's backend.cuda object, as key=value lines. */
static void cuda_facts(void *state, char *buf, size_t len) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  cuda_versions v;
  query_versions(s, &v);
  snprintf(buf, len,
           "device=%s\ncompute_capability=%d.%d\ndriver=%d.%d\nruntime=%d.%d\n"
           "cublas=%d.%d.%d\ncusolver=%d.%d.%d\ngram=%s\n",
           v.prop.name, v.prop.major, v.prop.minor, v.driver / 1000, v.driver % 1000 / 10,
           v.runtime / 1000, v.runtime % 1000 / 10, v.blas[0], v.blas[1], v.blas[2], v.solver[0],
           v.solver[1], v.solver[2], s->gram == KD_GRAM_SYRK ? "DSYRK" : "DGEMM");
}

extern "C" const kd_backend_type kd_backend_cuda = {
    "cuda",                /* name */
    sizeof(kd_cuda_state), /* state_size */
    cuda_probe,
    cuda_init,
    cuda_release,
    cuda_run_stage,
    cuda_describe,
    cuda_facts,
};
