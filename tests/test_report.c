/* kdbench report: the tables made from a stored run (tests/data, written by hand in
 * the format of docs/run-format.md) hold the expected rows and values in both formats;
 * Markdown is well-formed GFM, LaTeX escapes every special character (and compiles,
 * where pdflatex is installed); torn, corrupt, incomplete and missing inputs; run
 * stems. Each test works on copies in a temporary folder. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/report/internal.h"
#include "kdbench/escape.h"
#include "kdbench/report.h"
#include "kdbench/run_paths.h"
#include "kd_test.h"

TestSuite(report, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(run_paths);
TestSuite(report_format);
TestSuite(report_layout);

/* ---- helpers --------------------------------------------------------------------- */

static void copy_file(const char *fixture, const char *name, const char *ext) {
  char *text = kd_test_text(kd_test_pathf("%s/tests/data/%s%s", KDBENCH_SOURCE_DIR, fixture, ext));
  kd_test_write(kd_test_pathf("%s%s", name, ext), text);
  free(text);
}

/* Copies a fixture run (its JSONL and meta) into the test folder as NAME. */
static void copy_run(const char *fixture, const char *name) {
  copy_file(fixture, name, ".jsonl");
  copy_file(fixture, name, ".meta.json");
}

/* Runs the report on the test folder's NAME with `formats`, the log captured into *log (freed by
 * the caller). */
static kd_status report(const char *name, unsigned formats, char **log) {
  size_t len;
  FILE *f = open_memstream(log, &len);
  cr_assert_not_null(f);
  kd_status st = kd_report_run(kd_test_pathf("%s", name), formats, f);
  fclose(f);
  return st;
}

static void report_ok(const char *name) {
  char *log;
  kd_status st = report(name, KD_REPORT_MD | KD_REPORT_TEX, &log);
  cr_assert_eq(st, KD_OK, "report failed: %s", kd_last_error());
  free(log);
}

/* The lines of `text` that start with `prefix`, one after another (static buffer). */
static const char *lines_starting(const char *text, const char *prefix) {
  static char out[16384];
  out[0] = '\0';
  for (const char *s = text; *s;) {
    const char *end = strchr(s, '\n');
    size_t n = end ? (size_t)(end - s + 1) : strlen(s);
    if (strncmp(s, prefix, strlen(prefix)) == 0) strncat(out, s, n);
    s += n;
  }
  return out;
}

static void append_text(const char *file, const char *text) {
  FILE *f = fopen(kd_test_path(file), "ab");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

/* text with its first `from` replaced by `to` (malloc'd); `where` names it in a failure. */
static char *replaced(const char *text, const char *from, const char *to, const char *where) {
  const char *at = strstr(text, from);
  cr_assert_not_null(at, "%s holds no %s", where, from);
  char *out = NULL;
  cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)), 0);
  return out;
}

/* The test folder's FILE with its first `from` replaced by `to`. */
static void edit_file(const char *file, const char *from, const char *to) {
  char *text = kd_test_text(file), *out = replaced(text, from, to, file);
  kd_test_write(file, out);
  free(text), free(out);
}

/* The same inside row `line` of a JSON Lines FILE, the row resealed (kd_test_reseal), so
 * that what the reader is asked is the edit itself. */
static void edit_row(const char *file, size_t line, const char *from, const char *to) {
  char *row = kd_test_line(file, line), *out = replaced(row, from, to, file);
  kd_test_reseal(out);
  kd_test_set_line(file, line, out);
  free(row), free(out);
}

/* ---- the fixture run's tables ------------------------------------------------------ */

static const char *fig1_md_rows =
    "| 20 | 0.9916 ± 0.039 | 0.9767 | 0.7298 ± 0.022 | 0.7192 | 20 | 0.7508 ± 0.023 | 0.7394 "
    "| 20 | 0.7539 ± 0.023 | 0.7410 |\n"
    "| 155 | 0.5106 ± 0.010 | 0.5061 | 0.4596 ± 0.0085 | 0.4550 | 156 | 0.4669 ± 0.0085 | "
    "0.4622 | 149 | 0.4740 ± 0.0084 | 0.4695 |\n"
    "| 470 | 4.118 ± 0.22 | 3.801‡ | 4.101 ± 0.21 | 3.785‡ | 470 | 4.109 ± 0.22 | 3.793‡ | 431 "
    "| 4.187 ± 0.22 | 3.866‡ |\n"
    "| 500 | 262.9† | ∞ | 262.9† | ∞ | 500 | 262.9† | ∞ | 500 | 262.8† | ∞ |\n"
    "| 2000 | 0.08339 ± 0.00086 | 0.08339 | 0.08339 ± 0.00086 | 0.08339 | 500 | 0.08339 ± "
    "0.00086 | 0.08339 | 500 | 0.1110 ± 0.0011 | 0.1112 |\n";

Test(report, fixture_markdown_rows_and_values) {
  copy_run("fig1-mini", "run");
  char *log;
  cr_assert_eq(report("run", KD_REPORT_MD | KD_REPORT_TEX, &log), KD_OK, "%s", kd_last_error());
  char expect_log[2048];
  snprintf(expect_log, sizeof expect_log, "wrote %s\nwrote %s\n", kd_test_path("run.md"),
           kd_test_path("run.tex"));
  cr_assert_str_eq(log, expect_log);
  free(log);

  char *md = kd_test_text("run.md");
  char table[8192];
  snprintf(table, sizeof table, "%s%s",
           "| n | strong: sim | strong: theory | optimal: sim | optimal: theory | mask: k "
           "| mask: sim | mask: theory | w2s: k | w2s: sim | w2s: theory |\n"
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
           fig1_md_rows);
  cr_assert_str_eq(lines_starting(md, "|"), table);
  /* the setting, what does not vary, and every mark explained */
  cr_assert_not_null(strstr(md,
                            "Scenario 5c1d2e3f4a5b6c7d, seed 1, 200 trials, backend cpu, "
                            "kdbench 0.1.0 (commit 86c2bf0e1a2b); 5 of 5 points."));
  cr_assert_not_null(strstr(
      md, "Fixed: p = 500, m = 5000, ridge = 0, alpha = 2, signal\\_exp = 1.5, sigma = 0.5."));
  cr_assert_not_null(strstr(md, "\n- † Interpolation peak"));
  cr_assert_not_null(strstr(md, "\n- ‡ Near the peak"));
  cr_assert_not_null(strstr(md, "- Risk: excess risk (b - beta\\*)' Sigma (b - beta\\*); test"));
  free(md);
}

/* The table lines, '|' as in the Markdown: the header row's cells again. */
Test(report, markdown_is_a_well_formed_gfm_table) {
  copy_run("fig1-mini", "run");
  report_ok("run");
  char *md = kd_test_text("run.md");
  const char *s = strstr(md, "\n|") + 1;
  int lines = 0, header_cells = -1;
  while (*s == '|') {
    int cells = 0;
    for (; *s != '\n'; ++s)
      if (*s == '|' && s[-1] != '\\') ++cells;
    cr_assert_eq(s[-1], '|', "a table line ends with '|'");
    if (header_cells < 0) header_cells = cells;
    cr_assert_eq(cells, header_cells, "line %d has %d separators, the header %d", lines + 1, cells,
                 header_cells);
    ++lines, ++s;
  }
  cr_assert_eq(lines, 2 + 5, "header, delimiter and 5 points");
  cr_assert_eq(*s, '\n', "a blank line after the table");
  free(md);
}

Test(report, fixture_latex_rows_and_booktabs) {
  copy_run("fig1-mini", "run");
  report_ok("run");
  char *tex = kd_test_text("run.tex");
  const char *expect[] = {
      "\\begin{table}",
      "\\begin{tabular}{rr@{\\,}lrr@{\\,}lrrr@{\\,}lrrr@{\\,}lr}\n\\toprule\n",
      " & \\multicolumn{3}{c}{strong} & \\multicolumn{3}{c}{optimal} & "
      "\\multicolumn{4}{c}{mask} & \\multicolumn{4}{c}{w2s} \\\\\n",
      "\\cmidrule(lr){2-4}\\cmidrule(lr){5-7}\\cmidrule(lr){8-11}\\cmidrule(lr){12-15}\n",
      "$n$ & \\multicolumn{2}{c}{sim} & theory & \\multicolumn{2}{c}{sim} & theory & $k$ & "
      "\\multicolumn{2}{c}{sim} & theory & $k$ & \\multicolumn{2}{c}{sim} & theory \\\\\n"
      "\\midrule\n",
      "$20$ & $0.9916$ & ${}\\pm 0.039$ & $0.9767$ & $0.7298$ & ${}\\pm 0.022$ & $0.7192$ & $20$ "
      "& $0.7508$ & ${}\\pm 0.023$ & $0.7394$ & $20$ & $0.7539$ & ${}\\pm 0.023$ & $0.7410$ \\\\\n",
      "$470$ & $4.118$ & ${}\\pm 0.22$ & $3.801^{\\ddagger}$ &",
      "$500$ & $262.9^{\\dagger}$ & & $\\infty$ & $262.9^{\\dagger}$ & & $\\infty$ & $500$ & "
      "$262.9^{\\dagger}$ & & $\\infty$ & $500$ & $262.8^{\\dagger}$ & & $\\infty$ \\\\\n",
      "$2000$ & $0.08339$ & ${}\\pm 0.00086$ & $0.08339$ &",
      "\\\\\n\\bottomrule\n\\end{tabular}}%\n",
      "\\caption{Excess risk $\\mathrm{E}\\,\\|\\hat\\beta - \\beta^*\\|_\\Sigma^2$, simulation "
      "beside theory; 200~trials, 5 of 5 points. Fixed: $p = 500$, $m = 5000$, ridge $\\lambda = "
      "0$, $\\alpha = 2$, signal exponent $b = 1.5$, $\\sigma = 0.5$.}",
      "$^{\\dagger}$\\,Interpolation peak",
      "$^{\\ddagger}$\\,Near the peak",
      "the test risk is the excess risk $+\\,\\sigma^2$.",
      "% scenario: 5c1d2e3f4a5b6c7d\n% seed: 1\n% kdbench: 0.1.0\n% commit: 86c2bf0e1a2b\n"
      "% backend: cpu: OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH, 2 threads\n\\begin{table}",
      "\\end{table}\n",
  };
  for (size_t i = 0; i < sizeof expect / sizeof *expect; ++i)
    cr_expect_not_null(strstr(tex, expect[i]), "missing:\n%s\nin:\n%s", expect[i], tex);
  /* the points in grid order, one table row each */
  const char *a = strstr(tex, "\n$20$"), *b = strstr(tex, "\n$155$"), *c = strstr(tex, "\n$470$"),
             *d = strstr(tex, "\n$500$"), *e = strstr(tex, "\n$2000$");
  cr_assert(a && b && c && d && e && a < b && b < c && c < d && d < e);
  free(tex);
}

Test(report, regenerates_byte_identical_tables) {
  copy_run("fig1-mini", "run");
  report_ok("run");
  char *md1 = kd_test_text("run.md"), *tex1 = kd_test_text("run.tex");
  report_ok("run");
  char *md2 = kd_test_text("run.md"), *tex2 = kd_test_text("run.tex");
  cr_assert_str_eq(md1, md2);
  cr_assert_str_eq(tex1, tex2);
  cr_assert(!kd_test_exists("run.md.tmp") && !kd_test_exists("run.tex.tmp"));
  free(md1), free(md2), free(tex1), free(tex2);
}

Test(report, one_format_at_a_time_and_any_run_file_names_the_run) {
  copy_run("fig1-mini", "run");
  cr_assert_eq(kd_report_run(kd_test_path("run.meta.json"), KD_REPORT_TEX, NULL), KD_OK, "%s",
               kd_last_error());
  cr_assert(kd_test_exists("run.tex") && !kd_test_exists("run.md"));
  cr_assert_eq(kd_report_run(kd_test_path("run.csv"), KD_REPORT_MD, NULL), KD_OK, "%s",
               kd_last_error());
  cr_assert(kd_test_exists("run.md"));
  cr_assert_eq(kd_report_run(kd_test_path("run"), 0, NULL), KD_EINVAL);
  cr_assert_eq(kd_report_run(kd_test_path("run"), 4, NULL), KD_EINVAL);
}

/* Rows come back in (point, pipeline) order whatever the file order; of two rows for
 * the same point_key and pipeline the later wins. */
Test(report, rows_ordered_by_point_and_pipeline_later_duplicate_wins) {
  copy_run("fig1-mini", "ref");
  report_ok("ref");
  char *ref = kd_test_text("ref.md");

  copy_run("fig1-mini", "run");
  char shuffled[32768] = "";
  for (size_t line = 20; line >= 1; --line) { /* reversed */
    char *l = kd_test_line("run.jsonl", line);
    strcat(strcat(shuffled, l), "\n");
    free(l);
  }
  kd_test_write("run.jsonl", shuffled);
  report_ok("run");
  char *md = kd_test_text("run.md");
  cr_assert_str_eq(strstr(md, "\n|"), strstr(ref, "\n|"), "reversed lines, same table");
  free(md);

  /* a stale copy of point 0's strong row first, then the one that must win */
  char *stale = kd_test_line("ref.jsonl", 1); /* the fixture's first row, as run.jsonl had it */
  memcpy(strstr(stale, "\"sim_mean\":0.991627594"), "\"sim_mean\":0.123456789", 22);
  kd_test_reseal(stale);
  kd_test_write("run.jsonl", stale);
  append_text("run.jsonl", "\n");
  append_text("run.jsonl", shuffled);
  report_ok("run");
  md = kd_test_text("run.md");
  cr_assert_str_eq(strstr(md, "\n|"), strstr(ref, "\n|"), "the later duplicate wins");
  free(md);

  append_text("run.jsonl", stale); /* now the stale one is the later */
  append_text("run.jsonl", "\n");
  report_ok("run");
  md = kd_test_text("run.md");
  cr_assert_not_null(strstr(md, "\n| 20 | 0.1235 ± 0.039 | 0.9767 |"), "%s", md);
  free(md), free(ref), free(stale);
}

Test(report, two_axes_are_both_leading_columns) {
  copy_run("grid-np", "grid");
  report_ok("grid");
  char *md = kd_test_text("grid.md");
  cr_assert_str_eq(lines_starting(md, "|"),
                   "| n | p | strong: sim | strong: theory | w2s: k | w2s: sim | w2s: theory |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|\n"
                   "| 100 | 200 | 0.6000 ± 0.018 | 0.6060 | 50 | 0.7200 ± 0.029 | 0.7128 |\n"
                   "| 400 | 200 | 0.2513 ± 0.0075 | 0.2538 | 100 | 0.3015 ± 0.012 | 0.2985 |\n"
                   "| 100 | 800 | 2.400 ± 0.072 | 2.424 | 50 | 2.880 ± 0.12 | 2.851 |\n"
                   "| 400 | 800 | 0.6000 ± 0.018 | 0.6060 | 200 | 0.7200 ± 0.029 | — |\n");
  cr_assert_not_null(strstr(md,
                            "Fixed: m = 2000, ridge = 0, alpha = 2, signal\\_exp = 1.5, "
                            "sigma = 0.5.\n"));
  cr_assert_null(strstr(md, "†"), "no peak, no peak note");
  char *tex = kd_test_text("grid.tex");
  cr_assert_not_null(strstr(tex, "\n$n$ & $p$ & \\multicolumn{2}{c}{sim} & theory & $k$ & "));
  cr_assert_not_null(strstr(tex,
                            "\n$400$ & $800$ & $0.6000$ & ${}\\pm 0.018$ & $0.6060$ & $200$ "
                            "& $0.7200$ & ${}\\pm 0.029$ & --- \\\\\n"));
  free(md), free(tex);
}

/* The writer stores NaN as null: one trial has no confidence interval. */
Test(report, a_null_interval_shows_the_mean_alone) {
  copy_run("fig1-mini", "run");
  edit_row("run.jsonl", 1, "\"sim_ci_low\":0.9524483318", "\"sim_ci_low\":null");
  report_ok("run");
  char *md = kd_test_text("run.md"), *tex = kd_test_text("run.tex");
  cr_assert_not_null(strstr(md, "\n| 20 | 0.9916 | 0.9767 | 0.7298 ± 0.022 |"), "%s", md);
  cr_assert_not_null(strstr(tex, "\n$20$ & $0.9916$ & & $0.9767$ &"), "%s", tex);
  free(md), free(tex);
}

/* ---- torn, corrupt, incomplete, missing ------------------------------------------- */

Test(report, torn_last_line_without_newline_is_skipped_with_a_warning) {
  copy_run("fig1-mini", "ref");
  report_ok("ref");
  copy_run("fig1-mini", "run");
  append_text("run.jsonl", "{\"schema\":1,\"scenario_hash\":\"5c1d2e3f4a5b6c7d\",\"poi");
  char *log;
  cr_assert_eq(report("run", KD_REPORT_MD, &log), KD_OK, "%s", kd_last_error());
  char warning[1024];
  snprintf(warning, sizeof warning, "kdbench: warning: %s:21: torn last line (no newline) dropped\n",
           kd_test_path("run.jsonl"));
  cr_assert_not_null(strstr(log, warning), "log: %s", log);
  char *md = kd_test_text("run.md"), *ref = kd_test_text("ref.md");
  cr_assert_str_eq(strstr(md, "\n|"), strstr(ref, "\n|"));
  free(log), free(md), free(ref);
}

Test(report, torn_last_line_that_does_not_parse_is_skipped_with_a_warning) {
  copy_run("fig1-mini", "run");
  append_text("run.jsonl", "{\"schema\":1,\"scenario_hash\":\"5c1d\n");
  char *log;
  cr_assert_eq(report("run", KD_REPORT_MD, &log), KD_OK, "%s", kd_last_error());
  cr_assert_not_null(strstr(log, ".jsonl:21: torn last line (not a JSON object) dropped\n"), "%s",
                     log);
  free(log);
}

Test(report, corrupt_middle_line_is_an_error_naming_the_line) {
  copy_run("fig1-mini", "run");
  kd_test_set_line("run.jsonl", 3, "{\"schema\":1, oops");
  char *log;
  cr_assert_eq(report("run", KD_REPORT_MD | KD_REPORT_TEX, &log), KD_EINVAL);
  char expect[1024];
  snprintf(expect, sizeof expect, "%s:3: not a JSON object (a corrupt run)",
           kd_test_path("run.jsonl"));
  cr_assert_str_eq(kd_last_error(), expect);
  cr_assert(!kd_test_exists("run.md") && !kd_test_exists("run.tex"));
  free(log);

  /* trailing garbage after a complete object is not JSON either */
  copy_run("fig1-mini", "run");
  char *line = kd_test_line("run.jsonl", 5), glued[4096];
  snprintf(glued, sizeof glued, "%s}", line);
  kd_test_set_line("run.jsonl", 5, glued);
  cr_assert_eq(kd_report_run(kd_test_path("run"), KD_REPORT_MD, NULL), KD_EINVAL);
  cr_assert_not_null(strstr(kd_last_error(), ".jsonl:5: not a JSON object"), "%s", kd_last_error());
  free(line);
}

Test(report, missing_or_mistyped_keys_are_named_with_file_and_line) {
  struct {
    const char *from, *to, *message;
  } cases[] = {
      {"\"sim_mean\":", "\"sim_meen\":", ".jsonl:2: missing key 'sim_mean'"},
      {"\"n\":20,", "\"n\":20.5,", ".jsonl:2: key 'n' is not a count"},
      {"\"theory\":0.7191786894", "\"theory\":\"big\"", ".jsonl:2: key 'theory' is not a number"},
      {"\"pipeline\":\"optimal\"", "\"pipeline\":\"teacher\"",
       ".jsonl:2: unknown pipeline 'teacher' (expected strong, optimal, mask, w2s, weak"},
      {"\"pipeline\":\"optimal\"", "\"pipeline\":\"optimal,mask\"",
       ".jsonl:2: unknown pipeline 'optimal,mask'"},
      {"\"flag\":\"\"", "\"flag\":\"spike\"", ".jsonl:2: key 'flag' is not \"peak\""},
      {"\"schema\":2", "\"schema\":3", ".jsonl:2: schema 3, this kdbench reads schema 2"},
      {"\"scenario_hash\":\"5c1d2e3f4a5b6c7d\"", "\"scenario_hash\":\"0000000000000000\"",
       ".jsonl:2: a row of another scenario (hash 0000000000000000, the run's 5c1d2e3f4a5b6c7d)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    copy_run("fig1-mini", "run");
    edit_row("run.jsonl", 2, cases[i].from, cases[i].to);
    cr_expect_eq(kd_report_run(kd_test_path("run"), KD_REPORT_MD, NULL), KD_EINVAL, "case %zu", i);
    cr_expect_not_null(strstr(kd_last_error(), cases[i].message), "case %zu: %s", i,
                       kd_last_error());
  }
}

Test(report, meta_problems_are_named) {
  struct {
    const char *from, *to, *message;
  } cases[] = {
      {"\"axes\":", "\"axis\":", ".meta.json: key \"axes\" is missing"},
      {"\"axes\": [\n    \"n\"\n  ]", "\"axes\": [\"q\"]",
       ".meta.json: key \"axes\": unknown axis 'q'"},
      {"\"git_commit\":", "\"commit\":", ".meta.json: key \"git_commit\" is missing"},
      {"\"seed\": 1", "\"seed\": \"one\"", ".meta.json: key \"seed\" is not an integer"},
      {"\"complete\": true", "\"complete\": 1",
       ".meta.json: key \"complete\" is not true or false"},
      {"\"schema\": 1,", "\"schema\": 1,,", ".meta.json: not valid JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    copy_run("fig1-mini", "run");
    edit_file("run.meta.json", cases[i].from, cases[i].to);
    cr_expect_eq(kd_report_run(kd_test_path("run"), KD_REPORT_MD, NULL), KD_EINVAL, "case %zu", i);
    cr_expect_not_null(strstr(kd_last_error(), cases[i].message), "case %zu: %s", i,
                       kd_last_error());
  }
}

Test(report, missing_files_are_errors_naming_them) {
  copy_file("fig1-mini", "run", ".jsonl");
  cr_assert_eq(kd_report_run(kd_test_path("run"), KD_REPORT_MD, NULL), KD_EIO);
  char expect[1024];
  snprintf(expect, sizeof expect, "%s: cannot open: No such file or directory",
           kd_test_path("run.meta.json"));
  cr_assert_str_eq(kd_last_error(), expect);

  copy_file("fig1-mini", "other", ".meta.json");
  cr_assert_eq(kd_report_run(kd_test_path("other.csv"), KD_REPORT_MD, NULL), KD_EIO);
  snprintf(expect, sizeof expect, "%s: cannot open: No such file or directory",
           kd_test_path("other.jsonl"));
  cr_assert_str_eq(kd_last_error(), expect);
  cr_assert(!kd_test_exists("other.md"));
}

Test(report, an_empty_run_is_an_error) {
  copy_run("fig1-mini", "run");
  kd_test_write("run.jsonl", "");
  cr_assert_eq(kd_report_run(kd_test_path("run"), KD_REPORT_MD, NULL), KD_EINVAL);
  cr_assert_not_null(strstr(kd_last_error(), ".jsonl: no rows (an empty run)"));
  /* only a torn line: empty too, after the warning */
  kd_test_write("run.jsonl", "{\"schema\":1");
  char *log;
  cr_assert_eq(report("run", KD_REPORT_MD, &log), KD_EINVAL);
  cr_assert_not_null(strstr(log, "torn last line"));
  free(log);
}

Test(report, an_incomplete_run_says_so) {
  copy_run("fig1-mini", "run");
  edit_file("run.meta.json", "\"complete\": true", "\"complete\": false");
  for (size_t line = 20; line > 12; --line) /* 3 points left */
    kd_test_set_line("run.jsonl", line, NULL);
  report_ok("run");
  char *md = kd_test_text("run.md");
  cr_assert_not_null(strstr(md, "; 3 of 5 points (an incomplete run)."), "%s", md);
  cr_assert_null(strstr(md, "| 500 |"));
  free(md);
}

/* ---- escaping ---------------------------------------------------------------------- */

static char *escaped(void (*escape)(FILE *, const char *), const char *text) {
  char *buf;
  size_t len;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_not_null(f);
  escape(f, text);
  fclose(f);
  return buf;
}

Test(report_format, tex_escape_of_every_special_character) {
  struct {
    const char *in, *out;
  } cases[] = {
      {"#", "\\#"},
      {"$", "\\$"},
      {"%", "\\%"},
      {"&", "\\&"},
      {"_", "\\_"},
      {"{", "\\{"},
      {"}", "\\}"},
      {"~", "\\textasciitilde{}"},
      {"^", "\\textasciicircum{}"},
      {"\\", "\\textbackslash{}"},
      {"<>|", "\\textless{}\\textgreater{}\\textbar{}"},
      {"a--b", "a-{}-b"},
      {"line\n\nbreak\t", "line  break "},
      {"λ=½", "?=?"},
      {"OpenBLAS 0.3.21 (Zen)", "OpenBLAS 0.3.21 (Zen)"},
      {"\\textbf{x}_1 %50 & #2 $y$ ~^",
       "\\textbackslash{}textbf\\{x\\}\\_1 \\%50 \\& \\#2 \\$y\\$ "
       "\\textasciitilde{}\\textasciicircum{}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    char *out = escaped(kd_tex_escape, cases[i].in);
    cr_expect_str_eq(out, cases[i].out, "case %zu", i);
    free(out);
  }
}

Test(report_format, markdown_escape) {
  char *out = escaped(kd_md_escape, "a|b *c* _d_ `e` [f](g) <h> \\ ~ & $x$\nnext");
  cr_assert_str_eq(out,
                   "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\<h\\> \\\\ \\~ \\& \\$x\\$ next");
  free(out);
}

Test(report_format, significant_digits) {
  struct {
    double x;
    int digits;
    const char *out;
  } cases[] = {
      {0.991627594, 4, "0.9916"},  {0.0392, 2, "0.039"},
      {0.01004, 2, "0.010"},       {12535.08728, 4, "12535"},
      {9.99996, 4, "10.00"},       {0.000862, 2, "0.00086"},
      {1.23456e-5, 4, "1.235e-5"}, {2.5e7, 2, "2.5e7"},
      {-0.5, 4, "-0.5000"},        {0, 4, "0"},
      {1.0 / 0.0, 4, "inf"},       {-1.0 / 0.0, 4, "-inf"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    char out[64];
    kd_fmt_digits(cases[i].x, cases[i].digits, out, sizeof out);
    cr_expect_str_eq(out, cases[i].out, "case %zu", i);
  }
}

/* ---- the pipelines' order in the layout: the registry's ------------------------------ */

/* kd_report_lead_order on registries other than the real one: the m-column pipelines
 * first for m and k, each part in registry order, whatever the registry holds (a list
 * written for today's five pipelines fails here). */
Test(report_layout, lead_order_follows_the_descriptors) {
  const kd_pipeline_type plain = {.name = "plain"}, fills_m = {.name = "fills_m", .m_column = 1};
  const kd_pipeline_type *const mixed[] = {&plain, &fills_m, &plain, &fills_m, &plain, &plain};
  const kd_pipeline_type *const none[] = {&plain, &plain, &plain};
  const int mixed_mk[] = {1, 3, 0, 2, 4, 5}, mixed_other[] = {0, 1, 2, 3, 4, 5};
  for (int q = 0; q < KD_RP_COUNT; ++q) {
    int order[6];
    kd_report_lead_order(mixed, 6, q, order);
    const int *want = q == KD_RP_M || q == KD_RP_K ? mixed_mk : mixed_other;
    for (int i = 0; i < 6; ++i)
      cr_expect_eq(order[i], want[i], "%s: position %d", kd_report_param_names[q], i);
    kd_report_lead_order(none, 3, q, order);
    for (int i = 0; i < 3; ++i)
      cr_expect_eq(order[i], i, "no m column, %s: position %d", kd_report_param_names[q], i);
  }
}

/* The real registry: today's order of the tables' leading m and k (w2s, weak, then
 * strong, optimal, mask), and the rule checked pipeline by pipeline. */
Test(report_layout, lead_order_of_the_registry) {
  int order[KD_NPIPES], seen[KD_NPIPES] = {0};
  kd_report_lead_order(kd_pipelines, KD_NPIPES, KD_RP_K, order);
  for (int i = 0; i < KD_NPIPES; ++i) {
    cr_assert(order[i] >= 0 && order[i] < KD_NPIPES && !seen[order[i]], "a permutation");
    seen[order[i]] = 1;
    if (i == 0) continue;
    const int a = kd_pipelines[order[i - 1]]->m_column != 0,
              b = kd_pipelines[order[i]]->m_column != 0;
    cr_expect(a > b || (a == b && order[i - 1] < order[i]), "%s before %s",
              kd_pipeline_name((kd_pipeline)order[i - 1]), kd_pipeline_name((kd_pipeline)order[i]));
  }
  const char *want[] = {"w2s", "weak", "mix", "strong", "optimal", "mask"};
  for (int i = 0; i < KD_NPIPES && i < 6; ++i)
    cr_expect_str_eq(kd_pipeline_name((kd_pipeline)order[i]), want[i]);
}

/* A point's leading k is the weak model's, not the mask's own size; its n the first
 * pipeline's in registry order. */
Test(report_layout, lead_value_of_k_is_the_weak_models) {
  kd_report_row mask = {.pipe = KD_PIPE_MASK}, weak = {.pipe = KD_PIPE_WEAK};
  mask.param[KD_RP_K] = 100, mask.param[KD_RP_N] = 300;
  weak.param[KD_RP_K] = 5, weak.param[KD_RP_M] = 400, weak.param[KD_RP_N] = 7;
  mask.has_param[KD_RP_K] = mask.has_param[KD_RP_N] = 1;
  weak.has_param[KD_RP_K] = weak.has_param[KD_RP_M] = weak.has_param[KD_RP_N] = 1;
  kd_report_point pt = {0};
  pt.cell[KD_PIPE_MASK] = &mask, pt.cell[KD_PIPE_WEAK] = &weak;
  double v = 0;
  cr_assert(kd_report_lead_value(&pt, KD_RP_K, &v));
  cr_expect_eq(v, 5);
  cr_assert(kd_report_lead_value(&pt, KD_RP_N, &v));
  cr_expect_eq(v, 300);
  cr_expect_not(kd_report_lead_value(&pt, KD_RP_ALPHA, &v), "no pipeline has alpha");
}

/* A run whose name and meta strings hold every LaTeX special character: they come out
 * escaped, and the table compiles in a document that loads only booktabs. */
static const char *nasty_name = "we_ird%run&#1$~^{x}";

static void make_nasty_run(void) {
  copy_run("fig1-mini", nasty_name);
  const char *meta = kd_test_pathf("%s.meta.json", nasty_name); /* lives through the edits */
  edit_file(meta, "\"description\": \"cpu: OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH, 2 threads\"",
            "\"description\": \"a\\\\b {c} 100% & #1 $5 ~x^2 <y> |z| --- \\u00e9\\n\\nend\"");
  edit_file(meta, "\"version\": \"0.1.0\"", "\"version\": \"0_1%0\"");
}

Test(report, nasty_strings_are_escaped_in_both_formats) {
  make_nasty_run();
  report_ok(nasty_name);
  char *tex = kd_test_text(kd_test_pathf("%s.tex", nasty_name)),
       *md = kd_test_text(kd_test_pathf("%s.md", nasty_name));
  /* LaTeX: the name, version and backend only in % comments, one line each */
  cr_assert_not_null(strstr(tex, "\n% run: we_ird%run&#1$~^{x}\n"),
                     "%s", tex);
  cr_assert_not_null(strstr(tex, "\n% kdbench: 0_1%0\n"), "%s", tex);
  cr_assert_not_null(strstr(tex, "\n% backend: a\\b {c} 100% & #1 $5 ~x^2 <y> |z| --- \u00e9  "
                                 "end\n"),
                     "%s", tex);
  cr_assert_null(strstr(strstr(tex, "\\begin{table}"), "ird"), "the name is typeset:\n%s", tex);
  cr_assert_null(strstr(tex, "Backend:"), "%s", tex);
  cr_assert_not_null(strstr(md, "## kdbench run we\\_ird%run\\&#1\\$\\~^{x}\n"), "%s", md);
  cr_assert_not_null(
      strstr(md, "- Backend: a\\\\b {c} 100% \\& #1 \\$5 \\~x^2 \\<y\\> \\|z\\| --- é  end.\n"),
      "%s", md);
  free(tex), free(md);
}

Test(report, latex_compiles_with_booktabs_only) {
  kd_test_need_latex();
  make_nasty_run();
  report_ok(nasty_name);
  copy_run("grid-np", "grid");
  report_ok("grid");
  /* \input of a name with specials is awkward: copy the tables to plain names */
  char *tex = kd_test_text(kd_test_pathf("%s.tex", nasty_name));
  kd_test_write("nasty.tex", tex);
  free(tex);
  free(kd_test_latex((const char *[]){"nasty", "grid", NULL}));
}

/* ---- run stems ---------------------------------------------------------------------- */

Test(run_paths, stem_from_each_file_of_a_run) {
  const char *suffixes[] = {"", ".csv", ".jsonl", ".meta.json", ".md", ".tex", ".png", ".pdf"};
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; ++i) {
    char run[256], stem[256];
    snprintf(run, sizeof run, "results/sweep-n%s", suffixes[i]);
    cr_assert_eq(kd_run_stem(run, stem, sizeof stem), KD_OK, "%s: %s", run, kd_last_error());
    cr_expect_str_eq(stem, "results/sweep-n", "%s", run);
  }
  char stem[64];
  cr_assert_eq(kd_run_stem("a.b.json", stem, sizeof stem), KD_OK);
  cr_expect_str_eq(stem, "a.b.json", "only the run's own suffixes are removed");
  cr_assert_eq(kd_run_stem("x.csv.csv", stem, sizeof stem), KD_OK);
  cr_expect_str_eq(stem, "x.csv", "one suffix at most");
  cr_assert_eq(kd_run_stem("run.json", stem, sizeof stem), KD_OK);
  cr_expect_str_eq(stem, "run.json");
}

Test(run_paths, bad_runs) {
  char stem[16];
  cr_expect_eq(kd_run_stem("", stem, sizeof stem), KD_EINVAL);
  cr_expect_eq(kd_run_stem(".csv", stem, sizeof stem), KD_EINVAL);
  cr_expect_eq(kd_run_stem("dir/.meta.json", stem, sizeof stem), KD_EINVAL);
  cr_expect_eq(kd_run_stem("results/sweep-n.csv", stem, 15), KD_EINVAL, "too long");
  cr_expect_not_null(strstr(kd_last_error(), "too long"));
  cr_expect_eq(kd_run_stem("results/sweep.csv", stem, 14), KD_OK, "13 bytes and a NUL fit");
  cr_expect_str_eq(stem, "results/sweep");
}

Test(run_paths, path_of_a_run_file) {
  char out[32];
  cr_assert_eq(kd_run_path("results/sweep-n", ".jsonl", out, sizeof out), KD_OK);
  cr_assert_str_eq(out, "results/sweep-n.jsonl");
  cr_assert_eq(kd_run_path("results/sweep-n", ".meta.json", out, 26), KD_OK);
  cr_assert_eq(kd_run_path("results/sweep-n", ".meta.json", out, 25), KD_EINVAL);
  cr_assert_not_null(strstr(kd_last_error(), "too long"));
}

/* ---- layouts and the weak-to-strong grid ------------------------------------------ */

/* --layout table (one column) and table* (both columns): the same tables in another
 * float, and each fits its line (no overfull box) in a one- and a two-column article. */
Test(report, latex_layouts_fit_one_and_two_column_pages) {
  kd_test_need_latex();
  copy_run("fig1-mini", "run");
  char *log;
  cr_assert_eq(report("run", KD_REPORT_TEX, &log), KD_OK, "%s", kd_last_error());
  free(log);
  char *one = kd_test_text("run.tex");
  cr_assert_eq(report("run", KD_REPORT_TEX | KD_REPORT_WIDE, &log), KD_OK, "%s", kd_last_error());
  free(log);
  char *two = kd_test_text("run.tex");
  cr_expect_not_null(strstr(one, "\\begin{table}[htbp]"));
  cr_expect_null(strstr(one, "table*"));
  cr_expect_not_null(strstr(two, "\\begin{table*}[tbp]"));
  cr_expect_not_null(strstr(two, "\\end{table*}\n"));
  kd_test_write("one.tex", one);
  kd_test_write("two.tex", two);
  free(one), free(two);
  free(kd_test_latex_in("", "graphicx", (const char *[]){"one", NULL}));
  free(kd_test_latex_in("twocolumn", "graphicx", (const char *[]){"one", "two", NULL}));
  cr_assert_eq(report("run", KD_REPORT_MD | KD_REPORT_WIDE, &log), KD_EINVAL,
               "table* without LaTeX is refused");
  free(log);
}

/* The w2s reference run (m x k, with its fit): the grid table has a row per m and a
 * column per k, each cell w2s/strong +- the paired CI over strong's mean, bold exactly
 * where the paired CI of w2s - strong excludes 0; it compiles in both layouts. */
Test(report, weak_to_strong_grid_of_m_by_k) {
  const char *ref = "quick-ref/w2s/grid";
  copy_file(ref, "grid", ".jsonl");
  copy_file(ref, "grid", ".meta.json");
  copy_file(ref, "grid", ".fit.json");
  report_ok("grid");
  char *md = kd_test_text("grid.md"), *tex = kd_test_text("grid.tex");
  const char *grid = strstr(md, "### Weak-to-strong, m × k\n\n| m | k = 50 | k = 200 |\n");
  cr_assert_not_null(grid, "%s", md);
  kd_fit_result f = {0};
  cr_assert_eq(kd_fit_read_json(kd_test_path("grid.fit.json"), &f), KD_OK, "%s", kd_last_error());
  cr_assert_eq(f.nw2s, 4);
  int bold = 0;
  for (size_t i = 0; i < f.nw2s; ++i) {
    const kd_w2s_entry *e = &f.w2s[i];
    char ratio[32], ci[32], cell[96];
    kd_fmt_digits(e->ratio, 4, ratio, sizeof ratio);
    kd_fmt_digits(e->diff_ci / e->strong, 2, ci, sizeof ci);
    const int sig = fabs(e->diff) > e->diff_ci;
    bold += sig;
    snprintf(cell, sizeof cell, "| %s%s ± %s%s |", sig ? "**" : "", ratio, ci, sig ? "**" : "");
    /* the cell is in row m, column k (k = 50 first) */
    char row[32];
    snprintf(row, sizeof row, "\n| %zu |", e->m);
    const char *r = strstr(grid, row);
    cr_assert_not_null(r, "no row for m = %zu", e->m);
    const char *c = strstr(r + 1, cell), *eol = strchr(r + 1, '\n');
    cr_expect(c && c < eol, "m = %zu, k = %zu: %s not in its row", e->m, e->k, cell);
    if (c) cr_expect_eq(e->k == 50, c == r + strlen(row) - 1, "k = %zu in the wrong column", e->k);
  }
  cr_expect_gt(bold, 0, "the reference has a significant cell");
  cr_expect_lt(bold, 4, "and one that is not");
  cr_expect_not_null(strstr(tex, "\\label{tab:kdbench-w2s-grid-ba76c3ae3a5c3e4c}"), "%s", tex);
  cr_expect_not_null(strstr(tex, "\\mathbf{"), "%s", tex);
  kd_fit_result_free(&f);
  free(md), free(tex);
  if (kd_test_sh("command -v pdflatex >/dev/null 2>&1 && kpsewhich booktabs.sty >/dev/null 2>&1"))
    return; /* the LaTeX is compiled where pdflatex is installed (kd_test_need_latex) */
  free(kd_test_latex_in("twocolumn", "graphicx", (const char *[]){"grid", NULL}));
  char *log;
  cr_assert_eq(report("grid", KD_REPORT_TEX | KD_REPORT_WIDE, &log), KD_OK);
  free(log);
  free(kd_test_latex_in("twocolumn", "graphicx", (const char *[]){"grid", NULL}));
}
