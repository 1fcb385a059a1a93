/* Weak-to-strong metrics (include/kdbench/w2s_metrics.h). */
#include "kdbench/w2s_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const pgr_names[] = {"", "gap~0", "gap<0", "n/a"};

double kd_pgr(double r_weak, double r_w2s, double r_strong, double tol, kd_pgr_flag *flag) {
  double den = r_weak - r_strong;
  if (isnan(r_weak) || isnan(r_w2s) || isnan(r_strong) || isnan(tol)) {
    *flag = KD_PGR_MISSING;
    return NAN;
  }
  if (fabs(den) <= tol) {
    *flag = KD_PGR_NEAR_ZERO;
    return NAN;
  }
  if (den < 0) {
    *flag = KD_PGR_NEGATIVE;
    return NAN;
  }
  *flag = KD_PGR_OK;
  return (r_weak - r_w2s) / den;
}

const char *kd_pgr_flag_name(kd_pgr_flag f) {
  return f >= KD_PGR_OK && f <= KD_PGR_MISSING ? pgr_names[f] : "?";
}

int kd_pgr_flag_parse(const char *name) {
  for (int f = KD_PGR_OK; f <= KD_PGR_MISSING; ++f)
    if (strcmp(name, pgr_names[f]) == 0) return f;
  return -1;
}

kd_status kd_paired_diff(const double *a, size_t na, const double *b, size_t nb, kd_summary *out) {
  if (na != nb || na < 2)
    return kd_fail(KD_EINVAL, "paired difference: %zu and %zu trials (need the same number, >= 2)",
                   na, nb);
  double *d = malloc(na * sizeof *d);
  if (!d) return kd_fail(KD_ENOMEM, "paired difference: out of memory for %zu trials", na);
  for (size_t t = 0; t < na; ++t) {
    d[t] = a[t] - b[t];
    if (!isfinite(d[t])) {
      free(d);
      return kd_fail(KD_EINVAL, "paired difference: trial %zu is not finite", t);
    }
  }
  kd_summarize(d, na, out);
  free(d);
  return KD_OK;
}

double kd_misfit_w2s(const double *lambda, size_t p, const kd_de *de, const double *mu,
                     const double *v, double sigma_lab) {
  double s2 = sigma_lab * sigma_lab, P = (double)p;
  if (de->ridge == 0 && de->n > P + 1.0) return s2 * P / (de->n - P - 1.0);
  if (de->ridge == 0 && de->n >= P) return s2 > 0 ? INFINITY : 0.0; /* at the OLS threshold */
  double u = 0, uc = 0; /* Kahan-compensated sum of lambda (1 - zeta)^2 (mu^2 + v) */
  for (size_t i = 0; i < p; ++i) {
    double zc = de->tau / (lambda[i] + de->tau);
    double y = lambda[i] * zc * zc * (mu[i] * mu[i] + v[i]) - uc, t = u + y;
    uc = (t - u) - y;
    u = t;
  }
  /* 1 - Omega as df2 / n keeps its accuracy when Omega is near 1 */
  return (u + s2 * (de->df2 / de->n)) / de->omega;
}

kd_status kd_w2s_theory_point(const double *lambda, const double *beta, size_t p, const kd_de *de,
                              const kd_weak_spec *w, double sigma_lab, kd_w2s_theory *out) {
  double *mu = malloc(2 * p * sizeof *mu);
  if (!mu) return kd_fail(KD_ENOMEM, "w2s theory: out of memory for p = %zu", p);
  double *v = mu + p;
  kd_status st = kd_weak_moments(lambda, beta, p, w, mu, v, NULL);
  if (st == KD_OK) {
    out->weak = kd_risk_weak(lambda, beta, p, mu, v);
    out->w2s = kd_risk_w2s(lambda, beta, p, de, mu, v, sigma_lab);
    if (de->ridge == 0 && de->n > (double)p + 1.0) { /* OLS student: exact (as the runs' theory) */
      double extra = 0;
      for (size_t i = 0; i < p; ++i) extra += lambda[i] * v[i];
      out->w2s = kd_exact_ols(lambda, beta, mu, p, de->n, sigma_lab) + extra;
    }
    out->gain = out->weak - out->w2s;
    out->misfit = kd_misfit_w2s(lambda, p, de, mu, v, sigma_lab);
    st = kd_best_k_w2s(lambda, beta, p, de, w, sigma_lab, &out->best_k, &out->best_k_risk);
  }
  free(mu);
  return st;
}
