/* Helpers shared by the theory engine's files (theory*.c); not public API. */
#ifndef KDBENCH_THEORY_INTERNAL_H
#define KDBENCH_THEORY_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include "kdbench/theory.h"

/* Neumaier-compensated running sum: its error stays ~eps |sum| whatever the count,
 * and unlike pairwise summation it also gives accurate prefix sums in one pass. */
typedef struct {
  double s, c;
} kd_acc;

static inline void kd_acc_add(kd_acc *a, double x) {
  double t = a->s + x;
  if (fabs(a->s) >= fabs(x))
    a->c += (a->s - t) + x;
  else
    a->c += (x - t) + a->s;
  a->s = t;
}

static inline double kd_acc_sum(const kd_acc *a) {
  return a->s + a->c;
}

/* zeta_i and 1 - zeta_i; the latter directly, so that it keeps its relative
 * accuracy when tau << lambda_i (where 1 - zeta_i would cancel). */
static inline void kd_zeta_pair(double lambda_i, double tau, double *z, double *zc) {
  if (tau == 0.0) {
    *z = 1.0;
    *zc = 0.0;
    return;
  }
  double s = lambda_i + tau;
  *z = lambda_i / s;
  *zc = tau / s;
}

/* x / Omega with 0 / 0 = 0. Omega = 0 only for a ridgeless fit with n == p, where a
 * term with nothing to amplify (no noise, nothing left unfitted) really is 0 (the
 * interpolant is exact) while any positive x is amplified to +inf. */
static inline double kd_over_omega(double x, const kd_de *de) {
  return x == 0.0 ? 0.0 : x / de->omega;
}

/* ((1 - Omega) / Omega) x: the variance a fit adds for an effective noise x.
 * 1 - Omega is taken as df2 / n, which keeps its accuracy when Omega is near 1. */
static inline double kd_var_amp(double x, const kd_de *de) {
  return kd_over_omega(x * (de->df2 / de->n), de);
}

/* KD_EINVAL naming `who` and the offending entry unless every lambda_i is finite
 * and positive. */
kd_status kd_check_spectrum(const char *who, const char *name, const double *lambda, size_t p);

#endif
