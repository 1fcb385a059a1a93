/* What the test suites share (tests/support/kd_test.c): a fresh folder per test, files
 * in it, the real kdbench binary run in it, and the checks of a refusal. A suite
 * declares `TestSuite(name, .init = kd_test_dir_make, .fini = kd_test_dir_remove)`;
 * every path below that does not start with '/' is inside that folder. */
#ifndef KDBENCH_TEST_SUPPORT_H
#define KDBENCH_TEST_SUPPORT_H

#include <cJSON.h>
#include <stddef.h>

/* The test's folder, /tmp/kdbench-test-XXXXXX, made by kd_test_dir_make. */
extern char kd_test_dir[256];
void kd_test_dir_make(void);
/* Removes the folder and everything in it. */
void kd_test_dir_remove(void);

/* name inside the test folder (absolute names as they are). The result lives until
 * eight more calls. */
const char *kd_test_path(const char *name);
/* The bytes of a file, NUL-terminated (*len without the NUL, when len is not NULL),
 * or NULL when it cannot be read. The caller frees. */
char *kd_test_read(const char *name, size_t *len);
/* Writes text (kd_test_write_bytes: len bytes of it) to the file, asserting success. */
void kd_test_write(const char *name, const char *text);
void kd_test_write_bytes(const char *name, const char *text, size_t len);
int kd_test_exists(const char *name);
/* The file parsed as JSON (asserts that it exists and parses); cJSON_Delete it. */
cJSON *kd_test_json(const char *name);

/* Runs `KDBENCH_BIN ARGS` through the shell (printf-style; each '@' in ARGS stands for
 * the test folder), from the test folder, with standard output to stdout.txt and
 * standard error to stderr.txt there (files: not a terminal). Returns the exit status
 * (-1 when killed by a signal); standard error is then in kd_test_err. */
int kd_test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with `prefix` before the binary: limits or an environment, e.g.
 * "prlimit --fsize=4096 " or "timeout -s KILL 60 ". */
int kd_test_run_under(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, asserting exit status 0 (the message shows standard error). */
void kd_test_run_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char kd_test_err[8192];

/* 1 when text is exactly one line (one '\n', at its end). */
int kd_test_one_line(const char *text);
/* The last kd_test_run was refused as bad input is: exit status `code` (2), one line
 * "kdbench: ..." on standard error that names `culprit`. */
void kd_test_expect_refused(int code, const char *culprit);

#endif
