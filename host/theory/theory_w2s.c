/* Two-stage weak-to-strong (docs/theory.md#two-stage): the weak model's coordinate
 * moments, its own risk, the strong student's risk on its labels, and the best weak
 * capacity k. */
#include <math.h>
#include <stdlib.h>

#include "kdbench/theory.h"
#include "internal.h"

/* Above this p, kd_best_k_w2s stops evaluating every k of the DE region (each
 * evaluation is an O(p) solve) and searches a log-spaced grid instead. */
enum { W2S_FULL_SCAN_MAX_P = 5000, W2S_GRID_PER_OCTAVE = 4 };

/* The exact inverse-Wishart moments apply: ridgeless weak fit with k < m - 1. */
static int weak_exact(size_t k, double m, double ridge) {
  return ridge == 0.0 && (double)k < m - 1.0;
}

static kd_status weak_check(const double *lambda, const double *beta, size_t p,
                            const kd_weak_spec *w) {
  if (!w) return kd_fail(KD_EINVAL, "kd_weak_moments: weak spec is NULL");
  if (!beta) return kd_fail(KD_EINVAL, "kd_weak_moments: beta is NULL");
  if (!(isfinite(w->m) && w->m > 0.0))
    return kd_fail(KD_EINVAL, "kd_weak_moments: m = %g must be finite and positive", w->m);
  if (w->k < 1 || w->k > p)
    return kd_fail(KD_EINVAL, "kd_weak_moments: k = %zu must be in [1, p = %zu]", w->k, p);
  if (!(isfinite(w->ridge) && w->ridge >= 0.0))
    return kd_fail(KD_EINVAL, "kd_weak_moments: ridge = %g must be finite and >= 0", w->ridge);
  if (!(isfinite(w->sigma) && w->sigma >= 0.0))
    return kd_fail(KD_EINVAL, "kd_weak_moments: sigma = %g must be finite and >= 0", w->sigma);
  if (w->lambda_w) return kd_check_spectrum("kd_weak_moments", "lambda_w", w->lambda_w, p);
  return kd_check_spectrum("kd_weak_moments", "lambda", lambda, p);
}

kd_status kd_weak_moments(const double *lambda, const double *beta, size_t p,
                          const kd_weak_spec *w, double *mu, double *v, kd_weak_info *info) {
  kd_status st = weak_check(lambda, beta, p, w);
  if (st != KD_OK) return st;
  const double *lw = w->lambda_w ? w->lambda_w : lambda;
  size_t k = w->k;
  kd_de de;
  st = kd_de_solve(lw, k, w->m, w->ridge, &de);
  if (st != KD_OK) return st;

  /* The dropped features act as extra label noise (Gaussian, independent design). */
  kd_acc drop = {0.0, 0.0};
  for (size_t i = k; i < p; ++i) kd_acc_add(&drop, lw[i] * beta[i] * beta[i]);
  double sigma_eff2 = w->sigma * w->sigma + kd_acc_sum(&drop);
  int exact = weak_exact(k, w->m, w->ridge);

  if (exact) { /* OLS: unbiased, covariance sigma_eff^2 E[(X^T X)^-1] (inverse Wishart) */
    double c = sigma_eff2 / (w->m - (double)k - 1.0);
    for (size_t i = 0; i < k; ++i) {
      mu[i] = beta[i];
      v[i] = c / lw[i];
    }
  } else { /* the Gaussian sequence model of the weak fit */
    kd_acc unfit = {0.0, 0.0};
    for (size_t i = 0; i < k; ++i) {
      double z, zc;
      kd_zeta_pair(lw[i], de.tau, &z, &zc);
      kd_acc_add(&unfit, lw[i] * zc * zc * beta[i] * beta[i]);
    }
    double gamma2 = kd_over_omega(sigma_eff2 + kd_acc_sum(&unfit), &de);
    for (size_t i = 0; i < k; ++i) {
      double z, zc;
      kd_zeta_pair(lw[i], de.tau, &z, &zc);
      mu[i] = z * beta[i];
      v[i] = z * z * gamma2 / (w->m * lw[i]);
    }
  }
  for (size_t i = k; i < p; ++i) mu[i] = v[i] = 0.0;
  if (info) *info = (kd_weak_info){.exact = exact, .sigma_eff2 = sigma_eff2, .de = de};
  return KD_OK;
}

double kd_risk_weak(const double *lambda, const double *beta, size_t p, const double *mu,
                    const double *v) {
  kd_acc r = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double e = mu[i] - beta[i];
    kd_acc_add(&r, lambda[i] * (e * e + v[i]));
  }
  return kd_acc_sum(&r);
}

/* docs/theory.md#surrogate-risk averaged over the surrogate's law:
 * E[beta_s] = mu, Var[beta_s] = v (docs/theory.md#weak-moments). */
double kd_risk_w2s(const double *lambda, const double *beta, size_t p, const kd_de *de,
                   const double *mu, const double *v, double sigma_lab) {
  kd_acc bias = {0.0, 0.0}, unfit = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double z, zc;
    kd_zeta_pair(lambda[i], de->tau, &z, &zc);
    double e = z * mu[i] - beta[i];
    kd_acc_add(&bias, lambda[i] * (e * e + z * z * v[i]));
    kd_acc_add(&unfit, lambda[i] * zc * zc * (mu[i] * mu[i] + v[i]));
  }
  return kd_acc_sum(&bias) + kd_var_amp(sigma_lab * sigma_lab + kd_acc_sum(&unfit), de);
}

/* ---- kd_best_k_w2s ------------------------------------------------------------- */

typedef struct {
  const double *lambda, *beta;
  size_t p;
  const kd_de *de;
  kd_weak_spec w; /* w.k is set per candidate */
  double sigma_lab;
  double *mu, *v; /* p + 1 doubles each; also the exact scan's suffix arrays */
  size_t k_best;  /* 0: none yet */
  double r_best;
} w2s_search;

/* Ties go to the smallest k, whatever order the candidates come in; NaN ranks last. */
static void w2s_offer(w2s_search *s, size_t k, double r) {
  if (isnan(r)) r = INFINITY;
  if (s->k_best == 0 || r < s->r_best || (r == s->r_best && k < s->k_best)) {
    s->k_best = k;
    s->r_best = r;
  }
}

static kd_status w2s_eval(w2s_search *s, size_t k, double *r) {
  s->w.k = k;
  kd_status st = kd_weak_moments(s->lambda, s->beta, s->p, &s->w, s->mu, s->v, NULL);
  if (st != KD_OK) return st;
  *r = kd_risk_w2s(s->lambda, s->beta, s->p, s->de, s->mu, s->v, s->sigma_lab);
  w2s_offer(s, k, *r);
  return KD_OK;
}

/* k = 1..k1 with exact weak moments (mu = beta, v_i = c(k) / lw_i on the top k,
 * c(k) = sigma_eff^2(k) / (m - k - 1)). Then
 *   E(k) = A + D_t(k) + c B + var_amp(sigma_lab^2 + A + c G)
 * with prefix sums over i < k of A = lambda (1-zeta)^2 beta^2, B = lambda zeta^2 / lw,
 * G = lambda (1-zeta)^2 / lw, and D_t(k) = sum_{i>=k} lambda beta^2: O(p) in all. */
static void w2s_scan_exact(w2s_search *s, const double *lw, size_t k1) {
  double *dt = s->mu, *ck = s->v; /* suffix arrays, indices 0..k1 */
  kd_acc drop_t = {0.0, 0.0}, drop_w = {0.0, 0.0};
  double sig2 = s->w.sigma * s->w.sigma;
  for (size_t i = s->p; i-- > 0;) {
    double b2 = s->beta[i] * s->beta[i];
    kd_acc_add(&drop_t, s->lambda[i] * b2);
    kd_acc_add(&drop_w, lw[i] * b2);
    if (i <= k1) {
      dt[i] = kd_acc_sum(&drop_t);
      ck[i] = (sig2 + kd_acc_sum(&drop_w)) / (s->w.m - (double)i - 1.0);
    }
  }
  if (k1 == s->p) { /* k = p: nothing dropped */
    dt[k1] = 0.0;
    ck[k1] = sig2 / (s->w.m - (double)k1 - 1.0);
  }
  kd_acc A = {0.0, 0.0}, B = {0.0, 0.0}, G = {0.0, 0.0};
  for (size_t k = 1; k <= k1; ++k) {
    size_t i = k - 1;
    double z, zc;
    kd_zeta_pair(s->lambda[i], s->de->tau, &z, &zc);
    kd_acc_add(&A, s->lambda[i] * zc * zc * s->beta[i] * s->beta[i]);
    kd_acc_add(&B, s->lambda[i] * z * z / lw[i]);
    kd_acc_add(&G, s->lambda[i] * zc * zc / lw[i]);
    double a = kd_acc_sum(&A), c = ck[k];
    double r = a + dt[k] + c * kd_acc_sum(&B) +
               kd_var_amp(s->sigma_lab * s->sigma_lab + a + c * kd_acc_sum(&G), s->de);
    w2s_offer(s, k, r);
  }
}

/* Integer ternary search for the minimum on [lo, hi], assuming it is unimodal there;
 * every evaluated k is offered, so the result is never worse than the grid's best. */
static kd_status w2s_refine(w2s_search *s, size_t lo, size_t hi) {
  double r1, r2;
  kd_status st;
  while (hi - lo > 2) {
    size_t third = (hi - lo) / 3, m1 = lo + third, m2 = hi - third;
    if ((st = w2s_eval(s, m1, &r1)) != KD_OK || (st = w2s_eval(s, m2, &r2)) != KD_OK) return st;
    if (r1 <= r2)
      hi = m2;
    else
      lo = m1;
  }
  for (size_t k = lo; k <= hi; ++k)
    if ((st = w2s_eval(s, k, &r1)) != KD_OK) return st;
  return KD_OK;
}

/* k = k_lo..p, where each k needs its own weak DE solve (O(p)). Every k when
 * p <= W2S_FULL_SCAN_MAX_P; otherwise a log-spaced grid (W2S_GRID_PER_OCTAVE points
 * per octave, both ends included) and a ternary refinement between the grid
 * neighbours of its best point. The refinement assumes the risk is unimodal there,
 * so for large p the result is a heuristic optimum of this region. */
static kd_status w2s_scan_de(w2s_search *s, size_t k_lo) {
  kd_status st;
  double r;
  if (s->p <= W2S_FULL_SCAN_MAX_P) {
    for (size_t k = k_lo; k <= s->p; ++k)
      if ((st = w2s_eval(s, k, &r)) != KD_OK) return st;
    return KD_OK;
  }
  size_t grid[W2S_GRID_PER_OCTAVE * 64 + 2], ng = 0, j_best = 0;
  double step = exp2(1.0 / W2S_GRID_PER_OCTAVE), r_best = INFINITY;
  for (double x = (double)k_lo; ng == 0 || grid[ng - 1] < s->p; x *= step) {
    size_t k = x >= (double)s->p ? s->p : (size_t)x;
    if (ng > 0 && k <= grid[ng - 1]) continue;
    grid[ng] = k;
    if ((st = w2s_eval(s, k, &r)) != KD_OK) return st;
    if (r < r_best) {
      r_best = r;
      j_best = ng;
    }
    ++ng;
  }
  size_t lo = grid[j_best > 0 ? j_best - 1 : 0],
         hi = grid[j_best + 1 < ng ? j_best + 1 : j_best];
  return w2s_refine(s, lo, hi);
}

kd_status kd_best_k_w2s(const double *lambda, const double *beta, size_t p, const kd_de *de,
                        const kd_weak_spec *w, double sigma_lab, size_t *k_best,
                        double *risk_best) {
  if (!de || !k_best || !risk_best)
    return kd_fail(KD_EINVAL, "kd_best_k_w2s: de, k_best and risk_best must not be NULL");
  if (p == 0) return kd_fail(KD_EINVAL, "kd_best_k_w2s: p = 0 (empty spectrum)");
  kd_weak_spec w1 = w ? *w : (kd_weak_spec){0};
  w1.k = 1; /* validate everything but k once, up front */
  kd_status st = weak_check(lambda, beta, p, w ? &w1 : NULL);
  if (st != KD_OK) return st;

  w2s_search s = {.lambda = lambda,
                  .beta = beta,
                  .p = p,
                  .de = de,
                  .w = w1,
                  .sigma_lab = sigma_lab,
                  .k_best = 0,
                  .r_best = INFINITY};
  s.mu = malloc((p + 1) * sizeof *s.mu);
  s.v = malloc((p + 1) * sizeof *s.v);
  if (!s.mu || !s.v) {
    free(s.mu);
    free(s.v);
    return kd_fail(KD_ENOMEM, "kd_best_k_w2s: no memory for 2 x %zu doubles", p + 1);
  }
  size_t k1 = 0; /* the exact region is k = 1..k1 */
  while (k1 < p && weak_exact(k1 + 1, w1.m, w1.ridge)) ++k1;
  if (k1 > 0) w2s_scan_exact(&s, w1.lambda_w ? w1.lambda_w : lambda, k1);
  st = k1 < p ? w2s_scan_de(&s, k1 + 1) : KD_OK;
  free(s.mu);
  free(s.v);
  if (st != KD_OK) return st;
  *k_best = s.k_best;
  *risk_best = s.r_best;
  return KD_OK;
}
