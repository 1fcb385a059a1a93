/* Failed CUDA runtime, cuBLAS and cuSOLVER calls as kd_status + one line.
 *
 * Codes: an allocation failure is KD_ENOMEM (the user can shrink the problem); a
 * runtime error, or a library saying it cannot run on this device or driver, is
 * KD_ENODEV; any other library failure (invalid value, internal error) is KD_ENUM. */
#include "kd_cuda.h"

/* Length of the call's name: its text up to the argument list. */
static int name_len(const char *call) { return (int)strcspn(call, "("); }

kd_status kd_cuda_check(cudaError_t e, const char *call) {
  if (e == cudaSuccess) return KD_OK;
  kd_status code = e == cudaErrorMemoryAllocation ? KD_ENOMEM : KD_ENODEV;
  return kd_fail(code, "cuda backend: %.*s failed: %s (%s)", name_len(call), call,
                 cudaGetErrorString(e), cudaGetErrorName(e));
}

kd_status kd_cublas_check(cublasStatus_t s, const char *call) {
  if (s == CUBLAS_STATUS_SUCCESS) return KD_OK;
  kd_status code = KD_ENUM;
  if (s == CUBLAS_STATUS_ALLOC_FAILED) code = KD_ENOMEM;
  if (s == CUBLAS_STATUS_NOT_INITIALIZED || s == CUBLAS_STATUS_ARCH_MISMATCH ||
      s == CUBLAS_STATUS_EXECUTION_FAILED)
    code = KD_ENODEV;
  return kd_fail(code, "cuda backend: %.*s failed: %s (%s)", name_len(call), call,
                 cublasGetStatusString(s), cublasGetStatusName(s));
}

/* cuSOLVER has no status-to-string function. */
static const char *cusolver_name(cusolverStatus_t s) {
  switch (s) {
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case CUSOLVER_STATUS_INVALID_WORKSPACE: return "CUSOLVER_STATUS_INVALID_WORKSPACE";
    default: return "cusolverStatus_t";
  }
}

kd_status kd_cusolver_check(cusolverStatus_t s, const char *call) {
  if (s == CUSOLVER_STATUS_SUCCESS) return KD_OK;
  kd_status code = KD_ENUM;
  if (s == CUSOLVER_STATUS_ALLOC_FAILED) code = KD_ENOMEM;
  if (s == CUSOLVER_STATUS_NOT_INITIALIZED || s == CUSOLVER_STATUS_ARCH_MISMATCH ||
      s == CUSOLVER_STATUS_EXECUTION_FAILED)
    code = KD_ENODEV;
  return kd_fail(code, "cuda backend: %.*s failed: %s %d", name_len(call), call,
                 cusolver_name(s), (int)s);
}
