/* The features pipeline (host/sim/pipeline_features.c): the student sees s of the p
 * features, taken head first, tail first or at random (host/sim/feature_order.c), plus
 * q pure-noise features of level rho; its theory (host/theory/theory_features.c). Theory
 * against Monte Carlo at many points is tests/test_agreement.c's; here: the orders, the
 * whole feature set equal to strong, the noise features acting like a ridge of
 * q rho / n, the rows' student_features column, and the bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/pipeline.h"
#include "kdbench/run.h"
#include "kdbench/stats.h"
#include "kd_test.h"

/* Pipeline q's row at the point (its only one: features and strong have one each). */
static const kd_plan_row *row_of(const kd_plan *pl, kd_pipeline q) {
  return &pl->row[pl->first_row[q]];
}

static void problem(kd_problem *pr, kd_beta_kind beta, size_t p, double sigma) {
  const kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 2};
  const kd_beta_spec b = {.kind = beta, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(pr, &spec, &b, p, sigma, sigma, 11), KD_OK, "%s", kd_last_error());
}

static void expect_permutation(const size_t *index, size_t p, const char *what) {
  unsigned char *seen = calloc(p, 1);
  for (size_t i = 0; i < p; ++i) {
    cr_assert_lt(index[i], p, "%s: entry %zu is %zu", what, i, index[i]);
    cr_expect_eq(seen[index[i]], 0, "%s: feature %zu twice", what, index[i]);
    seen[index[i]] = 1;
  }
  free(seen);
}

/* With a random beta* the signal lambda_i beta*_i^2 is not in the features' order: head
 * takes it decreasing, tail is head reversed, random is a permutation that the seed
 * alone fixes. */
Test(feature_order, head_tail_random) {
  enum { P = 300 };
  kd_problem pr;
  problem(&pr, KD_BETA_GAUSS, P, 0.5);
  size_t head[P], tail[P], r1[P], r1again[P], r2[P];
  cr_assert_eq(kd_feature_order_build(&pr, KD_GROW_HEAD, 1, head), KD_OK);
  cr_assert_eq(kd_feature_order_build(&pr, KD_GROW_TAIL, 1, tail), KD_OK);
  cr_assert_eq(kd_feature_order_build(&pr, KD_GROW_RANDOM, 1, r1), KD_OK);
  cr_assert_eq(kd_feature_order_build(&pr, KD_GROW_RANDOM, 1, r1again), KD_OK);
  cr_assert_eq(kd_feature_order_build(&pr, KD_GROW_RANDOM, 2, r2), KD_OK);
  expect_permutation(head, P, "head");
  expect_permutation(r1, P, "random");
  int identity = 1;
  for (size_t i = 0; i < P; ++i) {
    identity &= head[i] == i;
    cr_expect_eq(tail[i], head[P - 1 - i], "tail is head reversed at %zu", i);
    if (i) {
      const double a = pr.lambda[head[i - 1]] * pr.beta[head[i - 1]] * pr.beta[head[i - 1]],
                   b = pr.lambda[head[i]] * pr.beta[head[i]] * pr.beta[head[i]];
      cr_expect_geq(a, b, "head: signal of entry %zu (%g) above entry %zu's (%g)", i, b, i - 1, a);
    }
  }
  cr_expect_not(identity, "a gauss beta* is not already in the head order");
  cr_expect_arr_eq(r1, r1again, sizeof r1, "random: the same seed, the same order");
  cr_expect(memcmp(r1, r2, sizeof r1) != 0, "random: another seed, another order");
  cr_expect(memcmp(r1, head, sizeof r1) != 0, "random is not head");
  kd_problem_free(&pr);
}

/* With a power-law beta*, lambda_i beta*_i^2 = i^-1.5 decreases: the head order is the
 * features' own, so the features pipeline on all p of them is the strong student on
 * the same design, with the same noise: equal risks, trial by trial, and equal theory. */
Test(features, all_features_head_first_is_strong) {
  kd_problem pr;
  problem(&pr, KD_BETA_POWERLAW, 120, 0.5);
  kd_backend be;
  cr_assert_eq(kd_backend_open("cpu", &be), KD_OK, "%s", kd_last_error());
  const size_t ns[] = {60, 300}; /* p > n (DE) and n > p (exact) */
  for (size_t c = 0; c < 2; ++c) {
    for (size_t s = 0; s <= 120; s += 120) { /* 0: all (the default), and s = p given */
      kd_point pt = {.n = ns[c], .m = 500, .features = {.count = s, .order = KD_GROW_HEAD}};
      kd_plan pl;
      cr_assert_eq(kd_plan_point(&pr, &pt, (1u << KD_PIPE_STRONG) | (1u << KD_PIPE_FEATURES), &pl),
                   KD_OK, "%s", kd_last_error());
      for (size_t i = 0; i < pr.p; ++i) cr_assert_eq(pl.order[i], i, "head order at %zu", i);
      cr_expect(fabs(row_of(&pl, KD_PIPE_FEATURES)->theory / row_of(&pl, KD_PIPE_STRONG)->theory - 1) < 1e-12,
                "n = %zu: theory %.17g vs strong's %.17g", ns[c], row_of(&pl, KD_PIPE_FEATURES)->theory,
                row_of(&pl, KD_PIPE_STRONG)->theory);
      cr_expect_eq(row_of(&pl, KD_PIPE_FEATURES)->kind, row_of(&pl, KD_PIPE_STRONG)->kind);
      kd_trial_ws ws;
      cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
      for (uint32_t t = 0; t < 4; ++t) {
        double r[KD_PLAN_ROWS];
        int fb[KD_PLAN_ROWS];
        cr_assert_eq(kd_run_trial(&be, &pl, 5, t, &ws, r, fb), KD_OK, "%s", kd_last_error());
        const double rf = r[pl.first_row[KD_PIPE_FEATURES]], rs = r[pl.first_row[KD_PIPE_STRONG]];
        cr_expect_eq(rf, rs, "n = %zu, s = %zu, trial %u: %.17g vs %.17g", ns[c], s, t, rf, rs);
      }
      kd_trial_ws_free(&ws);
      kd_plan_free(&pl);
    }
  }
  kd_backend_close(&be);
  kd_problem_free(&pr);
}

/* q pure-noise features of variance rho make the min-norm fit on the others a ridge fit
 * of ridge q rho / n (Kobak, Lomond & Sanchez 2020): XX' + ZZ' ~ XX' + q rho I_n. For
 * finite q the risk is above the ridge's by a relative O(n/q) (Z Z' fluctuates, and the
 * noise features' own coefficients count in the risk); the stated tolerance is 2 n/q,
 * for the theory and for the Monte Carlo mean (plus 4 standard errors), at two rho: an
 * implicit ridge that helps (0.01) and one that hurts (0.3). Either must matter: the
 * ridgeless risk is more than 20 % away. */
Test(features, noise_features_act_like_a_ridge) {
  enum { P = 200, N = 100, Q = 5000, TRIALS = 100 };
  kd_problem pr;
  problem(&pr, KD_BETA_POWERLAW, P, 0.5);
  kd_backend be;
  cr_assert_eq(kd_backend_open("cpu", &be), KD_OK, "%s", kd_last_error());
  const double ridges[] = {0.01, 0.3}, tol = 2.0 * N / Q; /* one that helps, one that hurts */
  kd_point bare = {.n = N, .m = 500};
  kd_plan plain;
  cr_assert_eq(kd_plan_point(&pr, &bare, 1u << KD_PIPE_STRONG, &plain), KD_OK);
  for (int c = 0; c < 2; ++c) {
    const double rho = ridges[c] * N / Q;
    kd_point noisy = {.n = N, .m = 500, .features = {.noise = Q, .level = rho}};
    kd_point ridged = {.n = N, .m = 500, .ridge = ridges[c]};
    kd_plan pn, pr_;
    cr_assert_eq(kd_plan_point(&pr, &noisy, 1u << KD_PIPE_FEATURES, &pn), KD_OK, "%s",
                 kd_last_error());
    cr_assert_eq(kd_plan_point(&pr, &ridged, 1u << KD_PIPE_STRONG, &pr_), KD_OK);
    const double ridge = row_of(&pr_, KD_PIPE_STRONG)->theory, theory = row_of(&pn, KD_PIPE_FEATURES)->theory;
    cr_expect(fabs(ridge / row_of(&plain, KD_PIPE_STRONG)->theory - 1) > 0.2,
              "ridge %g: %g, ridgeless %g: too close to tell", ridges[c], ridge,
              row_of(&plain, KD_PIPE_STRONG)->theory);
    cr_expect(fabs(theory / ridge - 1) < tol, "rho = %g: theory %.5g vs ridge %g's %.5g (%+.2f%%)",
              rho, theory, ridges[c], ridge, 100 * (theory / ridge - 1));
    kd_trial_ws ws;
    cr_assert_eq(kd_trial_ws_init(&ws, &pn.prog, 1), KD_OK);
    double risk[TRIALS];
    for (uint32_t t = 0; t < TRIALS; ++t) {
      double r[KD_PLAN_ROWS];
      int fb[KD_PLAN_ROWS];
      cr_assert_eq(kd_run_trial(&be, &pn, 8, t, &ws, r, fb), KD_OK, "%s", kd_last_error());
      risk[t] = r[pn.first_row[KD_PIPE_FEATURES]];
    }
    kd_summary s;
    kd_summarize(risk, TRIALS, &s);
    cr_expect(fabs(s.mean - ridge) < tol * ridge + 4 * s.se,
              "rho = %g: Monte Carlo %.5g +- %.2g vs ridge %g's %.5g (%+.2f%%)", rho, s.mean, s.se,
              ridges[c], ridge, 100 * (s.mean / ridge - 1));
    kd_trial_ws_free(&ws);
    kd_plan_free(&pn);
    kd_plan_free(&pr_);
  }
  kd_plan_free(&plain);
  kd_backend_close(&be);
  kd_problem_free(&pr);
}

/* The theory is exact for a ridgeless fit on s + q < n - 1 features, the DE otherwise;
 * s + q within 1 of n is the interpolation peak (infinite, exact). */
Test(features, exact_where_ols_applies) {
  kd_problem pr;
  problem(&pr, KD_BETA_POWERLAW, 300, 0.5);
  const struct {
    size_t n, s, q;
    double ridge;
    kd_theory_kind kind;
    int peak;
  } cases[] = {{200, 150, 40, 0, KD_THEORY_EXACT, 0}, {200, 150, 49, 0, KD_THEORY_EXACT, 1},
               {200, 150, 60, 0, KD_THEORY_DE, 0},    {200, 150, 40, 0.01, KD_THEORY_DE, 0},
               {200, 300, 0, 0, KD_THEORY_DE, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    kd_point pt = {.n = cases[c].n, .ridge = cases[c].ridge, .m = 500,
                   .features = {.count = cases[c].s, .order = KD_GROW_TAIL, .noise = cases[c].q,
                                .level = 0.1}};
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_FEATURES, &pl), KD_OK, "%s",
                 kd_last_error());
    cr_expect_eq(row_of(&pl, KD_PIPE_FEATURES)->kind, cases[c].kind, "case %zu: kind", c);
    cr_expect_eq(row_of(&pl, KD_PIPE_FEATURES)->peak, cases[c].peak, "case %zu: peak", c);
    cr_expect_eq(isinf(row_of(&pl, KD_PIPE_FEATURES)->theory) != 0, cases[c].peak, "case %zu: %g", c,
                 row_of(&pl, KD_PIPE_FEATURES)->theory);
    kd_plan_free(&pl);
  }
  kd_problem_free(&pr);
}

/* ---- the run: the axis, its column, bad input ---------------------------------------- */

TestSuite(features_run, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* A sweep of student-features: each features row holds its s, the strong rows none (no
 * key); the report has s as its leading column. A row without the key reads as empty. */
Test(features_run, student_features_axis_and_column) {
  kd_test_run_ok("--quiet --backend cpu --p 60 --n 40 --trials 3 --pipelines strong,features "
                 "--sweep student-features --student-features 10,30,60 --feature-order random "
                 "--noise-features 5 --noise-level 0.2 --csv r.csv");
  cJSON *rows = kd_test_rows("r.jsonl");
  cr_assert_eq(cJSON_GetArraySize(rows), 6);
  const double want[] = {10, 30, 60};
  for (int i = 0; i < 6; ++i) {
    const cJSON *row = cJSON_GetArrayItem(rows, i);
    const int features = !strcmp(kd_test_str(row, "pipeline"), "features");
    cr_expect_eq(features, i % 2 == 1, "row %d: strong first, then features", i);
    const cJSON *s = kd_test_item(row, "student_features");
    if (features) cr_expect_eq(kd_test_num(row, "student_features"), want[i / 2], "row %d", i);
    else cr_expect_null(s, "row %d: strong has no s", i);
  }
  cJSON_Delete(rows);
  char *line = kd_test_line("r.csv", 1);
  cr_expect(!strcmp(line + strlen(line) - 17, ",student_features"), "CSV header: %s", line);
  free(line);
  line = kd_test_line("r.csv", 3);
  cr_expect(!strncmp(line, "features,", 9) && !strcmp(line + strlen(line) - 3, ",10"),
            "the features row ends in its s: %s", line);
  free(line);

  kd_test_run_ok("report r");
  char *md = kd_test_text("r.md");
  cr_expect(strstr(md, "| student\\_features | strong: sim |") != NULL, "leading column s:\n%s", md);
  free(md);

  /* the key taken out of a row, the row resealed: read as empty */
  char *row = kd_test_line("r.jsonl", 2);
  const char *field = ",\"student_features\":10";
  char *key = strstr(row, field);
  cr_assert_not_null(key, "%s", row);
  memmove(key, key + strlen(field), strlen(key + strlen(field)) + 1);
  kd_test_reseal(row);
  kd_row r;
  char hash[17];
  cr_assert_eq(kd_row_from_json(row, "old row", &r, hash), KD_OK, "%s", kd_last_error());
  cr_expect_eq(r.student_features, 0, "a missing key is empty");
  cr_expect_eq(r.pipeline, KD_PIPE_FEATURES);
  kd_row_free(&r);
  free(row);
}

static void expect_refused(const char *args, const char *culprit) {
  int code = kd_test_run("--quiet --backend cpu --p 60 --n 40 --trials 2 --pipelines features "
                         "--csv run/out.csv %s", args);
  kd_test_expect_refused(code, culprit);
  cr_expect(!kd_test_exists("run"), "'%s' left the folder run/ behind", args);
}

Test(features_run, bad_input_is_refused) {
  expect_refused("--sweep n --student-features 0", "--student-features");
  expect_refused("--sweep n --student-features 61", "student-features = 61 exceeds p = 60");
  expect_refused("--sweep student-features --student-features 10,100", "student-features = 100 exceeds p = 60");
  expect_refused("--sweep student-features --student-features 0,10", "--student-features");
  expect_refused("--sweep n --noise-features -3", "--noise-features");
  expect_refused("--sweep n --noise-features 10 --noise-level -0.1", "--noise-level");
  expect_refused("--sweep n --noise-features 10 --noise-level 0", "--noise-level");
  expect_refused("--sweep n --feature-order middle", "--feature-order: unknown 'middle'");
}
