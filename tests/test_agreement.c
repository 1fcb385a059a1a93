/* Theory beside simulation: at points covering p > n, n > p, ridge, and every
 * pipeline, the Monte Carlo mean agrees with the theory column within 5 % and within
 * 4 standard errors. Also: a trial regenerated alone equals the one drawn inside a
 * sweep, and a point's numbers do not depend on the grid around it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/pipeline.h"
#include "kdbench/scenario.h"
#include "kdbench/stats.h"
#include "kdbench/theory.h"
#include "kdbench/grid.h"
#include "kdbench/sweep.h"
#include "kd_test.h"

typedef struct {
  kd_problem pr;
  kd_backend be;
} fixture;

static void setup(fixture *f, kd_spectrum_spec spec, size_t p, double sigma) {
  kd_beta_spec beta = {.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(&f->pr, &spec, &beta, p, sigma, sigma, 7), KD_OK, "%s",
               kd_last_error());
  cr_assert_eq(kd_backend_open("cpu", &f->be), KD_OK, "%s", kd_last_error());
}

static void teardown(fixture *f) {
  kd_backend_close(&f->be);
  kd_problem_free(&f->pr);
}

/* Simulates `trials` trials of the point and checks every row of it (every selected
 * pipeline; every generation of a recursive one). */
static void check_point(fixture *f, kd_point pt, unsigned pipes, uint32_t trials,
                        const char *what) {
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&f->pr, &pt, pipes, &pl), KD_OK, "%s", kd_last_error());
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
  const int rows = pl.nrows;
  double *risk = malloc(sizeof(double) * (size_t)rows * trials);
  for (uint32_t t = 0; t < trials; ++t) {
    double r[KD_PLAN_ROWS];
    int fb[KD_PLAN_ROWS];
    cr_assert_eq(kd_run_trial(&f->be, &pl, 2024, t, &ws, r, fb), KD_OK, "%s",
                 kd_last_error());
    for (int q = 0; q < rows; ++q) risk[q * trials + t] = r[q];
  }
  for (int q = 0; q < rows; ++q) {
    const kd_plan_row *row = &pl.row[q];
    kd_summary s;
    kd_summarize(risk + q * trials, trials, &s);
    double th = row->theory, dev = s.mean / th - 1;
    cr_log_info("%s, %s %s %d: sim %.5g +- %.2g vs theory %.5g: %+.2f%%, %.1f SE", what,
                kd_pipeline_name(row->pipe), row->group, row->step, s.mean, s.se, th, 100 * dev,
                (s.mean - th) / s.se);
    cr_expect(fabs(dev) < 0.05 && fabs(s.mean - th) < 4 * s.se,
              "%s, %s %s %d (n=%zu, k=%zu): sim %.5g +- %.2g vs theory %.5g (%s): %+.2f%%, "
              "%.1f SE", what, kd_pipeline_name(row->pipe), row->group, row->step, pt.n,
              pl.pt.k, s.mean, s.se, th, row->kind == KD_THEORY_EXACT ? "exact" : "de",
              100 * dev, (s.mean - th) / s.se);
  }
  free(risk);
  kd_trial_ws_free(&ws);
  kd_plan_free(&pl);
}

static const kd_spectrum_spec powerlaw2 = {.kind = KD_SPEC_POWERLAW, .alpha = 2};

Test(agreement, overparameterised_all_pipelines) {
  fixture f;
  setup(&f, powerlaw2, 500, 0.5);
  kd_point pt = {.n = 200, .m = 2000};
  check_point(&f, pt, KD_PIPES_DEFAULT | (1u << KD_PIPE_WEAK), 300, "p > n ridgeless");
  teardown(&f);
}

Test(agreement, overparameterised_small_n) {
  fixture f;
  setup(&f, powerlaw2, 500, 0.5);
  kd_point pt = {.n = 60, .m = 5000};
  check_point(&f, pt, KD_PIPES_DEFAULT, 300, "p >> n ridgeless");
  teardown(&f);
}

Test(agreement, underparameterised_exact) {
  fixture f;
  setup(&f, powerlaw2, 200, 0.5);
  kd_point pt = {.n = 500, .m = 1000};
  check_point(&f, pt, KD_PIPES_DEFAULT, 300, "n > p ridgeless");
  teardown(&f);
}

Test(agreement, ridge_both_regimes) {
  fixture f;
  setup(&f, powerlaw2, 400, 0.5);
  kd_point over = {.n = 150, .ridge = 1e-3, .m = 1000};
  check_point(&f, over, KD_PIPES_DEFAULT, 300, "p > n ridge");
  kd_point under = {.n = 800, .ridge = 1e-2, .m = 1000};
  check_point(&f, under, KD_PIPES_DEFAULT, 300, "n > p ridge");
  teardown(&f);
}

Test(agreement, two_level_spectrum) {
  fixture f;
  kd_spectrum_spec two = {.kind = KD_SPEC_TWOLEVEL, .strong = 50, .level_a = 1, .level_b = 0.01};
  setup(&f, two, 400, 0.3);
  kd_point pt = {.n = 150, .m = 2000};
  check_point(&f, pt, (1u << KD_PIPE_STRONG) | (1u << KD_PIPE_OPTIMAL) | (1u << KD_PIPE_MASK),
              300, "two-level p > n");
  teardown(&f);
}

Test(agreement, isotropic_exact) {
  fixture f;
  kd_spectrum_spec iso = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  setup(&f, iso, 300, 0.5);
  kd_point pt = {.n = 100, .m = 1000};
  check_point(&f, pt, (1u << KD_PIPE_STRONG) | (1u << KD_PIPE_OPTIMAL), 300,
              "isotropic p > n");
  teardown(&f);
}

Test(agreement, w2s_underparameterised_student) {
  fixture f;
  setup(&f, powerlaw2, 150, 0.5);
  kd_point pt = {.n = 400, .m = 600, .k = 100};
  check_point(&f, pt, (1u << KD_PIPE_W2S) | (1u << KD_PIPE_WEAK), 300, "n > p, w2s k=100");
  teardown(&f);
}

/* ---- covariance shift: the weak model draws its design from its own Sigma_s -------------- */

/* Sigma_s a power law of exponent weak_alpha (flatter below the student's 2, steeper
 * above), jointly diagonal with Sigma_t; the risks stay under Sigma_t. */
static void shift(fixture *f, double weak_alpha) {
  kd_spectrum_spec w = {.kind = KD_SPEC_POWERLAW, .alpha = weak_alpha};
  cr_assert_eq(kd_problem_weak_spectrum(&f->pr, &w), KD_OK, "%s", kd_last_error());
}

static const unsigned weak_pipes = (1u << KD_PIPE_STRONG) | (1u << KD_PIPE_W2S) | (1u << KD_PIPE_WEAK);

Test(agreement, covariance_shift_ridgeless_teacher) {
  fixture f;
  setup(&f, powerlaw2, 400, 0.5);
  shift(&f, 1.5); /* flatter; k > m: the weak model's deterministic equivalent */
  check_point(&f, (kd_point){.n = 200, .m = 150, .k = 300}, weak_pipes, 300,
              "Sigma_s flatter, ridgeless teacher k > m");
  shift(&f, 2.5); /* steeper; k < m - 1: the weak model's exact moments */
  check_point(&f, (kd_point){.n = 200, .m = 600, .k = 100}, weak_pipes, 300,
              "Sigma_s steeper, ridgeless teacher k < m");
  teardown(&f);
}

Test(agreement, covariance_shift_ridge_teacher) {
  fixture f;
  setup(&f, powerlaw2, 400, 0.5);
  shift(&f, 1.5);
  check_point(&f, (kd_point){.n = 200, .m = 300, .k = 200, .weak_ridge = 1e-3}, weak_pipes, 300,
              "Sigma_s flatter, ridge teacher");
  shift(&f, 2.5);
  check_point(&f, (kd_point){.n = 150, .m = 200, .k = 400, .weak_ridge = 1e-2}, weak_pipes, 300,
              "Sigma_s steeper, ridge teacher on every feature");
  teardown(&f);
}

/* A shift that is none (Sigma_s = Sigma_t) changes no number: the same risks, bit for
 * bit, and the same theory; a real shift changes the weak model's risk. */
Test(agreement, covariance_shift_to_the_same_spectrum_is_no_shift) {
  fixture f;
  setup(&f, powerlaw2, 300, 0.5);
  const kd_point pt = {.n = 120, .m = 400, .k = 150};
  double r[3][KD_PLAN_ROWS], th[3][KD_PLAN_ROWS];
  int rows = 0; /* strong, w2s and weak: rows 0, 1, 2 */
  for (int c = 0; c < 3; ++c) {
    if (c) shift(&f, c == 1 ? 2 : 1.5);
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&f.pr, &pt, weak_pipes, &pl), KD_OK, "%s", kd_last_error());
    kd_trial_ws ws;
    int fb[KD_PLAN_ROWS];
    cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
    cr_assert_eq(kd_run_trial(&f.be, &pl, 2024, 5, &ws, r[c], fb), KD_OK, "%s", kd_last_error());
    rows = pl.nrows;
    for (int q = 0; q < rows; ++q) th[c][q] = pl.row[q].theory;
    kd_trial_ws_free(&ws);
    kd_plan_free(&pl);
  }
  cr_assert_eq(rows, 3);
  for (int q = 0; q < rows; ++q) {
    cr_expect_eq(r[1][q], r[0][q], "row %d: %.17g vs %.17g", q, r[1][q], r[0][q]);
    cr_expect_eq(th[1][q], th[0][q], "row %d theory", q);
  }
  cr_expect_eq(r[2][0], r[0][0], "the student's own design is untouched");
  cr_expect_neq(r[2][2], r[0][2]);
  cr_expect_neq(th[2][2], th[0][2]);
  teardown(&f);
}

/* ---- generations (the recursive pipeline: every generation a row) ---------------------- */

/* The recursive pipeline's options at a point: G generations of one schedule. */
static kd_pipe_opts generations(int G, kd_schedule_kind kind, double synthetic, double ridge,
                                kd_ridge_decay decay) {
  kd_pipe_opts o = {.recursive = KD_RECURSIVE_DEFAULTS};
  o.recursive.generations = G;
  o.recursive.n_schedules = 1;
  o.recursive.schedule[0] = (kd_schedule){.kind = kind};
  o.recursive.synthetic_sigma = synthetic;
  o.recursive.gen_ridge = ridge;
  o.recursive.decay = decay;
  return o;
}

#define RECURSIVE (1u << KD_PIPE_RECURSIVE)

/* The exact risks, 4 generations each: A1 (replace, OLS) on a power law, A2
 * (accumulate, OLS), A3 (isotropic minimum norm). */
Test(agreement, generations_exact) {
  fixture f;
  setup(&f, powerlaw2, 20, 1);
  kd_pipe_opts fixed = generations(4, KD_SCHEDULE_FIXED, -1, -1, KD_DECAY_NONE);
  check_point(&f, (kd_point){.n = 60, .opts = &fixed}, RECURSIVE, 400, "A1 power law");
  kd_pipe_opts acc = generations(4, KD_SCHEDULE_ACCUMULATE, -1, -1, KD_DECAY_NONE);
  check_point(&f, (kd_point){.n = 60, .opts = &acc}, RECURSIVE, 400, "A2 accumulate");
  teardown(&f);
  kd_spectrum_spec iso = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  setup(&f, iso, 120, 0.5);
  check_point(&f, (kd_point){.n = 60, .opts = &fixed}, RECURSIVE, 400, "A3 isotropic");
  teardown(&f);
}

/* The deterministic-equivalent recursion, 4 generations each: p > T ridgeless, p < T
 * with a ridge, a growing schedule that crosses p, noiseless synthetic labels, and a
 * ridge decaying as 1/g^2 on a quadratic schedule. */
Test(agreement, generations_de) {
  fixture f;
  setup(&f, powerlaw2, 150, 0.5);
  kd_pipe_opts fixed = generations(4, KD_SCHEDULE_FIXED, -1, -1, KD_DECAY_NONE);
  check_point(&f, (kd_point){.n = 80, .opts = &fixed}, RECURSIVE, 300, "p > T ridgeless");
  check_point(&f, (kd_point){.n = 300, .ridge = 1e-2, .opts = &fixed}, RECURSIVE, 300,
              "p < T ridge");
  kd_pipe_opts linear = generations(4, KD_SCHEDULE_LINEAR, -1, -1, KD_DECAY_NONE);
  check_point(&f, (kd_point){.n = 100, .opts = &linear}, RECURSIVE, 300, "linear 100 g");
  kd_pipe_opts quiet = generations(4, KD_SCHEDULE_FIXED, 0, -1, KD_DECAY_NONE);
  check_point(&f, (kd_point){.n = 80, .opts = &quiet}, RECURSIVE, 300, "synthetic sigma 0");
  kd_pipe_opts decay = generations(4, KD_SCHEDULE_QUADRATIC, -1, 1e-2, KD_DECAY_INVERSE_SQUARE);
  check_point(&f, (kd_point){.n = 80, .ridge = 1e-2, .opts = &decay}, RECURSIVE, 300,
              "quadratic, ridge 1e-2/g^2");
  teardown(&f);
}

/* Accumulated data, ridgeless, 4 generations each (generation 1's risk plus each
 * block's noise through the Gram so far): over-parameterised throughout (p = 400 above
 * every 60 g, a power law: the DE), blocks crossing p (p = 100, n = 60: 60, 120, 180,
 * 240 rows; generation 1 a DE, the blocks' terms exact), and the same isotropic (every
 * term exact). */
Test(agreement, generations_accumulate) {
  fixture f;
  kd_pipe_opts acc = generations(4, KD_SCHEDULE_ACCUMULATE, -1, -1, KD_DECAY_NONE);
  setup(&f, powerlaw2, 400, 0.5);
  check_point(&f, (kd_point){.n = 60, .opts = &acc}, RECURSIVE, 300, "accumulate, p > 4 n");
  teardown(&f);
  setup(&f, powerlaw2, 100, 0.5);
  check_point(&f, (kd_point){.n = 60, .opts = &acc}, RECURSIVE, 300, "accumulate, n < p < 2 n");
  teardown(&f);
  kd_spectrum_spec iso = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  setup(&f, iso, 100, 0.5);
  check_point(&f, (kd_point){.n = 60, .opts = &acc}, RECURSIVE, 300,
              "accumulate, isotropic, n < p < 2 n (exact)");
  teardown(&f);
}

/* Generation 2 in simulation against the model-shift theory of its own source. Generation
 * 2 is fitted on T_2 fresh samples labelled X_2 b_1 + sigma_s z, b_1 generation 1's fit:
 * conditionally on b_1 it is section 4's student of a fixed surrogate beta_s = b_1
 * (docs/theory.md#surrogate-risk, #generations), whose expected risk kdbench has for any
 * beta_s: exact for OLS (T_2 > p + 1, kd_exact_ols) and for the isotropic minimum norm
 * (p > T_2 + 1, kd_exact_iso_minnorm), the deterministic equivalent otherwise
 * (kd_risk_surrogate). Trial by trial, b_1 is read off generation 1's fit (the
 * coefficients generation 2's labels are made from; its excess risk must be generation
 * 1's row, which checks that it is that fit), the theory of a student on labels of that
 * b_1 with generation 2's T_2, ridge and sigma_s is evaluated, and the simulated
 * generation-2 risks must agree with the mean of those theories within 5 % and 4
 * standard errors of the paired differences (risk minus its own trial's theory: the
 * spread of b_1 across trials cancels). This checks the simulated generation (a design
 * of its own, independent of b_1; its labels, size, ridge and noise) against the
 * one-stage theory, apart from the recursion of theory_generations.c. */
static void generation_two_against_model_shift(fixture *f, kd_pipe_opts *o, kd_point pt,
                                               double t2, double ridge2, double sigma_s,
                                               int isotropic, const char *what) {
  enum { TRIALS = 300 };
  const size_t p = f->pr.p;
  pt.opts = o;
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&f->pr, &pt, RECURSIVE, &pl), KD_OK, "%s", kd_last_error());
  cr_assert_eq(pl.nrows, 2);
  const kd_program *prog = &pl.prog;
  const int c1 = prog->stage_call[pl.row[0].chain][pl.row[0].stage];
  const size_t rhs1 = (size_t)prog->stage_rhs[pl.row[0].chain][pl.row[0].stage];
  cr_assert(prog->call[c1].keep && prog->call[c1].p == p, "generation 1's coefficients are kept");
  const int exact_ols = ridge2 == 0 && t2 > (double)p + 1,
            exact_iso = ridge2 == 0 && isotropic && (double)p > t2 + 1;
  kd_de de;
  cr_assert_eq(kd_de_solve(f->pr.lambda, p, t2, ridge2, &de), KD_OK, "%s", kd_last_error());
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, prog, 1), KD_OK);
  double sim[TRIALS], diff[TRIALS], theory = 0;
  for (uint32_t t = 0; t < TRIALS; ++t) {
    double r[KD_PLAN_ROWS];
    int fb[KD_PLAN_ROWS];
    cr_assert_eq(kd_run_trial(&f->be, &pl, 2024, t, &ws, r, fb), KD_OK, "%s", kd_last_error());
    const double *b1 = ws.hat[c1] + rhs1 * p;
    double r1 = 0;
    for (size_t i = 0; i < p; ++i) r1 += f->pr.lambda[i] * (b1[i] - f->pr.beta[i]) * (b1[i] - f->pr.beta[i]);
    cr_assert(fabs(r1 - r[0]) <= 1e-9 * r[0], "%s, trial %u: b_1's risk %.17g, generation 1's %.17g",
              what, t, r1, r[0]);
    const double th = exact_ols   ? kd_exact_ols(f->pr.lambda, f->pr.beta, b1, p, t2, sigma_s)
                      : exact_iso ? kd_exact_iso_minnorm(f->pr.lambda[0], f->pr.beta, b1, p, t2, sigma_s)
                                  : kd_risk_surrogate(f->pr.lambda, f->pr.beta, b1, p, &de, sigma_s);
    sim[t] = r[1], diff[t] = r[1] - th, theory += th / TRIALS;
  }
  kd_summary s, d;
  kd_summarize(sim, TRIALS, &s);
  kd_summarize(diff, TRIALS, &d);
  const double dev = s.mean / theory - 1;
  cr_log_info("%s: generation 2 sim %.5g, model-shift theory %.5g (%s): %+.2f%%, %.1f SE", what,
              s.mean, theory, exact_ols || exact_iso ? "exact" : "de", 100 * dev, d.mean / d.se);
  cr_expect(fabs(dev) < 0.05 && fabs(d.mean) < 4 * d.se,
            "%s: generation 2 sim %.5g +- %.2g against the mean model-shift theory of its b_1 %.5g "
            "(%s): %+.2f%%, %.1f SE of the paired differences", what, s.mean, s.se, theory,
            exact_ols || exact_iso ? "exact" : "de", 100 * dev, d.mean / d.se);
  kd_trial_ws_free(&ws);
  kd_plan_free(&pl);
}

/* p < T_2 (exact OLS after a generation 1 above and one below p), p > T_2 ridgeless
 * (DE), a ridge on both sides of p (DE), noiseless synthetic labels, and the isotropic
 * minimum norm (exact). */
Test(agreement, generation_two_is_the_model_shift_of_its_source) {
  fixture f;
  setup(&f, powerlaw2, 20, 1);
  kd_pipe_opts fixed = generations(2, KD_SCHEDULE_FIXED, -1, -1, KD_DECAY_NONE);
  generation_two_against_model_shift(&f, &fixed, (kd_point){.n = 60}, 60, 0, 1, 0,
                                     "p = 20 < T_2 = 60 (exact OLS)");
  teardown(&f);
  setup(&f, powerlaw2, 150, 0.5);
  kd_pipe_opts linear = generations(2, KD_SCHEDULE_LINEAR, 0.3, -1, KD_DECAY_NONE);
  generation_two_against_model_shift(&f, &linear, (kd_point){.n = 100}, 200, 0, 0.3, 0,
                                     "n = 100 < p = 150 < T_2 = 200, sigma_s 0.3 (exact OLS)");
  generation_two_against_model_shift(&f, &fixed, (kd_point){.n = 80}, 80, 0, 0.5, 0,
                                     "p = 150 > T_2 = 80 ridgeless (DE)");
  kd_pipe_opts quiet = generations(2, KD_SCHEDULE_FIXED, 0, -1, KD_DECAY_NONE);
  generation_two_against_model_shift(&f, &quiet, (kd_point){.n = 80}, 80, 0, 0, 0,
                                     "p = 150 > T_2 = 80, noiseless synthetic labels (DE)");
  kd_pipe_opts ridge = generations(2, KD_SCHEDULE_FIXED, -1, 1e-2, KD_DECAY_NONE);
  generation_two_against_model_shift(&f, &ridge, (kd_point){.n = 100, .ridge = 1e-3}, 100, 1e-2,
                                     0.5, 0, "p = 150 > T_2 = 100, ridge 1e-2 (DE)");
  generation_two_against_model_shift(&f, &ridge, (kd_point){.n = 300, .ridge = 1e-3}, 300, 1e-2,
                                     0.5, 0, "p = 150 < T_2 = 300, ridge 1e-2 (DE)");
  teardown(&f);
  kd_spectrum_spec iso = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  setup(&f, iso, 120, 0.5);
  generation_two_against_model_shift(&f, &fixed, (kd_point){.n = 60}, 60, 0, 0.5, 1,
                                     "isotropic p = 120 > T_2 = 60 (exact minimum norm)");
  teardown(&f);
}

/* Accumulated data with a ridge, the pencil's DE, 4 generations each: p / n = 0.5, 1.5,
 * 3 on a power law and an isotropic spectrum, ridges 1e-3 .. 1, fixed and decaying as
 * 1/g^2, with and without synthetic noise. */
Test(agreement, generations_accumulate_ridge) {
  fixture f;
  const struct {
    int iso;
    size_t p, n;
    double ridge, synthetic;
    kd_ridge_decay decay;
  } cases[] = {{0, 150, 300, 1e-2, -1, KD_DECAY_NONE},
               {0, 150, 100, 1e-3, 0, KD_DECAY_INVERSE_SQUARE},
               {0, 240, 80, 1e-1, -1, KD_DECAY_NONE},
               {1, 150, 300, 1, 0, KD_DECAY_NONE},
               {1, 150, 100, 1e-2, -1, KD_DECAY_INVERSE_SQUARE},
               {1, 240, 80, 1e-3, -1, KD_DECAY_NONE}};
  const kd_spectrum_spec iso = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  for (int c = 0; c < 6; ++c) {
    setup(&f, cases[c].iso ? iso : powerlaw2, cases[c].p, 0.5);
    kd_pipe_opts acc = generations(4, KD_SCHEDULE_ACCUMULATE, cases[c].synthetic, -1,
                                   cases[c].decay);
    char what[112];
    snprintf(what, sizeof what, "accumulate ridge %g%s, %s, p = %zu, n = %zu, synthetic sigma %g",
             cases[c].ridge, cases[c].decay ? "/g^2" : "", cases[c].iso ? "isotropic" : "power law",
             cases[c].p, cases[c].n, cases[c].synthetic < 0 ? 0.5 : 0);
    check_point(&f, (kd_point){.n = cases[c].n, .ridge = cases[c].ridge, .opts = &acc}, RECURSIVE,
                300, what);
    teardown(&f);
  }
}

/* Accumulated data mixing ridge and ridgeless generations, the pencil's DE with its
 * ridgeless generations at ridge -> 0 (minimum norm below p), 4 generations each:
 * generation 1 with a ridge and the later ones ridgeless (blocks above p throughout, all
 * below p, crossing p; once without synthetic noise), and generation 1 ridgeless with
 * ridges after it (p < n and p > n); power-law and isotropic spectra. */
Test(agreement, generations_accumulate_mixed_ridge) {
  fixture f;
  const struct {
    int iso;
    size_t p, n;
    double ridge, gen_ridge, synthetic;
  } cases[] = {{0, 100, 200, 1e-2, 0, -1}, {0, 240, 50, 1e-2, 0, -1}, {1, 200, 40, 1e-1, 0, -1},
               {0, 150, 100, 1e-2, 0, -1}, {1, 150, 60, 1e-2, 0, 0},  {0, 100, 200, 0, 1e-2, -1},
               {1, 200, 80, 0, 1e-1, -1},  {0, 200, 80, 0, 1e-2, 0}};
  const kd_spectrum_spec iso = {.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    setup(&f, cases[c].iso ? iso : powerlaw2, cases[c].p, 0.5);
    kd_pipe_opts acc = generations(4, KD_SCHEDULE_ACCUMULATE, cases[c].synthetic,
                                   cases[c].gen_ridge, KD_DECAY_NONE);
    char what[128];
    snprintf(what, sizeof what,
             "accumulate ridge %g then %g, %s, p = %zu, n = %zu, synthetic sigma %g",
             cases[c].ridge, cases[c].gen_ridge, cases[c].iso ? "isotropic" : "power law",
             cases[c].p, cases[c].n, cases[c].synthetic < 0 ? 0.5 : 0);
    check_point(&f, (kd_point){.n = cases[c].n, .ridge = cases[c].ridge, .opts = &acc}, RECURSIVE,
                300, what);
    teardown(&f);
  }
}

/* The features pipeline: the student sees s features (head, tail or random first), with
 * or without q pure-noise features of level rho; exact where s + q < n - 1, DE else. */
static kd_point features_point(size_t n, double ridge, size_t s, kd_feature_order order,
                               size_t q, double rho) {
  return (kd_point){.n = n, .ridge = ridge, .m = 1000,
                    .features = {.count = s, .order = order, .seed = 3, .noise = q, .level = rho}};
}

static const unsigned features_only = 1u << KD_PIPE_FEATURES;

Test(agreement, features_overparameterised) {
  fixture f;
  setup(&f, powerlaw2, 500, 0.5);
  check_point(&f, features_point(200, 0, 100, KD_GROW_HEAD, 0, 0), features_only, 300,
              "p > n, head s = 100 (exact OLS)");
  check_point(&f, features_point(200, 0, 300, KD_GROW_TAIL, 0, 0), features_only, 300,
              "p > n, tail s = 300 (DE)");
  check_point(&f, features_point(200, 0, 400, KD_GROW_RANDOM, 0, 0), features_only, 300,
              "p > n, random s = 400 (DE)");
  check_point(&f, features_point(200, 0, 60, KD_GROW_HEAD, 400, 0.01), features_only, 300,
              "p > n, head s = 60, q = 400 noise features (DE)");
  check_point(&f, features_point(200, 0, 300, KD_GROW_RANDOM, 300, 0.01), features_only, 300,
              "p > n, random s = 300, q = 300 noise features (DE)");
  teardown(&f);
}

Test(agreement, features_underparameterised) {
  fixture f;
  setup(&f, powerlaw2, 150, 0.5);
  check_point(&f, features_point(400, 0, 100, KD_GROW_HEAD, 100, 0.05), features_only, 300,
              "n > p, head s = 100, q = 100 (exact OLS)");
  check_point(&f, features_point(400, 0, 50, KD_GROW_TAIL, 0, 0), features_only, 300,
              "n > p, tail s = 50 (exact OLS)");
  check_point(&f, features_point(400, 0, 120, KD_GROW_RANDOM, 600, 0.002), features_only, 300,
              "n > p, random s = 120, q = 600: over-parameterised by noise (DE)");
  check_point(&f, features_point(400, 1e-2, 80, KD_GROW_TAIL, 200, 0.05), features_only, 300,
              "n > p, ridge 1e-2, tail s = 80, q = 200 (DE)");
  teardown(&f);
}

/* ---- reproducibility ------------------------------------------------------------------ */

TestSuite(reproducibility, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* The CSV row of n = 100 is the same whether the grid holds other points or not. */
Test(reproducibility, point_independent_of_grid) {
  kd_config cfg;
  kd_config_default(&cfg);
  cfg.run.quiet = 1;
  cfg.run.force = 1;
  cr_assert_eq(kd_config_set(&cfg, "p", "120"), KD_OK);
  cr_assert_eq(kd_config_set(&cfg, "m", "400"), KD_OK);
  cr_assert_eq(kd_config_set(&cfg, "trials", "5"), KD_OK);
  cr_assert_eq(kd_config_set(&cfg, "backend", "cpu"), KD_OK);
  cr_assert_eq(kd_config_set(&cfg, "n", "40,100,200"), KD_OK);
  cr_assert_eq(kd_config_set(&cfg, "csv", kd_test_path("grid.csv")), KD_OK);
  cr_assert_eq(kd_sweep_run(&cfg, NULL, NULL), KD_OK, "%s", kd_last_error());
  char *a = kd_test_read(cfg.run.csv, NULL);
  cr_assert_not_null(a, "%s missing", cfg.run.csv);
  cr_assert_eq(kd_config_set(&cfg, "n", "100"), KD_OK);
  cr_assert_eq(kd_config_set(&cfg, "csv", kd_test_path("alone.csv")), KD_OK);
  cr_assert_eq(kd_sweep_run(&cfg, NULL, NULL), KD_OK, "%s", kd_last_error());
  char *b = kd_test_read(cfg.run.csv, NULL);
  cr_assert_not_null(b, "%s missing", cfg.run.csv);
  /* every line of the lone run (after the header) appears in the grid run */
  char *save = NULL;
  int lines = 0;
  for (char *line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ++lines)
    cr_expect(strstr(a, line) != NULL, "row '%s' differs inside the grid", line);
  cr_expect_eq(lines, 5, "header + 4 pipelines");
  free(a);
  free(b);
}

/* A trial regenerated alone equals the same trial inside a run of many. */
Test(reproducibility, trial_regenerated_alone) {
  fixture f;
  setup(&f, powerlaw2, 150, 0.5);
  kd_point pt = {.n = 80, .m = 300};
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&f.pr, &pt, KD_PIPES_DEFAULT, &pl), KD_OK);
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
  double seq[6][KD_PLAN_ROWS], alone[KD_PLAN_ROWS];
  int fb[KD_PLAN_ROWS];
  for (uint32_t t = 0; t < 6; ++t) kd_run_trial(&f.be, &pl, 99, t, &ws, seq[t], fb);
  cr_assert_eq(kd_run_trial(&f.be, &pl, 99, 4, &ws, alone, fb), KD_OK);
  for (int q = 0; q < pl.nrows; ++q) {
    cr_expect_eq(alone[q], seq[4][q], "%s: %.17g vs %.17g", kd_pipeline_name(pl.row[q].pipe),
                 alone[q], seq[4][q]);
    cr_expect_neq(seq[3][q], seq[4][q], "trials 3 and 4 differ");
  }
  kd_trial_ws_free(&ws);
  kd_plan_free(&pl);
  teardown(&f);
}

Test(reproducibility, default_grid_passes_through_p) {
  size_t *n, count;
  cr_assert_eq(kd_default_n_grid(500, &n, &count), KD_OK);
  int has_p = 0;
  for (size_t i = 0; i < count; ++i) {
    has_p |= n[i] == 500;
    if (i) cr_expect_gt(n[i], n[i - 1], "increasing");
  }
  cr_expect(has_p);
  cr_expect_eq(n[0], 20);
  cr_expect_eq(n[count - 1], 2000);
  cr_expect_geq(count, 12);
  free(n);
}
