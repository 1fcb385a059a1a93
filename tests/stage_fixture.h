/* Fixtures that the stage suites share (test_cpu_backend, test_cuda_backend,
 * test_point_batch): zeroed vectors, a power-law spectrum and a power-law problem.
 * Static inline, header only: each tests/test_*.c is its own executable, and the
 * CUDA-only build links no test support library. */
#ifndef KDBENCH_TESTS_STAGE_FIXTURE_H
#define KDBENCH_TESTS_STAGE_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "kdbench/problem.h"
#include "kdbench/status.h"

/* len zeroed doubles (one for len 0, so that the pointer is never NULL). */
static inline double *vec(size_t len) {
  double *v = calloc(len ? len : 1, sizeof *v);
  cr_assert_not_null(v);
  return v;
}

/* lambda_j = (j+1)^-alpha (alpha = 0: isotropic). */
static inline double *power_law(size_t p, double alpha) {
  double *l = vec(p);
  for (size_t j = 0; j < p; ++j) l[j] = pow((double)(j + 1), -alpha);
  return l;
}

/* The problem of the point tests: a power-law spectrum (alpha 2) and beta* (signal
 * exponent 1.5), p features, noise 0.5, the teachers' noise teacher_sigma, seed 3. */
static inline void powerlaw_problem(kd_problem *pr, size_t p, double teacher_sigma) {
  kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 2.0};
  kd_beta_spec beta = {.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(pr, &spec, &beta, p, 0.5, teacher_sigma, 3), KD_OK, "%s",
               kd_last_error());
}

#endif
