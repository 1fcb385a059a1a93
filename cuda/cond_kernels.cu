/* The conditioning check on the device: dpocon's estimate of rcond(G) from the
 * Cholesky factor, with no host round trip between factorisation and solve.
 *
 * The estimator is the state machine of include/kdbench/cond_est.h (LAPACK's dlacn2),
 * the same code the host runs; here each of its steps is one single-block kernel
 * (the reductions of x in a fixed tree, the transition by thread 0, the refill by
 * all), and the solves between steps are cusolverDnXpotrs with one right-hand side.
 * Since dlacn2 never asks for more than KD_EST_MAX_SOLVES solves, the host enqueues
 * that many solve + step pairs unconditionally; once the state says done, the
 * remaining steps return at once and the remaining solves only churn x. The whole
 * check is a fixed sequence of launches, which a CUDA graph can capture. */
#include "kd_cuda.h"

extern "C" {
#include "kdbench/cond_est.h"
}

constexpr unsigned EST_THREADS = 256;
constexpr uint64_t MAX_GRID = 65535;

/* The estimator's state on the device. */
struct kd_cuda_est {
  kd_est est;
  double anorm; /* ||G||_1 (dlansy's '1' norm), taken before the factorisation */
};
static_assert(sizeof(kd_cuda_est) <= KD_CUDA_EST_STATE_BYTES, "the plan's D_EST bytes");

/* dlansy's and dlantr's way of taking a maximum: a NaN wins. */
__device__ double nan_max(double a, double b) { return (a < b || isnan(b)) ? b : a; }

/* sums[j] = sum_i |A_ij| of the symmetric matrix whose lower triangle is stored
 * (upper = 0), or of the upper triangle itself (upper = 1, the QR's R). One block per
 * column, a fixed tree: the same sums on every run; blocks in y over the matrices of
 * a batch (matrix y at a + y a_step, its sums at sums + y m). */
__global__ void col_abs_sums_kernel(const double *a, uint64_t lda, uint64_t a_step, uint64_t m,
                                    int upper, double *sums) {
  __shared__ double part[EST_THREADS];
  a += blockIdx.y * a_step;
  sums += blockIdx.y * m;
  for (uint64_t j = blockIdx.x; j < m; j += gridDim.x) {
    double s = 0;
    const uint64_t end = upper ? j + 1 : m;
    for (uint64_t i = threadIdx.x; i < end; i += blockDim.x)
      s += fabs(i >= j ? a[i + j * lda] : a[j + i * lda]); /* upper: always i <= j */
    part[threadIdx.x] = s;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) sums[j] = part[0];
    __syncthreads();
  }
}

/* The norm from the column sums, the state's start, x = 1/m and no signs yet. Block t
 * serves trial t of a batch (its vectors at offset t m). */
__global__ void est_start_kernel(const double *sums, uint64_t m, kd_cuda_est *st, double *x,
                                 int32_t *isgn) {
  __shared__ double part[EST_THREADS];
  sums += blockIdx.x * m;
  st += blockIdx.x;
  x += blockIdx.x * m;
  isgn += blockIdx.x * m;
  double v = 0;
  for (uint64_t i = threadIdx.x; i < m; i += blockDim.x) v = nan_max(v, sums[i]);
  part[threadIdx.x] = v;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] = nan_max(part[threadIdx.x], part[threadIdx.x + half]);
    __syncthreads();
  }
  kd_est e;
  const kd_est_fill f = kd_est_start(&e);
  if (threadIdx.x == 0) {
    st->est = e;
    st->anorm = part[0];
  }
  for (uint64_t i = threadIdx.x; i < m; i += blockDim.x) {
    x[i] = kd_est_value(f, &e, 0, (int64_t)i, (int64_t)m);
    isgn[i] = 0;
  }
}

/* One step of the estimator on x, which the preceding solve has overwritten; block t
 * serves trial t of a batch. */
__global__ void est_step_kernel(kd_cuda_est *st, double *x, int32_t *isgn, uint64_t m) {
  __shared__ double sum[EST_THREADS], big[EST_THREADS];
  __shared__ int32_t at[EST_THREADS], same[EST_THREADS];
  __shared__ kd_est e;
  __shared__ int fill;
  st += blockIdx.x;
  x += blockIdx.x * m;
  isgn += blockIdx.x * m;
  if (threadIdx.x == 0) e = st->est;
  __syncthreads();
  if (e.kase == 0) return; /* the same for every thread of the block */
  double s = 0, a_max = -1;
  int32_t i_max = 0, agree = 1;
  for (uint64_t i = threadIdx.x; i < m; i += blockDim.x) {
    const double a = fabs(x[i]);
    s += a;
    agree &= (x[i] >= 0 ? 1 : -1) == isgn[i];
    if (a > a_max) { /* strictly: a thread's first maximum */
      a_max = a;
      i_max = (int32_t)i;
    }
  }
  sum[threadIdx.x] = s;
  big[threadIdx.x] = a_max;
  at[threadIdx.x] = i_max;
  same[threadIdx.x] = agree;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    const unsigned t = threadIdx.x, u = t + half;
    if (t < half) {
      sum[t] += sum[u];
      same[t] &= same[u];
      if (big[u] > big[t] || (big[u] == big[t] && at[u] < at[t])) { /* idamax: the first */
        big[t] = big[u];
        at[t] = at[u];
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    kd_est_sums r;
    r.asum = sum[0];
    r.same = same[0];
    r.imax = at[0];
    r.amax = big[0] < 0 ? fabs(x[0]) : big[0]; /* every x_i NaN */
    r.xj = x[e.j];
    r.x0 = x[0];
    fill = kd_est_next(&e, &r, (int64_t)m);
    st->est = e;
  }
  __syncthreads();
  if (fill == KD_EST_KEEP) return;
  for (uint64_t i = threadIdx.x; i < m; i += blockDim.x) {
    const double v = kd_est_value((kd_est_fill)fill, &e, x[i], (int64_t)i, (int64_t)m);
    x[i] = v;
    if (fill == KD_EST_SIGNS) isgn[i] = (int32_t)v;
  }
}

/* rcond and the verdict, trial t by thread t: trusted when potrf succeeded and rcond
 * >= rcond_min. */
__global__ void est_finish_kernel(const kd_cuda_est *st, const int *info, double rcond_min,
                                  double *rcond, int *trusted, uint64_t count) {
  const uint64_t t = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= count) return;
  const double r = st[t].est.kase == 0 ? kd_rcond_spd(st[t].anorm, st[t].est.est) : NAN;
  rcond[t] = r;
  trusted[t] = kd_cholesky_trusted(info[t], r, rcond_min);
}

/* ---- launchers ------------------------------------------------------------------------ */

static unsigned column_blocks(size_t m) { return (unsigned)(m < MAX_GRID ? m : MAX_GRID); }

kd_status kd_cuda_col_abs_sums_batch(cudaStream_t stream, const double *a, size_t lda,
                                     size_t a_step, size_t m, int upper, double *sums,
                                     size_t count) {
  if (m == 0 || count == 0) return KD_OK;
  if (count > MAX_GRID) return kd_fail(KD_EINVAL, "cuda backend: %zu matrices in one launch", count);
  dim3 grid(column_blocks(m), (unsigned)count);
  col_abs_sums_kernel<<<grid, EST_THREADS, 0, stream>>>(a, lda, a_step, m, upper, sums);
  return kd_cuda_check(cudaGetLastError(), "col_abs_sums_kernel launch");
}

kd_status kd_cuda_col_abs_sums(cudaStream_t stream, const double *a, size_t lda, size_t m,
                               int upper, double *sums) {
  return kd_cuda_col_abs_sums_batch(stream, a, lda, 0, m, upper, sums, 1);
}

kd_status kd_cuda_check_cholesky(kd_cuda_state *s, size_t m, double rcond_min) {
  if (m == 0) return KD_OK;
  const int64_t n = (int64_t)m;
  double *x = kd_dev(s, D_EST_X), *l = kd_dev(s, D_G);
  int32_t *isgn = (int32_t *)s->dev[D_EST_I].ptr;
  kd_cuda_est *st = (kd_cuda_est *)s->dev[D_EST].ptr;
  est_start_kernel<<<1, EST_THREADS, 0, s->stream>>>(kd_dev(s, D_EST_S), m, st, x, isgn);
  KD_TRY(kd_cuda_check(cudaGetLastError(), "est_start_kernel launch"));
  for (int solve = 0; solve < KD_EST_MAX_SOLVES; ++solve) {
    KD_CUSOLVER(cusolverDnXpotrs(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, n, 1, CUDA_R_64F,
                                 l, n, CUDA_R_64F, x, n, kd_out_info(s, KD_INFO_EST)));
    est_step_kernel<<<1, EST_THREADS, 0, s->stream>>>(st, x, isgn, m);
    KD_TRY(kd_cuda_check(cudaGetLastError(), "est_step_kernel launch"));
  }
  est_finish_kernel<<<1, 1, 0, s->stream>>>(st, kd_out_info(s, KD_INFO_POTRF), rcond_min,
                                            kd_out_rcond(s), kd_out_info(s, KD_INFO_TRUSTED), 1);
  return kd_cuda_check(cudaGetLastError(), "est_finish_kernel launch");
}

kd_status kd_cuda_check_cholesky_batch(cudaStream_t stream, cublasHandle_t blas,
                                       const kd_cuda_est_batch *b, double rcond_min) {
  const size_t m = b->m, count = b->count;
  if (m == 0 || count == 0) return KD_OK;
  if (m > INT32_MAX || count > MAX_GRID)
    return kd_fail(KD_EINVAL, "cuda backend: a batch of %zu factors of order %zu", count, m);
  kd_cuda_est *st = (kd_cuda_est *)b->states;
  const unsigned blocks = (unsigned)count;
  est_start_kernel<<<blocks, EST_THREADS, 0, stream>>>(b->sums, m, st, b->x, b->isgn);
  KD_TRY(kd_cuda_check(cudaGetLastError(), "est_start_kernel launch"));
  const double one = 1.0;
  const int n = (int)m, batch = (int)count;
  for (int solve = 0; solve < KD_EST_MAX_SOLVES; ++solve) { /* x = L^-T L^-1 x */
    KD_CUBLAS(cublasDtrsmBatched(blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N,
                                 CUBLAS_DIAG_NON_UNIT, n, 1, &one, b->factors, n, b->xs, n,
                                 batch));
    KD_CUBLAS(cublasDtrsmBatched(blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T,
                                 CUBLAS_DIAG_NON_UNIT, n, 1, &one, b->factors, n, b->xs, n,
                                 batch));
    est_step_kernel<<<blocks, EST_THREADS, 0, stream>>>(st, b->x, b->isgn, m);
    KD_TRY(kd_cuda_check(cudaGetLastError(), "est_step_kernel launch"));
  }
  est_finish_kernel<<<(blocks + EST_THREADS - 1) / EST_THREADS, EST_THREADS, 0, stream>>>(
      st, b->potrf_info, rcond_min, b->rcond, b->trusted, count);
  return kd_cuda_check(cudaGetLastError(), "est_finish_kernel launch");
}
