/* Grow-only buffers of the CUDA backend: device memory, page-locked staging and
 * cuSOLVER's host workspace, sized by the memory plan (include/kdbench/cuda_plan.h).
 * Once the largest shape has been seen, a stage allocates nothing (cudaMalloc and
 * cudaFree synchronise the device, so they must stay out of the steady state). */
#include <stdio.h>
#include <stdlib.h>

#include "kd_cuda.h"

static const char *const dev_names[KD_DEV_COUNT] = {
    "the inputs", "the column scales", "the whitened sources", "the design",
    "the noise", "the labels", "the kernel-form solutions", "the Gram matrix",
    "the results", "the Cholesky workspace", "the estimator's vector",
    "the column sums", "the estimator's signs", "the estimator's state",
    "the cuBLAS workspace", "the QR matrix", "the QR right-hand sides",
    "the Householder scalars", "the QR workspace"};

static double mib(size_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static const char *const batch_names[KD_BATCH_DEV_COUNT] = {
    "a batch's inputs", "the column scales", "the whitened sources", "the designs",
    "the noise", "the labels", "the kernel-form solutions", "the Gram matrices",
    "the results", "the estimators' vectors", "the column sums", "the estimators' signs",
    "the estimators' states", "the pointer arrays"};

/* Grows the `count` buffers of `bufs` to `bytes`, checking the free memory first. */
static kd_status reserve_set(kd_cuda_state *s, kd_cuda_buf *bufs, int count,
                             const size_t *bytes, const char *const *names,
                             const kd_stage *st) {
  size_t need = 0;
  int largest = -1;
  for (int i = 0; i < count; ++i) {
    if (bufs[i].cap >= bytes[i]) continue;
    need = kd_add_sat(need, bytes[i]);
    if (largest < 0 || bytes[i] > bytes[largest]) largest = i;
  }
  if (need == 0) return KD_OK;
  /* The buffers that grow lose their contents anyway: free them first, so that the
   * free memory counted below includes what they held. */
  for (int i = 0; i < count; ++i) {
    if (bufs[i].cap >= bytes[i]) continue;
    KD_CUDA(cudaFree(bufs[i].ptr));
    bufs[i] = kd_cuda_buf{NULL, 0};
  }
  kd_cuda_drop_graphs(s); /* their pointers go stale */
  size_t free_bytes = 0, total_bytes = 0;
  KD_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (kd_add_sat(need, KD_CUDA_HEADROOM) > free_bytes) {
    char what[96] = "the backend's set-up";
    if (st) snprintf(what, sizeof what, "stage n = %zu, p = %zu, k = %zu", st->n, st->p, st->k);
    return kd_fail(KD_ENOMEM,
                   "cuda backend: %s needs %.1f MiB more device memory (%s: %.1f MiB) + "
                   "%.0f MiB headroom, %.1f MiB free of %.1f MiB",
                   what, mib(need), names[largest], mib(bytes[largest]),
                   mib(KD_CUDA_HEADROOM), mib(free_bytes), mib(total_bytes));
  }
  for (int i = 0; i < count; ++i) {
    if (bufs[i].cap >= bytes[i]) continue;
    KD_CUDA(cudaMalloc(&bufs[i].ptr, bytes[i]));
    bufs[i].cap = bytes[i];
  }
  return KD_OK;
}

kd_status kd_cuda_reserve_dev(kd_cuda_state *s, const size_t bytes[KD_DEV_COUNT],
                              const kd_stage *st) {
  return reserve_set(s, s->dev, KD_DEV_COUNT, bytes, dev_names, st);
}

kd_status kd_cuda_reserve_batch(kd_cuda_state *s, const size_t bytes[KD_BATCH_DEV_COUNT],
                                const kd_stage *st) {
  return reserve_set(s, s->bdev, KD_BATCH_DEV_COUNT, bytes, batch_names, st);
}

static kd_status reserve_pinned(kd_cuda_state *s, kd_cuda_buf *bufs, int count,
                                const size_t *bytes) {
  for (int i = 0; i < count; ++i) {
    kd_cuda_buf *b = &bufs[i];
    if (b->cap >= bytes[i]) continue;
    kd_cuda_drop_graphs(s);
    KD_CUDA(cudaFreeHost(b->ptr));
    *b = kd_cuda_buf{NULL, 0};
    KD_CUDA(cudaMallocHost(&b->ptr, bytes[i]));
    b->cap = bytes[i];
  }
  return KD_OK;
}

kd_status kd_cuda_reserve_pin(kd_cuda_state *s, const size_t bytes[KD_PIN_COUNT]) {
  return reserve_pinned(s, s->pin, KD_PIN_COUNT, bytes);
}

kd_status kd_cuda_reserve_batch_pin(kd_cuda_state *s, const size_t bytes[KD_BATCH_PIN_COUNT]) {
  return reserve_pinned(s, s->bpin, KD_BATCH_PIN_COUNT, bytes);
}

kd_status kd_cuda_reserve_host(kd_cuda_state *s, size_t bytes) {
  if (s->host.cap >= bytes) return KD_OK;
  kd_cuda_drop_graphs(s);
  free(s->host.ptr);
  s->host.ptr = malloc(bytes);
  s->host.cap = s->host.ptr ? bytes : 0;
  if (!s->host.ptr)
    return kd_fail(KD_ENOMEM, "cuda backend: cannot allocate %zu bytes of cuSOLVER host "
                   "workspace", bytes);
  return KD_OK;
}

/* Frees everything, carrying on past failures (a lost device fails every call). */
void kd_cuda_free_buffers(kd_cuda_state *s) {
  for (int i = 0; i < KD_DEV_COUNT; ++i) {
    cudaFree(s->dev[i].ptr);
    s->dev[i] = kd_cuda_buf{NULL, 0};
  }
  for (int i = 0; i < KD_PIN_COUNT; ++i) {
    cudaFreeHost(s->pin[i].ptr);
    s->pin[i] = kd_cuda_buf{NULL, 0};
  }
  for (int i = 0; i < KD_BATCH_DEV_COUNT; ++i) {
    cudaFree(s->bdev[i].ptr);
    s->bdev[i] = kd_cuda_buf{NULL, 0};
  }
  for (int i = 0; i < KD_BATCH_PIN_COUNT; ++i) {
    cudaFreeHost(s->bpin[i].ptr);
    s->bpin[i] = kd_cuda_buf{NULL, 0};
  }
  free(s->host.ptr);
  s->host = kd_cuda_buf{NULL, 0};
}
