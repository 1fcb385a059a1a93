/* Settings, axes, scenarios, presets, the grid and the scenario hash, in process:
 * axis values (lists, logN / linN / pow2 ranges, rounding and de-duplication, every
 * malformed text refused naming its flag), cross-setting checks, the scenario round
 * trip (printed, re-read, same canonical text and hash), scenario-file errors naming
 * file, line and key (a key given twice: both lines), presets, grid order, the
 * default grids of axes swept without values, what the hash does and does not see
 * (the values of spectrum and beta* files included), and the one number grammar and
 * line-length limit of every setting, scenario and vector file. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kdbench/config.h"
#include "kdbench/grid.h"
#include "kdbench/input_file.h"
#include "kdbench/number.h"
#include "kdbench/problem.h"
#include "kdbench/scenario.h"
#include "kdbench/scenario_id.h"
#include "kdbench/sweep.h"
#include "kd_test.h"

TestSuite(axis_values);
TestSuite(settings);
TestSuite(scenario, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(grid);
TestSuite(scenario_hash, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(numbers, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* ---- helpers ------------------------------------------------------------------------- */

static size_t values(kd_axis a, const char *text, double **v) {
  size_t n = 0;
  kd_status st = kd_axis_values(a, text, v, &n);
  cr_assert_eq(st, KD_OK, "--%s %s: %s", kd_axis_name(a), text, kd_last_error());
  return n;
}

static void expect_values(kd_axis a, const char *text, const double *want, size_t n_want) {
  double *v = NULL;
  size_t n = values(a, text, &v);
  cr_expect_eq(n, n_want, "--%s %s: %zu values, want %zu", kd_axis_name(a), text, n, n_want);
  for (size_t i = 0; i < n && i < n_want; ++i)
    cr_expect_eq(v[i], want[i], "--%s %s: value %zu is %.17g, want %.17g", kd_axis_name(a), text,
                 i, v[i], want[i]);
  free(v);
}

/* The error's message names the flag of the axis and `needle`. */
static void expect_axis_error(kd_axis a, const char *text, const char *needle) {
  double *v = NULL;
  size_t n = 0;
  kd_status st = kd_axis_values(a, text, &v, &n);
  cr_expect_neq(st, KD_OK, "--%s '%s' accepted (%zu values)", kd_axis_name(a), text, n);
  if (st == KD_OK) {
    free(v);
    return;
  }
  char flag[32];
  snprintf(flag, sizeof flag, "--%s", kd_axis_name(a));
  const char *msg = kd_last_error();
  cr_expect(strstr(msg, flag) != NULL, "'%s': message '%s' does not name %s", text, msg, flag);
  cr_expect(strstr(msg, needle) != NULL, "'%s': message '%s' does not say '%s'", text, msg, needle);
  cr_expect(strchr(msg, '\n') == NULL, "'%s': message is not one line: '%s'", text, msg);
}

static void set(kd_config *c, const char *name, const char *text) {
  kd_status st = kd_config_set(c, name, text);
  cr_assert_eq(st, KD_OK, "set %s = %s: %s", name, text, kd_last_error());
}

static void expect_set_error(kd_config *c, const char *name, const char *text, const char *needle) {
  kd_status st = kd_config_set(c, name, text);
  cr_expect_neq(st, KD_OK, "set %s = '%s' accepted", name, text);
  if (st != KD_OK)
    cr_expect(strstr(kd_last_error(), needle) != NULL, "set %s = '%s': message '%s' lacks '%s'",
              name, text, kd_last_error(), needle);
}

static void expect_check_error(const kd_config *c, const char *needle) {
  kd_status st = kd_config_check(c);
  cr_expect_neq(st, KD_OK, "check passed, want an error naming '%s'", needle);
  if (st != KD_OK)
    cr_expect(strstr(kd_last_error(), needle) != NULL, "check: message '%s' lacks '%s'",
              kd_last_error(), needle);
}

/* kd_config_print's text; caller frees. */
static char *printed(const kd_config *c, int canonical) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_not_null(f);
  kd_config_print(c, f, canonical);
  fclose(f);
  return text;
}

static void hash_of(const kd_config *c, char h[17]) {
  kd_scenario_id id;
  kd_status st = kd_scenario_hash(c, &id);
  cr_assert_eq(st, KD_OK, "hash: %s", kd_last_error());
  memcpy(h, id.hash, 17);
}

/* A small config: p = 40, n swept over two values, 3 trials. */
static void small_config(kd_config *c) {
  kd_config_default(c);
  set(c, "p", "40");
  set(c, "n", "20,60");
  set(c, "trials", "3");
}

/* ---- axis values ---------------------------------------------------------------------- */

Test(axis_values, plain_lists_keep_their_order) {
  expect_values(KD_AXIS_N, "100", (double[]){100}, 1);
  expect_values(KD_AXIS_N, "400,100,200", (double[]){400, 100, 200}, 3);
  expect_values(KD_AXIS_RIDGE, "0.5,0,1e-3", (double[]){0.5, 0, 1e-3}, 3);
  expect_values(KD_AXIS_SIGMA, "0.25", (double[]){0.25}, 1);
  expect_values(KD_AXIS_ALPHA, "1.25,3", (double[]){1.25, 3}, 2);
}

Test(axis_values, log_range_is_geometric_with_exact_ends) {
  double *v = NULL;
  size_t n = values(KD_AXIS_RIDGE, "1e-4:1:log9", &v);
  cr_assert_eq(n, 9);
  cr_expect_eq(v[0], 1e-4, "first value %.17g", v[0]);
  cr_expect_eq(v[8], 1.0, "last value %.17g", v[8]);
  for (size_t i = 0; i + 1 < n; ++i) {
    double r = v[i + 1] / v[i];
    cr_expect(fabs(r - sqrt(10.0)) < 1e-12 * sqrt(10.0), "ratio %zu: %.17g", i, r);
  }
  free(v);

  /* An integer axis: N distinct rounded values, both ends exact, each the rounding of
   * the geometric value. */
  n = values(KD_AXIS_N, "20:2000:log16", &v);
  cr_assert_eq(n, 16);
  cr_expect_eq(v[0], 20);
  cr_expect_eq(v[15], 2000);
  for (size_t i = 0; i < n; ++i) {
    double g = 20 * pow(100.0, (double)i / 15);
    cr_expect(v[i] == floor(v[i]) && fabs(v[i] - g) <= 0.5 + 1e-9, "value %zu: %g (geometric %g)",
              i, v[i], g);
  }
  free(v);

  expect_values(KD_AXIS_RIDGE, "0.5:0.5:log1", (double[]){0.5}, 1);
}

Test(axis_values, lin_range_is_even_with_exact_ends) {
  expect_values(KD_AXIS_SIGMA, "0:1:lin5", (double[]){0, 0.25, 0.5, 0.75, 1}, 5);
  expect_values(KD_AXIS_N, "100:500:lin5", (double[]){100, 200, 300, 400, 500}, 5);
  double *v = NULL;
  size_t n = values(KD_AXIS_RIDGE, "0.1:0.7:lin7", &v);
  cr_assert_eq(n, 7);
  cr_expect_eq(v[0], 0.1);
  cr_expect_eq(v[6], 0.7);
  for (size_t i = 0; i + 1 < n; ++i)
    cr_expect(fabs(v[i + 1] - v[i] - 0.1) < 1e-15, "step %zu: %.17g", i, v[i + 1] - v[i]);
  free(v);
}

Test(axis_values, pow2_range) {
  expect_values(KD_AXIS_N, "10:100:pow2", (double[]){16, 32, 64}, 3);
  expect_values(KD_AXIS_N, "16:64:pow2", (double[]){16, 32, 64}, 3); /* both ends included */
  expect_values(KD_AXIS_P, "1:8:pow2", (double[]){1, 2, 4, 8}, 4);
  expect_values(KD_AXIS_RIDGE, "0.2:1:pow2", (double[]){0.25, 0.5, 1}, 3);
}

Test(axis_values, mixed_items) {
  /* sqrt(20 * 200) = 63.2 -> 63 */
  expect_values(KD_AXIS_N, "20:200:log3,500", (double[]){20, 63, 200, 500}, 4);
  expect_values(KD_AXIS_N, "7,10:100:pow2,3", (double[]){7, 16, 32, 64, 3}, 5);
  expect_values(KD_AXIS_RIDGE, "0,1e-3:1e-1:log3", (double[]){0, 1e-3, 1e-2, 1e-1}, 4);
}

Test(axis_values, integer_axes_rounded_and_deduplicated_first_kept) {
  /* 10^(i/19): 1, 1.13, 1.27, 1.44, 1.62, ... rounded: 1, 1, 1, 1, 2, ... */
  expect_values(KD_AXIS_N, "1:10:log20", (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10);
  expect_values(KD_AXIS_N, "3,1,2.6,1.4,200.4", (double[]){3, 1, 200}, 3);
  expect_values(KD_AXIS_K, "5:8:lin7", (double[]){5, 6, 7, 8}, 4); /* 5, 5.5, 6, ... */
  expect_values(KD_AXIS_M, "1000,1e3,999.6", (double[]){1000}, 1);
}

Test(axis_values, real_axes_deduplicated_too) {
  /* Two equal values would be two grid points with one key: resume could not tell
   * them apart. */
  expect_values(KD_AXIS_RIDGE, "0.1,0.2,0.1", (double[]){0.1, 0.2}, 2);
  expect_values(KD_AXIS_SIGMA, "0.5:0.5:lin3", (double[]){0.5}, 1);
}

Test(axis_values, errors_name_the_flag) {
  expect_axis_error(KD_AXIS_N, "100,,200", "empty entry");
  expect_axis_error(KD_AXIS_N, "100,", "empty entry");
  expect_axis_error(KD_AXIS_N, ",100", "empty entry");
  expect_axis_error(KD_AXIS_N, "", "empty entry");
  expect_axis_error(KD_AXIS_N, "1:10:geo3", "geo3");
  expect_axis_error(KD_AXIS_N, "1:10:log", "log");
  expect_axis_error(KD_AXIS_N, "1:10:log0", "log0");
  expect_axis_error(KD_AXIS_N, "1:10:lin2x", "lin2x");
  expect_axis_error(KD_AXIS_RIDGE, "0:1:log5", "positive");
  expect_axis_error(KD_AXIS_RIDGE, "-1:1:log5", "positive");
  expect_axis_error(KD_AXIS_RIDGE, "-0.1", "from 0 to");
  expect_axis_error(KD_AXIS_RIDGE, "0.1,-0.2", "from 0 to");
  expect_axis_error(KD_AXIS_SIGMA, "-0.5", "from 0 to");
  expect_axis_error(KD_AXIS_SIGMA, "-1:1:lin3", "from 0 to");
  expect_axis_error(KD_AXIS_ALPHA, "0", "positive");
  expect_axis_error(KD_AXIS_ALPHA, "-2", "positive");
  expect_axis_error(KD_AXIS_ALPHA, "0:2:lin3", "positive");
  expect_axis_error(KD_AXIS_N, "1:10", "spacing");
  expect_axis_error(KD_AXIS_N, "a:10:log3", "a");
  expect_axis_error(KD_AXIS_N, "12x", "12x");
  expect_axis_error(KD_AXIS_N, "0.4", "positive integers");
  expect_axis_error(KD_AXIS_P, "0", "positive integers");
  expect_axis_error(KD_AXIS_RIDGE, "nan", "nan");
  expect_axis_error(KD_AXIS_RIDGE, "inf", "inf");
}

Test(axis_values, empty_and_reversed_ranges_refused) {
  expect_axis_error(KD_AXIS_N, "5:7:pow2", "power of two");
  expect_axis_error(KD_AXIS_N, "100:10:pow2", "pow2");
  expect_axis_error(KD_AXIS_N, "2000:20:log5", "reversed");
  expect_axis_error(KD_AXIS_SIGMA, "1:0:lin3", "reversed");
}

/* ---- settings and checks ---------------------------------------------------------------- */

Test(settings, default_is_fig1_and_passes_checks) {
  kd_config c;
  kd_config_default(&c);
  cr_expect_eq(c.p, 500);
  cr_expect_eq(c.trials, 200);
  cr_expect_eq(c.seed, 1);
  cr_expect_eq(c.n_swept, 1);
  cr_expect_eq(c.swept[0], KD_AXIS_N);
  cr_expect_eq(c.k, 0);
  cr_expect_eq(c.m, 5000);
  cr_expect_str_eq(c.spectrum, "powerlaw");
  cr_expect_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
}

/* The spectrum, beta* and job are parsed once, by the setter, into typed values; the
 * specs the problem is built from are whole (the config's alpha and signal exponent, a
 * path into the config itself, also in a copy) and a refused text changes nothing. */
Test(settings, spectrum_beta_and_job_are_typed_once) {
  kd_config c;
  kd_config_default(&c);
  cr_expect_eq(c.spectrum_spec.kind, KD_SPEC_POWERLAW);
  cr_expect_eq(c.beta_spec.kind, KD_BETA_POWERLAW);
  cr_expect_eq(c.run.job, KD_JOB_SWEEP);
  set(&c, "spectrum", "twolevel:3,4,0.5");
  set(&c, "beta", "file:some/beta.txt");
  set(&c, "job", "weights");
  expect_set_error(&c, "spectrum", "cubic", "cubic");
  expect_set_error(&c, "beta", "flat", "flat");
  expect_set_error(&c, "job", "fit", "fit");
  kd_config copy = c;
  memset(&c, 0xff, sizeof c); /* nothing of the copy may point into the original */
  kd_spectrum_spec s;
  kd_beta_spec b;
  cr_assert_eq(kd_config_spectrum(&copy, &s), KD_OK);
  cr_assert_eq(kd_config_beta(&copy, &b), KD_OK);
  cr_expect(s.kind == KD_SPEC_TWOLEVEL && s.strong == 3 && s.level_a == 4 && s.level_b == 0.5);
  cr_expect(b.kind == KD_BETA_FILE && b.path == copy.beta + 5, "beta path %p, config %p", (void *)b.path,
            (void *)copy.beta);
  cr_expect_eq(copy.run.job, KD_JOB_WEIGHTS);
  char *text = printed(&copy, 0);
  cr_expect(strstr(text, "\njob = weights\n") && strstr(text, "\nspectrum = twolevel:3,4,0.5\n"), "%s",
            text);
  free(text);
  kd_config_default(&c);
  set(&c, "spectrum", "file:my/spec.txt");
  set(&c, "alpha", "3");
  cr_assert_eq(kd_config_spectrum(&c, &s), KD_OK);
  cr_expect(s.kind == KD_SPEC_FILE && s.path == c.spectrum + 5);
  set(&c, "spectrum", "powerlaw");
  cr_assert_eq(kd_config_spectrum(&c, &s), KD_OK);
  cr_expect(s.kind == KD_SPEC_POWERLAW && s.alpha == 3 && s.path == NULL);
  set(&c, "signal-exp", "2.5");
  cr_assert_eq(kd_config_beta(&c, &b), KD_OK);
  cr_expect(b.kind == KD_BETA_POWERLAW && b.signal_exp == 2.5);
}

Test(settings, known_names_and_sections) {
  const char *sec = NULL;
  cr_expect(kd_config_known("p", &sec));
  cr_expect_str_eq(sec, "problem");
  cr_expect(kd_config_known("ridge", &sec));
  cr_expect_str_eq(sec, "student");
  cr_expect(kd_config_known("k", &sec));
  cr_expect_str_eq(sec, "teacher");
  cr_expect(kd_config_known("n", &sec));
  cr_expect_str_eq(sec, "sweep");
  cr_expect(kd_config_known("csv", &sec));
  cr_expect_str_eq(sec, "output");
  cr_expect(!kd_config_known("quiet", NULL));
  cr_expect(!kd_config_known("bogus", NULL));
  kd_config c;
  kd_config_default(&c);
  expect_set_error(&c, "bogus", "1", "bogus");
}

Test(settings, list_for_unswept_axis_refused_naming_it) {
  kd_config c;
  kd_config_default(&c); /* sweeps n */
  set(&c, "p", "100,200");
  expect_check_error(&c, "--p");
  expect_check_error(&c, "not swept");
  kd_config_default(&c);
  set(&c, "ridge", "1e-3:1:log3");
  expect_check_error(&c, "--ridge");
  kd_config_default(&c);
  set(&c, "sweep", "p");
  set(&c, "n", "100,200");
  expect_check_error(&c, "--n");
  /* A single value for an unswept axis is fine; a list for a swept one too. */
  kd_config_default(&c);
  set(&c, "sweep", "n,p");
  set(&c, "p", "100,200");
  set(&c, "ridge", "0.5");
  cr_expect_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
}

Test(settings, sweep_axes) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "sweep", "n,p");
  cr_expect_eq(c.n_swept, 2);
  cr_expect_eq(c.swept[0], KD_AXIS_N);
  cr_expect_eq(c.swept[1], KD_AXIS_P);
  set(&c, "sweep", "ridge");
  cr_expect_eq(c.n_swept, 1);
  cr_expect_eq(c.swept[0], KD_AXIS_RIDGE);
  expect_set_error(&c, "sweep", "q", "'q'");
  expect_set_error(&c, "sweep", "n,q", "'q'");
  expect_set_error(&c, "sweep", "n,p,m", "at most 2");
  expect_set_error(&c, "sweep", "n,n", "twice");
  expect_set_error(&c, "sweep", "", "--sweep");
  expect_set_error(&c, "sweep", ",", "--sweep");
  /* A refused --sweep leaves the previous one. */
  cr_expect_eq(c.n_swept, 1);
  cr_expect_eq(c.swept[0], KD_AXIS_RIDGE);
}

Test(settings, k_above_p_refused) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "p", "50");
  set(&c, "k", "60");
  expect_check_error(&c, "k = 60 exceeds p = 50");
  set(&c, "k", "50");
  cr_expect_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
  set(&c, "k", "auto");
  cr_expect_eq(c.k, 0);
  cr_expect_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
}

Test(settings, other_cross_checks) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "spectrum", "isotropic");
  set(&c, "sweep", "alpha");
  expect_check_error(&c, "--sweep alpha");
  kd_config_default(&c);
  set(&c, "spectrum", "file:/nonexistent/spec.txt");
  cr_expect_eq(c.p, 0, "a spectrum file leaves p to its length");
  set(&c, "sweep", "p");
  expect_check_error(&c, "spectrum file");
}

Test(settings, scalar_values_are_strict) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "p", "1e3");
  cr_expect_eq(c.p, 1000);
  expect_set_error(&c, "p", "2.5", "--p");
  expect_set_error(&c, "trials", "0", "--trials");
  expect_set_error(&c, "seed", "-1", "--seed");
  set(&c, "seed", "18446744073709551615");
  cr_expect_eq(c.seed, UINT64_MAX);
  expect_set_error(&c, "raw", "maybe", "--raw");
  expect_set_error(&c, "csv", "", "--csv");
  expect_set_error(&c, "spectrum", "twolevel:3,1", "twolevel");
  expect_set_error(&c, "spectrum", "cubic", "cubic");
  expect_set_error(&c, "beta", "file:", "--beta");
  expect_set_error(&c, "teacher-sigma", "-1", "--teacher-sigma");
  expect_set_error(&c, "backend", "tpu", "tpu");
}

/* ---- scenario files ---------------------------------------------------------------------- */

/* Prints c as a scenario file, reads it back onto the embedded default and compares
 * the canonical texts, the full texts and the hashes. */
static void round_trip(const kd_config *c) {
  char *a = printed(c, 0);
  kd_test_write("round.ini", a);
  free(a);
  kd_config back;
  kd_config_default(&back);
  kd_status st = kd_scenario_load(&back, kd_test_path("round.ini"));
  cr_assert_eq(st, KD_OK, "reading back: %s", kd_last_error());
  a = printed(c, 1);
  char *b = printed(&back, 1);
  cr_expect_str_eq(b, a, "canonical text changed by the round trip");
  free(a);
  free(b);
  a = printed(c, 0);
  b = printed(&back, 0);
  cr_expect_str_eq(b, a, "scenario text changed by the round trip");
  free(a);
  free(b);
  cr_expect_eq(back.raw, c->raw);
  char h1[17], h2[17];
  hash_of(c, h1);
  hash_of(&back, h2);
  cr_expect_str_eq(h2, h1);
}

Test(scenario, round_trip_of_the_default) {
  kd_config c;
  kd_config_default(&c);
  round_trip(&c);
}

Test(scenario, round_trip_of_a_nontrivial_config) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "sweep", "n,p");
  set(&c, "n", "20:400:log5,1000");
  set(&c, "p", "30,100:200:lin3");
  set(&c, "spectrum", "twolevel:10,1,0.01");
  set(&c, "beta", "gauss");
  set(&c, "sigma", "0.3");
  set(&c, "teacher-sigma", "0.125");
  set(&c, "k", "8");
  set(&c, "m", "300");
  set(&c, "ridge", "1e-3");
  set(&c, "pipelines", "strong,w2s,weak");
  set(&c, "trials", "7");
  set(&c, "seed", "12345678901234567890");
  set(&c, "backend", "cpu");
  set(&c, "csv", "some/where.csv");
  set(&c, "raw", "true");
  cr_assert_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
  round_trip(&c);
}

Test(scenario, round_trip_of_a_ridge_sweep_with_a_spectrum_file) {
  kd_test_write("spec.txt", "1\n0.5\n0.25\n0.125\n0.0625\n");
  char spec[600];
  snprintf(spec, sizeof spec, "file:%s", kd_test_path("spec.txt"));
  kd_config c;
  kd_config_default(&c);
  set(&c, "spectrum", spec);
  set(&c, "sweep", "ridge");
  set(&c, "ridge", "1e-4:1:log3");
  set(&c, "n", "12");
  set(&c, "alpha", "1.5");
  set(&c, "teacher-sigma", "0");
  cr_assert_eq(c.p, 0);
  round_trip(&c);
}

Test(scenario, round_trip_of_default_grids) {
  /* An axis swept without values prints its default grid, which reads back to the
   * same points. */
  static const char *const axes[] = {"p", "m", "ridge", "alpha", "sigma"};
  static const char *const lines[] = {"\np = 100,200,500,1000,2000\n",
                                      "\nm = 500,1000,2000,5000,10000,20000\n",
                                      "\nridge = 1e-4:1:log9\n", "\nalpha = 1.25,1.5,2,3,4\n",
                                      "\nsigma = 0,0.1,0.25,0.5,1\n"};
  for (size_t i = 0; i < sizeof axes / sizeof *axes; ++i) {
    kd_config c;
    kd_config_default(&c);
    set(&c, "n", "100");
    set(&c, "sweep", axes[i]);
    char *text = printed(&c, 0);
    cr_expect(strstr(text, lines[i]) != NULL, "--sweep %s prints:\n%s", axes[i], text);
    free(text);
    round_trip(&c);
  }
}

Test(scenario, text_sets_settings_by_section) {
  kd_config c;
  kd_config_default(&c);
  kd_status st = kd_scenario_load_text(&c,
                                       "; a comment\n[problem]\np = 64\n[sweep]\nsweep = ridge\n"
                                       "ridge = 0.1,1\n[student]\nridge = 0.1,1\n[teacher]\nk = 7\n",
                                       "inline");
  /* ridge lives in [student]: the [sweep] line is refused. */
  cr_expect_neq(st, KD_OK);
  cr_expect(strstr(kd_last_error(), "inline:6") != NULL, "message: %s", kd_last_error());
  kd_config_default(&c);
  st = kd_scenario_load_text(&c, "[problem]\np = 64\n[sweep]\nsweep = ridge\n[student]\nridge = 0.1,1\n",
                             "inline");
  cr_assert_eq(st, KD_OK, "%s", kd_last_error());
  cr_expect_eq(c.p, 64);
  cr_expect_eq(c.swept[0], KD_AXIS_RIDGE);
  cr_expect_str_eq(c.values[KD_AXIS_RIDGE], "0.1,1");
}

/* The scenario `text` is refused; the message is one line naming the file and each
 * of `needles`. */
static void expect_scenario_error(const char *text, const char *needle1, const char *needle2) {
  kd_test_write("bad.ini", text);
  const char *path = kd_test_path("bad.ini");
  kd_config c;
  kd_config_default(&c);
  kd_status st = kd_scenario_load(&c, path);
  cr_expect_neq(st, KD_OK, "accepted: %s", text);
  if (st == KD_OK) return;
  const char *msg = kd_last_error();
  cr_expect(strstr(msg, path) != NULL, "message '%s' does not name the file", msg);
  cr_expect(strstr(msg, needle1) != NULL, "message '%s' lacks '%s'", msg, needle1);
  if (needle2) cr_expect(strstr(msg, needle2) != NULL, "message '%s' lacks '%s'", msg, needle2);
  cr_expect(strchr(msg, '\n') == NULL, "message is not one line: '%s'", msg);
}

Test(scenario, errors_name_file_line_and_key) {
  expect_scenario_error("[problem]\np = 50\nbogus = 3\n", "bogus", "bad.ini:3");
  expect_scenario_error("[problem]\np = 50\n[sweep]\nalpha = 2\n", "alpha", "bad.ini:4");
  expect_scenario_error("[problem]\nsigma = 0.5\np = 12x\n", "12x", "bad.ini:3");
  expect_scenario_error("[problem]\nsigma = -1\n", "--sigma", "bad.ini:2");
  expect_scenario_error("[sweep]\nsweep = n,q\n", "'q'", "bad.ini:2");
  expect_scenario_error("[sweep]\nn = 1:10:geo3\n", "geo3", "bad.ini:2");
  expect_scenario_error("[sweep]\npipelines = strong,teacher\n", "teacher", NULL);
  expect_scenario_error("p = 50\n", "p", "[]");                /* no section */
  expect_scenario_error("[problem]\np = 50\nthis is not ini\n", "bad.ini:3", "INI");
  expect_scenario_error("[problem\np = 50\n", "bad.ini:1", NULL);
  /* The first error in line order, whether inih's or a setting's. */
  expect_scenario_error("[problem]\nnonsense\np = 12x\n", "bad.ini:2", "INI");
  expect_scenario_error("[problem]\np = 12x\nnonsense\n", "bad.ini:2", "12x");
  expect_scenario_error("[problem]\np = 50\nsigma = 12x", "bad.ini:3", "12x"); /* no newline */
}

Test(scenario, key_given_twice_names_both_lines) {
  expect_scenario_error("[problem]\np = 50\nsigma = 0.5\np = 40\n", "bad.ini:4: key 'p' given twice",
                        "first at ");
  expect_scenario_error("[problem]\np = 50\nsigma = 0.5\np = 40\n", "bad.ini:2", NULL);
  /* in a section opened twice, and for keys that are not axes */
  expect_scenario_error("[sweep]\ntrials = 3\n[problem]\np = 50\n[sweep]\nseed = 2\ntrials = 4\n",
                        "bad.ini:7: key 'trials' given twice", "bad.ini:2");
  expect_scenario_error("[sweep]\nsweep = n\npipelines = strong\nsweep = p\n", "key 'sweep'",
                        "bad.ini:2");
  /* The same key in two texts is an override, not a repetition (a preset, then a
   * scenario file, then flags). */
  kd_config c;
  kd_config_default(&c);
  cr_assert_eq(kd_scenario_load_text(&c, "[problem]\np = 50\n", "one"), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_scenario_load_text(&c, "[problem]\np = 60\n", "two"), KD_OK, "%s", kd_last_error());
  cr_expect_eq(c.p, 60);
}

Test(scenario, long_lines_and_line_numbers_after_them) {
  /* An n list of some 2000 characters (a setting holds up to KD_TEXT_LEN, a line
   * KD_LINE_MAX): read whole, the lines after it keep their numbers. */
  size_t cap = 40000, len = 0;
  char *text = malloc(cap);
  cr_assert_not_null(text);
  len += (size_t)snprintf(text + len, cap - len, "[sweep]\nsweep = n\nn = 20");
  for (int i = 21; i < 420; ++i) len += (size_t)snprintf(text + len, cap - len, ",%d", i);
  len += (size_t)snprintf(text + len, cap - len, "\ntrials = 3\n");
  kd_config c;
  kd_config_default(&c);
  cr_assert_eq(kd_scenario_load_text(&c, text, "inline"), KD_OK, "%s", kd_last_error());
  cr_expect_eq(c.trials, 3);
  double *v = NULL;
  cr_expect_eq(values(KD_AXIS_N, c.values[KD_AXIS_N], &v), 400);
  free(v);
  snprintf(text + len, cap - len, "[problem]\nbogus = 1\n");
  kd_config_default(&c);
  cr_expect_neq(kd_scenario_load_text(&c, text, "inline"), KD_OK);
  cr_expect(strstr(kd_last_error(), "inline:6: unknown key 'bogus'") != NULL, "message: %s",
            kd_last_error());
  free(text);
}

Test(scenario, first_error_wins) {
  expect_scenario_error("[problem]\nbogus = 1\np = 12x\n", "bogus", "bad.ini:2");
}

/* A scenario file without a setting (empty, only comments, only sections) ran the
 * embedded default job into results/ without a word: refused, naming the file. */
Test(scenario, a_scenario_without_a_setting_is_refused) {
  expect_scenario_error("", "bad.ini: no setting", NULL);
  expect_scenario_error("# p = 50\n\n; sigma = 1\n", "bad.ini: no setting", NULL);
  expect_scenario_error("[problem]\n[sweep]\n", "bad.ini: no setting", NULL);
  /* A text may be empty: a preset's part that changes nothing (fig1). */
  kd_config c;
  kd_config_default(&c);
  cr_expect_eq(kd_scenario_load_text(&c, "", "inline"), KD_OK, "%s", kd_last_error());
}

Test(scenario, missing_file_named) {
  const char *path = kd_test_path("nope.ini");
  kd_config c;
  kd_config_default(&c);
  cr_expect_neq(kd_scenario_load(&c, path), KD_OK);
  cr_expect(strstr(kd_last_error(), path) != NULL, "message: %s", kd_last_error());
}

Test(scenario, presets) {
  kd_config a, b;
  kd_config_default(&a);
  memset(&b, 0xab, sizeof b);
  b.run.quiet = 1, b.run.verbose = 0, b.run.force = 1;
  cr_assert_eq(kd_scenario_preset(&b, "fig1"), KD_OK, "%s", kd_last_error());
  char *ta = printed(&a, 0), *tb = printed(&b, 0);
  cr_expect_str_eq(tb, ta, "preset fig1 differs from the embedded default");
  free(ta);
  free(tb);
  cr_expect_eq(b.run.quiet, 1, "a preset keeps the presentation flags");
  cr_expect_eq(b.run.force, 1);
  char h1[17], h2[17];
  hash_of(&a, h1);
  hash_of(&b, h2);
  cr_expect_str_eq(h2, h1);

  cr_expect_neq(kd_scenario_preset(&b, "nope"), KD_OK);
  cr_expect(strstr(kd_last_error(), "'nope'") != NULL, "message: %s", kd_last_error());

  char *list = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&list, &len);
  kd_scenario_list_presets(f);
  fclose(f);
  cr_expect(strncmp(list, "fig1 ", 5) == 0 || strstr(list, "\nfig1 ") != NULL, "list: %s", list);
  free(list);
}

/* ---- the grid ------------------------------------------------------------------------------- */

static void build(const kd_config *c, kd_grid *g) {
  kd_status st = kd_grid_build(c, g);
  cr_assert_eq(st, KD_OK, "grid: %s", kd_last_error());
}

Test(grid, two_axes_p_outer_n_inner) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "sweep", "n,p");
  set(&c, "n", "20,50,100");
  set(&c, "p", "30,60");
  kd_grid g;
  build(&c, &g);
  cr_assert_eq(g.count, 6);
  const size_t n[] = {20, 50, 100, 20, 50, 100}, p[] = {30, 30, 30, 60, 60, 60};
  for (size_t i = 0; i < g.count; ++i) {
    cr_expect_eq(g.pt[i].n, n[i], "point %zu: n = %zu", i, g.pt[i].n);
    cr_expect_eq(g.pt[i].p, p[i], "point %zu: p = %zu", i, g.pt[i].p);
    cr_expect_eq(g.pt[i].m, 5000);
    cr_expect_eq(g.pt[i].ridge, 0);
    cr_expect_eq(g.pt[i].sigma, 0.5);
  }
  kd_grid_free(&g);

  /* The other way round: p inner. */
  set(&c, "sweep", "p,n");
  build(&c, &g);
  cr_assert_eq(g.count, 6);
  cr_expect(g.pt[0].n == 20 && g.pt[0].p == 30 && g.pt[1].n == 20 && g.pt[1].p == 60 &&
            g.pt[2].n == 50 && g.pt[2].p == 30);
  kd_grid_free(&g);
}

Test(grid, default_n_grid_passes_through_each_p) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "sweep", "n,p");
  set(&c, "p", "100,1000");
  kd_grid g;
  build(&c, &g);
  size_t blocks = 0, i = 0;
  while (i < g.count) {
    size_t p = g.pt[i].p, j = i;
    int through = 0;
    cr_expect_eq(g.pt[i].n, 20, "p = %zu: grid starts at %zu", p, g.pt[i].n);
    for (; j < g.count && g.pt[j].p == p; ++j) {
      through |= g.pt[j].n == p;
      if (j > i) cr_expect_gt(g.pt[j].n, g.pt[j - 1].n, "p = %zu: not increasing at %zu", p, j);
    }
    cr_expect_eq(g.pt[j - 1].n, 2000, "p = %zu: grid ends at %zu", p, g.pt[j - 1].n);
    cr_expect(through, "p = %zu: the n grid misses n = p", p);
    ++blocks;
    i = j;
  }
  cr_expect_eq(blocks, 2);
  cr_expect_eq(g.pt[0].p, 100);
  kd_grid_free(&g);

  size_t *n = NULL, count = 0;
  cr_assert_eq(kd_default_n_grid(500, &n, &count), KD_OK);
  cr_expect_eq(count, 17, "the default sweep has 17 points (README)");
  free(n);
}

Test(grid, n_not_swept_needs_a_single_n) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "sweep", "p");
  set(&c, "p", "30,60");
  kd_grid g;
  cr_expect_neq(kd_grid_build(&c, &g), KD_OK);
  cr_expect(strstr(kd_last_error(), "--n") != NULL, "message: %s", kd_last_error());
  set(&c, "n", "1e2"); /* a valid integer, written as a number */
  build(&c, &g);
  cr_assert_eq(g.count, 2);
  cr_expect_eq(g.pt[0].n, 100, "--n 1e2 gave n = %zu", g.pt[0].n);
  cr_expect_eq(g.pt[1].n, 100);
  cr_expect_eq(g.pt[0].p, 30);
  cr_expect_eq(g.pt[1].p, 60);
  kd_grid_free(&g);
}

Test(grid, other_axes_set_their_field) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "n", "50");
  set(&c, "sweep", "ridge,sigma");
  set(&c, "ridge", "0,0.5");
  set(&c, "sigma", "0.1,1");
  kd_grid g;
  build(&c, &g);
  cr_assert_eq(g.count, 4);
  cr_expect(g.pt[0].ridge == 0 && g.pt[0].sigma == 0.1 && g.pt[1].ridge == 0.5 &&
            g.pt[1].sigma == 0.1 && g.pt[2].ridge == 0 && g.pt[2].sigma == 1);
  for (size_t i = 0; i < g.count; ++i) cr_expect_eq(g.pt[i].n, 50);
  kd_grid_free(&g);

  /* k swept without values: 10..p, each block within its p, ending at p. */
  kd_config_default(&c);
  set(&c, "n", "50");
  set(&c, "sweep", "k,p");
  set(&c, "p", "20,64");
  build(&c, &g);
  for (size_t i = 0; i < g.count; ++i) {
    cr_expect_leq(g.pt[i].k, g.pt[i].p);
    cr_expect_geq(g.pt[i].k, 10);
    if (i + 1 == g.count || g.pt[i + 1].p != g.pt[i].p)
      cr_expect_eq(g.pt[i].k, g.pt[i].p, "the k grid ends at p");
  }
  kd_grid_free(&g);
}

/* The values of axis a over the grid of c, in grid order. */
static size_t grid_values(const kd_config *c, kd_axis a, double *out, size_t max) {
  kd_grid g;
  build(c, &g);
  size_t n = 0;
  for (size_t i = 0; i < g.count && n < max; ++i) {
    const kd_grid_point *pt = &g.pt[i];
    double x[KD_NAXES] = {(double)pt->n, (double)pt->p, (double)pt->m, (double)pt->k,
                          pt->ridge, pt->alpha, pt->sigma};
    out[n++] = x[a];
  }
  size_t count = g.count;
  kd_grid_free(&g);
  return count;
}

Test(grid, axes_swept_without_values_take_their_default_grid) {
  /* The defaults of --help; the default config (the preset fig1) sets p = 500, m =
   * 5000, ridge = 0, alpha = 2, sigma = 0.5: defaults of a run, not sweep values. */
  static const struct {
    kd_axis a;
    size_t count;
    double first, last;
    const char *given; /* a value given after the preset */
  } want[] = {
      {KD_AXIS_P, 5, 100, 2000, "300"},     {KD_AXIS_M, 6, 500, 20000, "2000"},
      {KD_AXIS_RIDGE, 9, 1e-4, 1, "0.75"},  {KD_AXIS_ALPHA, 5, 1.25, 4, "0.75"},
      {KD_AXIS_SIGMA, 5, 0, 1, "0.75"},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; ++i) {
    kd_config c;
    kd_config_default(&c);
    set(&c, "n", "100");
    set(&c, "sweep", kd_axis_name(want[i].a));
    cr_assert_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
    double v[16];
    size_t n = grid_values(&c, want[i].a, v, 16);
    cr_expect_eq(n, want[i].count, "--sweep %s: %zu points", kd_axis_name(want[i].a), n);
    cr_expect(n >= 2 && v[0] == want[i].first && v[n - 1] == want[i].last,
              "--sweep %s: from %g to %g", kd_axis_name(want[i].a), v[0], v[n - 1]);
    /* A value given after the preset is the sweep's one value. */
    set(&c, kd_axis_name(want[i].a), want[i].given);
    cr_expect_eq(grid_values(&c, want[i].a, v, 16), 1, "--sweep %s with a value given",
                 kd_axis_name(want[i].a));
    cr_expect_eq(v[0], strtod(want[i].given, NULL));
  }
}

Test(grid, presets_keep_the_values_of_the_axes_they_sweep) {
  kd_config c;
  kd_config_default(&c);
  cr_assert_eq(kd_scenario_preset(&c, "w2s"), KD_OK, "%s", kd_last_error());
  cr_expect_str_eq(c.values[KD_AXIS_M], "1000,2000,5000,20000");
  cr_expect_str_eq(c.values[KD_AXIS_K], "50,100,150,200,300,400");
  cr_expect_str_eq(c.values[KD_AXIS_N], "200", "n's one value is its setting");
  cr_expect_str_eq(c.values[KD_AXIS_P], "", "p = 500 is the run's default, not a sweep value");
  cr_expect_eq(c.p, 500);
  double v[32];
  cr_expect_eq(grid_values(&c, KD_AXIS_M, v, 32), 24);
  cr_assert_eq(kd_scenario_preset_part(&c, "scaling", 1, 0), KD_OK, "%s", kd_last_error());
  cr_expect_str_eq(c.values[KD_AXIS_N], "25:1000:log11");
  cr_expect_eq(c.p, 4000);
  cr_expect_eq(c.alpha, 1.5);
  cr_expect_eq(grid_values(&c, KD_AXIS_N, v, 32), 11);
}

Test(grid, k_above_p_at_a_point_refused_naming_it) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "sweep", "p");
  set(&c, "p", "100,50");
  set(&c, "n", "40");
  set(&c, "k", "80");
  cr_expect_eq(kd_config_check(&c), KD_OK, "the check leaves it to the grid: %s", kd_last_error());
  kd_grid g;
  cr_expect_neq(kd_grid_build(&c, &g), KD_OK);
  const char *msg = kd_last_error();
  cr_expect(strstr(msg, "k = 80") && strstr(msg, "p = 50") && strstr(msg, "n=40 p=50"),
            "message: %s", msg);
  cr_expect_null(g.pt);
}

/* ---- the scenario hash ---------------------------------------------------------------------- */

static int is_hex16(const char *h) {
  if (strlen(h) != 16) return 0;
  for (const char *s = h; *s; ++s)
    if (!strchr("0123456789abcdef", *s)) return 0;
  return 1;
}

Test(scenario_hash, changes_with_what_determines_the_numbers) {
  kd_config base;
  small_config(&base);
  char h0[17];
  hash_of(&base, h0);
  cr_expect(is_hex16(h0), "hash '%s'", h0);
  char again[17];
  hash_of(&base, again);
  cr_expect_str_eq(again, h0, "the hash is a function of the config");

  static const char *const changes[][2] = {
      {"p", "41"},           {"trials", "4"},         {"seed", "2"},
      {"pipelines", "strong,optimal"}, {"pipelines", "strong,optimal,mask,w2s,weak"},
      {"n", "20,61"},        {"n", "60,20"},          {"alpha", "2.5"},
      {"sigma", "0.4"},      {"teacher-sigma", "0.1"}, {"ridge", "0.1"},
      {"m", "400"},          {"k", "5"},              {"spectrum", "isotropic"},
      {"beta", "gauss"},     {"signal-exp", "1"},
  };
  for (size_t i = 0; i < sizeof changes / sizeof *changes; ++i) {
    kd_config c;
    small_config(&c);
    set(&c, changes[i][0], changes[i][1]);
    char h[17];
    hash_of(&c, h);
    cr_expect_str_neq(h, h0, "%s = %s does not change the hash", changes[i][0], changes[i][1]);
  }
  /* The swept axis: the same values, another axis. */
  kd_config c;
  small_config(&c);
  set(&c, "sweep", "n,p");
  char h[17];
  hash_of(&c, h);
  cr_expect_str_neq(h, h0, "--sweep n,p does not change the hash");
}

Test(scenario_hash, blind_to_outputs_backend_and_presentation) {
  kd_config base;
  small_config(&base);
  char h0[17];
  hash_of(&base, h0);
  static const char *const same[][2] = {
      {"csv", "elsewhere/other.csv"}, {"backend", "cpu"}, {"backend", "cuda"}, {"fit", "true"},
  };
  for (size_t i = 0; i < sizeof same / sizeof *same; ++i) {
    kd_config c;
    small_config(&c);
    set(&c, same[i][0], same[i][1]);
    char h[17];
    hash_of(&c, h);
    cr_expect_str_eq(h, h0, "%s = %s changes the hash", same[i][0], same[i][1]);
  }
  kd_config c;
  small_config(&c);
  c.run.quiet = 1, c.run.verbose = 1, c.run.force = 1;
  char h[17];
  hash_of(&c, h);
  cr_expect_str_eq(h, h0, "--quiet/--verbose/--force change the hash");
  /* --raw changes what a row holds: resuming a run without per-trial risks with --raw
   * would mix rows with and without them. */
  small_config(&c);
  set(&c, "raw", "true");
  hash_of(&c, h);
  cr_expect_str_neq(h, h0, "--raw does not change the hash");
  /* The same numbers typed two ways are one scenario. */
  small_config(&c);
  char p_text[32];
  snprintf(p_text, sizeof p_text, "%zue0", c.p);
  set(&c, "p", p_text);
  hash_of(&c, h);
  cr_expect_str_eq(h, h0, "p = %s changes the hash", p_text);
}

/* @/NAME: `head`, then 40 lines: the values 1/(i+1) (spectrum) or 0.1 (beta*), the
 * line `changed` (0-based; -1: none) with `value` instead. */
static void write_vector(const char *name, const char *head, int spectrum, int changed,
                         const char *value) {
  char text[4096];
  size_t len = (size_t)snprintf(text, sizeof text, "%s", head);
  for (int i = 0; i < 40; ++i) {
    if (i == changed) len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", value);
    else if (spectrum) len += (size_t)snprintf(text + len, sizeof text - len, "%.17g\n", 1.0 / (i + 1));
    else len += (size_t)snprintf(text + len, sizeof text - len, "0.1\n");
  }
  kd_test_write(name, text);
}

static kd_scenario_id id_of(const kd_config *c) {
  kd_scenario_id id;
  cr_assert_eq(kd_scenario_hash(c, &id), KD_OK, "hash: %s", kd_last_error());
  return id;
}

Test(scenario_hash, covers_the_values_of_spectrum_and_beta_files) {
  for (int spectrum = 0; spectrum <= 1; ++spectrum) {
    const char *key = spectrum ? "spectrum" : "beta", *file = spectrum ? "spec.txt" : "beta.txt";
    char setting[600];
    snprintf(setting, sizeof setting, "file:%s", kd_test_path(file));
    kd_config c;
    small_config(&c);
    set(&c, key, setting);
    write_vector(file, "", spectrum, -1, NULL);
    kd_scenario_id a = id_of(&c);
    cr_expect_eq(a.numerics, KD_NUMERICS_VERSION);
    cr_expect_str_eq(spectrum ? a.beta : a.spectrum, "", "a part for a %s that is no file",
                     spectrum ? "beta*" : "spectrum");
    /* The same values written otherwise: the same scenario. */
    write_vector(file, "# a comment\n\n", spectrum, 3, spectrum ? "0.25" : "1e-1");
    kd_scenario_id b = id_of(&c);
    cr_expect_str_eq(b.hash, a.hash, "%s: rewriting the same values changes the hash", key);
    /* One value changed in its last bit: another scenario, of the same settings. */
    char v[32];
    snprintf(v, sizeof v, "%.17g", nextafter(spectrum ? 1.0 / 8 : 0.1, 0));
    write_vector(file, "", spectrum, 7, v);
    b = id_of(&c);
    cr_expect_str_neq(b.hash, a.hash, "%s: a changed value keeps the hash", key);
    cr_expect_str_eq(b.settings, a.settings);
    cr_expect_str_neq(spectrum ? b.spectrum : b.beta, spectrum ? a.spectrum : a.beta);
    char why[1024], want[700];
    kd_scenario_id_diff(&a, &b, why, sizeof why);
    snprintf(want, sizeof want, "the values in the --%s file %s differ", key, kd_test_path(file));
    cr_expect_str_eq(why, want);
    /* Another numerics version, other settings: said as such. */
    kd_scenario_id old = a;
    old.numerics = KD_NUMERICS_VERSION - 1;
    kd_scenario_id_diff(&old, &a, why, sizeof why);
    snprintf(want, sizeof want, "computed by numerics version %d, not %d", KD_NUMERICS_VERSION - 1,
             KD_NUMERICS_VERSION);
    cr_expect_str_eq(why, want);
    set(&c, "trials", "4");
    kd_scenario_id d = id_of(&c);
    kd_scenario_id_diff(&a, &d, why, sizeof why);
    cr_expect_str_eq(why, "other settings");
  }
}

Test(scenario_hash, refuses_a_config_without_a_grid) {
  kd_config c;
  small_config(&c);
  set(&c, "sweep", "p");
  set(&c, "n", "default"); /* n neither swept nor given */
  kd_scenario_id id;
  cr_expect_neq(kd_scenario_hash(&c, &id), KD_OK);
}

/* ---- the one number grammar (include/kdbench/number.h), wherever a number is read ---- */

Test(numbers, the_grammar_is_decimal_only) {
  const char *good[] = {"0", "-0", "+7", "12", "1.", ".5", "-2.50", "1e3", "1E+3", "2.5e-3",
                        "1e-320", "0e-999", " 3", "3 ", "\t3\t"};
  const double want[] = {0, 0, 7, 12, 1, 0.5, -2.5, 1000, 1000, 2.5e-3, 1e-320, 0, 3, 3, 3};
  for (size_t i = 0; i < sizeof good / sizeof *good; ++i) {
    double x = -1;
    cr_expect_eq(kd_number_parse(good[i], &x), KD_NUM_OK, "'%s' refused", good[i]);
    cr_expect_eq(x, want[i], "'%s' read as %.17g", good[i], x);
  }
  const char *bad[] = {"", " ", ".", "-", "+.", "e3", "1e", "1e+", "0x10", "0x1p-3", "inf", "nan",
                       "-inf", "1 0", "1,5", "1..2", "--1", "1e3.5", "12x", "1_000"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    double x = 0;
    cr_expect_eq(kd_number_parse(bad[i], &x), KD_NUM_SYNTAX, "'%s' accepted", bad[i]);
  }
  double x = 0;
  cr_expect_eq(kd_number_parse("1e400", &x), KD_NUM_TOO_LARGE);
  cr_expect_eq(kd_number_parse("-1e400", &x), KD_NUM_TOO_LARGE);
  cr_expect_eq(kd_number_parse("1e-400", &x), KD_NUM_TOO_SMALL);
  uint64_t u = 0;
  cr_expect_eq(kd_whole_parse("18446744073709551615", &u), KD_NUM_OK);
  cr_expect_eq(u, UINT64_MAX);
  cr_expect_eq(kd_whole_parse("18446744073709551616", &u), KD_NUM_TOO_LARGE);
  cr_expect_eq(kd_whole_parse("1e3", &u), KD_NUM_OK);
  cr_expect_eq(u, 1000);
  cr_expect_eq(kd_whole_parse("010", &u), KD_NUM_OK); /* decimal, not octal */
  cr_expect_eq(u, 10);
  cr_expect_eq(kd_whole_parse("2.5", &u), KD_NUM_NOT_WHOLE);
  cr_expect_eq(kd_whole_parse("-3", &u), KD_NUM_NOT_WHOLE);
  cr_expect_eq(kd_whole_parse("1e20", &u), KD_NUM_TOO_LARGE); /* past 2^53 only as digits */
  cr_expect_eq(kd_whole_parse("0x10", &u), KD_NUM_SYNTAX);
}

/* Subnormals were "not a number" (strtod's ERANGE); hexadecimal and a leading blank were
 * taken while a trailing blank was refused. Each setting now says what it expected. */
Test(numbers, settings_read_the_grammar_and_say_what_they_expected) {
  kd_config c;
  kd_config_default(&c);
  set(&c, "ridge", "1e-320");
  cr_expect(c.ridge > 0 && c.ridge < 1e-300, "ridge %g", c.ridge);
  expect_set_error(&c, "ridge", "1e-400", "--ridge: expected a number from 0 to 1e+100, got '1e-400' (too small to tell from 0)");
  expect_set_error(&c, "p", "0x10", "--p: expected a positive integer, got '0x10'");
  expect_set_error(&c, "ridge", "0x1p-3", "--ridge: expected a number from 0 to 1e+100, got '0x1p-3'");
  expect_set_error(&c, "seed", "0x10", "--seed: expected an integer from 0 to 2^64 - 1, got '0x10'");
  expect_set_error(&c, "trials", "1e400", "(too large)");
  expect_set_error(&c, "signal-exp", "inf", "--signal-exp: expected a positive number, got 'inf'");
  expect_set_error(&c, "spectrum", "twolevel:0x2,3,1", "expected twolevel:K,A,B");
  expect_set_error(&c, "spectrum", "twolevel:-3,2,1", "expected twolevel:K,A,B");
  expect_set_error(&c, "spectrum", "isotropic:0x2", "--spectrum: expected a positive number");
  set(&c, "seed", "010");
  cr_expect_eq(c.seed, 10, "seed 010 is ten, not octal eight: %llu", (unsigned long long)c.seed);
  /* Blanks around a number: trimmed alike, before and after. */
  set(&c, "p", " 20");
  cr_expect_eq(c.p, 20);
  set(&c, "p", "30 ");
  cr_expect_eq(c.p, 30);
  set(&c, "sigma", "\t0.25 ");
  cr_expect_eq(c.sigma, 0.25);
  expect_values(KD_AXIS_N, "10 ,20", (double[]){10, 20}, 2);
  expect_values(KD_AXIS_N, " 10, 20 ", (double[]){10, 20}, 2);
  expect_values(KD_AXIS_N, "10 : 40 : pow2 ", (double[]){16, 32}, 2);
  expect_axis_error(KD_AXIS_N, "1 0", "got '1 0'");
  /* A spectrum's text is hashed: kept without the blanks around its numbers. */
  set(&c, "spectrum", "twolevel: 2, 3 ,1 ");
  cr_expect_str_eq(c.spectrum, "twolevel:2,3,1");
}

/* log1000000000 was an "unknown spacing"; 120 ranges of lin10000 hung de-duplication. */
Test(numbers, a_range_says_how_many_values_are_too_many) {
  expect_axis_error(KD_AXIS_N, "10:100:log1000000000", "asks for 1000000000 values, at most 10000");
  expect_values(KD_AXIS_N, "10:100:log1e1", (double[]){10, 13, 17, 22, 28, 36, 46, 60, 77, 100}, 10);
  char *text = malloc(4000);
  cr_assert_not_null(text);
  size_t len = 0;
  for (int i = 1; i < 120; ++i) len += (size_t)snprintf(text + len, 4000 - len, "%s%d:%d:lin10000", i > 1 ? "," : "", i, i + 1);
  expect_axis_error(KD_AXIS_RIDGE, text, "more than 10000 values");
  free(text);
}

/* libinih's continuation lines read an indented "p = 20" as more of the key before. */
Test(numbers, an_indented_line_is_a_line) {
  kd_config c;
  kd_config_default(&c);
  cr_assert_eq(kd_scenario_load_text(&c, "[problem]\nsigma = 0.25\n  p = 20\n\talpha = 3\n", "inline"),
               KD_OK, "%s", kd_last_error());
  cr_expect_eq(c.sigma, 0.25);
  cr_expect_eq(c.p, 20);
  cr_expect_eq(c.alpha, 3);
}

/* A line of 1.2 MB took 7.9 s before its error: now refused after KD_LINE_MAX + 1 bytes,
 * naming the file and line, in a scenario as in a vector file. */
Test(numbers, one_line_length_limit_reached_fast) {
  size_t big = 1200000;
  char *text = malloc(big + 64);
  cr_assert_not_null(text);
  size_t len = (size_t)snprintf(text, 64, "[sweep]\nsweep = n\nn = 1");
  while (len + 2 < big) len += (size_t)snprintf(text + len, 3, ",1");
  snprintf(text + len, 64, "\ntrials = 3\n");
  kd_test_write("big.ini", text);
  const char *path = kd_test_path("big.ini");
  kd_config c;
  kd_config_default(&c);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  cr_expect_neq(kd_scenario_load(&c, path), KD_OK);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  char want[600];
  snprintf(want, sizeof want, "%s:3: line longer than %d bytes", path, KD_LINE_MAX);
  cr_expect_str_eq(kd_last_error(), want);
  double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  cr_expect(s < 0.5, "the error took %.2f s", s);
  /* the same text in memory (a preset's way in) */
  kd_config_default(&c);
  cr_expect_neq(kd_scenario_load_text(&c, text, "inline"), KD_OK);
  snprintf(want, sizeof want, "inline:3: line longer than %d bytes", KD_LINE_MAX);
  cr_expect_str_eq(kd_last_error(), want);
  /* a line of exactly KD_LINE_MAX bytes is read */
  len = (size_t)snprintf(text, 64, "[sweep]\ntrials = 3");
  memset(text + len, ' ', KD_LINE_MAX - len);
  strcpy(text + KD_LINE_MAX, "\n");
  kd_config_default(&c);
  cr_expect_eq(kd_scenario_load_text(&c, text, "inline"), KD_OK, "%s", kd_last_error());
  /* a vector file: one number on a line of 5000 bytes */
  memset(text, ' ', 5000);
  strcpy(text + 5000, "1\n");
  kd_test_write("long.txt", text);
  path = kd_test_path("long.txt");
  double *v = NULL;
  size_t n = 0;
  cr_expect_neq(kd_read_vector_file(path, 1, &v, &n, NULL), KD_OK);
  snprintf(want, sizeof want, "%s:1: line longer than %d bytes", path, KD_LINE_MAX);
  cr_expect_str_eq(kd_last_error(), want);
  free(text);
}

/* The lines of spectrum and beta* files follow the same grammar. */
Test(numbers, vector_files_read_the_grammar) {
  kd_test_write("v.txt", "# values\n  1e-320\r\n\t2.5 \n.5\n");
  double *v = NULL;
  size_t n = 0, *lines = NULL;
  cr_assert_eq(kd_read_vector_file(kd_test_path("v.txt"), 0, &v, &n, &lines), KD_OK, "%s",
               kd_last_error());
  cr_expect_eq(n, 3);
  cr_expect(v[0] > 0 && v[0] < 1e-300 && v[1] == 2.5 && v[2] == 0.5, "values %g %g %g", v[0], v[1], v[2]);
  cr_expect(lines[0] == 2 && lines[1] == 3 && lines[2] == 4, "lines %zu %zu %zu", lines[0], lines[1], lines[2]);
  free(v);
  free(lines);
  const char *bad[] = {"1\n0x10\n", "1\ninf\n", "1\n1 2\n", "1\n1e400\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    kd_test_write("v.txt", bad[i]);
    const char *path = kd_test_path("v.txt");
    cr_expect_neq(kd_read_vector_file(path, 0, &v, &n, NULL), KD_OK, "'%s' accepted", bad[i]);
    char want[600];
    snprintf(want, sizeof want, "%s:2: expected a number, got '", path);
    cr_expect(strncmp(kd_last_error(), want, strlen(want)) == 0, "message %s", kd_last_error());
  }
}

/* ---- the weak model's own spectrum (covariance shift) ----------------------------------- */

/* --weak-spectrum and --weak-alpha: printed and read back only when given (a scenario
 * without keeps its text and hash), part of the hash, the spectrum's grammar and its
 * one-line refusals, a file's values hashed; the problem gets Sigma_s. */
Test(scenario, weak_spectrum_round_trip_hash_and_refusals) {
  kd_config c;
  small_config(&c);
  char plain[17], shifted[17], steeper[17], iso[17];
  hash_of(&c, plain);
  char *text = printed(&c, 0);
  cr_expect_null(strstr(text, "weak-"), "%s", text);
  free(text);
  set(&c, "weak-alpha", "1.5"); /* alone: a power law */
  cr_expect_str_eq(c.weak_spectrum, "powerlaw");
  cr_assert_eq(kd_config_check(&c), KD_OK, "%s", kd_last_error());
  text = printed(&c, 1);
  cr_expect_not_null(strstr(text, "[teacher]\nm = 5000\nk = auto\nweak-spectrum = powerlaw\n"
                                  "weak-alpha = 1.5\n"),
                     "%s", text);
  free(text);
  round_trip(&c);
  hash_of(&c, shifted);
  set(&c, "weak-alpha", "2.5");
  hash_of(&c, steeper);
  cr_expect_str_neq(shifted, plain);
  cr_expect_str_neq(steeper, shifted);
  kd_problem pr;
  cr_assert_eq(kd_config_problem(&c, 40, 2, 0.5, 0.5, &pr), KD_OK, "%s", kd_last_error());
  cr_assert_not_null(pr.lambda_w);
  cr_expect_eq(pr.lambda_w[9], pow(10, -2.5));
  cr_expect_eq(pr.lambda[9], pow(10, -2));
  kd_problem_free(&pr);

  kd_config d;
  small_config(&d);
  set(&d, "weak-spectrum", "isotropic: 2.0");
  cr_expect_str_eq(d.weak_spectrum, "isotropic:2.0"); /* as given, without blanks */
  text = printed(&d, 1);
  cr_expect_not_null(strstr(text, "\nweak-spectrum = isotropic:2\n"), "%s", text);
  free(text);
  round_trip(&d);
  hash_of(&d, iso);
  cr_expect_str_neq(iso, plain);
  expect_set_error(&d, "weak-spectrum", "twolevel:5", "--weak-spectrum: expected twolevel:K,A,B");
  expect_set_error(&d, "weak-spectrum", "cauchy", "--weak-spectrum: unknown 'cauchy'");
  expect_set_error(&d, "weak-alpha", "0", "alpha");
  set(&d, "weak-alpha", "3");
  expect_check_error(&d, "--weak-alpha: needs --weak-spectrum powerlaw, got 'isotropic:2.0'");
  kd_config e;
  small_config(&e);
  set(&e, "weak-spectrum", "powerlaw");
  set(&e, "pipelines", "strong,optimal");
  expect_check_error(&e, "--weak-spectrum: no pipeline with a weak model");

  /* a file: p lines, its values in the hash */
  kd_config f;
  small_config(&f);
  char lines[40 * 8 + 1] = "";
  for (int i = 0; i < 40; ++i) strcat(lines, i < 20 ? "1\n" : "0.5\n");
  kd_test_write("ws.txt", lines);
  char spec[4200];
  snprintf(spec, sizeof spec, "file:%s", kd_test_path("ws.txt"));
  set(&f, "weak-spectrum", spec);
  char h1[17], h2[17];
  hash_of(&f, h1);
  lines[0] = '2';
  kd_test_write("ws.txt", lines);
  hash_of(&f, h2);
  cr_expect_str_neq(h1, h2, "the file's values are hashed");
  cr_assert_eq(kd_config_problem(&f, 40, 2, 0.5, 0.5, &pr), KD_OK, "%s", kd_last_error());
  cr_expect(pr.lambda_w[0] == 2 && pr.lambda_w[39] == 0.5);
  kd_problem_free(&pr);
  cr_expect_neq(kd_config_problem(&f, 30, 2, 0.5, 0.5, &pr), KD_OK, "a file of 40 lines at p = 30");
  cr_expect_not_null(strstr(kd_last_error(), "--weak-spectrum"), "%s", kd_last_error());
}
