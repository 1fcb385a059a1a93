/* The theory of generations (host/theory/theory_generations.c, docs/theory.md
 * #generations): the exact risks of replaced data (A1, A3), of accumulated data (A2),
 * of accumulated data at any p against the blocks (exact, DE, the peak) and the DE of
 * accumulated data with a ridge (its limits, ridgeless generations among them), the
 * deterministic-equivalent recursion against them and against the one-generation
 * formula, the reference numbers the collapse preset reproduces, and the location
 * model's probability of beating generation 0 (A5) against its Monte Carlo through
 * kd_beats_fraction. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/rng.h"
#include "kdbench/stats.h"
#include "kdbench/theory.h"
#include "kdbench/theory_generations.h"

#define GMAX 20

/* lambda_i = i^-alpha, beta_i with lambda_i beta_i^2 = i^-b */
static void power_law(size_t p, double alpha, double b, double *lambda, double *beta) {
  for (size_t i = 0; i < p; ++i) {
    lambda[i] = pow((double)(i + 1), -alpha);
    beta[i] = pow((double)(i + 1), 0.5 * (alpha - b));
  }
}

/* G generations on schedule t(g) = t1 * f(g), one ridge, sigma for all. */
static void schedule(kd_generation *gen, int G, double t1, int power, double ridge,
                     double sigma) {
  for (int g = 1; g <= G; ++g)
    gen[g - 1] = (kd_generation){.t = t1 * pow(g, power), .ridge = ridge, .sigma = sigma};
}

/* Under-parameterised OLS, p = 20, lambda_j = 1/j, T = 60, sigma = 1: fixed grows by
 * sigma^2 p / (T - p - 1) = 20/39 a generation; linear like log g; quadratic and
 * accumulate stay bounded (0.699 and 0.715 at g = 8, the latter's limit 0.755). */
Test(exact, under_parameterised_ols_schedules) {
  enum { P = 20, G = 8 };
  double lambda[P], beta[P], risk[GMAX], acc[2000], sigma[2000];
  power_law(P, 1, 1.5, lambda, beta);
  kd_generation gen[GMAX];
  schedule(gen, G, 60, 0, 0, 1);
  cr_assert(kd_generations_exact(lambda, beta, P, gen, G, risk));
  for (int g = 1; g <= G; ++g) cr_expect_float_eq(risk[g - 1], g * 20.0 / 39, 1e-12);
  schedule(gen, G, 60, 1, 0, 1);
  cr_assert(kd_generations_exact(lambda, beta, P, gen, G, risk));
  const double linear[] = {0.513, 0.715, 0.841, 0.932};
  for (int g = 0; g < 4; ++g) cr_expect(fabs(risk[g] - linear[g]) < 5e-4, "linear %d: %g", g, risk[g]);
  cr_expect(fabs(risk[7] - 1.156) < 5e-4, "linear 8: %g", risk[7]);
  schedule(gen, G, 60, 2, 0, 1);
  cr_assert(kd_generations_exact(lambda, beta, P, gen, G, risk));
  cr_expect(fabs(risk[7] - 0.699) < 5e-4, "quadratic 8: %g", risk[7]);
  for (int i = 0; i < 2000; ++i) sigma[i] = 1;
  int exact[2000];
  cr_assert_eq(kd_generations_accumulate(lambda, P, 60, sigma, 2000, 20.0 / 39, acc, exact), KD_OK);
  cr_expect(fabs(acc[0] - 0.513) < 5e-4 && fabs(acc[1] - 0.614) < 5e-4 &&
            fabs(acc[7] - 0.715) < 5e-4, "accumulate %g %g %g", acc[0], acc[1], acc[7]);
  cr_expect(fabs(acc[1999] - 0.755) < 1e-3, "accumulate's limit: %g", acc[1999]);
  cr_expect(exact[1999], "n > p + 1: every block's term exact");
  gen[3].ridge = 1e-3;
  cr_expect(!kd_generations_exact(lambda, beta, P, gen, G, risk), "a ridge: no exact risk");
}

/* Accumulated data, ridgeless, at any p against the blocks: generation 1's risk plus
 * sigma_k^2 V(k n) / k; V exact on either side of p for an isotropic Sigma (p = 100,
 * n = 60: V(120) = 100/19, V(180) = 100/79), the DE df2/(N - df2) below p otherwise (a
 * spectrum isotropic but for 1e-9: N/(p - N), the exact value's p - N - 1 without the
 * 1); infinite from a block at its threshold on, unless that block has no noise;
 * noiseless blocks add exactly nothing; bad input refused, naming it. */
Test(exact, accumulate_any_p_against_the_blocks) {
  enum { P = 100, G = 4 };
  double lambda[P], sigma[G] = {0.7, 0.5, 0.5, 0.5}, risk[G];
  int exact[G];
  for (size_t j = 0; j < P; ++j) lambda[j] = 2;
  cr_assert_eq(kd_generations_accumulate(lambda, P, 60, sigma, G, 1.5, risk, exact), KD_OK);
  const double want[G] = {1.5, 1.5 + 0.25 * 100 / 19 / 2, 0, 0};
  cr_expect(risk[0] == 1.5 && exact[0] && exact[3]);
  cr_expect(fabs(risk[1] - want[1]) < 1e-14 && fabs(risk[2] - risk[1] - 0.25 * 100 / 79 / 3) < 1e-14 &&
                fabs(risk[3] - risk[2] - 0.25 * 100 / 139 / 4) < 1e-14,
            "%.17g %.17g %.17g", risk[1], risk[2], risk[3]);
  /* n = 20: blocks of 40, 60, 80 rows, all below p - 1 */
  cr_assert_eq(kd_generations_accumulate(lambda, P, 20, sigma, G, 1, risk, exact), KD_OK);
  cr_expect(fabs(risk[3] - 1 - 0.25 * (40.0 / 59 / 2 + 60.0 / 39 / 3 + 80.0 / 19 / 4)) < 1e-14 &&
            exact[3], "%.17g", risk[3]);
  for (size_t j = 0; j < P; ++j) lambda[j] = 2 * (1 + 1e-9 * (double)j);
  cr_assert_eq(kd_generations_accumulate(lambda, P, 20, sigma, G, 1, risk, exact), KD_OK);
  cr_expect(!exact[1] && !exact[3]);
  const double de = 1 + 0.25 * (40.0 / 60 / 2 + 60.0 / 40 / 3 + 80.0 / 20 / 4);
  cr_expect(fabs(risk[3] / de - 1) < 1e-9, "DE %.17g vs %.17g", risk[3], de);
  /* n = 50: the second block brings 100 = p rows */
  cr_assert_eq(kd_generations_accumulate(lambda, P, 50, sigma, G, 1, risk, exact), KD_OK);
  cr_expect(isfinite(risk[0]) && isinf(risk[1]) && isinf(risk[3]) && exact[1]);
  sigma[1] = 0;
  cr_assert_eq(kd_generations_accumulate(lambda, P, 50, sigma, G, 1, risk, exact), KD_OK);
  cr_expect(risk[1] == 1 && exact[1] && risk[2] == 1 + 0.25 * 100 / 49 / 3,
            "a noiseless block at the threshold adds nothing: %.17g %.17g", risk[1], risk[2]);
  const double none[G] = {0.7, 0, 0, 0};
  cr_assert_eq(kd_generations_accumulate(lambda, P, 50, none, G, 0.8, risk, exact), KD_OK);
  for (int g = 0; g < G; ++g) cr_expect(risk[g] == 0.8 && exact[g], "g = %d: %.17g", g + 1, risk[g]);
  cr_expect_eq(kd_generations_accumulate(lambda, P, 0, sigma, G, 1, risk, exact), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "0 samples a block"), "%s", kd_last_error());
  sigma[2] = -1;
  cr_expect_eq(kd_generations_accumulate(lambda, P, 60, sigma, G, 1, risk, exact), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "block 3: sigma -1"), "%s", kd_last_error());
}

/* Accumulated data with a ridge, the pencil's DE: one generation is the core's ridge
 * student (kd_risk_surrogate); with a vanishing ridge above p it is the ridgeless
 * accumulate formula with the DE's V(N) = p / (N - p); a negative ridge and a bad n are
 * refused, naming them. */
Test(de, accumulate_with_a_ridge) {
  enum { P = 80, G = 4 };
  double lambda[P], beta[P], risk[G], ridge[G], sigma[G] = {0.5, 0.3, 0.3, 0.3};
  power_law(P, 1.5, 1.2, lambda, beta);
  const double cases[][2] = {{40, 1e-2}, {200, 1e-1}};
  for (int c = 0; c < 2; ++c) {
    kd_de de;
    cr_assert_eq(kd_de_solve(lambda, P, cases[c][0], cases[c][1], &de), KD_OK);
    const double one = kd_risk_surrogate(lambda, beta, beta, P, &de, 0.5);
    ridge[0] = cases[c][1];
    cr_assert_eq(kd_generations_accumulate_de(lambda, beta, P, cases[c][0], ridge, sigma, 1, risk),
                 KD_OK, "%s", kd_last_error());
    cr_expect(fabs(risk[0] / one - 1) < 1e-10, "n %g ridge %g: %.17g vs %.17g", cases[c][0],
              cases[c][1], risk[0], one);
  }
  for (int g = 0; g < G; ++g) ridge[g] = 1e-12;
  cr_assert_eq(kd_generations_accumulate_de(lambda, beta, P, 200, ridge, sigma, G, risk), KD_OK,
               "%s", kd_last_error());
  double want = 0.25 * P / (200.0 - P);
  for (int g = 0; g < G; ++g) {
    if (g) want += 0.09 * P / ((g + 1) * 200.0 - P) / (g + 1);
    cr_expect(fabs(risk[g] / want - 1) < 1e-6, "g = %d: %.10g vs %.10g", g + 1, risk[g], want);
  }
  ridge[2] = -1e-3;
  cr_expect_eq(kd_generations_accumulate_de(lambda, beta, P, 200, ridge, sigma, G, risk), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "generation 3: ridge -0.001"), "%s", kd_last_error());
  ridge[2] = NAN;
  cr_expect_eq(kd_generations_accumulate_de(lambda, beta, P, 200, ridge, sigma, G, risk), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "generation 3: ridge nan"), "%s", kd_last_error());
  ridge[2] = 1e-2;
  cr_expect_eq(kd_generations_accumulate_de(lambda, beta, P, 0.5, ridge, sigma, G, risk), KD_EINVAL);
}

/* The pencil's DE with ridgeless generations (mu_g = 0 above p + 1, the limit of a
 * vanishing ridge below p - 1). Every generation ridgeless, it is the ridgeless
 * accumulate formula with the DE's V and first risk: V(N) = df2 / (N - df2) below p
 * (kd_generations_accumulate itself, a power law, blocks all below p), p / (N - p) above
 * it (blocks all above p: no extrapolation, to rounding), crossing p. Generation 1 with
 * a ridge and the later ones ridgeless without synthetic noise: b_g = b_2 from
 * generation 2 on, exactly (b_2 lies in the row space, A_g b_2 = s_g), on either side of
 * p. A ridgeless generation at N = p: infinite from it on, the rows before it unchanged. */
Test(de, accumulate_with_ridgeless_generations) {
  enum { G = 4 };
  double lambda[300], beta[300], risk[G], want[G], ridge[G] = {0}, exact[G];
  const double sigma[G] = {0.5, 0.3, 0.3, 0.3}, quiet[G] = {0.5, 0, 0, 0};
  int ex[G];
  power_law(300, 1.5, 1.2, lambda, beta);
  const struct {
    size_t p;
    double n, tol;
  } all[] = {{300, 50, 1e-6}, {150, 30, 1e-5}, {80, 100, 1e-12}, {100, 40, 1e-5}};
  for (int c = 0; c < 4; ++c) {
    const size_t P = all[c].p;
    const double n = all[c].n;
    kd_de de;
    cr_assert_eq(kd_de_solve(lambda, P, n, 0, &de), KD_OK);
    want[0] = kd_risk_surrogate(lambda, beta, beta, P, &de, sigma[0]);
    if (G * n < P - 1) {
      cr_assert_eq(kd_generations_accumulate(lambda, P, n, sigma, G, want[0], want, ex), KD_OK);
    } else {
      for (int g = 1; g < G; ++g) {
        const double N = (g + 1) * n;
        cr_assert_eq(kd_de_solve(lambda, P, N, 0, &de), KD_OK);
        want[g] = want[g - 1] + sigma[g] * sigma[g] *
                                    (N > P ? P / (N - P) : de.df2 / (N - de.df2)) / (g + 1);
      }
    }
    cr_assert_eq(kd_generations_accumulate_de(lambda, beta, P, n, ridge, sigma, G, risk), KD_OK,
                 "%s", kd_last_error());
    for (int g = 0; g < G; ++g)
      cr_expect(fabs(risk[g] / want[g] - 1) < all[c].tol, "p %zu n %g g = %d: %.12g vs %.12g", P,
                n, g + 1, risk[g], want[g]);
  }
  const double quiet_cases[][3] = {{300, 60, 1e-2}, {100, 60, 1e-1}, {150, 100, 1}};
  for (int c = 0; c < 3; ++c) {
    const size_t P = (size_t)quiet_cases[c][0];
    ridge[0] = quiet_cases[c][2];
    cr_assert_eq(kd_generations_accumulate_de(lambda, beta, P, quiet_cases[c][1], ridge, quiet, G,
                                              risk), KD_OK, "%s", kd_last_error());
    kd_de de;
    cr_assert_eq(kd_de_solve(lambda, P, quiet_cases[c][1], ridge[0], &de), KD_OK);
    const double one = kd_risk_surrogate(lambda, beta, beta, P, &de, quiet[0]);
    cr_expect(fabs(risk[0] / one - 1) < 1e-10, "p %zu: %.12g vs %.12g", P, risk[0], one);
    cr_expect(fabs(risk[1] - risk[0]) > 1e-3 * risk[0], "p %zu: the ridgeless refit moves b_1",
              P);
    for (int g = 2; g < G; ++g)
      cr_expect(fabs(risk[g] / risk[1] - 1) < 1e-6, "p %zu g = %d: %.12g vs %.12g", P, g + 1,
                risk[g], risk[1]);
  }
  ridge[0] = 1e-2; /* blocks of 50: generation 2 fits p = 100 rows ridgeless */
  cr_assert_eq(kd_generations_accumulate_de(lambda, beta, 100, 50, ridge, sigma, G, risk), KD_OK);
  cr_assert_eq(kd_generations_accumulate_de(lambda, beta, 100, 50, ridge, sigma, 1, exact), KD_OK);
  cr_expect(risk[0] == exact[0] && isinf(risk[1]) && isinf(risk[3]), "%g %g %g", risk[0], risk[1],
            risk[3]);
}

/* Isotropic over-parameterised minimum norm (p = 200, T = 100, sigma = 0.5,
 * ||beta*|| = 1): (1 - r^G)(1 + v/(1 - r)), r = 1/2, v = sigma^2 T/(p - T - 1). */
Test(exact, isotropic_over_parameterised) {
  enum { P = 200, G = 6 };
  double lambda[P], beta[P], risk[GMAX];
  for (size_t i = 0; i < P; ++i) lambda[i] = 1, beta[i] = 1 / sqrt(P);
  kd_generation gen[GMAX];
  schedule(gen, G, 100, 0, 0, 0.5);
  cr_assert(kd_generations_exact(lambda, beta, P, gen, G, risk));
  const double want[] = {0.753, 1.129, 1.317, 1.411, 1.458, 1.482};
  const double v = 0.25 * 100 / 99;
  for (int g = 1; g <= G; ++g) {
    cr_expect_float_eq(risk[g - 1], (1 - pow(0.5, g)) * (1 + v / 0.5), 1e-12);
    cr_expect(fabs(risk[g - 1] - want[g - 1]) < 1e-3, "g = %d: %g", g, risk[g - 1]);
  }
  lambda[7] = 2; /* not isotropic: no exact risk below p */
  cr_expect(!kd_generations_exact(lambda, beta, P, gen, G, risk));
}

/* The DE recursion: one generation is kd_risk_surrogate's student on the truth; a
 * first generation with unlimited noiseless samples hands the second beta* itself
 * (the fixed source of the one-stage formula); far above p it is A1 to O(1/T). */
Test(de, one_generation_and_a_fixed_source) {
  enum { P = 300 };
  double lambda[P], beta[P], risk[GMAX];
  power_law(P, 1.5, 1.2, lambda, beta);
  const double cases[][2] = {{150, 0}, {150, 1e-2}, {600, 0}, {600, 1e-3}};
  for (int c = 0; c < 4; ++c) {
    kd_de de;
    cr_assert_eq(kd_de_solve(lambda, P, cases[c][0], cases[c][1], &de), KD_OK);
    const double one = kd_risk_surrogate(lambda, beta, beta, P, &de, 0.3);
    kd_generation gen[2] = {{.t = cases[c][0], .ridge = cases[c][1], .sigma = 0.3}};
    cr_assert_eq(kd_generations_de(lambda, beta, P, gen, 1, risk), KD_OK, "%s", kd_last_error());
    cr_expect(fabs(risk[0] - one) <= 1e-12 * one, "T %g ridge %g: %.17g vs %.17g", cases[c][0],
              cases[c][1], risk[0], one);
    gen[1] = gen[0];
    gen[0] = (kd_generation){.t = 1e15, .ridge = 0, .sigma = 0};
    cr_assert_eq(kd_generations_de(lambda, beta, P, gen, 2, risk), KD_OK);
    cr_expect(fabs(risk[1] - one) <= 1e-9 * one, "after a perfect first generation: %.17g vs %.17g",
              risk[1], one);
  }
  kd_generation gen[GMAX];
  double exact[GMAX];
  schedule(gen, 5, 30000, 0, 0, 0.5);
  cr_assert_eq(kd_generations_de(lambda, beta, P, gen, 5, risk), KD_OK);
  cr_assert(kd_generations_exact(lambda, beta, P, gen, 5, exact));
  for (int g = 0; g < 5; ++g) cr_expect(fabs(risk[g] / exact[g] - 1) < 2e-4, "%g vs %g", risk[g], exact[g]);
  gen[2].t = P; /* ridgeless at the threshold: infinite from there on */
  cr_assert_eq(kd_generations_de(lambda, beta, P, gen, 5, risk), KD_OK);
  cr_expect(isfinite(risk[1]) && isinf(risk[2]) && isinf(risk[4]));
  gen[2].t = 0;
  cr_expect_eq(kd_generations_de(lambda, beta, P, gen, 5, risk), KD_EINVAL);
}

/* The Ildiz spectrum (p = 500, lambda_i = i^-2, lambda_i beta_i^2 = i^-1.5, sigma =
 * 0.5, null risk 2.523), generations 1, 2, 3, 5, 10, 20: the numbers the collapse
 * preset reproduces; and the ridge pair at sigma = 0.1 (quadratic 200 g^2). */
Test(de, ildiz_spectrum_reference_numbers) {
  enum { P = 500 };
  double lambda[P], beta[P], risk[GMAX], null = 0;
  power_law(P, 2, 1.5, lambda, beta);
  for (size_t j = 0; j < P; ++j) null += lambda[j] * beta[j] * beta[j];
  cr_expect(fabs(null - 2.523) < 1e-3, "null risk %g", null);
  const int at[] = {1, 2, 3, 5, 10, 20};
  const struct {
    double t1;
    int power;
    double want[6];
  } cases[] = {{200, 0, {0.515, 0.872, 1.159, 1.622, 2.470, 3.649}},
               {200, 1, {0.515, 1.710, 2.960, 3.627, 4.237, 4.744}},
               {200, 2, {0.515, 0.932, 1.028, 1.102, 1.159, 1.188}},
               {1000, 0, {0.25, 0.5, 0.75, 1.25, 2.5, 5.0}}};
  for (int c = 0; c < 4; ++c) {
    kd_generation gen[GMAX];
    schedule(gen, 20, cases[c].t1, cases[c].power, 0, 0.5);
    cr_assert_eq(kd_generations_de(lambda, beta, P, gen, 20, risk), KD_OK);
    for (int i = 0; i < 6; ++i)
      cr_expect(fabs(risk[at[i] - 1] / cases[c].want[i] - 1) < 4e-3, "case %d, g = %d: %.4f vs %.3f",
                c, at[i], risk[at[i] - 1], cases[c].want[i]);
  }
  kd_generation fixed[GMAX], decayed[GMAX];
  schedule(fixed, 10, 200, 2, 1e-2, 0.1);
  for (int g = 1; g <= 10; ++g)
    decayed[g - 1] = (kd_generation){.t = 200.0 * g * g, .ridge = 1e-2 / (g * g), .sigma = 0.1};
  double f[GMAX], d[GMAX];
  cr_assert_eq(kd_generations_de(lambda, beta, P, fixed, 10, f), KD_OK);
  cr_assert_eq(kd_generations_de(lambda, beta, P, decayed, 10, d), KD_OK);
  cr_expect(fabs(f[0] - 0.464) < 2e-3 && fabs(f[9] - 1.017) < 4e-3, "fixed ridge %g .. %g", f[0], f[9]);
  cr_expect(fabs(d[0] - 0.464) < 2e-3 && d[9] < 0.62, "decayed ridge %g .. %g", d[0], d[9]);
}

/* A5: (1/pi) atan(2/sqrt(t)) for equal sizes, 0.352, 0.304, 0.250, 0.187 at t = 1, 2,
 * 4, 9; kd_beats_fraction on 20000 simulated chains of the location model is within
 * its Wilson interval of it. */
Test(beats_first, gaussian_location_model) {
  const int ts[] = {1, 2, 4, 9};
  const double want[] = {0.352, 0.304, 0.250, 0.187}, n[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  enum { TRIALS = 20000 };
  double *first = malloc(sizeof(double) * TRIALS), *later = malloc(sizeof(double) * TRIALS);
  cr_assert(first && later);
  for (int i = 0; i < 4; ++i) {
    const double p = kd_location_beats_first(1, n, ts[i]);
    cr_expect(fabs(p - want[i]) < 5e-4, "t = %d: %g", ts[i], p);
    kd_rng_addr a = {.seed = 5, .point = 0, .trial = 0, .purpose = 0};
    for (uint32_t t = 0; t < TRIALS; ++t) {
      const double mu0 = kd_rng_normal_at(a, t, 0); /* n0 = 1: error N(0, 1) */
      double mu = mu0;
      for (int k = 1; k <= ts[i]; ++k) mu += kd_rng_normal_at(a, t, (uint32_t)k);
      first[t] = fabs(mu0), later[t] = fabs(mu);
    }
    double f, lo, hi;
    kd_beats_fraction(later, first, TRIALS, &f, &lo, &hi);
    cr_expect(lo <= p && p <= hi, "t = %d: simulated %.4f [%.4f, %.4f], exact %.4f", ts[i], f, lo,
              hi, p);
    cr_expect(hi - lo < 0.015 && lo < f && f < hi);
  }
  double lo, hi;
  kd_wilson(0, 10, &lo, &hi);
  cr_expect(lo == 0 && fabs(hi - 0.27753279) < 1e-6, "Wilson 0/10: [%g, %g]", lo, hi);
  kd_wilson(10, 10, &lo, &hi);
  cr_expect(fabs(hi - 1) < 1e-12 && fabs(lo - 0.72246721) < 1e-6, "Wilson 10/10: [%g, %g]", lo, hi);
  free(first);
  free(later);
}
