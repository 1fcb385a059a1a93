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

Test(plot, bad_input_one_line_exit_2) {
  need_matplotlib();
  cr_expect_eq(plot("/nonexistent/run"), 2);
  cr_expect(strstr(kd_test_err, "/nonexistent/run") != NULL, "names the run: %s", kd_test_err);
  cr_expect(kd_test_one_line(kd_test_err), "one line: %s", kd_test_err);
  cr_expect_eq(plot(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini --formats gif"), 2);
}
