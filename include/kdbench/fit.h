/* Power-law fits of risk against a swept axis (the maths of `kdbench fit`): least
 * squares of log y on log x, local exponents between neighbours, and a bootstrap
 * interval of the exponent that resamples each point's per-trial risks.
 *
 * Convention: y ~ prefactor * x^-exponent, so a risk that falls with n has a
 * positive exponent (docs/theory.md#continuum: E(n) ~ C n^-(b-1)). */
#ifndef KDBENCH_FIT_H
#define KDBENCH_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/status.h"

typedef struct {
  size_t npts;
  double exponent;        /* minus the slope of log y on log x */
  double se;              /* its standard error (NaN with 2 points: no residual dof) */
  double ci_low, ci_high; /* 95 % t-interval of the exponent, npts - 2 dof (NaN with 2) */
  double prefactor;       /* exp(intercept) */
  double r2;              /* of the log-log regression (NaN when log y is constant) */
} kd_powerlaw_fit;

/* Ordinary least squares of log y on log x (gsl_fit_linear) over n >= 2 points.
 * KD_EINVAL, naming the point, unless every x and y is finite and positive and the
 * x are not all equal. */
kd_status kd_fit_powerlaw(const double *x, const double *y, size_t n, kd_powerlaw_fit *out);

/* out[i] = -(log y[i+1] - log y[i]) / (log x[i+1] - log x[i]), i < n - 1: the
 * exponent between neighbouring points (NaN where it is undefined). */
void kd_local_exponents(const double *x, const double *y, size_t n, double *out);

typedef struct {
  size_t replicates;      /* asked for */
  size_t used;            /* replicates whose every resampled mean exceeded its floor */
  int paired;             /* 1: one draw of trial indices per replicate, shared by all
                             points (they all have the same number of trials) */
  double ci_low, ci_high; /* 2.5 % and 97.5 % percentiles of the replicate exponents */
  double se;              /* standard deviation of the replicate exponents */
} kd_bootstrap;

/* Percentile bootstrap of the exponent: every replicate resamples the per-trial
 * risks of each point with replacement (risks[i][0 .. count[i]), recomputes the
 * means, subtracts floor[i] (floor may be NULL: none) and refits. When every point
 * has the same number of trials the same trial indices are drawn for all points, so
 * that trials which share randomness across points (a weak teacher shared by every
 * student size) stay together; independent points are resampled correctly either
 * way. Draws come from Philox4x32-10 keyed by `seed`: the same call gives the same
 * interval. A replicate with a mean at or below its floor is not used; the interval
 * is NaN when more than 1 % of them are unusable (the floor is then too close to the
 * risk for a log-log fit). KD_EINVAL for n < 2, replicates < 100, an empty point or
 * a risk that is not finite (point and trial named). */
kd_status kd_fit_bootstrap(const double *x, const double *const *risks, const size_t *count,
                           const double *floor, size_t n, size_t replicates, uint64_t seed,
                           kd_bootstrap *out);

#endif
