/* Debug entry points of the CUDA backend, for tests (declared only in builds with
 * KDBENCH_HAVE_CUDA): they expose one step of a stage so that it can be compared,
 * bit for bit, with the CPU's. */
#ifndef KDBENCH_CUDA_DEBUG_H
#define KDBENCH_CUDA_DEBUG_H

#include <stddef.h>

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
#endif

#ifdef __cplusplus
}
#endif

#endif
