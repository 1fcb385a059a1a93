/* The test risk, excess + sigma^2 (sigma: the ground-truth labels' noise, whatever the
 * labels a pipeline trains on): the rows' test_risk (CSV, after the documented columns,
 * and JSON Lines), --risk test in the live table and in kdbench report, an older run
 * without test_risk refused there; theory-only rows leave it empty. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

TestSuite(test_risk, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* Teacher labels noisier than the truth: the test risk still adds the truth's 0.5^2. */
#define RUN "--sweep n --p 60 --n 20,90 --pipelines strong,w2s --m 400 --teacher-sigma 1 --trials 4"

Test(test_risk, is_the_mean_plus_the_truths_noise_in_every_row) {
  kd_test_run_ok(RUN " --quiet --csv r.csv");
  cJSON *rows = kd_test_rows("r.jsonl"), *o;
  int count = 0;
  cJSON_ArrayForEach(o, rows) {
    const double mean = kd_test_num(o, "sim_mean"), test = kd_test_num(o, "test_risk");
    cr_expect_eq(test, mean + 0.25, "%s n=%g: %.17g, want %.17g", kd_test_str(o, "pipeline"),
                 kd_test_num(o, "n"), test, mean + 0.25);
    ++count;
  }
  cJSON_Delete(rows);
  cr_expect_eq(count, 4);
  char *head = kd_test_line("r.csv", 1), *row = kd_test_line("r.csv", 3);
  const char *base = "pipeline,n,p,m,k,ridge,alpha,signal_exp,sigma,trials,sim_mean,sim_se,"
                     "sim_ci_low,sim_ci_high,sim_median,theory,ratio,fallbacks,theory_kind,flag,";
  cr_expect(!strncmp(head, base, strlen(base)), "the documented columns first: %s", head);
  int at = -1, i = 0; /* test_risk's place among the columns */
  for (const char *c = head; c; c = strchr(c, ','), c = c ? c + 1 : NULL, ++i)
    if (!strncmp(c, "test_risk", 9) && (c[9] == ',' || c[9] == '\0')) at = i;
  cr_assert_gt(at, 19, "test_risk after flag: %s", head);
  /* the w2s row: sigma (its labels') is 1, its test risk its mean + 0.25 */
  double sigma = 0, mean = 0, test = 0;
  const char *cell = row;
  for (i = 0; i <= at; ++i, cell = strchr(cell, ',') + 1) {
    if (i == 8) sigma = atof(cell);
    if (i == 10) mean = atof(cell);
    if (i == at) test = atof(cell);
    if (i == at) break;
  }
  cr_expect(!strncmp(row, "w2s,", 4) && sigma == 1, "%s", row);
  cr_expect(fabs(test - (mean + 0.25)) < 1e-9 * test, "%s", row);
  free(head);
  free(row);
}

Test(test_risk, the_live_table_and_the_report_show_it) {
  kd_test_run_ok(RUN " --csv r.csv --risk test");
  char *out = kd_test_text("stdout.txt");
  cr_expect(strstr(out, "sim_test") && strstr(out, "test_theory") &&
                strstr(out, "# risk = test risk (b - beta*)' Sigma (b - beta*) + sigma^2"),
            "%s", out);
  free(out);
  cJSON *rows = kd_test_rows("r.jsonl");
  const cJSON *first = cJSON_GetArrayItem(rows, 0);
  char want[64];
  snprintf(want, sizeof want, "| 20 | %.4g ± ", kd_test_num(first, "test_risk"));
  cJSON_Delete(rows);
  kd_test_run_ok("report r --risk test");
  char *md = kd_test_text("r.md");
  cr_expect(strstr(md, "Test risk (excess + sigma^2), simulation beside theory") != NULL, "%s", md);
  cr_expect(strstr(md, want) != NULL, "%s in\n%s", want, md);
  free(md);
  char *tex = kd_test_text("r.tex");
  cr_expect(strstr(tex, "\\caption{Test risk $\\mathrm{E}\\,\\|\\hat\\beta - \\beta^*\\|_\\Sigma^2 + "
                        "\\sigma^2$") != NULL, "%s", tex);
  free(tex);
  kd_test_expect_refused(kd_test_run("report r --risk bad"), "--risk 'bad': expected excess or test");
  kd_test_expect_refused(kd_test_run(RUN " --csv s.csv --risk bad"), "--risk: unknown 'bad'");
}

/* A run written before rows had test_risk: read as empty; report --risk test refuses it,
 * naming the run; the plain report still works. */
Test(test_risk, an_older_run_is_refused_by_report_risk_test) {
  kd_test_run_ok(RUN " --quiet --csv r.csv");
  cr_assert_eq(kd_test_sh("sed -i 's/,\"test_risk\":[^,]*//' r.jsonl"), 0);
  char *text = kd_test_text("r.jsonl");
  for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
    kd_test_reseal(line);
  kd_test_write("r.jsonl", text);
  free(text);
  kd_test_run_ok("report r");
  kd_test_expect_refused(kd_test_run("report r --risk test"), "has no test_risk");
}

Test(test_risk, theory_only_rows_leave_it_empty) {
  kd_test_run_ok(RUN " --quiet --csv t.csv --theory-only");
  char *row = kd_test_line("t.csv", 2);
  cr_expect(row[strlen(row) - 1] == ',', "the last cell is empty: %s", row);
  free(row);
}
