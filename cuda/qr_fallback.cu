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
 *
 * Before solving, R is checked as the CPU checks its own: dtrcon's estimate of
 * rcond_1(R), here the estimator of include/kdbench/cond_est.h driven from the host
 * (triangular solves on the device, the steps on the host: a rare path, already
 * synchronous), against KD_QR_RCOND_MIN. Below it R is numerically singular, and the
 * caller hands the stage to the CPU's rank-revealing dgelsy, as the CPU would: in all
 * four cases the CPU factors the same matrix, so both decide on the same R up to
 * rounding.
 *
 * cuSOLVER has no 64-bit generic ormqr: Q is applied by the legacy cusolverDnDormqr,
 * whose int dimensions the stage's validation (n + p <= INT_MAX) keeps in range.
 * Every buffer was reserved with the stage (kd_cuda_reserve_stage): nothing is allocated
 * here. */
#include <limits.h>

#include "kd_cuda.h"

extern "C" {
#include "kdbench/cond_est.h"
}

/* A (rows x m, leading dimension rows) from X, unless the QR works on Z in place. */
static kd_status build_matrix(kd_cuda_state *s, const kd_stage *st, const kd_cuda_qr_shape *q,
                              double *a) {
  const size_t n = st->n, p = st->p, big = q->kernel ? p : n;
  const double *x = kd_dev(s, D_X);
  if (q->kernel) KD_TRY(kd_cuda_transpose(s->stream, x, n, a, q->rows, n, p));
  else KD_TRY(kd_cuda_copy_block(s->stream, x, n, a, q->rows, n, p));
  if (q->rows > big)
    KD_TRY(kd_cuda_set_scaled_identity(s->stream, a + big, q->m, q->rows,
                                       sqrt((double)n * st->ridge)));
  return KD_OK;
}

/* dtrcon's rcond_1 of the upper triangle R (m x m, leading dimension lda) of the
 * factored matrix. Synchronises after every solve. */
static kd_status r_rcond(kd_cuda_state *s, const double *r, size_t lda, size_t m,
                         double *rcond) {
  double *x = (double *)s->pin[H_EST].ptr, *dx = kd_dev(s, D_EST_X);
  int32_t *isgn = (int32_t *)(x + m);
  /* ||R||_1, as dlantr: the largest column sum (a NaN wins) */
  KD_TRY(kd_cuda_col_abs_sums(s->stream, r, lda, m, 1, kd_dev(s, D_EST_S)));
  KD_CUDA(cudaMemcpyAsync(x, kd_dev(s, D_EST_S), m * sizeof(double), cudaMemcpyDeviceToHost,
                          s->stream));
  KD_CUDA(cudaStreamSynchronize(s->stream));
  double anorm = 0;
  for (size_t j = 0; j < m; ++j)
    if (anorm < x[j] || isnan(x[j])) anorm = x[j];
  kd_est e;
  kd_est_begin(&e, x, isgn, m);
  while (e.kase != 0) {
    KD_CUDA(cudaMemcpyAsync(dx, x, m * sizeof(double), cudaMemcpyHostToDevice, s->stream));
    KD_CUBLAS(cublasDtrsv_64(s->blas, CUBLAS_FILL_MODE_UPPER,
                             e.kase == 1 ? CUBLAS_OP_N : CUBLAS_OP_T, CUBLAS_DIAG_NON_UNIT,
                             (int64_t)m, r, (int64_t)lda, dx, 1));
    KD_CUDA(cudaMemcpyAsync(x, dx, m * sizeof(double), cudaMemcpyDeviceToHost, s->stream));
    KD_CUDA(cudaStreamSynchronize(s->stream));
    kd_est_step(&e, x, isgn, m);
  }
  *rcond = kd_rcond_tri(anorm, e.est);
  return KD_OK;
}

kd_status kd_cuda_solve_qr(kd_cuda_state *s, const kd_stage *st, int *singular) {
  const size_t n = st->n, p = st->p, k = st->k, d = sizeof(double);
  const kd_cuda_qr_shape q = kd_cuda_qr_shape_of(n, p, st->ridge);
  if (q.rows > INT_MAX || k > INT_MAX)
    return kd_fail(KD_EINVAL, "cuda backend: the QR fallback's %zu x %zu system exceeds "
                   "cusolverDnDormqr's int range", q.rows, k);
  const int rows = (int)q.rows, m = (int)q.m, nrhs = (int)k;
  double *a = q.in_place ? kd_dev(s, D_X) : kd_dev(s, D_QR);
  double *rhs = kd_dev(s, D_RHS), *tau = kd_dev(s, D_TAU), *work = kd_dev(s, D_QRWORK);
  if (!q.in_place) KD_TRY(build_matrix(s, st, &q, a));
  KD_CUDA(cudaMemsetAsync(rhs, 0, q.rows * k * d, s->stream));
  KD_TRY(kd_cuda_copy_block(s->stream, kd_dev(s, D_Y), n, rhs, q.rows, n, k));
  KD_CUSOLVER(cusolverDnXgeqrf(s->solver, s->params, rows, m, CUDA_R_64F, a, rows, CUDA_R_64F,
                               tau, CUDA_R_64F, work, s->lib.qr, s->host.ptr, s->lib.qr_host,
                               kd_out_info(s, KD_INFO_GEQRF)));
  double rcond = 0;
  KD_TRY(r_rcond(s, a, q.rows, q.m, &rcond));
  *singular = kd_qr_singular(rcond);
  if (*singular) return KD_OK;

  const cublasOperation_t q_op = q.kernel ? CUBLAS_OP_N : CUBLAS_OP_T;
  const int lwork = (int)(s->lib.qr / d);
  const double one = 1.0;
  if (q.kernel) { /* u = Q [R^-T Y; 0] */
    KD_CUBLAS(cublasDtrsm_64(s->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T,
                             CUBLAS_DIAG_NON_UNIT, m, nrhs, &one, a, rows, rhs, rows));
    KD_CUSOLVER(cusolverDnDormqr(s->solver, CUBLAS_SIDE_LEFT, q_op, rows, nrhs, m, a, rows, tau,
                                 rhs, rows, work, lwork, kd_out_info(s, KD_INFO_ORMQR)));
  } else { /* b = R^-1 (Q^T [Y; 0])(1:p) */
    KD_CUSOLVER(cusolverDnDormqr(s->solver, CUBLAS_SIDE_LEFT, q_op, rows, nrhs, m, a, rows, tau,
                                 rhs, rows, work, lwork, kd_out_info(s, KD_INFO_ORMQR)));
    KD_CUBLAS(cublasDtrsm_64(s->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N,
                             CUBLAS_DIAG_NON_UNIT, m, nrhs, &one, a, rows, rhs, rows));
  }
  return kd_cuda_copy_block(s->stream, rhs, q.rows, kd_out_beta(s, st), p, p, k);
}
