/* The theory engine (docs/theory.md, sections 3-8 and 12; the paper/sectionN tests
 * follow its section numbers): the tau solve's residual over
 * extreme spectra (checked independently in long double), closed forms (isotropic,
 * n > p, continuum Beta integrals, exact finite-sample risks), optimality of the
 * surrogate / mask / best weak capacity against brute force, and the reference numbers
 * that docs/theory.md prints. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/status.h"
#include "kdbench/theory.h"

/* ---- helpers --------------------------------------------------------------------- */

static double *alloc_doubles(size_t n) {
  double *x = malloc(n * sizeof *x);
  cr_assert_not_null(x, "allocating %zu doubles", n);
  return x;
}

/* lambda_i = i^-alpha (i = 1..p) */
static double *power_law(size_t p, double alpha) {
  double *l = alloc_doubles(p);
  for (size_t i = 0; i < p; ++i) l[i] = pow((double)(i + 1), -alpha);
  return l;
}

/* beta_i > 0 with lambda_i beta_i^2 = i^-b */
static double *power_beta(size_t p, double alpha, double b) {
  double *x = alloc_doubles(p);
  for (size_t i = 0; i < p; ++i) x[i] = pow((double)(i + 1), 0.5 * (alpha - b));
  return x;
}

static double rel(double a, double b) {
  return fabs(a - b) / fmax(fabs(b), 1e-300);
}

/* A small deterministic generator (splitmix64) for the random configurations. */
static uint64_t rng_state = 0x243F6A8885A308D3ULL;
static double urand(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

/* |n - df1(tau) - n ridge/tau| / n, recomputed in long double with Kahan sums, from
 * whichever of sum zeta, sum (1 - zeta) is smaller (the other form cancels). */
static double residual_ld(const double *l, size_t p, double n, double ridge, double tau) {
  long double s1 = 0, c1 = 0, s0 = 0, c0 = 0;
  for (size_t i = 0; i < p; ++i) {
    long double d = (long double)l[i] + tau;
    long double y1 = l[i] / d - c1, t1 = s1 + y1;
    c1 = (t1 - s1) - y1;
    s1 = t1;
    long double y0 = tau / d - c0, t0 = s0 + y0;
    c0 = (t0 - s0) - y0;
    s0 = t0;
  }
  long double core = s1 <= s0 ? (long double)n - s1 : s0 - ((long double)p - n);
  return (double)(fabsl(core - (long double)n * ridge / tau) / n);
}

/* One solve with its checks: status, reported and independent residual, the
 * constraint tau >= ridge, Omega in (0, 1], and df1 = n for ridgeless p > n. */
static void check_solve(const double *l, size_t p, double alpha, double n, double ridge) {
  kd_de de;
  kd_status st = kd_de_solve(l, p, n, ridge, &de);
  cr_assert_eq(st, KD_OK, "alpha %g p %zu n %g ridge %g: %s", alpha, p, n, ridge,
               kd_last_error());
  cr_expect_lt(de.resid, 1e-12, "alpha %g p %zu n %g ridge %g: resid %g", alpha, p, n, ridge,
               de.resid);
  double r = residual_ld(l, p, n, ridge, de.tau);
  cr_expect_lt(r, 1e-12, "alpha %g p %zu n %g ridge %g: long-double residual %g", alpha, p, n,
               ridge, r);
  cr_expect(de.tau > 0 && de.tau >= ridge, "alpha %g p %zu n %g ridge %g: tau %g", alpha, p, n,
            ridge, de.tau);
  cr_expect(de.omega > 0 && de.omega <= 1, "alpha %g p %zu n %g ridge %g: omega %g", alpha, p,
            n, ridge, de.omega);
  if (ridge == 0)
    cr_expect_lt(rel(de.df1, n), 1e-12, "alpha %g p %zu n %g: df1 %.17g", alpha, p, n, de.df1);
}

static const double ALPHAS[] = {1.05, 1.1, 2.0, 4.0, 8.0};
static const double RIDGES[] = {0.0, 1e-6, 1e-2, 1.0};

static void residual_sweep(size_t p, const double *ns, size_t nn) {
  for (size_t a = 0; a < sizeof ALPHAS / sizeof *ALPHAS; ++a) {
    double *l = power_law(p, ALPHAS[a]);
    for (size_t j = 0; j < nn; ++j)
      for (size_t r = 0; r < sizeof RIDGES / sizeof *RIDGES; ++r)
        check_solve(l, p, ALPHAS[a], ns[j], RIDGES[r]);
    free(l);
  }
}

/* ---- the tau solve ---------------------------------------------------------------- */

Test(de, residual_p500) {
  const double ns[] = {1, 2, 50, 250, 498, 499};
  residual_sweep(500, ns, 6);
}

Test(de, residual_p1e4) {
  const double ns[] = {1, 7, 1000, 5000, 9998, 9999};
  residual_sweep(10000, ns, 6);
}

Test(de, residual_p1e6) {
  const double ns[] = {1, 1e5, 999999};
  residual_sweep(1000000, ns, 3);
}

/* The hardest case, once: p = 1e7, alpha = 8 (lambda_p = 1e-56), n = p - 1 puts tau
 * near 9e-63. */
Test(de, residual_p1e7_single) {
  size_t p = 10000000;
  double *l = power_law(p, 8.0);
  check_solve(l, p, 8.0, (double)(p - 1), 0.0);
  free(l);
}

Test(de, ridge_with_n_above_p) {
  size_t p = 500;
  double *l = power_law(p, 2.0);
  const double ns[] = {501, 1000, 1e4};
  for (size_t j = 0; j < 3; ++j)
    for (size_t r = 1; r < 4; ++r) check_solve(l, p, 2.0, ns[j], RIDGES[r]);
  free(l);
}

Test(de, ridgeless_n_at_least_p) {
  size_t p = 300;
  double *l = power_law(p, 1.5);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 300, 0, &de), KD_OK, "%s", kd_last_error());
  cr_expect(de.tau == 0 && de.omega == 0 && de.resid == 0, "n = p: tau %g omega %g", de.tau,
            de.omega);
  cr_assert_eq(kd_de_solve(l, p, 600, 0, &de), KD_OK, "%s", kd_last_error());
  cr_expect(de.tau == 0 && de.omega == 0.5 && de.df1 == 300 && de.df2 == 300,
            "n = 2p: tau %g omega %g df1 %g df2 %g", de.tau, de.omega, de.df1, de.df2);
  free(l);
}

Test(de, tau_monotone_in_n_and_ridge) {
  size_t p = 1000;
  double *l = power_law(p, 2.0);
  double prev = INFINITY;
  for (double n = 10; n < 1000; n += 70) {
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, n, 0, &de), KD_OK, "%s", kd_last_error());
    cr_expect_lt(de.tau, prev, "ridgeless tau must fall with n: n %g tau %g", n, de.tau);
    prev = de.tau;
  }
  prev = 0;
  for (size_t r = 0; r < 4; ++r) {
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, 200, RIDGES[r], &de), KD_OK, "%s", kd_last_error());
    cr_expect_gt(de.tau, prev, "tau must grow with the ridge: ridge %g tau %g", RIDGES[r],
                 de.tau);
    prev = de.tau;
  }
  free(l);
}

/* ---- model shift: closed forms ---------------------------------------------------- */

/* Sigma = c I, p > n: tau = c (p/n - 1), Omega = 1 - n/p, every gain 1, the optimal
 * surrogate is the ground truth, the mask keeps everything, and the DE risk is
 * c (1 - n/p) ||beta||^2 + sigma^2 n/(p - n) (Hastie et al.). */
Test(isotropic, closed_form) {
  size_t p = 1000;
  double n = 300, sigma = 0.7;
  double *l = alloc_doubles(p), *b = alloc_doubles(p), *g = alloc_doubles(p);
  const double cs[] = {1.0, 3.0};
  for (size_t t = 0; t < 2; ++t) {
    double c = cs[t], nb = 0;
    for (size_t i = 0; i < p; ++i) {
      l[i] = c;
      b[i] = sin(0.37 * (double)i + 1.0);
      nb += b[i] * b[i];
    }
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, n, 0, &de), KD_OK, "%s", kd_last_error());
    cr_expect_lt(rel(de.tau, c * (p / n - 1)), 1e-12, "c %g: tau %.17g", c, de.tau);
    cr_expect_lt(rel(de.omega, 1 - n / p), 1e-12, "c %g: omega %.17g", c, de.omega);
    kd_optimal_gains(l, p, &de, g);
    for (size_t i = 0; i < p; ++i)
      cr_expect_lt(fabs(g[i] - 1), 1e-12, "c %g: gain[%zu] = %.17g", c, i, g[i]);
    double std = kd_risk_surrogate(l, b, b, p, &de, sigma);
    double opt = kd_risk_optimal(l, b, p, &de, sigma);
    cr_expect_lt(rel(opt, std), 1e-12, "c %g: optimal %.17g vs ground truth %.17g", c, opt,
                 std);
    double want = c * (1 - n / p) * nb + sigma * sigma * n / (p - n);
    cr_expect_lt(rel(std, want), 1e-12, "c %g: risk %.17g vs closed form %.17g", c, std, want);
    cr_expect_eq(kd_optimal_mask_k(l, p, &de), p, "c %g: the mask must keep all", c);
  }
  free(l);
  free(b);
  free(g);
}

/* Ridgeless n > p: tau = 0, so no surrogate beats the ground truth (Proposition 2). */
Test(underparameterised, ridgeless_gains_one) {
  size_t p = 200;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5), *g = alloc_doubles(p);
  double *rk = alloc_doubles(p + 1);
  const double ns[] = {201, 202, 400, 5000};
  for (size_t j = 0; j < 4; ++j) {
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, ns[j], 0, &de), KD_OK, "%s", kd_last_error());
    kd_optimal_gains(l, p, &de, g);
    for (size_t i = 0; i < p; ++i)
      cr_expect_eq(g[i], 1.0, "n %g: gain[%zu] = %.17g", ns[j], i, g[i]);
    double std = kd_risk_surrogate(l, b, b, p, &de, 0.5);
    double opt = kd_risk_optimal(l, b, p, &de, 0.5);
    cr_expect_lt(rel(opt, std), 1e-15, "n %g: optimal %.17g vs strong %.17g", ns[j], opt, std);
    cr_expect_lt(rel(std, 0.25 * p / (ns[j] - p)), 1e-14, "n %g: DE risk %.17g", ns[j], std);
    cr_expect_eq(kd_optimal_mask_k(l, p, &de), p, "n %g: the mask must keep all", ns[j]);
    kd_risk_topk_all(l, b, p, &de, 0.5, rk);
    cr_expect_lt(rel(rk[p], std), 1e-14, "n %g: full mask %.17g vs strong %.17g", ns[j], rk[p],
                 std);
  }
  free(l);
  free(b);
  free(g);
  free(rk);
}

/* ---- model shift: optimality against alternatives ---------------------------------- */

typedef struct {
  size_t p;
  double n, ridge, sigma;
  double *l, *b;
} config;

/* Power-law (random alpha) or two-level spectra, random signs and sizes of beta,
 * n from 1 to 2p, ridgeless or ridge. */
static config random_config(void) {
  config c = {.p = 20 + (size_t)(urand() * 600)};
  c.n = 1 + floor(urand() * 2.0 * (double)c.p);
  c.ridge = urand() < 0.5 ? 0.0 : pow(10.0, -6.0 + 6.0 * urand());
  c.sigma = urand() < 0.3 ? 0.0 : urand();
  if (c.ridge == 0.0 && c.n == (double)c.p) c.n += 1.0; /* the peak: every risk is +inf */
  c.l = alloc_doubles(c.p);
  c.b = alloc_doubles(c.p);
  int two_level = urand() < 0.4;
  double alpha = 1.05 + 4.0 * urand(), q = 0.05 + 0.5 * urand(),
         eps = pow(10.0, -4.0 * urand());
  for (size_t i = 0; i < c.p; ++i) {
    c.l[i] =
        two_level ? ((double)i < q * (double)c.p ? 1.0 : eps) : pow((double)(i + 1), -alpha);
    c.b[i] =
        (urand() < 0.5 ? -1.0 : 1.0) * (0.1 + urand()) * pow((double)(i + 1), -0.5 * urand());
  }
  return c;
}

static void free_config(config *c) {
  free(c->l);
  free(c->b);
}

Test(optimal, never_worse_than_ground_truth_or_mask) {
  for (int t = 0; t < 200; ++t) {
    config c = random_config();
    double *g = alloc_doubles(c.p), *bs = alloc_doubles(c.p), *rk = alloc_doubles(c.p + 1);
    kd_de de;
    cr_assert_eq(kd_de_solve(c.l, c.p, c.n, c.ridge, &de), KD_OK, "%s", kd_last_error());
    kd_optimal_gains(c.l, c.p, &de, g);
    for (size_t i = 0; i < c.p; ++i) bs[i] = g[i] * c.b[i];
    double opt = kd_risk_optimal(c.l, c.b, c.p, &de, c.sigma);
    double at_g = kd_risk_surrogate(c.l, c.b, bs, c.p, &de, c.sigma);
    double std = kd_risk_surrogate(c.l, c.b, c.b, c.p, &de, c.sigma);
    cr_expect_lt(rel(opt, at_g), 1e-12,
                 "config %d: kd_risk_optimal %.17g vs surrogate at g %.17g", t, opt, at_g);
    cr_expect_leq(opt, std * (1 + 1e-12),
                  "config %d (p %zu n %g ridge %g): optimal %.17g > ground truth %.17g", t, c.p,
                  c.n, c.ridge, opt, std);
    kd_risk_topk_all(c.l, c.b, c.p, &de, c.sigma, rk);
    size_t k = kd_optimal_mask_k(c.l, c.p, &de);
    cr_expect_leq(opt, rk[k] * (1 + 1e-12), "config %d: optimal %.17g > best mask %.17g", t,
                  opt, rk[k]);
    /* and a random perturbation of the gains never helps */
    for (size_t i = 0; i < c.p; ++i) bs[i] = (g[i] + 0.05 * (urand() - 0.5)) * c.b[i];
    double pert = kd_risk_surrogate(c.l, c.b, bs, c.p, &de, c.sigma);
    cr_expect_geq(pert, opt * (1 - 1e-12), "config %d: perturbed gains %.17g < optimal %.17g",
                  t, pert, opt);
    free(g);
    free(bs);
    free(rk);
    free_config(&c);
  }
}

/* risk_k equals kd_risk_surrogate at each top-k mask; its argmin (smallest on ties)
 * is the rule's k*. */
Test(mask, rule_equals_bruteforce_topk) {
  for (int t = 0; t < 60; ++t) {
    config c = random_config();
    double *rk = alloc_doubles(c.p + 1), *bs = alloc_doubles(c.p);
    kd_de de;
    cr_assert_eq(kd_de_solve(c.l, c.p, c.n, c.ridge, &de), KD_OK, "%s", kd_last_error());
    kd_risk_topk_all(c.l, c.b, c.p, &de, c.sigma, rk);
    size_t argmin = 0;
    double brute_min = INFINITY;
    for (size_t k = 0; k <= c.p; ++k) {
      for (size_t i = 0; i < c.p; ++i) bs[i] = i < k ? c.b[i] : 0.0;
      double brute = kd_risk_surrogate(c.l, c.b, bs, c.p, &de, c.sigma);
      cr_expect_lt(rel(rk[k], brute), 1e-12,
                   "config %d k %zu: risk_k %.17g vs brute force %.17g", t, k, rk[k], brute);
      if (brute < brute_min) {
        brute_min = brute;
        argmin = k;
      }
    }
    size_t kstar = kd_optimal_mask_k(c.l, c.p, &de);
    cr_expect_eq(kstar, argmin,
                 "config %d (p %zu n %g ridge %g): rule k* %zu, brute-force argmin %zu", t, c.p,
                 c.n, c.ridge, kstar, argmin);
    for (size_t k = 0; k <= c.p; ++k)
      cr_expect_leq(rk[kstar], rk[k],
                    "config %d: risk_k[k* = %zu] = %.17g > risk_k[%zu] = %.17g", t, kstar,
                    rk[kstar], k, rk[k]);
    free(rk);
    free(bs);
    free_config(&c);
  }
}

/* ---- the numbers of docs/theory.md ----------------------------------------------- */

/* |got - printed| within 0.6 units of the printed number's last digit. (0.6, not 0.5:
 * the reference value of the n = 100 noiseless standard risk is 0.243 where the DE
 * gives 0.24247, a double rounding, 0.24247 -> 0.2425 -> 0.243; docs/theory.md#figure-1
 * prints 0.242.) */
static void expect_printed(double got, double printed, double unit, const char *what,
                           double n) {
  cr_expect_leq(fabs(got - printed), 0.6 * unit, "n %g, %s: got %.6g, reference %g",
                n, what, got, printed);
}

/* docs/theory.md#figure-1, the table: p = 500, lambda_i = i^-2, lambda_i beta_i^2 = i^-1.5. */
Test(paper, section10_table) {
  size_t p = 500;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5), *rk = alloc_doubles(p + 1);
  static const struct {
    double n, tau, tau_unit, omega;
    size_t k;
    double risk[2][3]; /* sigma = 0, sigma^2 = 0.25: std / optimal / mask */
  } rows[] = {
      {50, 8.9e-4, 1e-5, 0.483, 50, {{0.411, 0.268, 0.281}, {0.679, 0.536, 0.549}}},
      {100, 2.0e-4, 1e-5, 0.454, 100, {{0.243, 0.161, 0.170}, {0.543, 0.462, 0.471}}},
      {200, 4.0e-5, 1e-6, 0.387, 203, {{0.119, 0.083, 0.090}, {0.515, 0.479, 0.486}}},
      {300, 1.2e-5, 1e-6, 0.296, 311, {{0.062, 0.046, 0.052}, {0.657, 0.641, 0.646}}},
      {400, 3.6e-6, 1e-7, 0.171, 443, {{0.026, 0.022, 0.025}, {1.236, 1.231, 1.235}}},
  };
  for (size_t r = 0; r < sizeof rows / sizeof *rows; ++r) {
    double n = rows[r].n;
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, n, 0, &de), KD_OK, "%s", kd_last_error());
    expect_printed(de.tau, rows[r].tau, rows[r].tau_unit, "tau", n);
    expect_printed(de.omega, rows[r].omega, 1e-3, "Omega", n);
    size_t k = kd_optimal_mask_k(l, p, &de);
    cr_expect_eq(k, rows[r].k, "n %g: k* %zu, reference %zu", n, k, rows[r].k);
    for (int s = 0; s < 2; ++s) {
      double sigma = s ? 0.5 : 0.0;
      kd_risk_topk_all(l, b, p, &de, sigma, rk);
      expect_printed(kd_risk_surrogate(l, b, b, p, &de, sigma), rows[r].risk[s][0], 1e-3,
                     s ? "noisy standard" : "noiseless standard", n);
      expect_printed(kd_risk_optimal(l, b, p, &de, sigma), rows[r].risk[s][1], 1e-3,
                     s ? "noisy optimal" : "noiseless optimal", n);
      expect_printed(rk[k], rows[r].risk[s][2], 1e-3, s ? "noisy mask" : "noiseless mask", n);
    }
  }
  free(l);
  free(b);
  free(rk);
}

/* docs/theory.md#figure-1 at n = 200: features 1..126 amplified, the largest gain 1.14 at
 * i = 84; the noiseless reductions 30 % (optimal) and 25 % (mask). */
Test(paper, section10_gains_n200) {
  size_t p = 500;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5), *g = alloc_doubles(p);
  double *rk = alloc_doubles(p + 1);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 200, 0, &de), KD_OK, "%s", kd_last_error());
  kd_optimal_gains(l, p, &de, g);
  size_t imax = 0, last_amplified = 0;
  for (size_t i = 0; i < p; ++i) {
    if (g[i] > g[imax]) imax = i;
    if (g[i] > 1) last_amplified = i + 1;
    /* docs/theory.md#optimal-surrogate: g > 1 iff zeta > 1 - Omega */
    double z = kd_zeta(l[i], de.tau);
    cr_expect_eq(g[i] > 1, z > 1 - de.omega, "i %zu: gain %.6f, zeta %.6f, 1 - Omega %.6f",
                 i + 1, g[i], z, 1 - de.omega);
  }
  cr_expect_eq(last_amplified, 126, "amplified 1..%zu, docs/theory.md says 1..126",
               last_amplified);
  cr_expect_eq(imax + 1, 84, "largest gain at i = %zu, docs/theory.md says 84", imax + 1);
  cr_expect_leq(fabs(g[imax] - 1.14), 0.006, "largest gain %.4f, docs/theory.md says 1.14",
                g[imax]);
  double std = kd_risk_surrogate(l, b, b, p, &de, 0), opt = kd_risk_optimal(l, b, p, &de, 0);
  kd_risk_topk_all(l, b, p, &de, 0, rk);
  double mask = rk[kd_optimal_mask_k(l, p, &de)];
  cr_expect_leq(fabs(1 - opt / std - 0.30), 0.006, "optimal reduction %.4f, expected 30 %%",
                1 - opt / std);
  cr_expect_leq(fabs(1 - mask / std - 0.25), 0.006, "mask reduction %.4f, expected 25 %%",
                1 - mask / std);
  free(l);
  free(b);
  free(g);
  free(rk);
}

/* docs/theory.md#ridge, a ridge student at n = 200: tuning the ridge on a log grid gives, with
 * sigma^2 = 0.25, ridge ~2e-4, standard 0.240 and optimal surrogate 0.214; noiseless,
 * 0.118 and 0.087. */
Test(paper, section9_tuned_ridge) {
  size_t p = 500;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5);
  for (int s = 0; s < 2; ++s) {
    double sigma = s ? 0.5 : 0.0, best = INFINITY, best_ridge = 0, best_opt = 0;
    for (double e = -10; e <= 0; e += 0.02) {
      kd_de de;
      cr_assert_eq(kd_de_solve(l, p, 200, pow(10, e), &de), KD_OK, "%s", kd_last_error());
      double r = kd_risk_surrogate(l, b, b, p, &de, sigma);
      if (r < best) {
        best = r;
        best_ridge = pow(10, e);
        best_opt = kd_risk_optimal(l, b, p, &de, sigma);
      }
    }
    expect_printed(best, s ? 0.240 : 0.118, 1e-3,
                   s ? "tuned ridge, noisy" : "tuned ridge, noiseless", 200);
    expect_printed(best_opt, s ? 0.214 : 0.087, 1e-3,
                   s ? "optimal at tuned ridge, noisy" : "optimal at tuned ridge, noiseless",
                   200);
    if (s)
      cr_expect(best_ridge > 1e-4 && best_ridge < 4e-4, "tuned ridge %g, expected about 2e-4",
                best_ridge);
  }
  free(l);
  free(b);
}

/* docs/theory.md#two-stage (n = 200, sigma^2 = 0.25 for both the weak labels and the
 * student's): the reference values were first computed with a DE weak stage (variance
 * / (m - k)); here k < m - 1 uses the exact m - k - 1. Both round to the same printed
 * values: m = 1000: +3.68 %
 * (k 151), m = 2000: -1.20 % (k 174), m = 5000: -3.98 % (k 190), m = 1e12: -5.76 %
 * (k 203); noiseless m -> inf: -24.9 %. */
Test(paper, section7_w2s) {
  size_t p = 500;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 200, 0, &de), KD_OK, "%s", kd_last_error());
  double std = kd_risk_surrogate(l, b, b, p, &de, 0.5);
  expect_printed(std, 0.515, 1e-3, "standard", 200);
  static const struct {
    double m, gain, tol;
    size_t k_lo, k_hi;
  } rows[] = {
      {1000, 0.037, 0.005, 140, 160},
      {2000, -0.012, 0.005, 165, 185},
      {5000, -0.040, 0.005, 180, 200},
      {1e12, -0.058, 0.005, 203, 203},
  };
  for (size_t r = 0; r < sizeof rows / sizeof *rows; ++r) {
    kd_weak_spec w = {.m = rows[r].m, .sigma = 0.5};
    size_t k;
    double risk;
    cr_assert_eq(kd_best_k_w2s(l, b, p, &de, &w, 0.5, &k, &risk), KD_OK, "%s", kd_last_error());
    double gain = risk / std - 1;
    cr_expect_leq(fabs(gain - rows[r].gain), rows[r].tol,
                  "m %g: best w2s %+.4f vs standard, expected %+.3f", rows[r].m, gain,
                  rows[r].gain);
    cr_expect(k >= rows[r].k_lo && k <= rows[r].k_hi, "m %g: best k %zu outside [%zu, %zu]",
              rows[r].m, k, rows[r].k_lo, rows[r].k_hi);
  }
  kd_weak_spec w = {.m = 1e12};
  size_t k;
  double risk;
  cr_assert_eq(kd_best_k_w2s(l, b, p, &de, &w, 0, &k, &risk), KD_OK, "%s", kd_last_error());
  double gain = risk / kd_risk_surrogate(l, b, b, p, &de, 0) - 1;
  cr_expect_leq(fabs(gain + 0.249), 0.0006, "noiseless m -> inf: %+.4f, want -24.9 %%", gain);
  free(l);
  free(b);
}

/* m -> inf: v = O(1/m) -> 0 and mu -> the top-k mask of beta, so the w2s risk at every
 * k is risk_k[k] of kd_risk_topk_all (m = 1e16: equal to ~1e-13; at m = 1e12 the
 * O(1/m) variance still shows at 2e-10) and the best k is the mask's k*: 203 at
 * n = 200 (docs/theory.md#figure-1). (An earlier reference note gave k = 205 for this
 * limit; 205 is where the noiseless m = 1000..2000 optima sit.) */
Test(w2s, infinite_m_is_topk_mask) {
  size_t p = 500;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5), *rk = alloc_doubles(p + 1);
  double *mu = alloc_doubles(p), *v = alloc_doubles(p);
  const double ns[] = {100, 200, 400};
  for (size_t j = 0; j < 3; ++j) {
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, ns[j], 0, &de), KD_OK, "%s", kd_last_error());
    kd_risk_topk_all(l, b, p, &de, 0.5, rk);
    for (size_t k = 1; k <= p; ++k) {
      kd_weak_spec w = {.m = 1e16, .k = k, .sigma = 0.5};
      cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, NULL), KD_OK, "%s", kd_last_error());
      double r = kd_risk_w2s(l, b, p, &de, mu, v, 0.5);
      cr_assert_lt(rel(r, rk[k]), 1e-12, "n %g k %zu: w2s %.17g vs top-k mask %.17g", ns[j], k,
                   r, rk[k]);
    }
    kd_weak_spec w = {.m = 1e12, .sigma = 0.5};
    size_t k;
    double risk;
    cr_assert_eq(kd_best_k_w2s(l, b, p, &de, &w, 0.5, &k, &risk), KD_OK, "%s", kd_last_error());
    size_t kstar = kd_optimal_mask_k(l, p, &de);
    cr_expect_eq(k, kstar, "n %g: best w2s k %zu vs mask k* %zu", ns[j], k, kstar);
  }
  free(l);
  free(b);
  free(rk);
  free(mu);
  free(v);
}

/* k = p, the student's spectrum, m -> inf: the weak model is beta*, w2s = standard. */
Test(w2s, full_capacity_infinite_m_is_standard) {
  size_t p = 400;
  double *l = power_law(p, 1.5), *b = power_beta(p, 1.5, 1.8);
  double *mu = alloc_doubles(p), *v = alloc_doubles(p);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 150, 0, &de), KD_OK, "%s", kd_last_error());
  kd_weak_spec w = {.m = 1e17, .k = p, .sigma = 1.0};
  cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, NULL), KD_OK, "%s", kd_last_error());
  double r = kd_risk_w2s(l, b, p, &de, mu, v, 0.3),
         std = kd_risk_surrogate(l, b, b, p, &de, 0.3);
  cr_expect_lt(rel(r, std), 1e-12, "w2s %.17g vs standard %.17g", r, std);
  cr_expect_lt(kd_risk_weak(l, b, p, mu, v), 1e-12, "the weak model's own risk must vanish");
  free(l);
  free(b);
  free(mu);
  free(v);
}

/* The exact moments (ridgeless, k < m - 1) and the DE ones (k >= m - 1, or ridge). */
Test(w2s, weak_moments) {
  size_t p = 300;
  double *l = power_law(p, 2.0), *lw = power_law(p, 1.5), *b = power_beta(p, 2.0, 1.5);
  double *mu = alloc_doubles(p), *v = alloc_doubles(p);
  double m = 100, sigma = 0.4;
  kd_weak_info info;
  for (size_t k = 1; k <= p; k += 7) {
    kd_weak_spec w = {.m = m, .k = k, .lambda_w = lw, .sigma = sigma};
    cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, &info), KD_OK, "%s", kd_last_error());
    double drop = 0;
    for (size_t i = k; i < p; ++i) drop += lw[i] * b[i] * b[i];
    cr_expect_lt(rel(info.sigma_eff2, sigma * sigma + drop), 1e-12, "k %zu: sigma_eff2 %.17g",
                 k, info.sigma_eff2);
    cr_expect_eq(info.exact, (double)k < m - 1, "k %zu: exact flag %d", k, info.exact);
    for (size_t i = 0; i < p; ++i) {
      double mu_want, v_want;
      if (i >= k) {
        mu_want = v_want = 0;
      } else if (info.exact) { /* inverse-Wishart mean */
        mu_want = b[i];
        v_want = info.sigma_eff2 / ((m - k - 1) * lw[i]);
      } else {
        double z = kd_zeta(lw[i], info.de.tau), fit = 0;
        for (size_t j = 0; j < k; ++j) {
          double zc = 1 - kd_zeta(lw[j], info.de.tau);
          fit += lw[j] * zc * zc * b[j] * b[j];
        }
        mu_want = z * b[i];
        v_want = z * z * (info.sigma_eff2 + fit) / info.de.omega / (m * lw[i]);
      }
      cr_expect_lt(fabs(mu[i] - mu_want), 1e-12 * fabs(b[i]),
                   "k %zu i %zu: mu %.17g want %.17g", k, i, mu[i], mu_want);
      cr_expect_leq(fabs(v[i] - v_want), 1e-9 * v_want, "k %zu i %zu: v %.17g want %.17g", k, i,
                    v[i], v_want);
    }
    /* the weak model's own risk under the student's covariance */
    double rw = 0;
    for (size_t i = 0; i < p; ++i) rw += l[i] * ((mu[i] - b[i]) * (mu[i] - b[i]) + v[i]);
    cr_expect_lt(rel(kd_risk_weak(l, b, p, mu, v), rw), 1e-12, "k %zu: weak risk", k);
  }
  /* At k = m - 1 the DE (tau = 0) gives sigma_eff^2 / ((m - k) lambda_i); a weak ridge
   * turns the exact path off. */
  kd_weak_spec w = {.m = m, .k = 99, .sigma = sigma};
  cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, &info), KD_OK, "%s", kd_last_error());
  cr_expect(!info.exact && info.de.tau == 0, "k = m - 1: exact %d tau %g", info.exact,
            info.de.tau);
  cr_expect_lt(rel(v[5], info.sigma_eff2 / ((m - 99) * l[5])), 1e-12, "k = m - 1: v %.17g",
               v[5]);
  w = (kd_weak_spec){.m = m, .k = 20, .ridge = 1e-3, .sigma = sigma};
  cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, &info), KD_OK, "%s", kd_last_error());
  cr_expect(!info.exact && info.de.tau >= 1e-3 && mu[0] < b[0], "ridge weak: exact %d tau %g",
            info.exact, info.de.tau);
  free(l);
  free(lw);
  free(b);
  free(mu);
  free(v);
}

/* Brute force over every k (kd_weak_moments + kd_risk_w2s) agrees with the O(p)
 * prefix-sum search in the exact region and with the per-k scan elsewhere. */
Test(w2s, best_k_equals_bruteforce) {
  size_t p = 300;
  double *l = power_law(p, 2.0), *lw = power_law(p, 1.7), *b = power_beta(p, 2.0, 1.5);
  double *mu = alloc_doubles(p), *v = alloc_doubles(p);
  static const struct {
    double m, ridge, sigma, sigma_lab;
    int own_spectrum;
  } cases[] = {
      {5000, 0, 0.5, 0.5, 0}, {1000, 0, 0.5, 0.5, 1},  {150, 0, 0.3, 0.1, 0},
      {60, 0, 0.0, 0.0, 1},   {80, 1e-3, 0.5, 0.5, 0}, {2.5, 0, 0.5, 0.5, 0},
  };
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 120, 0, &de), KD_OK, "%s", kd_last_error());
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    kd_weak_spec w = {.m = cases[c].m,
                      .ridge = cases[c].ridge,
                      .sigma = cases[c].sigma,
                      .lambda_w = cases[c].own_spectrum ? lw : NULL};
    size_t k_brute = 0;
    double r_brute = INFINITY;
    for (size_t k = 1; k <= p; ++k) {
      w.k = k;
      cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, NULL), KD_OK, "%s", kd_last_error());
      double r = kd_risk_w2s(l, b, p, &de, mu, v, cases[c].sigma_lab);
      if (r < r_brute) {
        r_brute = r;
        k_brute = k;
      }
    }
    size_t k;
    double r;
    cr_assert_eq(kd_best_k_w2s(l, b, p, &de, &w, cases[c].sigma_lab, &k, &r), KD_OK, "%s",
                 kd_last_error());
    cr_expect_eq(k, k_brute, "case %zu (m %g): best k %zu, brute force %zu", c, cases[c].m, k,
                 k_brute);
    cr_expect_lt(rel(r, r_brute), 1e-11, "case %zu: best %.17g, brute force %.17g", c, r,
                 r_brute);
  }
  free(l);
  free(lw);
  free(b);
  free(mu);
  free(v);
}

/* p > 5000 with most k in the DE region: the grid + refinement must beat every k of
 * an independent strided scan (a ridgeless weak model: exact region, then DE region;
 * a ridge weak model: DE everywhere, with an interior optimum found densely), and the
 * exact region must stay O(p) at p = 1e6. */
Test(w2s, best_k_large_p) {
  size_t p = 20000;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5);
  double *mu = alloc_doubles(p), *v = alloc_doubles(p);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 2000, 0, &de), KD_OK, "%s", kd_last_error());
  static const struct {
    double m, ridge, sigma;
    size_t dense; /* also compare with every k <= dense */
  } cases[] = {{3000, 0, 0.5, 0}, {800, 1e-7, 0.3, 400}};
  for (size_t c = 0; c < 2; ++c) {
    kd_weak_spec w = {.m = cases[c].m, .ridge = cases[c].ridge, .sigma = cases[c].sigma};
    size_t k;
    double r;
    cr_assert_eq(kd_best_k_w2s(l, b, p, &de, &w, cases[c].sigma, &k, &r), KD_OK, "%s",
                 kd_last_error());
    for (size_t kk = 1; kk <= p; kk += kk < cases[c].dense ? 1 : 97) {
      w.k = kk;
      cr_assert_eq(kd_weak_moments(l, b, p, &w, mu, v, NULL), KD_OK, "%s", kd_last_error());
      double rr = kd_risk_w2s(l, b, p, &de, mu, v, cases[c].sigma);
      cr_expect_leq(r, rr * (1 + 1e-12), "case %zu: best k %zu (%.17g) loses to k %zu (%.17g)",
                    c, k, r, kk, rr);
    }
    if (cases[c].dense)
      cr_expect(k > 1 && k < cases[c].dense, "case %zu: the optimum %zu should be interior", c,
                k);
  }
  free(l);
  free(b);
  free(mu);
  free(v);
}

/* In the exact region kd_best_k_w2s is O(p): at p = 1e6 and m = 1e16 it must land on
 * the mask's k* with the mask's risk. */
Test(w2s, best_k_exact_region_p1e6) {
  size_t p = 1000000;
  double *l = power_law(p, 2.0), *b = power_beta(p, 2.0, 1.5), *rk = alloc_doubles(p + 1);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, 5000, 0, &de), KD_OK, "%s", kd_last_error());
  kd_weak_spec w = {.m = 1e16, .sigma = 0.5};
  size_t k;
  double r;
  cr_assert_eq(kd_best_k_w2s(l, b, p, &de, &w, 0.5, &k, &r), KD_OK, "%s", kd_last_error());
  kd_risk_topk_all(l, b, p, &de, 0.5, rk);
  size_t kstar = kd_optimal_mask_k(l, p, &de);
  cr_expect_eq(k, kstar, "p = 1e6, m = 1e16: best k %zu vs mask k* %zu", k, kstar);
  cr_expect_lt(rel(r, rk[kstar]), 1e-11, "p = 1e6: best w2s %.17g vs mask %.17g", r, rk[kstar]);
  free(l);
  free(b);
  free(rk);
}

/* ---- continuum limit (docs/theory.md#continuum) ------------------------------------ */

Test(continuum, spec_constants) {
  static const double cases[][4] = {{2.0, 1.5, 0.616, 0.638}, {1.5, 2.0, 0.794, 0.915}};
  for (size_t c = 0; c < 2; ++c) {
    kd_continuum out;
    cr_assert_eq(kd_continuum_limit(cases[c][0], cases[c][1], &out), KD_OK, "%s",
                 kd_last_error());
    cr_expect_eq(out.exponent, cases[c][1] - 1, "exponent %g", out.exponent);
    double ro = out.c_optimal / out.c_strong, rm = out.c_mask / out.c_strong;
    cr_expect_leq(fabs(ro - cases[c][2]), 5e-4,
                  "alpha %g b %g: optimal/standard %.5f, want %.3f", cases[c][0], cases[c][1],
                  ro, cases[c][2]);
    cr_expect_leq(fabs(rm - cases[c][3]), 5e-4, "alpha %g b %g: mask/standard %.5f, want %.3f",
                  cases[c][0], cases[c][1], rm, cases[c][3]);
  }
}

/* The standard constant is a Beta integral: with s = (2 alpha + 1 - b)/alpha,
 * A1^(b-1) int u^(2alpha-b) / (1 + u^alpha)^2 alpha du = A1^(b-1) (1 - s) pi / sin(pi s);
 * A1 = Gamma(1 + 1/alpha) Gamma(1 - 1/alpha) (reflection formula); u_star solves
 * (1 - zeta)^2 = Omega = 1/alpha; optimal <= mask <= standard. Cases include b near 1
 * and near 2 alpha + 1, where the integrands are x^-0.999 singular. */
Test(continuum, closed_forms) {
  static const double cases[][2] = {{2, 1.5},   {1.5, 2},      {3, 2.5},      {1.2, 3.3},
                                    {4, 8.5},   {2, 4.9},      {1.05, 1.001}, {8, 16.999},
                                    {20, 1.05}, {1.01, 3.0199}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    double alpha = cases[c][0], b = cases[c][1];
    kd_continuum out;
    cr_assert_eq(kd_continuum_limit(alpha, b, &out), KD_OK, "%s", kd_last_error());
    double A1 = tgamma(1 + 1 / alpha) * tgamma(1 - 1 / alpha), s = (2 * alpha + 1 - b) / alpha;
    cr_expect_lt(rel(out.A1, A1), 1e-13, "alpha %g: A1 %.17g vs Gamma %.17g", alpha, out.A1,
                 A1);
    cr_expect_lt(rel(out.omega, 1 / alpha), 1e-15, "alpha %g: omega %.17g", alpha, out.omega);
    double want = pow(A1, b - 1) * (1 - s) * M_PI / sin(M_PI * s);
    cr_expect_lt(rel(out.c_strong, want), 1e-10, "alpha %g b %g: c_strong %.12g vs Beta %.12g",
                 alpha, b, out.c_strong, want);
    double zc = 1 / (1 + pow(out.u_star, -alpha));
    cr_expect_lt(rel(zc * zc, 1 / alpha), 1e-12, "alpha %g: (1 - zeta(u*))^2 = %.17g", alpha,
                 zc * zc);
    cr_expect(out.c_optimal <= out.c_mask && out.c_mask <= out.c_strong * (1 + 1e-12),
              "alpha %g b %g: optimal %g, mask %g, standard %g", alpha, b, out.c_optimal,
              out.c_mask, out.c_strong);
  }
}

Test(continuum, saturation) {
  kd_continuum out;
  cr_assert_eq(kd_continuum_limit(2.0, 5.5, &out), KD_OK, "%s", kd_last_error());
  cr_expect(
      out.exponent == 4.0 && isnan(out.c_strong) && isnan(out.c_optimal) && isnan(out.c_mask),
      "b > 2 alpha + 1: exponent %g (want 2 alpha = 4), constants NaN", out.exponent);
  cr_assert_eq(kd_continuum_limit(2.0, 4.9, &out), KD_OK, "%s", kd_last_error());
  cr_expect(fabs(out.exponent - 3.9) < 1e-15 && isfinite(out.c_strong),
            "b < 2 alpha + 1: exponent %g, c %g", out.exponent, out.c_strong);
}

/* The finite-p DE approaches the continuum: p = 2e6, n = 1000. */
Test(continuum, finite_p_de_approaches_limit) {
  size_t p = 2000000;
  static const double cases[][2] = {{2.0, 1.5}, {1.5, 2.0}};
  double *rk = alloc_doubles(p + 1);
  for (size_t c = 0; c < 2; ++c) {
    double alpha = cases[c][0], b = cases[c][1], n = 1000;
    double *l = power_law(p, alpha), *beta = power_beta(p, alpha, b);
    kd_continuum lim;
    cr_assert_eq(kd_continuum_limit(alpha, b, &lim), KD_OK, "%s", kd_last_error());
    kd_de de;
    cr_assert_eq(kd_de_solve(l, p, n, 0, &de), KD_OK, "%s", kd_last_error());
    double scale = pow(n, lim.exponent);
    double std = kd_risk_surrogate(l, beta, beta, p, &de, 0) * scale;
    double opt = kd_risk_optimal(l, beta, p, &de, 0) * scale;
    size_t k = kd_optimal_mask_k(l, p, &de);
    kd_risk_topk_all(l, beta, p, &de, 0, rk);
    double mask = rk[k] * scale;
    cr_expect_lt(rel(std, lim.c_strong), 0.03, "alpha %g: n^(b-1) E_std %.4f vs %.4f", alpha,
                 std, lim.c_strong);
    cr_expect_lt(rel(opt / std, lim.c_optimal / lim.c_strong), 0.01, "alpha %g: optimal ratio",
                 alpha);
    cr_expect_lt(rel(mask / std, lim.c_mask / lim.c_strong), 0.01, "alpha %g: mask ratio",
                 alpha);
    cr_expect_lt(rel((double)k, n * lim.u_star / lim.A1), 0.01,
                 "alpha %g: k* %zu vs n u*/A1 %.1f", alpha, k, n * lim.u_star / lim.A1);
    cr_expect_lt(rel(de.omega, lim.omega), 0.01, "alpha %g: Omega %.4f vs 1/alpha", alpha,
                 de.omega);
    free(l);
    free(beta);
  }
  free(rk);
}

/* ---- exact finite-sample risks (docs/theory.md#finite-size) ----------------------- */

Test(exact, ols_vs_de) {
  size_t p = 50;
  double n = 5000, sigma = 0.8;
  double *l = power_law(p, 1.3), *b = power_beta(p, 1.3, 1.6), *bs = alloc_doubles(p);
  for (size_t i = 0; i < p; ++i) bs[i] = b[i] * (1 + 0.1 * sin((double)i));
  double e0 = kd_exact_ols(l, b, b, p, n, sigma);
  cr_expect_lt(rel(e0, sigma * sigma * p / (n - p - 1)), 1e-15, "exact OLS at beta %.17g", e0);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, n, 0, &de), KD_OK, "%s", kd_last_error());
  double de_var = kd_risk_surrogate(l, b, b, p, &de, sigma);
  cr_expect_lt(rel(de_var, sigma * sigma * p / (n - p)), 1e-14, "DE variance %.17g", de_var);
  cr_expect_lt(rel(e0, de_var), 1.1 / (n - p - 1), "exact %.17g vs DE %.17g", e0, de_var);
  /* a surrogate adds the same bias to both */
  double gap = kd_exact_ols(l, b, bs, p, n, sigma) - kd_risk_surrogate(l, b, bs, p, &de, sigma);
  cr_expect_lt(rel(gap, e0 - de_var), 1e-9, "bias must be common: gap %.17g vs %.17g", gap,
               e0 - de_var);
  cr_expect(isnan(kd_exact_ols(l, b, b, p, 50, sigma)), "n <= p is not OLS: NaN");
  cr_expect(isinf(kd_exact_ols(l, b, b, p, 51, sigma)), "n = p + 1 with noise: +inf");
  free(l);
  free(b);
  free(bs);
}

/* Sigma = c I: the DE's bias is exact and its variance has n/(p - n) for n/(p - n - 1). */
Test(exact, iso_minnorm_vs_de) {
  size_t p = 2000;
  double n = 200, c = 2.5, sigma = 0.6;
  double *l = alloc_doubles(p), *b = alloc_doubles(p), *bs = alloc_doubles(p);
  double nb = 0, ns = 0, dot = 0;
  for (size_t i = 0; i < p; ++i) {
    l[i] = c;
    b[i] = cos(0.1 * (double)i);
    bs[i] = b[i] + 0.3 * sin(0.7 * (double)i);
    nb += b[i] * b[i];
    ns += bs[i] * bs[i];
    dot += b[i] * bs[i];
  }
  double q = n / p, want = c * (q * ns - 2 * q * dot + nb) + sigma * sigma * n / (p - n - 1);
  double got = kd_exact_iso_minnorm(c, b, bs, p, n, sigma);
  cr_expect_lt(rel(got, want), 1e-12, "exact %.17g vs formula %.17g", got, want);
  kd_de de;
  cr_assert_eq(kd_de_solve(l, p, n, 0, &de), KD_OK, "%s", kd_last_error());
  double gap = got - kd_risk_surrogate(l, b, bs, p, &de, sigma);
  double want_gap = sigma * sigma * (n / (p - n - 1) - n / (p - n));
  /* the gap (2e-5) is a difference of two risks of ~2e3: compare it at their scale */
  cr_expect_lt(fabs(gap - want_gap), 1e-14 * got, "exact - DE %.17g, want %.17g", gap,
               want_gap);
  cr_expect(isnan(kd_exact_iso_minnorm(c, b, bs, p, (double)p, sigma)), "p <= n: NaN");
  cr_expect(isinf(kd_exact_iso_minnorm(c, b, bs, p, (double)p - 1, sigma)),
            "p = n + 1 with noise: +inf");
  free(l);
  free(b);
  free(bs);
}

/* ---- bad inputs -------------------------------------------------------------------- */

static void expect_einval(kd_status st, const char *needle, const char *what) {
  cr_expect_eq(st, KD_EINVAL, "%s: status %d", what, st);
  cr_expect_not_null(strstr(kd_last_error(), needle), "%s: message \"%s\" should name \"%s\"",
                     what, kd_last_error(), needle);
}

Test(errors, bad_inputs) {
  size_t p = 10;
  double l[10], b[10], mu[10], v[10];
  for (size_t i = 0; i < p; ++i) l[i] = b[i] = 1.0 / (double)(i + 1);
  kd_de de;
  expect_einval(kd_de_solve(l, p, 0, 0, &de), "n = 0", "n = 0");
  expect_einval(kd_de_solve(l, p, -3, 0, &de), "n = -3", "n < 0");
  expect_einval(kd_de_solve(l, p, NAN, 0, &de), "n = nan", "n NaN");
  expect_einval(kd_de_solve(l, 0, 5, 0, &de), "p = 0", "p = 0");
  expect_einval(kd_de_solve(l, p, 5, -1e-3, &de), "ridge = -0.001", "ridge < 0");
  expect_einval(kd_de_solve(NULL, p, 5, 0, &de), "lambda is NULL", "lambda NULL");
  l[3] = 0.0;
  expect_einval(kd_de_solve(l, p, 5, 0, &de), "lambda[3] = 0", "lambda = 0");
  l[3] = -2.0;
  expect_einval(kd_de_solve(l, p, 5, 0, &de), "lambda[3] = -2", "lambda < 0");
  l[3] = INFINITY;
  expect_einval(kd_de_solve(l, p, 5, 0, &de), "lambda[3] = inf", "lambda inf");
  l[3] = 0.25;

  kd_weak_spec w = {.m = 0, .k = 3};
  expect_einval(kd_weak_moments(l, b, p, &w, mu, v, NULL), "m = 0", "weak m = 0");
  w = (kd_weak_spec){.m = 50, .k = 0};
  expect_einval(kd_weak_moments(l, b, p, &w, mu, v, NULL), "k = 0", "weak k = 0");
  w.k = 11;
  expect_einval(kd_weak_moments(l, b, p, &w, mu, v, NULL), "k = 11", "weak k > p");
  w = (kd_weak_spec){.m = 50, .k = 3, .ridge = -1};
  expect_einval(kd_weak_moments(l, b, p, &w, mu, v, NULL), "ridge = -1", "weak ridge < 0");
  double lw[10];
  memcpy(lw, l, sizeof lw);
  lw[7] = -1;
  w = (kd_weak_spec){.m = 50, .k = 3, .lambda_w = lw};
  expect_einval(kd_weak_moments(l, b, p, &w, mu, v, NULL), "lambda_w[7] = -1",
                "weak lambda_w < 0");
  cr_assert_eq(kd_de_solve(l, p, 5, 0, &de), KD_OK, "%s", kd_last_error());
  size_t k;
  double r;
  w = (kd_weak_spec){.m = -4};
  expect_einval(kd_best_k_w2s(l, b, p, &de, &w, 0.1, &k, &r), "m = -4", "best k, m < 0");

  kd_continuum c;
  expect_einval(kd_continuum_limit(1.0, 2.0, &c), "alpha = 1", "alpha = 1");
  expect_einval(kd_continuum_limit(2.0, 0.5, &c), "b = 0.5", "b < 1");
}
