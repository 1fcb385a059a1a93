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
#include "kdbench/size_sat.h"
#include "kdbench/cuda_batch.h"
#include "kdbench/cuda_plan.h"
}

/* ---- errors (errors.cu) -----------------------------------------------------------
 * Each turns a failed call into kd_fail(code, "cuda backend: <call> failed: <why>"),
 * naming the call by the text of `call` up to its '(' (the macros pass #call). */
kd_status kd_cuda_check(cudaError_t e, const char *call);
kd_status kd_cublas_check(cublasStatus_t s, const char *call);
kd_status kd_cusolver_check(cusolverStatus_t s, const char *call);

/* The debug mode (KDBENCH_CUDA_SYNC=1): each check above, on success, synchronises
 * the device and reports any fault as the checked call's. */
void kd_cuda_set_sync(int on);
int kd_cuda_sync_on(void);

#define KD_TRY(expr)                         \
  do {                                       \
    kd_status kd_try_rc_ = (expr);           \
    if (kd_try_rc_ != KD_OK) return kd_try_rc_; \
  } while (0)
#define KD_CUDA(call) KD_TRY(kd_cuda_check((call), #call))
#define KD_CUBLAS(call) KD_TRY(kd_cublas_check((call), #call))
#define KD_CUSOLVER(call) KD_TRY(kd_cusolver_check((call), #call))

/* ---- the state ------------------------------------------------------------------------- */

/* The buffers (kd_dev_id, kd_pin_id) and the info words (kd_info_id) are those of the
 * memory plan, include/kdbench/cuda_plan.h. */

/* How the Gram matrix is formed: DSYRK (m^2 M flops) or DGEMM (2 m^2 M flops, but it
 * may well run faster, as cuBLAS DSYRK can fall well below DGEMM speed:
 * docs/gpu.md#flops). Chosen by KDBENCH_CUDA_GRAM=syrk|gemm at init; to be calibrated. */
typedef enum { KD_GRAM_SYRK, KD_GRAM_GEMM } kd_gram_method;

typedef struct {
  void *ptr;
  size_t cap; /* bytes */
} kd_cuda_buf;

/* Page-locked staging of a batch: its upload, its download, its pointer arrays. */
typedef enum { BH_IN, BH_OUT, BH_PTRS, KD_BATCH_PIN_COUNT } kd_batch_pin_id;

/* A stage captured as a CUDA graph, for one shape (graph.cu). */
typedef struct {
  size_t n, p, k;
  double ridge;
  int beta; /* whether the download includes beta_hat */
  cudaGraphExec_t exec;
} kd_cuda_graph;
#define KD_CUDA_GRAPHS 8

typedef struct {
  int device;
  cudaStream_t stream;
  cublasHandle_t blas;
  cusolverDnHandle_t solver;
  cusolverDnParams_t params;
  kd_gram_method gram;
  double rcond_min;  /* the conditioning check's threshold (backend_cuda.cu) */
  int use_graphs;    /* KDBENCH_CUDA_GRAPH (and not the debug mode) */
  kd_cuda_buf dev[KD_DEV_COUNT];
  kd_cuda_buf pin[KD_PIN_COUNT];
  kd_cuda_buf host;  /* cuSOLVER's host workspace (plain malloc) */
  kd_cuda_buf bdev[KD_BATCH_DEV_COUNT]; /* a batch's (batch_stage.cu) */
  kd_cuda_buf bpin[KD_BATCH_PIN_COUNT];
  /* the library workspaces of the last shape queried (reserve_stage) */
  size_t lib_n, lib_p, lib_k;
  double lib_ridge;
  kd_cuda_lib_bytes lib;
  kd_cuda_graph graphs[KD_CUDA_GRAPHS];
  unsigned next_graph;  /* the slot a new graph takes (round robin) */
  char graph_off[160];  /* why graphs were switched off, when they were ("": they run) */
  kd_backend cpu;       /* opened when a stage is first handed to the CPU's dgelsy */
  /* fallback solves since init, by kind (kd_cuda_fallback_counts, for tests) */
  unsigned long qr_solves, gelsy_solves;
  double last_rcond;    /* the last stage's conditioning estimate (kd_cuda_last_rcond) */
} kd_cuda_state;

static inline double *kd_dev(kd_cuda_state *s, kd_dev_id id) {
  return (double *)s->dev[id].ptr;
}
/* The parts of D_OUT (kd_cuda_out_layout: the info words and rcond at fixed offsets). */
static inline int *kd_out_info(kd_cuda_state *s, kd_info_id word) {
  return (int *)s->dev[D_OUT].ptr + word;
}
static inline double *kd_out_rcond(kd_cuda_state *s) {
  return (double *)((char *)s->dev[D_OUT].ptr + kd_cuda_out_layout_of(0, 0).rcond);
}
static inline double *kd_out_risk(kd_cuda_state *s, const kd_stage *st) {
  return (double *)((char *)s->dev[D_OUT].ptr + kd_cuda_out_layout_of(st->p, st->k).risk);
}
static inline double *kd_out_beta(kd_cuda_state *s, const kd_stage *st) {
  return (double *)((char *)s->dev[D_OUT].ptr + kd_cuda_out_layout_of(st->p, st->k).beta);
}

/* ---- stages (backend_cuda.cu, batch_stage.cu) ------------------------------------------------ */

/* Every buffer of st's shape, the fallback's and the library workspaces included. */
kd_status kd_cuda_reserve_stage(kd_cuda_state *s, const kd_stage *st);
/* One stage (the descriptor's run_stage). */
kd_status kd_cuda_run_one(kd_cuda_state *s, kd_stage *st);
/* Stages of one shape and problem in batches (the descriptor's run_batch). */
kd_status kd_cuda_run_batch(void *state, kd_stage *st, size_t count);
/* Trials per batch of this shape in the memory free now (the descriptor's batch_size). */
size_t kd_cuda_batch_size(void *state, size_t n, size_t p, size_t k, double ridge,
                          size_t trials);

/* ---- grow-only buffers (workspace.cu) -----------------------------------------------------
 * Each grows every buffer whose entry in `bytes` exceeds its capacity (contents are
 * not kept) and leaves the others alone. The device one first compares the growth
 * with cudaMemGetInfo's free memory less KD_CUDA_HEADROOM and refuses, in one line
 * naming the stage's shape, the need and the free memory, when it does not fit; any
 * growth drops the captured graphs, whose pointers it invalidates. */
kd_status kd_cuda_reserve_dev(kd_cuda_state *s, const size_t bytes[KD_DEV_COUNT],
                              const kd_stage *st);
kd_status kd_cuda_reserve_pin(kd_cuda_state *s, const size_t bytes[KD_PIN_COUNT]);
kd_status kd_cuda_reserve_batch(kd_cuda_state *s, const size_t bytes[KD_BATCH_DEV_COUNT],
                                const kd_stage *st);
kd_status kd_cuda_reserve_batch_pin(kd_cuda_state *s, const size_t bytes[KD_BATCH_PIN_COUNT]);
kd_status kd_cuda_reserve_host(kd_cuda_state *s, size_t bytes);
void kd_cuda_free_buffers(kd_cuda_state *s);

/* ---- graphs (graph.cu) -------------------------------------------------------------------- */

/* The stage's device work (upload to download) for st's shape, on the stream. */
typedef kd_status (*kd_cuda_enqueue_fn)(kd_cuda_state *s, const kd_stage *st);
/* Runs `enqueue` for st: replays the graph captured for its shape (capturing it the
 * first time), or enqueues directly when graphs are off; does not synchronise. A
 * capture that fails turns graphs off for the state (the reason kept in graph_off)
 * and enqueues directly. */
kd_status kd_cuda_launch(kd_cuda_state *s, const kd_stage *st, kd_cuda_enqueue_fn enqueue);
void kd_cuda_drop_graphs(kd_cuda_state *s);

/* ---- the orthogonal-factorisation fallback (qr_fallback.cu) ---------------------------------- */

/* The stage's solution (theta_hat when whitened) into D_OUT's beta by Householder QR,
 * from D_X and D_Y, which both Cholesky paths leave intact; synchronises (its check of
 * R is driven from the host). *singular = 1, the solution not computed, when R is
 * numerically singular by dtrcon's estimate: the CPU then finishes with dgelsy. */
kd_status kd_cuda_solve_qr(kd_cuda_state *s, const kd_stage *st, int *singular);

/* ---- the conditioning check (cond_kernels.cu) --------------------------------------------- */

/* sums[j] = sum_i |A_ij|, j < m: of the symmetric matrix stored in A's lower triangle
 * (upper = 0), or of A's upper triangle (upper = 1). */
kd_status kd_cuda_col_abs_sums(cudaStream_t stream, const double *a, size_t lda, size_t m,
                               int upper, double *sums);
/* The same for `count` matrices: matrix z at a + z a_step, its sums at sums + z m. */
kd_status kd_cuda_col_abs_sums_batch(cudaStream_t stream, const double *a, size_t lda,
                                     size_t a_step, size_t m, int upper, double *sums,
                                     size_t count);
/* After cusolverDnXpotrf of D_G (order m), whose norm's column sums are in D_EST_S:
 * dpocon's estimate into D_OUT's rcond, the verdict into KD_INFO_TRUSTED. Enqueued
 * only (KD_EST_MAX_SOLVES solves and steps, whatever the data). */
kd_status kd_cuda_check_cholesky(kd_cuda_state *s, size_t m, double rcond_min);
/* A batch's buffers for the same check on `count` factors of order m, the solves by
 * cublasDtrsmBatched (the handle bound to the stream): device pointer arrays to each
 * trial's factor and estimator vector, and the contiguous arrays (m per trial, one
 * per trial) behind them. */
typedef struct {
  size_t m, count;
  double *const *factors, *const *xs;
  double *x, *sums, *rcond;
  int32_t *isgn;
  void *states; /* KD_CUDA_EST_STATE_BYTES per trial */
  const int *potrf_info;
  int *trusted;
} kd_cuda_est_batch;
kd_status kd_cuda_check_cholesky_batch(cudaStream_t stream, cublasHandle_t blas,
                                       const kd_cuda_est_batch *b, double rcond_min);

/* ---- kernels (gen_kernels.cu, linalg_kernels.cu) ----------------------------------------------
 * Each launcher enqueues on `stream`, checks the launch, and does nothing for empty
 * sizes. */

/* out[i + j ld] = scale[j] * normal(*a, row i, column j), i < n, j < ncol (unscaled
 * when scale is NULL; a in device memory): kd_rng_fill's values, bit for bit. */
kd_status kd_cuda_fill_normal(cudaStream_t stream, const kd_rng_addr *a, size_t n, size_t ncol,
                              const double *scale, double *out, size_t ld);
/* The same for `count` matrices: matrix z from the address a[z a_step] into
 * out + z out_step. */
kd_status kd_cuda_fill_normal_batch(cudaStream_t stream, const kd_rng_addr *a, size_t a_step,
                                    size_t n, size_t ncol, const double *scale, double *out,
                                    size_t ld, size_t out_step, size_t count);
/* out[j] = sqrt(in[j]). */
kd_status kd_cuda_sqrt(cudaStream_t stream, const double *in, double *out, size_t len);
/* out[j + r p] = in[j + r p] * s[j] (or / s[j] when divide), j < p, r < k. */
kd_status kd_cuda_scale_rows(cudaStream_t stream, const double *s, int divide,
                             const double *in, double *out, size_t p, size_t k);
/* g[i + i m] += shift, i < m. */
kd_status kd_cuda_add_diagonal(cudaStream_t stream, double *g, size_t m, double shift);
/* risk[r] = sum_j metric[j] (b[j + r p] - target[j])^2, r < k. */
kd_status kd_cuda_risk(cudaStream_t stream, const double *b, size_t p, size_t k,
                       const double *target, const double *metric, double *risk);
/* dst[i + j ldd] = src[i + j lds], i < rows, j < cols (any sizes: no pitch limit). */
kd_status kd_cuda_copy_block(cudaStream_t stream, const double *src, size_t lds, double *dst,
                             size_t ldd, size_t rows, size_t cols);
/* dst[j + i ldd] = src[i + j lds], i < rows, j < cols: dst (cols x rows) = src^T. */
kd_status kd_cuda_transpose(cudaStream_t stream, const double *src, size_t lds, double *dst,
                            size_t ldd, size_t rows, size_t cols);
/* The m x m block at a (leading dimension lda) = c I. */
kd_status kd_cuda_set_scaled_identity(cudaStream_t stream, double *a, size_t m, size_t lda,
                                      double c);
/* KD_OK when this build's kernels can run on the current device, else KD_ENODEV with
 * "no CUDA device: ..." naming the device and its compute capability. */
kd_status kd_cuda_kernels_usable(void);

#endif
