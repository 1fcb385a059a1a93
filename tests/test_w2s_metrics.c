/* Weak-to-strong metrics: the PGR is flagged, never divided, where its denominator
 * is near zero or negative; paired differences; the misfit's exact OLS value and its
 * deterministic equivalent against a Monte Carlo of the real two-stage pipeline
 * (weak OLS on m samples of the top k features, min-norm student on its labels);
 * the best k against brute force; w2s = weak + misfit for an OLS student. */
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/rng.h"
#include "kdbench/w2s_metrics.h"

TestSuite(w2s);

static double rel(double a, double b) { return fabs(a - b) / fabs(b); }

/* ---- PGR ------------------------------------------------------------------------------- */

Test(w2s, pgr_of_a_regular_gap) {
  kd_pgr_flag f;
  cr_expect_eq(kd_pgr(1.0, 0.75, 0.5, 1e-9, &f), 0.5);
  cr_expect_eq(f, KD_PGR_OK);
  cr_expect_lt(fabs(kd_pgr(1.0, 1.2, 0.5, 0.0, &f) + 0.4), 1e-15); /* worse than the weak model */
  cr_expect_eq(f, KD_PGR_OK);
  cr_expect_str_eq(kd_pgr_flag_name(f), "");
}

Test(w2s, pgr_with_a_zero_gap_is_flagged_not_divided) {
  kd_pgr_flag f;
  double r = kd_pgr(0.5, 0.4, 0.5, 0.0, &f); /* 0.1 / 0 would be +inf */
  cr_expect(isnan(r), "got %g", r);
  cr_expect_eq(f, KD_PGR_NEAR_ZERO);
  cr_expect_str_eq(kd_pgr_flag_name(f), "gap~0");
  r = kd_pgr(0.5, 0.5, 0.5, 0.0, &f); /* 0 / 0 */
  cr_expect(isnan(r) && f == KD_PGR_NEAR_ZERO);
  r = kd_pgr(0.5 + 1e-4, 0.3, 0.5, 2e-4, &f); /* within the tolerance */
  cr_expect(isnan(r) && f == KD_PGR_NEAR_ZERO);
  r = kd_pgr(0.5 - 1e-4, 0.3, 0.5, 2e-4, &f); /* within it, negative side */
  cr_expect(isnan(r) && f == KD_PGR_NEAR_ZERO);
}

Test(w2s, pgr_with_a_negative_gap_is_flagged_not_divided) {
  kd_pgr_flag f;
  double r = kd_pgr(0.3, 0.4, 0.5, 1e-3, &f); /* the weak model beats the strong ceiling */
  cr_expect(isnan(r));
  cr_expect_eq(f, KD_PGR_NEGATIVE);
  cr_expect_str_eq(kd_pgr_flag_name(f), "gap<0");
  r = kd_pgr(0.3, 0.4, INFINITY, 0, &f); /* an infinite strong risk (the peak) */
  cr_expect(isnan(r) && f == KD_PGR_NEGATIVE);
}

Test(w2s, pgr_with_a_missing_input_is_flagged) {
  kd_pgr_flag f;
  cr_expect(isnan(kd_pgr(NAN, 0.4, 0.5, 0, &f)) && f == KD_PGR_MISSING);
  cr_expect(isnan(kd_pgr(1.0, 0.4, 0.5, NAN, &f)) && f == KD_PGR_MISSING);
  for (int g = KD_PGR_OK; g <= KD_PGR_MISSING; ++g)
    cr_expect_eq(kd_pgr_flag_parse(kd_pgr_flag_name((kd_pgr_flag)g)), g);
  cr_expect_eq(kd_pgr_flag_parse("bogus"), -1);
}

/* ---- paired differences ---------------------------------------------------------------- */

Test(w2s, paired_difference_is_the_summary_of_the_differences) {
  double a[4] = {1.0, 2.0, 3.5, 4.0}, b[4] = {0.5, 1.5, 3.5, 3.0};
  kd_summary s;
  cr_assert_eq(kd_paired_diff(a, 4, b, 4, &s), KD_OK);
  cr_expect_eq(s.count, 4);
  cr_expect_lt(fabs(s.mean - 0.5), 1e-15);
  double sd = sqrt((0.0 + 0.0 + 0.25 + 0.25) / 3); /* deviations 0, 0, -0.5, 0.5 */
  cr_expect_lt(fabs(s.se - sd / 2), 1e-15);
  cr_expect_eq(kd_paired_diff(a, 4, b, 3, &s), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(),
                   "paired difference: 4 and 3 trials (need the same number, >= 2)");
  b[2] = NAN;
  cr_expect_eq(kd_paired_diff(a, 4, b, 4, &s), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(), "paired difference: trial 2 is not finite");
}

/* ---- theory: misfit, best k ------------------------------------------------------------ */

typedef struct {
  size_t p;
  double *lambda, *beta;
} problem;

static problem power_problem(size_t p, double alpha, double b) {
  problem pr = {p, malloc(p * sizeof(double)), malloc(p * sizeof(double))};
  cr_assert(pr.lambda && pr.beta);
  for (size_t i = 0; i < p; ++i) {
    pr.lambda[i] = pow((double)(i + 1), -alpha);
    pr.beta[i] = pow((double)(i + 1), 0.5 * (alpha - b));
  }
  return pr;
}

static void problem_free(problem *pr) {
  free(pr->lambda);
  free(pr->beta);
}

Test(w2s, misfit_of_an_ols_student_is_exact_and_equals_w2s_minus_weak) {
  problem pr = power_problem(80, 2.0, 1.5);
  kd_de de;
  cr_assert_eq(kd_de_solve(pr.lambda, pr.p, 300, 0, &de), KD_OK);
  kd_weak_spec w = {.m = 500, .k = 30, .ridge = 0, .lambda_w = NULL, .sigma = 0.5};
  kd_w2s_theory th;
  cr_assert_eq(kd_w2s_theory_point(pr.lambda, pr.beta, pr.p, &de, &w, 0.7, &th), KD_OK, "%s",
               kd_last_error());
  cr_expect_lt(rel(th.misfit, 0.49 * 80 / (300 - 80 - 1.0)), 1e-15);
  /* Pythagoras: the OLS student is the weak model plus independent noise */
  cr_expect_lt(rel(th.w2s, th.weak + th.misfit), 1e-13, "w2s %.17g, weak + misfit %.17g", th.w2s,
               th.weak + th.misfit);
  cr_expect_lt(rel(th.gain, -th.misfit), 1e-12);
  problem_free(&pr);
}

Test(w2s, misfit_without_noise_and_with_a_perfect_fit_is_zero) {
  problem pr = power_problem(50, 2.0, 1.5);
  double *mu = calloc(50, sizeof(double)), *v = calloc(50, sizeof(double));
  kd_de de;
  cr_assert_eq(kd_de_solve(pr.lambda, pr.p, 20, 0, &de), KD_OK);
  cr_expect_eq(kd_misfit_w2s(pr.lambda, pr.p, &de, mu, v, 0.0), 0.0, "nothing to fit");
  double m1 = kd_misfit_w2s(pr.lambda, pr.p, &de, mu, v, 1.0);
  cr_expect_lt(rel(m1, de.df2 / de.n / de.omega), 1e-12, "pure noise: (1 - Omega)/Omega");
  free(mu);
  free(v);
  problem_free(&pr);
}

Test(w2s, best_k_is_the_brute_force_minimum) {
  problem pr = power_problem(120, 2.0, 1.5);
  const double ms[3] = {60, 200, 2000};
  for (int j = 0; j < 3; ++j) {
    kd_de de;
    cr_assert_eq(kd_de_solve(pr.lambda, pr.p, 50, 0, &de), KD_OK);
    kd_weak_spec w = {.m = ms[j], .k = 1, .ridge = 0, .lambda_w = NULL, .sigma = 0.5};
    kd_w2s_theory th;
    cr_assert_eq(kd_w2s_theory_point(pr.lambda, pr.beta, pr.p, &de, &w, 0.5, &th), KD_OK, "%s",
                 kd_last_error());
    double mu[120], v[120], best = INFINITY;
    size_t kbest = 0;
    for (size_t k = 1; k <= pr.p; ++k) {
      if (fabs((double)k - ms[j]) <= 1) continue; /* the weak model's own peak */
      w.k = k;
      cr_assert_eq(kd_weak_moments(pr.lambda, pr.beta, pr.p, &w, mu, v, NULL), KD_OK);
      double r = kd_risk_w2s(pr.lambda, pr.beta, pr.p, &de, mu, v, 0.5);
      if (r < best) best = r, kbest = k;
    }
    cr_expect_eq(th.best_k, kbest, "m = %g: best k %zu, brute force %zu", ms[j], th.best_k, kbest);
    cr_expect_lt(rel(th.best_k_risk, best), 1e-12);
  }
  problem_free(&pr);
}

/* ---- Monte Carlo of the two-stage pipeline ------------------------------------------------ */

static double gauss(uint32_t purpose, uint32_t trial, uint64_t row, uint32_t col) {
  kd_rng_addr a = {.seed = 2024, .point = 7, .trial = trial, .purpose = purpose};
  return kd_rng_normal_at(a, row, col);
}

/* One trial: the weak model is OLS on m samples of the top k features (the dropped
 * features act as Gaussian label noise, exactly); the student is the min-norm fit of
 * n samples labelled by the weak model plus noise sigma_lab. Returns the misfit
 * ||b_student - b_weak||^2_Sigma, and the two risks. */
static void two_stage_trial(const problem *pr, size_t n, size_t m, size_t k, double sigma,
                            double sigma_lab, uint32_t t, double *misfit, double *r_weak,
                            double *r_w2s) {
  size_t p = pr->p;
  double dropped = 0;
  for (size_t i = k; i < p; ++i) dropped += pr->lambda[i] * pr->beta[i] * pr->beta[i];
  double *A = malloc(m * k * sizeof *A), *y = malloc(m * sizeof *y);
  double *X = malloc(n * p * sizeof *X), *z = malloc(p * sizeof *z), *bw = calloc(p, sizeof *bw);
  cr_assert(A && y && X && z && bw);
  for (size_t r = 0; r < m; ++r) {
    y[r] = sqrt(sigma * sigma + dropped) * gauss(KD_STAGE_WEAK | KD_PURPOSE_NOISE, t, r, 0);
    for (size_t j = 0; j < k; ++j) {
      A[r + j * m] =
          sqrt(pr->lambda[j]) * gauss(KD_STAGE_WEAK | KD_PURPOSE_DESIGN, t, r, (uint32_t)j);
      y[r] += A[r + j * m] * pr->beta[j];
    }
  }
  cr_assert_eq(LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)m, (lapack_int)k, 1, A,
                             (lapack_int)m, y, (lapack_int)m),
               0);
  memcpy(bw, y, k * sizeof *bw);
  for (size_t r = 0; r < n; ++r) {
    z[r] = sigma_lab * gauss(KD_PURPOSE_NOISE, t, r, 0);
    for (size_t j = 0; j < p; ++j) {
      X[r + j * n] = sqrt(pr->lambda[j]) * gauss(KD_PURPOSE_DESIGN, t, r, (uint32_t)j);
      z[r] += X[r + j * n] * bw[j];
    }
  }
  /* min-norm solution of X b = z (n < p): b in z[0 .. p) */
  cr_assert_eq(LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)p, 1, X,
                             (lapack_int)n, z, (lapack_int)p),
               0);
  *misfit = *r_weak = *r_w2s = 0;
  for (size_t j = 0; j < p; ++j) {
    *misfit += pr->lambda[j] * (z[j] - bw[j]) * (z[j] - bw[j]);
    *r_weak += pr->lambda[j] * (bw[j] - pr->beta[j]) * (bw[j] - pr->beta[j]);
    *r_w2s += pr->lambda[j] * (z[j] - pr->beta[j]) * (z[j] - pr->beta[j]);
  }
  free(A), free(y), free(X), free(z), free(bw);
}

Test(w2s, misfit_theory_agrees_with_a_monte_carlo_of_the_two_stage_pipeline) {
  enum { T = 300 };
  const size_t p = 200, n = 100, m = 400, k = 60;
  const double sigma = 0.5, sigma_lab = 0.5;
  problem pr = power_problem(p, 1.5, 1.5);
  double mis[T], rw[T], rs[T];
  for (uint32_t t = 0; t < T; ++t)
    two_stage_trial(&pr, n, m, k, sigma, sigma_lab, t, &mis[t], &rw[t], &rs[t]);
  kd_summary sm, sw, ss;
  kd_summarize(mis, T, &sm);
  kd_summarize(rw, T, &sw);
  kd_summarize(rs, T, &ss);
  kd_de de;
  cr_assert_eq(kd_de_solve(pr.lambda, p, (double)n, 0, &de), KD_OK);
  kd_weak_spec w = {.m = (double)m, .k = k, .ridge = 0, .lambda_w = NULL, .sigma = sigma};
  kd_w2s_theory th;
  cr_assert_eq(kd_w2s_theory_point(pr.lambda, pr.beta, p, &de, &w, sigma_lab, &th), KD_OK);
  cr_log_info(
      "misfit: MC %.5f +- %.5f, theory %.5f; weak: MC %.5f +- %.5f, theory %.5f; "
      "w2s: MC %.5f +- %.5f, theory %.5f",
      sm.mean, sm.se, th.misfit, sw.mean, sw.se, th.weak, ss.mean, ss.se, th.w2s);
  /* the deterministic equivalent's finite-size error (a few %) plus 3 standard errors */
  cr_expect_lt(fabs(sm.mean - th.misfit), 3 * sm.se + 0.03 * th.misfit, "misfit MC %g, theory %g",
               sm.mean, th.misfit);
  cr_expect_lt(fabs(sw.mean - th.weak), 3 * sw.se + 1e-12, "weak (exact moments) MC %g, theory %g",
               sw.mean, th.weak);
  cr_expect_lt(fabs(ss.mean - th.w2s), 3 * ss.se + 0.03 * th.w2s, "w2s MC %g, theory %g", ss.mean,
               th.w2s);
  problem_free(&pr);
}
