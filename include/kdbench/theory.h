/* The theory engine: deterministic equivalents (DE) of ridge(less) regression for
 * a diagonal covariance, and what docs/theory.md builds on them. Every function is
 * cheap (O(p) after the tau solve) and exact-double careful (pairwise sums).
 * Notation follows docs/theory.md#de: tau, zeta_i, Omega. */
#ifndef KDBENCH_THEORY_H
#define KDBENCH_THEORY_H

#include <stddef.h>

#include "kdbench/status.h"

/* The DE statistics of a fit on n samples with ridge lambda >= 0. */
typedef struct {
  double n, ridge;
  double tau;      /* effective regularisation (0: ridgeless with n >= p) */
  double omega;    /* 1 - (1/n) sum zeta_i^2 */
  double df1, df2; /* sum zeta_i, sum zeta_i^2 */
  double resid;    /* relative residual of the fixed-point equation (0 if tau = 0) */
} kd_de;

/* tau: ridge:  n - sum lambda_i/(lambda_i + tau) = n lambda / tau;
 *      ridgeless, p > n: sum lambda_i/(lambda_i + tau) = n;  ridgeless, n >= p: 0.
 * Bracketed, safeguarded Newton in log tau; relative residual below 1e-12
 * (docs/theory.md#tau-solve).
 * KD_EINVAL (naming the culprit) for n <= 0, p == 0, ridge < 0, a lambda_i that is
 * not finite and positive; KD_ENUM if the residual bound is not met. */
kd_status kd_de_solve(const double *lambda, size_t p, double n, double ridge, kd_de *de);
static inline double kd_zeta(double lambda_i, double tau) {
  return tau == 0.0 ? 1.0 : lambda_i / (lambda_i + tau);
}

/* Risk (excess) of a student trained on labels X beta_s + sigma_lab z
 * (docs/theory.md#surrogate-risk). beta_s = beta gives the ground-truth risk. */
double kd_risk_surrogate(const double *lambda, const double *beta, const double *beta_s,
                         size_t p, const kd_de *de, double sigma_lab);

/* Optimal surrogate gains g_i (beta_s = g .* beta) and its risk
 * (docs/theory.md#optimal-surrogate). */
void kd_optimal_gains(const double *lambda, size_t p, const kd_de *de, double *g);
double kd_risk_optimal(const double *lambda, const double *beta, size_t p,
                       const kd_de *de, double sigma_lab);

/* Optimal 0-1 mask (docs/theory.md#optimal-mask): keep i iff (1 - zeta_i)^2 < Omega;
 * zeta decreases with i so the mask is top-k. Returns k*. */
size_t kd_optimal_mask_k(const double *lambda, size_t p, const kd_de *de);
/* Risk of the top-k mask of beta* for every k = 0..p: risk_k[k]. O(p). */
void kd_risk_topk_all(const double *lambda, const double *beta, size_t p,
                      const kd_de *de, double sigma_lab, double *risk_k);

/* Two-stage weak-to-strong (docs/theory.md#two-stage): the weak model is fitted on
 * m samples of its own spectrum lambda_w (NULL: the student's), using the top-k
 * features, with ridge `ridge` and ground-truth labels of noise sigma. Its
 * coordinates have mean mu_i and variance v_i (both 0 outside the top k). Where the
 * weak fit is ridgeless with k < m - 1 the moments are exact
 * (v_i = sigma_eff^2 / ((m - k - 1) lambda_w_i)). */
typedef struct {
  double m;
  size_t k;
  double ridge;
  const double *lambda_w; /* NULL: same spectrum as the student */
  double sigma;           /* noise of the weak model's ground-truth labels */
} kd_weak_spec;

typedef struct {
  int exact;              /* 1 when the moments are exact (see above) */
  double sigma_eff2;      /* sigma^2 + dropped signal */
  kd_de de;               /* the weak stage's DE (over its k features) */
} kd_weak_info;

kd_status kd_weak_moments(const double *lambda, const double *beta, size_t p,
                          const kd_weak_spec *w, double *mu, double *v, kd_weak_info *info);
/* The weak model's own risk under the student's covariance lambda. */
double kd_risk_weak(const double *lambda, const double *beta, size_t p,
                    const double *mu, const double *v);
/* Student on n samples (de) trained on weak labels + sigma_lab noise. */
double kd_risk_w2s(const double *lambda, const double *beta, size_t p, const kd_de *de,
                   const double *mu, const double *v, double sigma_lab);
/* The k in [1, p] minimising kd_risk_w2s for a weak model on m samples (ties: the
 * smallest k); w->k is ignored. Where the moments are exact (ridgeless, k < m - 1) all
 * those k are scanned in O(p) total by prefix sums. The other k need a weak DE solve
 * each (O(p)): all are scanned when p <= 5000; above that, a log-spaced grid (4 per
 * octave) and a ternary refinement between the best grid point's neighbours, which
 * assumes the risk is unimodal there (a heuristic for that region). */
kd_status kd_best_k_w2s(const double *lambda, const double *beta, size_t p,
                        const kd_de *de, const kd_weak_spec *w, double sigma_lab,
                        size_t *k_best, double *risk_best);

/* The weak model's ridge that minimises its own risk (kd_risk_weak of kd_weak_moments:
 * the deterministic equivalent, or the exact moments at ridge 0 where they apply), over
 * ridge 0 and 1e-12 .. 1e8: a scan of 8 points a decade, then a golden-section search
 * between the best point's neighbours; w->ridge is ignored. For an isotropic spectrum
 * with k = p it is p sigma^2 / (m ||beta*||^2) (docs/theory.md#mix). */
kd_status kd_best_weak_ridge(const double *lambda, const double *beta, size_t p,
                             const kd_weak_spec *w, double *ridge_best);

/* Mixed labels (docs/theory.md#mix): the student's rows are a fraction f with
 * ground-truth labels (noise sigma) and 1 - f labelled by a random source with
 * coordinate means mu and variances v (a teacher; noise teacher_sigma), f the realised
 * fraction round(f n) / n. */
typedef struct {
  const double *mu, *v;
  double f, sigma, teacher_sigma;
} kd_mix_source;
/* The deterministic equivalent: the surrogate risk of the target (1 - f) beta_T + f beta*
 * (mean (1 - f) mu + f beta*, variance (1 - f)^2 v) with the noise variance
 * f sigma^2 + (1 - f) teacher_sigma^2 + f (1 - f) E||beta_T - beta*||^2_Sigma. */
double kd_risk_mix(const double *lambda, const double *beta, size_t p, const kd_de *de,
                   const kd_mix_source *src);
/* The exact expected risk of the ridgeless student at n > p + 1 (Gaussian design):
 * (1 - f)^2 D + (f sigma^2 + (1 - f) teacher_sigma^2) p / (n - p - 1) + D f (1 - f) c,
 * c = 2 / (n + 2) + n (n + 1) (p - 1) / ((n + 2) (n - 1) (n - p - 1)), D = E||beta_T -
 * beta*||^2_Sigma (exact as far as mu and v are); NaN outside n > p + 1. */
double kd_exact_mix_ols(const double *lambda, const double *beta, size_t p, double n,
                        const kd_mix_source *src);

/* Exact finite-sample expected risks (docs/theory.md#finite-size). Outside their regime
 * (n <= p for OLS, p <= n for min-norm) they return NaN; at the threshold (n = p + 1,
 * p = n + 1) the noise term is +inf (0 without noise).
 * Ridgeless, n > p + 1, any Sigma:  ||beta_s - beta*||^2_Sigma + sigma^2 p/(n - p - 1). */
double kd_exact_ols(const double *lambda, const double *beta, const double *beta_s,
                    size_t p, double n, double sigma_lab);
/* Ridgeless, isotropic Sigma = c I, p > n + 1. */
double kd_exact_iso_minnorm(double c, const double *beta, const double *beta_s,
                            size_t p, double n, double sigma_lab);

/* A student that sees s of the p features, seen[0..s), plus q pure-noise features of
 * variance rho, fitted on n samples with ridge `ridge` to labels X beta* + sigma z
 * (docs/theory.md#features). The signal it does not see, sum over the unseen j of
 * lambda_j beta*_j^2, is extra label noise and counts in the risk. *risk is exact
 * (*exact = 1) for a ridgeless fit with s + q < n - 1 (OLS), or s + q > n + 1 over one
 * eigenvalue (isotropic min-norm); else the DE over the seen eigenvalues and q times
 * rho (*exact = 0). KD_EINVAL for s + q = 0, s > p or a seen index that is not one;
 * kd_de_solve's errors. */
kd_status kd_risk_features(const double *lambda, const double *beta, size_t p, const size_t *seen,
                           size_t s, size_t q, double rho, double n, double ridge, double sigma,
                           double *risk, int *exact);

/* Continuum limit (docs/theory.md#continuum): lambda_i = i^-alpha,
 * lambda_i beta_i^2 = i^-b, p -> inf, ridgeless, noiseless: E(n) ~ C n^-exponent. */
typedef struct {
  double exponent;        /* b - 1, or 2 alpha when b >= 2 alpha + 1 (saturated; at
                             equality the rate carries a log factor) */
  double A1;              /* (pi/alpha) / sin(pi/alpha) */
  double omega;           /* 1/alpha */
  double u_star;          /* mask threshold: keep u < u_star; k* ~ n u_star / A1 */
  double c_strong, c_optimal, c_mask; /* constants (NaN when saturated) */
} kd_continuum;
/* KD_EINVAL unless alpha > 1 and b > 1; KD_ENUM if a GSL quadrature fails. */
kd_status kd_continuum_limit(double alpha, double b, kd_continuum *out);

#endif
