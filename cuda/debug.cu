/* The debug entry points of include/kdbench/cuda_debug.h: the backend's generation
 * kernel on its own, for the bit-identity tests against kd_rng_fill; what a state has
 * done and holds, for the tests of its fallbacks and memory plan; and a DGEMM ceiling
 * for bench_stage. */
#include <algorithm>

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

/* Device memory and handles of the DGEMM timing, released whatever happens. */
typedef struct {
  double *a, *b, *c;
  kd_rng_addr *addr;
  cublasHandle_t blas;
  cudaEvent_t start, stop;
} dgemm_buffers;

static kd_status time_dgemm(size_t n, int reps, dgemm_buffers *d, double *tflops) {
  const size_t bytes = kd_mul_sat(kd_mul_sat(n, n), sizeof(double));
  KD_CUDA(cudaMalloc((void **)&d->a, bytes));
  KD_CUDA(cudaMalloc((void **)&d->b, bytes));
  KD_CUDA(cudaMalloc((void **)&d->c, bytes));
  const kd_rng_addr streams[2] = {{20240601u, 1, 0, KD_PURPOSE_DESIGN},
                                  {20240601u, 1, 1, KD_PURPOSE_DESIGN}};
  KD_CUDA(cudaMalloc((void **)&d->addr, sizeof streams));
  KD_CUDA(cudaMemcpy(d->addr, streams, sizeof streams, cudaMemcpyHostToDevice));
  /* random operands: products of zeros run faster than real ones */
  KD_TRY(kd_cuda_fill_normal(0, d->addr, n, n, NULL, d->a, n));
  KD_TRY(kd_cuda_fill_normal(0, d->addr + 1, n, n, NULL, d->b, n));
  KD_CUBLAS(cublasCreate(&d->blas));
  KD_CUDA(cudaEventCreate(&d->start));
  KD_CUDA(cudaEventCreate(&d->stop));
  const double one = 1.0, zero = 0.0;
  const int64_t m = (int64_t)n;
  double ms[64];
  reps = std::max(1, std::min(reps, 64));
  for (int r = -1; r < reps; ++r) { /* r = -1: the warm-up */
    KD_CUDA(cudaEventRecord(d->start, 0));
    KD_CUBLAS(cublasDgemm_64(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, m, m, m, &one, d->a, m, d->b, m,
                             &zero, d->c, m));
    KD_CUDA(cudaEventRecord(d->stop, 0));
    KD_CUDA(cudaEventSynchronize(d->stop));
    float t = 0;
    KD_CUDA(cudaEventElapsedTime(&t, d->start, d->stop));
    if (r >= 0) ms[r] = t;
  }
  std::sort(ms, ms + reps);
  const double median = reps % 2 ? ms[reps / 2] : 0.5 * (ms[reps / 2 - 1] + ms[reps / 2]);
  *tflops = 2.0 * (double)n * (double)n * (double)n / (median * 1e-3) * 1e-12;
  return KD_OK;
}

extern "C" kd_status kd_cuda_dgemm_tflops(size_t n, int reps, double *tflops) {
  dgemm_buffers d = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  kd_status rc = time_dgemm(n, reps, &d, tflops);
  if (d.blas) cublasDestroy(d.blas);
  if (d.start) cudaEventDestroy(d.start);
  if (d.stop) cudaEventDestroy(d.stop);
  cudaFree(d.a);
  cudaFree(d.b);
  cudaFree(d.c);
  cudaFree(d.addr);
  return rc;
}
