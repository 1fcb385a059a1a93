/* The typed scenario: an axis's values parsed once, when set, into the config's
 * kd_axis_spec (a bad value refused then, the grid and the checks built from the typed
 * values, never from the text); the canonical print, hence the scenario hash, made from
 * typed values, so that equivalent spellings share a hash; and the hashes of the
 * committed runs (results/ and tests/data/quick-ref/) unchanged. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/config.h"
#include "kdbench/grid.h"
#include "kdbench/scenario.h"
#include "kdbench/scenario_id.h"

TestSuite(typed_axes);
TestSuite(typed_hash);

/* The default scenario with the settings pairs[0..] = value applied. */
static void config_with(kd_config *c, const char *const *pairs, size_t n) {
  kd_config_default(c);
  for (size_t i = 0; i + 1 < n; i += 2)
    cr_assert_eq(kd_config_set(c, pairs[i], pairs[i + 1]), KD_OK, "--%s %s: %s", pairs[i],
                 pairs[i + 1], kd_last_error());
}

static void hash_of(const kd_config *c, char h[17]) {
  kd_scenario_id id;
  cr_assert_eq(kd_scenario_hash(c, &id), KD_OK, "hash: %s", kd_last_error());
  memcpy(h, id.hash, 17);
}

static char *canonical_text(const kd_config *c) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert(f);
  kd_config_print(c, f, 1);
  fclose(f);
  return text;
}

/* ---- axis values, parsed once ------------------------------------------------------------ */

Test(typed_axes, items_are_parsed_when_set) {
  kd_config c;
  config_with(&c, (const char *[]){"sweep", "m", "m", " 500, 1e3 ,10:40:lin4,64:256:pow2"}, 4);
  const kd_axis_spec *s = &c.axis_values[KD_AXIS_M];
  cr_assert_eq(s->count, 4);
  cr_expect(s->item[0].kind == KD_ITEM_NUMBER && s->item[0].a == 500);
  cr_expect(s->item[1].kind == KD_ITEM_NUMBER && s->item[1].a == 1000);
  cr_expect(s->item[2].kind == KD_ITEM_LIN && s->item[2].a == 10 && s->item[2].b == 40 &&
            s->item[2].count == 4);
  cr_expect(s->item[3].kind == KD_ITEM_POW2 && s->item[3].a == 64 && s->item[3].b == 256);
  cr_expect_str_eq(c.values[KD_AXIS_M], " 500, 1e3 ,10:40:lin4,64:256:pow2",
                   "the text is kept as given, for printing");
  const double want[] = {500, 1000, 10, 20, 30, 40, 64, 128, 256};
  double *v = NULL;
  size_t n = 0;
  cr_assert_eq(kd_axis_spec_values(KD_AXIS_M, s, &v, &n), KD_OK);
  cr_assert_eq(n, sizeof want / sizeof *want);
  for (size_t i = 0; i < n; ++i) cr_expect_eq(v[i], want[i], "value %zu: %g, want %g", i, v[i], want[i]);
  free(v);
}

/* The grid and the checks read the typed values: the text, only printed, may say
 * anything without changing them. */
Test(typed_axes, grid_and_checks_are_built_from_the_typed_values) {
  kd_config c;
  config_with(&c, (const char *[]){"sweep", "k,m", "m", "1000,2000", "k", "10:40:lin4", "n", "200"}, 8);
  strcpy(c.values[KD_AXIS_M], "not a list");
  strcpy(c.values[KD_AXIS_K], "");
  strcpy(c.values[KD_AXIS_N], "x");
  kd_grid g;
  cr_assert_eq(kd_grid_build(&c, &g), KD_OK, "%s", kd_last_error());
  cr_assert_eq(g.count, 8);
  for (size_t i = 0; i < g.count; ++i) {
    cr_expect_eq(g.pt[i].m, i < 4 ? 1000u : 2000u, "point %zu: m = %zu", i, g.pt[i].m);
    cr_expect_eq(g.pt[i].k, 10 * (i % 4 + 1), "point %zu: k = %zu", i, g.pt[i].k);
    cr_expect_eq(g.pt[i].n, 200u, "point %zu: n = %zu", i, g.pt[i].n);
  }
  kd_grid_free(&g);
  /* a list for an axis that is not swept: refused from the typed values, whatever the text */
  config_with(&c, (const char *[]){"sweep", "n", "ridge", "0.1,1"}, 4);
  c.values[KD_AXIS_RIDGE][0] = '\0';
  cr_expect_eq(kd_config_check(&c), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "--ridge: several values"), "%s", kd_last_error());
}

/* A bad value is refused by kd_config_set, naming the flag, and leaves the typed values
 * as they were; nothing is left to fail at grid time. */
Test(typed_axes, a_bad_value_is_refused_at_set_time) {
  const char *bad[][2] = {
      {"m", "500,x"},        {"m", "1:0:log3"},      {"ridge", "0.1,-1"},
      {"m", "3:3.5:pow2"},   {"n", "10,,20"},        {"alpha", "1:400:lin2"},
      {"k", "1:2:log"},      {"sigma", "0:1:lin20000"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    kd_config c;
    config_with(&c, (const char *[]){"sweep", bad[i][0], bad[i][0], "1"}, 4);
    kd_config before = c;
    cr_expect_eq(kd_config_set(&c, bad[i][0], bad[i][1]), KD_EINVAL, "--%s %s accepted", bad[i][0],
                 bad[i][1]);
    char flag[16];
    snprintf(flag, sizeof flag, "--%s", bad[i][0]);
    cr_expect(strstr(kd_last_error(), flag), "--%s %s: '%s' does not name the flag", bad[i][0],
              bad[i][1], kd_last_error());
    const kd_axis_spec *was = &before.axis_values[kd_axis_parse(bad[i][0])],
                       *now = &c.axis_values[kd_axis_parse(bad[i][0])];
    cr_expect(now->count == was->count && !memcmp(now->item, was->item, sizeof *now->item * now->count),
              "--%s %s changed the typed values", bad[i][0], bad[i][1]);
  }
}

/* ---- the hash, from typed values ------------------------------------------------------------- */

/* Each row: two spellings of one scenario (the axis swept, the setting, value a,
 * value b, on top of the default). */
Test(typed_hash, equivalent_spellings_share_a_hash) {
  const char *same[][4] = {
      {"n", "spectrum", "isotropic:2", "isotropic: 2.0"},
      {"n", "spectrum", "isotropic:2", "isotropic:2e0"},
      {"n", "spectrum", "isotropic", "isotropic:1"},
      {"n", "spectrum", "twolevel:10,4,1", "twolevel:10,4.0,1e0"},
      {"n", "spectrum", "isotropic:0.1", "isotropic:1e-1"},
      {"n", "n", "100,200", "1e2,2e2"},
      {"n", "n", "100,200,300", "100:300:lin3"},
      {"m", "m", "1024,2048,4096", "1000:5000:pow2"},
      {"ridge", "ridge", "0.001,0.01,0.1", "1e-3:1e-1:log3"},
      {"n", "ridge", "0.5", "5e-1"},
      {"n", "alpha", "2", "2.0"},
  };
  for (size_t i = 0; i < sizeof same / sizeof *same; ++i) {
    kd_config a, b;
    /* n = 200 first: the student's size when n is not swept */
    config_with(&a, (const char *[]){"sweep", same[i][0], "n", "200", same[i][1], same[i][2]}, 6);
    config_with(&b, (const char *[]){"sweep", same[i][0], "n", "200", same[i][1], same[i][3]}, 6);
    char ha[17], hb[17];
    hash_of(&a, ha);
    hash_of(&b, hb);
    cr_expect_str_eq(ha, hb, "--%s %s and --%s %s: hashes differ", same[i][1], same[i][2], same[i][1],
                     same[i][3]);
  }
  /* and the canonical text is the typed value's */
  kd_config c;
  config_with(&c, (const char *[]){"spectrum", "twolevel:10, 4.0, 1e0"}, 2);
  char *text = canonical_text(&c);
  cr_expect(strstr(text, "\nspectrum = twolevel:10,4,1\n"), "%s", text);
  free(text);
  config_with(&c, (const char *[]){"spectrum", "isotropic:1.0"}, 2);
  text = canonical_text(&c);
  cr_expect(strstr(text, "\nspectrum = isotropic\n"), "%s", text);
  free(text);
}

Test(typed_hash, different_values_differ) {
  const char *other[][3] = {
      {"spectrum", "isotropic:2", "isotropic:2.000000001"},
      {"spectrum", "isotropic", "isotropic:0.5"},
      {"spectrum", "twolevel:10,4,1", "twolevel:11,4,1"},
      {"n", "100,200", "100,201"},
  };
  for (size_t i = 0; i < sizeof other / sizeof *other; ++i) {
    kd_config a, b;
    config_with(&a, (const char *[]){other[i][0], other[i][1]}, 2);
    config_with(&b, (const char *[]){other[i][0], other[i][2]}, 2);
    char ha[17], hb[17];
    hash_of(&a, ha);
    hash_of(&b, hb);
    cr_expect_str_neq(ha, hb, "--%s %s and %s: one hash", other[i][0], other[i][1], other[i][2]);
  }
}

/* The scenario_hash of every committed run's meta.json: results/ (the full presets) and
 * tests/data/quick-ref/ (the quick ones, which tests/test_compare_runs.sh reproduces). */
Test(typed_hash, committed_runs_keep_their_hashes) {
  static const struct {
    const char *preset;
    int part, quick;
    const char *hash, *run;
  } runs[] = {
      {"fig1", 0, 0, "f5d3d3e4dd5f69a0", "results/fig1/sweep-n"},
      {"fig1b", 0, 0, "c20ba98fc7fa832f", "results/fig1b/sweep-n"},
      {"scaling", 0, 0, "a9bb791ef7dbb23d", "results/scaling/alpha2-b1.5"},
      {"scaling", 1, 0, "7ae7447a5b86090f", "results/scaling/alpha1.5-b2"},
      {"scaling", 2, 0, "b9271a31fd644377", "results/scaling/alpha2-b2"},
      {"scaling", 3, 0, "6274abea06fd4651", "results/scaling/alpha3-b2"},
      {"w2s", 0, 0, "3ef2ba2b10f6af8a", "results/w2s/grid"},
      {"fig1", 0, 1, "f125bb65c9a1d6e3", "quick-ref/fig1/sweep-n"},
      {"fig1b", 0, 1, "244722c2bd37c6e1", "quick-ref/fig1b/sweep-n"},
      {"scaling", 0, 1, "59fb86f1defd2e44", "quick-ref/scaling/alpha2-b1.5"},
      {"scaling", 1, 1, "ef931a97aaa84c1e", "quick-ref/scaling/alpha1.5-b2"},
      {"scaling", 2, 1, "6c8a2a5890dca6df", "quick-ref/scaling/alpha2-b2"},
      {"scaling", 3, 1, "ad15c88c808cc080", "quick-ref/scaling/alpha3-b2"},
      {"w2s", 0, 1, "ba76c3ae3a5c3e4c", "quick-ref/w2s/grid"},
  };
  for (size_t i = 0; i < sizeof runs / sizeof *runs; ++i) {
    kd_config c = {0};
    cr_assert_eq(kd_scenario_preset_part(&c, runs[i].preset, runs[i].part, runs[i].quick), KD_OK,
                 "%s", kd_last_error());
    char h[17];
    hash_of(&c, h);
    cr_expect_str_eq(h, runs[i].hash, "%s: hash %s, its meta.json has %s", runs[i].run, h,
                     runs[i].hash);
  }
}
