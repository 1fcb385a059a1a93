/* Generation of Gaussian matrices on the device: the design X (scaled columns) and
 * the label noise z (one unscaled column) are both this one kernel.
 *
 * Every value is kd_rng_normal_at's, computed by the same header code (rng.h) that
 * kd_rng_fill runs on the host: one Philox call per pair of rows (2t, 2t+1) of a
 * column, counter {t, column, trial << 8 | purpose, point}. The device path of that
 * header rounds every operation separately (__dmul_rn, __dadd_rn), and the column
 * scale is applied with __dmul_rn here, so the doubles are the host's bit for bit;
 * the mapping of threads to counters plays no part in the values. The stream's address
 * is read from device memory, uploaded with the stage's inputs, so that the same
 * launch (a captured graph's) serves every trial. */
#include "kd_cuda.h"

constexpr unsigned FILL_THREADS = 256;
constexpr uint64_t FILL_MAX_BLOCKS_X = 4096, MAX_GRID_Y = 65535, MAX_GRID_Z = 65535;

/* Threads stride over the row pairs of a column (consecutive threads write
 * consecutive 16-byte pairs), blocks in y over the columns, blocks in z over the
 * matrices of a batch (matrix z: its address at addr[z * addr_step], its values from
 * out + z * out_step). */
__global__ void fill_normal_kernel(const kd_rng_addr *addr, uint32_t addr_step, uint64_t n,
                                   uint32_t ncol, const double *__restrict__ scale,
                                   double *__restrict__ out, uint64_t ld, uint64_t out_step) {
  const kd_rng_addr a = addr[(uint64_t)blockIdx.z * addr_step];
  out += blockIdx.z * out_step;
  const uint64_t pairs = (n + 1) / 2;
  const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
  for (uint32_t j = blockIdx.y; j < ncol; j += gridDim.y) {
    uint32_t ctr[4], key[2], w[4];
    kd_rng_counter(a, 0, j, ctr, key);
    double *col = out + (uint64_t)j * ld;
    const double s = scale ? scale[j] : 1.0;
    for (uint64_t t = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; t < pairs;
         t += stride) {
      double z0, z1;
      ctr[0] = (uint32_t)t; /* as kd_rng_fill: the row pair's low 32 bits */
      kd_philox4x32_10(ctr, key, w);
      kd_normal_pair(w, &z0, &z1);
      const uint64_t i = 2 * t;
      col[i] = scale ? __dmul_rn(z0, s) : z0;
      if (i + 1 < n) col[i + 1] = scale ? __dmul_rn(z1, s) : z1;
    }
  }
}

kd_status kd_cuda_fill_normal_batch(cudaStream_t stream, const kd_rng_addr *a, size_t a_step,
                                    size_t n, size_t ncol, const double *scale, double *out,
                                    size_t ld, size_t out_step, size_t count) {
  if (n == 0 || ncol == 0 || count == 0) return KD_OK;
  if (ncol > UINT32_MAX || a_step > UINT32_MAX || count > MAX_GRID_Z)
    return kd_fail(KD_EINVAL, "cuda backend: %zu columns of %zu matrices exceed the generator's "
                   "grid", ncol, count);
  const uint64_t pairs = ((uint64_t)n + 1) / 2;
  const uint64_t bx = (pairs + FILL_THREADS - 1) / FILL_THREADS;
  dim3 grid((unsigned)(bx < FILL_MAX_BLOCKS_X ? bx : FILL_MAX_BLOCKS_X),
            (unsigned)(ncol < MAX_GRID_Y ? ncol : MAX_GRID_Y), (unsigned)count);
  fill_normal_kernel<<<grid, FILL_THREADS, 0, stream>>>(a, (uint32_t)a_step, n, (uint32_t)ncol,
                                                        scale, out, ld, out_step);
  return kd_cuda_check(cudaGetLastError(), "fill_normal_kernel launch");
}

kd_status kd_cuda_fill_normal(cudaStream_t stream, const kd_rng_addr *a, size_t n, size_t ncol,
                              const double *scale, double *out, size_t ld) {
  return kd_cuda_fill_normal_batch(stream, a, 0, n, ncol, scale, out, ld, 0, 1);
}
