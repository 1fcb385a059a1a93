/* Every preset runs end to end at its reduced size (--quick), as CI does, and its
 * outputs hold the expected rows: the runs, their fits (NAME.fit.json) and the report
 * tables. Runs the real binary in a temporary folder (presets write under results/). */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

TestSuite(presets, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 300);

static size_t count_lines(const char *text) {
  size_t n = 0;
  for (; text && *text; ++text) n += *text == '\n';
  return n;
}

static void run_preset(const char *name) {
  kd_test_run_ok("--preset %s --quick --quiet --backend cpu", name);
}

/* The pipelines fitted in NAME.fit.json, as "strong,optimal," etc., and its w2s rows. */
static void fit_summary(const char *path, char *pipes, size_t len, int *w2s_rows) {
  cJSON *o = kd_test_json(path);
  pipes[0] = '\0';
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItem(o, "fits")) {
    const cJSON *p = cJSON_GetObjectItem(f, "pipeline");
    if (cJSON_IsString(p) && !strstr(pipes, p->valuestring)) {
      strncat(pipes, p->valuestring, len - strlen(pipes) - 2);
      strcat(pipes, ",");
    }
  }
  *w2s_rows = cJSON_GetArraySize(cJSON_GetObjectItem(o, "w2s"));
  cJSON_Delete(o);
}

Test(presets, fig1_default) {
  run_preset("fig1");
  char *csv = kd_test_read("results/quick/sweep-n.csv", NULL);
  cr_assert_not_null(csv);
  cr_expect_eq(count_lines(csv), 1 + 3 * 4, "3 values of n x 4 pipelines");
  free(csv);
}

Test(presets, fig1a_weights) {
  run_preset("fig1a");
  char *csv = kd_test_read("results/quick/fig1a/weights.csv", NULL);
  cr_assert_not_null(csv);
  cr_expect_eq(count_lines(csv), 501, "header + p = 500 features");
  free(csv);
}

Test(presets, fig1b_fits_and_report) {
  run_preset("fig1b");
  char pipes[128];
  int w2s;
  fit_summary("results/quick/fig1b/sweep-n.fit.json", pipes, sizeof pipes, &w2s);
  cr_expect_str_eq(pipes, "strong,optimal,mask,");
  kd_test_run_ok("report results/quick/fig1b/sweep-n");
  char *md = kd_test_read("results/quick/fig1b/sweep-n.md", NULL);
  cr_assert_not_null(md);
  cr_expect(strstr(md, "| strong |") && strstr(md, "| optimal |") && strstr(md, "| mask |"),
            "the scaling-law table has a row per pipeline:\n%s", md);
  free(md);
  char *tex = kd_test_read("results/quick/fig1b/sweep-n.tex", NULL);
  cr_expect(tex && strstr(tex, "\\toprule") && strstr(tex, "\\bottomrule"));
  free(tex);
}

Test(presets, scaling_four_runs) {
  run_preset("scaling");
  const char *runs[] = {"alpha2-b1.5", "alpha1.5-b2", "alpha2-b2", "alpha3-b2"};
  for (int i = 0; i < 4; ++i) {
    char path[128], pipes[128];
    int w2s;
    snprintf(path, sizeof path, "results/quick/scaling/%s.fit.json", runs[i]);
    fit_summary(path, pipes, sizeof pipes, &w2s);
    cr_expect_str_eq(pipes, "strong,optimal,mask,", "%s", runs[i]);
  }
}

Test(presets, w2s_grid) {
  run_preset("w2s");
  char pipes[128];
  int w2s;
  fit_summary("results/quick/w2s/grid.fit.json", pipes, sizeof pipes, &w2s);
  cr_expect_eq(w2s, 4, "one weak-to-strong row per (m, k): 2 x 2");
  char *csv = kd_test_read("results/quick/w2s/grid.csv", NULL);
  cr_expect_eq(count_lines(csv), 1 + 4 * 3, "4 points x strong, w2s, weak");
  free(csv);
}

/* Four runs: the isotropic table (n x p: strong, the teacher, the noiseless synthetic
 * student), m real + 10 m synthetic rows, and two sweeps of the real fraction. */
Test(presets, synthetic_four_runs) {
  run_preset("synthetic");
  const char *runs[] = {"table", "real-and-synthetic", "mixing", "overparameterised"};
  const size_t rows[] = {5 * 6 * 3, 6, 5 * 4, 9 * 4};
  for (int i = 0; i < 4; ++i) {
    char *csv = kd_test_read(kd_test_pathf("results/quick/synthetic/%s.csv", runs[i]), NULL);
    cr_assert_not_null(csv, "%s", runs[i]);
    cr_expect_eq(count_lines(csv), 1 + rows[i], "%s", runs[i]);
    cr_expect_not_null(strstr(csv, "\nmix,"), "%s has mix rows", runs[i]);
    free(csv);
  }
}

Test(presets, curriculum_eight_runs) {
  run_preset("curriculum");
  const struct { const char *run; size_t rows; } runs[] = {
      {"noise-constant", 30}, {"noise-decay", 30}, {"noise-budget", 30}, {"source", 20},
      {"features-none", 10}, {"features-log", 20}, {"features-none-small-steps", 10},
      {"features-linear-small-steps", 20}};
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; ++i) {
    char *csv = kd_test_read(kd_test_pathf("results/quick/curriculum/%s.csv", runs[i].run), NULL);
    cr_assert_not_null(csv, "%s not written", runs[i].run);
    cr_expect_eq(count_lines(csv), 1 + runs[i].rows, "%s: 10 checkpoints x its orders",
                 runs[i].run);
    free(csv);
  }
}

/* Eight runs of the recursive pipeline (--quick: 3 generations, 4 trials): the OLS table's
 * four schedules, the power law at T = 200 and 1000, its linear and quadratic schedules,
 * the fixed and the decaying ridge, the isotropic minimum norm, and the ridge pair again
 * as theory alone (200 generations in full), whose rows are the simulated pair's theory
 * bit for bit, without simulation. Each run's rows are its
 * points' schedules, in order, each with generations 1, 2, 3, generation 1 the same
 * fit in all; exact theory where A1, A2, A3 hold (the OLS table, T = 1000, isotropic),
 * and every row's simulation within a factor 1.5 of its theory: at 4 trials a gross
 * check (a wrong generation, source or noise), the tight ones being
 * agreement/generations_* and agreement/generation_two_* (tests/test_agreement.c). */
Test(presets, collapse_eight_runs) {
  run_preset("collapse");
  const struct {
    const char *run, *schedules[4], *kinds;
    int points;
  } runs[] = {{"ols", {"fixed", "linear", "quadratic", "accumulate"}, "eeeeeeeeeeee", 1},
              {"power-fixed", {"fixed"}, "dddeee", 2},
              {"power-growing", {"linear", "quadratic"}, "dddddd", 1},
              {"ridge-fixed", {"quadratic"}, "ddd", 1},
              {"ridge-decay", {"quadratic"}, "ddd", 1},
              {"isotropic", {"fixed"}, "eee", 1}};
  for (size_t i = 0; i < sizeof runs / sizeof *runs; ++i) {
    int groups = 0;
    while (groups < 4 && runs[i].schedules[groups]) ++groups;
    cJSON *rows = kd_test_rows(kd_test_pathf("results/quick/collapse/%s.jsonl", runs[i].run));
    cr_assert_eq(cJSON_GetArraySize(rows), runs[i].points * groups * 3, "%s", runs[i].run);
    double first = 0;
    for (int r = 0; r < cJSON_GetArraySize(rows); ++r) {
      const cJSON *o = cJSON_GetArrayItem(rows, r);
      const int g = r % 3 + 1;
      const double sim = kd_test_num(o, "sim_mean"), theory = kd_test_num(o, "theory");
      cr_expect_str_eq(kd_test_str(o, "pipeline"), "recursive");
      cr_expect_eq(kd_test_num(o, "generation"), g, "%s row %d", runs[i].run, r + 1);
      cr_expect_str_eq(kd_test_str(o, "schedule"), runs[i].schedules[r / 3 % groups], "%s row %d",
                       runs[i].run, r + 1);
      cr_expect_str_eq(kd_test_str(o, "theory_kind"), runs[i].kinds[r] == 'e' ? "exact" : "de",
                       "%s row %d", runs[i].run, r + 1);
      if (g == 1 && r % (3 * groups) == 0) first = sim;
      if (g == 1) cr_expect_eq(sim, first, "%s row %d: generation 1 is one fit", runs[i].run, r + 1);
      cr_expect(sim > theory / 1.5 && sim < 1.5 * theory, "%s row %d (%s, generation %d): sim %g, "
                "theory %g", runs[i].run, r + 1, runs[i].schedules[r / 3 % groups], g, sim, theory);
    }
    cJSON_Delete(rows);
  }
  const char *longs[][2] = {{"ridge-fixed-long", "ridge-fixed"}, {"ridge-decay-long", "ridge-decay"}};
  for (int i = 0; i < 2; ++i) {
    cJSON *th = kd_test_rows(kd_test_pathf("results/quick/collapse/%s.jsonl", longs[i][0]));
    cJSON *sim = kd_test_rows(kd_test_pathf("results/quick/collapse/%s.jsonl", longs[i][1]));
    cr_assert_eq(cJSON_GetArraySize(th), 3, "%s", longs[i][0]);
    for (int r = 0; r < 3; ++r) {
      const cJSON *a = cJSON_GetArrayItem(th, r), *b = cJSON_GetArrayItem(sim, r);
      cr_expect_eq(kd_test_num(a, "theory"), kd_test_num(b, "theory"), "%s row %d", longs[i][0],
                   r + 1);
      cr_expect_eq(kd_test_num(a, "generation"), r + 1);
      cr_expect(!cJSON_IsNumber(kd_test_item(a, "sim_mean")), "%s: no simulation", longs[i][0]);
    }
    cJSON_Delete(th);
    cJSON_Delete(sim);
  }
}

Test(presets, quick_needs_a_preset) {
  kd_test_expect_refused(kd_test_run("--sweep n --quick"), "--quick");
}
