/* Curricula for a one-pass SGD student (include/kdbench/curriculum.h, sgd.h;
 * docs/theory.md#curriculum): CLIMB's pacing functions, the exact recursion (B2, B4)
 * against its known values and the SGD solver's Monte Carlo, the linearity identity
 * R_curriculum + R_anti = 2 R_random (B3), order invariance at convergence (B1), and
 * the refusals of bad settings. */
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/backend.h"
#include "kdbench/curriculum.h"
#include "kd_test.h"
#include "kdbench/sgd.h"
#include "stage_fixture.h"

#define P 100
#define SEED 20231108u

static kd_backend cpu;
static void open_cpu(void) { cr_assert_eq(kd_backend_open("cpu", &cpu), KD_OK, "%s", kd_last_error()); }
static void close_cpu(void) { kd_backend_close(&cpu); }

/* The base setting: lambda_j = 1/j and beta*_j = j^(-1/2), the root-mean-square of
 * N(0, 1) j^(-1/2): every risk below is quadratic in beta*, so its value here is the
 * mean over such draws. */
static void base_problem(size_t p, double *lambda, double *beta) {
  for (size_t j = 0; j < p; ++j) {
    lambda[j] = 1.0 / (double)(j + 1);
    beta[j] = 1.0 / sqrt((double)(j + 1));
  }
}

static kd_curriculum base(kd_difficulty d, size_t n, double c) {
  return (kd_curriculum){.difficulty = d, .pacing = KD_PACING_NONE,
                         .step = {.kind = KD_STEP_CONSTANT, .c = c, .tau = INFINITY},
                         .n = n, .budget = n, .checkpoints = 2, .easy_fraction = 0.5,
                         .easy_sigma = 0.1, .hard_sigma = 1.0, .sigma = 0.5};
}

static void theory(const kd_curriculum *c, kd_order o, double *risk) {
  double lambda[P], beta[P];
  base_problem(P, lambda, beta);
  cr_assert_eq(kd_curriculum_risk(c, o, lambda, beta, P, risk), KD_OK, "%s", kd_last_error());
}

/* ---- CLIMB's pacing -------------------------------------------------------------------- */

Test(pacing, climb_constants) {
  const size_t steps = 1600; /* 6.25 % = 100, 87.5 % = 1400 */
  for (int p = KD_PACING_LINEAR; p < KD_NPACINGS; ++p) {
    cr_expect_eq(kd_pace((kd_pacing)p, 0, steps), KD_PACE_INITIAL, "%s", kd_pacing_name(p));
    cr_expect_eq(kd_pace((kd_pacing)p, 99, steps), KD_PACE_INITIAL, "%s", kd_pacing_name(p));
    cr_expect_eq(kd_pace((kd_pacing)p, 1400, steps), 1.0, "%s", kd_pacing_name(p));
    cr_expect_eq(kd_pace((kd_pacing)p, 1599, steps), 1.0, "%s", kd_pacing_name(p));
    for (size_t t = 1; t < steps; ++t)
      cr_expect(kd_pace((kd_pacing)p, t, steps) >= kd_pace((kd_pacing)p, t - 1, steps),
                "%s falls at step %zu", kd_pacing_name(p), t);
  }
  /* halfway through the 1300 steps of growth */
  cr_expect_float_eq(kd_pace(KD_PACING_LINEAR, 750, steps), 0.1 + 0.9 * 0.5, 1e-15);
  cr_expect_float_eq(kd_pace(KD_PACING_QUAD, 750, steps), 0.1 + 0.9 * 0.25, 1e-15);
  cr_expect_float_eq(kd_pace(KD_PACING_ROOT, 750, steps), 0.1 + 0.9 * sqrt(0.5), 1e-15);
  cr_expect_float_eq(kd_pace(KD_PACING_LOG, 750, steps), 0.1 + 0.9 * (1 + log(0.5 + exp(-10)) / 10),
                     1e-15);
  cr_expect_eq(kd_pace(KD_PACING_STEP, 1399, steps), KD_PACE_INITIAL);
  cr_expect_eq(kd_pace(KD_PACING_NONE, 0, steps), 1.0);
}

Test(pacing, checkpoints_and_features) {
  kd_curriculum c = base(KD_DIFFICULTY_FEATURES, 3000, 0.5);
  c.budget = 1500;
  c.checkpoints = 4;
  const size_t at[] = {375, 750, 1125, 1500};
  for (size_t i = 0; i < 4; ++i) cr_expect_eq(kd_checkpoint_at(&c, i), at[i]);
  size_t lo, hi;
  kd_curriculum_active(&c, KD_ORDER_CURRICULUM, P, 0, &lo, &hi);
  cr_expect(lo == 0 && hi == P, "unpaced, every feature");
  c.pacing = KD_PACING_LINEAR;
  kd_curriculum_active(&c, KD_ORDER_CURRICULUM, P, 0, &lo, &hi);
  cr_expect(lo == 0 && hi == 10, "the top 10 %% first: [%zu, %zu)", lo, hi);
  kd_curriculum_active(&c, KD_ORDER_ANTI, P, 0, &lo, &hi);
  cr_expect(lo == 90 && hi == P, "anti: the last 10 %% first: [%zu, %zu)", lo, hi);
  kd_curriculum_active(&c, KD_ORDER_CURRICULUM, P, 1499, &lo, &hi);
  cr_expect(lo == 0 && hi == P);
}

/* ---- the recursion: the scenario's known values (B2, B4) ------------------------------ */

/* Constant eta = 0.5 / tr Sigma, n = 3000, noise 0.1 / 1, half each: the last samples
 * dominate. */
Test(recursion, constant_steps_last_samples_dominate) {
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 3000, 0.5);
  double cur[2], anti[2], rnd[2];
  theory(&c, KD_ORDER_CURRICULUM, cur);
  theory(&c, KD_ORDER_ANTI, anti);
  theory(&c, KD_ORDER_RANDOM, rnd);
  cr_expect(fabs(cur[0] - 0.004) < 0.0005, "curriculum at n/2: %g (0.004)", cur[0]);
  cr_expect(fabs(cur[1] - 0.346) < 0.0005, "curriculum final: %g (0.346)", cur[1]);
  cr_expect(fabs(anti[0] - 0.347) < 0.0005, "anti at n/2: %g (0.347)", anti[0]);
  cr_expect(fabs(anti[1] - 0.005) < 0.0005, "anti final: %g (0.005)", anti[1]);
  cr_expect(fabs(rnd[1] - 0.176) < 0.0005, "random final: %g (0.176)", rnd[1]);
  /* budget n/2: the curriculum stops on its easy half */
  c.budget = 1500;
  c.checkpoints = 1;
  theory(&c, KD_ORDER_CURRICULUM, cur);
  theory(&c, KD_ORDER_RANDOM, rnd);
  cr_expect(cur[0] < rnd[0] / 20, "budget n/2: curriculum %g, random %g", cur[0], rnd[0]);
}

/* Decaying steps (tau = 100): the hard samples come when the steps are small, and the
 * curriculum wins. */
Test(recursion, decaying_steps_favour_the_curriculum) {
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 3000, 0.5);
  c.step = (kd_step_rule){.kind = KD_STEP_DECAY, .c = 0.5, .tau = 100};
  double cur[2], anti[2], rnd[2];
  theory(&c, KD_ORDER_CURRICULUM, cur);
  theory(&c, KD_ORDER_ANTI, anti);
  theory(&c, KD_ORDER_RANDOM, rnd);
  cr_expect(cur[1] < rnd[1] && rnd[1] < anti[1], "curriculum %g < random %g < anti %g", cur[1],
            rnd[1], anti[1]);
}

/* The label source: whichever comes last dominates. Teacher first ends as the truth's
 * labels leave it; truth first ends at the teacher's own risk, (1 - 0.6)^2 sum l b^2. */
Test(recursion, label_source_last_dominates) {
  kd_curriculum c = base(KD_DIFFICULTY_SOURCE, 3000, 0.5);
  double cur[2], anti[2], lambda[P], beta[P];
  theory(&c, KD_ORDER_CURRICULUM, cur);
  theory(&c, KD_ORDER_ANTI, anti);
  base_problem(P, lambda, beta);
  double teacher = 0;
  for (size_t j = 0; j < P; ++j) teacher += 0.16 * lambda[j] * beta[j] * beta[j];
  cr_expect(fabs(anti[1] / teacher - 1) < 0.01, "truth first ends at the teacher's %g: %g",
            teacher, anti[1]);
  cr_expect(fabs(cur[0] / teacher - 1) < 0.02, "teacher first, at n/2: %g (%g)", cur[0], teacher);
  cr_expect(cur[1] < anti[1] / 2, "teacher first %g, truth first %g", cur[1], anti[1]);
}

/* The feature curriculum: no gain at eta = 0.5 / tr Sigma (0.0870 without, 0.0869 with a
 * log pace), a loss at 0.05 (0.0159 against 0.0211 with a linear pace), worse early. */
Test(recursion, feature_curriculum_null_result) {
  kd_curriculum c = base(KD_DIFFICULTY_FEATURES, 3000, 0.5);
  c.checkpoints = 4;
  double none[4], paced[4];
  theory(&c, KD_ORDER_CURRICULUM, none);
  c.pacing = KD_PACING_LOG;
  theory(&c, KD_ORDER_CURRICULUM, paced);
  cr_expect(fabs(none[3] / 0.0870 - 1) < 0.01, "no curriculum, eta 0.5: %g (0.0870)", none[3]);
  cr_expect(fabs(paced[3] / 0.0869 - 1) < 0.01, "log pace, eta 0.5: %g (0.0869)", paced[3]);
  c.step.c = 0.05;
  c.pacing = KD_PACING_NONE;
  theory(&c, KD_ORDER_CURRICULUM, none);
  c.pacing = KD_PACING_LINEAR;
  theory(&c, KD_ORDER_CURRICULUM, paced);
  cr_expect(fabs(none[3] / 0.0159 - 1) < 0.03, "no curriculum, eta 0.05: %g (0.0159)", none[3]);
  cr_expect(fabs(paced[3] / 0.0211 - 1) < 0.03, "linear pace, eta 0.05: %g (0.0211)", paced[3]);
  for (size_t i = 0; i < 4; ++i)
    cr_expect(paced[i] > none[i], "checkpoint %zu: the curriculum %g, none %g", i, paced[i], none[i]);
}

/* ---- B3: R_curriculum + R_anti = 2 R_random ---------------------------------------------- */

Test(identity, curriculum_plus_anti_is_twice_random) {
  const kd_step_rule steps[] = {{KD_STEP_CONSTANT, 0.5, INFINITY},
                                {KD_STEP_CONSTANT, 0.05, INFINITY},
                                {KD_STEP_DECAY, 0.5, 20},
                                {KD_STEP_DECAY, 0.5, 100}};
  const kd_pacing paces[] = {KD_PACING_NONE, KD_PACING_LINEAR, KD_PACING_LOG};
  for (size_t s = 0; s < 4; ++s)
    for (size_t q = 0; q < 3; ++q) {
      kd_curriculum c = base(KD_DIFFICULTY_NOISE, 3000, 0.5);
      c.step = steps[s];
      c.pacing = paces[q];
      c.checkpoints = 6;
      double cur[6], anti[6], rnd[6];
      theory(&c, KD_ORDER_CURRICULUM, cur);
      theory(&c, KD_ORDER_ANTI, anti);
      theory(&c, KD_ORDER_RANDOM, rnd);
      for (size_t i = 0; i < 6; ++i)
        cr_expect(fabs(cur[i] + anti[i] - 2 * rnd[i]) <= 1e-10 * rnd[i],
                  "step %zu, pace %s, checkpoint %zu: %.17g + %.17g != 2 x %.17g", s,
                  kd_pacing_name(paces[q]), i, cur[i], anti[i], rnd[i]);
    }
}

/* ---- the SGD solver against the recursion (Monte Carlo) ----------------------------- */

#define ORDERS 3
static const kd_order all_orders[ORDERS] = {KD_ORDER_CURRICULUM, KD_ORDER_ANTI, KD_ORDER_RANDOM};

/* `trials` trials of an SGD stage with the three orders as its right-hand sides (one pool,
 * one noise vector per trial: common random numbers); risk[(t ORDERS + r) K + i]. */
static double *simulate(const kd_curriculum *c, size_t p, size_t trials, int orders) {
  double *lambda = vec(p), *beta = vec(p), *sources = vec(2 * p), sigma[2];
  base_problem(p, lambda, beta);
  kd_sgd_labels(c, beta, p, sources, sigma);
  const size_t K = c->checkpoints;
  double *risk = vec(trials * (size_t)orders * K);
  kd_sgd sgd = {.cur = c, .orders = all_orders};
  for (size_t t = 0; t < trials; ++t) {
    kd_stage st = {.n = c->n, .p = p, .lambda = lambda, .k = (size_t)orders, .sources = sources,
                   .sigma = sigma, .columns = 2, .target = beta, .sgd = &sgd,
                   .design = {SEED, 11, (uint32_t)t, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                   .noise = {SEED, 11, (uint32_t)t, KD_STAGE_STUDENT | KD_PURPOSE_NOISE},
                   .risk = risk + t * (size_t)orders * K};
    cr_assert_eq(kd_stage_run(&cpu, &st), KD_OK, "%s", kd_last_error());
  }
  free(lambda);
  free(beta);
  free(sources);
  return risk;
}

/* Monte Carlo mean of order r at checkpoint i, and its standard error. */
static void mc(const double *risk, size_t trials, int orders, size_t K, int r, size_t i,
               double *mean, double *se) {
  double s = 0, s2 = 0;
  for (size_t t = 0; t < trials; ++t) {
    const double x = risk[(t * (size_t)orders + (size_t)r) * K + i];
    s += x;
    s2 += x * x;
  }
  *mean = s / (double)trials;
  *se = sqrt(fmax(s2 / (double)trials - *mean * *mean, 0) / (double)(trials - 1));
}

/* Every order's checkpoints within 3 % and within 4 standard errors of the recursion. */
static void expect_agreement(const kd_curriculum *c, int orders, size_t trials) {
  double *risk = simulate(c, P, trials, orders);
  const size_t K = c->checkpoints;
  for (int r = 0; r < orders; ++r) {
    double th[8];
    theory(c, all_orders[r], th);
    for (size_t i = 0; i < K; ++i) {
      double m, se;
      mc(risk, trials, orders, K, r, i, &m, &se);
      const double d = fabs(m - th[i]);
      cr_expect(d <= 0.03 * th[i] && d <= 4 * se,
                "%s, %s, pace %s, step c %g tau %g, t = %zu: Monte Carlo %.5f +- %.5f, "
                "recursion %.5f (%.2f %%, %.1f s.e.)",
                kd_difficulty_name(c->difficulty), kd_order_name(all_orders[r]),
                kd_pacing_name(c->pacing), c->step.c, c->step.tau, kd_checkpoint_at(c, i), m, se,
                th[i], 100 * d / th[i], d / se);
    }
  }
  free(risk);
}

TestSuite(monte_carlo, .init = open_cpu, .fini = close_cpu, .timeout = 120);

Test(monte_carlo, noise_constant_steps) {
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 1000, 0.1);
  c.checkpoints = 4;
  expect_agreement(&c, ORDERS, 400);
}

Test(monte_carlo, noise_decaying_steps_paced) {
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 1000, 0.5);
  c.step = (kd_step_rule){KD_STEP_DECAY, 0.5, 100};
  c.pacing = KD_PACING_LINEAR;
  c.checkpoints = 4;
  expect_agreement(&c, ORDERS, 400);
}

Test(monte_carlo, source_constant_steps) {
  kd_curriculum c = base(KD_DIFFICULTY_SOURCE, 1000, 0.1);
  c.checkpoints = 4;
  expect_agreement(&c, ORDERS, 400);
}

Test(monte_carlo, source_decaying_steps_paced_budget) {
  kd_curriculum c = base(KD_DIFFICULTY_SOURCE, 1000, 0.5);
  c.step = (kd_step_rule){KD_STEP_DECAY, 0.5, 20};
  c.pacing = KD_PACING_LOG;
  c.budget = 500;
  c.checkpoints = 4;
  expect_agreement(&c, ORDERS, 400);
}

Test(monte_carlo, features_paced) {
  kd_curriculum c = base(KD_DIFFICULTY_FEATURES, 1000, 0.5);
  c.pacing = KD_PACING_LINEAR;
  c.checkpoints = 4;
  expect_agreement(&c, 2, 400); /* curriculum and anti: the samples are alike */
}

Test(monte_carlo, features_small_steps) {
  kd_curriculum c = base(KD_DIFFICULTY_FEATURES, 1000, 0.05);
  c.pacing = KD_PACING_ROOT;
  c.checkpoints = 4;
  expect_agreement(&c, 2, 400);
}

/* B3 in simulation: per trial curriculum + anti - 2 random, whose mean is 0 within its
 * standard error (4 s.e.). */
Test(monte_carlo, identity_within_monte_carlo_error) {
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 1000, 0.5);
  const size_t trials = 400, K = c.checkpoints;
  double *risk = simulate(&c, P, trials, ORDERS);
  for (size_t i = 0; i < K; ++i) {
    double s = 0, s2 = 0;
    for (size_t t = 0; t < trials; ++t) {
      const double *r = risk + t * ORDERS * K;
      const double x = r[i] + r[K + i] - 2 * r[2 * K + i];
      s += x;
      s2 += x * x;
    }
    const double mean = s / trials, se = sqrt((s2 / trials - mean * mean) / (trials - 1));
    cr_expect(fabs(mean) <= 4 * se, "checkpoint %zu: curriculum + anti - 2 random = %g +- %g", i,
              mean, se);
  }
  free(risk);
}

/* ---- the solver, sample by sample ------------------------------------------------------ */

/* The first step, by hand from the generator: w = eta y_i x_i for the order's first row
 * i (curriculum: row 0; anti: row E, the first hard one), its label x_i^T source + sigma
 * z_i. */
Test(monte_carlo, first_step_from_the_streams) {
  const size_t p = 8;
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 10, 0.5);
  c.budget = c.checkpoints = 1;
  double lambda[8], beta[8], sources[16], sigma[2], risk[2], w[16];
  base_problem(p, lambda, beta);
  kd_sgd_labels(&c, beta, p, sources, sigma);
  kd_sgd sgd = {.cur = &c, .orders = all_orders};
  kd_stage st = {.n = c.n, .p = p, .lambda = lambda, .k = 2, .sources = sources, .sigma = sigma,
                 .columns = 2, .target = beta, .sgd = &sgd,
                 .design = {SEED, 3, 5, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                 .noise = {SEED, 3, 5, KD_STAGE_STUDENT | KD_PURPOSE_NOISE},
                 .risk = risk, .beta_hat = w};
  cr_assert_eq(kd_stage_run(&cpu, &st), KD_OK, "%s", kd_last_error());
  double trace = 0;
  for (size_t j = 0; j < p; ++j) trace += lambda[j];
  const size_t rows[2] = {0, 5};
  for (int r = 0; r < 2; ++r) {
    double x[8], y = sigma[r] * kd_rng_normal_at(st.noise, rows[r], 0), risk_r = 0;
    for (size_t j = 0; j < p; ++j) {
      x[j] = sqrt(lambda[j]) * kd_rng_normal_at(st.design, rows[r], (uint32_t)j);
      y += x[j] * beta[j];
    }
    for (size_t j = 0; j < p; ++j) {
      const double wj = 0.5 / trace * y * x[j];
      cr_expect(fabs(w[r * p + j] - wj) <= 1e-14 * fabs(wj), "order %d, w_%zu: %.17g, by hand %.17g",
                r, j, w[r * p + j], wj);
      risk_r += lambda[j] * (wj - beta[j]) * (wj - beta[j]);
    }
    cr_expect(fabs(risk[r] - risk_r) <= 1e-13 * risk_r);
  }
}

/* ---- B1: at convergence the order does not matter --------------------------------------- */

/* Over-parameterised (p = 40 > n = 20), from w = 0: full-batch gradient descent and
 * SGD cycling over the pool, easy rows first or hard rows first, all converge to the
 * minimum-norm interpolant of the pool (LAPACK's SVD solve) to 1e-8. */
Test(monte_carlo, order_invariance_at_convergence) {
  const size_t n = 20, p = 40;
  double *lambda = power_law(p, 1), *beta = vec(p), *x = vec(n * p), *y = vec(n);
  const double sig[2] = {0.1, 1.0}; /* the pool's easy half, its hard half */
  const kd_rng_addr design = {SEED, 9, 0, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN};
  const kd_rng_addr noise = {SEED, 9, 0, KD_STAGE_STUDENT | KD_PURPOSE_NOISE};
  for (size_t i = 0; i < n; ++i) {
    y[i] = sig[i >= n / 2] * kd_rng_normal_at(noise, i, 0);
    for (size_t j = 0; j < p; ++j) {
      beta[j] = 1.0 / sqrt((double)(j + 1));
      x[i + j * n] = sqrt(lambda[j]) * kd_rng_normal_at(design, i, (uint32_t)j);
      y[i] += x[i + j * n] * beta[j];
    }
  }
  double *a = vec(n * p), *b = vec(p);
  memcpy(a, x, sizeof(double) * n * p);
  memcpy(b, y, sizeof(double) * n);
  lapack_int rank = 0;
  double *sv = vec(n);
  cr_assert_eq(LAPACKE_dgelss(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)p, 1, a, (lapack_int)n,
                              b, (lapack_int)p, sv, -1.0, &rank), 0);
  double norm = 0;
  for (size_t j = 0; j < p; ++j) norm += b[j] * b[j];
  double trace = 0;
  for (size_t i = 0; i < n * p; ++i) trace += x[i] * x[i];
  const double eta = 1.0 / trace * (double)n; /* below 2 / lambda_max(X^T X / n) */
  for (int how = 0; how < 3; ++how) { /* GD; SGD easy first; SGD hard first */
    double *w = vec(p), *g = vec(p);
    for (int epoch = 0; epoch < 200000; ++epoch) {
      double change = 0;
      if (how == 0) {
        memset(g, 0, sizeof(double) * p);
        for (size_t i = 0; i < n; ++i) {
          double r = -y[i];
          for (size_t j = 0; j < p; ++j) r += x[i + j * n] * w[j];
          for (size_t j = 0; j < p; ++j) g[j] += r * x[i + j * n] / (double)n;
        }
        for (size_t j = 0; j < p; ++j) {
          w[j] -= eta * g[j];
          change += (eta * g[j]) * (eta * g[j]);
        }
      } else {
        for (size_t s = 0; s < n; ++s) {
          const size_t i = how == 1 ? s : (s + n / 2) % n;
          double r = -y[i];
          for (size_t j = 0; j < p; ++j) r += x[i + j * n] * w[j];
          for (size_t j = 0; j < p; ++j) {
            const double dw = eta / (double)n * r * x[i + j * n];
            w[j] -= dw;
            change += dw * dw;
          }
        }
      }
      if (change < 1e-30 * norm) break;
    }
    double err = 0;
    for (size_t j = 0; j < p; ++j) err += (w[j] - b[j]) * (w[j] - b[j]);
    cr_expect(sqrt(err / norm) <= 1e-8, "%s: |w - minnorm| / |minnorm| = %g",
              how == 0 ? "gradient descent" : how == 1 ? "SGD, easy first" : "SGD, hard first",
              sqrt(err / norm));
    free(w);
    free(g);
  }
  free(lambda); free(beta); free(x); free(y); free(a); free(b); free(sv);
}

/* ---- bad settings ---------------------------------------------------------------------------- */

Test(settings, refused_with_the_culprit) {
  kd_step_rule r;
  cr_expect_eq(kd_step_parse("constant:0.5", &r), KD_OK);
  cr_expect(r.kind == KD_STEP_CONSTANT && r.c == 0.5);
  cr_expect_eq(kd_step_parse("decay:0.5,100", &r), KD_OK);
  cr_expect(r.kind == KD_STEP_DECAY && r.c == 0.5 && r.tau == 100);
  const char *bad[] = {"constant:0", "constant:-1", "constant:", "decay:0.5", "decay:0.5,0",
                       "decay:-1,10", "linear:1", "constant:x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    cr_expect_eq(kd_step_parse(bad[i], &r), KD_EINVAL, "%s accepted", bad[i]);
    cr_expect(strstr(kd_last_error(), bad[i]) != NULL, "%s: %s", bad[i], kd_last_error());
  }
  kd_order o;
  kd_pacing pc;
  kd_difficulty d;
  cr_expect_eq(kd_order_parse("sideways", 8, &o), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "'sideways'") && strstr(kd_last_error(), "curriculum, anti, random"),
            "%s", kd_last_error());
  cr_expect_eq(kd_pacing_parse("cubic", &pc), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "'cubic'"), "%s", kd_last_error());
  cr_expect_eq(kd_difficulty_parse("length", &d), KD_EINVAL);
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 100, 0.5);
  c.budget = 101;
  cr_expect_eq(kd_curriculum_check(&c, -1), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "--budget 101"), "%s", kd_last_error());
  c.budget = 100;
  c.step.c = -0.5;
  cr_expect_eq(kd_curriculum_check(&c, -1), KD_EINVAL);
  c.step.c = 0.5;
  c.difficulty = KD_DIFFICULTY_FEATURES;
  cr_expect_eq(kd_curriculum_check(&c, KD_ORDER_RANDOM), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "--order random"), "%s", kd_last_error());
}

/* ---- the pipeline through the command line ------------------------------------------- */

TestSuite(pipeline, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 120);

#define RUN "--quiet --sweep n --n 600 --p 50 --alpha 1 --signal-exp 2 --pipelines curriculum " \
            "--trials 40 --csv run/c.csv"

/* One row per order and checkpoint: t the samples seen, order the group, the theory the
 * exact recursion of the same settings (lambda_j = 1/j, lambda_j beta*_j^2 = j^-2). */
Test(pipeline, a_row_per_order_and_checkpoint) {
  kd_test_run_ok(RUN " --order anti,curriculum --checkpoints 3 --step decay:0.5,50 --pacing linear "
                 "--budget 450");
  cJSON *rows = kd_test_rows("run/c.jsonl");
  cr_assert_eq(cJSON_GetArraySize(rows), 6);
  const char *order[6] = {"anti", "anti", "anti", "curriculum", "curriculum", "curriculum"};
  const size_t t[6] = {150, 300, 450, 150, 300, 450};
  kd_curriculum c = base(KD_DIFFICULTY_NOISE, 600, 0.5);
  c.step = (kd_step_rule){KD_STEP_DECAY, 0.5, 50};
  c.pacing = KD_PACING_LINEAR;
  c.budget = 450;
  c.checkpoints = 3;
  double lambda[50], beta[50], anti[3], cur[3];
  base_problem(50, lambda, beta);
  cr_assert_eq(kd_curriculum_risk(&c, KD_ORDER_ANTI, lambda, beta, 50, anti), KD_OK);
  cr_assert_eq(kd_curriculum_risk(&c, KD_ORDER_CURRICULUM, lambda, beta, 50, cur), KD_OK);
  for (int i = 0; i < 6; ++i) {
    const cJSON *r = cJSON_GetArrayItem(rows, i);
    cr_expect_str_eq(kd_test_str(r, "pipeline"), "curriculum");
    cr_expect_str_eq(kd_test_str(r, "order"), order[i]);
    cr_expect_eq(kd_test_num(r, "t"), (double)t[i]);
    cr_expect_str_eq(kd_test_str(r, "theory_kind"), "exact");
    const double want = i < 3 ? anti[i] : cur[i - 3];
    cr_expect(fabs(kd_test_num(r, "theory") - want) <= 1e-12 * want, "row %d: theory %.17g, %.17g",
              i, kd_test_num(r, "theory"), want);
    cr_expect(kd_test_item(r, "generation") == NULL, "no generation key in a curriculum row");
  }
  cJSON_Delete(rows);
  char *line = kd_test_line("run/c.csv", 1);
  cr_expect(strstr(line, ",t,order") != NULL, "the CSV's last columns: %s", line);
  free(line);
  line = kd_test_line("run/c.csv", 2);
  cr_expect(strstr(line, ",150,anti") != NULL, "%s", line);
  free(line);
  /* checkpoints are not a scaling law: the fit says so */
  kd_test_expect_refused(kd_test_run("fit run/c"), "nothing to fit");
  /* the same command again computes nothing and leaves the rows as they are */
  char *before = kd_test_stable_rows("run/c.jsonl");
  kd_test_run_ok(RUN " --order anti,curriculum --checkpoints 3 --step decay:0.5,50 --pacing linear "
                 "--budget 450");
  char *after = kd_test_stable_rows("run/c.jsonl");
  cr_expect_str_eq(after, before);
  free(before);
  free(after);
}

/* The scenario carries the settings only where the pipeline runs: another scenario's
 * text (hence its hash) does not change. */
Test(pipeline, settings_in_the_scenario_only_where_it_runs) {
  kd_test_run_ok("--print-scenario --sweep n --pipelines curriculum --step decay:2e-1,1e2");
  char *text = kd_test_text("stdout.txt");
  cr_expect(strstr(text, "[curriculum]\ndifficulty = noise\norder = curriculum,anti,random\n"
                         "pacing = none\nstep = decay:0.2,100\nbudget = all\ncheckpoints = 10\n"),
            "%s", text);
  free(text);
  kd_test_run_ok("--print-scenario --sweep n --step decay:2e-1,1e2");
  text = kd_test_text("stdout.txt");
  cr_expect(strstr(text, "[curriculum]") == NULL, "%s", text);
  free(text);
}

/* Bad settings: one line naming the culprit, exit status 2, nothing written. */
Test(pipeline, bad_settings_are_refused) {
  const struct { const char *flags, *culprit; } bad[] = {
      {"--step constant:0", "--step 'constant:0'"},
      {"--step constant:-0.5", "--step 'constant:-0.5'"},
      {"--step decay:0.5,0", "--step 'decay:0.5,0'"},
      {"--budget 601", "--budget 601"},
      {"--order curriculum,sideways", "'sideways'"},
      {"--order anti,anti", "--order: 'anti' given twice"},
      {"--pacing cubic", "--pacing: unknown pacing 'cubic'"},
      {"--difficulty length", "--difficulty: unknown difficulty 'length'"},
      {"--difficulty features --order random", "--order random"},
      {"--checkpoints 601", "--checkpoints 601"},
      {"--easy-fraction 1.5", "--easy-fraction"},
      {"--hard-sigma -1", "--hard-sigma"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    kd_test_expect_refused(kd_test_run(RUN " %s", bad[i].flags), bad[i].culprit);
    cr_expect(!kd_test_exists("run/c.csv") && !kd_test_exists("run/c.jsonl") &&
                  !kd_test_exists("run/c.meta.json"),
              "%s: a file was written", bad[i].flags);
  }
}

/* scripts/plot_curriculum.py on a run: its figure and its table (skipped without
 * Debian's matplotlib). */
Test(pipeline, figure_and_table) {
  if (system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    cr_skip_test("no matplotlib for /usr/bin/python3 (scripts/setup.sh installs python3-matplotlib)");
  kd_test_run_ok(RUN " --order curriculum,random --checkpoints 4");
  cr_assert_eq(kd_test_sh("/usr/bin/python3 " KDBENCH_SOURCE_DIR "/scripts/plot_curriculum.py "
                          "--table t.md f.png run/c.csv"), 0, "%s", kd_test_err);
  size_t len = 0;
  char *png = kd_test_read("f.png", &len);
  cr_expect(png && len > 10000, "a PNG of some substance");
  free(png);
  char *md = kd_test_text("t.md");
  cr_expect(strstr(md, "| c | curriculum | 300 |") && strstr(md, "| c | random | 300 |"),
            "a row per order, halfway and at the end: %s", md);
  free(md);
  cr_expect_eq(kd_test_sh("/usr/bin/python3 " KDBENCH_SOURCE_DIR "/scripts/plot_curriculum.py "
                          "g.png run/c.jsonl"), 2, "not a CSV of the pipeline");
  cr_expect(kd_test_one_line(kd_test_err) && strstr(kd_test_err, "run/c.jsonl"), "%s", kd_test_err);
  cr_expect(!kd_test_exists("g.png"), "nothing written");
}
