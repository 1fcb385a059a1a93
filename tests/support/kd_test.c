/* The suites' shared support (tests/support/kd_test.h). */
#include "kd_test.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdbench/file_io.h"
#include "kdbench/hash.h"

char kd_test_dir[256];
char kd_test_err[8192];

void kd_test_dir_make(void) {
  snprintf(kd_test_dir, sizeof kd_test_dir, "/tmp/kdbench-test-XXXXXX");
  cr_assert_not_null(mkdtemp(kd_test_dir), "cannot make a test folder under /tmp");
}

void kd_test_dir_remove(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", kd_test_dir);
  cr_assert_eq(system(cmd), 0, "cannot remove %s", kd_test_dir);
}

const char *kd_test_path(const char *name) {
  static char buf[8][4096];
  static unsigned next;
  char *p = buf[next++ % 8];
  if (name[0] == '/') snprintf(p, sizeof buf[0], "%s", name);
  else snprintf(p, sizeof buf[0], "%s/%s", kd_test_dir, name);
  return p;
}

const char *kd_test_pathf(const char *fmt, ...) {
  char name[1024]; /* with the folder's name, within kd_test_path's buffer */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  return kd_test_path(name);
}

char *kd_test_read(const char *name, size_t *len) {
  return kd_file_read(kd_test_path(name), len);
}

char *kd_test_text(const char *name) {
  char *text = kd_test_read(name, NULL);
  cr_assert_not_null(text, "cannot read %s", kd_test_path(name));
  return text;
}

void kd_test_write_bytes(const char *name, const char *text, size_t len) {
  const char *path = kd_test_path(name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(text, 1, len, f), len, "cannot write %s", path);
  cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

void kd_test_write(const char *name, const char *text) {
  kd_test_write_bytes(name, text, strlen(text));
}

void kd_test_write_json(const char *name, const cJSON *o) {
  char *text = cJSON_Print(o);
  cr_assert_not_null(text);
  kd_test_write(name, text);
  free(text);
}

int kd_test_exists(const char *name) {
  struct stat sb;
  return stat(kd_test_path(name), &sb) == 0;
}

cJSON *kd_test_json(const char *name) {
  char *text = kd_test_read(name, NULL);
  cr_assert_not_null(text, "%s missing", name);
  cJSON *o = cJSON_Parse(text);
  free(text);
  cr_assert_not_null(o, "%s does not parse as JSON", name);
  return o;
}

/* "cd DIR && PREFIX KDBENCH_BIN ARGS REDIRECT", each '@' in ARGS the test folder
 * (malloc'd). */
static char *command(const char *prefix, const char *args, const char *redirect) {
  char *cmd = NULL;
  size_t cap = 0;
  FILE *c = open_memstream(&cmd, &cap);
  cr_assert_not_null(c);
  fprintf(c, "cd '%s' && %s%s ", kd_test_dir, prefix, KDBENCH_BIN);
  for (const char *s = args; *s; ++s) {
    if (*s == '@') fputs(kd_test_dir, c);
    else fputc(*s, c);
  }
  fputs(redirect, c);
  fclose(c);
  return cmd;
}

/* The exit status of a shell command whose standard error went to stderr.txt, which
 * is then in kd_test_err. */
static int finished(int status) {
  char *e = kd_test_read("stderr.txt", NULL);
  cr_assert_not_null(e, "the shell did not run the command");
  snprintf(kd_test_err, sizeof kd_test_err, "%s", e);
  free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run_args(const char *prefix, const char *args) {
  char *cmd = command(prefix, args, " >stdout.txt 2>stderr.txt");
  int status = system(cmd);
  free(cmd);
  return finished(status);
}

int kd_test_run(const char *fmt, ...) {
  char args[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return run_args("", args);
}

int kd_test_run_under(const char *prefix, const char *fmt, ...) {
  char args[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return run_args(prefix, args);
}

void kd_test_run_ok(const char *fmt, ...) {
  char args[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  int code = run_args("", args);
  cr_assert_eq(code, 0, "kdbench %s: exit status %d (stderr: %s)", args, code, kd_test_err);
}

/* The text of a printf format and its arguments (malloc'd). */
static char *vformat(const char *fmt, va_list ap) {
  char *text = NULL;
  cr_assert_geq(vasprintf(&text, fmt, ap), 0);
  return text;
}

int kd_test_sh(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *line = vformat(fmt, ap);
  va_end(ap);
  char *cmd = NULL;
  cr_assert_geq(asprintf(&cmd, "cd '%s' && export K='%s' && (%s) >stdout.txt 2>stderr.txt",
                         kd_test_dir, KDBENCH_BIN, line), 0);
  free(line);
  int status = system(cmd);
  free(cmd);
  return finished(status);
}

pid_t kd_test_start(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *args = vformat(fmt, ap);
  va_end(ap);
  char *cmd = command("exec ", args, " >bg.out 2>bg.err");
  free(args);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) { /* the runner may block or ignore the signals a test sends */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  free(cmd);
  return pid;
}

int kd_test_one_line(const char *text) {
  const char *nl = strchr(text, '\n');
  return nl && nl[1] == '\0';
}

void kd_test_expect_refused(int code, const char *culprit) {
  cr_expect_eq(code, 2, "exit status %d, want 2 (stderr: %s)", code, kd_test_err);
  cr_expect(strncmp(kd_test_err, "kdbench: ", 9) == 0 && kd_test_one_line(kd_test_err),
            "want one line 'kdbench: ...', got '%s'", kd_test_err);
  cr_expect(strstr(kd_test_err, culprit) != NULL, "message '%s' does not name '%s'", kd_test_err,
            culprit);
}

int kd_test_expect_same_file(const char *a, const char *b) {
  size_t la = 0, lb = 0;
  char *x = kd_test_read(a, &la), *y = kd_test_read(b, &lb);
  cr_assert_not_null(x, "%s missing", a);
  cr_assert_not_null(y, "%s missing", b);
  size_t at = 0, line = 1, from = 0; /* the first difference, its line and where it starts */
  for (; at < la && at < lb && x[at] == y[at]; ++at)
    if (x[at] == '\n') ++line, from = at + 1;
  cr_expect(at == la && at == lb, "%s and %s differ from line %zu (%zu and %zu bytes):\n%.*s\n%.*s", a,
            b, line, la, lb, (int)strcspn(x + from, "\n"), x + from, (int)strcspn(y + from, "\n"),
            y + from);
  free(x);
  free(y);
  return at == la && at == lb;
}

size_t kd_test_count_lines(const char *name) {
  char *text = kd_test_read(name, NULL);
  size_t n = 0;
  for (char *s = text; s && *s; ++s) n += *s == '\n';
  free(text);
  return n;
}

/* The span [*a, *b) of line `line` (1-based, newline excluded) of text. */
static void line_span(const char *name, const char *text, size_t line, size_t *a, size_t *b) {
  const char *s = text;
  for (size_t l = 1; l < line; ++l) {
    s = strchr(s, '\n');
    cr_assert_not_null(s, "%s has fewer than %zu lines", name, line);
    ++s;
  }
  const char *nl = strchr(s, '\n');
  cr_assert_not_null(nl, "%s has fewer than %zu lines", name, line);
  *a = (size_t)(s - text), *b = (size_t)(nl - text);
}

char *kd_test_line(const char *name, size_t line) {
  char *text = kd_test_read(name, NULL), *out;
  cr_assert_not_null(text, "%s missing", name);
  size_t a, b;
  line_span(name, text, line, &a, &b);
  out = strndup(text + a, b - a);
  cr_assert_not_null(out);
  free(text);
  return out;
}

void kd_test_set_line(const char *name, size_t line, const char *with) {
  char *text = kd_test_read(name, NULL), *out;
  cr_assert_not_null(text, "%s missing", name);
  size_t a, b;
  line_span(name, text, line, &a, &b);
  if (with) cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)a, text, with, text + b), 0);
  else cr_assert_geq(asprintf(&out, "%.*s%s", (int)a, text, text + b + 1), 0);
  kd_test_write(name, out);
  free(text);
  free(out);
}

const cJSON *kd_test_item(const cJSON *o, const char *key) {
  for (const char *k = key; o && *k;) {
    size_t n = strcspn(k, ".");
    char part[128];
    cr_assert_lt(n, sizeof part, "key '%s' too long", key);
    memcpy(part, k, n);
    part[n] = '\0';
    o = cJSON_GetObjectItemCaseSensitive(o, part);
    k += n + (k[n] == '.');
  }
  return o;
}

double kd_test_num(const cJSON *o, const char *key) {
  const cJSON *x = kd_test_item(o, key);
  cr_assert(cJSON_IsNumber(x), "'%s' is not a number", key);
  return x->valuedouble;
}

const char *kd_test_str(const cJSON *o, const char *key) {
  const cJSON *x = kd_test_item(o, key);
  cr_assert(cJSON_IsString(x), "'%s' is not a string", key);
  return x->valuestring;
}

double kd_test_json_num(const char *name, const char *key) {
  char *text = kd_test_read(name, NULL);
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  free(text);
  const cJSON *x = kd_test_item(o, key);
  double v = cJSON_IsNumber(x) ? x->valuedouble : cJSON_IsBool(x) ? cJSON_IsTrue(x) : NAN;
  cJSON_Delete(o);
  return v;
}

cJSON *kd_test_rows(const char *name) {
  char *text = kd_test_read(name, NULL);
  cr_assert_not_null(text, "%s missing", name);
  cJSON *rows = cJSON_CreateArray();
  cr_assert_not_null(rows);
  size_t line = 0;
  for (char *s = text, *nl; *s; s = nl + 1) {
    nl = strchr(s, '\n');
    ++line;
    cr_assert_not_null(nl, "%s:%zu: the last line has no newline", name, line);
    *nl = '\0';
    cJSON *o = cJSON_Parse(s);
    cr_assert(cJSON_IsObject(o), "%s:%zu does not parse as an object: %s", name, line, s);
    cJSON_AddItemToArray(rows, o);
  }
  free(text);
  return rows;
}

void kd_test_reseal(char *row) {
  char *nl = strchr(row, '\n'), *at = strstr(row, ",\"check\":\""), hex[17];
  cr_assert(at && (!nl || at < nl), "no check in the row");
  kd_hash_hex(kd_fnv1a(KD_FNV_INIT, row, (size_t)(at - row)), hex);
  memcpy(at + strlen(",\"check\":\""), hex, 16);
}

char *kd_test_stable_rows(const char *name) {
  char *text = kd_test_read(name, NULL);
  cr_assert_not_null(text, "%s missing", name);
  char *out = text; /* rewritten in place: it only shrinks */
  for (const char *s = text; *s;) {
    const char *wall = strstr(s, "\"wall_s\":"), *check = strstr(s, ",\"check\":\"");
    const char *nl = strchr(s, '\n');
    cr_assert(wall && check && nl && wall < check && check < nl, "%s: a row without wall_s or check",
              name);
    const char *after_wall = wall + strcspn(wall, ",}");
    if (wall > s && wall[-1] == ',') --wall; /* its comma goes with it */
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

void kd_test_expect_same_rows(const char *a, const char *b) {
  char *x = kd_test_stable_rows(a), *y = kd_test_stable_rows(b);
  cr_expect_str_eq(x, y, "%s and %s hold other rows", a, b);
  free(x);
  free(y);
}

void kd_test_need_latex(void) {
  if (kd_test_sh("command -v pdflatex >/dev/null 2>&1 && kpsewhich booktabs.sty >/dev/null 2>&1")) {
    kd_test_dir_remove();
    cr_skip_test("pdflatex or booktabs.sty not installed (scripts/setup.sh installs them)");
  }
}

static char *latex(const char *options, const char *packages, const char *const *inputs) {
  char *doc = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&doc, &len);
  cr_assert_not_null(f);
  fprintf(f, "\\documentclass[%s]{article}\n\\usepackage{booktabs%s%s}\n\\begin{document}\n",
          options, *packages ? "," : "", packages);
  for (const char *const *in = inputs; *in; ++in) fprintf(f, "\\input{%s}\n", *in);
  fputs("\\end{document}\n", f);
  fclose(f);
  kd_test_write("doc.tex", doc);
  free(doc);
  int rc = kd_test_sh("pdflatex -interaction=nonstopmode -halt-on-error doc.tex >latex.out 2>&1");
  char *log = kd_test_read("doc.log", NULL);
  cr_assert_eq(rc, 0, "pdflatex failed:\n%s", log ? log : "(no log)");
  cr_assert_null(strstr(log, "\n! "), "a LaTeX error:\n%s", log);
  return log;
}

char *kd_test_latex(const char *const *inputs) { return latex("", "", inputs); }

char *kd_test_latex_in(const char *options, const char *packages, const char *const *inputs) {
  char *log = latex(options, packages, inputs);
  cr_assert_null(strstr(log, "Overfull \\hbox"), "an overfull line ([%s]{article}):\n%s", options,
                 log);
  return log;
}
