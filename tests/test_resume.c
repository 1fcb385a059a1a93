/* The files of a run and resuming it, with the real kdbench binary in a temporary
 * folder: a re-run computes nothing; a torn or cut .jsonl is repaired and the final
 * CSV is byte-identical to an uninterrupted run's; corrupt records, another
 * scenario's output (an edited beta* file, another numerics version: said so), a
 * flag given twice and a CSV without its records are refused (files untouched)
 * unless --force; SIGINT / SIGTERM / SIGKILL lose at most the point in flight;
 * --raw; standard error stays quiet when it is not a terminal; --print-scenario
 * round trip; presets; bad input leaves no file behind; axes swept without values
 * run their default grids; --extend: more values on a swept axis and more trials give
 * the run made whole at once, from the points and trials kept. The repairs, refusals and
 * extensions hold for a pipeline of several rows a point (recursive) as well. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kd_test.h"
#include "kdbench/scenario_id.h"

TestSuite(resume, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(refuse, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(signals, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 300);
TestSuite(outputs, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(default_grids, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(extend, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* A small sweep: 4 points x 4 pipelines, well under a second (each flag once: a flag
 * given twice is refused). */
#define SMALL_GRID "--sweep n --n 20:80:log4 --p 40"
#define SMALL SMALL_GRID " --trials 5"
/* One that takes a second or more: 12 points, the later ones the larger. */
#define LONGER "--sweep n --n 20:400:log12 --trials 50 --p 100"

/* ---- helpers (tests/support/kd_test.h has the shared ones) ----------------------------- */

/* Every row of a .jsonl is whole and an object, of scenario `hash` when it is not NULL;
 * returns the number of rows. */
static size_t check_jsonl(const char *name, const char *hash) {
  cJSON *rows = kd_test_rows(name), *o;
  size_t line = 0;
  cJSON_ArrayForEach(o, rows) {
    ++line;
    if (hash) {
      const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "scenario_hash");
      cr_expect(cJSON_IsString(h) && !strcmp(h->valuestring, hash), "%s:%zu: other hash", name, line);
    }
  }
  cJSON_Delete(rows);
  return line;
}

/* Every file of the folder, names and bytes (less our own stdout/stderr captures). */
static char *snapshot(void) {
  struct dirent **list = NULL;
  int n = scandir(kd_test_dir, &list, NULL, alphasort);
  cr_assert_geq(n, 0);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  for (int i = 0; i < n; ++i) {
    const char *name = list[i]->d_name;
    if (strcmp(name, ".") && strcmp(name, "..") && strcmp(name, "stdout.txt") &&
        strcmp(name, "stderr.txt")) {
      char *bytes = kd_test_read(name, NULL);
      fprintf(out, "== %s\n%s", name, bytes ? bytes : "(a folder)\n");
      free(bytes);
    }
    free(list[i]);
  }
  free(list);
  fclose(out);
  return text;
}

/* The names in the folder, less our captures, comma-separated. */
static char *names(void) {
  char *snap = snapshot(), *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  for (char *s = strstr(snap, "== "); s; s = strstr(s + 1, "\n== ")) {
    if (*s == '\n') ++s;
    char *nl = strchr(s, '\n');
    fprintf(out, "%.*s,", (int)(nl - s - 3), s + 3);
  }
  fclose(out);
  free(snap);
  return text;
}

/* kdbench ARGS (printf-style) is refused naming `culprit`, and the folder is as it was
 * (the files and their bytes). */
static void expect_refused_untouched(const char *culprit, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void expect_refused_untouched(const char *culprit, const char *fmt, ...) {
  char *args = NULL;
  va_list ap;
  va_start(ap, fmt);
  cr_assert_geq(vasprintf(&args, fmt, ap), 0);
  va_end(ap);
  char *before = snapshot();
  kd_test_expect_refused(kd_test_run("%s", args), culprit);
  char *after = snapshot();
  cr_expect_str_eq(after, before, "kdbench %s: a refused command changed the folder", args);
  free(before);
  free(after);
  free(args);
}

/* Cuts a file to `len` bytes. */
static void cut(const char *name, size_t len) { cr_assert_eq(truncate(kd_test_path(name), (off_t)len), 0); }

/* The offset of the start of line `line` (0-based) of a file. */
static size_t line_start(const char *name, size_t line) {
  char *text = kd_test_read(name, NULL);
  cr_assert_not_null(text);
  size_t off = 0;
  for (size_t l = 0; l < line; ++l) {
    char *nl = strchr(text + off, '\n');
    cr_assert_not_null(nl, "%s has fewer than %zu lines", name, line + 1);
    off = (size_t)(nl - text) + 1;
  }
  free(text);
  return off;
}

/* ---- resume ------------------------------------------------------------------------------- */

Test(resume, same_command_again_computes_nothing) {
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect_str_eq(kd_test_err, "", "stderr of a first run: %s", kd_test_err);
  char *csv = kd_test_read("r.csv", NULL), *jsonl = kd_test_read("r.jsonl", NULL);
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_total"), 4);
  cr_expect_eq(kd_test_num(meta, "points_done"), 4);
  cr_expect_eq(kd_test_num(meta, "points_resumed"), 0);
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
  char hash[17];
  snprintf(hash, sizeof hash, "%s", kd_test_str(meta, "scenario_hash"));
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", hash), 16);
  cr_expect(!kd_test_exists("r.lock"), "the lock outlives the run");

  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect_str_eq(kd_test_err, "", "stderr of a re-run: %s", kd_test_err);
  meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_total"), 4);
  cr_expect_eq(kd_test_num(meta, "points_done"), 4);
  cr_expect_eq(kd_test_num(meta, "points_resumed"), 4, "the re-run computed points");
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
  cr_expect_str_eq(kd_test_str(meta, "scenario_hash"), hash);
  cJSON_Delete(meta);
  char *csv2 = kd_test_read("r.csv", NULL), *jsonl2 = kd_test_read("r.jsonl", NULL);
  cr_expect_str_eq(csv2, csv, "the CSV changed");
  cr_expect_str_eq(jsonl2, jsonl, "the JSON Lines changed");
  free(csv);
  free(csv2);
  free(jsonl);
  free(jsonl2);

  /* With the table: it says the points were already there. */
  kd_test_run_ok(SMALL " --csv @/r.csv");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect(strstr(out, "4 of 4 points were already in") != NULL, "table: %s", out);
  free(out);
}

/* Writes the metadata's backend as another machine's (name, description, BLAS). */
static void backend_elsewhere(const char *meta_file) {
  cJSON *m = kd_test_json(meta_file);
  cJSON *be = cJSON_GetObjectItemCaseSensitive(m, "backend");
  cJSON_ReplaceItemInObjectCaseSensitive(be, "name", cJSON_CreateString("cuda"));
  cJSON_ReplaceItemInObjectCaseSensitive(be, "description", cJSON_CreateString("FAKE device"));
  cJSON_ReplaceItemInObjectCaseSensitive(be, "blas", cJSON_CreateString("FAKE BLAS"));
  kd_test_write_json(meta_file, m);
  cJSON_Delete(m);
}

/* A resume keeps who computed the points it did not: the earlier metadata's command,
 * times, backend and count in resumed_from, the backend at the top this process's; a
 * re-run that computes nothing adds no entry; the report names the other backends' (the
 * tables name their own already); --force forgets it;
 * kept rows without readable metadata are said to come from an unknown backend. */
Test(resume, points_computed_elsewhere_keep_their_backend) {
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  char *first = kd_test_read("r.csv", NULL);
  cJSON *m = kd_test_json("r.meta.json");
  char *command = strdup(kd_test_str(m, "command")), *started = strdup(kd_test_str(m, "started"));
  char *here = strdup(kd_test_str(m, "backend.description"));
  cJSON_Delete(m);
  backend_elsewhere("r.meta.json");
  for (int k = 0; k < 4; ++k) kd_test_set_line("r.jsonl", 13, NULL); /* the last point's 4 rows */
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  char *again = kd_test_read("r.csv", NULL);
  cr_expect_str_eq(again, first, "the resumed run's CSV differs");
  free(again);
  free(first);
  m = kd_test_json("r.meta.json");
  cr_expect_str_eq(kd_test_str(m, "backend.description"), here, "the top backend is not this one's");
  cr_expect_eq(kd_test_num(m, "points_resumed"), 3);
  const cJSON *list = kd_test_item(m, "resumed_from");
  cr_assert(cJSON_IsArray(list) && cJSON_GetArraySize(list) == 1, "resumed_from: %s",
            list ? cJSON_PrintUnformatted(list) : "absent");
  const cJSON *e = cJSON_GetArrayItem(list, 0);
  cr_expect_str_eq(kd_test_str(e, "backend.blas"), "FAKE BLAS");
  cr_expect_str_eq(kd_test_str(e, "backend.name"), "cuda");
  cr_expect_str_eq(kd_test_str(e, "command"), command);
  cr_expect_str_eq(kd_test_str(e, "started"), started);
  cr_expect_eq(kd_test_num(e, "points_computed"), 4, "as its metadata said");
  cJSON_Delete(m);
  /* again: the second process computed 1 point, this one none */
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  m = kd_test_json("r.meta.json");
  list = kd_test_item(m, "resumed_from");
  cr_assert(cJSON_IsArray(list) && cJSON_GetArraySize(list) == 2);
  cr_expect_str_eq(kd_test_str(cJSON_GetArrayItem(list, 0), "backend.blas"), "FAKE BLAS");
  e = cJSON_GetArrayItem(list, 1);
  cr_expect_str_eq(kd_test_str(e, "backend.description"), here);
  cr_expect_eq(kd_test_num(e, "points_computed"), 1);
  cJSON_Delete(m);
  cr_assert_eq(kd_test_run("report r"), 0, "%s", kd_test_err);
  char *md = kd_test_read("r.md", NULL), *tex = kd_test_read("r.tex", NULL);
  /* the point computed here is of the backend the tables name already */
  cr_expect(strstr(md, "- Computed earlier and resumed: 4 points by FAKE device.\n") != NULL, "%s", md);
  cr_expect(strstr(tex, "\n% computed earlier and resumed: 4 points by FAKE device\n") != NULL, "%s", tex);
  free(md);
  free(tex);
  /* --force: a fresh run, nothing resumed */
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet --force");
  m = kd_test_json("r.meta.json");
  cr_expect_null(kd_test_item(m, "resumed_from"));
  cJSON_Delete(m);
  /* rows kept, their metadata gone: an unknown backend */
  unlink(kd_test_path("r.meta.json"));
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  m = kd_test_json("r.meta.json");
  list = kd_test_item(m, "resumed_from");
  cr_assert(cJSON_IsArray(list) && cJSON_GetArraySize(list) == 1);
  cr_expect(cJSON_IsNull(kd_test_item(cJSON_GetArrayItem(list, 0), "backend")));
  cJSON_Delete(m);
  cr_assert_eq(kd_test_run("report r"), 0, "%s", kd_test_err);
  md = kd_test_read("r.md", NULL);
  cr_expect(strstr(md, "resumed: points by an unknown backend (its metadata was unreadable)") != NULL, "%s", md);
  free(md);
  free(command);
  free(started);
  free(here);
}

Test(resume, csv_and_jsonl_agree_row_by_row) {
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet --pipelines strong,w2s,weak");
  char *csv = kd_test_read("r.csv", NULL);
  cJSON *rows = kd_test_rows("r.jsonl");
  cr_assert_eq(cJSON_GetArraySize(rows), 12, "the JSON Lines hold %d rows, want 12",
               cJSON_GetArraySize(rows));
  /* CSV: header + 4 points x 3 pipelines, grouped by point, pipelines in order. */
  const char *order[] = {"strong,", "w2s,", "weak,"};
  char *line = strchr(csv, '\n') + 1;
  for (int r = 0; r < 12; ++r) {
    cr_assert(strncmp(line, order[r % 3], strlen(order[r % 3])) == 0, "CSV row %d: %.40s", r, line);
    const cJSON *o = cJSON_GetArrayItem(rows, r);
    cr_expect_eq(kd_test_num(o, "point"), r / 3);
    cr_expect_eq(kd_test_num(o, "schema"), 2);
    char want[64];
    snprintf(want, sizeof want, "%s,%d,40,", kd_test_str(o, "pipeline"), (int)kd_test_num(o, "n"));
    cr_expect(strncmp(line, want, strlen(want)) == 0, "CSV row %d: %.40s, JSON says %s", r, line,
              want);
    line = strchr(line, '\n') + 1;
  }
  cr_expect_eq(*line, '\0', "the CSV has more rows");
  cJSON_Delete(rows);
  free(csv);
}

/* A reference run into ref.csv and the same into r.csv. */
static void two_runs(const char *args) {
  kd_test_run_ok("%s --csv @/ref.csv --quiet", args);
  kd_test_run_ok("%s --csv @/r.csv --quiet", args);
  kd_test_expect_same_file("ref.csv", "r.csv");
}

/* What a crash leaves of a run and the resume that repairs it: r.jsonl (r.csv too
 * when csv_line is not 0) cut at the start of its line `line` (0-based) plus `plus`
 * bytes; the resume warns saying `warning` (and `names`, one line with one_warning),
 * keeps `resumed` points, and ends with the reference's CSV and all 16 rows. */
typedef struct {
  size_t line;
  long plus;
  size_t csv_line;
  long csv_plus;
  const char *warning, *names;
  int one_warning;
  double resumed;
} crash;

static void resume_after(const crash *c) {
  two_runs(SMALL);
  cut("r.jsonl", (size_t)((long)line_start("r.jsonl", c->line) + c->plus));
  if (c->csv_line) cut("r.csv", (size_t)((long)line_start("r.csv", c->csv_line) + c->csv_plus));
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect(strstr(kd_test_err, c->warning) != NULL, "no warning saying '%s': '%s'", c->warning,
            kd_test_err);
  cr_expect(!c->names || strstr(kd_test_err, c->names), "the warning does not name %s: '%s'", c->names,
            kd_test_err);
  cr_expect(!c->one_warning || kd_test_one_line(kd_test_err), "one warning, got '%s'", kd_test_err);
  kd_test_expect_same_file("ref.csv", "r.csv");
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_resumed"), c->resumed);
  cr_expect_eq(kd_test_num(meta, "points_done"), 4);
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 16);
}

/* A write torn in the middle of line 6 (point 1's second row), in both files: point 0
 * only was whole. */
Test(resume, torn_line_is_dropped_and_recomputed) {
  resume_after(&(crash){.line = 5, .plus = 37, .csv_line = 4, .csv_plus = 11, .warning = "torn",
                        .names = "r.jsonl", .resumed = 1});
}

/* Only the final newline lost. */
Test(resume, torn_last_line_of_the_file) {
  resume_after(&(crash){.line = 16, .plus = -1, .warning = "torn", .resumed = 3});
}

/* The last point's rows cut after two whole lines (of four). */
Test(resume, last_point_cut_is_recomputed) {
  resume_after(&(crash){.line = 14, .warning = "2 of its 4 rows", .one_warning = 1, .resumed = 3});
}

Test(resume, lost_csv_is_rebuilt_from_the_records) {
  two_runs(SMALL);
  cr_assert_eq(unlink(kd_test_path("r.csv")), 0);
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect_str_eq(kd_test_err, "");
  kd_test_expect_same_file("ref.csv", "r.csv");
  /* A CSV that lost its tail, or has garbage in it: the records win. */
  cut("r.csv", 300);
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  kd_test_expect_same_file("ref.csv", "r.csv");
}

Test(resume, only_the_missing_points_are_computed) {
  two_runs(SMALL);
  cut("r.jsonl", line_start("r.jsonl", 8)); /* points 0 and 1 kept, whole */
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet --verbose");
  const char *want = "kdbench: point 1/4 n=20: already done\n"
                     "kdbench: point 2/4 n=32: already done\n"
                     "kdbench: point 3/4 n=50: ";
  cr_expect(strncmp(kd_test_err, want, strlen(want)) == 0, "verbose lines: '%s'", kd_test_err);
  cr_expect(strstr(kd_test_err, "kdbench: point 4/4 n=80: ") != NULL, "verbose lines: '%s'", kd_test_err);
  int done = 0;
  for (const char *q = kd_test_err; (q = strstr(q, "already done")); ++q) ++done;
  cr_expect_eq(done, 2, "points 0 and 1 only are already done: '%s'", kd_test_err);
  cr_expect_eq(kd_test_count_lines("stderr.txt"), 4);
  kd_test_expect_same_file("ref.csv", "r.csv");
}

/* ---- refusals ------------------------------------------------------------------------------ */

Test(refuse, corrupt_middle_line_names_file_and_line) {
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  kd_test_set_line("r.jsonl", 3, "{\"schema\": 1,"); /* line 3: a broken object */
  expect_refused_untouched("r.jsonl:3", SMALL " --csv @/r.csv --quiet");
}

Test(refuse, output_of_another_scenario) {
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  expect_refused_untouched("--force", "--sweep n --n 20:80:log4 --p 40 --trials 6 --csv @/r.csv --quiet");
  cr_expect(strstr(kd_test_err, "r.jsonl") != NULL, "message: %s", kd_test_err);
  /* Another seed, another pipeline set: the same. */
  kd_test_expect_refused(kd_test_run(SMALL " --seed 2 --csv @/r.csv --quiet"), "--force");
  kd_test_expect_refused(kd_test_run(SMALL " --pipelines strong --csv @/r.csv --quiet"), "--force");

  kd_test_run_ok("--sweep n --n 20:80:log4 --p 40 --trials 6 --csv @/r.csv --quiet --force");
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "trials"), 6);
  cr_expect_eq(kd_test_num(meta, "points_resumed"), 0);
  cr_expect_eq(check_jsonl("r.jsonl", kd_test_str(meta, "scenario_hash")), 16);
  cJSON_Delete(meta);
  char *csv = kd_test_read("r.csv", NULL);
  cr_expect(strstr(csv, ",40,,,0,2,1.5,0.5,6,") != NULL, "CSV rows have 6 trials: %s", csv);
  cr_expect(strstr(csv, ",0.5,5,") == NULL, "CSV keeps rows of the old run");
  free(csv);
}

/* n = 100, p = 200, one point, one pipeline: the run of issue 10 (theory 0.005553 with
 * beta*_i = 0.05, 0.06837 with beta*_i = 0.5). */
#define BETA_FILE_RUN                                                                      \
  "--sweep n --n 100 --p 200 --beta file:@/b.txt --ridge 0.1 --pipelines strong --trials 20 " \
  "--quiet"

/* @/b.txt: `head`, then 200 lines of `line`. */
static void write_beta(const char *head, const char *line) {
  char text[8192];
  snprintf(text, sizeof text, "%s", head);
  for (int i = 0; i < 200; ++i) strcat(strcat(text, line), "\n");
  kd_test_write("b.txt", text);
}

/* The theory column of the only row of a CSV. */
static double theory_of(const char *name) {
  char *csv = kd_test_read(name, NULL);
  cr_assert_not_null(csv, "%s missing", name);
  char *row = strchr(csv, '\n') + 1, *cell = row;
  for (int col = 0; col < 15; ++col) cell = strchr(cell, ',') + 1; /* theory: column 16 */
  double x = strtod(cell, NULL);
  cr_assert_eq(strchr(row, '\n')[1], '\0', "%s has more than one row", name);
  free(csv);
  return x;
}

Test(refuse, edited_beta_file_is_another_scenario) {
  write_beta("", "0.05");
  kd_test_run_ok(BETA_FILE_RUN " --csv @/r.csv");
  double before = theory_of("r.csv");
  cr_expect(fabs(before - 0.005553) < 5e-7, "theory %.7g with beta*_i = 0.05", before);
  /* The same values written otherwise (a comment, 0.050): the same scenario, resumed. */
  write_beta("# the same values\n", "0.050");
  kd_test_run_ok(BETA_FILE_RUN " --csv @/r.csv");
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_resumed"), 1, "0.050 for 0.05 made another scenario");
  cJSON_Delete(meta);

  write_beta("", "0.5");
  expect_refused_untouched("b.txt", BETA_FILE_RUN " --csv @/r.csv");
  cr_expect(strstr(kd_test_err, "the values in the --beta file") && strstr(kd_test_err, "--force"),
            "message: %s", kd_test_err);
  /* A fresh output and --force compute the new numbers, the same ones. */
  kd_test_run_ok(BETA_FILE_RUN " --csv @/fresh.csv");
  double fresh = theory_of("fresh.csv");
  cr_expect(fabs(fresh - 0.06837) < 5e-6, "theory %.7g with beta*_i = 0.5", fresh);
  kd_test_run_ok(BETA_FILE_RUN " --csv @/r.csv --force");
  kd_test_expect_same_file("fresh.csv", "r.csv");
}

Test(refuse, fit_of_a_run_whose_beta_file_changed) {
  /* kdbench fit computes the weak-to-strong theory from the run's scenario, so from
   * the beta* file as it is now: values other than the rows' are refused. */
  const char *sweep = "--sweep n --n 20:150:log6 --p 200 --beta file:@/b.txt --sigma 0 "
                      "--pipelines strong,w2s --trials 3 --csv @/r.csv --quiet";
  write_beta("", "0.05");
  kd_test_run_ok("%s", sweep);
  kd_test_run_ok("fit @/r --quiet");
  write_beta("", "0.5");
  expect_refused_untouched("the values in the --beta file", "fit @/r --quiet");
  cr_expect(strstr(kd_test_err, "b.txt") != NULL, "message: %s", kd_test_err);
  write_beta("# the same values as the run's\n", "0.050");
  kd_test_run_ok("fit @/r --quiet");
}

/* Rewrites every occurrence of `from` in @/NAME as `to` (of the same length). */
static void replace_in(const char *name, const char *from, const char *to) {
  size_t len = 0;
  char *text = kd_test_read(name, &len);
  cr_assert_not_null(text, "%s missing", name);
  int n = 0;
  for (char *s = text; (s = strstr(s, from)); s += strlen(to), ++n) memcpy(s, to, strlen(to));
  cr_assert_gt(n, 0, "%s does not hold '%s'", name, from);
  kd_test_write_bytes(name, text, len);
  free(text);
}

/* A run made by a kdbench of other numerics, simulated from one made by this one:
 * that kdbench wrote its own numerics version into the metadata, and a scenario hash
 * (in the metadata and every row) that covers that version, so differs from this
 * one's. Both are rewritten; the rows' numbers are left as they are, which is the
 * danger: resuming would mix them with rows of this kdbench's numerics. */
Test(refuse, run_of_other_numerics) {
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  cJSON *meta = kd_test_json("r.meta.json");
  char hash[17];
  snprintf(hash, sizeof hash, "%s", kd_test_str(meta, "scenario_hash"));
  cr_expect_eq(kd_test_num(meta, "numerics_version"), KD_NUMERICS_VERSION);
  const char *other = strcmp(hash, "0123456789abcdef") ? "0123456789abcdef" : "fedcba9876543210";
  replace_in("r.jsonl", hash, other);
  cJSON_ReplaceItemInObjectCaseSensitive(meta, "scenario_hash", cJSON_CreateString(other));
  cJSON_ReplaceItemInObjectCaseSensitive(meta, "numerics_version",
                                         cJSON_CreateNumber(KD_NUMERICS_VERSION - 1));
  kd_test_write_json("r.meta.json", meta);
  expect_refused_untouched("--force", SMALL " --csv @/r.csv --quiet");
  char want[96];
  snprintf(want, sizeof want, "computed by numerics version %d, not %d", KD_NUMERICS_VERSION - 1,
           KD_NUMERICS_VERSION);
  cr_expect(strstr(kd_test_err, want) != NULL, "message '%s' lacks '%s'", kd_test_err, want);

  /* A run of a kdbench from before numerics versions: no version, no parts. */
  cJSON_DeleteItemFromObjectCaseSensitive(meta, "numerics_version");
  cJSON_DeleteItemFromObjectCaseSensitive(meta, "hash_parts");
  kd_test_write_json("r.meta.json", meta);
  cJSON_Delete(meta);
  kd_test_expect_refused(kd_test_run(SMALL " --csv @/r.csv --quiet"), "no numerics version recorded");

  kd_test_run_ok(SMALL " --csv @/r.csv --quiet --force");
  kd_test_run_ok(SMALL " --csv @/ref.csv --quiet");
  kd_test_expect_same_file("ref.csv", "r.csv");
}

Test(refuse, flag_given_twice_names_both) {
  static const struct {
    const char *args, *culprit;
  } twice[] = {
      {"--sweep n --p 500 --p 400 --csv @/r.csv --quiet", "--p given twice (--p 500 and --p 400)"},
      {"--sweep n --pipelines strong --n 30 --pipelines w2s --csv @/r.csv --quiet",
       "--pipelines given twice (--pipelines strong and --pipelines w2s)"},
      {"--sweep n --sweep p --csv @/r.csv --quiet", "--sweep given twice"},
      {SMALL " --csv @/r.csv --csv @/s.csv --quiet", "--csv given twice"},
      {SMALL " --spectrum isotropic --spectrum=powerlaw --csv @/r.csv --quiet", "--spectrum given twice"},
      {"--scenario @/a.ini --scenario @/b.ini --quiet", "--scenario given twice"},
      {"--print-scenario --trials 3 --trials 4", "--trials given twice"},
  };
  for (size_t i = 0; i < sizeof twice / sizeof *twice; ++i)
    kd_test_expect_refused(kd_test_run("%s", twice[i].args), twice[i].culprit);
  char *list = names();
  cr_expect_str_eq(list, "", "a refused run left files behind: %s", list);
  free(list);
  /* A switch given twice means what it means once. */
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet --quiet --raw --raw");
  /* A flag over a scenario file's key (or a preset's) is an override, not a repetition. */
  const char *ini = "[sweep]\ntrials = 3\n";
  kd_test_write("t.ini", ini);
  kd_test_run_ok("--scenario @/t.ini " SMALL_GRID " --trials 4 --csv @/o.csv --quiet");
  cJSON *meta = kd_test_json("o.meta.json");
  cr_expect_eq(kd_test_num(meta, "trials"), 4);
  cJSON_Delete(meta);
  kd_test_run_ok("--preset fig1 " SMALL_GRID " --trials 2 --csv @/f.csv --quiet");
  meta = kd_test_json("f.meta.json");
  cr_expect_eq(kd_test_num(meta, "trials"), 2);
  cJSON_Delete(meta);
}

Test(refuse, csv_without_its_records) {
  kd_test_write("x.csv", "my own table\n");
  int code = kd_test_run(SMALL " --csv @/x.csv --quiet");
  kd_test_expect_refused(code, "x.csv");
  cr_expect(strstr(kd_test_err, "--force") != NULL, "message: %s", kd_test_err);
  char *list = names();
  cr_expect_str_eq(list, "x.csv,", "a refused run left files behind: %s", list);
  free(list);
  char *text = kd_test_read("x.csv", NULL);
  cr_expect_str_eq(text, "my own table\n");
  free(text);
  kd_test_run_ok(SMALL " --csv @/x.csv --quiet --force");
  cr_expect(kd_test_exists("x.jsonl") && kd_test_exists("x.meta.json"));
}

Test(refuse, bad_input_leaves_no_file) {
  kd_test_write("beta.txt", "1\n2\n3\n");
  static const struct {
    const char *args, *culprit;
  } bad[] = {{"--sweep n --n 10 --p 5 --beta file:@/beta.txt", "beta.txt"},
             {"--sweep n --n 100 --p 50 --k 60", "k = 60"},
             {"--sweep p --p 100,50 --n 40 --k 80", "p = 50"},
             {"--sweep n --n 5:7:pow2 --p 50", "--n"},
             {"--sweep n --n 100:20:log3 --p 50", "--n"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i)
    kd_test_expect_refused(kd_test_run("%s --csv @/o/r.csv --quiet", bad[i].args), bad[i].culprit);
  char *list = names();
  /* The output folder itself may exist; nothing in it. */
  cr_expect(!strcmp(list, "beta.txt,") || !strcmp(list, "beta.txt,o,"), "left behind: %s", list);
  free(list);
  if (kd_test_exists("o")) {
    DIR *d = opendir(kd_test_path("o"));
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) ++files;
    closedir(d);
    cr_expect_eq(files, 0, "files left in the output folder");
  }
}

Test(refuse, stale_lock_is_reused_and_removed) {
  kd_test_write("r.lock", ""); /* left by a SIGKILL: not locked */
  kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect(!kd_test_exists("r.lock"));
}

/* ---- output names and input files ------------------------------------------------------ */

/* A refusal that must not hang (a FIFO, /dev/zero): a test that blocks fails here. */
TestSuite(names, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 120);

/* A CSV named like another file of a run (its own or a sibling's) would be two files
 * at once: --csv x.jsonl wrote the CSV and the JSON Lines into one file, x.meta.json
 * was replaced by the metadata at once, x.md by a later report. Refused, naming the
 * file, before anything is written. */
Test(names, csv_named_like_another_file_of_a_run_is_refused) {
  static const char *const taken[] = {"x.jsonl", "x.meta.json", "x.fit.json", "x.md",
                                      "x.tex",   "x.png",       "x.pdf",      "x.lock",
                                      "x.shards", "x.csv.tmp"};
  for (size_t i = 0; i < sizeof taken / sizeof *taken; ++i) {
    kd_test_expect_refused(kd_test_run(SMALL " --csv @/o/%s --quiet", taken[i]), taken[i]);
    cr_expect(strstr(kd_test_err, ".csv") != NULL, "no way out offered: %s", kd_test_err);
  }
  kd_test_expect_refused(kd_test_run(SMALL " --csv @/o/. --quiet"), "directory");
  kd_test_expect_refused(kd_test_run(SMALL " --csv @ --quiet"), "directory"); /* an existing folder */
  char *list = names();
  cr_expect_str_eq(list, "", "a refused name left files behind: %s", list);
  free(list);
  kd_test_run_ok(SMALL " --csv @/o/x.csv --quiet"); /* the same run under a CSV's name */
  cr_expect(kd_test_exists("o/x.jsonl") && kd_test_exists("o/x.meta.json"));
}

/* Inputs that are not regular files hung: /dev/zero as a scenario read for ever, a
 * FIFO blocked in open. Each is refused at once, saying what it is, and nothing is
 * written; a directory as a spectrum says so (it said "no values"). */
Test(names, inputs_that_are_not_regular_files_are_refused) {
  cr_assert_eq(mkfifo(kd_test_path("fifo"), 0600), 0);
  cr_assert_eq(mkdir(kd_test_path("folder"), 0700), 0);
  static const struct {
    const char *flag, *culprit;
  } cases[] = {{"--scenario /dev/zero", "/dev/zero: is a character device"},
               {"--scenario @/fifo", "fifo: is a FIFO"},
               {"--scenario @/folder", "folder: is a directory"},
               {"--spectrum file:@/fifo", "fifo: is a FIFO"},
               {"--beta file:@/fifo", "fifo: is a FIFO"},
               {"--spectrum file:@/folder", "folder: is a directory"},
               {"--beta file:/dev/zero", "/dev/zero: is a character device"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    kd_test_expect_refused(kd_test_run("--sweep n --n 20 --p 10 --trials 2 --csv @/o/r.csv --quiet %s",
                       cases[i].flag), cases[i].culprit);
  }
  /* a run's files given to fit, report, missing */
  cr_assert_eq(mkfifo(kd_test_path("run.meta.json"), 0600), 0);
  kd_test_expect_refused(kd_test_run("fit @/run --quiet"), "run.meta.json: is a FIFO");
  kd_test_expect_refused(kd_test_run("report @/run"), "run.meta.json: is a FIFO");
  kd_test_expect_refused(kd_test_run("missing @/run"), "run.meta.json: is a FIFO");
  unlink(kd_test_path("run.meta.json"));
  unlink(kd_test_path("fifo")); /* names() reads every file: a FIFO would block it */
  rmdir(kd_test_path("folder"));
  char *list = names();
  cr_expect_str_eq(list, "", "a refused input left files behind: %s", list);
  free(list);
}

/* An empty scenario file silently ran the whole default job (into results/ unless
 * --csv said otherwise): refused, naming it, nothing written; /dev/null too. */
Test(names, a_scenario_without_a_setting_is_refused) {
  kd_test_write("empty.ini", "");
  kd_test_write("comments.ini", "# p = 50\n\n");
  static const char *const empty[] = {"@/empty.ini", "@/comments.ini", "/dev/null"};
  for (size_t i = 0; i < sizeof empty / sizeof *empty; ++i)
    kd_test_expect_refused(kd_test_run("--scenario %s --n 10 --p 5 --trials 1 --csv @/o/r.csv --quiet", empty[i]),
                   empty[i] + (empty[i][0] == '@' ? 2 : 0));
  char *list = names();
  cr_expect_str_eq(list, "comments.ini,empty.ini,", "a refused scenario left files: %s", list);
  free(list);
}

/* A count in a row that no integer type holds (1e30, "inf") was cast to
 * size_t, undefined behaviour (the Release build wrote trials = 0 into the CSV):
 * resume, fit and report each refuse it, naming the file, the line and the key. */
Test(refuse, count_out_of_range_names_file_and_line) {
  two_runs(SMALL);
  char *good = kd_test_read("r.jsonl", NULL);
  static const char *const bad[] = {"1e30", "\"inf\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    char *text = strdup(good), *line2 = strchr(text, '\n') + 1, *at = strstr(line2, "\"trials\":5,");
    cr_assert(at && at < strchr(line2, '\n'), "line 2 has no trials = 5");
    char edited[16384];
    snprintf(edited, sizeof edited, "%.*s\"trials\":%s,%s", (int)(at - text), text, bad[i],
             at + strlen("\"trials\":5,"));
    kd_test_reseal(strchr(edited, '\n') + 1); /* its check matches: the count is what is read */
    kd_test_write("r.jsonl", edited);
    kd_test_expect_refused(kd_test_run("fit @/r --quiet"), "r.jsonl:2");
    cr_expect(strstr(kd_test_err, "trials") != NULL, "trials = %s: the key is not named: %s", bad[i], kd_test_err);
    kd_test_expect_refused(kd_test_run("report @/r"), "r.jsonl:2");
    cr_expect(strstr(kd_test_err, "trials") != NULL, "trials = %s: the key is not named: %s", bad[i], kd_test_err);
    /* resume: a damaged row, dropped with a warning naming it, its point recomputed */
    kd_test_run_ok(SMALL " --csv @/r.csv --quiet");
    cr_expect(strstr(kd_test_err, "r.jsonl:2: key 'trials' is not a count") != NULL, "warning: %s", kd_test_err);
    kd_test_expect_same_file("ref.csv", "r.csv");
    free(text);
  }
  free(good);
}

/* ---- row integrity (docs/run-format.md, "Reading a run") ----------------------------------- */

TestSuite(integrity, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 120);

#define RAW SMALL " --raw"

/* The damages of a row: line 2 (point 0, optimal) of a --raw run edited. `from` (the
 * first in the line; "risks" for the first per-trial risk) becomes `to`; with `seal`,
 * the row's check is made to match, so that what is asked is the row's own keys. */
typedef struct {
  const char *what, *from, *to;
  int seal;
  const char *resume, *others; /* what the warning of a resume, the errors of the others say */
} damage;

static const damage damages[] = {
    {"a changed sim_mean", "\"sim_mean\":", "\"sim_mean\":1", 0, "fails its integrity check", NULL},
    {"a changed trials", "\"trials\":5,", "\"trials\":6,", 0, "fails its integrity check", NULL},
    {"a changed point", "\"point\":0,", "\"point\":1,", 0, "fails its integrity check", NULL},
    {"a dropped per-trial risk", "risks", "", 0, "fails its integrity check", NULL},
    {"no check (an older kdbench)", ",\"check\":", ",\"chekc\":", 0, "no integrity check", NULL},
    {"sealed: trials that are not the risks'", "\"trials\":5,", "\"trials\":6,", 1,
     "5 per-trial risks for 6 trials", NULL},
    {"sealed: a dropped risk", "risks", "", 1, "4 per-trial risks for 5 trials", NULL},
    {"sealed: a point beyond the grid", "\"point\":0,", "\"point\":9,", 1,
     "point 9 beyond the grid's 4 points", NULL},
    /* the grid is known to a resume only; the others see two keys for point 1 */
    {"sealed: another point's index", "\"point\":0,", "\"point\":1,", 1, "is not point 1's",
     "is not that of point 1's other rows"},
};

/* Line 2 of @/NAME damaged as d says. */
static void damage_row(const char *name, const damage *d) {
  char *line = kd_test_line(name, 2), from[256];
  snprintf(from, sizeof from, "%s", d->from);
  if (!strcmp(d->from, "risks")) { /* "risks":[X, */
    char *r = strstr(line, "\"risks\":[");
    cr_assert_not_null(r, "not a --raw row: %s", line);
    snprintf(from, sizeof from, "%.*s", (int)(strchr(r, ',') + 1 - r), r);
  }
  char *at = strstr(line, from), edited[16384];
  cr_assert_not_null(at, "%s: no %s in line 2", d->what, from);
  snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - line), line,
           strcmp(d->from, "risks") ? d->to : "\"risks\":[", at + strlen(from));
  if (d->seal) kd_test_reseal(edited);
  kd_test_set_line(name, 2, edited);
  free(line);
}

/* A refusal (exit 2, one line) naming `where` and saying `what`. */
static void expect_named(int code, const char *where, const char *what, const char *label) {
  cr_expect_eq(code, 2, "%s: exit status %d (stderr: %s)", label, code, kd_test_err);
  cr_expect(kd_test_one_line(kd_test_err), "%s: want one line, got '%s'", label, kd_test_err);
  cr_expect(strstr(kd_test_err, where) && strstr(kd_test_err, what), "%s: '%s' does not name %s and say '%s'",
            label, kd_test_err, where, what);
}

Test(integrity, a_damaged_row_is_recomputed_on_resume_and_refused_by_report_fit_and_merge) {
  kd_test_run_ok(RAW " --csv @/ref.csv --quiet");
  kd_test_run_ok("report @/ref");
  char *ref_md = kd_test_read("ref.md", NULL);
  for (size_t i = 0; i < sizeof damages / sizeof *damages; ++i) {
    const damage *d = &damages[i];
    kd_test_run_ok(RAW " --csv @/r.csv --quiet --force");
    damage_row("r.jsonl", d);
    expect_named(kd_test_run("report @/r"), "r.jsonl:2", d->others ? d->others : d->resume, d->what);
    cr_expect(!kd_test_exists("r.md"), "%s: a refused report wrote r.md", d->what);
    expect_named(kd_test_run("fit @/r --quiet"), "r.jsonl:2", d->others ? d->others : d->resume, d->what);
    cr_expect(!kd_test_exists("r.fit.json"), "%s: a refused fit wrote r.fit.json", d->what);
    kd_test_run_ok(RAW " --csv @/r.csv --quiet");
    char want[256];
    snprintf(want, sizeof want, "r.jsonl:2: ");
    cr_expect(strstr(kd_test_err, want) && strstr(kd_test_err, d->resume) && strstr(kd_test_err, "recomputed"),
              "%s: the resume's warning: '%s'", d->what, kd_test_err);
    kd_test_expect_same_file("ref.csv", "r.csv");
    cJSON *meta = kd_test_json("r.meta.json");
    cr_expect_eq(kd_test_num(meta, "points_resumed"), 3, "%s: point 0 was recomputed", d->what);
    cJSON_Delete(meta);
    kd_test_run_ok("report @/r");
    char *md = kd_test_read("r.md", NULL);
    cr_expect_str_eq(strstr(md, "\n|"), strstr(ref_md, "\n|"), "%s: the report after resume", d->what);
    free(md);
    unlink(kd_test_path("r.md"));
    unlink(kd_test_path("r.tex"));
  }
  free(ref_md);
}

Test(integrity, a_row_of_another_scenario_is_refused_by_every_reader) {
  kd_test_run_ok(RAW " --csv @/r.csv --quiet");
  kd_test_run_ok(RAW " --seed 2 --csv @/o.csv --quiet");
  char *row = kd_test_line("o.jsonl", 2); /* intact, of seed 2 */
  kd_test_set_line("r.jsonl", 2, row);
  free(row);
  expect_refused_untouched("r.jsonl:2", RAW " --csv @/r.csv --quiet");
  cr_expect(strstr(kd_test_err, "another scenario") && strstr(kd_test_err, "--force"), "resume: %s",
            kd_test_err);
  expect_named(kd_test_run("report @/r"), "r.jsonl:2", "a row of another scenario", "report");
  expect_named(kd_test_run("fit @/r --quiet"), "r.jsonl:2", "a row of another scenario", "fit");
}

/* Two intact rows of different points swapped: out of order, not damaged. */
static void swap_lines(const char *name, size_t a, size_t b) {
  char *la = kd_test_line(name, a), *lb = kd_test_line(name, b);
  kd_test_set_line(name, a, lb);
  kd_test_set_line(name, b, la);
  free(la), free(lb);
}

Test(integrity, swapped_intact_rows_are_read_in_grid_order) {
  kd_test_run_ok(RAW " --sigma 0 --csv @/ref.csv --quiet");
  kd_test_run_ok("report @/ref");
  kd_test_run_ok("fit @/ref --quiet --window 20:80 --out @/a.json");
  kd_test_run_ok(RAW " --sigma 0 --csv @/r.csv --quiet");
  swap_lines("r.jsonl", 2, 6); /* point 0's optimal row and point 1's */
  kd_test_run_ok("report @/r");
  cr_expect_str_eq(kd_test_err, "", "report: %s", kd_test_err);
  char *a = kd_test_read("ref.md", NULL), *b = kd_test_read("r.md", NULL);
  cr_expect_str_eq(strstr(b, "\n|"), strstr(a, "\n|"), "the report of the swapped run");
  free(a), free(b);
  kd_test_run_ok("fit @/r --quiet --window 20:80 --out @/b.json");
  char *fa = kd_test_read("a.json", NULL), *fb = kd_test_read("b.json", NULL);
  cr_expect(fa && fb && !strcmp(strstr(fa, "\"window\""), strstr(fb, "\"window\"")),
            "the fit of the swapped run differs");
  free(fa), free(fb);
  /* resume: nothing to compute, both files rewritten in grid order */
  kd_test_run_ok(RAW " --sigma 0 --csv @/r.csv --quiet");
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_resumed"), 4);
  cJSON_Delete(meta);
  kd_test_expect_same_file("ref.csv", "r.csv");
  kd_test_expect_same_rows("ref.jsonl", "r.jsonl");
}

Test(integrity, merge_refuses_a_damaged_shard_row_and_accepts_swapped_ones) {
  kd_test_run_ok(RAW " --csv @/ref.csv --quiet");
  for (size_t i = 0; i < 5; ++i) { /* the unsealed damages: the check */
    const damage *d = &damages[i];
    kd_test_run_ok(RAW " --csv @/s.csv --shard 1/2 --quiet --force");
    kd_test_run_ok(RAW " --csv @/s.csv --shard 2/2 --quiet --force");
    damage_row("s.shards/shard-001-of-002.jsonl", d);
    expect_named(kd_test_run("merge @/s.csv"), "shard-001-of-002.jsonl:2", d->resume, d->what);
    cr_expect(!kd_test_exists("s.csv"), "%s: a refused merge wrote s.csv", d->what);
  }
  kd_test_run_ok(RAW " --csv @/s.csv --shard 1/2 --quiet --force");
  kd_test_run_ok(RAW " --csv @/s.csv --shard 2/2 --quiet --force");
  const char *two = kd_test_count_lines("s.shards/shard-001-of-002.jsonl") >= 8
                        ? "s.shards/shard-001-of-002.jsonl" : "s.shards/shard-002-of-002.jsonl";
  cr_assert_geq(kd_test_count_lines(two), 8, "a shard of two points");
  swap_lines(two, 2, 6);
  kd_test_run_ok("merge @/s.csv");
  kd_test_expect_same_file("ref.csv", "s.csv");
  kd_test_expect_same_rows("ref.jsonl", "s.jsonl");
}

/* ---- grid order after a resume fills a hole ------------------------------------------------ */

/* @/NAME without its lines [first, last] (1-based). */
static void delete_lines(const char *name, size_t first, size_t last) {
  for (size_t l = first; l <= last; ++l) kd_test_set_line(name, first, NULL);
}

Test(resume, a_hole_filled_by_a_resume_ends_in_grid_order) {
  two_runs(RAW);
  /* line 7: point 1's mask row (the point has 4 rows from line 5) */
  delete_lines("r.jsonl", 7, 7);
  kd_test_run_ok(RAW " --csv @/r.csv --quiet");
  cr_expect(strstr(kd_test_err, "point 1 has 3 of its 4 rows") != NULL, "warning: %s", kd_test_err);
  kd_test_expect_same_file("ref.csv", "r.csv");
  kd_test_expect_same_rows("ref.jsonl", "r.jsonl");
  /* all of point 1's rows, and of point 2's, in two resumes */
  delete_lines("r.jsonl", 5, 8);
  kd_test_run_ok(RAW " --csv @/r.csv --quiet");
  cr_expect_str_eq(kd_test_err, "", "a point without rows is just not done: %s", kd_test_err);
  kd_test_expect_same_file("ref.csv", "r.csv");
  kd_test_expect_same_rows("ref.jsonl", "r.jsonl");
  delete_lines("r.jsonl", 9, 12);
  delete_lines("r.jsonl", 1, 4);
  kd_test_run_ok(RAW " --csv @/r.csv --quiet");
  kd_test_expect_same_file("ref.csv", "r.csv");
  kd_test_expect_same_rows("ref.jsonl", "r.jsonl");
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_resumed"), 2, "points 1 and 3 were kept");
  cJSON_Delete(meta);
}

/* ---- a pipeline of several rows at a point (recursive) ------------------------------------- */

/* strong, then recursive's G = 3 generations of three schedules (fixed and linear on
 * fresh designs, accumulate extending generation 1's streams): 10 rows a point, each
 * identified by (point, pipeline, group, step), at 3 points: point i's rows are lines
 * 10 i + 1 (strong), + 2 .. 4 (fixed), + 5 .. 7 (linear), + 8 .. 10 (accumulate). --raw,
 * so that the per-trial risks and beats_first (against generation 1 of the same trial)
 * go through every repair. */
#define GENS_GRID "--sweep n --n 30,45,60 --p 20 --pipelines strong,recursive --trials 6 --raw --quiet"
#define GENS GENS_GRID " --generations 3 --schedule fixed,linear,accumulate"

/* What a crash (or an edit) leaves of a run of GENS: r.jsonl cut at the start of line
 * `cut` (1-based) plus `plus` bytes, r.csv cut to its header and `csv_rows` rows, line
 * `drop` deleted, line `copy` appended again; the resume warns saying `warning` and keeps
 * `resumed` points. */
typedef struct {
  const char *what;
  size_t cut;
  long plus;
  size_t csv_rows, drop, copy;
  const char *warning;
  double resumed;
} gens_crash;

/* Every crash of the list, each on a fresh copy of the run: the resume ends with the CSV
 * of the run made whole at once, byte for byte, and its rows (wall times and checks
 * aside), in grid order: a point that lost any of its rows is computed again, whole. */
Test(resume, several_rows_a_point_resume_to_the_whole_run) {
  kd_test_run_ok(GENS " --csv @/ref.csv");
  cr_assert_eq(kd_test_count_lines("ref.jsonl"), 30, "3 points x (strong + 3 schedules x 3 generations)");
  cr_expect_eq(kd_test_json_num("ref.meta.json", "rows_per_point"), 10);
  const gens_crash crashes[] = {
      {"point 1 cut after its linear generation 1", .cut = 16, .csv_rows = 14,
       .warning = "point 1 has 5 of its 10 rows", .resumed = 1},
      {"a line torn inside point 1's accumulate", .cut = 18, .plus = 25,
       .warning = "point 1 has 7 of its 10 rows", .resumed = 1},
      {"point 2 without its linear generation 2", .drop = 26,
       .warning = "point 2 has 9 of its 10 rows", .resumed = 2},
      {"point 0 without its accumulate generation 1 (a hole before kept points)", .drop = 8,
       .warning = "point 0 has 9 of its 10 rows", .resumed = 2},
      {"point 1's fixed generation 3 written twice", .copy = 14, .warning = "", .resumed = 3},
  };
  for (size_t i = 0; i < sizeof crashes / sizeof *crashes; ++i) {
    const gens_crash *c = &crashes[i];
    cr_assert_eq(kd_test_sh("cp ref.csv r.csv && cp ref.jsonl r.jsonl && cp ref.meta.json r.meta.json"), 0);
    if (c->cut) cut("r.jsonl", (size_t)((long)line_start("r.jsonl", c->cut - 1) + c->plus));
    if (c->csv_rows) cut("r.csv", line_start("r.csv", c->csv_rows + 1));
    if (c->copy) {
      char *line = kd_test_line("r.jsonl", c->copy), *text = kd_test_text("r.jsonl"), *more = NULL;
      cr_assert_gt(asprintf(&more, "%s%s\n", text, line), 0);
      kd_test_write("r.jsonl", more);
      free(line), free(text), free(more);
    }
    if (c->drop) kd_test_set_line("r.jsonl", c->drop, NULL);
    kd_test_run_ok(GENS " --csv @/r.csv");
    cr_expect(strstr(kd_test_err, c->warning) != NULL, "%s: no warning saying '%s': '%s'", c->what,
              c->warning, kd_test_err);
    cr_expect(kd_test_expect_same_file("ref.csv", "r.csv"), "%s", c->what);
    kd_test_expect_same_rows("ref.jsonl", "r.jsonl");
    cJSON *meta = kd_test_json("r.meta.json");
    cr_expect_eq(kd_test_num(meta, "points_resumed"), c->resumed, "%s: points kept", c->what);
    cr_expect_eq(kd_test_num(meta, "points_done"), 3, "%s", c->what);
    cJSON_Delete(meta);
  }
}

/* The generations, the schedules (their order too: it is the rows'), the synthetic
 * labels' noise and the generations' ridge are the scenario's: a resume with any of them
 * changed is refused, naming --force, and leaves the run as it was; with --force the
 * new run replaces it, at its own rows a point. */
Test(refuse, another_recursive_setting_is_another_scenario) {
  kd_test_run_ok(GENS " --csv @/r.csv");
  const char *others[] = {" --generations 4 --schedule fixed,linear,accumulate",
                          " --generations 3 --schedule fixed,accumulate,linear",
                          " --generations 3 --schedule fixed,linear",
                          " --generations 3 --schedule fixed,linear,accumulate --synthetic-sigma 0",
                          " --generations 3 --schedule fixed,linear,accumulate --gen-ridge 0.01",
                          " --generations 3 --schedule fixed,linear,accumulate --gen-ridge-decay "
                          "inverse-square"};
  for (size_t i = 0; i < sizeof others / sizeof *others; ++i) {
    expect_refused_untouched("--force", GENS_GRID "%s --csv @/r.csv", others[i]);
    cr_expect(strstr(kd_test_err, "another scenario") && strstr(kd_test_err, "r.jsonl"), "%s: %s",
              others[i], kd_test_err);
  }
  kd_test_run_ok(GENS_GRID " --generations 4 --schedule fixed,linear --csv @/r.csv --force");
  cr_expect_eq(kd_test_count_lines("r.jsonl"), 3 * 9, "3 points x (strong + 2 x 4 generations)");
  cr_expect_eq(kd_test_json_num("r.meta.json", "rows_per_point"), 9);
}

/* ---- signals --------------------------------------------------------------------------------- */

/* Waits until @/NAME has a whole line (a point on disk); fails when the process
 * ended first. */
static void wait_for_a_point(pid_t pid, const char *name) {
  for (int i = 0; i < 60000; ++i) {
    char *text = kd_test_read(name, NULL);
    int has = text && strchr(text, '\n');
    free(text);
    if (has) return;
    int status;
    cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "kdbench ended before its first point");
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  cr_assert_fail("no point after a minute");
}

static void stop_and_resume(int sig, int want_status, const char *sig_name) {
  pid_t pid = kd_test_start(LONGER " --quiet --csv @/r.csv");
  wait_for_a_point(pid, "r.jsonl");
  cr_assert_eq(kill(pid, sig), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  char *e = kd_test_read("bg.err", NULL);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    cr_assert_fail("the run ended before the signal: make it longer (stderr: %s)", e);
  if (sig == SIGKILL) {
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  } else {
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == want_status,
              "%s: status %d, want exit %d (stderr: %s)", sig_name, status, want_status, e);
    cr_expect(kd_test_one_line(e) && strstr(e, sig_name) != NULL, "message: '%s'", e);
    /* The points said to be kept are those on disk, whole, and they parse. */
    size_t lines = check_jsonl("r.jsonl", NULL);
    cr_expect_eq(lines % 4, 0, "%zu rows: a point is not whole", lines);
    char want[64];
    snprintf(want, sizeof want, "after %zu of 12 points", lines / 4);
    cr_expect(strstr(e, want) != NULL, "message '%s' does not say '%s'", e, want);
    cr_expect(strstr(e, "r.csv") != NULL, "message '%s' does not name the output", e);
    cr_expect_eq(kd_test_count_lines("r.csv"), lines + 1, "the CSV and the records disagree");
    cJSON *meta = kd_test_json("r.meta.json");
    cr_expect_eq(kd_test_num(meta, "points_done"), (double)(lines / 4));
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
    cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(meta, "finished")));
    cJSON_Delete(meta);
    cr_expect(!kd_test_exists("r.lock"), "the lock outlives the stopped run");
  }
  free(e);
  size_t kept = kd_test_count_lines("r.jsonl") / 4;
  cr_expect_lt(kept, 12, "all points were done");

  kd_test_run_ok(LONGER " --csv @/r.csv --quiet");
  if (sig != SIGKILL) cr_expect_str_eq(kd_test_err, "", "a clean stop needs no repair: '%s'", kd_test_err);
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_geq(kd_test_num(meta, "points_resumed"), (double)kept);
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 48);
  kd_test_run_ok(LONGER " --csv @/ref.csv --quiet");
  kd_test_expect_same_file("ref.csv", "r.csv");
}

Test(signals, sigterm_stops_and_resumes) { stop_and_resume(SIGTERM, 143, "SIGTERM"); }
Test(signals, sigint_stops_and_resumes) { stop_and_resume(SIGINT, 130, "SIGINT"); }
Test(signals, sigkill_loses_at_most_the_point_in_flight) {
  stop_and_resume(SIGKILL, 0, "SIGKILL");
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_for(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

/* SIGKILL at random moments (seeded): of a fresh run, then of the resume that follows
 * it, which finishes on a third start, until 12 kills of a fresh run have landed.
 * Every kill may land anywhere: before the first point, inside a point's write, in
 * the rewrite of the CSV on resume, in the metadata's rename. Each time the CSV is
 * byte-identical to an uninterrupted run's, the JSON Lines are too but for the wall
 * times and the checks (kd_test_stable_rows), and no temporary file or lock is left. */
Test(signals, sigkill_at_random_moments_resumes_byte_identical) {
#define KILL_GRID "--sweep n --n 20:200:log8 --p 60 --trials 10 --quiet"
  double t0 = seconds();
  kd_test_run_ok(KILL_GRID " --csv @/ref.csv");
  const double whole = seconds() - t0; /* an uninterrupted run, start to exit */
  char *ref_jsonl = kd_test_stable_rows("ref.jsonl");
  uint64_t rng = 18; /* xorshift64: the same moments on every run of the test */
  /* Rounds until 12 kills of a fresh run have landed in a running process (a kill
   * after the run ended tests nothing: the window then shrinks, the run was shorter
   * than the reference). */
  const int want = 12;
  int landed = 0, round = 0;
  double window = whole;
  for (; landed < want && round < 3 * want; ++round) {
    for (const char *const *f = (const char *const[]){"r.csv", "r.jsonl", "r.meta.json", NULL}; *f; ++f)
      unlink(kd_test_path(*f));
    double at[2];
    for (int k = 0; k < 2; ++k) {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      /* within the first 70 % of a run (started through the shell as the reference was),
       * or of the first half of the resume */
      at[k] = window * (double)(rng >> 11) / 9007199254740992.0 * (k ? 0.5 : 0.7);
      pid_t pid = kd_test_start(KILL_GRID " --csv @/r.csv");
      sleep_for(at[k]);
      kill(pid, SIGKILL);
      int status = 0;
      cr_assert_eq(waitpid(pid, &status, 0), pid);
      int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      cr_assert(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "round %d, start %d: status %d (%s)", round, k, status, kd_test_read("bg.err", NULL));
      if (k == 0 && killed) ++landed;
      else if (k == 0) window *= 0.8;
    }
    kd_test_run_ok(KILL_GRID " --csv @/r.csv");
    kd_test_expect_same_file("ref.csv", "r.csv");
    char *jsonl = kd_test_stable_rows("r.jsonl");
    cr_expect_str_eq(jsonl, ref_jsonl, "round %d (kills at %.3f s and %.3f s of %.3f s): the JSON "
                     "Lines differ", round, at[0], at[1], whole);
    free(jsonl);
    char *list = names();
    cr_expect_str_eq(list, "bg.err,bg.out,r.csv,r.jsonl,r.meta.json,ref.csv,ref.jsonl,ref.meta.json,",
                     "round %d: left behind: %s", round, list);
    free(list);
  }
  free(ref_jsonl);
  cr_expect_eq(landed, want, "only %d kills landed in %d rounds (a run of %.3f s)", landed, round,
               whole);
#undef KILL_GRID
}

/* A stop signal inside one long trial (a large Gram matrix on one BLAS thread) waited
 * for the trial to end, and under an address-space limit OpenBLAS retried for ever:
 * the watchdog ends the run KD_STOP_GRACE_S (2) seconds after the signal, exit status
 * 143, one line, the finished point kept. */
Test(signals, sigterm_inside_a_long_trial_ends_the_run_within_seconds) {
  setenv("OPENBLAS_NUM_THREADS", "1", 1); /* a trial of some 10 s (0.8 GB) on one core */
  pid_t pid = kd_test_start("--sweep n --n 50,9000 --p 6000 --trials 2 --pipelines strong --quiet "
                            "--csv @/r.csv");
  unsetenv("OPENBLAS_NUM_THREADS");
  wait_for_a_point(pid, "r.jsonl");
  sleep_for(0.3); /* into the first trial of n = 9000 */
  double t0 = seconds();
  cr_assert_eq(kill(pid, SIGTERM), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  double took = seconds() - t0;
  char *e = kd_test_read("bg.err", NULL);
  cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "the run ended before the signal");
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 143, "status %d (stderr: %s)", status, e);
  cr_expect_lt(took, 4.5, "the run took %.1f s to stop after SIGTERM", took);
  cr_expect(kd_test_one_line(e) && strstr(e, "SIGTERM") && strstr(e, "r.csv"), "message: '%s'", e);
  free(e);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 1, "the finished point is not kept whole");
  cr_expect_eq(kd_test_count_lines("r.csv"), 2);
  cJSON *meta = kd_test_json("r.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_done"), 1);
  cJSON_Delete(meta);
}

/* ---- resource limits ------------------------------------------------------------------- */

TestSuite(limits, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 120);

/* Under an address-space limit (ulimit -v, as some clusters set) OpenBLAS retried its
 * buffer's mapping for ever at 100 % CPU: the memory check counts what OpenBLAS and
 * the threads will map and refuses up front, one line naming the limit, nothing
 * written; under a limit that leaves room the same run completes. `timeout` turns a
 * hang into a failure. */
Test(limits, address_space_limit_is_refused_up_front) {
#if defined(__SANITIZE_ADDRESS__)
  cr_skip_test("AddressSanitizer maps terabytes of shadow memory: no address-space limit fits it");
#endif
#define TIGHT_RUN "--sweep n --p 20 --n 2000 --trials 1 --pipelines strong --csv @/o/x.csv --quiet"
#define UNDER "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 timeout -s KILL 60 prlimit --as="
  kd_test_expect_refused(kd_test_run_under(UNDER "307200000 ", TIGHT_RUN), "ulimit -v");
  char *list = names();
  cr_expect_str_eq(list, "", "a refused run left files behind: %s", list);
  free(list);
  int code = kd_test_run_under(UNDER "3000000000 ", TIGHT_RUN);
  cr_expect_eq(code, 0, "under 3 GB of address space: exit %d (%s)", code, kd_test_err);
  cr_expect_eq(check_jsonl("o/x.jsonl", NULL), 1);
#undef UNDER
#undef TIGHT_RUN
}

/* Past the file-size limit (ulimit -f) SIGXFSZ killed kdbench without a word: the
 * write fails instead (EFBIG), one line says so and how many points are kept, and the
 * same command without the limit completes the run, byte-identical to one never
 * limited. */
Test(limits, file_size_limit_keeps_the_finished_points) {
  kd_test_run_ok(LONGER " --csv @/ref.csv --quiet");
  size_t limit = line_start("ref.jsonl", 3 * 4) + 100; /* 3 points and a bit of the 4th */
  char prefix[128];
  snprintf(prefix, sizeof prefix, "prlimit --fsize=%zu ", limit);
  int code = kd_test_run_under(prefix, LONGER " --csv @/r.csv --quiet");
  kd_test_expect_refused(code, "r.jsonl");
  cr_expect(strstr(kd_test_err, "File too large") && strstr(kd_test_err, "3 finished point(s) kept"), "message: %s", kd_test_err);
  kd_test_run_ok(LONGER " --csv @/r.csv --quiet");
  kd_test_expect_same_file("ref.csv", "r.csv");
}

Test(signals, second_writer_refused_while_the_first_runs) {
  pid_t pid = kd_test_start(LONGER " --quiet --csv @/r.csv");
  wait_for_a_point(pid, "r.jsonl");
  int code = kd_test_run(LONGER " --csv @/r.csv --quiet");
  int status = 0;
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  kd_test_expect_refused(code, "locked");
}

/* ---- outputs -------------------------------------------------------------------------------- */

Test(outputs, raw_risks_average_to_sim_mean) {
  kd_test_run_ok(SMALL_GRID " --trials 7 --raw --csv @/raw.csv --quiet");
  kd_test_run_ok(SMALL_GRID " --trials 7 --csv @/plain.csv --quiet");
  kd_test_expect_same_file("raw.csv", "plain.csv"); /* --raw changes no number */
  cJSON *all = kd_test_rows("raw.jsonl"), *o;
  size_t rows = 0;
  cJSON_ArrayForEach(o, all) {
    const cJSON *risks = cJSON_GetObjectItemCaseSensitive(o, "risks");
    cr_assert(cJSON_IsArray(risks), "row %zu has no risks", rows);
    cr_expect_eq(cJSON_GetArraySize(risks), 7);
    double sum = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, risks) {
      cr_expect(cJSON_IsNumber(x) && x->valuedouble >= 0, "row %zu: a risk is not a number", rows);
      sum += x->valuedouble;
    }
    double mean = cJSON_GetObjectItemCaseSensitive(o, "sim_mean")->valuedouble;
    cr_expect(fabs(sum / 7 - mean) <= 1e-12 * fabs(mean), "row %zu: mean of risks %.17g, sim_mean %.17g",
              rows, sum / 7, mean);
    ++rows;
  }
  cr_expect_eq(rows, 16);
  cJSON_Delete(all);
  char *text = kd_test_read("plain.jsonl", NULL);
  cr_expect(strstr(text, "\"risks\"") == NULL, "risks without --raw");
  free(text);
}

Test(outputs, stderr_quiet_when_not_a_terminal) {
  kd_test_run_ok(SMALL " --csv @/a.csv");
  cr_expect_str_eq(kd_test_err, "", "stderr without --quiet: '%s'", kd_test_err);
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect(strstr(out, "# kdbench sweep over n") != NULL, "no table: %s", out);
  cr_expect_eq(kd_test_count_lines("stdout.txt"), 4 + 16, "table: %s", out);
  free(out);
  kd_test_run_ok(SMALL " --csv @/b.csv --quiet");
  cr_expect_str_eq(kd_test_err, "", "stderr with --quiet: '%s'", kd_test_err);
  out = kd_test_read("stdout.txt", NULL);
  cr_expect_str_eq(out, "", "stdout with --quiet: '%s'", out);
  free(out);
}

Test(outputs, verbose_prints_a_line_per_point) {
  kd_test_run_ok(SMALL " --csv @/a.csv --quiet --verbose");
  const char *s = kd_test_err;
  for (int i = 1; i <= 4; ++i) {
    char want[64];
    snprintf(want, sizeof want, "kdbench: point %d/4 n=", i);
    cr_expect(strncmp(s, want, strlen(want)) == 0, "line %d: '%s'", i, s);
    const char *nl = strchr(s, '\n');
    cr_assert_not_null(nl);
    cr_expect(memmem(s, (size_t)(nl - s), " s (", 4) != NULL, "line %d has no timing: %.*s", i,
              (int)(nl - s), s);
    cr_expect(memchr(s, '\r', (size_t)(nl - s)) == NULL && memchr(s, '\033', (size_t)(nl - s)) == NULL,
              "terminal codes on a file");
    s = nl + 1;
  }
  cr_expect_str_eq(s, "", "more than 4 lines: %s", kd_test_err);
}

Test(outputs, print_scenario_round_trip) {
  int code = kd_test_run("--print-scenario --sweep n,p --n 20,40 --p 30,50 --trials 3 --ridge 0.01 "
                 "--csv @/a.csv");
  cr_assert_eq(code, 0, "%s", kd_test_err);
  char *text = kd_test_read("stdout.txt", NULL);
  kd_test_write("s.ini", text);
  free(text);
  kd_test_run_ok("--scenario @/s.ini --quiet");
  kd_test_run_ok("--sweep n,p --n 20,40 --p 30,50 --trials 3 --ridge 0.01 --csv @/b.csv --quiet");
  cJSON *a = kd_test_json("a.meta.json"), *b = kd_test_json("b.meta.json");
  cr_expect_str_eq(kd_test_str(a, "scenario_hash"), kd_test_str(b, "scenario_hash"));
  cr_expect_eq(kd_test_num(a, "points_total"), 4);
  /* The scenario stored in the metadata runs the same scenario. */
  kd_test_write("m.ini", kd_test_str(a, "scenario"));
  cJSON_Delete(b);
  kd_test_expect_same_file("a.csv", "b.csv");
  kd_test_run_ok("--scenario @/m.ini --csv @/c.csv --quiet");
  b = kd_test_json("c.meta.json");
  cr_expect_str_eq(kd_test_str(b, "scenario_hash"), kd_test_str(a, "scenario_hash"));
  cJSON_Delete(b);
  /* Flags override the file. */
  kd_test_run_ok("--scenario @/s.ini --trials 2 --csv @/d.csv --quiet");
  b = kd_test_json("d.meta.json");
  cr_expect_eq(kd_test_num(b, "trials"), 2);
  cr_expect_str_neq(kd_test_str(b, "scenario_hash"), kd_test_str(a, "scenario_hash"));
  cJSON_Delete(b);
  cJSON_Delete(a);
  /* --print-scenario with no flag prints the embedded default, which re-reads to the
   * same text. */
  cr_assert_eq(kd_test_run("--print-scenario"), 0);
  text = kd_test_read("stdout.txt", NULL);
  kd_test_write("default.ini", text);
  cr_assert_eq(kd_test_run("--scenario @/default.ini --print-scenario"), 0);
  char *again = kd_test_read("stdout.txt", NULL);
  cr_expect_str_eq(again, text);
  free(text);
  free(again);
}

Test(outputs, presets) {
  cr_assert_eq(kd_test_run("--list-presets"), 0);
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect(strncmp(out, "fig1 ", 5) == 0 || strstr(out, "\nfig1 ") != NULL, "presets: %s", out);
  free(out);
  kd_test_expect_refused(kd_test_run("--preset nope --quiet"), "nope");
  cr_assert_eq(kd_test_run("--preset fig1 --print-scenario"), 0);
  char *preset = kd_test_read("stdout.txt", NULL);
  cr_assert_eq(kd_test_run("--print-scenario"), 0);
  out = kd_test_read("stdout.txt", NULL);
  cr_expect_str_eq(preset, out, "--preset fig1 is not the default");
  free(preset);
  free(out);
  kd_test_expect_refused(kd_test_run("--scenario @/nope.ini"), "nope.ini");
  const char *bad = "[problem]\np = 50\n[sweep]\nbogus = 1\n";
  kd_test_write("bad.ini", bad);
  kd_test_expect_refused(kd_test_run("--scenario @/bad.ini --csv @/r.csv --quiet"), "bad.ini:4");
  cr_expect(strstr(kd_test_err, "bogus") != NULL, "message: %s", kd_test_err);
  cr_expect(!kd_test_exists("r.csv"));
}

/* ---- axes swept without values ---------------------------------------------------------- */

/* The values of CSV column `col` (0-based) in the rows of `pipeline` of @/NAME. */
static size_t column(const char *name, const char *pipeline, int col, double *v, size_t max) {
  char *csv = kd_test_read(name, NULL);
  cr_assert_not_null(csv, "%s missing", name);
  size_t n = 0, len = strlen(pipeline);
  for (char *line = strchr(csv, '\n') + 1; *line && n < max; line = strchr(line, '\n') + 1) {
    if (strncmp(line, pipeline, len) || line[len] != ',') continue;
    char *cell = line;
    for (int c = 0; c < col; ++c) cell = strchr(cell, ',') + 1;
    v[n++] = strtod(cell, NULL);
  }
  free(csv);
  return n;
}

/* `kdbench --sweep AXIS ARGS` (no values for AXIS) runs the default grid of --help:
 * `count` points whose AXIS (CSV column `col`, rows of `pipeline`) are `want`; the same
 * with --preset fig1, whose AXIS = scalar is the default of a run, not a sweep value;
 * a value given for AXIS on the command line or in a scenario file is the one point. */
static void expect_default_grid(const char *axis, const char *args, int col, const char *pipeline,
                                const double *want, size_t count, const char *value) {
  char common[512];
  snprintf(common, sizeof common, "--sweep %s %s --trials 2 --pipelines strong,w2s --quiet", axis,
           args);
  kd_test_run_ok("%s --csv @/grid.csv", common);
  cJSON *meta = kd_test_json("grid.meta.json");
  cr_expect_eq(kd_test_num(meta, "points_total"), (double)count, "--sweep %s: points", axis);
  cJSON_Delete(meta);
  double v[16];
  size_t n = column("grid.csv", pipeline, col, v, 16);
  cr_expect_eq(n, count, "--sweep %s: %zu %s rows, want %zu", axis, n, pipeline, count);
  for (size_t i = 0; i < n && i < count; ++i)
    cr_expect(fabs(v[i] - want[i]) <= 1e-9 * fabs(want[i]), "--sweep %s: point %zu at %.10g, want %.10g",
              axis, i, v[i], want[i]);
  kd_test_run_ok("--preset fig1 %s --csv @/preset.csv", common);
  kd_test_expect_same_file("grid.csv", "preset.csv");

  kd_test_run_ok("%s --%s %s --csv @/one.csv", common, axis, value);
  cr_expect_eq(column("one.csv", pipeline, col, v, 16), 1, "--sweep %s --%s %s", axis, axis, value);
  cr_expect_eq(v[0], strtod(value, NULL));
  const char *section = !strcmp(axis, "m") ? "teacher" : !strcmp(axis, "ridge") ? "student" : "problem";
  char ini[256];
  snprintf(ini, sizeof ini, "[%s]\n%s = %s\n", section, axis, value);
  kd_test_write("one.ini", ini);
  kd_test_run_ok("--scenario @/one.ini %s --csv @/file.csv", common);
  kd_test_expect_same_file("one.csv", "file.csv");
}

Test(default_grids, p) {
  expect_default_grid("p", "--n 100", 2, "strong", (double[]){100, 200, 500, 1000, 2000}, 5, "300");
}

Test(default_grids, m) {
  expect_default_grid("m", "--n 100 --p 200", 3, "w2s",
                      (double[]){500, 1000, 2000, 5000, 10000, 20000}, 6, "2000");
}

Test(default_grids, ridge) {
  double want[9];
  for (int i = 0; i < 9; ++i) want[i] = pow(10, -4 + i / 2.0);
  expect_default_grid("ridge", "--n 100 --p 200", 5, "strong", want, 9, "0.25");
}

Test(default_grids, alpha) {
  expect_default_grid("alpha", "--n 100 --p 200", 6, "strong", (double[]){1.25, 1.5, 2, 3, 4}, 5,
                      "2.5");
}

Test(default_grids, sigma) {
  expect_default_grid("sigma", "--n 100 --p 200", 8, "strong", (double[]){0, 0.1, 0.25, 0.5, 1}, 5,
                      "0.25");
}

Test(default_grids, print_scenario_writes_the_grid) {
  static const char *const lines[][2] = {
      {"p", "\np = 100,200,500,1000,2000\n"},        {"m", "\nm = 500,1000,2000,5000,10000,20000\n"},
      {"ridge", "\nridge = 1e-4:1:log9\n"},          {"alpha", "\nalpha = 1.25,1.5,2,3,4\n"},
      {"sigma", "\nsigma = 0,0.1,0.25,0.5,1\n"},
  };
  for (size_t i = 0; i < sizeof lines / sizeof *lines; ++i) {
    cr_assert_eq(kd_test_run("--print-scenario --sweep %s --n 100", lines[i][0]), 0, "%s", kd_test_err);
    char *out = kd_test_read("stdout.txt", NULL);
    cr_expect(strstr(out, lines[i][1]) != NULL, "--print-scenario --sweep %s:\n%s", lines[i][0], out);
    free(out);
  }
  /* The printed scenario runs the same grid: the same hash, the same numbers. */
  const char *args = "--sweep ridge --n 100 --p 200 --trials 2 --pipelines strong";
  cr_assert_eq(kd_test_run("--print-scenario %s --csv @/a.csv", args), 0, "%s", kd_test_err);
  char *text = kd_test_read("stdout.txt", NULL);
  kd_test_write("s.ini", text);
  free(text);
  kd_test_run_ok("--scenario @/s.ini --quiet");
  kd_test_run_ok("%s --csv @/b.csv --quiet", args);
  kd_test_expect_same_file("a.csv", "b.csv");
  cJSON *a = kd_test_json("a.meta.json"), *b = kd_test_json("b.meta.json");
  cr_expect_str_eq(kd_test_str(a, "scenario_hash"), kd_test_str(b, "scenario_hash"));
  cr_expect_eq(kd_test_num(a, "points_total"), 9);
  cJSON_Delete(a);
  cJSON_Delete(b);
}

/* ---- --extend ----------------------------------------------------------------------------- */

#define EXT "--sweep n --p 30 --m 80 --k 10 --pipelines strong,w2s,weak --raw"

/* More values on the swept axis, then more trials: each extension keeps what was there
 * and ends with the CSV (and rows) of the run made whole at once. */
Test(extend, more_points_then_more_trials_equal_the_whole_run) {
  kd_test_run_ok(EXT " --n 20,40 --trials 4 --csv e/run.csv");
  kd_test_run_ok(EXT " --n 20,40,60 --trials 4 --csv e/run.csv --extend");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, "# extending e/run.csv: 2 of its points kept\n"), "%s", out);
  free(out);
  cr_expect_eq(kd_test_json_num("e/run.meta.json", "points_resumed"), 2);
  kd_test_run_ok(EXT " --n 20,40,60 --trials 4 --csv w4/run.csv");
  kd_test_expect_same_file("e/run.csv", "w4/run.csv");
  kd_test_expect_same_rows("e/run.jsonl", "w4/run.jsonl");
  kd_test_run_ok(EXT " --n 20,40,60 --trials 7 --csv e/run.csv --extend");
  out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, "3 of its points kept, to be completed with the new trials"),
                     "%s", out);
  free(out);
  kd_test_run_ok(EXT " --n 20,40,60 --trials 7 --csv w7/run.csv");
  kd_test_expect_same_file("e/run.csv", "w7/run.csv");
  kd_test_expect_same_rows("e/run.jsonl", "w7/run.jsonl");
}

/* The trials kept are the stored ones, not computed again: a stored risk edited (and its
 * row resealed) shows in the extended row, the new trials beside it. */
Test(extend, the_stored_trials_are_kept_and_only_the_new_ones_computed) {
  kd_test_run_ok(EXT " --n 20 --trials 3 --csv e/run.csv");
  char *row = kd_test_line("e/run.jsonl", 1), *risks = strstr(row, "\"risks\":[");
  cr_assert_not_null(risks, "%s", row);
  char *edited = NULL;
  cr_assert_gt(asprintf(&edited, "%.*s\"risks\":[12.5,%s", (int)(risks - row), row,
                        strchr(risks, ',') + 1), 0);
  kd_test_reseal(edited);
  kd_test_set_line("e/run.jsonl", 1, edited);
  kd_test_run_ok(EXT " --n 20 --trials 5 --csv e/run.csv --extend");
  kd_test_run_ok(EXT " --n 20 --trials 5 --csv w/run.csv");
  cJSON *ext = kd_test_rows("e/run.jsonl"), *whole = kd_test_rows("w/run.jsonl");
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ext, 0), "risks"),
              *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(whole, 0), "risks");
  cr_assert(cJSON_GetArraySize(a) == 5 && cJSON_GetArraySize(b) == 5);
  cr_expect_eq(cJSON_GetArrayItem(a, 0)->valuedouble, 12.5, "trial 0 is the stored one");
  cr_expect_neq(cJSON_GetArrayItem(b, 0)->valuedouble, 12.5);
  for (int t = 1; t < 5; ++t)
    cr_expect_eq(cJSON_GetArrayItem(a, t)->valuedouble, cJSON_GetArrayItem(b, t)->valuedouble,
                 "trial %d", t);
  cJSON_Delete(ext), cJSON_Delete(whole);
  free(row), free(edited);
  /* whose the stored trials were: the first run's, in resumed_from */
  cJSON *m = kd_test_json("e/run.meta.json");
  const cJSON *earlier = cJSON_GetArrayItem(kd_test_item(m, "resumed_from"), 0);
  cr_assert_not_null(earlier, "the extended run lost who computed its first trials");
  cr_expect(strstr(kd_test_str(earlier, "command"), "--trials 3") != NULL, "%s", kd_test_str(earlier, "command"));
  cr_expect_eq(kd_test_num(earlier, "points_computed"), 1);
  cJSON_Delete(m);
}

/* What cannot be extended is refused in one line, the run left as it was. */
Test(extend, another_scenario_or_trials_without_risks_are_refused) {
  kd_test_run_ok(EXT " --n 20 --trials 3 --csv e/run.csv");
  char *before = kd_test_read("e/run.jsonl", NULL);
  kd_test_expect_refused(kd_test_run(EXT " --n 20 --trials 3 --sigma 0.2 --csv e/run.csv --extend"),
                         "--extend: e/run is a run of another scenario ('sigma = 0.5' there, "
                         "'sigma = 0.20000000000000001' here)");
  kd_test_expect_refused(kd_test_run(EXT " --n 20 --trials 2 --csv e/run.csv --extend"),
                         "has 3 trials, more than the 2 asked for");
  kd_test_run_ok("--sweep n --p 30 --m 80 --k 10 --pipelines strong,w2s,weak --n 20 --trials 3 "
                 "--csv f/run.csv");
  kd_test_expect_refused(kd_test_run("--sweep n --p 30 --m 80 --k 10 --pipelines strong,w2s,weak "
                                     "--n 20 --trials 4 --csv f/run.csv --extend"),
                         "without their risks (made without --raw)");
  char *after = kd_test_read("e/run.jsonl", NULL);
  cr_expect_str_eq(after, before);
  free(before), free(after);
}

/* recursive (strong beside it; fixed on fresh designs, accumulate on generation 1's
 * streams): values added on the swept axis, before, between and after the kept ones,
 * then trials, give the run made whole at once, its 7 rows a point matched by (pipeline,
 * group, step) and beats_first counted over all the trials, the kept and the new. */
#define GEXT "--sweep n --p 20 --pipelines strong,recursive --generations 3 --schedule fixed,accumulate --raw"

Test(extend, recursive_more_points_then_more_trials_equal_the_whole_run) {
  kd_test_run_ok(GEXT " --n 30,50 --trials 4 --csv e/run.csv");
  kd_test_run_ok(GEXT " --n 25,30,40,50,70 --trials 4 --csv e/run.csv --extend");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, "# extending e/run.csv: 2 of its points kept\n"), "%s", out);
  free(out);
  cr_expect_eq(kd_test_json_num("e/run.meta.json", "points_resumed"), 2);
  kd_test_run_ok(GEXT " --n 25,30,40,50,70 --trials 4 --csv w4/run.csv");
  kd_test_expect_same_file("e/run.csv", "w4/run.csv");
  kd_test_expect_same_rows("e/run.jsonl", "w4/run.jsonl");
  cr_expect_eq(kd_test_count_lines("e/run.jsonl"), 5 * 7);
  kd_test_run_ok(GEXT " --n 25,30,40,50,70 --trials 9 --csv e/run.csv --extend");
  out = kd_test_read("stdout.txt", NULL);
  cr_expect_not_null(strstr(out, "5 of its points kept, to be completed with the new trials"),
                     "%s", out);
  free(out);
  kd_test_run_ok(GEXT " --n 25,30,40,50,70 --trials 9 --csv w9/run.csv");
  kd_test_expect_same_file("e/run.csv", "w9/run.csv");
  kd_test_expect_same_rows("e/run.jsonl", "w9/run.jsonl");
  /* the generations and schedules are not axes: another count or list is another run */
  char *before = kd_test_read("e/run.jsonl", NULL);
  kd_test_expect_refused(kd_test_run("--sweep n --p 20 --pipelines strong,recursive --generations 4 "
                                     "--schedule fixed,accumulate --raw --n 25,30,40,50,70 --trials 9 "
                                     "--csv e/run.csv --extend"),
                         "--extend: e/run is a run of another scenario");
  cr_expect(strstr(kd_test_err, "generations = 3") && strstr(kd_test_err, "generations = 4"), "%s",
            kd_test_err);
  kd_test_expect_refused(kd_test_run("--sweep n --p 20 --pipelines strong,recursive --generations 3 "
                                     "--schedule fixed,linear,accumulate --raw --n 25,30,40,50,70 "
                                     "--trials 9 --csv e/run.csv --extend"),
                         "--extend: e/run is a run of another scenario");
  char *after = kd_test_read("e/run.jsonl", NULL);
  cr_expect_str_eq(after, before);
  free(before), free(after);
}
