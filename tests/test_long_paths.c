/* Paths longer than any buffer of kdbench (4500 bytes of nested 250-byte folder names,
 * beyond PATH_MAX): every command refuses them in one line naming the path, exit 2,
 * and writes nothing; none is cut short into another, shorter path. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kd_test.h"

TestSuite(long_paths, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

#define SMALL "--sweep n --n 20:40:log2 --p 40 --trials 2 --quiet"

/* 18 folders of 250 'd's: 4517 bytes, then `leaf`. */
static const char *long_path(const char *leaf) {
  static char buf[5000];
  size_t used = 0;
  for (int i = 0; i < 18; ++i) {
    memset(buf + used, 'd', 250);
    used += 250;
    buf[used++] = '/';
  }
  snprintf(buf + used, sizeof buf - used, "%s", leaf);
  return buf;
}

/* The first 300 bytes of the path: what the message must name (the folder it starts with). */
static const char *head_of(const char *path) {
  static char buf[301];
  memcpy(buf, path, 300);
  buf[300] = '\0';
  return buf;
}

Test(long_paths, a_long_csv_is_refused_and_nothing_is_written) {
  const char *csv = long_path("run.csv");
  kd_test_expect_refused(kd_test_run(SMALL " --csv %s", csv), "--csv");
  cr_expect(!kd_test_exists("dddd"), "a folder was made for a refused --csv");
}

Test(long_paths, fit_report_merge_missing_refuse_a_long_run) {
  kd_test_run_ok(SMALL " --csv run.csv");
  const char *run = long_path("run");
  const char *cmds[] = {"fit", "report", "merge", "missing"};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; ++i) {
    kd_test_expect_refused(kd_test_run("%s %s", cmds[i], run), head_of(run));
    cr_expect(strstr(kd_test_err, "too long"), "%s: '%s' does not say the path is too long",
              cmds[i], kd_test_err);
  }
  cr_expect(!kd_test_exists("dddd"), "a folder was made for a refused run");
}

Test(long_paths, a_long_fit_out_is_refused_and_nothing_is_written) {
  kd_test_run_ok(SMALL " --csv run.csv");
  const char *out = long_path("x.fit.json");
  kd_test_expect_refused(kd_test_run("fit run --quiet --out %s", out), head_of(out));
  cr_expect(!kd_test_exists("run.fit.json") && !kd_test_exists("dddd"),
            "a refused --out wrote a file");
}
