/* scripts/plot_run.py on the fixture runs: both figures written, bad input gives one
 * line and exit status 2. Skipped (with the reason) without Debian's matplotlib. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

#define PY "/usr/bin/python3"

TestSuite(plot, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

static void need_matplotlib(void) {
  if (system(PY " -c 'import matplotlib' 2>/dev/null") != 0)
    cr_skip_test("no matplotlib for " PY " (scripts/setup.sh installs python3-matplotlib)");
}

/* scripts/plot_run.py ARGS, its figures into the test folder: its exit status, its
 * standard error in kd_test_err. */
static int plot(const char *args) {
  return kd_test_sh(PY " " KDBENCH_SOURCE_DIR "/scripts/plot_run.py %s --out .", args);
}

/* The size of a file of the test folder, -1 when there is none. */
static long size_of(const char *name) {
  size_t len = 0;
  char *bytes = kd_test_read(name, &len);
  if (!bytes) return -1;
  free(bytes);
  return (long)len;
}

Test(plot, one_axis_and_two_axes) {
  need_matplotlib();
  cr_assert_eq(plot(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini"), 0, "%s", kd_test_err);
  cr_expect_gt(size_of("fig1-mini.png"), 10000, "a PNG of some substance");
  cr_expect_gt(size_of("fig1-mini.pdf"), 5000);
  cr_assert_eq(plot(KDBENCH_SOURCE_DIR "/tests/data/grid-np.csv"), 0, "%s", kd_test_err);
  cr_expect_gt(size_of("grid-np.png"), 10000);
}

/* The pipelines, their names and order, are the run's meta.json's: fig1-mini with
 * strong renamed (a pipeline the script has no style for) plots, and a row of a
 * pipeline the meta does not list is refused, naming the file and line. */
Test(plot, pipelines_are_the_runs) {
  need_matplotlib();
  cr_assert_eq(kd_test_sh("d=%s/tests/data/fig1-mini; sed s/strong/chain3/ $d.csv > new.csv && "
                          "sed s/strong/chain3/ $d.meta.json > new.meta.json && "
                          "cp new.csv old.csv && cp $d.meta.json old.meta.json",
                          KDBENCH_SOURCE_DIR),
               0, "%s", kd_test_err);
  cr_assert_eq(plot("new --formats png"), 0, "%s", kd_test_err);
  cr_expect_gt(size_of("new.png"), 10000);
  cr_expect_eq(plot("old --formats png"), 2);
  cr_expect(strstr(kd_test_err, "old.csv:2: column pipeline: 'chain3' is not a pipeline") != NULL,
            "%s", kd_test_err);
  cr_expect(kd_test_one_line(kd_test_err), "one line: %s", kd_test_err);
}

Test(plot, bad_input_one_line_exit_2) {
  need_matplotlib();
  cr_expect_eq(plot("/nonexistent/run"), 2);
  cr_expect(strstr(kd_test_err, "/nonexistent/run") != NULL, "names the run: %s", kd_test_err);
  cr_expect(kd_test_one_line(kd_test_err), "one line: %s", kd_test_err);
  cr_expect_eq(plot(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini --formats gif"), 2);
}
