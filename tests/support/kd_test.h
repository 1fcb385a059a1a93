/* What the test suites share (tests/support/kd_test.c): a fresh folder per test, files
 * in it, the real kdbench binary run in it, and the checks of a refusal. A suite
 * declares `TestSuite(name, .init = kd_test_dir_make, .fini = kd_test_dir_remove)`;
 * every path below that does not start with '/' is inside that folder. */
#ifndef KDBENCH_TEST_SUPPORT_H
#define KDBENCH_TEST_SUPPORT_H

#include <cJSON.h>
#include <stddef.h>
#include <sys/types.h>

/* The test's folder, /tmp/kdbench-test-XXXXXX, made by kd_test_dir_make. */
extern char kd_test_dir[256];
void kd_test_dir_make(void);
/* Removes the folder and everything in it. */
void kd_test_dir_remove(void);

/* name inside the test folder (absolute names as they are). The result lives until
 * eight more calls. */
const char *kd_test_path(const char *name);
/* The same for a name given printf-style, e.g. ("%s.meta.json", run). */
const char *kd_test_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The bytes of a file, NUL-terminated (*len without the NUL, when len is not NULL),
 * or NULL when it cannot be read. The caller frees. */
char *kd_test_read(const char *name, size_t *len);
/* The same for a file that must be there: asserts that it can be read. */
char *kd_test_text(const char *name);
/* Writes text (kd_test_write_bytes: len bytes of it) to the file, asserting success. */
void kd_test_write(const char *name, const char *text);
void kd_test_write_bytes(const char *name, const char *text, size_t len);
/* Writes the file as the JSON of o (cJSON_Print's). */
void kd_test_write_json(const char *name, const cJSON *o);
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

/* Runs a shell command line (printf-style) from the test folder, with $K the binary,
 * standard output to stdout.txt and standard error to stderr.txt there. Returns the
 * exit status (-1 when killed by a signal); standard error is then in kd_test_err. */
int kd_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Starts `KDBENCH_BIN ARGS` ('@' as for kd_test_run) in the background from the test
 * folder, standard output to bg.out and standard error to bg.err there, no signal
 * blocked or ignored; returns its process id (the shell execs the binary, so a signal
 * reaches kdbench itself once it runs). The caller waits for it. */
pid_t kd_test_start(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when text is exactly one line (one '\n', at its end). */
int kd_test_one_line(const char *text);
/* The last run (kd_test_run, kd_test_sh) was refused as bad input is: exit status
 * `code` (2), one line "kdbench: ..." on standard error that names `culprit`. */
void kd_test_expect_refused(int code, const char *culprit);

/* Expects two files to hold the same bytes (the message shows where they part);
 * returns 1 when they do, for a caller that says more. */
int kd_test_expect_same_file(const char *a, const char *b);
/* The number of lines ('\n') of a file, 0 when it cannot be read. */
size_t kd_test_count_lines(const char *name);
/* Line `line` (1-based) of a file without its newline (asserts that it has it); the
 * caller frees. */
char *kd_test_line(const char *name, size_t line);
/* Replaces line `line` (1-based) of a file by `with`, its newline kept; with NULL the
 * line and its newline are deleted. */
void kd_test_set_line(const char *name, size_t line, const char *with);

/* The item at a dotted key ("merged.partial") of an object, NULL when absent. */
const cJSON *kd_test_item(const cJSON *o, const char *key);
/* The number, the string at a dotted key (asserts that it is one). */
double kd_test_num(const cJSON *o, const char *key);
const char *kd_test_str(const cJSON *o, const char *key);
/* The number at a dotted key of a JSON file, a boolean as 1 or 0; NAN when the file
 * cannot be read or parsed (a run may be writing it) or holds no such number. */
double kd_test_json_num(const char *name, const char *key);

/* A run's JSON Lines file (docs/run-format.md) as an array of its rows, asserting that
 * every line is whole and an object; cJSON_Delete it. */
cJSON *kd_test_rows(const char *name);
/* Gives the row that starts at `row` (inside a JSON Lines text) the integrity check
 * of its text as edited, so that a reader is asked about the edit itself: the check
 * is the FNV-1a 64 of the row's text before ',"check":'. */
void kd_test_reseal(char *row);
/* A JSON Lines file without what differs between two runs of one scenario, each row's
 * wall_s and its check; the caller frees. */
char *kd_test_stable_rows(const char *name);
/* Expects two JSON Lines files to hold the same rows in the same order, wall_s and
 * the checks aside. */
void kd_test_expect_same_rows(const char *a, const char *b);

/* Skips the test, removing its folder (a skipped test does not reach its suite's
 * .fini), where pdflatex or booktabs.sty is missing. */
void kd_test_need_latex(void);
/* Compiles doc.tex, an article with booktabs that \input-s each of `inputs` (names in
 * the test folder, NULL-terminated), with pdflatex; asserts that it succeeded with no
 * LaTeX error ("! ..."). Returns doc.log for further checks; the caller frees. */
char *kd_test_latex(const char *const *inputs);
/* The same in an article with class options `options` ("twocolumn", "" for none) that
 * also loads `packages` ("graphicx", "" for none); asserts, besides, that no line is
 * overfull (the log has no "Overfull \\hbox"). */
char *kd_test_latex_in(const char *options, const char *packages, const char *const *inputs);

#endif
