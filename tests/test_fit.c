/* kdbench fit: the log-log fitter recovers exact power laws; its bootstrap interval
 * covers the truth in seeded noisy replicates; fitting the theory column at p = 1e6
 * gives the continuum exponents; the noise floor has its limit; a stored run (written
 * here, with known power laws) is fitted window by window, with and without per-trial
 * risks and a noise floor; NAME.fit.json round-trips; bad input gives one-line errors
 * naming the culprit; kdbench report shows the two tables (and LaTeX compiles). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/report/internal.h"
#include "kdbench/fit.h"
#include "kdbench/fit_run.h"
#include "kdbench/report.h"
#include "kdbench/rng.h"
#include "kdbench/run.h"
#include "kdbench/theory.h"
#include "kd_test.h"

TestSuite(fit);
TestSuite(fit_run, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

static double rel(double a, double b) { return fabs(a - b) / fabs(b); }

static double normal(uint64_t seed, uint32_t point, uint64_t row) {
  kd_rng_addr a = {.seed = seed, .point = point, .trial = 0, .purpose = 0};
  return kd_rng_normal_at(a, row, 0);
}

/* ---- the fitter ------------------------------------------------------------------------ */

Test(fit, exact_power_laws_are_recovered) {
  const double cases[][2] = {{3.0, 0.5}, {0.02, 1.0}, {7e3, 2.75}, {1.5, -0.4}, {1e-6, 0.0123}};
  const double grids[][6] = {
      {20, 36, 63, 112, 200, 356}, {1.5, 2, 7.25, 30, 1e3, 2.2e4}, {1e-3, 1e-2, 0.3, 1, 8, 1e5}};
  for (size_t c = 0; c < 5; ++c)
    for (size_t g = 0; g < 3; ++g)
      for (size_t n = 2; n <= 6; ++n) {
        double y[6];
        for (size_t i = 0; i < n; ++i) y[i] = cases[c][0] * pow(grids[g][i], -cases[c][1]);
        kd_powerlaw_fit f;
        cr_assert_eq(kd_fit_powerlaw(grids[g], y, n, &f), KD_OK, "%s", kd_last_error());
        cr_expect_lt(fabs(f.exponent - cases[c][1]), 1e-9 * fabs(cases[c][1]),
                     "C = %g, e = %g, grid %zu, %zu points: exponent %.17g", cases[c][0],
                     cases[c][1], g, n, f.exponent);
        cr_expect_lt(rel(f.prefactor, cases[c][0]), 1e-9, "prefactor %.17g, expected %g",
                     f.prefactor, cases[c][0]);
        cr_expect_eq(f.npts, n);
        cr_expect_gt(f.r2, 1 - 1e-12);
        if (n == 2) {
          cr_expect(isnan(f.se) && isnan(f.ci_low), "2 points: no residual dof, no SE");
        } else {
          cr_expect_lt(f.se, 1e-9);
          cr_expect(f.ci_low <= f.exponent + 1e-12 && f.exponent <= f.ci_high + 1e-12);
        }
      }
}

Test(fit, local_exponents_of_a_power_law_are_its_exponent) {
  double x[5] = {10, 20, 50, 51, 400}, y[5], l[4];
  for (int i = 0; i < 5; ++i) y[i] = 4 * pow(x[i], -0.75);
  kd_local_exponents(x, y, 5, l);
  for (int i = 0; i < 4; ++i) cr_expect_lt(fabs(l[i] - 0.75), 1e-9, "local %d: %.17g", i, l[i]);
  y[2] = -1; /* undefined where a value is not positive */
  kd_local_exponents(x, y, 5, l);
  cr_expect(isnan(l[1]) && isnan(l[2]) && !isnan(l[0]) && !isnan(l[3]));
}

Test(fit, the_t_interval_matches_a_direct_computation) {
  double x[5] = {1, 2, 4, 8, 16}, y[5] = {1.0, 0.7, 0.52, 0.33, 0.26};
  kd_powerlaw_fit f;
  cr_assert_eq(kd_fit_powerlaw(x, y, 5, &f), KD_OK);
  /* by hand: slope b of log y on log x, s^2 = RSS/(n-2), se = s / sqrt(Sxx) */
  double mx = 0, my = 0, sxx = 0, sxy = 0, rss = 0;
  for (int i = 0; i < 5; ++i) mx += log(x[i]) / 5, my += log(y[i]) / 5;
  for (int i = 0; i < 5; ++i)
    sxx += pow(log(x[i]) - mx, 2), sxy += (log(x[i]) - mx) * (log(y[i]) - my);
  double b = sxy / sxx, a = my - b * mx;
  for (int i = 0; i < 5; ++i) rss += pow(log(y[i]) - a - b * log(x[i]), 2);
  double se = sqrt(rss / 3 / sxx);
  cr_expect_lt(fabs(f.exponent + b), 1e-12);
  cr_expect_lt(rel(f.se, se), 1e-9);
  cr_expect_lt(rel(f.ci_high - f.exponent, 3.182446305284263 * se), 1e-9); /* t(0.975, 3) */
}

/* A noisy replicate: T trials at each of the 8 points, risk = C x^-e L with L
 * log-normal of mean 1 (sd of log 0.5), drawn from Philox with seed `rep`. */
enum { NPTS = 8, TRIALS = 100 };
static const double COVER_X[NPTS] = {20, 26, 34, 45, 59, 77, 100, 125};

static void noisy_replicate(uint64_t rep, double C, double e, double risks[NPTS][TRIALS]) {
  for (uint32_t i = 0; i < NPTS; ++i)
    for (uint64_t t = 0; t < TRIALS; ++t)
      risks[i][t] = C * pow(COVER_X[i], -e) * exp(0.5 * normal(rep, i, t) - 0.125);
}

Test(fit, bootstrap_interval_covers_the_truth_in_90_of_100_replicates) {
  static double risks[NPTS][TRIALS];
  const double *ptr[NPTS];
  size_t count[NPTS];
  int covered = 0, t_covered = 0;
  for (int i = 0; i < NPTS; ++i) ptr[i] = risks[i], count[i] = TRIALS;
  for (uint64_t rep = 0; rep < 100; ++rep) {
    noisy_replicate(rep, 2.0, 0.5, risks);
    kd_bootstrap b;
    cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, NULL, NPTS, 1000, 1000 + rep, &b), KD_OK,
                 "%s", kd_last_error());
    cr_assert_eq(b.used, 1000);
    cr_assert(b.paired);
    covered += b.ci_low <= 0.5 && 0.5 <= b.ci_high;
    double y[NPTS];
    for (int i = 0; i < NPTS; ++i) {
      y[i] = 0;
      for (int t = 0; t < TRIALS; ++t) y[i] += risks[i][t] / TRIALS;
    }
    kd_powerlaw_fit f;
    cr_assert_eq(kd_fit_powerlaw(COVER_X, y, NPTS, &f), KD_OK);
    t_covered += f.ci_low <= 0.5 && 0.5 <= f.ci_high;
  }
  cr_log_info("coverage of the true exponent in 100 replicates: bootstrap %d, t-interval %d",
              covered, t_covered);
  cr_expect_geq(covered, 90, "the bootstrap interval covered the truth %d times in 100", covered);
  cr_expect_leq(covered, 99, "an interval that always covers is too wide (%d)", covered);
}

Test(fit, bootstrap_is_reproducible_and_depends_on_the_seed) {
  static double risks[NPTS][TRIALS];
  const double *ptr[NPTS];
  size_t count[NPTS];
  double floor[NPTS];
  for (int i = 0; i < NPTS; ++i) ptr[i] = risks[i], count[i] = TRIALS, floor[i] = 0.01;
  noisy_replicate(7, 2.0, 0.5, risks);
  kd_bootstrap a, b, c, d;
  cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, NULL, NPTS, 500, 3, &a), KD_OK);
  cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, NULL, NPTS, 500, 3, &b), KD_OK);
  cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, NULL, NPTS, 500, 4, &c), KD_OK);
  cr_expect(a.ci_low == b.ci_low && a.ci_high == b.ci_high && a.se == b.se);
  cr_expect(a.ci_low != c.ci_low || a.ci_high != c.ci_high);
  /* a floor is subtracted from every resampled mean: the curve gets steeper */
  cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, floor, NPTS, 500, 3, &d), KD_OK);
  cr_expect_gt(d.ci_low, a.ci_low);
  /* different trial counts: points resampled independently */
  count[3] = TRIALS - 1;
  cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, NULL, NPTS, 500, 3, &d), KD_OK);
  cr_expect_not(d.paired);
  /* a floor above a point's risks: every replicate unusable, no interval */
  floor[0] = 10;
  cr_assert_eq(kd_fit_bootstrap(COVER_X, ptr, count, floor, NPTS, 500, 3, &d), KD_OK);
  cr_expect(d.used == 0 && isnan(d.ci_low) && isnan(d.ci_high));
}

Test(fit, fitter_errors_name_the_culprit) {
  double x[3] = {1, 2, 3}, y[3] = {1, 0, 2}, r0[2] = {1, NAN};
  const double *risks[3] = {r0, r0, r0};
  size_t count[3] = {2, 2, 2};
  kd_powerlaw_fit f;
  kd_bootstrap b;
  cr_expect_eq(kd_fit_powerlaw(x, y, 1, &f), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(), "fit: 1 point: a power-law fit needs at least 2");
  cr_expect_eq(kd_fit_powerlaw(x, y, 3, &f), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(), "fit: point 1 (x = 2): y = 0 is not finite and positive");
  double same[2] = {5, 5};
  cr_expect_eq(kd_fit_powerlaw(same, x, 2, &f), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(), "fit: every x is 5: nothing to fit a slope to");
  cr_expect_eq(kd_fit_bootstrap(x, risks, count, NULL, 3, 99, 1, &b), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(), "fit: 99 bootstrap replicates: use at least 100");
  cr_expect_eq(kd_fit_bootstrap(x, risks, count, NULL, 3, 100, 1, &b), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(), "fit: point 0 (x = 1): trial 1 has a risk that is not finite");
}

/* ---- the theory column at p = 1e6 against the continuum limit ------------------------- */

static void theory_fit_vs_continuum(double alpha, double b) {
  enum { N = 12 };
  const size_t p = 1000000;
  double *lambda = malloc(p * sizeof *lambda), *beta = malloc(p * sizeof *beta),
         *mask = malloc(p * sizeof *mask);
  cr_assert(lambda && beta && mask);
  for (size_t i = 0; i < p; ++i) {
    lambda[i] = pow((double)(i + 1), -alpha);
    beta[i] = pow((double)(i + 1), 0.5 * (alpha - b));
  }
  double x[N], y[3][N];
  for (int j = 0; j < N; ++j) { /* n from 50 to 5000, log-spaced */
    x[j] = round(50 * pow(100.0, j / (N - 1.0)));
    kd_de de;
    cr_assert_eq(kd_de_solve(lambda, p, x[j], 0, &de), KD_OK, "%s", kd_last_error());
    y[0][j] = kd_risk_surrogate(lambda, beta, beta, p, &de, 0);
    y[1][j] = kd_risk_optimal(lambda, beta, p, &de, 0);
    size_t k = kd_optimal_mask_k(lambda, p, &de);
    for (size_t i = 0; i < p; ++i) mask[i] = i < k ? beta[i] : 0;
    y[2][j] = kd_risk_surrogate(lambda, beta, mask, p, &de, 0);
  }
  kd_continuum cl;
  cr_assert_eq(kd_continuum_limit(alpha, b, &cl), KD_OK);
  cr_assert_eq(cl.exponent, b - 1);
  const char *names[3] = {"strong", "optimal", "mask"};
  const double constant[3] = {cl.c_strong, cl.c_optimal, cl.c_mask};
  for (int q = 0; q < 3; ++q) {
    kd_powerlaw_fit f;
    cr_assert_eq(kd_fit_powerlaw(x, y[q], N, &f), KD_OK);
    cr_log_info(
        "alpha %g, b %g, %s: theory-fit exponent %.4f (continuum %.4f), prefactor %.4f "
        "(continuum %.4f), R2 %.6f",
        alpha, b, names[q], f.exponent, cl.exponent, f.prefactor, constant[q], f.r2);
    cr_expect_lt(fabs(f.exponent - cl.exponent), 0.02, "alpha %g, b %g, %s: exponent %.4f vs %.4f",
                 alpha, b, names[q], f.exponent, cl.exponent);
  }
  free(lambda);
  free(beta);
  free(mask);
}

Test(fit, theory_column_at_p_1e6_has_the_continuum_exponent_alpha2_b15) {
  theory_fit_vs_continuum(2.0, 1.5);
}

Test(fit, theory_column_at_p_1e6_has_the_continuum_exponent_alpha15_b2) {
  theory_fit_vs_continuum(1.5, 2.0);
}

Test(fit, noise_floor_tends_to_sigma2_times_alpha_minus_1) {
  const size_t p = 1000000;
  double *lambda = malloc(p * sizeof *lambda);
  cr_assert_not_null(lambda);
  const double alphas[2] = {2.0, 1.5};
  for (int a = 0; a < 2; ++a) {
    for (size_t i = 0; i < p; ++i) lambda[i] = pow((double)(i + 1), -alphas[a]);
    kd_de de;
    cr_assert_eq(kd_de_solve(lambda, p, 100, 0, &de), KD_OK);
    double f = kd_noise_floor(&de, p, 0, 0.5);
    cr_expect_lt(rel(f, 0.25 * (alphas[a] - 1)), 0.01, "alpha %g: floor %g, limit %g", alphas[a], f,
                 0.25 * (alphas[a] - 1));
  }
  /* the exact regimes: OLS (n > p + 1) and isotropic min-norm (p > n + 1) */
  kd_de ols = {.n = 300, .ridge = 0, .tau = 0, .omega = 1 - 100 / 300.0, .df2 = 100};
  cr_expect_eq(kd_noise_floor(&ols, 100, 0, 2.0), 4.0 * 100 / 199);
  kd_de iso = {.n = 50, .ridge = 0, .tau = 1, .omega = 0.5, .df2 = 25};
  cr_expect_eq(kd_noise_floor(&iso, 200, 1, 2.0), 4.0 * 50 / 149);
  cr_expect_eq(kd_noise_floor(&iso, 200, 1, 0.0), 0.0);
  free(lambda);
}

/* ---- a stored run with known power laws --------------------------------------------------- */

/* Risk of pipeline q at n without the floor: C_q n^-e_q. */
enum { RUN_PIPES = 5 }; /* the stored run's: strong, optimal, mask, w2s, weak */
static const double RUN_C[RUN_PIPES] = {3.0, 2.0, 2.2, 2.5, 1.2};
static const double RUN_E[RUN_PIPES] = {0.5, 0.5, 0.5, 0.45, 0.3};
static const size_t RUN_N[] = {20, 40, 80, 160, 320, 640, 1990, 2000};
enum { RUN_POINTS = 8, RUN_P = 2000, RUN_TRIALS = 60 };
static const char *const RUN_HASH = "00000000000000ab";

typedef struct {
  double sigma; /* label noise: > 0 puts the floor into the risks */
  int raw;      /* per-trial risks */
  unsigned pipes;
} run_spec;

static void write_meta(const char *name, const run_spec *s) {
  char *text = NULL;
  cr_assert_geq(asprintf(
      &text,
      "{\"schema\": 1, \"kdbench\": {\"version\": \"0.1.0\", \"git_commit\": \"abc\"},\n"
      " \"command\": \"test\", \"scenario\": \"[problem]\\np = %d\\nsigma = %g\\n\",\n"
      " \"scenario_hash\": \"%s\", \"axes\": [\"n\"], \"seed\": 1, \"trials\": %d,\n"
      " \"pipelines\": [], \"backend\": {\"name\": \"cpu\"},\n"
      " \"conventions\": {\"risk\": \"excess risk\", \"ci\": \"95%% t-interval over trials\"},\n"
      " \"complete\": true, \"points_total\": %d, \"points_done\": %d}\n",
      RUN_P, s->sigma, RUN_HASH, RUN_TRIALS, RUN_POINTS, RUN_POINTS), 0);
  kd_test_write(kd_test_pathf("%s.meta.json", name), text);
  free(text);
}

/* The floor the fit will subtract (the same problem: alpha = 2, p = RUN_P). */
static double *floors_of(double sigma) {
  double *lambda = malloc(RUN_P * sizeof *lambda), *fl = calloc(RUN_POINTS, sizeof *fl);
  cr_assert(lambda && fl);
  for (size_t i = 0; i < RUN_P; ++i) lambda[i] = pow((double)(i + 1), -2.0);
  for (int j = 0; j < RUN_POINTS && sigma > 0; ++j) {
    kd_de de;
    if (RUN_N[j] >= RUN_P) continue; /* the peak: left out anyway */
    cr_assert_eq(kd_de_solve(lambda, RUN_P, (double)RUN_N[j], 0, &de), KD_OK);
    fl[j] = kd_noise_floor(&de, RUN_P, 0, sigma);
  }
  free(lambda);
  return fl;
}

static void write_run(const char *name, const run_spec *s) {
  write_meta(name, s);
  double *fl = floors_of(s->sigma);
  FILE *f = fopen(kd_test_pathf("%s.jsonl", name), "w");
  cr_assert_not_null(f);
  double risks[RUN_TRIALS];
  for (int j = 0; j < RUN_POINTS; ++j)
    for (int q = 0; q < RUN_PIPES; ++q) {
      if (!(s->pipes >> q & 1)) continue;
      size_t n = RUN_N[j];
      double floor = q == KD_PIPE_WEAK ? 0 : fl[j], signal = RUN_C[q] * pow((double)n, -RUN_E[q]);
      for (int t = 0; t < RUN_TRIALS; ++t) /* trial t shares its draw across pipelines */
        risks[t] = floor + signal * exp(0.3 * normal(99, (uint32_t)j, (uint64_t)t) - 0.045) *
                               (1 + 0.01 * q);
      kd_row r = {.point = (size_t)j,
                  .pipeline = (kd_pipeline)q,
                  .n = n,
                  .p = RUN_P,
                  .ridge = 0,
                  .alpha = 2,
                  .signal_exp = 1.5,
                  .sigma = s->sigma};
      snprintf(r.key, sizeof r.key, "%016x", j + 1);
      if (q == KD_PIPE_W2S || q == KD_PIPE_WEAK) r.m = 5000, r.k = n < RUN_P ? n : RUN_P;
      kd_summarize(risks, RUN_TRIALS, &r.s);
      r.theory = floor + signal;
      r.ratio = r.s.mean / r.theory;
      snprintf(r.flag, sizeof r.flag, "%s", n == 2000 ? "peak" : n == 1990 ? "near-peak" : "");
      if (s->raw) r.risks = risks, r.n_risks = RUN_TRIALS;
      char *line = kd_row_to_json(&r, RUN_HASH);
      cr_assert_not_null(line);
      fputs(line, f);
      free(line);
    }
  fclose(f);
  free(fl);
}

static const kd_fit_group *group_of(const kd_fit_result *r, const char *pipeline) {
  for (size_t i = 0; i < r->ngroups; ++i)
    if (!strcmp(r->groups[i].pipeline, pipeline)) return &r->groups[i];
  cr_assert_fail("no fit of pipeline %s", pipeline);
  return NULL;
}

static int has_note(const kd_fit_result *r, const char *part) {
  for (size_t i = 0; i < r->nnotes; ++i)
    if (strstr(r->notes[i], part)) return 1;
  return 0;
}

static const unsigned ALL_PIPES = (1u << RUN_PIPES) - 1;

Test(fit_run, noisy_raw_run_fits_the_excess_over_the_floor) {
  run_spec s = {.sigma = 0.5, .raw = 1, .pipes = ALL_PIPES};
  write_run("run", &s);
  kd_fit_options o;
  kd_fit_options_default(&o);
  kd_fit_result r;
  cr_assert_eq(kd_fit_run(kd_test_path("run.csv"), &o, &r, NULL), KD_OK, "%s", kd_last_error());
  cr_expect_str_eq(r.x, "n");
  cr_expect_str_eq(r.window, "n <= p/4 (the default for an n axis)");
  cr_expect(r.floor);
  cr_expect_not_null(strstr(r.target, "less the label-noise floor"));
  cr_expect_eq(r.ngroups, 5);
  const char *names[RUN_PIPES] = {"strong", "optimal", "mask", "w2s", "weak"};
  for (int q = 0; q < RUN_PIPES; ++q) {
    const kd_fit_group *g = group_of(&r, names[q]);
    cr_expect_eq(g->npts, 5, "n = 20 .. 320 (n <= p/4)");
    cr_expect_eq(g->x[4], 320);
    /* theory = floor + C n^-e: the fit of the theory column is exact */
    cr_expect_lt(fabs(g->theory_fit.exponent - RUN_E[q]), 1e-9 * RUN_E[q], "%s: %.17g", names[q],
                 g->theory_fit.exponent);
    cr_expect_lt(rel(g->theory_fit.prefactor, RUN_C[q]), 1e-9);
    cr_expect_str_eq(g->ci_kind, "bootstrap");
    cr_expect_eq(g->boot_used, 2000);
    cr_expect(g->ci_low < g->sim_fit.exponent && g->sim_fit.exponent < g->ci_high);
    cr_expect_lt(fabs(g->sim_fit.exponent - RUN_E[q]), 0.1);
    cr_expect_eq(g->floor[0] > 0, q != KD_PIPE_WEAK, "the weak model is fitted as is");
    /* continuum: strong, optimal, mask only */
    cr_expect_eq(isnan(g->cont_exponent), q >= KD_PIPE_W2S);
    if (RUN_E[q] == RUN_E[0]) /* same exponent: the ratio of prefactors, exactly */
      cr_expect_lt(rel(g->ratio_strong_theory, RUN_C[q] / RUN_C[0]), 1e-9);
  }
  cr_expect_lt(fabs(group_of(&r, "strong")->cont_exponent - 0.5), 1e-15);
  cr_expect_lt(rel(group_of(&r, "optimal")->cont_ratio_strong, 0.616), 0.002);
  /* weak-to-strong: every point but the peak */
  cr_expect_eq(r.nw2s, RUN_POINTS - 1);
  cr_expect(r.w2s[0].diff_paired);
  cr_expect_eq(r.w2s[0].best_k > 0, 1);
  kd_fit_result_free(&r);
}

Test(fit_run, without_per_trial_risks_the_interval_is_the_t_interval_and_says_so) {
  run_spec s = {.sigma = 0, .raw = 0, .pipes = 1u << KD_PIPE_STRONG | 1u << KD_PIPE_W2S};
  write_run("plain", &s);
  kd_fit_options o;
  kd_fit_options_default(&o);
  kd_fit_result r;
  cr_assert_eq(kd_fit_run(kd_test_path("plain.jsonl"), &o, &r, NULL), KD_OK, "%s", kd_last_error());
  cr_expect_not(r.floor);
  cr_expect_str_eq(r.target, "mean excess risk");
  const kd_fit_group *g = group_of(&r, "strong");
  cr_expect_str_eq(g->ci_kind, "t");
  cr_expect_eq(g->ci_low, g->sim_fit.ci_low);
  cr_expect_eq(g->boot_used, 0);
  cr_expect(has_note(&r, "without --raw"));
  cr_expect(has_note(&r, "no weak rows"));
  cr_expect_not(r.w2s[0].diff_paired);
  cr_expect_eq(r.w2s[0].pgr_flag, KD_PGR_MISSING);
  kd_fit_result_free(&r);
}

Test(fit_run, a_window_that_reaches_the_peak_leaves_flagged_rows_out) {
  run_spec s = {.sigma = 0, .raw = 1, .pipes = 1u << KD_PIPE_STRONG | 1u << KD_PIPE_OPTIMAL};
  write_run("wide", &s);
  kd_fit_options o;
  kd_fit_options_default(&o);
  o.lo = 40, o.hi = 5000, o.bootstrap = 0;
  kd_fit_result r;
  cr_assert_eq(kd_fit_run(kd_test_path("wide"), &o, &r, NULL), KD_OK, "%s", kd_last_error());
  cr_expect_str_eq(r.window, "40 <= n <= 5000 (--window)");
  cr_expect_eq(r.left_out, 4, "near-peak and peak rows of two pipelines");
  const kd_fit_group *g = group_of(&r, "optimal");
  cr_expect_eq(g->npts, 5);
  cr_expect_eq(g->x[0], 40);
  cr_expect_eq(g->x[4], 640);
  cr_expect_str_eq(g->ci_kind, "t");
  cr_expect(has_note(&r, "--bootstrap 0"));
  kd_fit_result_free(&r);
}

static int same(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

static void expect_same_fit(const kd_powerlaw_fit *a, const kd_powerlaw_fit *b) {
  cr_expect_eq(a->npts, b->npts);
  cr_expect(same(a->exponent, b->exponent) && same(a->se, b->se) && same(a->ci_low, b->ci_low) &&
            same(a->ci_high, b->ci_high) && same(a->prefactor, b->prefactor) && same(a->r2, b->r2));
}

Test(fit_run, fit_json_round_trips_exactly) {
  run_spec s = {.sigma = 0.5, .raw = 1, .pipes = ALL_PIPES};
  write_run("rt", &s);
  kd_fit_options o;
  kd_fit_options_default(&o);
  kd_fit_result a, b;
  cr_assert_eq(kd_fit_run(kd_test_path("rt"), &o, &a, NULL), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_fit_write_json(&a, kd_test_path("rt.fit.json")), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_fit_read_json(kd_test_path("rt.fit.json"), &b), KD_OK, "%s", kd_last_error());
  cr_expect_str_eq(a.run, b.run);
  cr_expect_str_eq(a.scenario_hash, b.scenario_hash);
  cr_expect_str_eq(a.x, b.x);
  cr_expect_str_eq(a.window, b.window);
  cr_expect_str_eq(a.target, b.target);
  cr_expect(same(a.window_lo, b.window_lo) && same(a.window_hi, b.window_hi));
  cr_expect(a.floor == b.floor && a.bootstrap == b.bootstrap && a.seed == b.seed &&
            a.left_out == b.left_out);
  cr_assert_eq(a.nnotes, b.nnotes);
  for (size_t i = 0; i < a.nnotes; ++i) cr_expect_str_eq(a.notes[i], b.notes[i]);
  cr_assert_eq(a.ngroups, b.ngroups);
  for (size_t i = 0; i < a.ngroups; ++i) {
    const kd_fit_group *x = &a.groups[i], *y = &b.groups[i];
    cr_expect_str_eq(x->pipeline, y->pipeline);
    cr_expect_str_eq(x->group, y->group);
    cr_assert_eq(x->npts, y->npts);
    for (size_t j = 0; j < x->npts; ++j)
      cr_expect(same(x->x[j], y->x[j]) && same(x->sim[j], y->sim[j]) &&
                same(x->theory[j], y->theory[j]) && same(x->floor[j], y->floor[j]));
    expect_same_fit(&x->sim_fit, &y->sim_fit);
    expect_same_fit(&x->theory_fit, &y->theory_fit);
    cr_expect_str_eq(x->ci_kind, y->ci_kind);
    cr_expect(same(x->ci_low, y->ci_low) && same(x->ci_high, y->ci_high) &&
              x->boot_used == y->boot_used && same(x->cont_exponent, y->cont_exponent) &&
              same(x->cont_constant, y->cont_constant) && same(x->ratio_strong, y->ratio_strong) &&
              same(x->ratio_strong_theory, y->ratio_strong_theory) &&
              same(x->cont_ratio_strong, y->cont_ratio_strong));
  }
  cr_assert_eq(a.nw2s, b.nw2s);
  cr_assert_gt(a.nw2s, 0);
  for (size_t i = 0; i < a.nw2s; ++i) {
    const kd_w2s_entry *x = &a.w2s[i], *y = &b.w2s[i];
    cr_expect(x->point == y->point && x->n == y->n && x->p == y->p && x->m == y->m && x->k == y->k);
    cr_expect_str_eq(x->flag, y->flag);
    const double xs[] = {x->strong,    x->strong_ci,  x->w2s,    x->w2s_ci,  x->weak,
                         x->weak_ci,   x->strong_th,  x->w2s_th, x->weak_th, x->ratio,
                         x->diff,      x->diff_ci,    x->pgr,    x->pgr_th,  x->gain_th,
                         x->misfit_th, x->best_k_risk};
    const double ys[] = {y->strong,    y->strong_ci,  y->w2s,    y->w2s_ci,  y->weak,
                         y->weak_ci,   y->strong_th,  y->w2s_th, y->weak_th, y->ratio,
                         y->diff,      y->diff_ci,    y->pgr,    y->pgr_th,  y->gain_th,
                         y->misfit_th, y->best_k_risk};
    for (size_t j = 0; j < sizeof xs / sizeof *xs; ++j)
      cr_expect(same(xs[j], ys[j]), "w2s entry %zu, value %zu: %.17g != %.17g", i, j, xs[j], ys[j]);
    cr_expect(x->diff_paired == y->diff_paired && x->pgr_flag == y->pgr_flag &&
              x->pgr_th_flag == y->pgr_th_flag && x->best_k == y->best_k &&
              x->best_k_sim == y->best_k_sim);
  }
  /* and the file written from what was read is the same file */
  cr_assert_eq(kd_fit_write_json(&b, kd_test_path("rt2.fit.json")), KD_OK);
  char *t1 = kd_test_text("rt.fit.json"), *t2 = kd_test_text("rt2.fit.json");
  cr_expect_str_eq(t1, t2);
  free(t1);
  free(t2);
  kd_fit_result_free(&a);
  kd_fit_result_free(&b);
}

/* The error of kd_fit_run with `o` on the test folder's NAME: one line, containing `part`. */
static void expect_error(const char *name, const kd_fit_options *o, const char *part) {
  kd_fit_result r;
  kd_status st = kd_fit_run(kd_test_path(name), o, &r, NULL);
  cr_expect_eq(st, st == KD_EIO ? KD_EIO : KD_EINVAL, "status %d", st);
  cr_expect_neq(st, KD_OK, "expected an error containing '%s'", part);
  cr_expect_not_null(strstr(kd_last_error(), part), "error '%s' lacks '%s'", kd_last_error(), part);
  cr_expect_null(strchr(kd_last_error(), '\n'), "one line: '%s'", kd_last_error());
}

Test(fit_run, bad_input_gives_one_line_errors_naming_the_culprit) {
  run_spec s = {.sigma = 0.5, .raw = 1, .pipes = ALL_PIPES};
  write_run("bad", &s);
  kd_fit_options o;
  kd_fit_options_default(&o);
  expect_error("missing", &o, "missing.meta.json: cannot open");
  o.lo = 1e5, o.hi = 1e6;
  expect_error("bad", &o,
               "no rows in the window 100000 <= n <= 1e+06 (--window) (the run has n "
               "from 20 to 2000)");
  o.lo = 20, o.hi = 30;
  expect_error("bad", &o,
               "pipeline strong has 1 point in the window 20 <= n <= 30 (--window): a "
               "fit needs at least 2");
  o.lo = o.hi = NAN;
  o.bootstrap = 50;
  expect_error("bad", &o, "--bootstrap 50: use 0 (none) or at least 100");
  o.bootstrap = 2000;
  o.x = "k";
  expect_error("bad", &o, "--x k: not a swept axis of run bad (axes: n)");
  o.x = NULL;
  /* the command: usage errors and the exit status */
  char *argv1[] = {"fit", NULL}, *argv2[] = {"fit", "x", "--window", "5", NULL},
       *argv3[] = {"fit", "x", "--bogus", NULL};
  cr_expect_eq(kd_fit_main(1, argv1), 2);
  cr_expect_not_null(strstr(kd_last_error(), "no run given"));
  cr_expect_eq(kd_fit_main(4, argv2), 2);
  cr_expect_not_null(strstr(kd_last_error(), "--window '5': expected LO:HI"));
  cr_expect_eq(kd_fit_main(3, argv3), 2);
  cr_expect_not_null(strstr(kd_last_error(), "unknown option '--bogus'"));
}

Test(fit_run, a_mean_below_the_floor_is_an_error_naming_the_point) {
  run_spec s = {.sigma = 0.5, .raw = 0, .pipes = 1u << KD_PIPE_STRONG};
  write_run("low", &s);
  /* rewrite the rows with sigma 5 (as kdbench writes them, their checks with them): the
   * fit's floor (25 x) exceeds every mean */
  char *text = kd_test_text("low.jsonl");
  FILE *f = fopen(kd_test_path("low.jsonl"), "w");
  cr_assert_not_null(f);
  for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    kd_row r;
    char hash[17];
    cr_assert_eq(kd_row_from_json(line, "low.jsonl", &r, hash), KD_OK, "%s", kd_last_error());
    r.sigma = 5;
    char *again = kd_row_to_json(&r, hash);
    fputs(again, f);
    free(again);
    kd_row_free(&r);
  }
  fclose(f);
  free(text);
  kd_fit_options o;
  kd_fit_options_default(&o);
  expect_error("low", &o, "pipeline strong at n = 20: mean risk");
  expect_error("low", &o, "is not above the noise floor");
}

/* ---- kdbench report with NAME.fit.json -------------------------------------------------- */

static kd_status fit_and_report(const char *name, char **log) {
  kd_fit_options o;
  kd_fit_options_default(&o);
  kd_fit_result r;
  kd_status st = kd_fit_run(kd_test_path(name), &o, &r, NULL);
  cr_assert_eq(st, KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_fit_write_json(&r, kd_test_pathf("%s.fit.json", name)), KD_OK);
  kd_fit_result_free(&r);
  size_t len;
  FILE *f = open_memstream(log, &len);
  st = kd_report_run(kd_test_path(name), KD_REPORT_MD | KD_REPORT_TEX, f);
  fclose(f);
  return st;
}

Test(fit_run, report_has_the_scaling_and_weak_to_strong_tables) {
  run_spec s = {.sigma = 0.5, .raw = 1, .pipes = ALL_PIPES};
  write_run("rep", &s);
  char *log;
  cr_assert_eq(fit_and_report("rep", &log), KD_OK, "%s", kd_last_error());
  free(log);
  char *md = kd_test_text("rep.md"), *tex = kd_test_text("rep.tex");
  const char *md_expect[] = {
      "\n### Scaling laws\n",
      "| pipeline | points | exponent (sim) | 95 % CI | CI from | R² | exponent (theory, finite p) "
      "| exponent (continuum) |",
      "\n| strong | 5 | ",
      " | bootstrap | ",
      " | 0.5000 | 0.5000 | ", /* theory fit exact; continuum b - 1 */
      "\n| optimal | 5 | ",
      "\n| weak | 5 | ",
      "\n### Weak-to-strong\n",
      "| n | m | k | w2s/strong | w2s − strong | PGR | PGR (theory) | gain (theory) | misfit "
      "(theory) | best k (theory) |\n",
      "\n| 20 | 5000 | 20 | ",
      "\n| 1990‡ | 5000 | 1990 | ",
  };
  for (size_t i = 0; i < sizeof md_expect / sizeof *md_expect; ++i)
    cr_expect_not_null(strstr(md, md_expect[i]), "missing in the Markdown: %s", md_expect[i]);
  cr_expect_null(strstr(md, "\n| 2000 | 5000"), "the peak has no weak-to-strong row");
  const char *tex_expect[] = {
      "\\caption{Scaling laws: risk $\\approx C\\,n^{-\\mathrm{exponent}}$, least squares in "
      "log--log over the window $n \\le p/4$ (the default);",
      "Fitted: the mean excess risk less the label-noise floor $\\sigma^2 (1 - \\Omega) / "
      "\\Omega$ of the finite-$p$ theory",
      "\\label{tab:kdbench-fit-00000000000000ab}",
      "\nstrong & $5$ & $",
      "\\label{tab:kdbench-w2s-00000000000000ab}",
      "\n$20$ & $5000$ & $20$ & $",
  };
  for (size_t i = 0; i < sizeof tex_expect / sizeof *tex_expect; ++i)
    cr_expect_not_null(strstr(tex, tex_expect[i]), "missing in the LaTeX: %s", tex_expect[i]);
  /* the same inputs give the same tables */
  char *again;
  cr_assert_eq(fit_and_report("rep", &again), KD_OK);
  free(again);
  char *md2 = kd_test_text("rep.md");
  cr_expect_str_eq(md, md2);
  free(md2);
  free(md);
  free(tex);
}

/* scripts/setup.sh installs TeX (texlive-latex-base, texlive-latex-recommended): this
 * skips, saying so, only on a machine set up otherwise. */
Test(fit_run, report_tables_compile_with_pdflatex_and_booktabs) {
  kd_test_need_latex();
  run_spec s = {.sigma = 0.5, .raw = 1, .pipes = ALL_PIPES};
  write_run("rep", &s);
  char *log;
  cr_assert_eq(fit_and_report("rep", &log), KD_OK, "%s", kd_last_error());
  free(log);
  char *texlog = kd_test_latex((const char *[]){"rep.tex", NULL});
  cr_expect_null(strstr(texlog, "Missing character"), "a glyph the font lacks:\n%s", texlog);
  free(texlog);
}

Test(fit_run, a_fit_of_another_scenario_is_ignored_with_a_warning) {
  run_spec s = {.sigma = 0, .raw = 0, .pipes = 1u << KD_PIPE_STRONG | 1u << KD_PIPE_OPTIMAL};
  write_run("stale", &s);
  char *log;
  cr_assert_eq(fit_and_report("stale", &log), KD_OK, "%s", kd_last_error());
  free(log);
  char *json = kd_test_text("stale.fit.json");
  char *at = strstr(json, RUN_HASH);
  cr_assert_not_null(at);
  memcpy(at, "ffffffffffffffff", 16);
  kd_test_write("stale.fit.json", json);
  free(json);
  size_t len;
  FILE *lf = open_memstream(&log, &len);
  cr_assert_eq(kd_report_run(kd_test_path("stale"), KD_REPORT_MD, lf), KD_OK, "%s", kd_last_error());
  fclose(lf);
  cr_expect_not_null(strstr(log,
                            "stale.fit.json: made from scenario ffffffffffffffff, the run is "
                            "00000000000000ab: ignored (run kdbench fit again)"),
                     "log: %s", log);
  char *md = kd_test_text("stale.md");
  cr_expect_null(strstr(md, "### Scaling laws"));
  free(md);
  free(log);
}

/* ---- kdbench fit's text tables ------------------------------------------------------------ */

/* Every header from the skip-th to the last ends where the row's value ends (they are
 * right-aligned); "95% CI" is one header. */
static void expect_under_headers(const char *line, const char *row, int skip, int last) {
  char head[1024];
  snprintf(head, sizeof head, "%.*s", (int)strcspn(line, "\n"), line);
  char *ci = strstr(head, "95% CI");
  if (ci) ci[3] = '_';
  int token = 0;
  for (size_t e = 1; head[e - 1]; ++e) {
    if (head[e - 1] == ' ' || (head[e] != ' ' && head[e] != '\0')) continue; /* not an end */
    if (token++ < skip || token > last) continue;
    cr_expect(e <= strlen(row) && row[e - 1] != ' ' && strchr(" \n", row[e]),
              "header %d ends at %zu, the row does not:\n%.*s\n%s", token, e, (int)e, head, row);
  }
}

static const char *line_after(const char *text, const char *start) {
  const char *at = strstr(text, start);
  cr_assert_not_null(at, "no line starting '%s' in:\n%s", start, text);
  return at;
}

/* A w2s or weak row has no continuum columns: their "-" is in place. */
Test(fit_run, printed_tables_put_every_value_under_its_header) {
  run_spec s = {.sigma = 0.5, .raw = 1, .pipes = ALL_PIPES};
  write_run("print", &s);
  kd_fit_options o;
  kd_fit_options_default(&o);
  kd_fit_result r;
  cr_assert_eq(kd_fit_run(kd_test_path("print"), &o, &r, NULL), KD_OK, "%s", kd_last_error());
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  kd_fit_print(&r, f);
  fclose(f);
  const char *head = line_after(text, "\npipeline") + 1;
  for (const char *row = strchr(head, '\n') + 1; *row != '#'; row = strchr(row, '\n') + 1)
    expect_under_headers(head, row, 2, 99); /* pipeline and group are left-aligned */
  cr_expect_not_null(strstr(text, "\nw2s      -    "), "%s", text);
  /* up to the difference, whose "x +- y p" may be wider than its column */
  const char *w2s = line_after(text, "\n     n ") + 1;
  for (const char *row = strchr(w2s, '\n') + 1; *row && *row != '#'; row = strchr(row, '\n') + 1)
    expect_under_headers(w2s, row, 0, 7);
  free(text);
  kd_fit_result_free(&r);
}

/* ---- where w2s crosses strong ------------------------------------------------------------- */

/* A run over m x k (n = 100) whose w2s - strong is, trial by trial, d(m) = C log(M0 / m)
 * plus +-E (k = 50) or 0.1 +- E (k = 200): linear in log m, so the interpolated crossing
 * is M0 exactly and its interval the crossings of d -+ h, M0 e^{-+h/C}, h the paired
 * CI's half-width (the same at every m). */
static const size_t CROSS_M[] = {250, 500, 1000, 2000, 4000}, CROSS_K[] = {50, 200};
enum { CROSS_TRIALS = 20 };
static const double CROSS_M0 = 1414.0, CROSS_C = 0.05, CROSS_E = 0.01;

static void cross_risks(size_t m, size_t k, double *strong, double *w2s) {
  for (int t = 0; t < CROSS_TRIALS; ++t) {
    strong[t] = 1 + 0.1 * sin(t + 1.0);
    const double d = k == 50 ? CROSS_C * log(CROSS_M0 / (double)m) : 0.1;
    w2s[t] = strong[t] + d + (t % 2 ? CROSS_E : -CROSS_E) * (1 + 0.5 * (t / 2 % 3)); /* mean 0 */
  }
}

static void write_cross_run(const char *name) {
  char *text = NULL;
  cr_assert_geq(asprintf(
      &text,
      "{\"schema\": 1, \"kdbench\": {\"version\": \"0.1.0\", \"git_commit\": \"abc\"},\n"
      " \"command\": \"test\", \"scenario\": \"[problem]\\np = 400\\nsigma = 0.5\\n\",\n"
      " \"scenario_hash\": \"%s\", \"axes\": [\"m\", \"k\"], \"seed\": 1, \"trials\": %d,\n"
      " \"pipelines\": [], \"backend\": {\"name\": \"cpu\"},\n"
      " \"conventions\": {\"risk\": \"excess risk\", \"ci\": \"95%% t-interval over trials\"},\n"
      " \"complete\": true, \"points_total\": 10, \"points_done\": 10}\n",
      RUN_HASH, CROSS_TRIALS), 0);
  kd_test_write(kd_test_pathf("%s.meta.json", name), text);
  free(text);
  FILE *f = fopen(kd_test_pathf("%s.jsonl", name), "w");
  cr_assert_not_null(f);
  size_t point = 0;
  for (size_t a = 0; a < 2; ++a)
    for (size_t b = 0; b < 5; ++b, ++point) {
      double risks[2][CROSS_TRIALS];
      cross_risks(CROSS_M[b], CROSS_K[a], risks[0], risks[1]);
      for (int i = 0; i < 2; ++i) {
        kd_row r = {.point = point, .pipeline = i ? KD_PIPE_W2S : KD_PIPE_STRONG, .n = 100,
                    .p = 400, .alpha = 2, .signal_exp = 1.5, .sigma = 0.5};
        snprintf(r.key, sizeof r.key, "%016zx", point + 1);
        if (i) r.m = CROSS_M[b], r.k = CROSS_K[a];
        kd_summarize(risks[i], CROSS_TRIALS, &r.s);
        r.theory = r.s.mean;
        r.ratio = 1;
        r.risks = risks[i], r.n_risks = CROSS_TRIALS;
        char *line = kd_row_to_json(&r, RUN_HASH);
        cr_assert_not_null(line);
        fputs(line, f);
        free(line);
      }
    }
  fclose(f);
}

Test(fit_run, the_crossing_of_w2s_and_strong_along_m_is_found_with_its_interval) {
  write_cross_run("cross");
  kd_fit_options o;
  kd_fit_options_default(&o);
  o.bootstrap = 0;
  kd_fit_result r;
  cr_assert_eq(kd_fit_run(kd_test_path("cross"), &o, &r, NULL), KD_OK, "%s", kd_last_error());
  double strong[CROSS_TRIALS], w2s[CROSS_TRIALS];
  cross_risks(1000, 50, strong, w2s);
  kd_summary d;
  cr_assert_eq(kd_paired_diff(w2s, CROSS_TRIALS, strong, CROSS_TRIALS, &d), KD_OK);
  const double h = (d.ci_high - d.ci_low) / 2;
  cr_assert_eq(r.ncross, 2, "along m, at k = 50 and k = 200 (k itself is not n or m)");
  const kd_w2s_crossing *x = &r.cross[0], *none = &r.cross[1];
  cr_expect_str_eq(x->axis, "m");
  cr_expect_str_eq(x->group, "k = 50");
  cr_expect_eq(x->npts, 5);
  cr_expect_eq(x->side, 0);
  cr_expect_eq(x->beats, 1, "w2s beats strong from M0 on");
  cr_expect_lt(fabs(x->at / CROSS_M0 - 1), 1e-9, "crossing %.17g, want %g", x->at, CROSS_M0);
  cr_expect_lt(fabs(x->ci_low / (CROSS_M0 * exp(-h / CROSS_C)) - 1), 1e-9, "low %.17g", x->ci_low);
  cr_expect_lt(fabs(x->ci_high / (CROSS_M0 * exp(h / CROSS_C)) - 1), 1e-9, "high %.17g",
               x->ci_high);
  cr_expect_str_eq(none->group, "k = 200");
  cr_expect_eq(none->side, 1, "w2s above strong at every m");
  cr_expect(isnan(none->at));
  /* through NAME.fit.json and back, and into the report and the printed tables */
  cr_assert_eq(kd_fit_write_json(&r, kd_test_path("cross.fit.json")), KD_OK);
  kd_fit_result back;
  cr_assert_eq(kd_fit_read_json(kd_test_path("cross.fit.json"), &back), KD_OK, "%s",
               kd_last_error());
  cr_assert_eq(back.ncross, 2);
  cr_expect(back.cross[0].at == x->at && back.cross[0].ci_low == x->ci_low &&
            back.cross[0].ci_high == x->ci_high && back.cross[0].beats == 1 &&
            back.cross[1].side == 1 && isnan(back.cross[1].ci_low));
  cr_assert_eq(kd_report_run(kd_test_path("cross"), KD_REPORT_MD, NULL), KD_OK, "%s",
               kd_last_error());
  char *md = kd_test_text("cross.md"), line[160];
  snprintf(line, sizeof line,
           "| m | k = 50 | 5 | %.4g | \\[%.5g, %.5g\\] | beats it above the crossing |",
           x->at, x->ci_low, x->ci_high);
  cr_expect_not_null(strstr(md, "### Where w2s crosses strong"), "%s", md);
  cr_expect_not_null(strstr(md, line), "missing %s in\n%s", line, md);
  cr_expect_not_null(strstr(md, "| m | k = 200 | 5 | — | — | above at every point |"), "%s", md);
  free(md);
  kd_fit_result_free(&back);
  kd_fit_result_free(&r);
}
