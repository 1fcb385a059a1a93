/* The debug entry points of include/kdbench/cuda_debug.h: the backend's generation
 * kernel on its own, for the bit-identity tests against kd_rng_fill, and what a state
 * has done and holds, for the tests of its fallbacks and memory plan. */
#include "kd_cuda.h"

/* Device memory of one generation, freed whatever happens. */
typedef struct {
  double *out, *scale;
  kd_rng_addr *addr;
} gen_buffers;

/* Generates into b->out (allocated here) and copies back. */
static kd_status generate(kd_rng_addr a, size_t n, size_t p, const double *scale,
                          double *host_out, gen_buffers *b) {
  const size_t bytes = kd_mul_sat(kd_mul_sat(n, p), sizeof(double));
  if (bytes == SIZE_MAX)
    return kd_fail(KD_EINVAL, "kd_cuda_generate_design: %zu x %zu is too large", n, p);
  KD_CUDA(cudaMalloc((void **)&b->out, bytes));
  KD_CUDA(cudaMalloc((void **)&b->addr, sizeof a));
  KD_CUDA(cudaMemcpy(b->addr, &a, sizeof a, cudaMemcpyHostToDevice));
  if (scale) {
    KD_CUDA(cudaMalloc((void **)&b->scale, p * sizeof(double)));
    KD_CUDA(cudaMemcpy(b->scale, scale, p * sizeof(double), cudaMemcpyHostToDevice));
  }
  KD_TRY(kd_cuda_fill_normal(0, b->addr, n, p, b->scale, b->out, n));
  KD_CUDA(cudaMemcpy(host_out, b->out, bytes, cudaMemcpyDeviceToHost));
  return KD_OK;
}

extern "C" kd_status kd_cuda_generate_design(kd_rng_addr a, size_t n, size_t p,
                                             const double *scale, double *host_out) {
  if (n == 0 || p == 0) return KD_OK;
  gen_buffers b = {NULL, NULL, NULL};
  kd_status rc = generate(a, n, p, scale, host_out, &b);
  cudaFree(b.out);
  cudaFree(b.scale);
  cudaFree(b.addr);
  return rc;
}

extern "C" void kd_cuda_fallback_counts(const void *state, unsigned long *qr,
                                        unsigned long *gelsy) {
  const kd_cuda_state *s = (const kd_cuda_state *)state;
  *qr = s->qr_solves;
  *gelsy = s->gelsy_solves;
}

extern "C" size_t kd_cuda_held_bytes(const void *state) {
  const kd_cuda_state *s = (const kd_cuda_state *)state;
  size_t total = 0;
  for (int i = 0; i < KD_DEV_COUNT; ++i) total = kd_add_sat(total, s->dev[i].cap);
  return total;
}

extern "C" void kd_cuda_lib_workspaces(const void *state, kd_cuda_lib_bytes *lib) {
  *lib = ((const kd_cuda_state *)state)->lib;
}

extern "C" double kd_cuda_last_rcond(const void *state) {
  return ((const kd_cuda_state *)state)->last_rcond;
}
