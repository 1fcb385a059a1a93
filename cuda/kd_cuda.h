/* Private to the CUDA backend (the .cu files beside it): error conversion, the
 * backend's state and its grow-only buffers, and the kernels' launchers.
 *
 * The project's headers are C without linkage guards; they are included here in an
 * extern "C" block, after the system headers they pull in (whose own guards then
 * keep them out of that block). */
#ifndef KDBENCH_CUDA_KD_CUDA_H
#define KDBENCH_CUDA_KD_CUDA_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern "C" {
#include "kdbench/backend.h"
#include "kdbench/cuda_debug.h"
}

/* ---- errors (errors.cu) -----------------------------------------------------------
 * Each turns a failed call into kd_fail(code, "cuda backend: <call> failed: <why>"),
 * naming the call by the text of `call` up to its '(' (the macros pass #call). */
kd_status kd_cuda_check(cudaError_t e, const char *call);
kd_status kd_cublas_check(cublasStatus_t s, const char *call);
kd_status kd_cusolver_check(cusolverStatus_t s, const char *call);

#define KD_TRY(expr)                         \
  do {                                       \
    kd_status kd_try_rc_ = (expr);           \
    if (kd_try_rc_ != KD_OK) return kd_try_rc_; \
  } while (0)
#define KD_CUDA(call) KD_TRY(kd_cuda_check((call), #call))
#define KD_CUBLAS(call) KD_TRY(kd_cublas_check((call), #call))
#define KD_CUSOLVER(call) KD_TRY(kd_cusolver_check((call), #call))

/* ---- sizes --------------------------------------------------------------------------- */

/* a * b and a + b, or SIZE_MAX when they overflow (the memory check then refuses). */
static inline size_t kd_mul_sat(size_t a, size_t b) {
  return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}
static inline size_t kd_add_sat(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* ---- the state ------------------------------------------------------------------------- */

/* Device buffers of a stage. */
typedef enum {
  D_IN,    /* the uploaded inputs: lambda | sources | sigma | target | metric */
  D_SCALE, /* p: sqrt(lambda) */
  D_SRC,   /* p x k: sqrt(lambda) .* sources, whitened path only */
  D_X,     /* n x p: the design X, or Z on the whitened path */
  D_NOISE, /* n: the common noise vector z */
  D_Y,     /* n x k: labels, kept intact for the fallback */
  D_A,     /* n x k: G^-1 Y on the kernel path (solved in place) */
  D_G,     /* m x m: the Gram matrix, then its Cholesky factor */
  D_B,     /* p x k: X^T Y, then beta_hat (theta_hat when whitened) */
  D_RISK,  /* k: the risks */
  D_INFO,  /* KD_INFO_COUNT ints: the solvers' info words and the trust flag */
  D_POTRF, /* cusolverDnXpotrf's device workspace */
  /* fallback only, allocated the first time it is taken */
  D_QR,     /* rows x m: [X; c I] or [X^T; c I] (ridgeless n >= p factors X itself) */
  D_RHS,    /* rows x k: [Y; 0], then the solution in its top rows */
  D_TAU,    /* m: the Householder scalars */
  D_QRWORK, /* the shared workspace of cusolverDnXgeqrf and cusolverDnDormqr */
  KD_DEV_COUNT
} kd_dev_id;

/* Page-locked host staging: one upload and one download per stage. */
typedef enum {
  H_IN,   /* as D_IN */
  H_OUT,  /* k risks, then p x k beta_hat */
  H_INFO, /* as D_INFO */
  KD_PIN_COUNT
} kd_pin_id;

/* The words of D_INFO. */
typedef enum {
  KD_INFO_POTRF,   /* cusolverDnXpotrf: > 0 when a leading minor is not positive */
  KD_INFO_TRUSTED, /* 1 when the Cholesky factor passed the conditioning check */
  KD_INFO_POTRS,
  KD_INFO_GEQRF,
  KD_INFO_ORMQR,
  KD_INFO_COUNT
} kd_info_id;

/* How the Gram matrix is formed: DSYRK (m^2 M flops) or DGEMM (2 m^2 M flops, but it
 * may well run faster, as cuBLAS DSYRK can fall well below DGEMM speed:
 * docs/gpu.md#flops). Chosen by KDBENCH_CUDA_GRAM=syrk|gemm at init; to be calibrated. */
typedef enum { KD_GRAM_SYRK, KD_GRAM_GEMM } kd_gram_method;

typedef struct {
  void *ptr;
  size_t cap; /* bytes */
} kd_cuda_buf;

typedef struct {
  int device;
  cudaStream_t stream;
  cublasHandle_t blas;
  cusolverDnHandle_t solver;
  cusolverDnParams_t params;
  kd_gram_method gram;
  double rcond_min; /* the conditioning check's threshold (backend_cuda.cu) */
  kd_cuda_buf dev[KD_DEV_COUNT];
  kd_cuda_buf pin[KD_PIN_COUNT];
  kd_cuda_buf host; /* cuSOLVER's host workspace (plain malloc) */
  /* cusolverDnXpotrf's workspace for order potrf_m (0: not queried yet) */
  int64_t potrf_m;
  size_t potrf_dev_bytes, potrf_host_bytes;
} kd_cuda_state;

static inline double *kd_dev(kd_cuda_state *s, kd_dev_id id) {
  return (double *)s->dev[id].ptr;
}
static inline int *kd_dev_info(kd_cuda_state *s, kd_info_id word) {
  return (int *)s->dev[D_INFO].ptr + word;
}

/* ---- grow-only buffers (workspace.cu) -----------------------------------------------------
 * Each grows every buffer whose entry in `bytes` exceeds its capacity (contents are
 * not kept) and leaves the others alone. The device one first compares the growth
 * with cudaMemGetInfo's free memory and refuses, in one line naming the stage's
 * shape, the need and the free memory, when it does not fit. */
kd_status kd_cuda_reserve_dev(kd_cuda_state *s, const size_t bytes[KD_DEV_COUNT],
                              const kd_stage *st);
kd_status kd_cuda_reserve_pin(kd_cuda_state *s, const size_t bytes[KD_PIN_COUNT]);
kd_status kd_cuda_reserve_host(kd_cuda_state *s, size_t bytes);
void kd_cuda_free_buffers(kd_cuda_state *s);

/* ---- the orthogonal-factorisation fallback (qr_fallback.cu) ---------------------------------- */

/* D_B = the stage's solution (theta_hat when whitened) by Householder QR, from D_X and
 * D_Y, which both Cholesky paths leave intact. Enqueued on the stream, not awaited. */
kd_status kd_cuda_solve_qr(kd_cuda_state *s, const kd_stage *st);

/* ---- kernels (gen_kernels.cu, linalg_kernels.cu) ----------------------------------------------
 * Each launcher enqueues on `stream`, checks the launch, and does nothing for empty
 * sizes. */

/* out[i + j ld] = scale[j] * normal(a, row i, column j), i < n, j < ncol (unscaled
 * when scale is NULL): kd_rng_fill's values, bit for bit. */
kd_status kd_cuda_fill_normal(cudaStream_t stream, kd_rng_addr a, size_t n, size_t ncol,
                              const double *scale, double *out, size_t ld);
/* out[j] = sqrt(in[j]). */
kd_status kd_cuda_sqrt(cudaStream_t stream, const double *in, double *out, size_t len);
/* out[j + r p] = in[j + r p] * s[j] (or / s[j] when divide), j < p, r < k. */
kd_status kd_cuda_scale_rows(cudaStream_t stream, const double *s, int divide,
                             const double *in, double *out, size_t p, size_t k);
/* g[i + i m] += shift, i < m. */
kd_status kd_cuda_add_diagonal(cudaStream_t stream, double *g, size_t m, double shift);
/* *trusted = (*info == 0 and (min_i L_ii / max_i L_ii)^2 >= rcond_min, every L_ii
 * positive and finite) for the m x m Cholesky factor L. */
kd_status kd_cuda_check_cholesky(cudaStream_t stream, const double *l, size_t m,
                                 const int *info, double rcond_min, int *trusted);
/* risk[r] = sum_j metric[j] (b[j + r p] - target[j])^2, r < k. */
kd_status kd_cuda_risk(cudaStream_t stream, const double *b, size_t p, size_t k,
                       const double *target, const double *metric, double *risk);
/* The m x m block at a (leading dimension lda) = c I. */
kd_status kd_cuda_set_scaled_identity(cudaStream_t stream, double *a, size_t m, size_t lda,
                                      double c);
/* KD_OK when this build's kernels can run on the current device, else KD_ENODEV with
 * "no CUDA device: ..." naming the device and its compute capability. */
kd_status kd_cuda_kernels_usable(void);

#endif
