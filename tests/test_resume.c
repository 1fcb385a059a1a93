/* The files of a run and resuming it, with the real kdbench binary in a temporary
 * folder: a re-run computes nothing; a torn or cut .jsonl is repaired and the final
 * CSV is byte-identical to an uninterrupted run's; corrupt records, another
 * scenario's output (an edited beta* file, another numerics version: said so), a
 * flag given twice and a CSV without its records are refused (files untouched)
 * unless --force; SIGINT / SIGTERM / SIGKILL lose at most the point in flight;
 * --raw; standard error stays quiet when it is not a terminal; --print-scenario
 * round trip; presets; bad input leaves no file behind; axes swept without values
 * run their default grids. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
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

#include "kdbench/hash.h"
#include "kdbench/scenario_id.h"

static char dir[256];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/kdbench-resume-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(resume, .init = make_dir, .fini = remove_dir);
TestSuite(refuse, .init = make_dir, .fini = remove_dir);
TestSuite(signals, .init = make_dir, .fini = remove_dir, .timeout = 300);
TestSuite(outputs, .init = make_dir, .fini = remove_dir);
TestSuite(default_grids, .init = make_dir, .fini = remove_dir);

/* A small sweep: 4 points x 4 pipelines, well under a second (each flag once: a flag
 * given twice is refused). */
#define SMALL_GRID "--sweep n --n 20:80:log4 --p 40"
#define SMALL SMALL_GRID " --trials 5"
/* One that takes a second or more: 12 points, the later ones the larger. */
#define LONGER "--sweep n --n 20:400:log12 --trials 50 --p 100"

/* ---- helpers --------------------------------------------------------------------------- */

static char *path_of(const char *name) {
  static char buf[4][512];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}

/* The bytes of a file (NUL-terminated; *len without it), or NULL when it does not
 * exist. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  cr_assert_not_null(buf);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static char *slurp_in(const char *name) { return slurp(path_of(name), NULL); }

static void write_file(const char *name, const char *text, size_t len) {
  FILE *f = fopen(path_of(name), "wb");
  cr_assert_not_null(f);
  fwrite(text, 1, len, f);
  fclose(f);
}

static int exists_in(const char *name) {
  struct stat sb;
  return stat(path_of(name), &sb) == 0;
}

/* stderr of the last run() */
static char err[8192];
/* What run() puts before the binary: limits or an environment (prlimit ..., env ...). */
static const char *run_prefix = "";

/* Runs `kdbench ARGS` (printf-style; "@" stands for the test folder) with standard
 * output to @/stdout.txt and standard error to @/stderr.txt (files: not a
 * terminal); returns the exit status, and standard error in `err`. */
static int run(const char *fmt, ...) {
  char args[2048], expanded[4096] = "", cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  for (const char *s = args; *s; ++s) {
    if (*s == '@') strncat(expanded, dir, sizeof expanded - strlen(expanded) - 1);
    else strncat(expanded, (char[]){*s, 0}, sizeof expanded - strlen(expanded) - 1);
  }
  snprintf(cmd, sizeof cmd, "%s%s %s >%s/stdout.txt 2>%s/stderr.txt", run_prefix, KDBENCH_BIN,
           expanded, dir, dir);
  int status = system(cmd);
  char *e = slurp_in("stderr.txt");
  cr_assert_not_null(e);
  snprintf(err, sizeof err, "%s", e);
  free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void run_ok(const char *fmt, ...) {
  char args[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  int code = run("%s", args);
  cr_assert_eq(code, 0, "kdbench %s: exit status %d (stderr: %s)", args, code, err);
}

static int one_line(const char *text) {
  const char *nl = strchr(text, '\n');
  return nl && nl[1] == '\0';
}

/* A failure the user can fix: exit 2, one line naming `culprit`. */
static void expect_refused(int code, const char *culprit) {
  cr_expect_eq(code, 2, "exit status %d, want 2 (stderr: %s)", code, err);
  cr_expect(strncmp(err, "kdbench: ", 9) == 0 && one_line(err), "want one line, got '%s'", err);
  cr_expect(strstr(err, culprit) != NULL, "message '%s' does not name '%s'", err, culprit);
}

static cJSON *json_file(const char *name) {
  char *text = slurp_in(name);
  cr_assert_not_null(text, "%s missing", name);
  cJSON *o = cJSON_Parse(text);
  free(text);
  cr_assert_not_null(o, "%s does not parse", name);
  return o;
}

static double meta_num(const cJSON *meta, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(meta, key);
  cr_assert(cJSON_IsNumber(x), "meta.json: '%s' is not a number", key);
  return x->valuedouble;
}

static const char *meta_str(const cJSON *meta, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(meta, key);
  cr_assert(cJSON_IsString(x), "meta.json: '%s' is not a string", key);
  return x->valuestring;
}

/* Every line of a .jsonl parses to an object; returns the number of lines. */
static size_t check_jsonl(const char *name, const char *hash) {
  char *text = slurp_in(name);
  cr_assert_not_null(text, "%s missing", name);
  size_t lines = 0;
  char *s = text;
  while (*s) {
    char *nl = strchr(s, '\n');
    cr_assert_not_null(nl, "%s: last line without a newline", name);
    *nl = '\0';
    cJSON *o = cJSON_Parse(s);
    cr_assert(cJSON_IsObject(o), "%s:%zu does not parse: %s", name, lines + 1, s);
    if (hash) {
      const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "scenario_hash");
      cr_expect(cJSON_IsString(h) && !strcmp(h->valuestring, hash), "%s:%zu: other hash", name,
                lines + 1);
    }
    cJSON_Delete(o);
    ++lines;
    s = nl + 1;
  }
  free(text);
  return lines;
}

static void expect_same_file(const char *a, const char *b) {
  size_t la = 0, lb = 0;
  char *x = slurp_in(a), *y = slurp_in(b);
  cr_assert_not_null(x, "%s missing", a);
  cr_assert_not_null(y, "%s missing", b);
  la = strlen(x), lb = strlen(y);
  cr_expect(la == lb && memcmp(x, y, la) == 0, "%s and %s differ:\n--- %s\n%s\n--- %s\n%s", a, b,
            a, x, b, y);
  free(x);
  free(y);
}

/* Every file of the folder, names and bytes (less our own stdout/stderr captures). */
static char *snapshot(void) {
  struct dirent **list = NULL;
  int n = scandir(dir, &list, NULL, alphasort);
  cr_assert_geq(n, 0);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  for (int i = 0; i < n; ++i) {
    const char *name = list[i]->d_name;
    if (strcmp(name, ".") && strcmp(name, "..") && strcmp(name, "stdout.txt") &&
        strcmp(name, "stderr.txt")) {
      char *bytes = slurp_in(name);
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

static size_t count_lines(const char *name) {
  char *text = slurp_in(name);
  size_t n = 0;
  for (char *s = text; s && *s; ++s) n += *s == '\n';
  free(text);
  return n;
}

/* Cuts a file to `len` bytes. */
static void cut(const char *name, size_t len) { cr_assert_eq(truncate(path_of(name), (off_t)len), 0); }

/* The offset of the start of line `line` (0-based) of a file. */
static size_t line_start(const char *name, size_t line) {
  char *text = slurp_in(name);
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

/* The row at `row` (inside a JSON Lines text) given the integrity check of its text as
 * edited, so that a reader is asked about the edit itself (docs/run-format.md: the
 * FNV-1a 64 of the text before ',"check":'). */
static void reseal(char *row) {
  char *nl = strchr(row, '\n'), *at = strstr(row, ",\"check\":\""), hex[17];
  cr_assert(at && (!nl || at < nl), "no check in the row");
  snprintf(hex, sizeof hex, "%016llx",
           (unsigned long long)kd_fnv1a(KD_FNV_INIT, row, (size_t)(at - row)));
  memcpy(at + strlen(",\"check\":\""), hex, 16);
}

/* ---- resume ------------------------------------------------------------------------------- */

Test(resume, same_command_again_computes_nothing) {
  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect_str_eq(err, "", "stderr of a first run: %s", err);
  char *csv = slurp_in("r.csv"), *jsonl = slurp_in("r.jsonl");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_total"), 4);
  cr_expect_eq(meta_num(meta, "points_done"), 4);
  cr_expect_eq(meta_num(meta, "points_resumed"), 0);
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
  char hash[17];
  snprintf(hash, sizeof hash, "%s", meta_str(meta, "scenario_hash"));
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", hash), 16);
  cr_expect(!exists_in("r.lock"), "the lock outlives the run");

  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect_str_eq(err, "", "stderr of a re-run: %s", err);
  meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_total"), 4);
  cr_expect_eq(meta_num(meta, "points_done"), 4);
  cr_expect_eq(meta_num(meta, "points_resumed"), 4, "the re-run computed points");
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
  cr_expect_str_eq(meta_str(meta, "scenario_hash"), hash);
  cJSON_Delete(meta);
  char *csv2 = slurp_in("r.csv"), *jsonl2 = slurp_in("r.jsonl");
  cr_expect_str_eq(csv2, csv, "the CSV changed");
  cr_expect_str_eq(jsonl2, jsonl, "the JSON Lines changed");
  free(csv);
  free(csv2);
  free(jsonl);
  free(jsonl2);

  /* With the table: it says the points were already there. */
  run_ok(SMALL " --csv @/r.csv");
  char *out = slurp_in("stdout.txt");
  cr_expect(strstr(out, "4 of 4 points were already in") != NULL, "table: %s", out);
  free(out);
}

Test(resume, csv_and_jsonl_agree_row_by_row) {
  run_ok(SMALL " --csv @/r.csv --quiet --pipelines strong,w2s,weak");
  char *csv = slurp_in("r.csv"), *jsonl = slurp_in("r.jsonl");
  /* CSV: header + 4 points x 3 pipelines, grouped by point, pipelines in order. */
  const char *order[] = {"strong,", "w2s,", "weak,"};
  char *line = strchr(csv, '\n') + 1, *j = jsonl;
  for (int r = 0; r < 12; ++r) {
    cr_assert(strncmp(line, order[r % 3], strlen(order[r % 3])) == 0, "CSV row %d: %.40s", r, line);
    char *jn = strchr(j, '\n');
    *jn = '\0';
    cJSON *o = cJSON_Parse(j);
    cr_assert_not_null(o);
    cr_expect_eq(cJSON_GetObjectItem(o, "point")->valuedouble, r / 3);
    cr_expect_eq(cJSON_GetObjectItem(o, "schema")->valuedouble, 2);
    char want[64];
    snprintf(want, sizeof want, "%s,%d,40,", cJSON_GetObjectItem(o, "pipeline")->valuestring,
             (int)cJSON_GetObjectItem(o, "n")->valuedouble);
    cr_expect(strncmp(line, want, strlen(want)) == 0, "CSV row %d: %.40s, JSON says %s", r, line,
              want);
    cJSON_Delete(o);
    j = jn + 1;
    line = strchr(line, '\n') + 1;
  }
  cr_expect_eq(*line, '\0', "the CSV has more rows");
  cr_expect_eq(*j, '\0', "the JSON Lines have more rows");
  free(csv);
  free(jsonl);
}

/* A reference run into ref.csv and the same into r.csv. */
static void two_runs(const char *args) {
  run_ok("%s --csv @/ref.csv --quiet", args);
  run_ok("%s --csv @/r.csv --quiet", args);
  expect_same_file("ref.csv", "r.csv");
}

Test(resume, torn_line_is_dropped_and_recomputed) {
  two_runs(SMALL);
  /* A write torn in the middle of line 6 (point 1's second row), in both files. */
  size_t at = line_start("r.jsonl", 5) + 37;
  cut("r.jsonl", at);
  cut("r.csv", line_start("r.csv", 4) + 11);
  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect(strstr(err, "torn") != NULL, "no warning of the torn line: '%s'", err);
  cr_expect(strstr(err, "r.jsonl") != NULL, "the warning does not name the file: '%s'", err);
  expect_same_file("ref.csv", "r.csv");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_resumed"), 1, "point 0 only was whole");
  cr_expect_eq(meta_num(meta, "points_done"), 4);
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 16);
}

Test(resume, torn_last_line_of_the_file) {
  two_runs(SMALL);
  size_t len = 0;
  free(slurp(path_of("r.jsonl"), &len));
  cut("r.jsonl", len - 1); /* only the final newline lost */
  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect(strstr(err, "torn") != NULL, "no warning: '%s'", err);
  expect_same_file("ref.csv", "r.csv");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_resumed"), 3);
  cJSON_Delete(meta);
}

Test(resume, last_point_cut_is_recomputed) {
  two_runs(SMALL);
  /* The last point's rows cut after two whole lines (of four). */
  cut("r.jsonl", line_start("r.jsonl", 14));
  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect(strstr(err, "2 of its 4 rows") != NULL, "no warning of the incomplete point: '%s'", err);
  cr_expect(one_line(err), "one warning, got '%s'", err);
  expect_same_file("ref.csv", "r.csv");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_resumed"), 3);
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 16);
}

Test(resume, lost_csv_is_rebuilt_from_the_records) {
  two_runs(SMALL);
  cr_assert_eq(unlink(path_of("r.csv")), 0);
  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect_str_eq(err, "");
  expect_same_file("ref.csv", "r.csv");
  /* A CSV that lost its tail, or has garbage in it: the records win. */
  cut("r.csv", 300);
  run_ok(SMALL " --csv @/r.csv --quiet");
  expect_same_file("ref.csv", "r.csv");
}

Test(resume, only_the_missing_points_are_computed) {
  two_runs(SMALL);
  cut("r.jsonl", line_start("r.jsonl", 8)); /* points 0 and 1 kept, whole */
  run_ok(SMALL " --csv @/r.csv --quiet --verbose");
  const char *want = "kdbench: point 1/4 n=20: already done\n"
                     "kdbench: point 2/4 n=32: already done\n"
                     "kdbench: point 3/4 n=50: ";
  cr_expect(strncmp(err, want, strlen(want)) == 0, "verbose lines: '%s'", err);
  cr_expect(strstr(err, "kdbench: point 4/4 n=80: ") != NULL, "verbose lines: '%s'", err);
  int done = 0;
  for (const char *q = err; (q = strstr(q, "already done")); ++q) ++done;
  cr_expect_eq(done, 2, "points 0 and 1 only are already done: '%s'", err);
  cr_expect_eq(count_lines("stderr.txt"), 4);
  expect_same_file("ref.csv", "r.csv");
}

/* ---- refusals ------------------------------------------------------------------------------ */

Test(refuse, corrupt_middle_line_names_file_and_line) {
  run_ok(SMALL " --csv @/r.csv --quiet");
  size_t len = 0;
  char *text = slurp(path_of("r.jsonl"), &len);
  size_t a = line_start("r.jsonl", 2), b = line_start("r.jsonl", 3);
  char *broken = malloc(len + 16);
  memcpy(broken, text, a);
  memcpy(broken + a, "{\"schema\": 1,\n", 14); /* line 3: a broken object */
  memcpy(broken + a + 14, text + b, len - b);
  write_file("r.jsonl", broken, a + 14 + len - b);
  free(text);
  free(broken);
  char *before = snapshot();
  int code = run(SMALL " --csv @/r.csv --quiet");
  expect_refused(code, "r.jsonl:3");
  char *after = snapshot();
  cr_expect_str_eq(after, before, "a refused run changed the folder");
  free(before);
  free(after);
}

Test(refuse, output_of_another_scenario) {
  run_ok(SMALL " --csv @/r.csv --quiet");
  char *before = snapshot();
  int code = run("--sweep n --n 20:80:log4 --p 40 --trials 6 --csv @/r.csv --quiet");
  expect_refused(code, "--force");
  cr_expect(strstr(err, "r.jsonl") != NULL, "message: %s", err);
  char *after = snapshot();
  cr_expect_str_eq(after, before, "a refused run changed the folder");
  free(before);
  free(after);
  /* Another seed, another pipeline set: the same. */
  expect_refused(run(SMALL " --seed 2 --csv @/r.csv --quiet"), "--force");
  expect_refused(run(SMALL " --pipelines strong --csv @/r.csv --quiet"), "--force");

  run_ok("--sweep n --n 20:80:log4 --p 40 --trials 6 --csv @/r.csv --quiet --force");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "trials"), 6);
  cr_expect_eq(meta_num(meta, "points_resumed"), 0);
  cr_expect_eq(check_jsonl("r.jsonl", meta_str(meta, "scenario_hash")), 16);
  cJSON_Delete(meta);
  char *csv = slurp_in("r.csv");
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
  write_file("b.txt", text, strlen(text));
}

/* The theory column of the only row of a CSV. */
static double theory_of(const char *name) {
  char *csv = slurp_in(name);
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
  run_ok(BETA_FILE_RUN " --csv @/r.csv");
  double before = theory_of("r.csv");
  cr_expect(fabs(before - 0.005553) < 5e-7, "theory %.7g with beta*_i = 0.05", before);
  /* The same values written otherwise (a comment, 0.050): the same scenario, resumed. */
  write_beta("# the same values\n", "0.050");
  run_ok(BETA_FILE_RUN " --csv @/r.csv");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_resumed"), 1, "0.050 for 0.05 made another scenario");
  cJSON_Delete(meta);

  write_beta("", "0.5");
  char *files = snapshot();
  expect_refused(run(BETA_FILE_RUN " --csv @/r.csv"), "b.txt");
  cr_expect(strstr(err, "the values in the --beta file") && strstr(err, "--force"), "message: %s", err);
  char *after = snapshot();
  cr_expect_str_eq(after, files, "a refused run changed the folder");
  free(files);
  free(after);
  /* A fresh output and --force compute the new numbers, the same ones. */
  run_ok(BETA_FILE_RUN " --csv @/fresh.csv");
  double fresh = theory_of("fresh.csv");
  cr_expect(fabs(fresh - 0.06837) < 5e-6, "theory %.7g with beta*_i = 0.5", fresh);
  run_ok(BETA_FILE_RUN " --csv @/r.csv --force");
  expect_same_file("fresh.csv", "r.csv");
}

Test(refuse, fit_of_a_run_whose_beta_file_changed) {
  /* kdbench fit computes the weak-to-strong theory from the run's scenario, so from
   * the beta* file as it is now: values other than the rows' are refused. */
  const char *sweep = "--sweep n --n 20:150:log6 --p 200 --beta file:@/b.txt --sigma 0 "
                      "--pipelines strong,w2s --trials 3 --csv @/r.csv --quiet";
  write_beta("", "0.05");
  run_ok("%s", sweep);
  run_ok("fit @/r --quiet");
  write_beta("", "0.5");
  char *files = snapshot();
  expect_refused(run("fit @/r --quiet"), "the values in the --beta file");
  cr_expect(strstr(err, "b.txt") != NULL, "message: %s", err);
  char *after = snapshot();
  cr_expect_str_eq(after, files, "a refused fit changed the folder");
  free(files);
  free(after);
  write_beta("# the same values as the run's\n", "0.050");
  run_ok("fit @/r --quiet");
}

/* Writes @/NAME as the JSON of o. */
static void write_json(const char *name, const cJSON *o) {
  char *text = cJSON_Print(o);
  cr_assert_not_null(text);
  write_file(name, text, strlen(text));
  free(text);
}

/* Rewrites every occurrence of `from` in @/NAME as `to` (of the same length). */
static void replace_in(const char *name, const char *from, const char *to) {
  size_t len = 0;
  char *text = slurp(path_of(name), &len);
  cr_assert_not_null(text, "%s missing", name);
  int n = 0;
  for (char *s = text; (s = strstr(s, from)); s += strlen(to), ++n) memcpy(s, to, strlen(to));
  cr_assert_gt(n, 0, "%s does not hold '%s'", name, from);
  write_file(name, text, len);
  free(text);
}

/* A run made by a kdbench of other numerics, simulated from one made by this one:
 * that kdbench wrote its own numerics version into the metadata, and a scenario hash
 * (in the metadata and every row) that covers that version, so differs from this
 * one's. Both are rewritten; the rows' numbers are left as they are, which is the
 * danger: resuming would mix them with rows of this kdbench's numerics. */
Test(refuse, run_of_other_numerics) {
  run_ok(SMALL " --csv @/r.csv --quiet");
  cJSON *meta = json_file("r.meta.json");
  char hash[17];
  snprintf(hash, sizeof hash, "%s", meta_str(meta, "scenario_hash"));
  cr_expect_eq(meta_num(meta, "numerics_version"), KD_NUMERICS_VERSION);
  const char *other = strcmp(hash, "0123456789abcdef") ? "0123456789abcdef" : "fedcba9876543210";
  replace_in("r.jsonl", hash, other);
  cJSON_ReplaceItemInObjectCaseSensitive(meta, "scenario_hash", cJSON_CreateString(other));
  cJSON_ReplaceItemInObjectCaseSensitive(meta, "numerics_version",
                                         cJSON_CreateNumber(KD_NUMERICS_VERSION - 1));
  write_json("r.meta.json", meta);
  char *files = snapshot();
  expect_refused(run(SMALL " --csv @/r.csv --quiet"), "--force");
  char want[96];
  snprintf(want, sizeof want, "computed by numerics version %d, not %d", KD_NUMERICS_VERSION - 1,
           KD_NUMERICS_VERSION);
  cr_expect(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
  char *after = snapshot();
  cr_expect_str_eq(after, files, "a refused run changed the folder");
  free(files);
  free(after);

  /* A run of a kdbench from before numerics versions: no version, no parts. */
  cJSON_DeleteItemFromObjectCaseSensitive(meta, "numerics_version");
  cJSON_DeleteItemFromObjectCaseSensitive(meta, "hash_parts");
  write_json("r.meta.json", meta);
  cJSON_Delete(meta);
  expect_refused(run(SMALL " --csv @/r.csv --quiet"), "no numerics version recorded");

  run_ok(SMALL " --csv @/r.csv --quiet --force");
  run_ok(SMALL " --csv @/ref.csv --quiet");
  expect_same_file("ref.csv", "r.csv");
}

Test(refuse, flag_given_twice_names_both) {
  expect_refused(run("--sweep n --p 500 --p 400 --csv @/r.csv --quiet"), "--p given twice");
  cr_expect(strstr(err, "--p 500 and --p 400") != NULL, "message: %s", err);
  expect_refused(run("--sweep n --pipelines strong --n 30 --pipelines w2s --csv @/r.csv --quiet"),
                 "--pipelines given twice (--pipelines strong and --pipelines w2s)");
  expect_refused(run("--sweep n --sweep p --csv @/r.csv --quiet"), "--sweep given twice");
  expect_refused(run(SMALL " --csv @/r.csv --csv @/s.csv --quiet"), "--csv given twice");
  expect_refused(run(SMALL " --spectrum isotropic --spectrum=powerlaw --csv @/r.csv --quiet"),
                 "--spectrum given twice");
  expect_refused(run("--scenario @/a.ini --scenario @/b.ini --quiet"), "--scenario given twice");
  expect_refused(run("--print-scenario --trials 3 --trials 4"), "--trials given twice");
  char *list = names();
  cr_expect_str_eq(list, "", "a refused run left files behind: %s", list);
  free(list);
  /* A switch given twice means what it means once. */
  run_ok(SMALL " --csv @/r.csv --quiet --quiet --raw --raw");
  /* A flag over a scenario file's key (or a preset's) is an override, not a repetition. */
  const char *ini = "[sweep]\ntrials = 3\n";
  write_file("t.ini", ini, strlen(ini));
  run_ok("--scenario @/t.ini " SMALL_GRID " --trials 4 --csv @/o.csv --quiet");
  cJSON *meta = json_file("o.meta.json");
  cr_expect_eq(meta_num(meta, "trials"), 4);
  cJSON_Delete(meta);
  run_ok("--preset fig1 " SMALL_GRID " --trials 2 --csv @/f.csv --quiet");
  meta = json_file("f.meta.json");
  cr_expect_eq(meta_num(meta, "trials"), 2);
  cJSON_Delete(meta);
}

Test(refuse, csv_without_its_records) {
  write_file("x.csv", "my own table\n", 13);
  int code = run(SMALL " --csv @/x.csv --quiet");
  expect_refused(code, "x.csv");
  cr_expect(strstr(err, "--force") != NULL, "message: %s", err);
  char *list = names();
  cr_expect_str_eq(list, "x.csv,", "a refused run left files behind: %s", list);
  free(list);
  char *text = slurp_in("x.csv");
  cr_expect_str_eq(text, "my own table\n");
  free(text);
  run_ok(SMALL " --csv @/x.csv --quiet --force");
  cr_expect(exists_in("x.jsonl") && exists_in("x.meta.json"));
}

Test(refuse, bad_input_leaves_no_file) {
  write_file("beta.txt", "1\n2\n3\n", 6);
  expect_refused(run("--sweep n --n 10 --p 5 --beta file:@/beta.txt --csv @/o/r.csv --quiet"),
                 "beta.txt");
  expect_refused(run("--sweep n --n 100 --p 50 --k 60 --csv @/o/r.csv --quiet"), "k = 60");
  expect_refused(run("--sweep p --p 100,50 --n 40 --k 80 --csv @/o/r.csv --quiet"), "p = 50");
  expect_refused(run("--sweep n --n 5:7:pow2 --p 50 --csv @/o/r.csv --quiet"), "--n");
  expect_refused(run("--sweep n --n 100:20:log3 --p 50 --csv @/o/r.csv --quiet"), "--n");
  char *list = names();
  /* The output folder itself may exist; nothing in it. */
  cr_expect(!strcmp(list, "beta.txt,") || !strcmp(list, "beta.txt,o,"), "left behind: %s", list);
  free(list);
  if (exists_in("o")) {
    DIR *d = opendir(path_of("o"));
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) ++files;
    closedir(d);
    cr_expect_eq(files, 0, "files left in the output folder");
  }
}

Test(refuse, stale_lock_is_reused_and_removed) {
  write_file("r.lock", "", 0); /* left by a SIGKILL: not locked */
  run_ok(SMALL " --csv @/r.csv --quiet");
  cr_expect(!exists_in("r.lock"));
}

/* ---- output names and input files ------------------------------------------------------ */

/* A refusal that must not hang (a FIFO, /dev/zero): a test that blocks fails here. */
TestSuite(names, .init = make_dir, .fini = remove_dir, .timeout = 120);

/* A CSV named like another file of a run (its own or a sibling's) would be two files
 * at once: --csv x.jsonl wrote the CSV and the JSON Lines into one file, x.meta.json
 * was replaced by the metadata at once, x.md by a later report. Refused, naming the
 * file, before anything is written. */
Test(names, csv_named_like_another_file_of_a_run_is_refused) {
  static const char *const taken[] = {"x.jsonl", "x.meta.json", "x.fit.json", "x.md",
                                      "x.tex",   "x.png",       "x.pdf",      "x.lock",
                                      "x.shards", "x.csv.tmp"};
  for (size_t i = 0; i < sizeof taken / sizeof *taken; ++i) {
    expect_refused(run(SMALL " --csv @/o/%s --quiet", taken[i]), taken[i]);
    cr_expect(strstr(err, ".csv") != NULL, "no way out offered: %s", err);
  }
  expect_refused(run(SMALL " --csv @/o/. --quiet"), "directory");
  expect_refused(run(SMALL " --csv @ --quiet"), "directory"); /* an existing folder */
  char *list = names();
  cr_expect_str_eq(list, "", "a refused name left files behind: %s", list);
  free(list);
  run_ok(SMALL " --csv @/o/x.csv --quiet"); /* the same run under a CSV's name */
  cr_expect(exists_in("o/x.jsonl") && exists_in("o/x.meta.json"));
}

/* Inputs that are not regular files hung: /dev/zero as a scenario read for ever, a
 * FIFO blocked in open. Each is refused at once, saying what it is, and nothing is
 * written; a directory as a spectrum says so (it said "no values"). */
Test(names, inputs_that_are_not_regular_files_are_refused) {
  cr_assert_eq(mkfifo(path_of("fifo"), 0600), 0);
  cr_assert_eq(mkdir(path_of("folder"), 0700), 0);
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
    expect_refused(run("--sweep n --n 20 --p 10 --trials 2 --csv @/o/r.csv --quiet %s",
                       cases[i].flag), cases[i].culprit);
  }
  /* a run's files given to fit, report, missing */
  cr_assert_eq(mkfifo(path_of("run.meta.json"), 0600), 0);
  expect_refused(run("fit @/run --quiet"), "run.meta.json: is a FIFO");
  expect_refused(run("report @/run"), "run.meta.json: is a FIFO");
  expect_refused(run("missing @/run"), "run.meta.json: is a FIFO");
  unlink(path_of("run.meta.json"));
  unlink(path_of("fifo")); /* names() reads every file: a FIFO would block it */
  rmdir(path_of("folder"));
  char *list = names();
  cr_expect_str_eq(list, "", "a refused input left files behind: %s", list);
  free(list);
}

/* An empty scenario file silently ran the whole default job (into results/ unless
 * --csv said otherwise): refused, naming it, nothing written; /dev/null too. */
Test(names, a_scenario_without_a_setting_is_refused) {
  write_file("empty.ini", "", 0);
  write_file("comments.ini", "# p = 50\n\n", 10);
  static const char *const empty[] = {"@/empty.ini", "@/comments.ini", "/dev/null"};
  for (size_t i = 0; i < sizeof empty / sizeof *empty; ++i)
    expect_refused(run("--scenario %s --n 10 --p 5 --trials 1 --csv @/o/r.csv --quiet", empty[i]),
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
  char *good = slurp_in("r.jsonl");
  static const char *const bad[] = {"1e30", "\"inf\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    char *text = strdup(good), *line2 = strchr(text, '\n') + 1, *at = strstr(line2, "\"trials\":5,");
    cr_assert(at && at < strchr(line2, '\n'), "line 2 has no trials = 5");
    char edited[16384];
    snprintf(edited, sizeof edited, "%.*s\"trials\":%s,%s", (int)(at - text), text, bad[i],
             at + strlen("\"trials\":5,"));
    reseal(strchr(edited, '\n') + 1); /* its check matches: the count is what is read */
    write_file("r.jsonl", edited, strlen(edited));
    expect_refused(run("fit @/r --quiet"), "r.jsonl:2");
    cr_expect(strstr(err, "trials") != NULL, "trials = %s: the key is not named: %s", bad[i], err);
    expect_refused(run("report @/r"), "r.jsonl:2");
    cr_expect(strstr(err, "trials") != NULL, "trials = %s: the key is not named: %s", bad[i], err);
    /* resume: a damaged row, dropped with a warning naming it, its point recomputed */
    run_ok(SMALL " --csv @/r.csv --quiet");
    cr_expect(strstr(err, "r.jsonl:2: key 'trials' is not a count") != NULL, "warning: %s", err);
    expect_same_file("ref.csv", "r.csv");
    free(text);
  }
  free(good);
}

/* ---- row integrity (docs/run-format.md, "Reading a run") ----------------------------------- */

TestSuite(integrity, .init = make_dir, .fini = remove_dir, .timeout = 120);

#define RAW SMALL " --raw"

/* The span [*a, *b) of line `line` (1-based, newline excluded) of text. */
static void line_span(const char *text, size_t line, size_t *a, size_t *b) {
  const char *s = text;
  for (size_t l = 1; l < line; ++l) {
    s = strchr(s, '\n');
    cr_assert_not_null(s, "fewer than %zu lines", line);
    ++s;
  }
  const char *nl = strchr(s, '\n');
  cr_assert_not_null(nl, "fewer than %zu lines", line);
  *a = (size_t)(s - text), *b = (size_t)(nl - text);
}

/* @/NAME with its line `line` (1-based) replaced by `with` (its newline kept). */
static void put_line(const char *name, size_t line, const char *with) {
  char *text = slurp_in(name), *out;
  cr_assert_not_null(text, "%s missing", name);
  size_t a, b;
  line_span(text, line, &a, &b);
  cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)a, text, with, text + b), 0);
  write_file(name, out, strlen(out));
  free(text);
  free(out);
}

/* Line `line` (1-based) of @/NAME, without its newline (static buffer). */
static const char *get_line(const char *name, size_t line) {
  static char buf[16384];
  char *text = slurp_in(name);
  cr_assert_not_null(text, "%s missing", name);
  size_t a, b;
  line_span(text, line, &a, &b);
  snprintf(buf, sizeof buf, "%.*s", (int)(b - a), text + a);
  free(text);
  return buf;
}

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
  char line[16384], from[256];
  snprintf(line, sizeof line, "%s", get_line(name, 2));
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
  if (d->seal) reseal(edited);
  put_line(name, 2, edited);
}

/* A refusal (exit 2, one line) naming `where` and saying `what`. */
static void expect_named(int code, const char *where, const char *what, const char *label) {
  cr_expect_eq(code, 2, "%s: exit status %d (stderr: %s)", label, code, err);
  cr_expect(one_line(err), "%s: want one line, got '%s'", label, err);
  cr_expect(strstr(err, where) && strstr(err, what), "%s: '%s' does not name %s and say '%s'",
            label, err, where, what);
}

Test(integrity, a_damaged_row_is_recomputed_on_resume_and_refused_by_report_fit_and_merge) {
  run_ok(RAW " --csv @/ref.csv --quiet");
  run_ok("report @/ref");
  char *ref_md = slurp_in("ref.md");
  for (size_t i = 0; i < sizeof damages / sizeof *damages; ++i) {
    const damage *d = &damages[i];
    run_ok(RAW " --csv @/r.csv --quiet --force");
    damage_row("r.jsonl", d);
    expect_named(run("report @/r"), "r.jsonl:2", d->others ? d->others : d->resume, d->what);
    cr_expect(!exists_in("r.md"), "%s: a refused report wrote r.md", d->what);
    expect_named(run("fit @/r --quiet"), "r.jsonl:2", d->others ? d->others : d->resume, d->what);
    cr_expect(!exists_in("r.fit.json"), "%s: a refused fit wrote r.fit.json", d->what);
    run_ok(RAW " --csv @/r.csv --quiet");
    char want[256];
    snprintf(want, sizeof want, "r.jsonl:2: ");
    cr_expect(strstr(err, want) && strstr(err, d->resume) && strstr(err, "recomputed"),
              "%s: the resume's warning: '%s'", d->what, err);
    expect_same_file("ref.csv", "r.csv");
    cJSON *meta = json_file("r.meta.json");
    cr_expect_eq(meta_num(meta, "points_resumed"), 3, "%s: point 0 was recomputed", d->what);
    cJSON_Delete(meta);
    run_ok("report @/r");
    char *md = slurp_in("r.md");
    cr_expect_str_eq(strstr(md, "\n|"), strstr(ref_md, "\n|"), "%s: the report after resume", d->what);
    free(md);
    unlink(path_of("r.md"));
    unlink(path_of("r.tex"));
  }
  free(ref_md);
}

Test(integrity, a_row_of_another_scenario_is_refused_by_every_reader) {
  run_ok(RAW " --csv @/r.csv --quiet");
  run_ok(RAW " --seed 2 --csv @/o.csv --quiet");
  char row[16384];
  snprintf(row, sizeof row, "%s", get_line("o.jsonl", 2)); /* intact, of seed 2 */
  put_line("r.jsonl", 2, row);
  char *before = snapshot();
  int code = run(RAW " --csv @/r.csv --quiet");
  expect_named(code, "r.jsonl:2", "another scenario", "resume");
  cr_expect(strstr(err, "--force") != NULL, "%s", err);
  char *after = snapshot();
  cr_expect_str_eq(after, before, "a refused resume changed the folder");
  free(before), free(after);
  expect_named(run("report @/r"), "r.jsonl:2", "a row of another scenario", "report");
  expect_named(run("fit @/r --quiet"), "r.jsonl:2", "a row of another scenario", "fit");
}

/* The JSON Lines of @/NAME without what differs between two runs of one scenario:
 * each row's wall_s and its check (malloc'd). */
static char *stable_rows(const char *name) {
  char *text = slurp_in(name);
  cr_assert_not_null(text, "%s missing", name);
  char *out = text;
  for (const char *s = text; *s;) {
    const char *wall = strstr(s, "\"wall_s\":"), *check = strstr(s, ",\"check\":\"");
    const char *nl = strchr(s, '\n');
    cr_assert(wall && check && nl && wall < check && check < nl, "%s: a row without wall_s or check", name);
    const char *after_wall = wall + strcspn(wall, ",}");
    size_t n1 = (size_t)(wall - s), n2 = (size_t)(check - after_wall);
    memmove(out, s, n1), out += n1;
    memmove(out, after_wall, n2), out += n2;
    s = check + strlen(",\"check\":\"") + 16 + 1; /* the "}\n" stays */
    size_t n3 = (size_t)(nl + 1 - s);
    memmove(out, s, n3), out += n3;
    s = nl + 1;
  }
  *out = '\0';
  return text;
}

/* Two runs' JSON Lines hold the same rows, in the same order, but for wall_s and the checks. */
static void expect_same_rows(const char *a, const char *b) {
  char *x = stable_rows(a), *y = stable_rows(b);
  cr_expect_str_eq(x, y, "%s and %s hold other rows", a, b);
  free(x), free(y);
}

/* Two intact rows of different points swapped: out of order, not damaged. */
static void swap_lines(const char *name, size_t a, size_t b) {
  char la[16384], lb[16384];
  snprintf(la, sizeof la, "%s", get_line(name, a));
  snprintf(lb, sizeof lb, "%s", get_line(name, b));
  put_line(name, a, lb);
  put_line(name, b, la);
}

Test(integrity, swapped_intact_rows_are_read_in_grid_order) {
  run_ok(RAW " --sigma 0 --csv @/ref.csv --quiet");
  run_ok("report @/ref");
  run_ok("fit @/ref --quiet --window 20:80 --out @/a.json");
  run_ok(RAW " --sigma 0 --csv @/r.csv --quiet");
  swap_lines("r.jsonl", 2, 6); /* point 0's optimal row and point 1's */
  run_ok("report @/r");
  cr_expect_str_eq(err, "", "report: %s", err);
  char *a = slurp_in("ref.md"), *b = slurp_in("r.md");
  cr_expect_str_eq(strstr(b, "\n|"), strstr(a, "\n|"), "the report of the swapped run");
  free(a), free(b);
  run_ok("fit @/r --quiet --window 20:80 --out @/b.json");
  char *fa = slurp_in("a.json"), *fb = slurp_in("b.json");
  cr_expect(fa && fb && !strcmp(strstr(fa, "\"window\""), strstr(fb, "\"window\"")),
            "the fit of the swapped run differs");
  free(fa), free(fb);
  /* resume: nothing to compute, both files rewritten in grid order */
  run_ok(RAW " --sigma 0 --csv @/r.csv --quiet");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_resumed"), 4);
  cJSON_Delete(meta);
  expect_same_file("ref.csv", "r.csv");
  expect_same_rows("ref.jsonl", "r.jsonl");
}

Test(integrity, merge_refuses_a_damaged_shard_row_and_accepts_swapped_ones) {
  run_ok(RAW " --csv @/ref.csv --quiet");
  for (size_t i = 0; i < 5; ++i) { /* the unsealed damages: the check */
    const damage *d = &damages[i];
    run_ok(RAW " --csv @/s.csv --shard 1/2 --quiet --force");
    run_ok(RAW " --csv @/s.csv --shard 2/2 --quiet --force");
    damage_row("s.shards/shard-001-of-002.jsonl", d);
    expect_named(run("merge @/s.csv"), "shard-001-of-002.jsonl:2", d->resume, d->what);
    cr_expect(!exists_in("s.csv"), "%s: a refused merge wrote s.csv", d->what);
  }
  run_ok(RAW " --csv @/s.csv --shard 1/2 --quiet --force");
  run_ok(RAW " --csv @/s.csv --shard 2/2 --quiet --force");
  const char *two = count_lines("s.shards/shard-001-of-002.jsonl") >= 8
                        ? "s.shards/shard-001-of-002.jsonl" : "s.shards/shard-002-of-002.jsonl";
  cr_assert_geq(count_lines(two), 8, "a shard of two points");
  swap_lines(two, 2, 6);
  run_ok("merge @/s.csv");
  expect_same_file("ref.csv", "s.csv");
  expect_same_rows("ref.jsonl", "s.jsonl");
}

/* ---- grid order after a resume fills a hole ------------------------------------------------ */

/* @/NAME without its lines [first, last] (1-based). */
static void delete_lines(const char *name, size_t first, size_t last) {
  char *text = slurp_in(name), *out;
  cr_assert_not_null(text, "%s missing", name);
  size_t a, b, c, d;
  line_span(text, first, &a, &b);
  line_span(text, last, &c, &d);
  cr_assert_geq(asprintf(&out, "%.*s%s", (int)a, text, text + d + 1), 0);
  write_file(name, out, strlen(out));
  free(text), free(out);
}

Test(resume, a_hole_filled_by_a_resume_ends_in_grid_order) {
  two_runs(RAW);
  /* line 7: point 1's mask row (the point has 4 rows from line 5) */
  delete_lines("r.jsonl", 7, 7);
  run_ok(RAW " --csv @/r.csv --quiet");
  cr_expect(strstr(err, "point 1 has 3 of its 4 rows") != NULL, "warning: %s", err);
  expect_same_file("ref.csv", "r.csv");
  expect_same_rows("ref.jsonl", "r.jsonl");
  /* all of point 1's rows, and of point 2's, in two resumes */
  delete_lines("r.jsonl", 5, 8);
  run_ok(RAW " --csv @/r.csv --quiet");
  cr_expect_str_eq(err, "", "a point without rows is just not done: %s", err);
  expect_same_file("ref.csv", "r.csv");
  expect_same_rows("ref.jsonl", "r.jsonl");
  delete_lines("r.jsonl", 9, 12);
  delete_lines("r.jsonl", 1, 4);
  run_ok(RAW " --csv @/r.csv --quiet");
  expect_same_file("ref.csv", "r.csv");
  expect_same_rows("ref.jsonl", "r.jsonl");
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_resumed"), 2, "points 1 and 3 were kept");
  cJSON_Delete(meta);
}

/* ---- signals --------------------------------------------------------------------------------- */

/* Starts kdbench ARGS... in the background, stdout/stderr to @/bg.out / @/bg.err. */
static pid_t start(const char *const *args) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    int out = open(path_of("bg.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(path_of("bg.err"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(e, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)KDBENCH_BIN;
    for (; args[n - 1] && n < 31; ++n) argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    execv(KDBENCH_BIN, argv);
    _exit(127);
  }
  return pid;
}

/* Waits until @/NAME has a whole line (a point on disk); fails when the process
 * ended first. */
static void wait_for_a_point(pid_t pid, const char *name) {
  for (int i = 0; i < 60000; ++i) {
    char *text = slurp_in(name);
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
  static const char *const args[] = {"--sweep", "n", "--n", "20:400:log12", "--trials", "50",
                                     "--p", "100", "--quiet", "--csv", NULL, NULL};
  const char *argv[12];
  memcpy(argv, args, sizeof args);
  char csv[512];
  snprintf(csv, sizeof csv, "%s/r.csv", dir);
  argv[10] = csv;
  pid_t pid = start(argv);
  wait_for_a_point(pid, "r.jsonl");
  cr_assert_eq(kill(pid, sig), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  char *e = slurp_in("bg.err");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    cr_assert_fail("the run ended before the signal: make it longer (stderr: %s)", e);
  if (sig == SIGKILL) {
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  } else {
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == want_status,
              "%s: status %d, want exit %d (stderr: %s)", sig_name, status, want_status, e);
    cr_expect(one_line(e) && strstr(e, sig_name) != NULL, "message: '%s'", e);
    /* The points said to be kept are those on disk, whole, and they parse. */
    size_t lines = check_jsonl("r.jsonl", NULL);
    cr_expect_eq(lines % 4, 0, "%zu rows: a point is not whole", lines);
    char want[64];
    snprintf(want, sizeof want, "after %zu of 12 points", lines / 4);
    cr_expect(strstr(e, want) != NULL, "message '%s' does not say '%s'", e, want);
    cr_expect(strstr(e, "r.csv") != NULL, "message '%s' does not name the output", e);
    cr_expect_eq(count_lines("r.csv"), lines + 1, "the CSV and the records disagree");
    cJSON *meta = json_file("r.meta.json");
    cr_expect_eq(meta_num(meta, "points_done"), (double)(lines / 4));
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
    cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(meta, "finished")));
    cJSON_Delete(meta);
    cr_expect(!exists_in("r.lock"), "the lock outlives the stopped run");
  }
  free(e);
  size_t kept = count_lines("r.jsonl") / 4;
  cr_expect_lt(kept, 12, "all points were done");

  run_ok(LONGER " --csv @/r.csv --quiet");
  if (sig != SIGKILL) cr_expect_str_eq(err, "", "a clean stop needs no repair: '%s'", err);
  cJSON *meta = json_file("r.meta.json");
  cr_expect_geq(meta_num(meta, "points_resumed"), (double)kept);
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "complete")));
  cJSON_Delete(meta);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 48);
  run_ok(LONGER " --csv @/ref.csv --quiet");
  expect_same_file("ref.csv", "r.csv");
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
 * times and the checks (stable_rows), and no temporary file or lock is left. */
Test(signals, sigkill_at_random_moments_resumes_byte_identical) {
#define KILL_GRID "--sweep n --n 20:200:log8 --p 60 --trials 10 --quiet"
  static const char *const args[] = {"--sweep", "n", "--n", "20:200:log8", "--p", "60",
                                     "--trials", "10", "--quiet", "--csv", NULL, NULL};
  const char *argv[12];
  memcpy(argv, args, sizeof args);
  char csv[512];
  snprintf(csv, sizeof csv, "%s/r.csv", dir);
  argv[10] = csv;
  double t0 = seconds();
  run_ok(KILL_GRID " --csv @/ref.csv");
  const double whole = seconds() - t0; /* an uninterrupted run, start to exit */
  char *ref_jsonl = stable_rows("ref.jsonl");
  uint64_t rng = 18; /* xorshift64: the same moments on every run of the test */
  /* Rounds until 12 kills of a fresh run have landed in a running process (a kill
   * after the run ended tests nothing: the window then shrinks, the run was shorter
   * than the reference). */
  const int want = 12;
  int landed = 0, round = 0;
  double window = whole;
  for (; landed < want && round < 3 * want; ++round) {
    for (const char *const *f = (const char *const[]){"r.csv", "r.jsonl", "r.meta.json", NULL}; *f; ++f)
      unlink(path_of(*f));
    double at[2];
    for (int k = 0; k < 2; ++k) {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      /* within the first 70 % of a run (a started process skips the shell of run()), or
       * of the first half of the resume */
      at[k] = window * (double)(rng >> 11) / 9007199254740992.0 * (k ? 0.5 : 0.7);
      pid_t pid = start(argv);
      sleep_for(at[k]);
      kill(pid, SIGKILL);
      int status = 0;
      cr_assert_eq(waitpid(pid, &status, 0), pid);
      int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      cr_assert(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "round %d, start %d: status %d (%s)", round, k, status, slurp_in("bg.err"));
      if (k == 0 && killed) ++landed;
      else if (k == 0) window *= 0.8;
    }
    run_ok(KILL_GRID " --csv @/r.csv");
    expect_same_file("ref.csv", "r.csv");
    char *jsonl = stable_rows("r.jsonl");
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
  static const char *const args[] = {"--sweep", "n", "--n", "50,9000", "--p", "6000",
                                     "--trials", "2", "--pipelines", "strong", "--quiet",
                                     "--csv", NULL, NULL};
  const char *argv[14];
  memcpy(argv, args, sizeof args);
  char csv[512];
  snprintf(csv, sizeof csv, "%s/r.csv", dir);
  argv[12] = csv;
  setenv("OPENBLAS_NUM_THREADS", "1", 1); /* a trial of some 10 s (0.8 GB) on one core */
  pid_t pid = start(argv);
  unsetenv("OPENBLAS_NUM_THREADS");
  wait_for_a_point(pid, "r.jsonl");
  sleep_for(0.3); /* into the first trial of n = 9000 */
  double t0 = seconds();
  cr_assert_eq(kill(pid, SIGTERM), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  double took = seconds() - t0;
  char *e = slurp_in("bg.err");
  cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "the run ended before the signal");
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 143, "status %d (stderr: %s)", status, e);
  cr_expect_lt(took, 4.5, "the run took %.1f s to stop after SIGTERM", took);
  cr_expect(one_line(e) && strstr(e, "SIGTERM") && strstr(e, "r.csv"), "message: '%s'", e);
  free(e);
  cr_expect_eq(check_jsonl("r.jsonl", NULL), 1, "the finished point is not kept whole");
  cr_expect_eq(count_lines("r.csv"), 2);
  cJSON *meta = json_file("r.meta.json");
  cr_expect_eq(meta_num(meta, "points_done"), 1);
  cJSON_Delete(meta);
}

/* ---- resource limits ------------------------------------------------------------------- */

TestSuite(limits, .init = make_dir, .fini = remove_dir, .timeout = 120);

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
  run_prefix = "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 timeout -s KILL 60 prlimit --as=307200000 ";
  expect_refused(run(TIGHT_RUN), "ulimit -v");
  char *list = names();
  cr_expect_str_eq(list, "", "a refused run left files behind: %s", list);
  free(list);
  run_prefix = "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 timeout -s KILL 60 prlimit --as=3000000000 ";
  int code = run(TIGHT_RUN);
  run_prefix = "";
  cr_expect_eq(code, 0, "under 3 GB of address space: exit %d (%s)", code, err);
  cr_expect_eq(check_jsonl("o/x.jsonl", NULL), 1);
#undef TIGHT_RUN
}

/* Past the file-size limit (ulimit -f) SIGXFSZ killed kdbench without a word: the
 * write fails instead (EFBIG), one line says so and how many points are kept, and the
 * same command without the limit completes the run, byte-identical to one never
 * limited. */
Test(limits, file_size_limit_keeps_the_finished_points) {
  run_ok(LONGER " --csv @/ref.csv --quiet");
  size_t limit = line_start("ref.jsonl", 3 * 4) + 100; /* 3 points and a bit of the 4th */
  char prefix[128];
  snprintf(prefix, sizeof prefix, "prlimit --fsize=%zu ", limit);
  run_prefix = prefix;
  int code = run(LONGER " --csv @/r.csv --quiet");
  run_prefix = "";
  expect_refused(code, "r.jsonl");
  cr_expect(strstr(err, "File too large") && strstr(err, "3 finished point(s) kept"), "message: %s", err);
  run_ok(LONGER " --csv @/r.csv --quiet");
  expect_same_file("ref.csv", "r.csv");
}

Test(signals, second_writer_refused_while_the_first_runs) {
  static const char *const args[] = {"--sweep", "n", "--n", "20:400:log12", "--trials", "50",
                                     "--p", "100", "--quiet", "--csv", NULL, NULL};
  const char *argv[12];
  memcpy(argv, args, sizeof args);
  char csv[512];
  snprintf(csv, sizeof csv, "%s/r.csv", dir);
  argv[10] = csv;
  pid_t pid = start(argv);
  wait_for_a_point(pid, "r.jsonl");
  int code = run(LONGER " --csv @/r.csv --quiet");
  int status = 0;
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  expect_refused(code, "locked");
}

/* ---- outputs -------------------------------------------------------------------------------- */

Test(outputs, raw_risks_average_to_sim_mean) {
  run_ok(SMALL_GRID " --trials 7 --raw --csv @/raw.csv --quiet");
  run_ok(SMALL_GRID " --trials 7 --csv @/plain.csv --quiet");
  expect_same_file("raw.csv", "plain.csv"); /* --raw changes no number */
  char *text = slurp_in("raw.jsonl");
  size_t rows = 0;
  for (char *s = text, *nl; *s; s = nl + 1) {
    nl = strchr(s, '\n');
    *nl = '\0';
    cJSON *o = cJSON_Parse(s);
    cr_assert_not_null(o);
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
    cJSON_Delete(o);
    ++rows;
  }
  cr_expect_eq(rows, 16);
  free(text);
  text = slurp_in("plain.jsonl");
  cr_expect(strstr(text, "\"risks\"") == NULL, "risks without --raw");
  free(text);
}

Test(outputs, stderr_quiet_when_not_a_terminal) {
  run_ok(SMALL " --csv @/a.csv");
  cr_expect_str_eq(err, "", "stderr without --quiet: '%s'", err);
  char *out = slurp_in("stdout.txt");
  cr_expect(strstr(out, "# kdbench sweep over n") != NULL, "no table: %s", out);
  cr_expect_eq(count_lines("stdout.txt"), 4 + 16, "table: %s", out);
  free(out);
  run_ok(SMALL " --csv @/b.csv --quiet");
  cr_expect_str_eq(err, "", "stderr with --quiet: '%s'", err);
  out = slurp_in("stdout.txt");
  cr_expect_str_eq(out, "", "stdout with --quiet: '%s'", out);
  free(out);
}

Test(outputs, verbose_prints_a_line_per_point) {
  run_ok(SMALL " --csv @/a.csv --quiet --verbose");
  const char *s = err;
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
  cr_expect_str_eq(s, "", "more than 4 lines: %s", err);
}

Test(outputs, print_scenario_round_trip) {
  int code = run("--print-scenario --sweep n,p --n 20,40 --p 30,50 --trials 3 --ridge 0.01 "
                 "--csv @/a.csv");
  cr_assert_eq(code, 0, "%s", err);
  char *text = slurp_in("stdout.txt");
  write_file("s.ini", text, strlen(text));
  free(text);
  run_ok("--scenario @/s.ini --quiet");
  run_ok("--sweep n,p --n 20,40 --p 30,50 --trials 3 --ridge 0.01 --csv @/b.csv --quiet");
  cJSON *a = json_file("a.meta.json"), *b = json_file("b.meta.json");
  cr_expect_str_eq(meta_str(a, "scenario_hash"), meta_str(b, "scenario_hash"));
  cr_expect_eq(meta_num(a, "points_total"), 4);
  /* The scenario stored in the metadata runs the same scenario. */
  write_file("m.ini", meta_str(a, "scenario"), strlen(meta_str(a, "scenario")));
  cJSON_Delete(b);
  expect_same_file("a.csv", "b.csv");
  run_ok("--scenario @/m.ini --csv @/c.csv --quiet");
  b = json_file("c.meta.json");
  cr_expect_str_eq(meta_str(b, "scenario_hash"), meta_str(a, "scenario_hash"));
  cJSON_Delete(b);
  /* Flags override the file. */
  run_ok("--scenario @/s.ini --trials 2 --csv @/d.csv --quiet");
  b = json_file("d.meta.json");
  cr_expect_eq(meta_num(b, "trials"), 2);
  cr_expect_str_neq(meta_str(b, "scenario_hash"), meta_str(a, "scenario_hash"));
  cJSON_Delete(b);
  cJSON_Delete(a);
  /* --print-scenario with no flag prints the embedded default, which re-reads to the
   * same text. */
  cr_assert_eq(run("--print-scenario"), 0);
  text = slurp_in("stdout.txt");
  write_file("default.ini", text, strlen(text));
  cr_assert_eq(run("--scenario @/default.ini --print-scenario"), 0);
  char *again = slurp_in("stdout.txt");
  cr_expect_str_eq(again, text);
  free(text);
  free(again);
}

Test(outputs, presets) {
  cr_assert_eq(run("--list-presets"), 0);
  char *out = slurp_in("stdout.txt");
  cr_expect(strncmp(out, "fig1 ", 5) == 0 || strstr(out, "\nfig1 ") != NULL, "presets: %s", out);
  free(out);
  expect_refused(run("--preset nope --quiet"), "nope");
  cr_assert_eq(run("--preset fig1 --print-scenario"), 0);
  char *preset = slurp_in("stdout.txt");
  cr_assert_eq(run("--print-scenario"), 0);
  out = slurp_in("stdout.txt");
  cr_expect_str_eq(preset, out, "--preset fig1 is not the default");
  free(preset);
  free(out);
  expect_refused(run("--scenario @/nope.ini"), "nope.ini");
  const char *bad = "[problem]\np = 50\n[sweep]\nbogus = 1\n";
  write_file("bad.ini", bad, strlen(bad));
  expect_refused(run("--scenario @/bad.ini --csv @/r.csv --quiet"), "bad.ini:4");
  cr_expect(strstr(err, "bogus") != NULL, "message: %s", err);
  cr_expect(!exists_in("r.csv"));
}

/* ---- axes swept without values ---------------------------------------------------------- */

/* The values of CSV column `col` (0-based) in the rows of `pipeline` of @/NAME. */
static size_t column(const char *name, const char *pipeline, int col, double *v, size_t max) {
  char *csv = slurp_in(name);
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
  run_ok("%s --csv @/grid.csv", common);
  cJSON *meta = json_file("grid.meta.json");
  cr_expect_eq(meta_num(meta, "points_total"), (double)count, "--sweep %s: points", axis);
  cJSON_Delete(meta);
  double v[16];
  size_t n = column("grid.csv", pipeline, col, v, 16);
  cr_expect_eq(n, count, "--sweep %s: %zu %s rows, want %zu", axis, n, pipeline, count);
  for (size_t i = 0; i < n && i < count; ++i)
    cr_expect(fabs(v[i] - want[i]) <= 1e-9 * fabs(want[i]), "--sweep %s: point %zu at %.10g, want %.10g",
              axis, i, v[i], want[i]);
  run_ok("--preset fig1 %s --csv @/preset.csv", common);
  expect_same_file("grid.csv", "preset.csv");

  run_ok("%s --%s %s --csv @/one.csv", common, axis, value);
  cr_expect_eq(column("one.csv", pipeline, col, v, 16), 1, "--sweep %s --%s %s", axis, axis, value);
  cr_expect_eq(v[0], strtod(value, NULL));
  const char *section = !strcmp(axis, "m") ? "teacher" : !strcmp(axis, "ridge") ? "student" : "problem";
  char ini[256];
  int len = snprintf(ini, sizeof ini, "[%s]\n%s = %s\n", section, axis, value);
  write_file("one.ini", ini, (size_t)len);
  run_ok("--scenario @/one.ini %s --csv @/file.csv", common);
  expect_same_file("one.csv", "file.csv");
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
    cr_assert_eq(run("--print-scenario --sweep %s --n 100", lines[i][0]), 0, "%s", err);
    char *out = slurp_in("stdout.txt");
    cr_expect(strstr(out, lines[i][1]) != NULL, "--print-scenario --sweep %s:\n%s", lines[i][0], out);
    free(out);
  }
  /* The printed scenario runs the same grid: the same hash, the same numbers. */
  const char *args = "--sweep ridge --n 100 --p 200 --trials 2 --pipelines strong";
  cr_assert_eq(run("--print-scenario %s --csv @/a.csv", args), 0, "%s", err);
  char *text = slurp_in("stdout.txt");
  write_file("s.ini", text, strlen(text));
  free(text);
  run_ok("--scenario @/s.ini --quiet");
  run_ok("%s --csv @/b.csv --quiet", args);
  expect_same_file("a.csv", "b.csv");
  cJSON *a = json_file("a.meta.json"), *b = json_file("b.meta.json");
  cr_expect_str_eq(meta_str(a, "scenario_hash"), meta_str(b, "scenario_hash"));
  cr_expect_eq(meta_num(a, "points_total"), 9);
  cJSON_Delete(a);
  cJSON_Delete(b);
}
