/* scripts/plot_run.py on the fixture runs: both figures written, bad input gives one
 * line and exit status 2. Skipped (with the reason) without Debian's matplotlib. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PY "/usr/bin/python3"

static char dir[64];

static void setup(void) {
  if (system(PY " -c 'import matplotlib' 2>/dev/null") != 0)
    cr_skip_test("no matplotlib for " PY " (scripts/setup.sh installs python3-matplotlib)");
  snprintf(dir, sizeof dir, "/tmp/kdbench-plot-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static int run(const char *args) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, PY " %s/scripts/plot_run.py %s --out %s 2>%s/err.txt", KDBENCH_SOURCE_DIR,
           args, dir, dir);
  int status = system(cmd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static long size_of(const char *name) {
  char path[256];
  struct stat sb;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(plot, one_axis_and_two_axes) {
  setup();
  cr_assert_eq(run(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini"), 0);
  cr_expect_gt(size_of("fig1-mini.png"), 10000, "a PNG of some substance");
  cr_expect_gt(size_of("fig1-mini.pdf"), 5000);
  cr_assert_eq(run(KDBENCH_SOURCE_DIR "/tests/data/grid-np.csv"), 0);
  cr_expect_gt(size_of("grid-np.png"), 10000);
  cleanup();
}

Test(plot, bad_input_one_line_exit_2) {
  setup();
  cr_expect_eq(run("/nonexistent/run"), 2);
  char path[128], err[1024] = "";
  snprintf(path, sizeof path, "%s/err.txt", dir);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  size_t len = fread(err, 1, sizeof err - 1, f);
  fclose(f);
  err[len] = '\0';
  cr_expect(strstr(err, "/nonexistent/run") != NULL, "names the run: %s", err);
  char *nl = strchr(err, '\n');
  cr_expect(nl && nl[1] == '\0', "one line: %s", err);
  cr_expect_eq(run(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini --formats gif"), 2);
  cleanup();
}
