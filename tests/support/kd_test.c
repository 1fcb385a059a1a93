/* The suites' shared support (tests/support/kd_test.h). */
#include "kd_test.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

char *kd_test_read(const char *name, size_t *len) {
  FILE *f = fopen(kd_test_path(name), "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&buf, &size);
  cr_assert_not_null(mem);
  char chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, mem);
  fclose(f);
  fclose(mem);
  if (len) *len = size;
  return buf;
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

static int run_args(const char *prefix, const char *args) {
  char *cmd = NULL;
  size_t cap = 0;
  FILE *c = open_memstream(&cmd, &cap);
  cr_assert_not_null(c);
  fprintf(c, "cd '%s' && %s%s ", kd_test_dir, prefix, KDBENCH_BIN);
  for (const char *s = args; *s; ++s) {
    if (*s == '@') fputs(kd_test_dir, c);
    else fputc(*s, c);
  }
  fputs(" >stdout.txt 2>stderr.txt", c);
  fclose(c);
  int status = system(cmd);
  free(cmd);
  char *e = kd_test_read("stderr.txt", NULL);
  cr_assert_not_null(e, "the shell did not run kdbench");
  snprintf(kd_test_err, sizeof kd_test_err, "%s", e);
  free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
