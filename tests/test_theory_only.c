/* kdbench --theory-only, with the real binary: the same rows as the simulated run,
 * theory columns bit for bit, simulation columns empty; no backend opened; its own
 * scenario (a simulated run does not resume it); --fit declined. The pipelines of
 * one row and recursive's rows by generation and schedule alike. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

TestSuite(theory_only, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* Points in every regime: DE (n < p), near-peak, the peak, exact (n > p + 1), and a
 * weak teacher (w2s, weak) with the exact and the DE moments (m > k, m < k). */
#define N_SWEEP "--sweep n --p 60 --n 12,30,55,59,60,61,66,150 --m 300 " \
                "--pipelines strong,optimal,mask,w2s,weak"
/* The mix (its rows' real fraction) and a weak teacher with a ridge of its own: every
 * setting of the point reaches the theory-only plan as it reaches the simulated one. */
#define MIX_SWEEP "--sweep real-fraction,n --real-fraction 0,0.5,1 --n 40,150 --p 60 --m 80 " \
                  "--k 30 --weak-ridge 0.05 --pipelines strong,w2s,weak,mix"
#define KM_SWEEP "--sweep k,m --p 60 --n 40 --k 10,30,50 --m 25,49,50,51,400 --ridge 0.01 " \
                 "--pipelines strong,w2s,weak"

/* The keys that do not depend on the trials: the point, its parameters and its theory. */
static const char *const SAME_KEYS[] = {"point", "point_key", "pipeline", "n", "p", "m", "k",
                                        "ridge", "alpha", "signal_exp", "sigma", "theory_kind",
                                        "flag"};
/* The keys of a row of a pipeline with several rows (absent in the others'). */
static const char *const STEP_KEYS[] = {"generation", "schedule"};
static const char *const SIM_KEYS[] = {"sim_mean", "sim_se", "sim_ci_low", "sim_ci_high",
                                       "sim_median", "ratio"};

/* cJSON items equal: numbers bit for bit, strings and nulls as they are. */
static int same_item(const cJSON *a, const cJSON *b) {
  if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
    return memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) == 0;
  if (cJSON_IsString(a) && cJSON_IsString(b)) return !strcmp(a->valuestring, b->valuestring);
  return cJSON_IsNull(a) && cJSON_IsNull(b);
}

/* Runs `grid` simulated (3 trials) into sim.csv and --theory-only into th.csv and
 * compares them row by row; returns the number of rows. The point keys differ (each
 * run is its own scenario), so they are compared for order only through `point`. */
static size_t compare_runs(const char *grid) {
  kd_test_run_ok("%s --trials 3 --quiet --csv sim.csv", grid);
  kd_test_run_ok("%s --trials 3 --quiet --csv th.csv --theory-only", grid);
  cJSON *sim = kd_test_rows("sim.jsonl"), *th = kd_test_rows("th.jsonl");
  const size_t rows = (size_t)cJSON_GetArraySize(sim);
  cr_assert_eq((size_t)cJSON_GetArraySize(th), rows, "the same rows");
  for (size_t i = 0; i < rows; ++i) {
    const cJSON *s = cJSON_GetArrayItem(sim, (int)i), *t = cJSON_GetArrayItem(th, (int)i);
    for (size_t k = 0; k < sizeof SAME_KEYS / sizeof *SAME_KEYS; ++k) {
      if (!strcmp(SAME_KEYS[k], "point_key")) continue;
      cr_expect(same_item(kd_test_item(s, SAME_KEYS[k]), kd_test_item(t, SAME_KEYS[k])),
                "row %zu: %s differs", i + 1, SAME_KEYS[k]);
    }
    const cJSON *a = kd_test_item(s, "theory"), *b = kd_test_item(t, "theory");
    cr_expect(same_item(a, b), "row %zu: theory %.17g (simulated run) against %.17g", i + 1,
              a->valuedouble, b->valuedouble);
    for (size_t k = 0; k < sizeof SIM_KEYS / sizeof *SIM_KEYS; ++k)
      cr_expect(cJSON_IsNull(kd_test_item(t, SIM_KEYS[k])), "row %zu: %s is not null", i + 1,
                SIM_KEYS[k]);
    for (size_t k = 0; k < sizeof STEP_KEYS / sizeof *STEP_KEYS; ++k) {
      const cJSON *x = kd_test_item(s, STEP_KEYS[k]), *y = kd_test_item(t, STEP_KEYS[k]);
      cr_expect((!x && !y) || (x && y && same_item(x, y)), "row %zu: %s differs", i + 1,
                STEP_KEYS[k]);
    }
    cr_expect_null(kd_test_item(t, "beats_first"), "row %zu: beats_first without trials", i + 1);
    cr_expect_eq(kd_test_num(t, "trials"), 0, "row %zu: trials", i + 1);
    cr_expect_eq(kd_test_num(t, "fallbacks"), 0, "row %zu: fallbacks", i + 1);
    cr_expect_null(kd_test_item(t, "risks"), "row %zu: no per-trial risks", i + 1);
  }
  cJSON_Delete(sim);
  cJSON_Delete(th);
  return rows;
}

Test(theory_only, rows_equal_the_simulated_runs_theory_bit_for_bit) {
  cr_expect_eq(compare_runs(N_SWEEP), 8 * 5);
  /* the peak (inf), an exact and a DE row are among them */
  char *csv = kd_test_text("th.csv");
  /* (the columns after flag, appended by later kdbenches, are empty here) */
  cr_expect(strstr(csv, "\nstrong,60,60,,,0,2,1.5,0.5,0,,,,,,inf,,0,exact,peak,") != NULL, "%s", csv);
  cr_expect(strstr(csv, ",de,near-peak,") != NULL && strstr(csv, ",de,,") != NULL &&
                strstr(csv, ",exact,,") != NULL,
            "%s", csv);
  free(csv);
}

Test(theory_only, two_axes_and_weak_teachers_bit_for_bit) {
  cr_expect_eq(compare_runs(KM_SWEEP), 3 * 5 * 3);
}

Test(theory_only, the_mix_and_a_weak_ridge_bit_for_bit) {
  cr_expect_eq(compare_runs(MIX_SWEEP), 3 * 2 * 4);
  cJSON *rows = kd_test_rows("th.jsonl");
  const cJSON *first = cJSON_GetArrayItem(rows, 3), *second = cJSON_GetArrayItem(rows, 7);
  cr_expect_str_eq(kd_test_str(first, "pipeline"), "mix");
  cr_expect_neq(kd_test_num(first, "theory"), kd_test_num(second, "theory"),
                "the mix's theory moves with its real fraction");
  cJSON_Delete(rows);
}

/* recursive: 4 generations of four schedules at n below p (DE), at the peak n = p, just
 * above it and far above it (exact from generation 1 on; accumulate's exact A2), beside
 * strong; then a ridge, a ridge of the later generations decaying as 1/g^2 and noiseless
 * synthetic labels. Every generation's theory of every schedule as the simulated run
 * has it, bit for bit. */
#define GEN_SWEEP "--sweep n --p 20 --n 12,20,23,60 --pipelines strong,recursive --generations 4 " \
                  "--schedule fixed,linear,geometric:1.5,accumulate"
#define GEN_RIDGE_SWEEP "--sweep n --p 20 --n 12,60 --ridge 0.01 --pipelines recursive " \
                        "--generations 3 --schedule quadratic,fixed --gen-ridge 0.05 " \
                        "--gen-ridge-decay inverse-square --synthetic-sigma 0"

Test(theory_only, recursive_every_generation_and_schedule_bit_for_bit) {
  cr_expect_eq(compare_runs(GEN_SWEEP), 4 * (1 + 4 * 4));
  cJSON *rows = kd_test_rows("th.jsonl");
  int exact = 0, de = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, rows) {
    if (strcmp(kd_test_str(r, "pipeline"), "recursive")) continue;
    exact += !strcmp(kd_test_str(r, "theory_kind"), "exact");
    de += !strcmp(kd_test_str(r, "theory_kind"), "de");
  }
  cr_expect(exact > 0 && de > 0, "exact %d, de %d rows", exact, de);
  const cJSON *last = cJSON_GetArrayItem(rows, cJSON_GetArraySize(rows) - 1);
  cr_expect(kd_test_num(last, "generation") == 4 && !strcmp(kd_test_str(last, "schedule"), "accumulate"));
  cJSON_Delete(rows);
  cr_assert_eq(kd_test_sh("rm sim.* th.*"), 0); /* another scenario in the same files */
  cr_expect_eq(compare_runs(GEN_RIDGE_SWEEP), 2 * 2 * 3);
}

/* The CSV has the simulated run's header; a row's simulation cells (and ratio) are
 * empty, trials and fallbacks 0; --raw stores nothing (there are no trials). */
Test(theory_only, the_csv_has_the_columns_and_empty_simulation_cells) {
  kd_test_run_ok(N_SWEEP " --quiet --csv th.csv --theory-only --raw");
  kd_test_run_ok(N_SWEEP " --trials 2 --quiet --csv sim.csv");
  char *head = kd_test_line("th.csv", 1), *sim_head = kd_test_line("sim.csv", 1);
  char *row = kd_test_line("th.csv", 2);
  cr_expect_str_eq(head, sim_head, "the same header");
  const char *before = "strong,12,60,,,0,2,1.5,0.5,0,,,,,,", *after = ",,0,de,";
  cr_expect(!strncmp(row, before, strlen(before)), "%s", row);
  /* theory, then ratio empty, fallbacks 0, kind, flag empty; every later column empty */
  const char *tail = strstr(row + strlen(before), after);
  cr_expect(tail && strspn(tail + strlen(after), ",") == strlen(tail + strlen(after)), "%s", row);
  char *jsonl = kd_test_text("th.jsonl");
  cr_expect(strstr(jsonl, "\"risks\"") == NULL, "no per-trial risks");
  free(jsonl);
  free(head);
  free(sim_head);
  free(row);
}

/* No backend is opened: --backend cuda runs on a machine without one, and the metadata
 * says so. */
Test(theory_only, opens_no_backend) {
  kd_test_run_ok(N_SWEEP " --quiet --csv th.csv --theory-only --backend cuda");
  cJSON *meta = kd_test_json("th.meta.json");
  cr_expect_str_eq(kd_test_str(meta, "backend.name"), "none");
  cr_expect_eq(kd_test_num(meta, "trials"), 0);
  cr_expect(cJSON_IsTrue(kd_test_item(meta, "complete")));
  cJSON_Delete(meta);
}

/* A theory-only run is its own scenario: the same command again resumes every point;
 * the simulated run's command on its files is refused as another scenario's. */
Test(theory_only, is_its_own_scenario) {
  kd_test_run_ok(N_SWEEP " --csv th.csv --theory-only");
  kd_test_run_ok(N_SWEEP " --csv th.csv --theory-only");
  char *out = kd_test_text("stdout.txt");
  cr_expect(strstr(out, "# 8 of 8 points were already in th.csv") != NULL, "%s", out);
  free(out);
  cr_expect_eq(kd_test_run(N_SWEEP " --trials 2 --quiet --csv th.csv"), 2);
  kd_test_expect_refused(2, "another scenario");
  kd_test_run_ok(N_SWEEP " --theory-only --print-scenario");
  out = kd_test_text("stdout.txt");
  cr_expect(strstr(out, "\ntheory-only = true\n") != NULL, "%s", out);
  free(out);
}

/* --fit on a theory-only run: declined with a note, the run kept. */
Test(theory_only, fit_is_declined) {
  kd_test_run_ok(N_SWEEP " --quiet --csv th.csv --theory-only --fit");
  cr_expect(strstr(kd_test_err, "a theory-only run has no simulation to fit") != NULL, "%s",
            kd_test_err);
  cr_expect(!kd_test_exists("th.fit.json"));
  cr_expect(kd_test_exists("th.csv"));
}

/* kdbench report on a theory-only run: the tables hold theory columns only (no sim, no
 * beats 1), say so in the caption and the notes, mark the peak on its theory, and the
 * LaTeX compiles. */
Test(theory_only, report_tables_hold_theory_only) {
  kd_test_run_ok(N_SWEEP " --quiet --csv th.csv --theory-only");
  kd_test_run_ok(GEN_SWEEP " --quiet --csv gen.csv --theory-only");
  kd_test_run_ok("report th");
  kd_test_run_ok("report gen");
  char *md = kd_test_text("th.md"), *gen = kd_test_text("gen.md");
  cr_expect(strstr(md, ": sim") == NULL && strstr(md, "nan") == NULL, "%s", md);
  cr_expect(strstr(md, "| strong: theory |") && strstr(md, "theory only (no simulation)") &&
                strstr(md, "theory only, no trials"), "%s", md);
  cr_expect(strstr(md, "| ∞† |") && strstr(md, "† Interpolation peak: the expected risk is "
                                               "infinite.\n"), "%s", md);
  cr_expect(strstr(gen, ": sim") == NULL && strstr(gen, "beats 1 |") == NULL &&
                strstr(gen, "nan") == NULL, "%s", gen);
  cr_expect(strstr(gen, "| fixed: theory | linear: theory |") &&
                strstr(gen, "theory only (no simulation)"), "%s", gen);
  const char *backend = strstr(gen, "\n- Backend: theory only"); /* once: the run's table's */
  cr_expect(backend && !strstr(backend + 1, "\n- Backend: ") &&
                strstr(gen, "fixed: theory") > backend, "%s", gen);
  free(md);
  free(gen);
  kd_test_need_latex();
  free(kd_test_latex((const char *[]){"th", "gen", NULL}));
}

/* Lines of a file that begin with `prefix`. */
static int lines_starting(const char *name, const char *prefix) {
  char *text = kd_test_text(name);
  int n = 0;
  for (const char *line = text; line && *line;) {
    n += !strncmp(line, prefix, strlen(prefix));
    const char *nl = strchr(line, '\n');
    line = nl ? nl + 1 : NULL;
  }
  free(text);
  return n;
}

/* A chain of more than 20 generations: its LaTeX table shows generations 1 .. 10, 20,
 * 50 and the last at every point, its caption says so, and it fits the page; the
 * Markdown table has every generation; a chain of 20 shows all 20 in both. A curriculum
 * of 40 checkpoints (its steps are the sample sizes t) shows those of rank 1 .. 10, 20
 * and 40, listed by their t. */
Test(theory_only, a_long_chains_latex_table_shows_some_generations) {
  const char *chain = "--sweep n --n 60,120 --p 20 --pipelines recursive --schedule fixed,quadratic "
                      "--theory-only --quiet";
  kd_test_run_ok("%s --generations 64 --csv long.csv", chain);
  kd_test_run_ok("%s --generations 20 --csv short.csv", chain);
  kd_test_run_ok("report long");
  kd_test_run_ok("report short");
  cr_expect_eq(lines_starting("long.tex", "$60$ & $"), 13, "generations 1-10, 20, 50, 64");
  cr_expect_eq(lines_starting("long.tex", "$120$ & $"), 13);
  cr_expect_eq(lines_starting("long.tex", "$60$ & $64$ & "), 1);
  cr_expect_eq(lines_starting("long.tex", "$60$ & $11$ & "), 0);
  cr_expect_eq(lines_starting("long.md", "| 60 | "), 64);
  char *tex = kd_test_text("long.tex");
  cr_expect(strstr(tex, " Shown: generation 1--10, 20, 50, 64 (13 of the 64; every generation in "
                        "the Markdown table and the CSV).}") != NULL, "%s", tex);
  free(tex);
  cr_expect_eq(lines_starting("short.tex", "$60$ & $"), 20);
  cr_expect_eq(lines_starting("short.md", "| 60 | "), 20);
  tex = kd_test_text("short.tex");
  cr_expect(strstr(tex, "Shown:") == NULL, "%s", tex);
  free(tex);
  kd_test_run_ok("--sweep n --n 400 --p 20 --pipelines curriculum --order curriculum,anti "
                 "--checkpoints 40 --theory-only --quiet --csv cur.csv");
  kd_test_run_ok("report cur");
  cr_expect_eq(lines_starting("cur.tex", "$400$ & $"), 12, "ranks 1-10, 20, 40");
  cr_expect_eq(lines_starting("cur.md", "| 400 | "), 40);
  tex = kd_test_text("cur.tex");
  cr_expect(strstr(tex, " Shown: t 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 400 (12 of the 40; "
                        "every t in the Markdown table and the CSV).}") != NULL, "%s", tex);
  free(tex);
  kd_test_need_latex();
  free(kd_test_latex_in("", "graphicx", (const char *[]){"long", "short", "cur", NULL}));
}
