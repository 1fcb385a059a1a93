/* The CUDA backend's memory plan: every buffer a stage of a given shape takes on the
 * device and in page-locked staging, the QR fallback's and the libraries' workspaces
 * included, so that a stage is refused before it starts rather than partway through.
 * Plain C (cuda/plan.c), computed without a device: the library workspaces, which only
 * cuBLAS and cuSOLVER can size, come in as numbers (kd_cuda_lib_bytes). */
#ifndef KDBENCH_CUDA_PLAN_H
#define KDBENCH_CUDA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device buffers of a stage. */
typedef enum {
  D_IN,    /* the uploaded inputs (kd_cuda_in_layout) */
  D_SCALE, /* p: sqrt(lambda) */
  D_SRC,   /* p x k: sqrt(lambda) .* sources, whitened path only */
  D_X,     /* n x p: the design X, or Z on the whitened path */
  D_NOISE, /* n: the common noise vector z */
  D_Y,     /* n x k: labels, kept intact for the fallback */
  D_A,     /* n x k: G^-1 Y on the kernel path (solved in place) */
  D_G,     /* m x m: the Gram matrix, then its Cholesky factor */
  D_OUT,   /* the results, downloaded in one copy (kd_cuda_out_layout) */
  D_POTRF, /* cusolverDnXpotrf's device workspace */
  D_EST_X, /* m: the condition estimator's vector */
  D_EST_S, /* m: column sums of |G| or |R|, for the 1-norm */
  D_EST_I, /* m int32: the estimator's sign vector */
  D_EST,   /* the estimator's state (kd_cuda_est, cond_kernels.cu) */
  D_BLAS,  /* the cuBLAS workspace, ours so that it is counted (cublasSetWorkspace) */
  /* the QR fallback's */
  D_QR,     /* rows x m: [X; c I] or [X^T; c I] (ridgeless n >= p factors Z itself) */
  D_RHS,    /* rows x k: [Y; 0], then the solution in its top rows */
  D_TAU,    /* m: the Householder scalars */
  D_QRWORK, /* the shared workspace of cusolverDnXgeqrf and cusolverDnDormqr */
  KD_DEV_COUNT
} kd_dev_id;

/* Page-locked host staging. */
typedef enum {
  H_IN,  /* as D_IN */
  H_OUT, /* as D_OUT */
  H_EST, /* m doubles + m int32: the QR fallback's estimator, driven from the host */
  KD_PIN_COUNT
} kd_pin_id;

/* The words of the info block at the head of D_OUT. */
typedef enum {
  KD_INFO_POTRF,   /* cusolverDnXpotrf: > 0 when a leading minor is not positive */
  KD_INFO_TRUSTED, /* 1 when the Cholesky factor passed the conditioning check */
  KD_INFO_POTRS,   /* the solve of the right-hand sides */
  KD_INFO_EST,     /* the estimator's solves */
  KD_INFO_GEQRF,
  KD_INFO_ORMQR,
  KD_INFO_COUNT
} kd_info_id;

/* Buffers cuBLAS and cuSOLVER size themselves, in bytes (from their bufferSize
 * queries), and the cuBLAS workspace the backend hands its handle. */
typedef struct {
  size_t potrf, potrf_host; /* cusolverDnXpotrf at order m */
  size_t qr, qr_host;       /* the larger of cusolverDnXgeqrf's and cusolverDnDormqr's */
  size_t blas;              /* KD_CUDA_BLAS_WORKSPACE */
} kd_cuda_lib_bytes;

/* Bytes reserved for the estimator's state (cond_kernels.cu asserts it fits). */
#define KD_CUDA_EST_STATE_BYTES 64
/* The cuBLAS workspace: NVIDIA's recommendation for Hopper. */
#define KD_CUDA_BLAS_WORKSPACE ((size_t)32 << 20)
/* Left free for what the libraries allocate without asking (cuSOLVER's own cuBLAS
 * handle and internals) and the context's growth (local memory of the kernels). */
#define KD_CUDA_HEADROOM ((size_t)128 << 20)

/* The QR fallback's system: rows x m, with m = min(n, p), rows = max(n, p) (+ m when
 * ridge > 0); kernel when p > n (it factors X^T); in_place when ridgeless n >= p (it
 * factors Z itself, no copy). */
typedef struct {
  size_t rows, m;
  int kernel, in_place;
} kd_cuda_qr_shape;
kd_cuda_qr_shape kd_cuda_qr_shape_of(size_t n, size_t p, double ridge);

/* Offsets, in bytes, of D_IN's parts: the design's and the noise's stream addresses
 * (kd_rng_addr, read by the generation kernel from device memory, so that a captured
 * graph serves every trial), lambda, target, metric (p doubles each), sigma (k),
 * sources (p x k); `bytes` in all. */
typedef struct {
  size_t design, noise, lambda, target, metric, sigma, sources, bytes;
} kd_cuda_in_layout;
kd_cuda_in_layout kd_cuda_in_layout_of(size_t p, size_t k);

/* Offsets, in bytes, of D_OUT's parts: the info words (KD_INFO_COUNT int32), the
 * conditioning estimate (one double), the k risks, then beta_hat (p x k, the solves'
 * working storage too). A stage downloads [0, beta) without beta_hat, [0, bytes) with
 * it: one copy either way. */
typedef struct {
  size_t info, rcond, risk, beta, bytes;
} kd_cuda_out_layout;
kd_cuda_out_layout kd_cuda_out_layout_of(size_t p, size_t k);

typedef struct {
  size_t dev[KD_DEV_COUNT]; /* device bytes of each buffer */
  size_t pin[KD_PIN_COUNT]; /* page-locked bytes */
  size_t host;              /* cuSOLVER's host workspace */
} kd_cuda_plan;

/* Every buffer of a stage of this shape, the fallback's included; SIZE_MAX where a
 * size overflows. `lib` NULL: the library workspaces as zero (the data alone). */
void kd_cuda_plan_stage(size_t n, size_t p, size_t k, double ridge,
                        const kd_cuda_lib_bytes *lib, kd_cuda_plan *plan);
/* The sum of the plan's device buffers (SIZE_MAX on overflow), without the headroom. */
size_t kd_cuda_plan_device_bytes(const kd_cuda_plan *plan);
/* What growing buffers of capacities `cap` to the plan allocates: the sum of the new
 * sizes of those that grow (a growing buffer is freed first, its contents lost). */
size_t kd_cuda_plan_growth(const kd_cuda_plan *plan, const size_t cap[KD_DEV_COUNT]);

/* The memory check's model (kd_backend_type.workspace, host/sim/point.c): grows w's
 * device slots (the plan's buffers, then the headroom) and host slots (the staging
 * buffers, then the state of `state_bytes`) to a state that has run a stage of this
 * shape. The libraries' solver workspaces, which only a device can size, are not in
 * it (reserve_stage counts them on the device before the stage starts); the cuBLAS
 * workspace, a constant, is. */
void kd_cuda_plan_workspace(kd_workspace *w, size_t n, size_t p, size_t k, double ridge,
                            size_t state_bytes);

#ifdef __cplusplus
}
#endif

#endif
