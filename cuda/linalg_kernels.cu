/* The small kernels around the library calls: column scales, the ridge shift, the
 * conditioning check of a Cholesky factor, the fused risk reduction, and the identity
 * block of the fallback's augmented matrix. All are memory-bound and tiny next to the
 * Gram; they exist so that nothing but inputs and results crosses PCIe. */
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

/* ---- reductions (one block each, a fixed tree: the same sums on every run) --------------- */

/* The conditioning check of docs/gpu.md#conditioning. For triangular L the diagonal holds
 * its eigenvalues, so sigma_max(L) >= max L_ii and sigma_min(L) <= min L_ii, hence
 * kappa_2(G) = kappa_2(L)^2 >= (max L_ii / min L_ii)^2: the ratio bounds rcond(G)
 * from above. It is a cheap, optimistic estimate (it can miss ill-conditioning that
 * dpocon sees), computed here so that no host round trip sits between factor and
 * solve. A non-positive, infinite or NaN L_ii also fails the check. */
__global__ void check_cholesky_kernel(const double *l, uint64_t m, const int *info,
                                      double rcond_min, int *trusted) {
  __shared__ double lo[THREADS], hi[THREADS];
  __shared__ int bad[THREADS];
  double mn = INFINITY, mx = 0;
  int b = 0;
  for (uint64_t i = threadIdx.x; i < m; i += blockDim.x) {
    const double d = l[i + i * m];
    b |= !(d > 0 && d < INFINITY);
    mn = fmin(mn, d);
    mx = fmax(mx, d);
  }
  lo[threadIdx.x] = mn;
  hi[threadIdx.x] = mx;
  bad[threadIdx.x] = b;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      lo[threadIdx.x] = fmin(lo[threadIdx.x], lo[threadIdx.x + half]);
      hi[threadIdx.x] = fmax(hi[threadIdx.x], hi[threadIdx.x + half]);
      bad[threadIdx.x] |= bad[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double ratio = lo[0] / hi[0];
    *trusted = *info == 0 && !bad[0] && ratio * ratio >= rcond_min;
  }
}

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

kd_status kd_cuda_check_cholesky(cudaStream_t stream, const double *l, size_t m,
                                 const int *info, double rcond_min, int *trusted) {
  if (m == 0) return KD_OK;
  check_cholesky_kernel<<<1, THREADS, 0, stream>>>(l, m, info, rcond_min, trusted);
  return kd_cuda_check(cudaGetLastError(), "check_cholesky_kernel launch");
}

kd_status kd_cuda_risk(cudaStream_t stream, const double *b, size_t p, size_t k,
                       const double *target, const double *metric, double *risk) {
  if (p == 0 || k == 0) return KD_OK;
  if (k > INT32_MAX) return kd_fail(KD_EINVAL, "cuda backend: k = %zu risks in one launch", k);
  risk_kernel<<<(unsigned)k, THREADS, 0, stream>>>(b, p, target, metric, risk);
  return kd_cuda_check(cudaGetLastError(), "risk_kernel launch");
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
