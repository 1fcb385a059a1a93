/* The student that sees a subset of the features plus pure-noise features
 * (docs/theory.md#features): the DE, or the exact risk where one exists, over the
 * spectrum it sees, the signal it does not see as extra label noise. */
#include <stdlib.h>

#include "kdbench/theory.h"
#include "internal.h"

/* The exact ridgeless risk over the d seen eigenvalues lam (target b, noise sigma) where
 * one exists (OLS for d < n - 1, isotropic min-norm for d > n + 1); -1 otherwise. */
static double exact_seen(const double *lam, const double *b, size_t d, double n, double sigma) {
  const double D = (double)d;
  if (D + 1.0 < n) return kd_exact_ols(lam, b, b, d, n, sigma);
  int isotropic = 1;
  for (size_t i = 1; i < d && isotropic; ++i) isotropic = lam[i] == lam[0];
  if (isotropic && D > n + 1.0) return kd_exact_iso_minnorm(lam[0], b, b, d, n, sigma);
  return -1;
}

kd_status kd_risk_features(const double *lambda, const double *beta, size_t p, const size_t *seen,
                           size_t s, size_t q, double rho, double n, double ridge, double sigma,
                           double *risk, int *exact) {
  const size_t d = s + q;
  if (d == 0 || s > p)
    return kd_fail(KD_EINVAL, "kd_risk_features: %zu seen of %zu features and %zu noise "
                   "features", s, p, q);
  double *lam = malloc(sizeof(double) * d), *b = malloc(sizeof(double) * d);
  unsigned char *mark = calloc(p ? p : 1, 1);
  kd_status st = lam && b && mark ? KD_OK : kd_fail(KD_ENOMEM, "kd_risk_features: out of memory");
  for (size_t i = 0; st == KD_OK && i < s; ++i) {
    if (seen[i] >= p || mark[seen[i]])
      st = kd_fail(KD_EINVAL, "kd_risk_features: seen feature %zu is %zu, %s", i, seen[i],
                   seen[i] >= p ? "not one of the problem's" : "seen twice");
    else {
      mark[seen[i]] = 1;
      lam[i] = lambda[seen[i]];
      b[i] = beta[seen[i]];
    }
  }
  for (size_t i = s; st == KD_OK && i < d; ++i) lam[i] = rho, b[i] = 0;
  kd_acc unseen = {0, 0};
  for (size_t j = 0; st == KD_OK && j < p; ++j)
    if (!mark[j]) kd_acc_add(&unseen, lambda[j] * beta[j] * beta[j]);
  const double dropped = kd_acc_sum(&unseen), sigma_eff = sqrt(sigma * sigma + dropped);
  double ex = -1;
  if (st == KD_OK && ridge == 0) ex = exact_seen(lam, b, d, n, sigma_eff);
  kd_de de;
  if (st == KD_OK && ex < 0) st = kd_de_solve(lam, d, n, ridge, &de);
  if (st == KD_OK) {
    *exact = ex >= 0;
    *risk = (ex >= 0 ? ex : kd_risk_surrogate(lam, b, b, d, &de, sigma_eff)) + dropped;
  }
  free(lam);
  free(b);
  free(mark);
  return st;
}
