/* The CUDA backend: the CPU backend's stage (host/sim/backend_cpu.c, the reference) on one
 * GPU with cuBLAS and cuSOLVER, FP64 throughout (docs/gpu.md#device-steps).
 *
 *   p > n          kernel form   G = X X^T + n ridge I,  beta_hat = X^T G^-1 Y
 *   n >= p, ridge  primal form   G = X^T X + n ridge I,  beta_hat = G^-1 X^T Y
 *   n >= p, ridge 0  whitened    the same on Z (X = Z Lambda^1/2), theta = Lambda^1/2 beta,
 *                  so that the Gram's conditioning depends on n/p only
 *
 * Every buffer of a stage, the QR fallback's and the libraries' workspaces included, is
 * reserved before the stage starts (the memory plan, include/kdbench/cuda_plan.h), so
 * that a stage that does not fit is refused up front. A stage then crosses PCIe twice:
 * one upload of its inputs (the two stream addresses, lambda, target, metric, sigma,
 * sources) and one download of its results (the info words, the conditioning
 * estimate, the k risks, and beta_hat when asked, one block), followed by its only
 * synchronisation. Between them, on one stream: X and z generated in place, Y = X S +
 * z sigma^T (DGEMM + DGER), the Gram on the small side (DSYRK, or DGEMM), n ridge added
 * to its diagonal, its 1-norm's column sums, cusolverDnXpotrf, dpocon's estimate of
 * rcond(G) on the device (cond_kernels.cu), cusolverDnXpotrs for all k right-hand sides
 * at once, beta_hat = X^T A when p > n, and the k risks by one fused reduction. That
 * sequence is captured as a CUDA graph per shape and replayed (graph.cu).
 *
 * When the estimate is below the threshold, the stage is finished again from X and Y
 * (which no step above overwrites) by the QR fallback of qr_fallback.cu, and flagged;
 * when the fallback's R is numerically singular by dtrcon's estimate, the stage goes
 * to the CPU backend's dgelsy, as it would on the CPU: the same decisions, in the same
 * order, on the same numbers up to rounding.
 *
 * Settings, read from the environment at init:
 *   KDBENCH_CUDA_GRAM=syrk|gemm   how the Gram is formed (default syrk; calibrate: DSYRK
 *                                 may run well below DGEMM speed, docs/gpu.md#flops)
 *   KDBENCH_CUDA_RCOND_MIN=x      the check's threshold (default 1e-10, the CPU's);
 *                                 any x > 1 sends every stage to the QR fallback
 *   KDBENCH_CUDA_GRAPH=0|1        capture each shape's stage as a CUDA graph (default 1)
 *   KDBENCH_CUDA_SYNC=1           debug mode: synchronise and check after every step
 *                                 (errors.cu), so that a fault names its own step;
 *                                 graphs are off in this mode */
#include <stdio.h>
#include <stdlib.h>

#include "kd_cuda.h"

extern "C" {
#include "kdbench/cond_est.h"
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static int whitened(const kd_stage *st) { return st->ridge == 0 && st->n >= st->p; }

/* ---- buffers ------------------------------------------------------------------------------ */

/* The library workspaces of st's shape, queried on the plan's data buffers (which
 * kd_cuda_reserve_stage has already grown) when the shape differs from the last one's. */
static kd_status query_workspaces(kd_cuda_state *s, const kd_stage *st) {
  if (s->lib_n == st->n && s->lib_p == st->p && s->lib_k == st->k &&
      (s->lib_ridge > 0) == (st->ridge > 0))
    return KD_OK;
  const kd_cuda_qr_shape q = kd_cuda_qr_shape_of(st->n, st->p, st->ridge);
  const int64_t m = (int64_t)q.m, rows = (int64_t)q.rows, k = (int64_t)st->k;
  KD_CUSOLVER(cusolverDnXpotrf_bufferSize(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, m,
                                          CUDA_R_64F, kd_dev(s, D_G), m, CUDA_R_64F,
                                          &s->lib.potrf, &s->lib.potrf_host));
  double *a = q.in_place ? kd_dev(s, D_X) : kd_dev(s, D_QR);
  size_t geqrf_dev = 0;
  int ormqr_lwork = 0;
  KD_CUSOLVER(cusolverDnXgeqrf_bufferSize(s->solver, s->params, rows, m, CUDA_R_64F, a, rows,
                                          CUDA_R_64F, kd_dev(s, D_TAU), CUDA_R_64F, &geqrf_dev,
                                          &s->lib.qr_host));
  KD_CUSOLVER(cusolverDnDormqr_bufferSize(s->solver, CUBLAS_SIDE_LEFT,
                                          q.kernel ? CUBLAS_OP_N : CUBLAS_OP_T, (int)rows, (int)k,
                                          (int)m, a, (int)rows, kd_dev(s, D_TAU),
                                          kd_dev(s, D_RHS), (int)rows, &ormqr_lwork));
  const size_t ormqr_bytes = (size_t)ormqr_lwork * sizeof(double);
  s->lib.qr = ormqr_bytes > geqrf_dev ? ormqr_bytes : geqrf_dev;
  s->lib_n = st->n;
  s->lib_p = st->p;
  s->lib_k = st->k;
  s->lib_ridge = st->ridge;
  return KD_OK;
}

/* Every buffer of the stage, the fallback's included: the data first (the library
 * queries take their pointers), then the workspaces. Both checks come before any step,
 * so a stage that cannot fit is refused before it starts. */
kd_status kd_cuda_reserve_stage(kd_cuda_state *s, const kd_stage *st) {
  kd_cuda_plan plan;
  kd_cuda_plan_stage(st->n, st->p, st->k, st->ridge, NULL, &plan);
  KD_TRY(kd_cuda_reserve_dev(s, plan.dev, st));
  KD_TRY(kd_cuda_reserve_pin(s, plan.pin));
  KD_TRY(query_workspaces(s, st));
  kd_cuda_plan_stage(st->n, st->p, st->k, st->ridge, &s->lib, &plan);
  KD_TRY(kd_cuda_reserve_dev(s, plan.dev, st));
  return kd_cuda_reserve_host(s, plan.host);
}

/* ---- the stage, step by step --------------------------------------------------------------- */

/* Device views of the uploaded inputs. */
typedef struct {
  const kd_rng_addr *design, *noise;
  const double *lambda, *target, *metric, *sigma, *sources;
} kd_inputs;

static kd_inputs inputs(kd_cuda_state *s, const kd_stage *st) {
  const kd_cuda_in_layout l = kd_cuda_in_layout_of(st->p, st->k);
  const char *d = (const char *)s->dev[D_IN].ptr;
  return kd_inputs{(const kd_rng_addr *)(d + l.design), (const kd_rng_addr *)(d + l.noise),
                   (const double *)(d + l.lambda), (const double *)(d + l.target),
                   (const double *)(d + l.metric), (const double *)(d + l.sigma),
                   (const double *)(d + l.sources)};
}

/* The page-locked staging of the inputs, before the stage's launch. */
static void stage_inputs(kd_cuda_state *s, const kd_stage *st) {
  const size_t p = st->p, k = st->k, d = sizeof(double);
  const kd_cuda_in_layout l = kd_cuda_in_layout_of(p, k);
  char *h = (char *)s->pin[H_IN].ptr;
  memcpy(h + l.design, &st->design, sizeof st->design);
  memcpy(h + l.noise, &st->noise, sizeof st->noise);
  memcpy(h + l.lambda, st->lambda, p * d);
  memcpy(h + l.target, st->target, p * d);
  memcpy(h + l.metric, st->metric ? st->metric : st->lambda, p * d);
  memcpy(h + l.sigma, st->sigma, k * d);
  memcpy(h + l.sources, st->sources, p * k * d);
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
  KD_TRY(kd_cuda_fill_normal(s->stream, in->design, st->n, st->p,
                             whitened(st) ? NULL : scale, x, st->n));
  KD_TRY(kd_cuda_fill_normal(s->stream, in->noise, st->n, 1, NULL, z, st->n));
  const double one = 1.0, zero = 0.0;
  double *y = kd_dev(s, D_Y);
  KD_CUBLAS(cublasDgemm_64(s->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, k, p, &one, x, n, src, p,
                           &zero, y, n));
  KD_CUBLAS(cublasDger_64(s->blas, n, k, &one, z, 1, in->sigma, 1, y, n));
  return KD_OK;
}

/* Lower triangle of G = X X^T (p > n) or X^T X (n >= p), plus n ridge on the diagonal,
 * and the column sums of |G| for its 1-norm (taken before the factorisation overwrites
 * it, as dpocon's caller does). DGEMM fills both triangles; only the lower one is read. */
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
  return kd_cuda_col_abs_sums(s->stream, g, (size_t)m, (size_t)m, 0, kd_dev(s, D_EST_S));
}

/* Cholesky of G in place, then the conditioning estimate and the trust flag. */
static kd_status factor(kd_cuda_state *s, const kd_stage *st) {
  const int64_t m = (int64_t)min_sz(st->n, st->p);
  double *g = kd_dev(s, D_G);
  KD_CUSOLVER(cusolverDnXpotrf(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, m, CUDA_R_64F, g,
                               m, CUDA_R_64F, s->dev[D_POTRF].ptr, s->lib.potrf, s->host.ptr,
                               s->lib.potrf_host, kd_out_info(s, KD_INFO_POTRF)));
  return kd_cuda_check_cholesky(s, (size_t)m, s->rcond_min);
}

/* beta_hat (theta_hat when whitened) into D_OUT from the factor, all RHS at once. It
 * runs whether or not the factor was trusted (the verdict stays on the device); Y and
 * X survive it for the fallback. */
static kd_status solve_cholesky(kd_cuda_state *s, const kd_stage *st) {
  const int64_t n = (int64_t)st->n, p = (int64_t)st->p, k = (int64_t)st->k;
  const double one = 1.0, zero = 0.0, *x = kd_dev(s, D_X), *y = kd_dev(s, D_Y);
  double *g = kd_dev(s, D_G), *b = kd_out_beta(s, st);
  if (p > n) { /* A = G^-1 Y on a copy of Y, then beta_hat = X^T A */
    double *a = kd_dev(s, D_A);
    KD_CUDA(cudaMemcpyAsync(a, y, st->n * st->k * sizeof(double), cudaMemcpyDeviceToDevice,
                            s->stream));
    KD_CUSOLVER(cusolverDnXpotrs(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, n, k,
                                 CUDA_R_64F, g, n, CUDA_R_64F, a, n,
                                 kd_out_info(s, KD_INFO_POTRS)));
    KD_CUBLAS(cublasDgemm_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, p, k, n, &one, x, n, a, n,
                             &zero, b, p));
  } else { /* C = X^T Y, then beta_hat = G^-1 C in place */
    KD_CUBLAS(cublasDgemm_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, p, k, n, &one, x, n, y, n,
                             &zero, b, p));
    KD_CUSOLVER(cusolverDnXpotrs(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, p, k,
                                 CUDA_R_64F, g, p, CUDA_R_64F, b, p,
                                 kd_out_info(s, KD_INFO_POTRS)));
  }
  return KD_OK;
}

/* theta_hat -> beta_hat when whitened, the risks, and the stage's one download of
 * D_OUT (beta_hat included only when the stage asks for it). */
static kd_status score_and_download(kd_cuda_state *s, const kd_stage *st) {
  const kd_inputs in = inputs(s, st);
  const kd_cuda_out_layout l = kd_cuda_out_layout_of(st->p, st->k);
  double *b = kd_out_beta(s, st);
  if (whitened(st))
    KD_TRY(kd_cuda_scale_rows(s->stream, kd_dev(s, D_SCALE), 1, b, b, st->p, st->k));
  KD_TRY(kd_cuda_risk(s->stream, b, st->p, st->k, in.target, in.metric, kd_out_risk(s, st)));
  KD_CUDA(cudaMemcpyAsync(s->pin[H_OUT].ptr, s->dev[D_OUT].ptr, st->beta_hat ? l.bytes : l.beta,
                          cudaMemcpyDeviceToHost, s->stream));
  return KD_OK;
}

/* The whole Cholesky path, upload to download: what a graph captures. */
static kd_status enqueue_stage(kd_cuda_state *s, const kd_stage *st) {
  const kd_cuda_out_layout l = kd_cuda_out_layout_of(st->p, st->k);
  const kd_inputs in = inputs(s, st);
  KD_CUDA(cudaMemcpyAsync(s->dev[D_IN].ptr, s->pin[H_IN].ptr,
                          kd_cuda_in_layout_of(st->p, st->k).bytes, cudaMemcpyHostToDevice,
                          s->stream));
  KD_CUDA(cudaMemsetAsync(s->dev[D_OUT].ptr, 0, l.rcond, s->stream)); /* the info words */
  KD_TRY(draw(s, st, &in));
  KD_TRY(form_gram(s, st));
  KD_TRY(factor(s, st));
  KD_TRY(solve_cholesky(s, st));
  return score_and_download(s, st);
}

/* The results of the last download, from the staging buffer. */
static void read_results(kd_cuda_state *s, kd_stage *st, int info[KD_INFO_COUNT]) {
  const kd_cuda_out_layout l = kd_cuda_out_layout_of(st->p, st->k);
  const char *h = (const char *)s->pin[H_OUT].ptr;
  memcpy(info, h + l.info, KD_INFO_COUNT * sizeof(int));
  memcpy(&s->last_rcond, h + l.rcond, sizeof(double));
  memcpy(st->risk, h + l.risk, st->k * sizeof(double));
  if (st->beta_hat) memcpy(st->beta_hat, h + l.beta, st->p * st->k * sizeof(double));
}

/* A negative info word: the solver rejected an argument (a bug, not bad data). */
static kd_status check_info(const int info[KD_INFO_COUNT], kd_info_id word, const char *call) {
  if (info[word] >= 0) return KD_OK;
  return kd_fail(KD_ENUM, "cuda backend: %s argument %d is invalid", call, -info[word]);
}

/* The fallback: QR on the device, or the CPU's dgelsy when R is singular. */
static kd_status fall_back(kd_cuda_state *s, kd_stage *st) {
  int singular = 0;
  KD_TRY(kd_cuda_solve_qr(s, st, &singular));
  if (singular) {
    if (!s->cpu.type) KD_TRY(kd_backend_open("cpu", &s->cpu));
    KD_TRY(kd_cpu_stage_gelsy(s->cpu.state, st));
    ++s->gelsy_solves;
    return KD_OK;
  }
  int info[KD_INFO_COUNT];
  KD_TRY(score_and_download(s, st));
  KD_CUDA(cudaStreamSynchronize(s->stream));
  read_results(s, st, info); /* the rcond read is the Cholesky one's, left in place */
  KD_TRY(check_info(info, KD_INFO_GEQRF, "cusolverDnXgeqrf"));
  KD_TRY(check_info(info, KD_INFO_ORMQR, "cusolverDnDormqr"));
  st->fallback = 1;
  ++s->qr_solves;
  return KD_OK;
}

static kd_status run(kd_cuda_state *s, kd_stage *st) {
  KD_TRY(kd_cuda_reserve_stage(s, st));
  stage_inputs(s, st);
  KD_TRY(kd_cuda_launch(s, st, enqueue_stage));
  KD_CUDA(cudaStreamSynchronize(s->stream));
  int info[KD_INFO_COUNT];
  read_results(s, st, info);
  KD_TRY(check_info(info, KD_INFO_POTRF, "cusolverDnXpotrf"));
  KD_TRY(check_info(info, KD_INFO_POTRS, "cusolverDnXpotrs"));
  KD_TRY(check_info(info, KD_INFO_EST, "cusolverDnXpotrs (the condition estimate)"));
  return info[KD_INFO_TRUSTED] ? KD_OK : fall_back(s, st);
}

kd_status kd_cuda_run_one(kd_cuda_state *s, kd_stage *st) {
  KD_TRY(kd_stage_validate(st));
  if (st->mix || st->sgd) { /* labels mixed by rows, or an SGD stage: the CPU backend's
                             * stage, bit for bit (docs/gpu.md#mixed-rows, #sgd) */
    if (!s->cpu.type) KD_TRY(kd_backend_open("cpu", &s->cpu));
    return kd_stage_run(&s->cpu, st);
  }
  st->fallback = 0;
  /* The current device belongs to the calling host thread, which need not be the
   * one that ran init. */
  KD_CUDA(cudaSetDevice(s->device));
  kd_status rc = run(s, st);
  /* A failure may leave copies from the staging buffers in flight: let them land
   * before the next stage refills those buffers. */
  if (rc != KD_OK) cudaStreamSynchronize(s->stream);
  return rc;
}

static kd_status cuda_run_stage(void *state, kd_stage *st) {
  return kd_cuda_run_one((kd_cuda_state *)state, st);
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
  s->rcond_min = KD_RCOND_MIN;
  if (rcond && *rcond) {
    char *end = NULL;
    double v = strtod(rcond, &end);
    if (*end || !(v >= 0 && isfinite(v)))
      return kd_fail(KD_EINVAL, "KDBENCH_CUDA_RCOND_MIN = '%s': expected a non-negative number",
                     rcond);
    s->rcond_min = v;
  }
  const char *sync = getenv("KDBENCH_CUDA_SYNC");
  if (sync && *sync && strcmp(sync, "0") != 0 && strcmp(sync, "1") != 0)
    return kd_fail(KD_EINVAL, "KDBENCH_CUDA_SYNC = '%s': expected 0 or 1", sync);
  kd_cuda_set_sync(sync && strcmp(sync, "1") == 0);
  const char *graph = getenv("KDBENCH_CUDA_GRAPH");
  if (graph && *graph && strcmp(graph, "0") != 0 && strcmp(graph, "1") != 0)
    return kd_fail(KD_EINVAL, "KDBENCH_CUDA_GRAPH = '%s': expected 0 or 1", graph);
  s->use_graphs = !(graph && strcmp(graph, "0") == 0);
  if (!s->use_graphs) snprintf(s->graph_off, sizeof s->graph_off, "KDBENCH_CUDA_GRAPH=0");
  if (kd_cuda_sync_on() && s->use_graphs) { /* a synchronisation cannot be captured */
    s->use_graphs = 0;
    snprintf(s->graph_off, sizeof s->graph_off, "KDBENCH_CUDA_SYNC=1");
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
  /* Our own cuBLAS workspace, so that the memory plan counts it; set after the stream,
   * which resets it. */
  size_t blas[KD_DEV_COUNT] = {0};
  blas[D_BLAS] = s->lib.blas = KD_CUDA_BLAS_WORKSPACE;
  KD_TRY(kd_cuda_reserve_dev(s, blas, NULL));
  KD_CUBLAS(cublasSetWorkspace(s->blas, s->dev[D_BLAS].ptr, s->dev[D_BLAS].cap));
  KD_CUSOLVER(cusolverDnCreate(&s->solver));
  KD_CUSOLVER(cusolverDnSetStream(s->solver, s->stream));
  KD_CUSOLVER(cusolverDnCreateParams(&s->params));
  return KD_OK;
}

/* Tears down whatever exists (the state starts zeroed, so a partial setup is fine),
 * carrying on past failures. */
static void cuda_release(void *state) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  if (s->stream) { /* s->device is known once the stream exists */
    cudaSetDevice(s->device);
    cudaStreamSynchronize(s->stream);
  }
  kd_cuda_drop_graphs(s);
  kd_backend_close(&s->cpu);
  kd_cuda_free_buffers(s);
  if (s->params) cusolverDnDestroyParams(s->params);
  if (s->solver) cusolverDnDestroy(s->solver);
  if (s->blas) cublasDestroy(s->blas);
  if (s->stream) cudaStreamDestroy(s->stream);
  s->params = NULL;
  s->solver = NULL;
  s->blas = NULL;
  s->stream = NULL;
  s->lib_n = s->lib_p = s->lib_k = 0;
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
           "cuBLAS %d.%d.%d, cuSOLVER %d.%d.%d, Gram by %s, rcond_min %g, %s%s%s",
           v.prop.name, v.prop.major, v.prop.minor, v.prop.multiProcessorCount,
           (double)v.prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), v.driver / 1000,
           v.driver % 1000 / 10, v.runtime / 1000, v.runtime % 1000 / 10, v.blas[0], v.blas[1],
           v.blas[2], v.solver[0], v.solver[1], v.solver[2],
           s->gram == KD_GRAM_SYRK ? "DSYRK" : "DGEMM", s->rcond_min,
           s->use_graphs ? "a CUDA graph per shape" : "no graphs: ",
           s->use_graphs ? "" : s->graph_off,
           kd_cuda_sync_on() ? ", synchronised after every step (KDBENCH_CUDA_SYNC=1)" : "");
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

/* The memory check's model: the plan's buffers (include/kdbench/cuda_plan.h). */
static void cuda_workspace(kd_workspace *w, size_t n, size_t p, size_t k, double ridge) {
  kd_cuda_plan_workspace(w, n, p, k, ridge, sizeof(kd_cuda_state));
}

/* What the model's device need is compared with: the free device memory and what the
 * state's buffers already hold (the model counts them too). 0 when it cannot be read. */
static size_t cuda_device_free(void *state) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaSetDevice(s->device) != cudaSuccess ||
      cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess)
    return 0;
  for (int i = 0; i < KD_DEV_COUNT; ++i) free_bytes = kd_add_sat(free_bytes, s->dev[i].cap);
  return free_bytes;
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
    cuda_workspace,
    cuda_device_free,
    kd_cuda_run_batch,
    kd_cuda_batch_size,
};
