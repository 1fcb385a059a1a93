/* kd_cuda_generate_design (include/kdbench/cuda_debug.h): the backend's generation
 * kernel on its own, for the bit-identity tests against kd_rng_fill. */
#include "kd_cuda.h"

/* Generates into *d_out (allocated here, freed by the caller) and copies back. */
static kd_status generate(kd_rng_addr a, size_t n, size_t p, const double *scale,
                          double *host_out, double **d_out, double **d_scale) {
  const size_t bytes = kd_mul_sat(kd_mul_sat(n, p), sizeof(double));
  if (bytes == SIZE_MAX)
    return kd_fail(KD_EINVAL, "kd_cuda_generate_design: %zu x %zu is too large", n, p);
  KD_CUDA(cudaMalloc((void **)d_out, bytes));
  if (scale) {
    KD_CUDA(cudaMalloc((void **)d_scale, p * sizeof(double)));
    KD_CUDA(cudaMemcpy(*d_scale, scale, p * sizeof(double), cudaMemcpyHostToDevice));
  }
  KD_TRY(kd_cuda_fill_normal(0, a, n, p, *d_scale, *d_out, n));
  KD_CUDA(cudaMemcpy(host_out, *d_out, bytes, cudaMemcpyDeviceToHost));
  return KD_OK;
}

extern "C" kd_status kd_cuda_generate_design(kd_rng_addr a, size_t n, size_t p,
                                             const double *scale, double *host_out) {
  if (n == 0 || p == 0) return KD_OK;
  double *d_out = NULL, *d_scale = NULL;
  kd_status rc = generate(a, n, p, scale, host_out, &d_out, &d_scale);
  cudaFree(d_out);
  cudaFree(d_scale);
  return rc;
}
