/* Debug entry points of the CUDA backend, for tests (declared only in builds with
 * KDBENCH_HAVE_CUDA): one step of a stage, exposed so that it can be compared bit for
 * bit with the CPU's, and what a state has done and holds. */
#ifndef KDBENCH_CUDA_DEBUG_H
#define KDBENCH_CUDA_DEBUG_H

#include <stddef.h>

#include "kdbench/cuda_plan.h"
#include "kdbench/rng.h"
#include "kdbench/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef KDBENCH_HAVE_CUDA
/* host_out[i + j n] = scale[j] * normal(a, row i, column j) for i < n, j < p (no
 * scaling when scale is NULL), generated on the device by the backend's kernel and
 * copied back: must equal kd_rng_fill(a, n, 0, p, scale, host_out, n) exactly. */
kd_status kd_cuda_generate_design(kd_rng_addr a, size_t n, size_t p, const double *scale,
                                  double *host_out);

/* Of an open CUDA backend's state: the fallback solves since it was opened, by QR on
 * the device and by the CPU's dgelsy; the device bytes its buffers hold; the library
 * workspaces of the last shape it ran; the last stage's estimate of rcond(G) (NaN when
 * the estimator did not finish). */
void kd_cuda_fallback_counts(const void *state, unsigned long *qr, unsigned long *gelsy);
size_t kd_cuda_held_bytes(const void *state);
void kd_cuda_lib_workspaces(const void *state, kd_cuda_lib_bytes *lib);
double kd_cuda_last_rcond(const void *state);

/* The FP64 rate of cublasDgemm on two n x n matrices on the current device, in
 * TFLOP/s: the median of `reps` timed products (CUDA events) after one warm-up. */
kd_status kd_cuda_dgemm_tflops(size_t n, int reps, double *tflops);

/* The kd_status a CUDA runtime error (a cudaError_t) is reported with: KD_ENOMEM for a
 * failed allocation, KD_ENODEV where the device or driver cannot be used, KD_ENUM for
 * the rest (invalid values, kernel faults: bugs). Needs no device. */
kd_status kd_cuda_error_status(int cuda_error);
#endif

#ifdef __cplusplus
}
#endif

#endif
