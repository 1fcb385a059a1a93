/* Failed CUDA runtime, cuBLAS and cuSOLVER calls as kd_status + one line, and the
 * debug mode that synchronises after every step.
 *
 * Codes: an allocation failure is KD_ENOMEM (the user can shrink the problem); an
 * error saying the device or its driver cannot be used (none, too old a driver, no
 * kernel image for this architecture, an ECC fault) is KD_ENODEV (the user fixes the
 * machine); anything else (an invalid value or pitch, an illegal address, a kernel
 * fault) is a bug and KD_ENUM, as the CPU backend's invalid LAPACK arguments. */
#include "kd_cuda.h"

/* KDBENCH_CUDA_SYNC=1, set at init (backend_cuda.cu): every checked call is followed
 * by a device synchronisation, so that an asynchronous fault is named by the step
 * that caused it rather than by the stage's one synchronisation. */
static int sync_each_step;

void kd_cuda_set_sync(int on) { sync_each_step = on; }
int kd_cuda_sync_on(void) { return sync_each_step; }

/* Length of the call's name: its text up to the argument list. */
static int name_len(const char *call) { return (int)strcspn(call, "("); }

static int device_unusable(cudaError_t e) {
  switch (e) {
    case cudaErrorInitializationError: case cudaErrorStubLibrary:
    case cudaErrorInsufficientDriver: case cudaErrorCallRequiresNewerDriver:
    case cudaErrorDevicesUnavailable: case cudaErrorIncompatibleDriverContext:
    case cudaErrorNoDevice: case cudaErrorInvalidDevice: case cudaErrorDeviceNotLicensed:
    case cudaErrorStartupFailure: case cudaErrorDeviceUninitialized:
    case cudaErrorNoKernelImageForDevice: case cudaErrorInvalidKernelImage:
    case cudaErrorInvalidPtx: case cudaErrorUnsupportedPtxVersion:
    case cudaErrorJitCompilerNotFound: case cudaErrorJitCompilationDisabled:
    case cudaErrorECCUncorrectable: case cudaErrorNvlinkUncorrectable:
    case cudaErrorDeviceAlreadyInUse: case cudaErrorSystemNotReady:
    case cudaErrorSystemDriverMismatch: case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorMpsConnectionFailed: case cudaErrorMpsRpcFailure:
    case cudaErrorMpsServerNotReady: case cudaErrorMpsMaxClientsReached:
    case cudaErrorMpsMaxConnectionsReached: case cudaErrorMpsClientTerminated:
    case cudaErrorUnknown:
      return 1;
    default:
      return 0;
  }
}

/* Faults of a running kernel: reported by whichever call comes next, and fatal to
 * the process's context (every later call fails the same way). */
static int kernel_fault(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress: case cudaErrorLaunchFailure: case cudaErrorLaunchTimeout:
    case cudaErrorAssert: case cudaErrorHardwareStackError: case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress: case cudaErrorInvalidAddressSpace: case cudaErrorInvalidPc:
      return 1;
    default:
      return 0;
  }
}

extern "C" kd_status kd_cuda_error_status(int error) {
  const cudaError_t e = (cudaError_t)error;
  if (e == cudaSuccess) return KD_OK;
  if (e == cudaErrorMemoryAllocation) return KD_ENOMEM;
  return device_unusable(e) ? KD_ENODEV : KD_ENUM;
}

static kd_status fail(cudaError_t e, const char *call, const char *when) {
  const char *hint = kernel_fault(e) && !sync_each_step
                         ? "; a fault of an earlier asynchronous step, which "
                           "KDBENCH_CUDA_SYNC=1 names"
                         : "";
  return kd_fail(kd_cuda_error_status(e), "cuda backend: %.*s%s failed: %s (%s)%s",
                 name_len(call), call, when, cudaGetErrorString(e), cudaGetErrorName(e), hint);
}

/* In the debug mode: waits for the device and reports what `call` left behind. */
static kd_status after(const char *call) {
  if (!sync_each_step) return KD_OK;
  cudaError_t e = cudaDeviceSynchronize();
  if (e == cudaSuccess) e = cudaGetLastError();
  return e == cudaSuccess ? KD_OK : fail(e, call, ", synchronised after it,");
}

kd_status kd_cuda_check(cudaError_t e, const char *call) {
  return e == cudaSuccess ? after(call) : fail(e, call, "");
}

kd_status kd_cublas_check(cublasStatus_t s, const char *call) {
  if (s == CUBLAS_STATUS_SUCCESS) return after(call);
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
  if (s == CUSOLVER_STATUS_SUCCESS) return after(call);
  kd_status code = KD_ENUM;
  if (s == CUSOLVER_STATUS_ALLOC_FAILED) code = KD_ENOMEM;
  if (s == CUSOLVER_STATUS_NOT_INITIALIZED || s == CUSOLVER_STATUS_ARCH_MISMATCH ||
      s == CUSOLVER_STATUS_EXECUTION_FAILED)
    code = KD_ENODEV;
  return kd_fail(code, "cuda backend: %.*s failed: %s %d", name_len(call), call,
                 cusolver_name(s), (int)s);
}
