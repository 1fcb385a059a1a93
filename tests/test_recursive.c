/* The recursive pipeline (host/sim/pipeline_recursive.c, host/sim/recursive.c): its
 * options (schedules by name, T_g, the ridge by generation), its rows (G per
 * schedule, steps 1 .. G, named groups), generation 1 the strong student itself (the
 * same fit, the same right-hand side: the same numbers bit for bit, G = 1 included),
 * later generations on fresh designs of their own sizes, accumulate's generations
 * extending generation 1's streams by rows with one label block per generation (without
 * synthetic noise, generation 1 refitted) and beats_first in the rows a sweep writes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdbench/pipeline.h"
#include "kdbench/recursive.h"
#include "kdbench/scenario.h"
#include "kdbench/sweep.h"
#include "kdbench/theory_generations.h"
#include "kd_test.h"

#define P 30

static kd_problem pr;
static kd_backend cpu;

static void setup(void) {
  kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 1.5};
  kd_beta_spec beta = {.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(&pr, &spec, &beta, P, 0.5, 0.5, 3), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_backend_open("cpu", &cpu), KD_OK, "%s", kd_last_error());
}

static void teardown(void) {
  kd_backend_close(&cpu);
  kd_problem_free(&pr);
}

TestSuite(options);
TestSuite(rows, .init = setup, .fini = teardown);
TestSuite(sweep, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

static kd_pipe_opts opts(int G, const char *schedules) {
  kd_pipe_opts o = {.recursive = KD_RECURSIVE_DEFAULTS};
  o.recursive.generations = G;
  cr_assert_eq(kd_schedules_parse(schedules, &o.recursive), KD_OK, "%s", kd_last_error());
  return o;
}

Test(options, schedules_samples_and_ridges) {
  kd_recursive_opts o = KD_RECURSIVE_DEFAULTS;
  cr_assert_eq(kd_schedules_parse("fixed,linear,quadratic,geometric:1.5,accumulate", &o), KD_OK);
  cr_assert_eq(o.n_schedules, 5);
  const size_t want[5][3] = {{100, 100, 100}, {100, 200, 300}, {100, 400, 900},
                             {100, 150, 225}, {100, 200, 300}};
  for (int s = 0; s < 5; ++s)
    for (int g = 1; g <= 3; ++g) {
      size_t t = 0;
      cr_assert_eq(kd_schedule_samples(&o.schedule[s], 100, g, &t), KD_OK);
      cr_expect_eq(t, want[s][g - 1], "schedule %d, g = %d: %zu", s, g, t);
    }
  char name[32];
  kd_schedule_name(&o.schedule[3], name, sizeof name);
  cr_expect_str_eq(name, "geometric:1.5");
  cr_expect_eq(kd_schedules_parse("fixed,linear,fixed", &o), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "'fixed' given twice"), "%s", kd_last_error());
  cr_expect_eq(o.n_schedules, 5, "a refused list leaves the options as they were");
  cr_expect_eq(kd_schedules_parse("geometric:-2", &o), KD_EINVAL);
  size_t t;
  kd_schedule big = {.kind = KD_SCHEDULE_GEOMETRIC, .ratio = 1e6};
  cr_expect_eq(kd_schedule_samples(&big, 100, 3, &t), KD_EINVAL);
  o.gen_ridge = 1e-2;
  cr_expect_eq(kd_generation_ridge(&o, 1e-3, 1), 1e-3, "generation 1: the point's ridge");
  cr_expect_eq(kd_generation_ridge(&o, 1e-3, 4), 1e-2);
  o.decay = KD_DECAY_INVERSE_SQUARE;
  cr_expect_eq(kd_generation_ridge(&o, 1e-3, 4), 1e-2 / 16);
  o.gen_ridge = -1; /* the point's */
  cr_expect_eq(kd_generation_ridge(&o, 1e-3, 2), 1e-3 / 4);
}

/* G rows per schedule, in the order given; every generation 1 is strong's fit and
 * right-hand side; linear's later generations are fits of n g samples on streams of
 * their own; accumulate's generation g draws g n rows from generation 1's streams,
 * labelled by g blocks (the truth, then each earlier generation's fit). */
Test(rows, groups_steps_and_fits) {
  kd_pipe_opts o = opts(3, "linear,accumulate");
  kd_point pt = {.n = 50, .opts = &o};
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_STRONG | 1u << KD_PIPE_RECURSIVE, &pl),
               KD_OK, "%s", kd_last_error());
  cr_assert_eq(pl.nrows, 7);
  cr_expect(pl.first_row[KD_PIPE_RECURSIVE] == 1 && pl.rows_of[KD_PIPE_RECURSIVE] == 6);
  const kd_program *prog = &pl.prog;
  const kd_plan_row *strong = &pl.row[0];
  const int strong_call = prog->stage_call[strong->chain][strong->stage];
  for (int i = 0; i < 6; ++i) {
    const kd_plan_row *r = &pl.row[1 + i];
    cr_expect_str_eq(r->group, i < 3 ? "linear" : "accumulate");
    cr_expect_eq(r->step, i % 3 + 1);
    const int c = prog->stage_call[r->chain][r->stage];
    const kd_call *call = &prog->call[c];
    if (r->step == 1) {
      cr_expect(c == strong_call && prog->stage_rhs[r->chain][r->stage] ==
                                        prog->stage_rhs[strong->chain][strong->stage],
                "generation 1 is strong's right-hand side");
      cr_expect(r->theory == strong->theory && r->kind == strong->kind);
      continue;
    }
    cr_expect_eq(call->n, 50 * (size_t)r->step);
    if (i < 3) {
      cr_expect(call->id != prog->call[strong_call].id && !call->mixed, "a fresh design");
    } else {
      cr_expect(call->id == prog->call[strong_call].id && call->role == KD_STAGE_STUDENT,
                "accumulate: generation 1's streams");
      cr_expect(call->mixed && call->mix[0].blocks == (size_t)r->step && call->ncols == (size_t)r->step);
      for (int b = 0; b < r->step; ++b) cr_expect_eq(call->mix[0].rows[b], 50);
      cr_expect_eq(call->src[0].kind, KD_LABELS_TRUTH);
      cr_expect(call->src[1].kind == KD_LABELS_STAGE && call->src[1].call == strong_call);
    }
  }
  kd_plan_free(&pl);
}

/* G = 1 is strong: the same numbers trial by trial (bit for bit) and the same theory;
 * and generation 1 of G = 3 too. */
Test(rows, one_generation_is_strong) {
  for (int G = 1; G <= 3; G += 2) {
    kd_pipe_opts o = opts(G, "fixed,quadratic");
    kd_point pt = {.n = 20, .opts = &o};
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_STRONG | 1u << KD_PIPE_RECURSIVE, &pl),
                 KD_OK, "%s", kd_last_error());
    kd_trial_ws ws;
    cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
    for (uint32_t t = 0; t < 5; ++t) {
      double r[KD_PLAN_ROWS];
      int fb[KD_PLAN_ROWS];
      cr_assert_eq(kd_run_trial(&cpu, &pl, 9, t, &ws, r, fb), KD_OK, "%s", kd_last_error());
      cr_expect(r[1] == r[0] && r[1 + G] == r[0], "G = %d trial %u: %.17g %.17g vs %.17g", G, t,
                r[1], r[1 + G], r[0]);
      if (G > 1) cr_expect(r[2] != r[0], "generation 2 is another fit");
    }
    cr_expect(pl.row[1].theory == pl.row[0].theory);
    kd_trial_ws_free(&ws);
    kd_plan_free(&pl);
  }
}

/* The largest relative difference, over 20 trials, of rows first .. last of the point's
 * risks from row base's (trial by trial). */
static double largest_difference(const kd_plan *pl, int base, int first, int last) {
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &pl->prog, 1), KD_OK);
  double worst = 0;
  for (uint32_t t = 0; t < 20; ++t) {
    double r[KD_PLAN_ROWS];
    int fb[KD_PLAN_ROWS];
    cr_assert_eq(kd_run_trial(&cpu, pl, 11, t, &ws, r, fb), KD_OK, "%s", kd_last_error());
    for (int g = first; g <= last; ++g) worst = fmax(worst, fabs(r[g] / r[base] - 1));
  }
  kd_trial_ws_free(&ws);
  return worst;
}

/* Ridgeless accumulate without synthetic noise: every block's labels are generation 1's
 * fit on the block's rows, so every generation refits generation 1 (b_g = b_1): the
 * same risk trial by trial to rounding (crossing p = 30: 20, 40, 60, 80 rows; and
 * below it throughout: 5 .. 20), and the same theory. With noise: a DE below p (the
 * power law), exact from generation 1 on above p + 1, the pencil's DE with a ridge. A
 * ridge in generation 1 only, ridgeless after it: the pencil's DE, finite; without
 * synthetic noise generation 2 refits b_1 (its ridge gone) and every later generation
 * refits b_2 (b_g = b_2, trial by trial to rounding, in the theory to 1e-6). A ridge
 * after a ridgeless generation 1 below p: the pencil's DE, finite. */
Test(rows, accumulate_without_noise_refits_generation_one) {
  const size_t ns[] = {20, 5};
  for (int c = 0; c < 2; ++c) {
    kd_pipe_opts o = opts(4, "accumulate");
    o.recursive.synthetic_sigma = 0;
    kd_point pt = {.n = ns[c], .opts = &o};
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_RECURSIVE, &pl), KD_OK, "%s",
                 kd_last_error());
    const double worst = largest_difference(&pl, 0, 1, 3);
    cr_log_info("n = %zu: largest relative difference from generation 1 %.3g", ns[c], worst);
    cr_expect(worst < 1e-12, "n = %zu: %.3g", ns[c], worst);
    for (int g = 1; g < 4; ++g)
      cr_expect(pl.row[g].theory == pl.row[0].theory && pl.row[g].kind == pl.row[0].kind &&
                    isfinite(pl.row[g].theory), "generation %d's theory %g vs %g", g + 1,
                pl.row[g].theory, pl.row[0].theory);
    kd_plan_free(&pl);
  }
  const struct {
    size_t n;
    double ridge;
    kd_theory_kind kind;
  } cases[] = {{20, 0, KD_THEORY_DE}, {40, 0, KD_THEORY_EXACT}, {40, 1e-2, KD_THEORY_DE}};
  for (int c = 0; c < 3; ++c) {
    kd_pipe_opts o = opts(4, "accumulate");
    kd_point pt = {.n = cases[c].n, .ridge = cases[c].ridge, .opts = &o};
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_RECURSIVE, &pl), KD_OK, "%s",
                 kd_last_error());
    for (int g = 1; g < 4; ++g) {
      cr_expect(pl.row[g].kind == cases[c].kind, "case %d, generation %d", c, g + 1);
      cr_expect(isfinite(pl.row[g].theory) && pl.row[g].theory > pl.row[g - 1].theory,
                "case %d, generation %d: %g", c, g + 1, pl.row[g].theory);
    }
    kd_plan_free(&pl);
  }
  const struct {
    size_t n;
    double ridge, gen_ridge, synthetic;
  } mixed[] = {{40, 1e-2, 0, -1}, {40, 1e-1, 0, 0}, {8, 1e-1, 0, 0}, {20, 0, 1e-2, -1}};
  for (int c = 0; c < 4; ++c) {
    kd_pipe_opts o = opts(3, "accumulate");
    o.recursive.gen_ridge = mixed[c].gen_ridge;
    o.recursive.synthetic_sigma = mixed[c].synthetic;
    kd_point pt = {.n = mixed[c].n, .ridge = mixed[c].ridge, .opts = &o};
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_RECURSIVE, &pl), KD_OK, "%s",
                 kd_last_error());
    for (int g = 0; g < 3; ++g)
      cr_expect(isfinite(pl.row[g].theory) && (g == 0 || pl.row[g].kind == KD_THEORY_DE),
                "mixed case %d, generation %d: %g", c, g + 1, pl.row[g].theory);
    if (mixed[c].synthetic == 0) {
      const double worst = largest_difference(&pl, 1, 2, 2);
      cr_expect(worst < 1e-10, "mixed case %d: generation 3 vs 2 %.3g", c, worst);
      cr_expect(fabs(pl.row[2].theory / pl.row[1].theory - 1) < 1e-6, "mixed case %d: %.12g %.12g",
                c, pl.row[2].theory, pl.row[1].theory);
    }
    kd_plan_free(&pl);
  }
}

/* A sweep's rows: G per schedule with their generation and schedule; beats_first from
 * generation 2 on, within its Wilson interval, and empty in generation 1's and
 * strong's rows. */
Test(sweep, rows_with_generations_and_beats_first) {
  kd_test_run_ok("--sweep n --n 40 --p 20 --alpha 1 --sigma 1 --pipelines strong,recursive "
                 "--generations 3 --schedule fixed,quadratic --trials 30 --quiet --csv r.csv");
  cJSON *rows = kd_test_rows("r.jsonl");
  cr_assert_eq(cJSON_GetArraySize(rows), 7);
  const char *sched[] = {NULL, "fixed", "fixed", "fixed", "quadratic", "quadratic", "quadratic"};
  for (int i = 0; i < 7; ++i) {
    const cJSON *r = cJSON_GetArrayItem(rows, i);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "beats_first");
    if (!i) { /* the keys of several rows only where they apply */
      cr_expect(!b && !cJSON_GetObjectItemCaseSensitive(r, "generation") &&
                !cJSON_GetObjectItemCaseSensitive(r, "schedule"));
      continue;
    }
    cr_expect_str_eq(kd_test_str(r, "schedule"), sched[i]);
    cr_expect_eq(kd_test_num(r, "generation"), (i - 1) % 3 + 1);
    if ((i - 1) % 3 == 0) {
      cr_expect(!b, "generation 1 does not beat itself");
      continue;
    }
    const double f = kd_test_num(r, "beats_first"), lo = kd_test_num(r, "beats_first_low"),
                 hi = kd_test_num(r, "beats_first_high");
    cr_expect(0 <= lo && lo <= f && f <= hi && hi <= 1 && f * 30 == floor(f * 30),
              "row %d: %g [%g, %g]", i, f, lo, hi);
  }
  cJSON_Delete(rows);
  char *csv = kd_test_text("r.csv");
  cr_expect_not_null(strstr(csv, ",flag,real_fraction,test_risk,generation,schedule,beats_first,"));
  cr_expect_not_null(strstr(csv, ",3,quadratic,"), "%s", csv);
  free(csv);
}

/* kdbench fit: the slope of the risk against the generation, per schedule, with its
 * 95 % interval over trials (--raw): fixed T = 60 at p = 20 grows by sigma^2 p/(T - p - 1)
 * = 20/39 a generation (its theory slope exactly), inside the interval; quadratic grows
 * slower; without per-trial risks the interval is the regression's t-interval. And
 * kdbench report: the table by generation, schedules side by side, and the slopes. */
Test(sweep, slopes_against_the_generation_and_the_report) {
  const char *run = "--sweep n --n 60 --p 20 --alpha 1 --sigma 1 --pipelines recursive "
                    "--generations 5 --schedule fixed,quadratic --trials 200 --quiet";
  kd_test_run_ok("%s --raw --csv r.csv", run);
  kd_test_run_ok("fit r --quiet");
  cJSON *fit = kd_test_json("r.fit.json");
  const cJSON *steps = kd_test_item(fit, "steps");
  cr_assert_eq(cJSON_GetArraySize(steps), 2);
  const cJSON *fixed = cJSON_GetArrayItem(steps, 0), *quad = cJSON_GetArrayItem(steps, 1);
  cr_expect_str_eq(kd_test_str(fixed, "group"), "fixed");
  cr_expect_str_eq(kd_test_str(fixed, "ci"), "trials");
  const double th = kd_test_num(fixed, "theory_slope"), lo = kd_test_num(fixed, "ci_low"),
               hi = kd_test_num(fixed, "ci_high"), b = kd_test_num(fixed, "slope");
  cr_expect(fabs(th - 20.0 / 39) < 1e-12, "theory slope %.17g", th);
  cr_expect(lo < th && th < hi && lo < b && b < hi, "slope %g [%g, %g], theory %g", b, lo, hi, th);
  cr_expect_lt(kd_test_num(quad, "slope"), 0.5 * b, "quadratic grows slower");
  cJSON_Delete(fit);
  kd_test_run_ok("report r");
  char *md = kd_test_text("r.md");
  cr_expect_not_null(strstr(md, "recursive, by generation"), "%s", md);
  cr_expect_not_null(strstr(md, "fixed: sim") ? strstr(md, "quadratic: theory") : NULL, "%s", md);
  cr_expect_not_null(strstr(md, "Slopes against the generation"), "%s", md);
  const char *backend = strstr(md, "\n- Backend: cpu: "); /* its only table names the backend */
  cr_expect(backend && !strstr(backend + 1, "\n- Backend: "), "%s", md);
  free(md);
  char *tex = kd_test_text("r.tex");
  cr_expect_not_null(strstr(tex, " and schedule, simulation beside theory; 200~trials.}"), "%s", tex);
  free(tex);
  kd_test_run_ok("%s --csv s.csv", run); /* no per-trial risks */
  kd_test_run_ok("fit s --quiet");
  fit = kd_test_json("s.fit.json");
  cr_expect_str_eq(kd_test_str(cJSON_GetArrayItem(kd_test_item(fit, "steps"), 0), "ci"), "t");
  cJSON_Delete(fit);
}

/* Long chains, up to KD_GENERATIONS_MAX generations. Simulated: 256 generations of
 * replace at T = 20 > p + 1 = 6, whose exact risk is g sigma^2 p / (T - p - 1) (A1),
 * within 4 standard errors at g = 64, 128, 256, one row each. Theory only: the ridge
 * bias of a fixed ridge 1e-2 under the quadratic schedule at p = 500 (the power law,
 * sigma = 0.1), 1.017 at g = 10 and 2.268 at g = 200 (drifting to the null risk, 2.523),
 * kd_generations_de's numbers bit for bit (generation 1: strong's theory, the same to
 * 1e-9). One more generation is refused. */
Test(sweep, long_chains) {
  kd_test_run_ok("--sweep n --n 20 --p 5 --sigma 0.5 --pipelines recursive --generations 256 "
                 "--trials 400 --quiet --csv long.csv");
  cJSON *rows = kd_test_rows("long.jsonl");
  cr_assert_eq(cJSON_GetArraySize(rows), 256);
  for (int g = 64; g <= 256; g *= 2) {
    const cJSON *r = cJSON_GetArrayItem(rows, g - 1);
    const double want = g * 0.25 * 5 / 14, sim = kd_test_num(r, "sim_mean");
    cr_expect_eq(kd_test_num(r, "generation"), g);
    cr_expect(fabs(kd_test_num(r, "theory") / want - 1) < 1e-12);
    cr_expect(fabs(sim - want) < 4 * kd_test_num(r, "sim_se"), "g = %d: %g vs %g (se %g)", g,
              sim, want, kd_test_num(r, "sim_se"));
  }
  cJSON_Delete(rows);

  kd_test_run_ok("--sweep n --n 200 --sigma 0.1 --ridge 0.01 --pipelines recursive "
                 "--generations 200 --schedule quadratic --theory-only --quiet --csv ridge.csv");
  rows = kd_test_rows("ridge.jsonl");
  cr_assert_eq(cJSON_GetArraySize(rows), 200);
  kd_problem p500;
  kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 2};
  kd_beta_spec beta = {.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(&p500, &spec, &beta, 500, 0.1, 0.1, 1), KD_OK, "%s",
               kd_last_error());
  kd_generation gen[200];
  double risk[200];
  for (int g = 1; g <= 200; ++g)
    gen[g - 1] = (kd_generation){.t = 200.0 * g * g, .ridge = 1e-2, .sigma = 0.1};
  cr_assert_eq(kd_generations_de(p500.lambda, p500.beta, 500, gen, 200, risk), KD_OK);
  cr_expect(fabs(kd_test_num(cJSON_GetArrayItem(rows, 0), "theory") / risk[0] - 1) < 1e-9,
            "generation 1 is strong's theory");
  for (int g = 1; g < 200; ++g)
    cr_expect_eq(kd_test_num(cJSON_GetArrayItem(rows, g), "theory"), risk[g], "g = %d", g + 1);
  cr_expect(fabs(risk[9] - 1.017) < 1e-3 && fabs(risk[199] - 2.268) < 1e-3, "%.5f %.5f",
            risk[9], risk[199]);
  cJSON_Delete(rows);
  kd_problem_free(&p500);

  kd_test_expect_refused(kd_test_run("--sweep n --pipelines recursive --generations 257 --quiet "
                                     "--csv over.csv"),
                         "--generations: at most 256");
  cr_expect(access("over.csv", F_OK) != 0 && access("over.jsonl", F_OK) != 0, "nothing written");
}

/* The largest point: 8 schedules of 256 generations, 2048 rows (KD_PLAN_ROWS), at most
 * 2041 distinct fits (generation 1 shared, and generations of one size on one stream
 * share a design); a strong row beside them is one row too many, refused naming the
 * limit. */
Test(rows, eight_schedules_of_the_longest_chains) {
  kd_pipe_opts o = opts(KD_GENERATIONS_MAX, "fixed,linear,quadratic,geometric:1.01,"
                                            "geometric:1.02,geometric:1.03,geometric:0.99,"
                                            "geometric:1.001");
  kd_point pt = {.n = 20, .opts = &o};
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_RECURSIVE, &pl), KD_OK, "%s",
               kd_last_error());
  cr_expect_eq(pl.nrows, KD_PLAN_ROWS);
  cr_expect(pl.prog.ncalls > 4 * KD_GENERATIONS_MAX &&
                pl.prog.ncalls <= 8 * (KD_GENERATIONS_MAX - 1) + 1,
            "%d fits", pl.prog.ncalls);
  cr_expect_eq(pl.row[KD_PLAN_ROWS - 1].step, KD_GENERATIONS_MAX);
  cr_expect_str_eq(pl.row[KD_PLAN_ROWS - 1].group, "geometric:1.001");
  kd_plan_free(&pl);
  cr_expect_eq(kd_plan_point(&pr, &pt, 1u << KD_PIPE_STRONG | 1u << KD_PIPE_RECURSIVE, &pl),
               KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "more than 2048 rows"), "%s", kd_last_error());
}
