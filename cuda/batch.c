/* The plan of batches of small stages (include/kdbench/cuda_batch.h). Plain C, built
 * with or without CUDA. */
#include "kdbench/cuda_batch.h"

#include <stdint.h>

#include "kdbench/backend.h"
#include "kdbench/rng.h"
#include "kdbench/size_sat.h"

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t doubles(size_t n) { return kd_mul_sat(n, sizeof(double)); }
/* bytes rounded up to whole doubles, so that the doubles after them stay aligned */
static size_t aligned(size_t bytes) {
  return bytes > SIZE_MAX - 7 ? SIZE_MAX : (bytes + 7) / 8 * 8;
}

kd_cuda_batch_in_layout kd_cuda_batch_in_layout_of(size_t p, size_t k, size_t trials) {
  kd_cuda_batch_in_layout l;
  l.addrs = 0;
  l.lambda = aligned(kd_mul_sat(2 * sizeof(kd_rng_addr), trials));
  l.target = kd_add_sat(l.lambda, doubles(p));
  l.metric = kd_add_sat(l.target, doubles(p));
  l.sigma = kd_add_sat(l.metric, doubles(p));
  l.sources = kd_add_sat(l.sigma, doubles(k));
  l.bytes = kd_add_sat(l.sources, doubles(kd_mul_sat(kd_mul_sat(p, k), trials)));
  return l;
}

kd_cuda_batch_out_layout kd_cuda_batch_out_layout_of(size_t p, size_t k, size_t trials) {
  kd_cuda_batch_out_layout l;
  l.info = 0;
  l.rcond = aligned(kd_mul_sat(KD_INFO_COUNT * sizeof(int32_t), trials));
  l.risk = kd_add_sat(l.rcond, doubles(trials));
  l.beta = kd_add_sat(l.risk, doubles(kd_mul_sat(k, trials)));
  l.bytes = kd_add_sat(l.beta, doubles(kd_mul_sat(kd_mul_sat(p, k), trials)));
  return l;
}

void kd_cuda_batch_bytes(size_t n, size_t p, size_t k, double ridge, size_t trials,
                         size_t dev[KD_BATCH_DEV_COUNT], size_t *pinned) {
  const size_t m = min_sz(n, p), b = trials;
  const int whitened = !(ridge > 0) && n >= p;
  dev[B_IN] = kd_cuda_batch_in_layout_of(p, k, b).bytes;
  dev[B_SCALE] = doubles(p);
  dev[B_SRC] = whitened ? doubles(kd_mul_sat(kd_mul_sat(p, k), b)) : 0;
  dev[B_X] = doubles(kd_mul_sat(kd_mul_sat(n, p), b));
  dev[B_NOISE] = doubles(kd_mul_sat(n, b));
  dev[B_Y] = doubles(kd_mul_sat(kd_mul_sat(n, k), b));
  dev[B_A] = p > n ? dev[B_Y] : 0;
  dev[B_G] = doubles(kd_mul_sat(kd_mul_sat(m, m), b));
  dev[B_OUT] = kd_cuda_batch_out_layout_of(p, k, b).bytes;
  dev[B_EST_X] = doubles(kd_mul_sat(m, b));
  dev[B_EST_S] = doubles(kd_mul_sat(m, b));
  dev[B_EST_I] = kd_mul_sat(kd_mul_sat(m, b), sizeof(int32_t));
  dev[B_EST] = kd_mul_sat(KD_CUDA_EST_STATE_BYTES, b);
  dev[B_PTRS] = kd_mul_sat(kd_mul_sat(3, b), sizeof(void *));
  *pinned = kd_add_sat(dev[B_IN], dev[B_OUT]);
}

static size_t device_total(size_t n, size_t p, size_t k, double ridge, size_t trials) {
  size_t dev[KD_BATCH_DEV_COUNT], pinned, total = 0;
  kd_cuda_batch_bytes(n, p, k, ridge, trials, dev, &pinned);
  for (int i = 0; i < KD_BATCH_DEV_COUNT; ++i) total = kd_add_sat(total, dev[i]);
  return total;
}

static double mib(size_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

kd_status kd_cuda_batch_plan_make(size_t n, size_t p, size_t k, double ridge, uint32_t trials,
                                  size_t free_bytes, const kd_cuda_lib_bytes *lib,
                                  kd_cuda_batch_plan *bp) {
  if (trials == 0) return kd_fail(KD_EINVAL, "cuda backend: a batch plan for no trials");
  /* every size is affine in the batch size: its value at 0 and its slope */
  const size_t one = device_total(n, p, k, ridge, 1), two = device_total(n, p, k, ridge, 2);
  kd_cuda_plan single;
  kd_cuda_plan_stage(n, p, k, ridge, lib, &single);
  bp->per_trial = bp->shared = SIZE_MAX;
  if (two != SIZE_MAX) {
    bp->per_trial = two - one;
    bp->shared = kd_add_sat(one - bp->per_trial, kd_cuda_plan_device_bytes(&single));
  }
  const size_t fixed = kd_add_sat(bp->shared, KD_CUDA_HEADROOM);
  size_t fit = 0;
  if (free_bytes > fixed && bp->per_trial != SIZE_MAX)
    fit = bp->per_trial ? (free_bytes - fixed) / bp->per_trial : SIZE_MAX;
  if (fit == 0)
    return kd_fail(KD_ENOMEM,
                   "cuda backend: a batch of one trial of n = %zu, p = %zu, k = %zu needs "
                   "%.1f MiB of device memory (%.0f MiB of it headroom), %.1f MiB free",
                   n, p, k, mib(kd_add_sat(fixed, bp->per_trial)), mib(KD_CUDA_HEADROOM),
                   mib(free_bytes));
  size_t cap = min_sz(fit, min_sz(trials, KD_CUDA_BATCH_MAX));
  if (min_sz(n, p) > KD_CUDA_BATCH_MAX_M) cap = 1;
  bp->batches = (uint32_t)((trials + cap - 1) / cap);
  bp->size = (trials + bp->batches - 1) / bp->batches;
  return KD_OK;
}

void kd_cuda_batch_range(const kd_cuda_batch_plan *bp, uint32_t trials, uint32_t i,
                         uint32_t *first, uint32_t *count) {
  kd_batch_range(trials, bp->batches, i, first, count);
}
