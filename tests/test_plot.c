/* scripts/plot_run.py on every committed run, on the fixtures and on a theory-only run:
 * the figures, their sizes, the caption with the provenance (in the metadata, not the
 * figure), the dense theory made with kdbench, the weak-to-strong heat map, the same
 * bytes twice; bad input gives one line and exit status 2; scripts/plot_generations.py
 * on every collapse run. Skipped (with the reason)
 * without Debian's matplotlib. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

#define PY "/usr/bin/python3"
#define RESULTS KDBENCH_SOURCE_DIR "/results/"

TestSuite(plot, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 600);

static void need_matplotlib(void) {
  if (system(PY " -c 'import matplotlib' 2>/dev/null") != 0)
    cr_skip_test("no matplotlib for " PY " (scripts/setup.sh installs python3-matplotlib)");
}

/* scripts/plot_run.py ARGS with this build's kdbench, its figures into the test folder:
 * its exit status, its standard error in kd_test_err. */
static int plot(const char *args) {
  return kd_test_sh(PY " " KDBENCH_SOURCE_DIR "/scripts/plot_run.py %s --kdbench $K --out .", args);
}

/* The size of a file of the test folder, -1 when there is none. */
static long size_of(const char *name) {
  size_t len = 0;
  char *bytes = kd_test_read(name, &len);
  if (!bytes) return -1;
  free(bytes);
  return (long)len;
}

/* A PNG's width in pixels (its IHDR), -1 when it is not one. */
static long png_width(const char *name) {
  size_t len = 0;
  unsigned char *b = (unsigned char *)kd_test_read(name, &len);
  long w = -1;
  if (b && len > 24 && !memcmp(b + 1, "PNG", 3))
    w = (long)b[16] << 24 | (long)b[17] << 16 | (long)b[18] << 8 | b[19];
  free(b);
  return w;
}

static int contains(const char *name, const char *what) {
  size_t len = 0;
  char *bytes = kd_test_read(name, &len);
  int found = bytes && memmem(bytes, len, what, strlen(what)) != NULL;
  free(bytes);
  return found;
}

/* Every committed run (results/DIR/NAME.meta.json): its figure, its caption; the w2s
 * grid's heat map; the fits of a run with NAME.fit.json. */
Test(plot, every_committed_run) {
  need_matplotlib();
  glob_t runs;
  cr_assert_eq(glob(RESULTS "*/*.meta.json", 0, NULL, &runs), 0);
  cr_assert_geq(runs.gl_pathc, 7, "fig1, fig1b, the four scaling runs, w2s at least");
  for (size_t i = 0; i < runs.gl_pathc; ++i) {
    char name[256];
    const char *base = strrchr(runs.gl_pathv[i], '/') + 1;
    snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - strlen(".meta.json")), base);
    cr_assert_eq(plot(kd_test_pathf("%s --formats png", runs.gl_pathv[i])), 0, "%s: %s",
                 runs.gl_pathv[i], kd_test_err);
    cr_expect(strstr(kd_test_err, "theory drawn at the run's points") == NULL,
              "%s: the dense theory was made: %s", runs.gl_pathv[i], kd_test_err);
    cr_expect_eq(png_width(kd_test_pathf("%s.png", name)), 2070, "%s: two columns at 300 dpi",
                 runs.gl_pathv[i]);
    cr_expect(contains(kd_test_pathf("%s.caption.tex", name), "\\caption{"), "%s",
              runs.gl_pathv[i]);
  }
  globfree(&runs);
  cr_expect_gt(size_of("grid.heatmap.png"), 20000, "the w2s map");
  cr_expect(contains("grid.heatmap.caption.tex", "paired 95\\,\\% confidence interval"),
            "significant cells marked (from grid.fit.json)");
  cr_expect(contains("alpha2-b1.5.caption.tex", "scaling-law fit"), "the fits are drawn");
}

/* The provenance is in the PDF's and the SVG's metadata and the caption's comments, not
 * in the caption's text; one-column figures are 3.3 in wide. */
Test(plot, provenance_in_the_metadata_sizes_and_formats) {
  need_matplotlib();
  cr_assert_eq(plot(RESULTS "fig1/sweep-n"), 0, "%s", kd_test_err);
  const char *hash = "f5d3d3e4dd5f69a0"; /* results/fig1/sweep-n.meta.json */
  cr_expect(contains("sweep-n.pdf", hash) && contains("sweep-n.svg", hash));
  cr_expect(contains("sweep-n.pdf", "/CreationDate") == 0, "no date: the same bytes");
  char *cap = kd_test_text("sweep-n.caption.tex");
  char *text = strstr(cap, "\\caption{");
  cr_assert(text != NULL, "%s", cap);
  cr_expect(strstr(cap, hash) != NULL && strstr(text, hash) == NULL, "%s", cap);
  cr_expect(strstr(text, "$\\mathbb{E}\\|\\hat\\beta-\\beta^*\\|_\\Sigma^2$") != NULL, "%s", text);
  free(cap);
  cr_assert_eq(plot(RESULTS "fig1/sweep-n --formats png --width one --risk test"), 0, "%s",
               kd_test_err);
  cr_expect_eq(png_width("sweep-n.png"), 990, "3.3 in at 300 dpi");
  cr_expect(contains("sweep-n.caption.tex", "\\caption{Test risk"));
}

/* The same run gives the same bytes (PDF and SVG). */
Test(plot, the_same_bytes_twice) {
  need_matplotlib();
  cr_assert_eq(plot(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini --formats pdf,svg"), 0, "%s",
               kd_test_err);
  cr_assert_eq(kd_test_sh("mv fig1-mini.pdf a.pdf && mv fig1-mini.svg a.svg"), 0);
  cr_assert_eq(plot(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini --formats pdf,svg"), 0, "%s",
               kd_test_err);
  kd_test_expect_same_file("a.pdf", "fig1-mini.pdf");
  kd_test_expect_same_file("a.svg", "fig1-mini.svg");
}

/* A theory-only run plots as lines; a run whose dense theory cannot be made (no kdbench)
 * plots its own points, with a warning. */
Test(plot, theory_only_and_without_kdbench) {
  need_matplotlib();
  kd_test_run_ok("--sweep n --p 100 --n 20:300:lin60 --theory-only --quiet --csv th.csv");
  cr_assert_eq(plot("th --formats png"), 0, "%s", kd_test_err);
  cr_expect_gt(size_of("th.png"), 20000);
  cr_expect(contains("th.caption.tex", "Theory (a deterministic equivalent"));
  cr_assert_eq(kd_test_sh(PY " " KDBENCH_SOURCE_DIR "/scripts/plot_run.py " KDBENCH_SOURCE_DIR
                          "/tests/data/grid-np --kdbench /nonexistent --out . --formats png"),
               0, "%s", kd_test_err);
  cr_expect(strstr(kd_test_err, "no kdbench at /nonexistent") != NULL, "%s", kd_test_err);
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
  cr_assert_eq(plot("new --formats png --no-dense"), 0, "%s", kd_test_err);
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
  cr_expect(kd_test_one_line(kd_test_err), "one line: %s", kd_test_err);
}

/* scripts/plot_generations.py ARGS, its figures into the test folder. */
static int plot_generations(const char *args) {
  return kd_test_sh(PY " " KDBENCH_SOURCE_DIR "/scripts/plot_generations.py %s --out .", args);
}

/* scripts/plot_generations.py on every committed collapse run (theory-only ones too: the
 * title says so) and on a fresh simulated one; a run without generations, one line and
 * exit status 2. */
Test(plot, generations_every_collapse_run) {
  need_matplotlib();
  glob_t runs;
  cr_assert_eq(glob(RESULTS "collapse/*.meta.json", 0, NULL, &runs), 0);
  cr_assert_geq(runs.gl_pathc, 8);
  for (size_t i = 0; i < runs.gl_pathc; ++i) {
    char name[256];
    const char *base = strrchr(runs.gl_pathv[i], '/') + 1;
    snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - strlen(".meta.json")), base);
    cr_assert_eq(plot_generations(kd_test_pathf("%s --formats png", runs.gl_pathv[i])), 0,
                 "%s: %s", runs.gl_pathv[i], kd_test_err);
    cr_expect_gt(size_of(kd_test_pathf("%s.png", name)), 20000, "%s", name);
  }
  globfree(&runs);
  kd_test_run_ok("--sweep n --n 40 --p 10 --pipelines recursive --generations 4 "
                 "--schedule fixed,quadratic --trials 20 --quiet --csv gen.csv");
  cr_assert_eq(plot_generations("gen --formats png,pdf"), 0, "%s", kd_test_err);
  cr_expect_gt(size_of("gen.png"), 20000);
  cr_expect_gt(size_of("gen.pdf"), 5000);
  cr_expect_eq(plot_generations(KDBENCH_SOURCE_DIR "/tests/data/fig1-mini"), 2);
  cr_expect(strstr(kd_test_err, "no rows with a generation") && kd_test_one_line(kd_test_err),
            "%s", kd_test_err);
}
