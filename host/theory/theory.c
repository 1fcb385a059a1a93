/* Model shift (docs/theory.md, sections 4-6): the risk of a student trained on an
 * arbitrary surrogate, the optimal surrogate and the optimal top-k mask; and the exact
 * finite-sample risks of docs/theory.md#finite-size. All sums are Neumaier-compensated. */
#include <math.h>

#include "kdbench/theory.h"
#include "internal.h"

double kd_risk_surrogate(const double *lambda, const double *beta, const double *beta_s,
                         size_t p, const kd_de *de, double sigma_lab) {
  kd_acc bias = {0.0, 0.0}, unfit = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double z, zc;
    kd_zeta_pair(lambda[i], de->tau, &z, &zc);
    double e = z * beta_s[i] - beta[i], u = zc * beta_s[i];
    kd_acc_add(&bias, lambda[i] * e * e);
    kd_acc_add(&unfit, lambda[i] * u * u);
  }
  return kd_acc_sum(&bias) + kd_var_amp(sigma_lab * sigma_lab + kd_acc_sum(&unfit), de);
}

/* The per-coordinate optimum of docs/theory.md#optimal-surrogate: with a = Omega zeta^2 and
 * b = (1 - Omega)(1 - zeta)^2, g = Omega zeta / (a + b) and the coordinate's risk is
 * lambda beta^2 b / (a + b). At tau = 0 (ridgeless, n >= p) g = 1 and the
 * coordinate's risk is 0; that case is taken apart because Omega may be 0 there. */
static void optimal_coord(double lambda_i, const kd_de *de, double *g, double *w) {
  if (de->tau == 0.0) {
    *g = 1.0;
    *w = 0.0;
    return;
  }
  double z, zc;
  kd_zeta_pair(lambda_i, de->tau, &z, &zc);
  double a = de->omega * z * z, b = (de->df2 / de->n) * zc * zc;
  *g = de->omega * z / (a + b);
  *w = b / (a + b);
}

void kd_optimal_gains(const double *lambda, size_t p, const kd_de *de, double *g) {
  for (size_t i = 0; i < p; ++i) {
    double w;
    optimal_coord(lambda[i], de, &g[i], &w);
  }
}

double kd_risk_optimal(const double *lambda, const double *beta, size_t p, const kd_de *de,
                       double sigma_lab) {
  kd_acc r = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double g, w;
    optimal_coord(lambda[i], de, &g, &w);
    kd_acc_add(&r, lambda[i] * beta[i] * beta[i] * w);
  }
  return kd_acc_sum(&r) + kd_var_amp(sigma_lab * sigma_lab, de);
}

/* Keep i iff (1 - zeta_i)^2 < Omega (keeping costs lambda beta^2 (1 - zeta)^2 / Omega,
 * dropping lambda beta^2). A coordinate fitted exactly (1 - zeta = 0, tau = 0) is kept
 * even when Omega = 0. The spectrum is non-increasing, so the kept set is the leading
 * run; its length is returned. */
size_t kd_optimal_mask_k(const double *lambda, size_t p, const kd_de *de) {
  size_t k = 0;
  for (; k < p; ++k) {
    double z, zc;
    kd_zeta_pair(lambda[k], de->tau, &z, &zc);
    if (!(zc == 0.0 || zc * zc < de->omega)) break;
  }
  return k;
}

/* risk_k[k] = var_amp(sigma^2) + sum_{i<k} lambda beta^2 (1-zeta)^2 / Omega
 *           + sum_{i>=k} lambda beta^2: a suffix pass, then a prefix pass. */
void kd_risk_topk_all(const double *lambda, const double *beta, size_t p, const kd_de *de,
                      double sigma_lab, double *risk_k) {
  kd_acc drop = {0.0, 0.0};
  risk_k[p] = 0.0;
  for (size_t i = p; i-- > 0;) {
    kd_acc_add(&drop, lambda[i] * beta[i] * beta[i]);
    risk_k[i] = kd_acc_sum(&drop);
  }
  double noise = kd_var_amp(sigma_lab * sigma_lab, de);
  kd_acc keep = {0.0, 0.0};
  risk_k[0] += noise;
  for (size_t k = 1; k <= p; ++k) {
    double z, zc, b = beta[k - 1];
    kd_zeta_pair(lambda[k - 1], de->tau, &z, &zc);
    kd_acc_add(&keep, lambda[k - 1] * b * b * zc * zc);
    risk_k[k] += noise + kd_over_omega(kd_acc_sum(&keep), de);
  }
}

/* sum_i lambda_i (beta_s_i - beta_i)^2: the bias of an unbiased fit of beta_s. */
static double sq_dist(const double *lambda, const double *beta, const double *beta_s,
                      size_t p) {
  kd_acc r = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double e = beta_s[i] - beta[i];
    kd_acc_add(&r, (lambda ? lambda[i] : 1.0) * e * e);
  }
  return kd_acc_sum(&r);
}

/* sigma^2 num / den: the exact variance term; +inf at den <= 0 with noise (the expected
 * risk diverges at the interpolation threshold), 0 without noise. */
static double exact_noise(double sigma, double num, double den) {
  if (sigma == 0.0) return 0.0;
  return den > 0.0 ? sigma * sigma * num / den : INFINITY;
}

double kd_exact_ols(const double *lambda, const double *beta, const double *beta_s, size_t p,
                    double n, double sigma_lab) {
  double P = (double)p;
  if (!(n > P)) return NAN; /* OLS needs n > p; below it the fit is min-norm */
  return sq_dist(lambda, beta, beta_s, p) + exact_noise(sigma_lab, P, n - P - 1.0);
}

/* c [(n/p)||b_s||^2 - 2 (n/p) <b_s, b> + ||b||^2] is c E||P b_s - b||^2, written as
 * c [(n/p) ||b_s - b||^2 + (1 - n/p) ||b||^2] (same value, no cancellation). */
double kd_exact_iso_minnorm(double c, const double *beta, const double *beta_s, size_t p,
                            double n, double sigma_lab) {
  double P = (double)p;
  if (!(P > n)) return NAN; /* min-norm interpolation needs p > n */
  kd_acc nb = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) kd_acc_add(&nb, beta[i] * beta[i]);
  double q = n / P;
  double bias = c * (q * sq_dist(NULL, beta, beta_s, p) + (1.0 - q) * kd_acc_sum(&nb));
  return bias + exact_noise(sigma_lab, n, P - n - 1.0);
}
