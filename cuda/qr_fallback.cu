/* The orthogonal-factorisation fallback, taken when the Cholesky factor of the Gram
 * matrix fails or is too ill-conditioned to trust (docs/gpu.md#qr-fallback): Householder
 * QR of the design itself, whose forward error grows like kappa(X) u instead of the
 * Gram's kappa(X)^2 u.
 *
 * With m = min(n, p), M = max(n, p) and c = sqrt(n ridge), the matrix factored is
 *   n >= p:  A = [X; c I_p]    ((n + p) x p; X itself when ridgeless)
 *   p >  n:  A = [X^T; c I_n]  ((p + n) x n; X^T when ridgeless)
 * with rows = M (+ m when ridge > 0), and the right-hand sides are [Y; 0] (rows x k).
 *   n >= p:  the least-squares solution of A b = [Y; 0]: b = R^-1 (Q^T [Y; 0])(1:p),
 *            i.e. (X^T X + n ridge I)^-1 X^T Y;
 *   p >  n:  the minimum-norm solution of A^T u = Y, u = Q R^-T Y, whose first p rows
 *            are X^T (X X^T + n ridge I)^-1 Y (the ridge/min-norm solution).
 * Unlike the CPU's dgelsy this QR does not pivot and truncates no direction: the two
 * agree wherever X (or the augmented A) has full rank to working precision, which is
 * the case for every Gaussian design away from exact rank deficiency.
 *
 * cuSOLVER has no 64-bit generic ormqr: Q is applied by the legacy cusolverDnDormqr,
 * whose int dimensions the stage's validation (n + p <= INT_MAX) keeps in range. */
#include <limits.h>

#include "kd_cuda.h"

/* A (rows x m, leading dimension rows) from X; the ridgeless n >= p case uses X. */
static kd_status build_matrix(kd_cuda_state *s, const kd_stage *st, size_t rows, double *a) {
  const size_t n = st->n, p = st->p, m = n < p ? n : p, big = n < p ? p : n;
  const double one = 1.0, zero = 0.0, *x = kd_dev(s, D_X);
  if (p > n) /* X^T into the top p x n block; geam with beta = 0 reads no B (= C here) */
    KD_CUBLAS(cublasDgeam_64(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int64_t)p, (int64_t)n, &one,
                             x, (int64_t)n, &zero, a, (int64_t)rows, a, (int64_t)rows));
  else
    KD_CUDA(cudaMemcpy2DAsync(a, rows * sizeof(double), x, n * sizeof(double),
                              n * sizeof(double), p, cudaMemcpyDeviceToDevice, s->stream));
  if (rows > big)
    KD_TRY(kd_cuda_set_scaled_identity(s->stream, a + big, m, rows,
                                       sqrt((double)n * st->ridge)));
  return KD_OK;
}

kd_status kd_cuda_solve_qr(kd_cuda_state *s, const kd_stage *st) {
  const size_t n = st->n, p = st->p, k = st->k, m = n < p ? n : p, big = n < p ? p : n;
  const int kernel = p > n, in_place = !kernel && st->ridge == 0;
  const size_t rows = big + (st->ridge > 0 ? m : 0);
  if (rows > INT_MAX || k > INT_MAX)
    return kd_fail(KD_EINVAL, "cuda backend: the QR fallback's %zu x %zu system exceeds "
                   "cusolverDnDormqr's int range", rows, k);
  const size_t d = sizeof(double);
  size_t bytes[KD_DEV_COUNT] = {0};
  bytes[D_QR] = in_place ? 0 : kd_mul_sat(kd_mul_sat(rows, m), d);
  bytes[D_RHS] = kd_mul_sat(kd_mul_sat(rows, k), d);
  bytes[D_TAU] = m * d;
  KD_TRY(kd_cuda_reserve_dev(s, bytes, st));
  double *a = in_place ? kd_dev(s, D_X) : kd_dev(s, D_QR);
  double *rhs = kd_dev(s, D_RHS), *tau = kd_dev(s, D_TAU);
  if (!in_place) KD_TRY(build_matrix(s, st, rows, a));
  KD_CUDA(cudaMemsetAsync(rhs, 0, rows * k * d, s->stream));
  KD_CUDA(cudaMemcpy2DAsync(rhs, rows * d, kd_dev(s, D_Y), n * d, n * d, k,
                            cudaMemcpyDeviceToDevice, s->stream));

  /* Workspaces: geqrf and ormqr run one after the other and share one buffer. */
  const cublasOperation_t q_op = kernel ? CUBLAS_OP_N : CUBLAS_OP_T;
  size_t geqrf_dev = 0, geqrf_host = 0;
  int ormqr_lwork = 0;
  KD_CUSOLVER(cusolverDnXgeqrf_bufferSize(s->solver, s->params, (int64_t)rows, (int64_t)m,
                                          CUDA_R_64F, a, (int64_t)rows, CUDA_R_64F, tau,
                                          CUDA_R_64F, &geqrf_dev, &geqrf_host));
  KD_CUSOLVER(cusolverDnDormqr_bufferSize(s->solver, CUBLAS_SIDE_LEFT, q_op, (int)rows,
                                          (int)k, (int)m, a, (int)rows, tau, rhs, (int)rows,
                                          &ormqr_lwork));
  const size_t ormqr_bytes = (size_t)ormqr_lwork * d;
  bytes[D_QR] = bytes[D_RHS] = bytes[D_TAU] = 0;
  bytes[D_QRWORK] = ormqr_bytes > geqrf_dev ? ormqr_bytes : geqrf_dev;
  KD_TRY(kd_cuda_reserve_dev(s, bytes, st));
  KD_TRY(kd_cuda_reserve_host(s, geqrf_host));
  double *work = kd_dev(s, D_QRWORK);

  KD_CUSOLVER(cusolverDnXgeqrf(s->solver, s->params, (int64_t)rows, (int64_t)m, CUDA_R_64F,
                               a, (int64_t)rows, CUDA_R_64F, tau, CUDA_R_64F, work,
                               s->dev[D_QRWORK].cap, s->host.ptr, geqrf_host,
                               kd_dev_info(s, KD_INFO_GEQRF)));
  const double one = 1.0;
  if (kernel) { /* u = Q [R^-T Y; 0] */
    KD_CUBLAS(cublasDtrsm_64(s->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T,
                             CUBLAS_DIAG_NON_UNIT, (int64_t)m, (int64_t)k, &one, a,
                             (int64_t)rows, rhs, (int64_t)rows));
    KD_CUSOLVER(cusolverDnDormqr(s->solver, CUBLAS_SIDE_LEFT, q_op, (int)rows, (int)k, (int)m,
                                 a, (int)rows, tau, rhs, (int)rows, work, ormqr_lwork,
                                 kd_dev_info(s, KD_INFO_ORMQR)));
  } else { /* b = R^-1 (Q^T [Y; 0])(1:p) */
    KD_CUSOLVER(cusolverDnDormqr(s->solver, CUBLAS_SIDE_LEFT, q_op, (int)rows, (int)k, (int)m,
                                 a, (int)rows, tau, rhs, (int)rows, work, ormqr_lwork,
                                 kd_dev_info(s, KD_INFO_ORMQR)));
    KD_CUBLAS(cublasDtrsm_64(s->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N,
                             CUBLAS_DIAG_NON_UNIT, (int64_t)m, (int64_t)k, &one, a,
                             (int64_t)rows, rhs, (int64_t)rows));
  }
  KD_CUDA(cudaMemcpy2DAsync(kd_dev(s, D_B), p * d, rhs, rows * d, p * d, k,
                            cudaMemcpyDeviceToDevice, s->stream));
  return KD_OK;
}
