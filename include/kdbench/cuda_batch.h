/* Batches of small stages on the CUDA backend: many trials of one shape per launch
 * (strided-batched cuBLAS, batched Cholesky, one generation launch for the batch), so
 * that a sweep at p = 500 is not bound by launch latency. This is the plan, in plain C
 * (cuda/batch.c), computed without a device: the buffers of a batch of B trials, the
 * largest B that fits the free device memory, and the split of a point's trials into
 * batches of near-equal size. */
#ifndef KDBENCH_CUDA_BATCH_H
#define KDBENCH_CUDA_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/cuda_plan.h"
#include "kdbench/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Trials are batched where min(n, p) <= KD_CUDA_BATCH_MAX_M: above it one trial fills
 * the device (and cusolverDnDpotrfBatched takes int sizes). */
#define KD_CUDA_BATCH_MAX_M 1024
/* Trials per batch at most (a grid dimension, and the batched solvers' int counts). */
#define KD_CUDA_BATCH_MAX 4096

/* Device buffers of a batch of B trials of one shape (m = min(n, p)). */
typedef enum {
  B_IN,    /* the uploaded inputs (kd_cuda_batch_in_layout) */
  B_SCALE, /* p: sqrt(lambda), shared */
  B_SRC,   /* p x k x B: sqrt(lambda) .* sources, whitened path only */
  B_X,     /* n x p x B */
  B_NOISE, /* n x B */
  B_Y,     /* n x k x B */
  B_A,     /* n x k x B: the kernel form's solutions */
  B_G,     /* m x m x B: the Grams, then their Cholesky factors */
  B_OUT,   /* the results, downloaded in one copy (kd_cuda_batch_out_layout) */
  B_EST_X, /* m x B: the estimators' vectors */
  B_EST_S, /* m x B: the column sums of |G| */
  B_EST_I, /* m x B int32: the estimators' signs */
  B_EST,   /* B estimator states */
  B_PTRS,  /* 3 B device pointers: each trial's factor, right-hand sides, estimator vector */
  KD_BATCH_DEV_COUNT
} kd_batch_dev_id;

/* Offsets, in bytes, of B_IN's parts: the 2 B stream addresses (design, noise of each
 * trial), lambda, target, metric (p doubles each, shared), sigma (k, shared), then
 * each trial's sources (p x k each); `bytes` in all. */
typedef struct {
  size_t addrs, lambda, target, metric, sigma, sources, bytes;
} kd_cuda_batch_in_layout;
kd_cuda_batch_in_layout kd_cuda_batch_in_layout_of(size_t p, size_t k, size_t trials);

/* Offsets, in bytes, of B_OUT's parts: the info words (KD_INFO_COUNT int32 per trial),
 * each trial's conditioning estimate, the k risks of each trial, then each trial's
 * beta_hat (p x k). A batch downloads [0, beta) without beta_hat, [0, bytes) with it. */
typedef struct {
  size_t info, rcond, risk, beta, bytes;
} kd_cuda_batch_out_layout;
kd_cuda_batch_out_layout kd_cuda_batch_out_layout_of(size_t p, size_t k, size_t trials);

/* Every buffer of a batch of `trials` trials of this shape (SIZE_MAX on overflow). */
void kd_cuda_batch_bytes(size_t n, size_t p, size_t k, double ridge, size_t trials,
                         size_t dev[KD_BATCH_DEV_COUNT], size_t *pinned);

typedef struct {
  size_t shared;    /* device bytes independent of the batch size: the shared inputs and
                       the single-stage plan that flagged trials fall back to */
  size_t per_trial; /* device bytes each trial of a batch adds */
  uint32_t size;    /* trials of the largest batch, which the buffers are sized for */
  uint32_t batches; /* batches for the point's trials, their sizes differing by one at most */
} kd_cuda_batch_plan;

/* The batches of `trials` trials of this shape on a device with `free_bytes` free:
 * the largest batch (at most KD_CUDA_BATCH_MAX, 1 where min(n, p) > KD_CUDA_BATCH_MAX_M)
 * whose buffers, the shared ones and KD_CUDA_HEADROOM fit, and the fewest batches of
 * near-equal size. `lib`: the single stage's library workspaces (NULL: none known).
 * KD_ENOMEM, in one line naming the shape, the need and the free memory, when not even
 * one trial fits; KD_EINVAL for no trials. */
kd_status kd_cuda_batch_plan_make(size_t n, size_t p, size_t k, double ridge, uint32_t trials,
                                  size_t free_bytes, const kd_cuda_lib_bytes *lib,
                                  kd_cuda_batch_plan *bp);
/* Batch i's trials: [*first, *first + *count) of [0, trials). */
void kd_cuda_batch_range(const kd_cuda_batch_plan *bp, uint32_t trials, uint32_t i,
                         uint32_t *first, uint32_t *count);

#ifdef __cplusplus
}
#endif

#endif
