/* The small kernels around the library calls: column scales, the ridge shift, the
 * fused risk reduction, and the block copies and identity block of the fallback's
 * augmented matrix (the conditioning check has its own file, cond_kernels.cu). All
 * are memory-bound and tiny next to the Gram; they exist so that nothing but inputs
 * and results crosses PCIe. */
#include <stdio.h>

#include "kd_cuda.h"

constexpr unsigned THREADS = 256;
constexpr size_t MAX_BLOCKS = 4096, MAX_GRID_Y = 65535;

static unsigned blocks_for(size_t len) {
  size_t b = (len + THREADS - 1) / THREADS;
  return (unsigned)(b < MAX_BLOCKS ? b : MAX_BLOCKS);
}
static unsigned grid_y(size_t len) { return (unsigned)(len < MAX_GRID_Y ? len : MAX_GRID_Y); }

#define FOR_EACH(i, len) \
  for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (len); \
       i += (uint64_t)gridDim.x * blockDim.x)

/* ---- element-wise ---------------------------------------------------------------------- */

/* Correctly rounded, as the host's sqrt: the scales match the CPU's bit for bit. */
__global__ void sqrt_kernel(const double *in, double *out, uint64_t len) {
  FOR_EACH(j, len) out[j] = __dsqrt_rn(in[j]);
}

__global__ void scale_rows_kernel(const double *s, int divide, const double *in, double *out,
                                  uint64_t p, uint64_t k) {
  for (uint64_t r = blockIdx.y; r < k; r += gridDim.y) {
    FOR_EACH(j, p) {
      const uint64_t at = j + r * p;
      out[at] = divide ? __ddiv_rn(in[at], s[j]) : __dmul_rn(in[at], s[j]);
    }
  }
}

__global__ void add_diagonal_kernel(double *g, uint64_t m, double shift) {
  FOR_EACH(i, m) g[i + i * m] += shift;
}

__global__ void scaled_identity_kernel(double *a, uint64_t m, uint64_t lda, double c) {
  for (uint64_t j = blockIdx.y; j < m; j += gridDim.y) {
    FOR_EACH(i, m) a[i + j * lda] = i == j ? c : 0.0;
  }
}

/* dst[i + j ldd] = src[i + j lds]: a column-major block copy. cudaMemcpy2DAsync would
 * do it, but its pitches (rows x 8 bytes) are capped near 2^31 bytes by the device
 * (cudaDevAttrMaxPitch), which stages with ~2.7e8 rows exceed. */
__global__ void copy_block_kernel(const double *src, uint64_t lds, double *dst, uint64_t ldd,
                                  uint64_t rows, uint64_t cols) {
  for (uint64_t j = blockIdx.y; j < cols; j += gridDim.y) {
    FOR_EACH(i, rows) dst[i + j * ldd] = src[i + j * lds];
  }
}

/* dst[j + i ldd] = src[i + j lds] (dst = src^T), through 32 x 32 tiles in shared
 * memory so that both the reads and the writes are coalesced. Blocks of 32 x 8
 * threads, each thread moving 4 elements of its tile; the grid strides over tiles. */
constexpr unsigned TILE = 32, TILE_ROWS = 8;
__global__ void transpose_kernel(const double *src, uint64_t lds, double *dst, uint64_t ldd,
                                 uint64_t rows, uint64_t cols) {
  __shared__ double tile[TILE][TILE + 1]; /* +1: no bank conflicts on the transposed read */
  for (uint64_t tj = (uint64_t)blockIdx.y * TILE; tj < cols; tj += (uint64_t)gridDim.y * TILE) {
    for (uint64_t ti = (uint64_t)blockIdx.x * TILE; ti < rows;
         ti += (uint64_t)gridDim.x * TILE) {
      for (unsigned r = threadIdx.y; r < TILE; r += TILE_ROWS) {
        const uint64_t i = ti + threadIdx.x, j = tj + r;
        if (i < rows && j < cols) tile[r][threadIdx.x] = src[i + j * lds];
      }
      __syncthreads();
      for (unsigned r = threadIdx.y; r < TILE; r += TILE_ROWS) {
        const uint64_t j = tj + threadIdx.x, i = ti + r; /* dst row j, column i */
        if (i < rows && j < cols) dst[j + i * ldd] = tile[threadIdx.x][r];
      }
      __syncthreads();
    }
  }
}

/* ---- reductions (one block each, a fixed tree: the same sums on every run) --------------- */

/* Block r: risk[r] = sum_j metric_j (b_jr - target_j)^2. */
__global__ void risk_kernel(const double *b, uint64_t p, const double *target,
                            const double *metric, double *risk) {
  __shared__ double part[THREADS];
  const double *br = b + (uint64_t)blockIdx.x * p;
  double sum = 0;
  for (uint64_t j = threadIdx.x; j < p; j += blockDim.x) {
    const double d = br[j] - target[j];
    sum += metric[j] * d * d;
  }
  part[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) risk[blockIdx.x] = part[0];
}

/* ---- launchers ----------------------------------------------------------------------------- */

kd_status kd_cuda_sqrt(cudaStream_t stream, const double *in, double *out, size_t len) {
  if (len == 0) return KD_OK;
  sqrt_kernel<<<blocks_for(len), THREADS, 0, stream>>>(in, out, len);
  return kd_cuda_check(cudaGetLastError(), "sqrt_kernel launch");
}

kd_status kd_cuda_scale_rows(cudaStream_t stream, const double *s, int divide,
                             const double *in, double *out, size_t p, size_t k) {
  if (p == 0 || k == 0) return KD_OK;
  dim3 grid(blocks_for(p), grid_y(k));
  scale_rows_kernel<<<grid, THREADS, 0, stream>>>(s, divide, in, out, p, k);
  return kd_cuda_check(cudaGetLastError(), "scale_rows_kernel launch");
}

kd_status kd_cuda_add_diagonal(cudaStream_t stream, double *g, size_t m, double shift) {
  if (m == 0) return KD_OK;
  add_diagonal_kernel<<<blocks_for(m), THREADS, 0, stream>>>(g, m, shift);
  return kd_cuda_check(cudaGetLastError(), "add_diagonal_kernel launch");
}

kd_status kd_cuda_risk(cudaStream_t stream, const double *b, size_t p, size_t k,
                       const double *target, const double *metric, double *risk) {
  if (p == 0 || k == 0) return KD_OK;
  if (k > INT32_MAX) return kd_fail(KD_EINVAL, "cuda backend: k = %zu risks in one launch", k);
  risk_kernel<<<(unsigned)k, THREADS, 0, stream>>>(b, p, target, metric, risk);
  return kd_cuda_check(cudaGetLastError(), "risk_kernel launch");
}

kd_status kd_cuda_copy_block(cudaStream_t stream, const double *src, size_t lds, double *dst,
                             size_t ldd, size_t rows, size_t cols) {
  if (rows == 0 || cols == 0) return KD_OK;
  dim3 grid(blocks_for(rows), grid_y(cols));
  copy_block_kernel<<<grid, THREADS, 0, stream>>>(src, lds, dst, ldd, rows, cols);
  return kd_cuda_check(cudaGetLastError(), "copy_block_kernel launch");
}

kd_status kd_cuda_transpose(cudaStream_t stream, const double *src, size_t lds, double *dst,
                            size_t ldd, size_t rows, size_t cols) {
  if (rows == 0 || cols == 0) return KD_OK;
  const size_t tx = (rows + TILE - 1) / TILE, ty = (cols + TILE - 1) / TILE;
  dim3 grid((unsigned)(tx < MAX_BLOCKS ? tx : MAX_BLOCKS), grid_y(ty));
  transpose_kernel<<<grid, dim3(TILE, TILE_ROWS), 0, stream>>>(src, lds, dst, ldd, rows, cols);
  return kd_cuda_check(cudaGetLastError(), "transpose_kernel launch");
}

kd_status kd_cuda_set_scaled_identity(cudaStream_t stream, double *a, size_t m, size_t lda,
                                      double c) {
  if (m == 0) return KD_OK;
  dim3 grid(blocks_for(m), grid_y(m));
  scaled_identity_kernel<<<grid, THREADS, 0, stream>>>(a, m, lda, c);
  return kd_cuda_check(cudaGetLastError(), "scaled_identity_kernel launch");
}

/* Asking for a kernel's attributes loads this build's module: it fails when the
 * device's architecture has neither SASS nor compatible PTX in the binary. */
kd_status kd_cuda_kernels_usable(void) {
  cudaFuncAttributes attr;
  cudaError_t e = cudaFuncGetAttributes(&attr, risk_kernel);
  if (e == cudaSuccess) return KD_OK;
  int dev = 0, major = 0, minor = 0;
  char name[256] = "the current device";
  cudaDeviceProp prop;
  if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess) {
    snprintf(name, sizeof name, "%s", prop.name);
    major = prop.major;
    minor = prop.minor;
  }
  return kd_fail(KD_ENODEV,
                 "no CUDA device: %s (sm_%d%d) cannot run this build's kernels: %s "
                 "(set KDBENCH_CUDA_ARCHITECTURES when configuring)",
                 name, major, minor, cudaGetErrorString(e));
}
