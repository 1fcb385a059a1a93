/* The mix pipeline: a student on n rows of which a fraction f carries ground-truth labels
 * and the rest the weak teacher's. f = 0 is w2s and f = 1 is strong, bit for bit; its
 * theory (exact for the ridgeless student at n > p + 1, a DE elsewhere) against Monte
 * Carlo within 5 % and 4 standard errors, over-parameterised mixing worse than either
 * pure source, the teacher's theory-optimal ridge, and the real_fraction column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/grid.h"
#include "kdbench/pipeline.h"
#include "kdbench/scenario.h"
#include "kdbench/stats.h"
#include "kd_test.h"

typedef struct {
  kd_problem pr;
  kd_backend be;
} fixture;

static const kd_spectrum_spec powerlaw2 = {.kind = KD_SPEC_POWERLAW, .alpha = 2};
static const kd_spectrum_spec isotropic = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};

static void setup(fixture *f, kd_spectrum_spec spec, kd_beta_kind beta, size_t p, double sigma,
                  double teacher_sigma) {
  kd_beta_spec b = {.kind = beta, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(&f->pr, &spec, &b, p, sigma, teacher_sigma, 7), KD_OK, "%s",
               kd_last_error());
  cr_assert_eq(kd_backend_open("cpu", &f->be), KD_OK, "%s", kd_last_error());
}

static void teardown(fixture *f) {
  kd_backend_close(&f->be);
  kd_problem_free(&f->pr);
}

/* The risks of `trials` trials of pipeline q alone at the point (caller frees), and its
 * theory in *theory (kind in *kind) when not NULL. */
static double *simulate(fixture *f, kd_point pt, kd_pipeline q, uint32_t trials, double *theory,
                        kd_theory_kind *kind) {
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&f->pr, &pt, 1u << q, &pl), KD_OK, "%s", kd_last_error());
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
  double *risk = malloc(sizeof(double) * trials);
  cr_assert_not_null(risk);
  for (uint32_t t = 0; t < trials; ++t) {
    double r[KD_PLAN_ROWS];
    int fb[KD_PLAN_ROWS];
    cr_assert_eq(kd_run_trial(&f->be, &pl, 2024, t, &ws, r, fb), KD_OK, "%s", kd_last_error());
    risk[t] = r[0]; /* its one row */
  }
  if (theory) *theory = pl.row[0].theory;
  if (kind) *kind = pl.row[0].kind;
  kd_trial_ws_free(&ws);
  kd_plan_free(&pl);
  return risk;
}

/* mix at the point against its theory: within 5 % and 4 standard errors, of the kind
 * expected. Returns the simulated mean; the risks in *kept and the theory in *theory
 * when not NULL. */
static double check_mix(fixture *f, kd_point pt, uint32_t trials, kd_theory_kind want,
                        const char *what, double **kept, double *theory) {
  double th;
  kd_theory_kind kind;
  double *risk = simulate(f, pt, KD_PIPE_MIX, trials, &th, &kind);
  kd_summary s;
  kd_summarize(risk, trials, &s);
  const double dev = s.mean / th - 1;
  cr_expect(fabs(dev) < 0.05 && fabs(s.mean - th) < 4 * s.se,
            "%s (n=%zu, f=%g): sim %.5g +- %.2g vs theory %.5g (%s): %+.2f%%, %.1f SE", what,
            pt.n, pt.real_fraction, s.mean, s.se, th, kind == KD_THEORY_EXACT ? "exact" : "de",
            100 * dev, (s.mean - th) / s.se);
  cr_expect_eq(kind, want, "%s (f=%g): theory kind %d", what, pt.real_fraction, kind);
  if (kept) *kept = risk;
  else free(risk);
  if (theory) *theory = th;
  return s.mean;
}

static int same_bits(const double *a, const double *b, size_t count) {
  return memcmp(a, b, sizeof(double) * count) == 0;
}

/* ---- the pure sources, exactly ----------------------------------------------------------- */

/* f = 0: the teacher labels every row, w2s's right-hand side; f = 1: the truth labels
 * every row, strong's; the same designs and noise, so the same numbers, bit for bit, for
 * a student with more features than rows, fewer, and a ridge. */
Test(mix, fraction_0_is_w2s_and_fraction_1_is_strong_bit_for_bit) {
  fixture f;
  setup(&f, powerlaw2, KD_BETA_POWERLAW, 120, 0.5, 0.3);
  const kd_point points[] = {{.n = 80, .m = 300, .k = 40},
                             {.n = 200, .m = 300, .k = 40},
                             {.n = 200, .ridge = 1e-2, .m = 90, .k = 120, .weak_ridge = 1e-3}};
  enum { T = 12 };
  for (size_t i = 0; i < sizeof points / sizeof *points; ++i) {
    kd_point pt = points[i];
    double th_mix, th_other;
    pt.real_fraction = 0;
    double *mix = simulate(&f, pt, KD_PIPE_MIX, T, &th_mix, NULL);
    double *w2s = simulate(&f, pt, KD_PIPE_W2S, T, &th_other, NULL);
    cr_expect(same_bits(mix, w2s, T), "point %zu: f = 0 is not w2s (%.17g vs %.17g)", i, mix[0],
              w2s[0]);
    if (i == 1) /* both exact (ridgeless, n > p + 1, exact teacher moments) */
      cr_expect_lt(fabs(th_mix / th_other - 1), 1e-12, "%.17g vs %.17g", th_mix, th_other);
    free(mix);
    free(w2s);
    pt.real_fraction = 1;
    mix = simulate(&f, pt, KD_PIPE_MIX, T, &th_mix, NULL);
    double *strong = simulate(&f, pt, KD_PIPE_STRONG, T, &th_other, NULL);
    cr_expect(same_bits(mix, strong, T), "point %zu: f = 1 is not strong (%.17g vs %.17g)", i,
              mix[0], strong[0]);
    if (i == 1) cr_expect_eq(th_mix, th_other, "%.17g vs %.17g", th_mix, th_other);
    free(mix);
    free(strong);
  }
  teardown(&f);
}

/* The theory's two ends are the pure sources' formulas. */
Test(mix_theory, its_ends_are_the_pure_sources) {
  fixture f;
  setup(&f, powerlaw2, KD_BETA_POWERLAW, 60, 0.5, 0.2);
  const kd_problem *pr = &f.pr;
  double mu[60], v[60];
  kd_weak_spec w = {.m = 200, .k = 30, .sigma = pr->sigma};
  kd_weak_info info;
  cr_assert_eq(kd_weak_moments(pr->lambda, pr->beta, 60, &w, mu, v, &info), KD_OK);
  kd_mix_source src = {.mu = mu, .v = v, .sigma = pr->sigma, .teacher_sigma = pr->teacher_sigma};
  for (int over = 0; over < 2; ++over) {
    kd_de de;
    const double n = over ? 40 : 150;
    cr_assert_eq(kd_de_solve(pr->lambda, 60, n, 0, &de), KD_OK);
    src.f = 0;
    const double w2s = kd_risk_w2s(pr->lambda, pr->beta, 60, &de, mu, v, pr->teacher_sigma);
    cr_expect_lt(fabs(kd_risk_mix(pr->lambda, pr->beta, 60, &de, &src) / w2s - 1), 1e-12);
    src.f = 1;
    const double strong = kd_risk_surrogate(pr->lambda, pr->beta, pr->beta, 60, &de, pr->sigma);
    cr_expect_lt(fabs(kd_risk_mix(pr->lambda, pr->beta, 60, &de, &src) / strong - 1), 1e-12);
  }
  src.f = 1;
  cr_expect_eq(kd_exact_mix_ols(pr->lambda, pr->beta, 60, 150, &src),
               kd_exact_ols(pr->lambda, pr->beta, pr->beta, 60, 150, pr->sigma));
  src.f = 0;
  const double d = kd_risk_weak(pr->lambda, pr->beta, 60, mu, v);
  cr_expect_lt(fabs(kd_exact_mix_ols(pr->lambda, pr->beta, 60, 150, &src) /
                        (d + pr->teacher_sigma * pr->teacher_sigma * 60 / 89.0) - 1), 1e-12);
  cr_expect(isnan(kd_exact_mix_ols(pr->lambda, pr->beta, 60, 61, &src)), "n = p + 1: no OLS");
  teardown(&f);
}

/* ---- theory against Monte Carlo ---------------------------------------------------------- */

/* The mixing check: isotropic, p = 100, n = 300, an OLS teacher on m = 137 samples of
 * every feature (exact moments, D about 0.69), noiseless synthetic labels at three f,
 * noisy ones at one: the exact formula. */
Test(mix, exact_mixing_check_against_monte_carlo) {
  fixture f;
  setup(&f, isotropic, KD_BETA_GAUSS, 100, 0.5, 0);
  const double fractions[] = {0.25, 0.5, 0.75};
  for (size_t i = 0; i < 3; ++i)
    check_mix(&f, (kd_point){.n = 300, .m = 137, .k = 100, .real_fraction = fractions[i]}, 300,
              KD_THEORY_EXACT, "noiseless synthetic labels", NULL, NULL);
  f.pr.teacher_sigma = 0.4;
  check_mix(&f, (kd_point){.n = 300, .m = 137, .k = 100, .real_fraction = 0.5}, 300,
            KD_THEORY_EXACT, "noisy synthetic labels", NULL, NULL);
  teardown(&f);
}

/* A ridge teacher at its theory-optimal ridge (m = p = 100: DE moments), for an OLS
 * student (n = 300) and an over-parameterised one (n = 60, p > n). */
Test(mix, ridge_teacher_against_monte_carlo) {
  fixture f;
  setup(&f, isotropic, KD_BETA_GAUSS, 100, 0.5, 0);
  check_mix(&f, (kd_point){.n = 300, .m = 100, .k = 100, .weak_ridge = -1, .real_fraction = 0.5},
            300, KD_THEORY_DE, "ridge teacher, OLS student", NULL, NULL);
  check_mix(&f, (kd_point){.n = 60, .m = 100, .k = 100, .weak_ridge = -1, .real_fraction = 0.5},
            300, KD_THEORY_DE, "ridge teacher, p > n", NULL, NULL);
  teardown(&f);
}

/* Over-parameterised (p = 200, n = 100, power law, ridgeless), an exact teacher on m =
 * 500 samples of its top 100 features, sigma = teacher sigma = 0.2: the DE at f = 0,
 * 1/2, 1, and mixing half and half is worse than either pure source, in theory and in
 * the simulation (the same designs for every f: the paired differences, beyond 4 s.e.). */
Test(mix, overparameterised_mixing_is_worse_than_either_source) {
  fixture f;
  setup(&f, powerlaw2, KD_BETA_POWERLAW, 200, 0.2, 0.2);
  enum { T = 200 };
  const double fractions[] = {0, 0.5, 1};
  double mean[3], theory[3], *risk[3];
  for (int i = 0; i < 3; ++i) {
    kd_point pt = {.n = 100, .m = 500, .k = 100, .real_fraction = fractions[i]};
    mean[i] = check_mix(&f, pt, T, KD_THEORY_DE, "over-parameterised mixing", &risk[i],
                        &theory[i]);
  }
  cr_expect(theory[1] > theory[0] && theory[1] > theory[2], "theory %.5g %.5g %.5g", theory[0],
            theory[1], theory[2]);
  for (int end = 0; end < 3; end += 2) {
    double diff[T];
    for (int t = 0; t < T; ++t) diff[t] = risk[1][t] - risk[end][t];
    kd_summary s;
    kd_summarize(diff, T, &s);
    cr_expect(s.mean > 4 * s.se, "f = 1/2 vs f = %g: sim %.5g vs %.5g, difference %.3g +- %.2g",
              fractions[end], mean[1], mean[end], s.mean, s.se);
  }
  for (int i = 0; i < 3; ++i) free(risk[i]);
  teardown(&f);
}

/* ---- the teacher's theory-optimal ridge -------------------------------------------------- */

/* Isotropic with k = p: p sigma^2 / (m ||beta*||^2) (Dobriban and Wager), under and over
 * the teacher's interpolation peak; on a power law, a minimum of the weak model's risk. */
Test(weak_ridge, the_optimum_of_the_teachers_risk) {
  fixture f;
  const size_t ps[] = {50, 100, 200};
  for (size_t i = 0; i < 3; ++i) {
    setup(&f, isotropic, KD_BETA_GAUSS, ps[i], 0.5, 0.5);
    double b2 = 0, ridge;
    for (size_t j = 0; j < ps[i]; ++j) b2 += f.pr.beta[j] * f.pr.beta[j];
    kd_weak_spec w = {.m = 100, .k = ps[i], .sigma = 0.5};
    cr_assert_eq(kd_best_weak_ridge(f.pr.lambda, f.pr.beta, ps[i], &w, &ridge), KD_OK, "%s",
                 kd_last_error());
    const double want = (double)ps[i] * 0.25 / (100 * b2);
    cr_expect_lt(fabs(ridge / want - 1), 1e-6, "p = %zu: %.10g, want %.10g", ps[i], ridge, want);
    teardown(&f);
  }
  setup(&f, powerlaw2, KD_BETA_POWERLAW, 300, 0.5, 0.5);
  double mu[300], v[300], ridge, r[3];
  kd_weak_spec w = {.m = 150, .k = 300, .sigma = 0.5};
  cr_assert_eq(kd_best_weak_ridge(f.pr.lambda, f.pr.beta, 300, &w, &ridge), KD_OK);
  for (int i = 0; i < 3; ++i) {
    w.ridge = ridge * (i == 0 ? 0.8 : i == 1 ? 1 : 1.25);
    cr_assert_eq(kd_weak_moments(f.pr.lambda, f.pr.beta, 300, &w, mu, v, NULL), KD_OK);
    r[i] = kd_risk_weak(f.pr.lambda, f.pr.beta, 300, mu, v);
  }
  cr_expect(ridge > 0 && r[1] < r[0] && r[1] < r[2], "ridge %g: %.8g %.8g %.8g", ridge, r[0],
            r[1], r[2]);
  teardown(&f);
}

/* ---- the axis, the setting and the rows -------------------------------------------------- */

TestSuite(mix_run, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* Field `col` (0-based) of CSV line `line` (1-based: 1 is the header). */
static char *field(const char *csv, size_t line, int col) {
  char *text = kd_test_line(csv, line), *at = text;
  for (int i = 0; i < col && at; ++i) at = strchr(at, ',') ? strchr(at, ',') + 1 : NULL;
  cr_assert_not_null(at, "%s:%zu has no field %d", csv, line, col);
  char *out = strndup(at, strcspn(at, ",\n"));
  free(text);
  return out;
}

/* --sweep real-fraction fills the column of every row, and the report leads with it; a
 * run that does not sweep it fills it in mix rows only, and writes the JSON key only
 * where there is a value; --k all is the point's p at every p. */
Test(mix_run, the_real_fraction_column) {
  kd_test_run_ok("--sweep real-fraction --real-fraction 0,0.5 --pipelines strong,mix --p 30 "
                 "--n 60 --m 80 --k all --trials 2 --quiet --csv swept.csv");
  char *head = kd_test_line("swept.csv", 1);
  cr_assert_not_null(strstr(head, ",flag,real_fraction"), "%s", head);
  int col = 0; /* real_fraction's column (later columns may follow it) */
  for (const char *h = head; h < strstr(head, ",real_fraction"); h = strchr(h, ',') + 1) ++col;
  free(head);
  const char *want[] = {"0", "0", "0.5", "0.5"};
  for (size_t i = 0; i < 4; ++i) {
    char *got = field("swept.csv", i + 2, col);
    cr_expect_str_eq(got, want[i], "row %zu", i + 1);
    free(got);
  }
  kd_test_run_ok("report swept"); /* the report's first column: the axis */
  char *md = kd_test_text("swept.md");
  cr_expect_not_null(strstr(md, "\n| real\\_fraction | strong: sim |"), "%s", md);
  free(md);
  kd_test_run_ok("--sweep p --p 20,40 --pipelines strong,mix --real-fraction 0.25 --n 60 --m 80 "
                 "--k all --trials 2 --quiet --csv fixed.csv");
  const char *rows[][3] = {{"strong", "", ""}, {"mix", "0.25", "20"}, {"strong", "", ""},
                           {"mix", "0.25", "40"}};
  for (size_t i = 0; i < 4; ++i) {
    char *pipe = field("fixed.csv", i + 2, 0), *got = field("fixed.csv", i + 2, col);
    cr_expect_str_eq(pipe, rows[i][0]);
    cr_expect_str_eq(got, rows[i][1], "row %zu (%s)", i + 1, pipe);
    if (*rows[i][2]) {
      char *k = field("fixed.csv", i + 2, 4);
      cr_expect_str_eq(k, rows[i][2], "--k all is p");
      free(k);
    }
    char *json = kd_test_line("fixed.jsonl", i + 1);
    cr_expect_eq(strstr(json, "\"real_fraction\":") != NULL, *rows[i][1] != '\0', "%s", json);
    free(json), free(pipe), free(got);
  }
}

/* The settings print back as given, and only where they are not their defaults. */
Test(mix_run, the_settings_in_the_scenario) {
  kd_test_run_ok("--sweep n --n 50 --real-fraction 0.3 --weak-ridge auto --k all "
                 "--print-scenario");
  char *with = kd_test_text("stdout.txt");
  cr_expect_not_null(strstr(with, "real-fraction = 0.3\n"), "%s", with);
  cr_expect_not_null(strstr(with, "k = all\nweak-ridge = auto\n"), "%s", with);
  free(with);
  kd_test_run_ok("--sweep n --n 50 --print-scenario");
  char *without = kd_test_text("stdout.txt");
  cr_expect_null(strstr(without, "real-fraction"), "%s", without);
  cr_expect_null(strstr(without, "weak-ridge"), "%s", without);
  free(without);
}

/* The synthetic preset's figures: scripts/plot_synthetic.py writes both figures and the
 * summary table (a row per student, a column per p), and plot_run.py draws a run swept
 * over real-fraction. Skipped without Debian's matplotlib. */
Test(mix_run, the_synthetic_figures) {
  if (system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    cr_skip_test("no matplotlib for /usr/bin/python3 (scripts/setup.sh installs it)");
  kd_test_run_ok("--preset synthetic --quick --quiet --backend cpu");
  cr_assert_eq(kd_test_sh("/usr/bin/python3 " KDBENCH_SOURCE_DIR "/scripts/plot_synthetic.py "
                          "results/quick/synthetic"), 0, "%s", kd_test_err);
  for (int i = 0; i < 2; ++i) {
    size_t len = 0;
    char *png = kd_test_read(i ? "results/quick/synthetic/risk-vs-f.png"
                               : "results/quick/synthetic/risk-vs-p.png", &len);
    cr_expect(png && len > 10000, "figure %d: %zu bytes", i, len);
    free(png);
  }
  char *md = kd_test_text("results/quick/synthetic/table-summary.md");
  cr_expect_not_null(strstr(md, "| student | p = 50 | p = 90 | p = 100 | p = 110 | p = 200 | "
                                "p = 400 |"), "%s", md);
  size_t rows = 0;
  for (const char *at = md; (at = strstr(at, "\n| ")); ++at) ++rows;
  cr_expect_eq(rows, 2 + 5 + 2, "real data, the teacher, K = 1..20, 10x real, mixed:\n%s", md);
  free(md);
  cr_expect_eq(kd_test_sh("/usr/bin/python3 " KDBENCH_SOURCE_DIR "/scripts/plot_run.py "
                          "results/quick/synthetic/mixing.csv --out ."), 0, "%s", kd_test_err);
  cr_expect(kd_test_exists("mixing.png"), "plot_run.py draws a real-fraction axis");
}
