/* Power-law fits in log-log coordinates and their bootstrap (include/kdbench/fit.h). */
#include "kdbench/fit.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "kdbench/rng.h"

/* Fits log y on log x; lx, ly: n doubles of workspace. */
static kd_status fit_logs(const double *x, const double *y, size_t n, double *lx, double *ly,
                          kd_powerlaw_fit *out) {
  for (size_t i = 0; i < n; ++i) {
    if (!(isfinite(x[i]) && x[i] > 0))
      return kd_fail(KD_EINVAL, "fit: point %zu: x = %g is not finite and positive", i, x[i]);
    if (!(isfinite(y[i]) && y[i] > 0))
      return kd_fail(KD_EINVAL, "fit: point %zu (x = %g): y = %g is not finite and positive", i,
                     x[i], y[i]);
    lx[i] = log(x[i]);
    ly[i] = log(y[i]);
  }
  double c0, c1, cov00, cov01, cov11, sumsq;
  gsl_fit_linear(lx, 1, ly, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
  double tss = gsl_stats_tss(ly, 1, n);
  *out = (kd_powerlaw_fit){.npts = n,
                           .exponent = -c1,
                           .prefactor = exp(c0),
                           .se = NAN,
                           .ci_low = NAN,
                           .ci_high = NAN,
                           .r2 = tss > 0 ? 1.0 - sumsq / tss : NAN};
  if (n > 2) { /* GSL's covariance is scaled by the residual variance sumsq / (n - 2) */
    out->se = sqrt(cov11);
    double t = gsl_cdf_tdist_Pinv(0.975, (double)(n - 2));
    out->ci_low = out->exponent - t * out->se;
    out->ci_high = out->exponent + t * out->se;
  }
  return KD_OK;
}

static kd_status check_count(size_t n, const double *x) {
  if (n < 2)
    return kd_fail(KD_EINVAL, "fit: %zu point%s: a power-law fit needs at least 2", n,
                   n == 1 ? "" : "s");
  for (size_t i = 1; i < n; ++i)
    if (x[i] != x[0]) return KD_OK;
  return kd_fail(KD_EINVAL, "fit: every x is %g: nothing to fit a slope to", x[0]);
}

kd_status kd_fit_powerlaw(const double *x, const double *y, size_t n, kd_powerlaw_fit *out) {
  kd_status st = check_count(n, x);
  if (st != KD_OK) return st;
  double *lx = malloc(2 * n * sizeof *lx);
  if (!lx) return kd_fail(KD_ENOMEM, "fit: out of memory for %zu points", n);
  st = fit_logs(x, y, n, lx, lx + n, out);
  free(lx);
  return st;
}

void kd_local_exponents(const double *x, const double *y, size_t n, double *out) {
  for (size_t i = 0; i + 1 < n; ++i) {
    double dx = log(x[i + 1]) - log(x[i]);
    int ok = x[i] > 0 && x[i + 1] > 0 && y[i] > 0 && y[i + 1] > 0 && dx != 0;
    out[i] = ok ? -(log(y[i + 1]) - log(y[i])) / dx : NAN;
  }
}

/* ---- bootstrap ------------------------------------------------------------------------ */

/* A uniform index below `count` from Philox4x32-10 at counter (draw, replicate, stream,
 * tag) under key `seed`: a 53-bit uniform scaled (bias below 2^-29 for count < 2^24). */
static size_t draw_index(uint64_t seed, uint32_t draw, uint32_t replicate, uint32_t stream,
                         size_t count) {
  const uint32_t ctr[4] = {draw, replicate, stream, 0x626f6f74u /* "boot" */};
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t w[4];
  kd_philox4x32_10(ctr, key, w);
  size_t i = (size_t)(kd_uniform_open1(kd_bits53(w[0], w[1])) * (double)count);
  return i < count ? i : count - 1;
}

static kd_status boot_check(const double *x, const double *const *risks, const size_t *count,
                            size_t n, size_t replicates) {
  kd_status st = check_count(n, x);
  if (st != KD_OK) return st;
  if (replicates < 100)
    return kd_fail(KD_EINVAL, "fit: %zu bootstrap replicates: use at least 100", replicates);
  for (size_t i = 0; i < n; ++i) {
    if (count[i] == 0 || !risks[i])
      return kd_fail(KD_EINVAL, "fit: point %zu (x = %g) has no per-trial risks", i, x[i]);
    if (count[i] > UINT32_MAX)
      return kd_fail(KD_EINVAL, "fit: point %zu (x = %g): %zu trials is too many", i, x[i],
                     count[i]);
    for (size_t t = 0; t < count[i]; ++t)
      if (!isfinite(risks[i][t]))
        return kd_fail(KD_EINVAL,
                       "fit: point %zu (x = %g): trial %zu has a risk that is not finite", i, x[i],
                       t);
  }
  return KD_OK;
}

kd_status kd_fit_bootstrap(const double *x, const double *const *risks, const size_t *count,
                           const double *floor, size_t n, size_t replicates, uint64_t seed,
                           kd_bootstrap *out) {
  kd_status st = boot_check(x, risks, count, n, replicates);
  if (st != KD_OK) return st;
  if (replicates > UINT32_MAX)
    return kd_fail(KD_EINVAL, "fit: %zu bootstrap replicates is too many", replicates);
  int paired = 1;
  for (size_t i = 1; i < n; ++i) paired &= count[i] == count[0];
  /* y, then the fit's log workspace (2 n), then the replicate exponents */
  double *y = malloc((3 * n + replicates) * sizeof *y);
  size_t *idx = paired ? malloc(count[0] * sizeof *idx) : NULL;
  if (!y || (paired && !idx)) {
    free(y);
    free(idx);
    return kd_fail(KD_ENOMEM, "fit: out of memory for %zu bootstrap replicates", replicates);
  }
  double *work = y + n, *slopes = y + 3 * n;
  size_t used = 0;
  for (size_t r = 0; r < replicates; ++r) {
    int usable = 1;
    /* paired: one draw (stream 0xffffffff) shared by every point; else stream i */
    for (size_t t = 0; paired && t < count[0]; ++t)
      idx[t] = draw_index(seed, (uint32_t)t, (uint32_t)r, UINT32_MAX, count[0]);
    for (size_t i = 0; i < n; ++i) {
      double sum = 0;
      for (size_t t = 0; t < count[i]; ++t)
        sum += risks[i][paired ? idx[t]
                               : draw_index(seed, (uint32_t)t, (uint32_t)r, (uint32_t)i, count[i])];
      y[i] = sum / (double)count[i] - (floor ? floor[i] : 0.0);
      usable &= y[i] > 0 && isfinite(y[i]);
    }
    kd_powerlaw_fit f;
    if (usable && fit_logs(x, y, n, work, work + n, &f) == KD_OK) slopes[used++] = f.exponent;
  }
  *out = (kd_bootstrap){.replicates = replicates,
                        .used = used,
                        .paired = paired,
                        .ci_low = NAN,
                        .ci_high = NAN,
                        .se = NAN};
  if (used >= 2 && (double)(replicates - used) <= 0.01 * (double)replicates) {
    gsl_sort(slopes, 1, used);
    out->ci_low = gsl_stats_quantile_from_sorted_data(slopes, 1, used, 0.025);
    out->ci_high = gsl_stats_quantile_from_sorted_data(slopes, 1, used, 0.975);
    out->se = gsl_stats_sd(slopes, 1, used);
  }
  free(y);
  free(idx);
  return KD_OK;
}
