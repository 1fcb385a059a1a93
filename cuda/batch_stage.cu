/* Batches of small stages (include/kdbench/cuda_batch.h): the trials of one shape and
 * one problem, B at a time, in one sequence of launches instead of B, so that a sweep
 * at p = 500 is not bound by launch latency (docs/gpu.md#device-steps describes the
 * single stage this mirrors).
 *
 * Per batch, on the stream: one upload (every trial's two stream addresses and
 * sources, the shared lambda, target, metric and sigma) and the pointer arrays; one
 * generation launch for the B designs and one for the B noise vectors; Y_b = X_b S_b by
 * one strided-batched DGEMM, plus z_b sigma^T; the B Grams by one strided-batched DGEMM
 * (cuBLAS has no batched SYRK) and the ridge on their diagonals; cusolverDnDpotrfBatched;
 * dpocon's estimate for every trial (cond_kernels.cu, its solves by cublasDtrsmBatched);
 * the solves by two cublasDtrsmBatched (potrsBatched takes one right-hand side only)
 * and, for p > n, beta_hat_b = X_b^T A_b by a strided-batched DGEMM; the risks; one
 * download. A trial whose factor is not trusted is then run again alone by the single
 * stage (backend_cuda.cu), which takes the fallback exactly as it would have: the
 * flagged trials, rare away from the peak, cost what they cost alone.
 *
 * The results agree with single stages to rounding, not bit for bit: the Gram is a
 * DGEMM here, potrf and the solves are the batched routines. */
#include <stdio.h>

#include "kd_cuda.h"

constexpr unsigned THREADS = 256;
constexpr size_t MAX_BLOCKS = 4096, MAX_GRID_Y = 65535;

/* y[i + r n + b n k] += z[i + b n] sigma[r]: the noise of every label of every trial. */
__global__ void add_noise_kernel(double *y, const double *z, const double *sigma, uint64_t n,
                                 uint64_t k, uint64_t count) {
  const uint64_t len = n * k * count, stride = (uint64_t)gridDim.x * blockDim.x;
  for (uint64_t at = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; at < len; at += stride) {
    const uint64_t i = at % n, r = at / n % k, b = at / (n * k);
    y[at] += z[i + b * n] * sigma[r];
  }
}

/* g_b[i + i m] += shift for each trial's m x m matrix (blocks in y over the trials). */
__global__ void add_diagonals_kernel(double *g, uint64_t m, double shift, uint64_t count) {
  for (uint64_t b = blockIdx.y; b < count; b += gridDim.y)
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < m;
         i += (uint64_t)gridDim.x * blockDim.x)
      g[i + i * m + b * m * m] += shift;
}

static unsigned blocks_for(size_t len) {
  const size_t b = (len + THREADS - 1) / THREADS;
  return (unsigned)(b < MAX_BLOCKS ? b : MAX_BLOCKS);
}

/* The stages of a batch share their shape and problem; each has its own streams,
 * sources and outputs. */
static int same_values(const double *a, const double *b, size_t len) {
  return a == b || memcmp(a, b, len * sizeof(double)) == 0;
}
static kd_status check_batch(const kd_stage *st, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    KD_TRY(kd_stage_validate(&st[i]));
    const kd_stage *a = &st[0], *b = &st[i];
    const double *ma = a->metric ? a->metric : a->lambda, *mb = b->metric ? b->metric : b->lambda;
    if (b->n != a->n || b->p != a->p || b->k != a->k || b->ridge != a->ridge ||
        !same_values(b->lambda, a->lambda, a->p) || !same_values(b->target, a->target, a->p) ||
        !same_values(mb, ma, a->p) || !same_values(b->sigma, a->sigma, a->k))
      return kd_fail(KD_EINVAL, "cuda backend: stage %zu of a batch differs from stage 0 in its "
                     "shape, lambda, target, metric or sigma", i);
  }
  return KD_OK;
}

static double *bdev(kd_cuda_state *s, kd_batch_dev_id id) { return (double *)s->bdev[id].ptr; }

/* The page-locked upload and pointer arrays of trials st[0 .. count). */
static void stage_batch_inputs(kd_cuda_state *s, const kd_stage *st, size_t count) {
  const size_t n = st->n, p = st->p, k = st->k, m = n < p ? n : p, d = sizeof(double);
  const kd_cuda_batch_in_layout l = kd_cuda_batch_in_layout_of(p, k, count);
  char *h = (char *)s->bpin[BH_IN].ptr;
  kd_rng_addr *addrs = (kd_rng_addr *)(h + l.addrs);
  for (size_t b = 0; b < count; ++b) {
    addrs[2 * b] = st[b].design;
    addrs[2 * b + 1] = st[b].noise;
    memcpy(h + l.sources + b * p * k * d, st[b].sources, p * k * d);
  }
  memcpy(h + l.lambda, st->lambda, p * d);
  memcpy(h + l.target, st->target, p * d);
  memcpy(h + l.metric, st->metric ? st->metric : st->lambda, p * d);
  memcpy(h + l.sigma, st->sigma, k * d);
  double **ptrs = (double **)s->bpin[BH_PTRS].ptr;
  double *rhs = p > n ? bdev(s, B_A) : (double *)((char *)s->bdev[B_OUT].ptr +
                                                  kd_cuda_batch_out_layout_of(p, k, count).beta);
  const size_t rhs_step = p > n ? n * k : p * k;
  for (size_t b = 0; b < count; ++b) {
    ptrs[b] = bdev(s, B_G) + b * m * m;
    ptrs[count + b] = rhs + b * rhs_step;
    ptrs[2 * count + b] = bdev(s, B_EST_X) + b * m;
  }
}

/* Both triangular solves of every trial: rhs_b = L_b^-T L_b^-1 rhs_b. */
static kd_status solve_batched(kd_cuda_state *s, double *const *factors, double *const *rhs,
                               size_t m, size_t k, size_t count) {
  const double one = 1.0;
  const int64_t n = (int64_t)m, nrhs = (int64_t)k, batch = (int64_t)count;
  KD_CUBLAS(cublasDtrsmBatched_64(s->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N,
                                  CUBLAS_DIAG_NON_UNIT, n, nrhs, &one, factors, n, rhs, n, batch));
  KD_CUBLAS(cublasDtrsmBatched_64(s->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T,
                                  CUBLAS_DIAG_NON_UNIT, n, nrhs, &one, factors, n, rhs, n, batch));
  return KD_OK;
}

/* The batch's device work, upload to download. */
static kd_status enqueue_batch(kd_cuda_state *s, const kd_stage *st, size_t count, int beta) {
  const size_t n = st->n, p = st->p, k = st->k, m = n < p ? n : p, d = sizeof(double);
  const int kernel = p > n, whitened = st->ridge == 0 && n >= p;
  const kd_cuda_batch_in_layout li = kd_cuda_batch_in_layout_of(p, k, count);
  const kd_cuda_batch_out_layout lo = kd_cuda_batch_out_layout_of(p, k, count);
  char *in = (char *)s->bdev[B_IN].ptr, *out = (char *)s->bdev[B_OUT].ptr;
  const double *lambda = (const double *)(in + li.lambda), *sigma = (const double *)(in + li.sigma);
  const kd_rng_addr *addrs = (const kd_rng_addr *)(in + li.addrs);
  int *info = (int *)(out + lo.info); /* word w of trial b at w count + b */
  double *beta_hat = (double *)(out + lo.beta), *risk = (double *)(out + lo.risk);
  double **ptrs = (double **)s->bdev[B_PTRS].ptr;
  double *scale = bdev(s, B_SCALE), *x = bdev(s, B_X), *y = bdev(s, B_Y), *g = bdev(s, B_G);
  const double *src = (const double *)(in + li.sources);
  KD_CUDA(cudaMemcpyAsync(in, s->bpin[BH_IN].ptr, li.bytes, cudaMemcpyHostToDevice, s->stream));
  KD_CUDA(cudaMemcpyAsync(ptrs, s->bpin[BH_PTRS].ptr, 3 * count * sizeof(double *),
                          cudaMemcpyHostToDevice, s->stream));
  KD_CUDA(cudaMemsetAsync(out, 0, lo.rcond, s->stream));
  KD_TRY(kd_cuda_sqrt(s->stream, lambda, scale, p));
  if (whitened) {
    KD_TRY(kd_cuda_scale_rows(s->stream, scale, 0, src, bdev(s, B_SRC), p, k * count));
    src = bdev(s, B_SRC);
  }
  KD_TRY(kd_cuda_fill_normal_batch(s->stream, addrs, 2, n, p, whitened ? NULL : scale, x, n,
                                   n * p, count));
  KD_TRY(kd_cuda_fill_normal_batch(s->stream, addrs + 1, 2, n, 1, NULL, bdev(s, B_NOISE), n, n,
                                   count));
  const double one = 1.0, zero = 0.0;
  const int64_t ln = (int64_t)n, lp = (int64_t)p, lk = (int64_t)k, lm = (int64_t)m,
                batch = (int64_t)count;
  const long long snp = (long long)(n * p), snk = (long long)(n * k), spk = (long long)(p * k),
                  smm = (long long)(m * m);
  KD_CUBLAS(cublasDgemmStridedBatched_64(s->blas, CUBLAS_OP_N, CUBLAS_OP_N, ln, lk, lp, &one, x,
                                         ln, snp, src, lp, spk, &zero, y, ln, snk, batch));
  add_noise_kernel<<<blocks_for(n * k * count), THREADS, 0, s->stream>>>(y, bdev(s, B_NOISE),
                                                                        sigma, n, k, count);
  KD_TRY(kd_cuda_check(cudaGetLastError(), "add_noise_kernel launch"));
  /* the Grams, both triangles: X X^T (p > n) or X^T X */
  KD_CUBLAS(cublasDgemmStridedBatched_64(
      s->blas, kernel ? CUBLAS_OP_N : CUBLAS_OP_T, kernel ? CUBLAS_OP_T : CUBLAS_OP_N, lm, lm,
      kernel ? lp : ln, &one, x, ln, snp, x, ln, snp, &zero, g, lm, smm, batch));
  const double shift = (double)n * st->ridge;
  if (shift != 0) {
    dim3 grid(blocks_for(m), (unsigned)(count < MAX_GRID_Y ? count : MAX_GRID_Y));
    add_diagonals_kernel<<<grid, THREADS, 0, s->stream>>>(g, m, shift, count);
    KD_TRY(kd_cuda_check(cudaGetLastError(), "add_diagonals_kernel launch"));
  }
  KD_TRY(kd_cuda_col_abs_sums_batch(s->stream, g, m, m * m, m, 0, bdev(s, B_EST_S), count));
  KD_CUSOLVER(cusolverDnDpotrfBatched(s->solver, CUBLAS_FILL_MODE_LOWER, (int)m, ptrs, (int)m,
                                      info + KD_INFO_POTRF * count, (int)count));
  const kd_cuda_est_batch est = {m, count, ptrs, ptrs + 2 * count, bdev(s, B_EST_X),
                                 bdev(s, B_EST_S), (double *)(out + lo.rcond),
                                 (int32_t *)s->bdev[B_EST_I].ptr, s->bdev[B_EST].ptr,
                                 info + KD_INFO_POTRF * count, info + KD_INFO_TRUSTED * count};
  KD_TRY(kd_cuda_check_cholesky_batch(s->stream, s->blas, &est, s->rcond_min));
  if (kernel) { /* A_b = G_b^-1 Y_b, then beta_hat_b = X_b^T A_b */
    KD_CUDA(cudaMemcpyAsync(bdev(s, B_A), y, n * k * count * d, cudaMemcpyDeviceToDevice,
                            s->stream));
    KD_TRY(solve_batched(s, ptrs, ptrs + count, m, k, count));
    KD_CUBLAS(cublasDgemmStridedBatched_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, lp, lk, ln, &one,
                                           x, ln, snp, bdev(s, B_A), ln, snk, &zero, beta_hat,
                                           lp, spk, batch));
  } else { /* C_b = X_b^T Y_b, then beta_hat_b = G_b^-1 C_b */
    KD_CUBLAS(cublasDgemmStridedBatched_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, lp, lk, ln, &one,
                                           x, ln, snp, y, ln, snk, &zero, beta_hat, lp, spk,
                                           batch));
    KD_TRY(solve_batched(s, ptrs, ptrs + count, m, k, count));
  }
  if (whitened) KD_TRY(kd_cuda_scale_rows(s->stream, scale, 1, beta_hat, beta_hat, p, k * count));
  KD_TRY(kd_cuda_risk(s->stream, beta_hat, p, k * count, (const double *)(in + li.target),
                      (const double *)(in + li.metric), risk));
  KD_CUDA(cudaMemcpyAsync(s->bpin[BH_OUT].ptr, out, beta ? lo.bytes : lo.beta,
                          cudaMemcpyDeviceToHost, s->stream));
  return KD_OK;
}

/* One batch: trials st[0 .. count), with buffers for `size` >= count. */
static kd_status run_part(kd_cuda_state *s, kd_stage *st, size_t count, size_t size) {
  const size_t p = st->p, k = st->k, d = sizeof(double);
  size_t dev[KD_BATCH_DEV_COUNT], pinned = 0;
  kd_cuda_batch_bytes(st->n, p, k, st->ridge, size, dev, &pinned);
  const size_t pin[KD_BATCH_PIN_COUNT] = {dev[B_IN], dev[B_OUT], 3 * size * sizeof(double *)};
  KD_TRY(kd_cuda_reserve_batch(s, dev, st));
  KD_TRY(kd_cuda_reserve_batch_pin(s, pin));
  int beta = 0;
  for (size_t b = 0; b < count; ++b) beta |= st[b].beta_hat != NULL;
  stage_batch_inputs(s, st, count);
  KD_TRY(enqueue_batch(s, st, count, beta));
  KD_CUDA(cudaStreamSynchronize(s->stream));
  const kd_cuda_batch_out_layout lo = kd_cuda_batch_out_layout_of(p, k, count);
  const char *h = (const char *)s->bpin[BH_OUT].ptr;
  const int *info = (const int *)(h + lo.info);
  for (size_t b = 0; b < count; ++b) {
    const int potrf = info[KD_INFO_POTRF * count + b];
    if (potrf < 0)
      return kd_fail(KD_ENUM, "cuda backend: cusolverDnDpotrfBatched argument %d is invalid",
                     -potrf);
    if (!info[KD_INFO_TRUSTED * count + b]) { /* alone, as it would have run */
      KD_TRY(kd_cuda_run_one(s, &st[b]));
      continue;
    }
    st[b].fallback = 0;
    memcpy(st[b].risk, h + lo.risk + b * k * d, k * d);
    if (st[b].beta_hat) memcpy(st[b].beta_hat, h + lo.beta + b * p * k * d, p * k * d);
  }
  return KD_OK;
}

/* The device memory the buffers of a batch may take: the free memory and what the
 * state's buffers already hold. */
static kd_status batch_free(kd_cuda_state *s, size_t *free_bytes) {
  size_t total_bytes = 0;
  KD_CUDA(cudaMemGetInfo(free_bytes, &total_bytes));
  for (int i = 0; i < KD_DEV_COUNT; ++i) *free_bytes = kd_add_sat(*free_bytes, s->dev[i].cap);
  for (int i = 0; i < KD_BATCH_DEV_COUNT; ++i)
    *free_bytes = kd_add_sat(*free_bytes, s->bdev[i].cap);
  return KD_OK;
}

static kd_status run_batch(kd_cuda_state *s, kd_stage *st, size_t count) {
  int mixed = 0;
  for (size_t i = 0; i < count; ++i) mixed |= st[i].mix != NULL || st[i].sgd != NULL;
  if (mixed) { /* labels mixed by rows, or an SGD stage: handed to the CPU stage by stage
                * (kd_cuda_run_one) */
    for (size_t i = 0; i < count; ++i) KD_TRY(kd_cuda_run_one(s, &st[i]));
    return KD_OK;
  }
  KD_TRY(check_batch(st, count));
  KD_CUDA(cudaSetDevice(s->device));
  /* the single stage's buffers first: the trials that fall back need them, and the
   * plan counts them */
  KD_TRY(kd_cuda_reserve_stage(s, st));
  size_t free_bytes = 0;
  KD_TRY(batch_free(s, &free_bytes));
  kd_cuda_batch_plan bp;
  KD_TRY(kd_cuda_batch_plan_make(st->n, st->p, st->k, st->ridge, (uint32_t)count, free_bytes,
                                 &s->lib, &bp));
  if (bp.size == 1) { /* nothing to batch: stage by stage */
    for (size_t i = 0; i < count; ++i) KD_TRY(kd_cuda_run_one(s, &st[i]));
    return KD_OK;
  }
  for (uint32_t i = 0; i < bp.batches; ++i) {
    uint32_t first = 0, n = 0;
    kd_cuda_batch_range(&bp, (uint32_t)count, i, &first, &n);
    KD_TRY(run_part(s, st + first, n, bp.size));
  }
  return KD_OK;
}

kd_status kd_cuda_run_batch(void *state, kd_stage *st, size_t count) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  if (count == 0) return KD_OK;
  if (count > UINT32_MAX) return kd_fail(KD_EINVAL, "cuda backend: a batch of %zu stages", count);
  kd_status rc = run_batch(s, st, count);
  if (rc != KD_OK) cudaStreamSynchronize(s->stream); /* let the staging copies land */
  return rc;
}

/* The plan run_batch would make now; the library workspaces are counted where this
 * shape's were queried last (reserve_stage), else left to run_batch's own plan. */
size_t kd_cuda_batch_size(void *state, size_t n, size_t p, size_t k, double ridge,
                          size_t trials) {
  kd_cuda_state *s = (kd_cuda_state *)state;
  const int known = s->lib_n == n && s->lib_p == p && s->lib_k == k &&
                    (s->lib_ridge > 0) == (ridge > 0);
  size_t free_bytes = 0;
  kd_cuda_batch_plan bp;
  if (trials == 0 || trials > UINT32_MAX || cudaSetDevice(s->device) != cudaSuccess ||
      batch_free(s, &free_bytes) != KD_OK ||
      kd_cuda_batch_plan_make(n, p, k, ridge, (uint32_t)trials, free_bytes,
                              known ? &s->lib : NULL, &bp) != KD_OK)
    return 1;
  return bp.size;
}
