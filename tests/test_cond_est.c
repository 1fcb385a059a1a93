/* The condition estimator of include/kdbench/cond_est.h (the one the CUDA backend runs
 * on its Cholesky factors and on its QR fallback's R), driven here by LAPACK's own
 * solves: it must return dpocon's and dtrcon's estimates, on well- and ill-conditioned
 * matrices on both sides of the thresholds, within KD_EST_MAX_SOLVES solves; where
 * the diagonal bound used before was blind, it must see what dpocon sees; and the
 * decisions taken on its numbers must be the CPU backend's. Needs no device. */
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "kdbench/cond_est.h"
#include "kdbench/rng.h"

#define SEED 0x6b6462656e6368ULL /* "kdbench" */
#define EST_TOL 1e-12              /* the same path: only the sums' rounding differs */

static double *vec(size_t len) {
  double *v = calloc(len ? len : 1, sizeof *v);
  cr_assert_not_null(v);
  return v;
}

/* X (n x m), column j scaled by 10^(-decades j / (m - 1)): kappa(X) ~ 10^decades. */
static double *design(size_t n, size_t m, double decades, uint32_t trial) {
  double *x = vec(n * m), *scale = vec(m);
  for (size_t j = 0; j < m; ++j)
    scale[j] = m > 1 ? pow(10.0, -decades * (double)j / (double)(m - 1)) : 1.0;
  kd_rng_addr a = {.seed = SEED, .point = 3, .trial = trial, .purpose = KD_PURPOSE_DESIGN};
  kd_rng_fill(a, n, 0, m, scale, x, n);
  free(scale);
  return x;
}

/* A solve the estimator asked for, by LAPACK on the factor. */
typedef void (*solve_fn)(const double *f, size_t m, int kase, double *x);

static void solve_spd(const double *l, size_t m, int kase, double *x) {
  (void)kase; /* A^-T = A^-1 */
  cr_assert_eq(LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)m, 1, l, (lapack_int)m, x,
                              (lapack_int)m), 0);
}

static void solve_upper(const double *r, size_t m, int kase, double *x) {
  cr_assert_eq(LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'U', kase == 1 ? 'N' : 'T', 'N',
                              (lapack_int)m, 1, r, (lapack_int)m, x, (lapack_int)m), 0);
}

/* The estimate of ||A^-1||_1 through `solve`; *solves: how many it took. */
static double estimate(const double *f, size_t m, solve_fn solve, int *solves) {
  double *x = vec(m);
  int32_t *isgn = calloc(m, sizeof *isgn);
  cr_assert_not_null(isgn);
  kd_est s;
  kd_est_begin(&s, x, isgn, m);
  *solves = 0;
  while (s.kase != 0) {
    cr_assert_leq(*solves, KD_EST_MAX_SOLVES, "more solves than dlacn2 ever takes");
    solve(f, m, s.kase, x);
    ++*solves;
    kd_est_step(&s, x, isgn, m);
  }
  free(x);
  free(isgn);
  return s.est;
}

static double rel(double a, double b) { return fabs(a - b) / fabs(b); }

/* G = X^T X of a design with `decades` of column scales: rcond from ~1 down to below
 * 1e-10 (kappa(G) = kappa(X)^2), each compared with dpocon. Returns how many of the
 * matrices dpocon's estimate put below KD_RCOND_MIN. */
static int compare_spd(size_t m, double decades, uint32_t trials) {
  int below = 0;
  for (uint32_t t = 0; t < trials; ++t) {
    const size_t n = m + 3;
    double *x = design(n, m, decades, t), *g = vec(m * m);
    for (size_t i = 0; i < m; ++i) /* lower triangle of X^T X */
      for (size_t j = 0; j <= i; ++j) {
        double sum = 0;
        for (size_t r = 0; r < n; ++r) sum += x[r + i * n] * x[r + j * n];
        g[i + j * m] = sum;
      }
    const lapack_int lm = (lapack_int)m;
    double anorm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'L', lm, g, lm);
    cr_assert_eq(LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', lm, g, lm), 0, "m %zu: not SPD", m);
    double rcond = 0;
    cr_assert_eq(LAPACKE_dpocon(LAPACK_COL_MAJOR, 'L', lm, g, lm, anorm, &rcond), 0);
    int solves = 0;
    double ours = kd_rcond_spd(anorm, estimate(g, m, solve_spd, &solves));
    cr_expect_leq(rel(ours, rcond), EST_TOL,
                  "m %zu, %g decades, trial %u: rcond %.17g, dpocon %.17g (%d solves)", m,
                  decades, t, ours, rcond, solves);
    cr_expect_eq(kd_cholesky_trusted(0, ours, KD_RCOND_MIN),
                 kd_cholesky_trusted(0, rcond, KD_RCOND_MIN),
                 "m %zu, trial %u: trusted differs (%g vs %g)", m, t, ours, rcond);
    below += rcond < KD_RCOND_MIN;
    free(x);
    free(g);
  }
  return below;
}

Test(estimate, matches_dpocon) {
  const size_t orders[] = {1, 2, 3, 10, 57, 200};
  for (size_t i = 0; i < sizeof orders / sizeof orders[0]; ++i) {
    cr_expect_eq(compare_spd(orders[i], 0, 6), 0, "well-conditioned, m %zu", orders[i]);
    compare_spd(orders[i], 3, 6);
  }
  /* kappa(X) ~ 1e7: kappa(G) ~ 1e14, every one below the threshold */
  cr_expect_eq(compare_spd(57, 7, 6), 6);
  /* kappa(X) ~ 1e4 and its Gaussian spread: rcond(G) on both sides of 1e-10 */
  int below = compare_spd(40, 4, 20);
  cr_expect(below > 0 && below < 20, "%d of 20 below the threshold: not a straddling set", below);
}

/* R of the Householder QR of a design, each compared with dtrcon; returns how many R
 * dtrcon put below KD_QR_RCOND_MIN. */
static int compare_upper(size_t n, size_t m, double decades, uint32_t trials) {
  int singular = 0;
  for (uint32_t t = 0; t < trials; ++t) {
    double *x = design(n, m, decades, t + 100), *tau = vec(m), *r = vec(m * m);
    const lapack_int lm = (lapack_int)m;
    cr_assert_eq(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, lm, x, (lapack_int)n, tau), 0);
    for (size_t j = 0; j < m; ++j)
      for (size_t i = 0; i <= j; ++i) r[i + j * m] = x[i + j * n];
    double anorm = LAPACKE_dlantr(LAPACK_COL_MAJOR, '1', 'U', 'N', lm, lm, r, lm);
    double rcond = 0;
    cr_assert_eq(LAPACKE_dtrcon(LAPACK_COL_MAJOR, '1', 'U', 'N', lm, r, lm, &rcond), 0);
    int solves = 0;
    double ours = kd_rcond_tri(anorm, estimate(r, m, solve_upper, &solves));
    cr_expect_leq(rel(ours, rcond), EST_TOL,
                  "%zu x %zu, %g decades, trial %u: rcond %.17g, dtrcon %.17g (%d solves)", n,
                  m, decades, t, ours, rcond, solves);
    cr_expect_eq(kd_qr_singular(ours), kd_qr_singular(rcond), "trial %u: %g vs %g", t, ours,
                 rcond);
    singular += kd_qr_singular(rcond);
    free(x);
    free(tau);
    free(r);
  }
  return singular;
}

Test(estimate, matches_dtrcon) {
  cr_expect_eq(compare_upper(1, 1, 0, 3), 0);
  cr_expect_eq(compare_upper(30, 20, 0, 6), 0);
  cr_expect_eq(compare_upper(120, 100, 4, 6), 0);
  /* kappa(X) ~ 1e14: R numerically singular by either estimate */
  cr_expect_eq(compare_upper(60, 50, 14, 6), 6);
  /* column scales over 10.6 decades: rcond(R) on both sides of 1e-11 */
  int singular = compare_upper(40, 30, 10.6, 20);
  cr_expect(singular > 0 && singular < 20, "%d of 20 singular: not a straddling set", singular);
}

/* L = I - (strictly lower ones): unit diagonal, kappa(L L^T) ~ 4^m. The bound the
 * CUDA backend used before, (min L_ii / max L_ii)^2, is 1 here and trusted the
 * factor; the estimate must reject it, as dpocon does. */
Test(estimate, sees_what_the_diagonal_bound_missed) {
  const size_t m = 40;
  double *l = vec(m * m), *g = vec(m * m);
  for (size_t j = 0; j < m; ++j)
    for (size_t i = j; i < m; ++i) l[i + j * m] = i == j ? 1.0 : -1.0;
  for (size_t i = 0; i < m; ++i) /* G = L L^T, lower triangle */
    for (size_t j = 0; j <= i; ++j) {
      double sum = 0;
      for (size_t r = 0; r <= j; ++r) sum += l[i + r * m] * l[j + r * m];
      g[i + j * m] = sum;
    }
  const lapack_int lm = (lapack_int)m;
  double anorm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'L', lm, g, lm), rcond = 0;
  cr_assert_eq(LAPACKE_dpocon(LAPACK_COL_MAJOR, 'L', lm, l, lm, anorm, &rcond), 0);
  int solves = 0;
  double ours = kd_rcond_spd(anorm, estimate(l, m, solve_spd, &solves));
  cr_expect(rcond < 1e-20, "dpocon %g", rcond);
  cr_expect_leq(rel(ours, rcond), EST_TOL, "rcond %.17g, dpocon %.17g", ours, rcond);
  cr_expect_not(kd_cholesky_trusted(0, ours, KD_RCOND_MIN), "trusted at rcond %g", ours);
  free(l);
  free(g);
}

Test(decision, thresholds_as_the_cpu_backend) {
  cr_expect(kd_cholesky_trusted(0, KD_RCOND_MIN, KD_RCOND_MIN));
  cr_expect(kd_cholesky_trusted(0, 0.5, KD_RCOND_MIN));
  cr_expect_not(kd_cholesky_trusted(0, 0.99e-10, KD_RCOND_MIN));
  cr_expect_not(kd_cholesky_trusted(3, 0.5, KD_RCOND_MIN), "dpotrf failed at minor 3");
  cr_expect_not(kd_cholesky_trusted(0, NAN, KD_RCOND_MIN));
  cr_expect_not(kd_cholesky_trusted(0, 0.5, 2.0), "a threshold above 1 trusts nothing");
  cr_expect(kd_qr_singular(0.99e-11));
  cr_expect(kd_qr_singular(0));
  cr_expect(kd_qr_singular(NAN));
  cr_expect_not(kd_qr_singular(KD_QR_RCOND_MIN));
  cr_expect_eq(kd_rcond_spd(0, 3), 0, "dpocon: a zero norm gives rcond 0");
  cr_expect_eq(kd_rcond_spd(2, 0), 0);
  cr_expect_eq(kd_rcond_spd(2, 4), 0.125);
  cr_expect_eq(kd_rcond_tri(-1, 4), 0);
  cr_expect_eq(kd_rcond_tri(2, 4), 0.125);
}
