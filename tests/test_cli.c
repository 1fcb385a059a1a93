/* Bad input: one line on standard error naming the culprit, exit status 2, and no
 * output file (finished or partial) left behind. Runs the real kdbench binary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

TestSuite(bad_input, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* kdbench `args` ('@' the test folder) is refused naming `culprit`; its CSV goes to the
 * folder's run/ (a folder a failed run must not create) unless args give their own
 * --csv. */
static void expect_error(const char *args, const char *culprit) {
  int code = kd_test_run("%s--quiet %s", strstr(args, "--csv") ? "" : "--csv run/out.csv ", args);
  kd_test_expect_refused(code, culprit);
  cr_expect(!kd_test_exists("run"), "'%s' left the folder run/ behind", args);
}

Test(bad_input, n_zero) { expect_error("--sweep n --n 0", "--n"); }
Test(bad_input, n_list_empty_entry) { expect_error("--sweep n --n 100,,200", "--n"); }
Test(bad_input, p_zero) { expect_error("--sweep n --p 0", "--p"); }
Test(bad_input, alpha_zero) { expect_error("--sweep n --alpha 0", "--alpha"); }
Test(bad_input, alpha_negative) { expect_error("--sweep n --alpha -1.5", "--alpha"); }
Test(bad_input, sigma_negative) { expect_error("--sweep n --sigma -0.1", "--sigma"); }
Test(bad_input, teacher_sigma_negative) {
  expect_error("--sweep n --teacher-sigma -1", "--teacher-sigma");
}
Test(bad_input, ridge_negative) { expect_error("--sweep n --ridge -1e-3", "--ridge"); }
Test(bad_input, real_fraction_outside_0_1) {
  expect_error("--sweep n --pipelines mix --real-fraction 1.5", "--real-fraction");
  expect_error("--sweep n --pipelines mix --real-fraction -0.25", "--real-fraction");
  expect_error("--sweep real-fraction --pipelines mix --real-fraction 0,0.5,1.01",
               "--real-fraction");
  expect_error("--sweep real-fraction --pipelines mix --real-fraction -1:1:lin3",
               "--real-fraction");
}
Test(bad_input, weak_ridge_negative_or_auto_without_k) {
  expect_error("--sweep n --pipelines mix --weak-ridge -1", "--weak-ridge");
  expect_error("--sweep n --pipelines mix --weak-ridge auto", "--weak-ridge auto");
}
Test(bad_input, unknown_flag) { expect_error("--sweep n --bogus 3", "--bogus"); }
Test(bad_input, unknown_pipeline) {
  expect_error("--sweep n --pipelines strong,teacher", "teacher");
}
Test(bad_input, malformed_integer) { expect_error("--sweep n --p 12x", "12x"); }
Test(bad_input, malformed_number) { expect_error("--sweep n --sigma abc", "abc"); }
Test(bad_input, fractional_trials) { expect_error("--sweep n --trials 2.5", "--trials"); }
Test(bad_input, unknown_backend) { expect_error("--sweep n --backend tpu", "tpu"); }
Test(bad_input, unknown_axis) { expect_error("--sweep q", "q"); }
Test(bad_input, missing_sweep) { expect_error("--n 100", "--sweep"); }
/* the recursive pipeline's settings */
Test(bad_input, zero_generations) {
  expect_error("--sweep n --pipelines recursive --generations 0", "--generations");
}
Test(bad_input, unknown_schedule) {
  expect_error("--sweep n --pipelines recursive --schedule fixed,cubic", "cubic");
}
Test(bad_input, geometric_ratio_zero) {
  expect_error("--sweep n --pipelines recursive --schedule geometric:0", "geometric:0");
}
Test(bad_input, schedule_overflows) {
  expect_error("--sweep n --n 100 --pipelines recursive --schedule geometric:1e9 --generations 3",
               "geometric:1000000000: generation 2");
}
Test(bad_input, negative_gen_ridge) {
  expect_error("--sweep n --pipelines recursive --gen-ridge -1", "--gen-ridge");
}
Test(bad_input, unknown_ridge_decay) {
  expect_error("--sweep n --pipelines recursive --gen-ridge-decay -2", "--gen-ridge-decay");
}
Test(bad_input, accumulate_beyond_its_blocks) {
  expect_error("--sweep n --pipelines recursive --schedule accumulate --generations 9",
               "accumulate");
}
Test(bad_input, k_above_p) { expect_error("--sweep n --n 100 --p 50 --k 60", "k = 60"); }

Test(bad_input, spectrum_file_nonpositive) {
  kd_test_write("spec.txt", "1\n0.5\n-2\n0.1\n");
  expect_error("--sweep n --n 10 --spectrum file:@/spec.txt", "spec.txt:3");
}

Test(bad_input, spectrum_file_zero) {
  kd_test_write("spec.txt", "1\n0\n");
  expect_error("--sweep n --n 10 --spectrum file:@/spec.txt", "spec.txt:2");
}

Test(bad_input, spectrum_file_nonnumeric) {
  kd_test_write("spec.txt", "# eigenvalues\n1\nabc\n");
  expect_error("--sweep n --n 10 --spectrum file:@/spec.txt", "spec.txt:3: expected a number, got 'abc'");
}

Test(bad_input, spectrum_file_increasing) {
  kd_test_write("spec.txt", "1\n0.5\n0.7\n");
  expect_error("--sweep n --n 10 --spectrum file:@/spec.txt", "non-increasing");
}

Test(bad_input, spectrum_file_missing) {
  expect_error("--sweep n --n 10 --spectrum file:@/nope.txt", "nope.txt");
}

Test(bad_input, beta_file_wrong_length) {
  kd_test_write("beta.txt", "1\n2\n");
  expect_error("--sweep n --n 10 --p 5 --beta file:@/beta.txt", "beta.txt");
}

/* Huge values were taken and failed inside a stage (an overflow to inf, an eigenvalue
 * underflowing to 0), after the run's folder was made, or ran with empty cells; each is
 * refused where it is read, naming its flag (the range: include/kdbench/problem.h). */
Test(bad_input, huge_ridge) { expect_error("--sweep n --p 20 --n 10,40 --trials 2 --ridge 1e308", "--ridge"); }
Test(bad_input, huge_ridge_in_a_list) {
  expect_error("--sweep ridge --p 20 --n 10 --trials 2 --ridge 1,1e101", "--ridge");
}
Test(bad_input, huge_alpha) { expect_error("--sweep n --p 20 --n 10,40 --trials 2 --alpha 1e20", "--alpha"); }
Test(bad_input, alpha_too_large_for_p) {
  expect_error("--sweep n --p 20 --n 10,40 --trials 2 --alpha 100", "alpha = 100 with p = 20");
  expect_error("--sweep alpha --p 20 --n 10 --trials 2 --alpha 2,80", "alpha = 80 with p = 20");
}
Test(bad_input, huge_alpha_in_a_scenario) {
  kd_test_write("s.ini", "[problem]\np = 20\nalpha = 1e20\n[sweep]\nsweep = n\nn = 10,40\n");
  expect_error("--scenario @/s.ini --trials 2", "s.ini:3: --alpha");
}
Test(bad_input, huge_sigma) { expect_error("--sweep n --p 20 --n 10,40 --trials 2 --sigma 1e308", "--sigma"); }
Test(bad_input, huge_teacher_sigma) {
  expect_error("--sweep n --p 20 --n 10,40 --trials 2 --teacher-sigma 1e308", "--teacher-sigma");
}
Test(bad_input, huge_isotropic_level) {
  expect_error("--sweep n --p 20 --n 10,40 --trials 2 --spectrum isotropic:1e308", "--spectrum");
}
Test(bad_input, tiny_two_level_level) {
  expect_error("--sweep n --p 20 --n 10,40 --trials 2 --spectrum twolevel:3,1,1e-101", "--spectrum");
}
Test(bad_input, huge_spectrum_file_value) {
  kd_test_write("spec.txt", "1e200\n1\n");
  expect_error("--sweep n --n 10 --spectrum file:@/spec.txt", "spec.txt:1");
}
Test(bad_input, huge_beta_file_value) {
  kd_test_write("beta.txt", "1\n# the third feature\n1\n1e308\n");
  expect_error("--sweep n --n 10,40 --p 3 --trials 2 --beta file:@/beta.txt", "beta.txt:4");
}
Test(bad_input, huge_value_in_a_scenario) {
  kd_test_write("s.ini", "[sweep]\nsweep = n\nn = 10,40\n[student]\nridge = 1e308\n");
  expect_error("--scenario @/s.ini --p 20 --trials 2", "s.ini:5: --ridge");
}

/* One number grammar (include/kdbench/number.h): hexadecimal was taken, a range of
 * 10^9 values was "an unknown spacing", a line of 1.2 MB took seconds to its error. */
Test(bad_input, hexadecimal_refused_saying_what_was_expected) {
  expect_error("--sweep n --p 0x10", "--p: expected a positive integer, got '0x10'");
  expect_error("--sweep n --ridge 0x1p-3", "got '0x1p-3'");
}
Test(bad_input, a_range_of_too_many_values) {
  expect_error("--sweep n --n 10:100:log1000000000", "asks for 1000000000 values, at most 10000");
}
Test(bad_input, a_huge_line_is_refused_at_once) {
  char *text = malloc(1300000);
  cr_assert_not_null(text);
  size_t len = (size_t)sprintf(text, "[sweep]\nsweep = n\nn = 1");
  while (len < 1200000) len += (size_t)sprintf(text + len, ",%zu", len);
  strcpy(text + len, "\n");
  kd_test_write("big.ini", text);
  free(text);
  expect_error("--scenario @/big.ini", "big.ini:3: line longer than 4096 bytes");
}

/* "--csv ." spoke of "..jsonl": a folder is not a run's name. */
Test(bad_input, a_folder_as_the_csv) {
  expect_error("--sweep n --n 10 --trials 2 --csv .", ".: is a directory, not a CSV file");
}

Test(bad_input, memory_exceeds_machine) {
  expect_error("--sweep n --p 2000000 --n 1000000", "GiB");
}

Test(bad_input, unwritable_output) {
  expect_error("--sweep n --n 30 --trials 2 --csv /proc/kdbench/x.csv", "/proc/kdbench/x.csv");
}

TestSuite(good_input, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

Test(good_input, help_and_version) {
  cr_expect_eq(kd_test_sh("$K --help | grep -q -- '--teacher-sigma'"), 0,
               "--help lists --teacher-sigma");
  cr_expect_eq(kd_test_sh("$K --version | grep -q '^kdbench '"), 0,
               "--version prints the version");
}

/* ---- good input: what a user sees --------------------------------------------------------- */

TestSuite(usage, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 120);

/* Values at the limits run and fill every cell (the limits are not too tight). */
Test(usage, values_at_the_limits_run) {
  const char *cases[] = {"--ridge 1e100", "--sigma 1e50", "--teacher-sigma 1e50",
                         "--spectrum isotropic:1e100", "--spectrum twolevel:5,1e100,1e-100",
                         "--alpha 76.8"};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    int code = kd_test_run("--csv run/out.csv --quiet --sweep n --p 20 --n 10,40 --m 30 --trials 3 "
                           "--force %s", cases[i]);
    cr_expect_eq(code, 0, "'%s': exit status %d: %s", cases[i], code, kd_test_err);
    /* sim_mean (column 11) is a number on every row */
    cr_expect_eq(kd_test_sh("awk -F, 'NR > 1 && $11 !~ /^[-+0-9.e]+$/ {bad = 1} END {exit bad}' "
                            "run/out.csv"),
                 0, "'%s': a sim_mean cell is empty or not a number", cases[i]);
  }
}

/* A subnormal was "not a number"; a leading blank was taken and a trailing one refused;
 * an indented line of a scenario was read as more of the key before it. */
Test(usage, numbers_and_lines_as_the_grammar_says) {
  kd_test_run_ok("--print-scenario --sweep n --ridge 1e-320 --p ' 20' --m '300 '");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect(strstr(out, "\nridge = 1e-320\n") && strstr(out, "\nm = 300") && strstr(out, "\np = "),
            "%s", out);
  free(out);
  kd_test_write("indented.ini", "[problem]\nsigma = 0.25\n  p = 20\n");
  kd_test_run_ok("--print-scenario --scenario indented.ini");
  out = kd_test_read("stdout.txt", NULL);
  cr_expect(strstr(out, "\np = 20\n") && strstr(out, "\nsigma = 0.25\n"), "%s", out);
  free(out);
}

Test(usage, every_command_prints_its_help_on_standard_output_and_exits_0) {
  const struct {
    const char *args, *needles[8];
  } cases[] = {
      {"--help",
       {"--csv FILE", "--preset NAME", "--quiet", "no --fit tables", "NAME.csv is a prefix",
        "near-peak", "|m - k|"}},
      {"fit --help",
       {"--x AXIS", "--window LO:HI", "--bootstrap B", "--seed S", "--no-floor", "--out FILE",
        "--quiet"}},
      {"report --help", {"NAME.md", "NAME.tex", "booktabs", "NAME.fit.json"}},
      {"merge --help", {"--partial", "--force", "--quiet", "--out RUN"}},
      {"missing --help", {"--array", "RUN.shards"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    int code = kd_test_run("%s", cases[i].args);
    char *out = kd_test_read("stdout.txt", NULL);
    cr_assert_not_null(out);
    cr_expect_eq(code, 0, "kdbench %s: exit status %d (stderr: %s)", cases[i].args, code,
                 kd_test_err);
    cr_expect_str_empty(kd_test_err, "kdbench %s wrote to standard error: %s", cases[i].args,
                        kd_test_err);
    cr_expect(!strncmp(out, "usage: kdbench", 14), "kdbench %s: %s", cases[i].args, out);
    for (size_t j = 0; j < 8 && cases[i].needles[j]; ++j)
      cr_expect_not_null(strstr(out, cases[i].needles[j]), "kdbench %s does not explain %s:\n%s",
                         cases[i].args, cases[i].needles[j], out);
    free(out);
  }
}

/* The four runs of --preset scaling: their names in the preset. */
static const char *const scaling_runs[] = {"alpha2-b1.5", "alpha1.5-b2", "alpha2-b2", "alpha3-b2"};

Test(usage, csv_names_a_prefix_or_a_folder_for_a_preset_of_several_runs) {
  kd_test_run_ok("--preset scaling --quick --quiet"); /* the preset's own names */
  kd_test_run_ok("--preset scaling --quick --quiet --csv mine.csv");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_str_empty(out, "--quiet printed:\n%s", out); /* the preset fits each run */
  free(out);
  kd_test_run_ok("--preset scaling --quick --quiet --csv into/");
  for (size_t i = 0; i < 4; ++i) {
    char own[256], prefixed[256], folder[256];
    snprintf(own, sizeof own, "results/quick/scaling/%s.csv", scaling_runs[i]);
    snprintf(prefixed, sizeof prefixed, "mine-%s.csv", scaling_runs[i]);
    snprintf(folder, sizeof folder, "into/%s.csv", scaling_runs[i]);
    char *a = kd_test_read(own, NULL), *b = kd_test_read(prefixed, NULL),
         *c = kd_test_read(folder, NULL);
    cr_assert(a && b && c, "run %zu: %s %s, %s %s, %s %s", i + 1, own, a ? "written" : "missing",
              prefixed, b ? "written" : "missing", folder, c ? "written" : "missing");
    cr_expect_str_eq(b, a, "%s differs from %s", prefixed, own);
    cr_expect_str_eq(c, a, "%s differs from %s", folder, own);
    free(a), free(b), free(c);
    snprintf(prefixed, sizeof prefixed, "mine-%s.fit.json", scaling_runs[i]);
    cr_expect(kd_test_exists(prefixed), "%s: the preset's fit is missing", prefixed);
  }
  cr_expect(!kd_test_exists("mine.csv"), "the prefix itself is no run");
  /* one run: --csv names it, a folder takes the preset's name */
  kd_test_run_ok("--preset fig1 --quick --quiet --csv one.csv");
  kd_test_run_ok("--preset fig1 --quick --quiet --csv fig/");
  cr_expect(kd_test_exists("one.csv") && kd_test_exists("fig/sweep-n.csv"));
  kd_test_run_ok("--preset scaling --quick --csv p.csv --print-scenario");
  char *out2 = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out2, "# part 4 of 4\n"), "%s", out2);
  cr_expect_not_null(strstr(out2, "csv = p-alpha3-b2.csv\n"), "%s", out2);
  free(out2);
}

Test(usage, quiet_silences_the_fit_tables_too) {
  kd_test_run_ok("--sweep n --n 20,30,40,60,80 --p 400 --trials 4 --pipelines strong "
                 "--raw --fit --quiet --csv q.csv");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_str_empty(out, "--quiet --fit printed:\n%s", out);
  cr_expect(kd_test_exists("q.fit.json"), "--fit wrote no q.fit.json");
  free(out);
  kd_test_run_ok("fit q --quiet");
  out = kd_test_read("stdout.txt", NULL);
  cr_expect_str_empty(out, "fit --quiet printed:\n%s", out);
  free(out);
  kd_test_run_ok("fit q");
  out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, "# kdbench fit of run q"), "%s", out);
  free(out);
}

Test(usage, fit_out_writes_elsewhere_and_leaves_the_runs_fit_alone) {
  kd_test_run_ok("--sweep n --n 20,30,40,60,80 --p 400 --trials 4 --pipelines strong --raw "
                 "--quiet --csv r.csv");
  kd_test_run_ok("fit r --quiet");
  char *whole = kd_test_read("r.fit.json", NULL);
  cr_assert_not_null(whole);
  kd_test_run_ok("fit r --window 25:60 --out fits/w.json");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, "wrote fits/w.json\n"), "%s", out);
  free(out);
  char *again = kd_test_read("r.fit.json", NULL), *window = kd_test_read("fits/w.json", NULL);
  cr_assert_not_null(window, "--out fits/w.json was not written");
  cr_expect_str_eq(again, whole, "--out changed r.fit.json");
  cr_expect_not_null(strstr(window, "25 <= n <= 60 (--window)"), "%s", window);
  cr_expect_null(strstr(whole, "(--window)"));
  free(again), free(window);
  /* --out is a .json name: never one of the run's own files */
  const char *bad[] = {"r.csv", "r.jsonl", "r.meta.json", "fits/"};
  char *csv = kd_test_read("r.csv", NULL);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    kd_test_expect_refused(kd_test_run("fit r --out %s", bad[i]), "--out");
    char *o = kd_test_read("stdout.txt", NULL);
    cr_assert_not_null(o);
    cr_expect_str_empty(o, "fit r --out %s printed %s", bad[i], o);
    free(o);
  }
  char *csv2 = kd_test_read("r.csv", NULL), *fit2 = kd_test_read("r.fit.json", NULL);
  cr_expect_str_eq(csv2, csv, "a refused --out changed r.csv");
  cr_expect_str_eq(fit2, whole, "a refused --out changed r.fit.json");
  free(csv), free(csv2), free(fit2), free(whole);
}

/* The column names of the sweep's table (the line after the '#' lines). */
static void table_columns(const char *out, char *cols, size_t len) {
  const char *line = out;
  while (*line == '#') line = strchr(line, '\n') + 1;
  size_t n = strcspn(line, "\n");
  cr_assert_lt(n, len);
  memcpy(cols, line, n);
  cols[n] = '\0';
}

Test(usage, the_table_names_each_swept_axis_once) {
  kd_test_run_ok("--sweep m,k --m 100,200 --k 10,20 --n 50 --p 100 --trials 2 "
                 "--pipelines strong,mask,w2s --csv t.csv");
  char *out = kd_test_read("stdout.txt", NULL);
  char cols[512];
  table_columns(out, cols, sizeof cols);
  const char *want[] = {"m", "n", "pipeline", "k", "sim_mean", "+-CI95", "theory", "ratio", "kind",
                        "flag"};
  char *save, *tok = strtok_r(cols, " ", &save);
  for (size_t i = 0; i < sizeof want / sizeof *want; ++i, tok = strtok_r(NULL, " ", &save))
    cr_expect(tok && !strcmp(tok, want[i]), "column %zu: '%s', want '%s'", i + 1, tok ? tok : "",
              want[i]);
  cr_expect_null(tok, "an extra column '%s'", tok ? tok : "");
  /* the w2s row of m = 200, k = 20 shows both */
  cr_expect_not_null(strstr(out, "\n     200      50  w2s         20  "), "%s", out);
  free(out);
}

Test(usage, one_trial_is_one_trial_in_the_table_and_the_reports) {
  kd_test_run_ok("--sweep n --n 30 --p 20 --trials 1 --pipelines strong --csv one.csv");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, " 1 trial, seed 1\n"), "%s", out);
  free(out);
  kd_test_run_ok("report one");
  char *md = kd_test_read("one.md", NULL), *tex = kd_test_read("one.tex", NULL);
  cr_assert(md && tex);
  cr_expect_not_null(strstr(md, ", 1 trial, backend "), "%s", md);
  cr_expect_not_null(strstr(md, "; 1 of 1 point."), "%s", md);
  cr_expect_not_null(strstr(tex, "; 1~trial, 1 of 1 point."), "%s", tex);
  free(md), free(tex);
  kd_test_run_ok("--sweep n --n 30,40 --p 20 --trials 2 --pipelines strong --csv two.csv");
  kd_test_run_ok("report two --layout table*");
  md = kd_test_read("two.md", NULL);
  cr_expect_not_null(strstr(md, ", 2 trials, backend "), "%s", md);
  cr_expect_not_null(strstr(md, "; 2 of 2 points."), "%s", md);
  free(md);
  tex = kd_test_read("two.tex", NULL);
  cr_expect_not_null(strstr(tex, "\\begin{table*}[tbp]"), "--layout table*:\n%s", tex);
  free(tex);
  kd_test_expect_refused(kd_test_run("report two --layout wide"), "--layout 'wide': expected table");
}

/* The flag of each row of a run's CSV, as "pipeline k=K n=N: FLAG" lines. */
static char *flags_of(const char *csv) {
  char *text = kd_test_read(csv, NULL), *flags = NULL;
  size_t len = 0;
  cr_assert_not_null(text, "%s missing", csv);
  FILE *f = open_memstream(&flags, &len);
  char *save, *line = strtok_r(text, "\n", &save); /* the header */
  int flag_at = 0; /* the flag's field: the header's "flag" */
  for (const char *h = line; strncmp(h, "flag,", 5) && strcmp(h, "flag"); ++flag_at)
    h = strchr(h, ',') + 1;
  while ((line = strtok_r(NULL, "\n", &save))) {
    /* pipeline,n,p,m,k,...: the flag is field flag_at */
    char pipe[16];
    size_t n, p, m = 0, k = 0;
    cr_assert(sscanf(line, "%15[^,],%zu,%zu,", pipe, &n, &p) == 3, "%s", line);
    const char *mk = strchr(strchr(strchr(line, ',') + 1, ',') + 1, ',') + 1;
    sscanf(mk, "%zu,%zu", &m, &k);
    const char *flag = line;
    for (int i = 0; i < flag_at; ++i) flag = strchr(flag, ',') + 1;
    fprintf(f, "%s k=%zu n=%zu: %.*s\n", pipe, k, n, (int)strcspn(flag, ","), flag);
  }
  fclose(f);
  free(text);
  return flags;
}

Test(usage, near_peak_flags_the_students_and_the_weak_teachers_peak) {
  /* the weak teacher (m = 100) near its peak: exact moments below it (k < m - 1), peak
   * at |m - k| <= 1, the DE above, near-peak while k - m < k/10 */
  kd_test_run_ok("--sweep k --k 20,95,99,100,101,105,111,112,115 --m 100 --n 50 --p 200 "
                 "--pipelines strong,w2s,weak --trials 3 --quiet --csv weak.csv");
  char *got = flags_of("weak.csv");
  const char *want_k[] = {"20", "95", "99", "100", "101", "105", "111", "112", "115"};
  const char *want_flag[] = {"", "", "peak", "peak", "peak", "near-peak", "near-peak", "", ""};
  for (size_t i = 0; i < 9; ++i) {
    char line[128];
    snprintf(line, sizeof line, "strong k=0 n=50: \n");
    cr_expect_not_null(strstr(got, line), "the student is far from its peak:\n%s", got);
    for (int w = 0; w < 2; ++w) {
      snprintf(line, sizeof line, "%s k=%s n=50: %s\n", w ? "weak" : "w2s", want_k[i], want_flag[i]);
      cr_expect_not_null(strstr(got, line), "want '%s' in:\n%s", line, got);
    }
  }
  free(got);
  /* the student near its peak (p = 200): a DE below it, exact above n = p + 1; no flag
   * with a ridge */
  kd_test_run_ok("--sweep n --n 175,185,199,200,201,215 --p 200 --pipelines strong,optimal "
                 "--trials 3 --quiet --csv student.csv");
  kd_test_run_ok("--sweep n --n 185,215 --p 200 --ridge 0.01 --pipelines strong --trials 3 "
                 "--quiet --csv ridge.csv");
  got = flags_of("student.csv");
  const char *want[] = {"strong k=0 n=175: \n", "strong k=0 n=185: near-peak\n",
                        "strong k=0 n=199: peak\n", "strong k=0 n=200: peak\n",
                        "strong k=0 n=201: peak\n", "strong k=0 n=215: \n",
                        "optimal k=0 n=185: near-peak\n", "optimal k=0 n=215: \n"};
  for (size_t i = 0; i < sizeof want / sizeof *want; ++i)
    cr_expect_not_null(strstr(got, want[i]), "want '%s' in:\n%s", want[i], got);
  free(got);
  got = flags_of("ridge.csv");
  cr_expect_str_eq(got, "strong k=0 n=185: \nstrong k=0 n=215: \n");
  free(got);
}
