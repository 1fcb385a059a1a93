/* Every preset runs end to end at its reduced size (--quick), as CI does, and its
 * outputs hold the expected rows: the runs, their fits (NAME.fit.json) and the report
 * tables. Runs the real binary in a temporary folder (presets write under results/). */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char dir[64];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/kdbench-presets-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(presets, .init = make_dir, .fini = remove_dir, .timeout = 300);

static int sh(const char *fmt, const char *arg) {
  char inner[512], cmd[1024];
  snprintf(inner, sizeof inner, fmt, arg);
  snprintf(cmd, sizeof cmd, "cd '%s' && %s >out.txt 2>err.txt", dir, inner);
  int status = system(cmd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len = getdelim(&buf, &cap, '\0', f);
  fclose(f);
  if (len < 0) {
    free(buf);
    return strdup("");
  }
  return buf;
}

static size_t count_lines(const char *text) {
  size_t n = 0;
  for (; text && *text; ++text) n += *text == '\n';
  return n;
}

static void run_preset(const char *name) {
  cr_assert_eq(sh(KDBENCH_BIN " --preset %s --quick --quiet --backend cpu", name), 0,
               "preset %s failed: %s", name, slurp("err.txt"));
}

/* The pipelines fitted in NAME.fit.json, as "strong,optimal," etc., and its w2s rows. */
static void fit_summary(const char *path, char *pipes, size_t len, int *w2s_rows) {
  char *text = slurp(path);
  cr_assert_not_null(text, "%s missing", path);
  cJSON *o = cJSON_Parse(text);
  free(text);
  cr_assert_not_null(o, "%s is not JSON", path);
  pipes[0] = '\0';
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItem(o, "fits")) {
    const cJSON *p = cJSON_GetObjectItem(f, "pipeline");
    if (cJSON_IsString(p) && !strstr(pipes, p->valuestring)) {
      strncat(pipes, p->valuestring, len - strlen(pipes) - 2);
      strcat(pipes, ",");
    }
  }
  *w2s_rows = cJSON_GetArraySize(cJSON_GetObjectItem(o, "w2s"));
  cJSON_Delete(o);
}

Test(presets, fig1_default) {
  run_preset("fig1");
  char *csv = slurp("results/quick/sweep-n.csv");
  cr_assert_not_null(csv);
  cr_expect_eq(count_lines(csv), 1 + 3 * 4, "3 values of n x 4 pipelines");
  free(csv);
}

Test(presets, fig1a_weights) {
  run_preset("fig1a");
  char *csv = slurp("results/quick/fig1a/weights.csv");
  cr_assert_not_null(csv);
  cr_expect_eq(count_lines(csv), 501, "header + p = 500 features");
  free(csv);
}

Test(presets, fig1b_fits_and_report) {
  run_preset("fig1b");
  char pipes[128];
  int w2s;
  fit_summary("results/quick/fig1b/sweep-n.fit.json", pipes, sizeof pipes, &w2s);
  cr_expect_str_eq(pipes, "strong,optimal,mask,");
  cr_assert_eq(sh(KDBENCH_BIN " report %s", "results/quick/fig1b/sweep-n"), 0);
  char *md = slurp("results/quick/fig1b/sweep-n.md");
  cr_assert_not_null(md);
  cr_expect(strstr(md, "| strong |") && strstr(md, "| optimal |") && strstr(md, "| mask |"),
            "the scaling-law table has a row per pipeline:\n%s", md);
  free(md);
  char *tex = slurp("results/quick/fig1b/sweep-n.tex");
  cr_expect(tex && strstr(tex, "\\toprule") && strstr(tex, "\\bottomrule"));
  free(tex);
}

Test(presets, scaling_four_runs) {
  run_preset("scaling");
  const char *runs[] = {"alpha2-b1.5", "alpha1.5-b2", "alpha2-b2", "alpha3-b2"};
  for (int i = 0; i < 4; ++i) {
    char path[128], pipes[128];
    int w2s;
    snprintf(path, sizeof path, "results/quick/scaling/%s.fit.json", runs[i]);
    fit_summary(path, pipes, sizeof pipes, &w2s);
    cr_expect_str_eq(pipes, "strong,optimal,mask,", "%s", runs[i]);
  }
}

Test(presets, w2s_grid) {
  run_preset("w2s");
  char pipes[128];
  int w2s;
  fit_summary("results/quick/w2s/grid.fit.json", pipes, sizeof pipes, &w2s);
  cr_expect_eq(w2s, 4, "one weak-to-strong row per (m, k): 2 x 2");
  char *csv = slurp("results/quick/w2s/grid.csv");
  cr_expect_eq(count_lines(csv), 1 + 4 * 3, "4 points x strong, w2s, weak");
  free(csv);
}

Test(presets, quick_needs_a_preset) {
  cr_expect_eq(sh(KDBENCH_BIN " --sweep n --quick%s", ""), 2);
  char *err = slurp("err.txt");
  cr_expect(err && strstr(err, "--quick"), "%s", err);
  free(err);
}
