/* The CPU backend against exact finite-sample identities (docs/theory.md#finite-size) and
 * against the algebraic properties each solution must have: interpolation and
 * minimum norm, the ridge normal equations, ridge -> ridgeless, linearity in the
 * right-hand sides, the orthogonal-factorisation fallback (QR of Z, X^T or the
 * augmented system; dgelsy when its triangular factor is singular), input checks and
 * determinism; and the trial loop of a point run by a team of threads (point.c):
 * results independent of the number of threads, the weak-teacher cache, the stop
 * flag and the first error. Designs and labels are regenerated here from the same
 * streams with kd_rng_fill, so the tests also pin down exactly what a stage draws. */
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kdbench/backend.h"
#include "kdbench/point.h"
#include "stage_fixture.h"

#define SEED 0x6b6462656e6368ULL /* "kdbench" */

/* ---- fixtures ------------------------------------------------------------------- */

static kd_backend cpu;

/* Test hooks of host/sim/backend_cpu.c: fallback solves so far, by QR and by dgelsy; and
 * a switch that sends every trial through the fallback on to dgelsy. */
void kd_cpu_fallback_counts(const void *state, unsigned long *qr, unsigned long *gelsy);
void kd_cpu_force_gelsy(int on);
/* ... and the bytes a state holds: its buffers' capacities and itself. */
size_t kd_cpu_workspace_bytes(const void *state);

typedef struct {
  unsigned long qr, gelsy;
} fallback_counts;

static fallback_counts counts(void) {
  fallback_counts c;
  kd_cpu_fallback_counts(cpu.state, &c.qr, &c.gelsy);
  return c;
}

static void open_cpu(void) { cr_assert_eq(kd_backend_open("cpu", &cpu), KD_OK, "%s", kd_last_error()); }
static void close_cpu(void) { kd_backend_close(&cpu); }

TestSuite(identities, .init = open_cpu, .fini = close_cpu);
TestSuite(solution, .init = open_cpu, .fini = close_cpu);
TestSuite(fallback, .init = open_cpu, .fini = close_cpu);
TestSuite(inputs, .init = open_cpu, .fini = close_cpu);
TestSuite(determinism, .init = open_cpu, .fini = close_cpu);

/* A smooth ground truth and, as a second column, a surrogate that differs from it. */
static double *truth_and_surrogate(size_t p) {
  double *s = vec(2 * p);
  for (size_t j = 0; j < p; ++j) {
    s[j] = 1.0 / sqrt((double)(j + 1));
    s[p + j] = s[j] * (j % 2 ? 0.5 : 1.3) + 0.1;
  }
  return s;
}

/* What a stage test holds: the spectrum lambda_j = (j+1)^-alpha, the truth and a
 * surrogate (truth_and_surrogate), k fits, and the design and labels regenerated. */
typedef struct {
  double *lambda, *src, *beta, *x, *y;
} stage_buffers;

static stage_buffers buffers(size_t n, size_t p, size_t k, double alpha) {
  return (stage_buffers){.lambda = power_law(p, alpha), .src = truth_and_surrogate(p),
                         .beta = vec(p * k), .x = vec(n * p), .y = vec(n * k)};
}

static void free_buffers(stage_buffers *b) {
  free(b->lambda);
  free(b->src);
  free(b->beta);
  free(b->x);
  free(b->y);
}

static kd_stage stage(size_t n, size_t p, size_t k, const double *lambda, double ridge,
                      const double *sources, const double *sigma, const double *target,
                      uint32_t trial, double *risk, double *beta_hat) {
  kd_stage st = {.n = n, .p = p, .lambda = lambda, .ridge = ridge, .k = k,
                 .sources = sources, .sigma = sigma, .target = target,
                 .design = {.seed = SEED, .point = 7, .trial = trial,
                            .purpose = KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                 .noise = {.seed = SEED, .point = 7, .trial = trial,
                           .purpose = KD_STAGE_STUDENT | KD_PURPOSE_NOISE},
                 .risk = risk, .beta_hat = beta_hat};
  return st;
}

static void run(kd_stage *st) {
  cr_assert_eq(kd_stage_run(&cpu, st), KD_OK, "%s", kd_last_error());
}

/* X (n x p) and Y (n x k) as the stage must have drawn them, formed with plain loops
 * so that nothing is shared with the backend but the generator. */
static void regenerate(const kd_stage *st, double *x, double *y) {
  const size_t n = st->n, p = st->p;
  double *scale = vec(p), *z = vec(n);
  for (size_t j = 0; j < p; ++j) scale[j] = sqrt(st->lambda[j]);
  kd_rng_fill(st->design, n, 0, p, scale, x, n);
  kd_rng_fill(st->noise, n, 0, 1, NULL, z, n);
  for (size_t r = 0; r < st->k; ++r)
    for (size_t i = 0; i < n; ++i) {
      double sum = st->sigma[r] * z[i];
      for (size_t j = 0; j < p; ++j) sum += x[i + j * n] * st->sources[j + r * p];
      y[i + r * n] = sum;
    }
  free(scale);
  free(z);
}

static double norm2(const double *v, size_t len) {
  double s = 0;
  for (size_t i = 0; i < len; ++i) s += v[i] * v[i];
  return sqrt(s);
}

static double rel_diff(const double *a, const double *b, size_t len) {
  double d = 0;
  for (size_t i = 0; i < len; ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt(d) / norm2(b, len);
}

/* out = X b (n x p times p), or X^T v (p) when transposed. */
static void matvec(const double *x, size_t n, size_t p, int transposed, const double *v,
                   double *out) {
  memset(out, 0, (transposed ? p : n) * sizeof *out);
  for (size_t j = 0; j < p; ++j)
    for (size_t i = 0; i < n; ++i) {
      if (transposed) out[j] += x[i + j * n] * v[i];
      else out[i] += x[i + j * n] * v[j];
    }
}

/* ||X b - y|| / ||y|| for every column. */
static double worst_interpolation(const kd_stage *st, const double *x, const double *y) {
  double *fit = vec(st->n), worst = 0;
  for (size_t r = 0; r < st->k; ++r) {
    matvec(x, st->n, st->p, 0, st->beta_hat + r * st->p, fit);
    worst = fmax(worst, rel_diff(fit, y + r * st->n, st->n));
  }
  free(fit);
  return worst;
}

/* The minimum-norm least-squares solutions by SVD (dgelsd), p x k. */
static double *svd_solution(const double *x, const double *y, size_t n, size_t p, size_t k) {
  size_t ldb = n > p ? n : p;
  double *a = vec(n * p), *b = vec(ldb * k), *s = vec(n < p ? n : p), *out = vec(p * k);
  memcpy(a, x, n * p * sizeof *a);
  for (size_t r = 0; r < k; ++r) memcpy(b + r * ldb, y + r * n, n * sizeof *b);
  lapack_int rank;
  cr_assert_eq(LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)p, (lapack_int)k,
                              a, (lapack_int)n, b, (lapack_int)ldb, s, -1.0, &rank), 0);
  for (size_t r = 0; r < k; ++r) memcpy(out + r * p, b + r * ldb, p * sizeof *out);
  free(a);
  free(b);
  free(s);
  return out;
}

/* The stage's fit of trial t interpolates its regenerated data (X, Y into x, y) and
 * lies within tol of the SVD's minimum-norm solution. */
static void expect_min_norm_interpolant(const kd_stage *st, double *x, double *y, uint32_t t,
                                        double tol) {
  regenerate(st, x, y);
  double res = worst_interpolation(st, x, y);
  cr_expect_lt(res, 1e-8, "trial %u: ||X b - y|| / ||y|| = %g", t, res);
  double *ref = svd_solution(x, y, st->n, st->p, st->k);
  double dist = rel_diff(st->beta_hat, ref, st->p * st->k);
  cr_expect_lt(dist, tol, "trial %u: distance to the SVD min-norm solution %g", t, dist);
  free(ref);
}

typedef struct {
  double mean, se;
} estimate;

/* Mean and standard error of column r of a trials x k table. */
static estimate summarise(const double *risks, size_t trials, size_t k, size_t r) {
  double sum = 0, sq = 0;
  for (size_t t = 0; t < trials; ++t) sum += risks[t * k + r];
  double mean = sum / (double)trials;
  for (size_t t = 0; t < trials; ++t) sq += pow(risks[t * k + r] - mean, 2);
  return (estimate){mean, sqrt(sq / (double)(trials - 1) / (double)trials)};
}

static void expect_within_4se(estimate e, double want, const char *what) {
  cr_expect_lt(fabs(e.mean - want), 4 * e.se, "%s: mean %g +- %g, exact %g", what, e.mean,
               e.se, want);
}

/* trials x k risks of a ridgeless stage on the ground truth and on a surrogate. */
static double *simulate(size_t n, size_t p, const double *lambda, const double *sources,
                        double sigma, size_t trials) {
  double sig[2] = {sigma, sigma}, *risks = vec(trials * 2);
  for (size_t t = 0; t < trials; ++t) {
    kd_stage st = stage(n, p, 2, lambda, 0, sources, sig, sources, (uint32_t)t,
                        risks + 2 * t, NULL);
    run(&st);
  }
  return risks;
}

/* ---- exact finite-sample identities (docs/theory.md#finite-size) ----------------- */

/* OLS, n > p + 1, any Sigma: excess risk = ||b_src - b*||^2_Sigma + sigma^2 p/(n-p-1). */
Test(identities, ols_power_law_spectrum) {
  const size_t n = 60, p = 20, trials = 2000;
  const double sigma = 0.5;
  double *lambda = power_law(p, 2), *src = truth_and_surrogate(p);
  double *risks = simulate(n, p, lambda, src, sigma, trials);
  double variance = sigma * sigma * (double)p / (double)(n - p - 1), shift = 0;
  for (size_t j = 0; j < p; ++j) shift += lambda[j] * pow(src[p + j] - src[j], 2);
  expect_within_4se(summarise(risks, trials, 2, 0), variance, "OLS on the ground truth");
  expect_within_4se(summarise(risks, trials, 2, 1), shift + variance, "OLS on a surrogate");
  free(lambda);
  free(src);
  free(risks);
}

/* Min-norm, Sigma = I, p > n + 1: (n/p)||bs||^2 - 2(n/p)<bs,b> + ||b||^2 + sigma^2 n/(p-n-1). */
Test(identities, min_norm_isotropic) {
  const size_t n = 20, p = 60, trials = 2000;
  const double sigma = 0.5, ratio = (double)n / (double)p;
  double *lambda = power_law(p, 0), *src = truth_and_surrogate(p);
  double *risks = simulate(n, p, lambda, src, sigma, trials);
  const double *b = src, *bs = src + p;
  double bb = 0, ss = 0, sb = 0;
  for (size_t j = 0; j < p; ++j) {
    bb += b[j] * b[j];
    ss += bs[j] * bs[j];
    sb += bs[j] * b[j];
  }
  double variance = sigma * sigma * (double)n / (double)(p - n - 1);
  expect_within_4se(summarise(risks, trials, 2, 0), bb * (1 - ratio) + variance,
                    "min-norm on the ground truth");
  expect_within_4se(summarise(risks, trials, 2, 1),
                    ratio * ss - 2 * ratio * sb + bb + variance, "min-norm on a surrogate");
  free(lambda);
  free(src);
  free(risks);
}

/* ---- properties of the solutions ---------------------------------------------------- */

/* p > n: X beta_hat = y, and beta_hat is the minimum-norm one (equals dgelsd's). */
Test(solution, min_norm_interpolates) {
  const size_t n = 30, p = 90, k = 2;
  stage_buffers b = buffers(n, p, k, 1);
  double sigma[2] = {0.5, 0.2}, risk[2];
  for (uint32_t t = 0; t < 3; ++t) {
    kd_stage st = stage(n, p, k, b.lambda, 0, b.src, sigma, b.src, t, risk, b.beta);
    run(&st);
    cr_expect_eq(st.fallback, 0, "a well-conditioned shape took the fallback");
    expect_min_norm_interpolant(&st, b.x, b.y, t, 1e-8);
  }
  free_buffers(&b);
}

/* ||(X^T X + n ridge I) b - X^T y|| / ||X^T y|| for RHS 0. */
static double normal_equations_residual(const kd_stage *st, const double *x, const double *y) {
  const size_t n = st->n, p = st->p;
  double *xb = vec(n), *lhs = vec(p), *rhs = vec(p);
  matvec(x, n, p, 0, st->beta_hat, xb);
  matvec(x, n, p, 1, xb, lhs);
  for (size_t j = 0; j < p; ++j) lhs[j] += (double)n * st->ridge * st->beta_hat[j];
  matvec(x, n, p, 1, y, rhs);
  double res = rel_diff(lhs, rhs, p);
  free(xb);
  free(lhs);
  free(rhs);
  return res;
}

/* Ridge (both forms) and whitened OLS solve their normal equations. */
Test(solution, normal_equations) {
  const struct { size_t n, p; double ridge; } cases[] = {
      {30, 90, 0.05}, {90, 30, 0.05}, {90, 30, 0}, {40, 40, 0.01}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    const size_t n = cases[c].n, p = cases[c].p;
    double *lambda = power_law(p, 1), *src = truth_and_surrogate(p), sigma = 0.3, risk;
    double *beta = vec(p), *x = vec(n * p), *y = vec(n);
    kd_stage st = stage(n, p, 1, lambda, cases[c].ridge, src, &sigma, src, 11, &risk, beta);
    run(&st);
    regenerate(&st, x, y);
    double res = normal_equations_residual(&st, x, y);
    cr_expect_lt(res, 1e-10, "n=%zu p=%zu ridge=%g: residual %g", n, p, cases[c].ridge, res);
    free(lambda);
    free(src);
    free(beta);
    free(x);
    free(y);
  }
}

/* beta_hat(ridge = 1e-10) -> beta_hat(0), for p > n and n > p. */
Test(solution, ridge_tends_to_ridgeless) {
  const size_t shapes[][2] = {{30, 90}, {90, 30}};
  for (size_t c = 0; c < 2; ++c) {
    const size_t n = shapes[c][0], p = shapes[c][1];
    double *lambda = power_law(p, 1), *src = truth_and_surrogate(p), sigma[2] = {0.5, 0.5};
    double risk[2], *b0 = vec(2 * p), *b1 = vec(2 * p);
    kd_stage st0 = stage(n, p, 2, lambda, 0, src, sigma, src, 3, risk, b0);
    kd_stage st1 = stage(n, p, 2, lambda, 1e-10, src, sigma, src, 3, risk, b1);
    run(&st0);
    run(&st1);
    double d = rel_diff(b1, b0, 2 * p);
    cr_expect_lt(d, 1e-6, "n=%zu p=%zu: ridge 1e-10 vs 0 differ by %g", n, p, d);
    free(lambda);
    free(src);
    free(b0);
    free(b1);
  }
}

/* Solving [s1, s2, s3] at once gives the risks of three single-RHS stages. */
Test(solution, multiple_rhs_equal_single_runs) {
  const struct { size_t n, p; double ridge; } cases[] = {
      {30, 90, 0}, {90, 30, 0}, {90, 30, 0.02}, {30, 90, 0.02}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    const size_t n = cases[c].n, p = cases[c].p, k = 3;
    double *lambda = power_law(p, 1.5), *src = vec(p * k), sigma[3] = {0.5, 0, 1.0};
    double *pair = truth_and_surrogate(p);
    memcpy(src, pair, 2 * p * sizeof *src);
    for (size_t j = 0; j < p; ++j) src[2 * p + j] = 0; /* pure noise */
    double all[3], one;
    kd_stage st = stage(n, p, k, lambda, cases[c].ridge, src, sigma, pair, 5, all, NULL);
    run(&st);
    for (size_t r = 0; r < k; ++r) {
      kd_stage s1 = stage(n, p, 1, lambda, cases[c].ridge, src + r * p, sigma + r, pair, 5,
                          &one, NULL);
      run(&s1);
      cr_expect_lt(fabs(all[r] - one), 1e-12 * fabs(one), "case %zu RHS %zu: %.17g vs %.17g",
                   c, r, all[r], one);
    }
    free(lambda);
    free(src);
    free(pair);
  }
}

/* ---- labels mixed by rows (kd_row_mix) ------------------------------------------ */

/* X and the right-hand sides of a mixed stage by hand: every label column drawn as an
 * unmixed stage of those columns would draw it (regenerate), then the rows of each
 * right-hand side copied from the column its block names. */
static void regenerate_mixed(const kd_stage *st, double *x, double *y) {
  kd_stage pure = *st;
  pure.k = st->columns, pure.mix = NULL;
  double *cols = vec(st->n * st->columns);
  regenerate(&pure, x, cols);
  for (size_t r = 0; r < st->k; ++r)
    for (size_t b = 0, row = 0; b < st->mix[r].blocks; row += st->mix[r].rows[b++])
      for (size_t i = row; i < row + st->mix[r].rows[b]; ++i)
        y[i + r * st->n] = cols[i + st->mix[r].column[b] * st->n];
  free(cols);
}

/* The ridge (ridgeless: minimum-norm) solutions of X beta = Y by SVD: ridge as the
 * least-squares solution of [X; sqrt(n ridge) I] beta = [Y; 0]. */
static double *ridge_solution(const double *x, const double *y, size_t n, size_t p, size_t k,
                              double ridge) {
  if (ridge == 0) return svd_solution(x, y, n, p, k);
  const size_t rows = n + p;
  double *a = vec(rows * p), *b = vec(rows * k);
  for (size_t j = 0; j < p; ++j) {
    memcpy(a + j * rows, x + j * n, n * sizeof *a);
    a[n + j + j * rows] = sqrt((double)n * ridge);
  }
  for (size_t r = 0; r < k; ++r) memcpy(b + r * rows, y + r * n, n * sizeof *b);
  double *out = svd_solution(a, b, rows, p, k);
  free(a);
  free(b);
  return out;
}

/* Two label columns (the truth with sigma 0.5, a surrogate with 0.2) and three mixed
 * right-hand sides: a third of the rows from the surrogate then the truth, three blocks
 * alternating, and one with a block of no rows. */
static const double mix_sigma[2] = {0.5, 0.2};
static void three_mixes(size_t n, kd_row_mix mix[3]) {
  mix[0] = (kd_row_mix){.blocks = 2, .rows = {n / 3, n - n / 3}, .column = {1, 0}};
  mix[1] = (kd_row_mix){.blocks = 3, .rows = {10, 5, n - 15}, .column = {0, 1, 0}};
  mix[2] = (kd_row_mix){.blocks = 3, .rows = {7, 0, n - 7}, .column = {1, 0, 0}};
}

static const struct { size_t n, p; double ridge; } mix_shapes[] = {
    {30, 90, 0}, {90, 30, 0}, {90, 30, 0.02}, {30, 90, 0.02}};

/* Every form (kernel, whitened, primal ridge, kernel ridge), the Cholesky path and the
 * forced dgelsy fallback (which draws the labels again): the fits of the hand-made
 * labels to 1e-12, the risks their metric distances. */
Test(solution, mixed_rows_equal_a_hand_computation) {
  for (int gelsy = 0; gelsy <= 1; ++gelsy)
    for (size_t c = 0; c < sizeof mix_shapes / sizeof mix_shapes[0]; ++c) {
      const size_t n = mix_shapes[c].n, p = mix_shapes[c].p, k = 3;
      double *lambda = power_law(p, 0.5), *pair = truth_and_surrogate(p);
      double *x = vec(n * p), *y = vec(n * k), *hat = vec(p * k), risk[3];
      kd_row_mix mix[3];
      three_mixes(n, mix);
      kd_stage st = stage(n, p, k, lambda, mix_shapes[c].ridge, pair, mix_sigma, pair, 3, risk,
                          hat);
      st.mix = mix, st.columns = 2;
      kd_cpu_force_gelsy(gelsy);
      run(&st);
      kd_cpu_force_gelsy(0);
      cr_expect_eq(st.fallback, gelsy, "case %zu", c);
      regenerate_mixed(&st, x, y);
      double *want = ridge_solution(x, y, n, p, k, mix_shapes[c].ridge);
      for (size_t r = 0; r < k; ++r) {
        cr_expect_lt(rel_diff(hat + r * p, want + r * p, p), 1e-12, "case %zu gelsy %d RHS %zu",
                     c, gelsy, r);
        double d = 0;
        for (size_t j = 0; j < p; ++j) {
          const double e = hat[j + r * p] - pair[j];
          d += lambda[j] * e * e;
        }
        cr_expect_eq(risk[r], d, "case %zu RHS %zu: risk %.17g, distance %.17g", c, r, risk[r], d);
      }
      free(want);
      free(lambda);
      free(pair);
      free(x);
      free(y);
      free(hat);
    }
}

/* A mix whose rows all come from one column (fraction 1, and so 0 for the other) is the
 * unmixed stage of that column, risk and fit bit for bit, in every form. */
Test(solution, mixed_rows_of_one_column_are_the_pure_stage) {
  for (size_t c = 0; c < sizeof mix_shapes / sizeof mix_shapes[0]; ++c) {
    const size_t n = mix_shapes[c].n, p = mix_shapes[c].p;
    double *lambda = power_law(p, 1.5), *pair = truth_and_surrogate(p);
    double *hat = vec(p), *pure_hat = vec(p), risk, pure_risk;
    for (size_t from = 0; from < 2; ++from) {
      kd_row_mix mix = {.blocks = 2, .rows = {from == 0 ? n : 0, from == 0 ? 0 : n},
                        .column = {0, 1}};
      kd_stage st = stage(n, p, 1, lambda, mix_shapes[c].ridge, pair, mix_sigma, pair, 4, &risk,
                          hat);
      st.mix = &mix, st.columns = 2;
      run(&st);
      kd_stage pure = stage(n, p, 1, lambda, mix_shapes[c].ridge, pair + from * p,
                            mix_sigma + from, pair, 4, &pure_risk, pure_hat);
      run(&pure);
      cr_expect_eq(memcmp(&risk, &pure_risk, sizeof risk), 0, "case %zu column %zu: %.17g vs %.17g",
                   c, from, risk, pure_risk);
      cr_expect_eq(memcmp(hat, pure_hat, p * sizeof *hat), 0, "case %zu column %zu", c, from);
    }
    free(lambda);
    free(pair);
    free(hat);
    free(pure_hat);
  }
}

/* risk_r = sum_j metric_j (beta_hat_jr - target_j)^2, metric defaulting to lambda;
 * leaving beta_hat NULL changes nothing. */
Test(solution, risk_is_the_metric_distance) {
  const size_t n = 40, p = 25;
  double *lambda = power_law(p, 1), *src = truth_and_surrogate(p), *ones = vec(p);
  for (size_t j = 0; j < p; ++j) ones[j] = 1;
  double sigma[2] = {0.4, 0.4}, risk[2], bare[2], *beta = vec(2 * p);
  for (int use_ones = 0; use_ones < 2; ++use_ones) {
    const double *metric = use_ones ? ones : lambda;
    kd_stage st = stage(n, p, 2, lambda, 0.01, src, sigma, src + p, 9, risk, beta);
    st.metric = use_ones ? ones : NULL;
    run(&st);
    kd_stage nb = stage(n, p, 2, lambda, 0.01, src, sigma, src + p, 9, bare, NULL);
    nb.metric = st.metric;
    run(&nb);
    for (size_t r = 0; r < 2; ++r) {
      double want = 0;
      for (size_t j = 0; j < p; ++j) want += metric[j] * pow(beta[r * p + j] - src[p + j], 2);
      cr_expect_lt(fabs(risk[r] - want), 1e-13 * want, "metric %d RHS %zu", use_ones, r);
      cr_expect_eq(bare[r], risk[r], "beta_hat = NULL changed the risk");
    }
  }
  free(lambda);
  free(src);
  free(ones);
  free(beta);
}

/* ---- the orthogonal-factorisation fallback ------------------------------------------ */

/* p > n ridgeless on a steep spectrum (lambda_j = j^-6): the kernel Gram's rcond is far
 * below 1e-10, so the trial goes to the QR of X^T (kappa(X) ~ 1e6 is no problem there)
 * and must still interpolate, with the minimum norm. */
Test(fallback, steep_spectrum_min_norm) {
  const size_t n = 50, p = 100, k = 2;
  stage_buffers b = buffers(n, p, k, 6);
  double sigma[2] = {0.5, 0.1}, risk[2];
  for (uint32_t t = 0; t < 3; ++t) {
    kd_stage st = stage(n, p, k, b.lambda, 0, b.src, sigma, b.src, t, risk, b.beta);
    fallback_counts before = counts();
    run(&st);
    cr_expect_eq(st.fallback, 1, "trial %u did not take the fallback", t);
    cr_expect_eq(counts().qr, before.qr + 1, "trial %u: not solved by the QR of X^T", t);
    cr_expect_eq(counts().gelsy, before.gelsy, "trial %u: went on to dgelsy", t);
    cr_expect(isfinite(risk[0]) && isfinite(risk[1]));
    expect_min_norm_interpolant(&st, b.x, b.y, t, 1e-6);
  }
  free_buffers(&b);
}

/* The ridge solution by the SVD of X: b = V diag(s / (s^2 + n ridge)) U^T y. */
static double *svd_ridge(const double *x, const double *y, size_t n, size_t p, double ridge) {
  const size_t m = n < p ? n : p;
  double *a = vec(n * p), *s = vec(m), *u = vec(n * m), *vt = vec(m * p), *b = vec(p);
  memcpy(a, x, n * p * sizeof *a);
  cr_assert_eq(LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)n, (lapack_int)p, a,
                              (lapack_int)n, s, u, (lapack_int)n, vt, (lapack_int)m), 0);
  for (size_t i = 0; i < m; ++i) {
    double uty = 0;
    for (size_t r = 0; r < n; ++r) uty += u[r + i * n] * y[r];
    double f = s[i] / (s[i] * s[i] + (double)n * ridge) * uty;
    for (size_t j = 0; j < p; ++j) b[j] += vt[i + j * m] * f;
  }
  free(a);
  free(s);
  free(u);
  free(vt);
  return b;
}

/* A ridge small enough that rcond(G + n ridge I) < 1e-10 on a steep spectrum
 * (lambda_j = j^-6, lambda_60 = 2e-11), yet large enough to matter for the trailing
 * coefficients: the augmented least squares [X; sqrt(n ridge) I] b = [y; 0] is
 * solved instead, and must match the SVD's filter-factor formula. */
Test(fallback, tiny_ridge_augmented_system) {
  const size_t n = 120, p = 60;
  const double ridge = 1e-11;
  stage_buffers b = buffers(n, p, 1, 6);
  double sigma = 0.5, risk;
  kd_stage st = stage(n, p, 1, b.lambda, ridge, b.src, &sigma, b.src, 2, &risk, b.beta);
  fallback_counts before = counts();
  run(&st);
  cr_expect_eq(st.fallback, 1, "the tiny ridge did not take the fallback");
  cr_expect_eq(counts().qr, before.qr + 1, "not solved by the QR of the augmented system");
  cr_expect(isfinite(risk));
  regenerate(&st, b.x, b.y);
  double *ref = svd_ridge(b.x, b.y, n, p, ridge), *ols = svd_ridge(b.x, b.y, n, p, 0);
  double dist = rel_diff(b.beta, ref, p);
  cr_expect_lt(dist, 1e-8, "distance to the SVD ridge solution %g", dist);
  cr_expect_gt(rel_diff(ols, ref, p), 1e-4, "the ridge does not matter: a vacuous test");
  free(ref);
  free(ols);
  free_buffers(&b);
}

/* n = p ridgeless runs whitened, on Z, whose conditioning no spectrum can spoil; a
 * nearly singular Gaussian Z is rare (about 1 trial in 1000 at n = p = 50 has
 * rcond(Z^T Z) < 1e-10), so scan trials for one. Its fallback solves on Z as well,
 * and must still return the (unique) interpolator in beta coordinates. */
Test(fallback, whitened_square_design) {
  const size_t n = 50, p = 50;
  stage_buffers b = buffers(n, p, 1, 2);
  double sigma = 0.5, risk;
  kd_stage st;
  uint32_t t = 0;
  do {
    st = stage(n, p, 1, b.lambda, 0, b.src, &sigma, b.src, t++, &risk, b.beta);
    run(&st);
  } while (!st.fallback && t < 20000);
  cr_assert_eq(st.fallback, 1, "no trial among %u took the fallback", t);
  cr_expect_gt(counts().qr, 0, "the fallback was not solved by the QR of Z");
  cr_expect_eq(counts().gelsy, 0, "the fallback went on to dgelsy");
  expect_min_norm_interpolant(&st, b.x, b.y, t - 1, 1e-6); /* n = p: the unique solution */
  cr_expect(isfinite(risk));
  free_buffers(&b);
}

/* At the interpolation threshold the expected risk is infinite, but each trial must
 * still give a finite, non-negative risk (whitened n = p, n = p + 1; kernel n = p - 1). */
Test(fallback, threshold_shapes_stay_finite) {
  const size_t p = 100;
  double *lambda = power_law(p, 2), *src = truth_and_surrogate(p), sigma[2] = {0.5, 0.5};
  for (size_t n = p - 1; n <= p + 1; ++n)
    for (uint32_t t = 0; t < 20; ++t) {
      double risk[2];
      kd_stage st = stage(n, p, 2, lambda, 0, src, sigma, src, t, risk, NULL);
      run(&st);
      for (int r = 0; r < 2; ++r)
        cr_expect(isfinite(risk[r]) && risk[r] >= 0, "n=%zu trial %u: risk %g", n, t, risk[r]);
    }
  free(lambda);
  free(src);
}

/* The same for p > n (kernel form): G = X X^T + n ridge I is hopeless at ridge 1e-13
 * on lambda_j = j^-6; the (p + n) x n system [X^T; c I_n] is solved by QR instead. */
Test(fallback, tiny_ridge_kernel_form) {
  const size_t n = 60, p = 120;
  const double ridge = 1e-13;
  stage_buffers b = buffers(n, p, 1, 6);
  double sigma = 0.5, risk;
  kd_stage st = stage(n, p, 1, b.lambda, ridge, b.src, &sigma, b.src, 4, &risk, b.beta);
  fallback_counts before = counts();
  run(&st);
  cr_expect_eq(st.fallback, 1, "the tiny ridge did not take the fallback");
  cr_expect_eq(counts().qr, before.qr + 1, "not solved by the QR of the augmented system");
  cr_expect_eq(counts().gelsy, before.gelsy, "went on to dgelsy");
  regenerate(&st, b.x, b.y);
  double *ref = svd_ridge(b.x, b.y, n, p, ridge);
  double dist = rel_diff(b.beta, ref, p);
  cr_expect_lt(dist, 1e-8, "distance to the SVD ridge solution %g", dist);
  free(ref);
  free_buffers(&b);
}

/* dgelsy after a QR: Gaussian designs never make the triangular factor singular, so
 * the switch forces the way there in every form (whitened n >= p, where the QR
 * overwrote Z and the design is drawn again; kernel p > n, where the QR worked on
 * X^T drawn into X's buffer, drawn again too; ridge, on the augmented system). The full-rank answer is unique: it
 * must match the SVD's and the Cholesky path's. */
Test(fallback, dgelsy_after_qr_every_form) {
  const struct { size_t n, p; double ridge; } cases[] = {
      {90, 30, 0}, {40, 40, 0}, {30, 90, 0}, {90, 30, 0.05}, {30, 90, 0.05}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    const size_t n = cases[c].n, p = cases[c].p, k = 2;
    const double ridge = cases[c].ridge;
    double *lambda = power_law(p, 1), *src = truth_and_surrogate(p), sigma[2] = {0.5, 0.2};
    double risk[2], plain_risk[2], *beta = vec(p * k), *plain = vec(p * k);
    double *x = vec(n * p), *y = vec(n * k);
    kd_stage st = stage(n, p, k, lambda, ridge, src, sigma, src, 6, plain_risk, plain);
    run(&st);
    cr_expect_eq(st.fallback, 0);
    fallback_counts before = counts();
    kd_cpu_force_gelsy(1);
    st = stage(n, p, k, lambda, ridge, src, sigma, src, 6, risk, beta);
    run(&st);
    kd_cpu_force_gelsy(0);
    cr_expect_eq(st.fallback, 1, "case %zu: no fallback", c);
    cr_expect_eq(counts().gelsy, before.gelsy + 1, "case %zu: dgelsy was not called", c);
    regenerate(&st, x, y);
    double *ref = vec(p * k);
    for (size_t r = 0; r < k; ++r) {
      double *one = ridge > 0 ? svd_ridge(x, y + r * n, n, p, ridge)
                              : svd_solution(x, y + r * n, n, p, 1);
      memcpy(ref + r * p, one, p * sizeof *ref);
      free(one);
    }
    double dist = rel_diff(beta, ref, p * k), chol = rel_diff(beta, plain, p * k);
    cr_expect_lt(dist, 1e-8, "case %zu: distance to the SVD solution %g", c, dist);
    cr_expect_lt(chol, 1e-8, "case %zu: distance to the Cholesky solution %g", c, chol);
    for (size_t r = 0; r < k; ++r)
      cr_expect_lt(fabs(risk[r] - plain_risk[r]), 1e-8 * plain_risk[r], "case %zu risk %zu", c, r);
    free(ref);
    free(lambda);
    free(src);
    free(beta);
    free(plain);
    free(x);
    free(y);
  }
}

/* The minimum-norm solution among the directions whose singular value is above
 * rcond * s_max (an SVD, for reference): p x k. */
static double *svd_truncated(const double *x, const double *y, size_t n, size_t p, size_t k,
                             double rcond) {
  size_t ldb = n > p ? n : p;
  double *a = vec(n * p), *b = vec(ldb * k), *s = vec(n < p ? n : p), *out = vec(p * k);
  memcpy(a, x, n * p * sizeof *a);
  for (size_t r = 0; r < k; ++r) memcpy(b + r * ldb, y + r * n, n * sizeof *b);
  lapack_int rank;
  cr_assert_eq(LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)p, (lapack_int)k,
                              a, (lapack_int)n, b, (lapack_int)ldb, s, rcond, &rank), 0);
  for (size_t r = 0; r < k; ++r) memcpy(out + r * p, b + r * ldb, p * sizeof *out);
  free(a);
  free(b);
  free(s);
  return out;
}

/* A design that is numerically rank-deficient: 20 features at lambda = 1, the other
 * 80 at 1e-40 (p > n = 50, ridgeless). The triangular factor of the QR of X^T is
 * numerically singular, so the trial goes on to dgelsy on X (the QR worked on a
 * copy), whose rank decision keeps the 20 strong directions only: the SVD's
 * truncated solution. */
Test(fallback, rank_deficient_design_takes_dgelsy) {
  const size_t n = 50, p = 100, k = 2;
  stage_buffers b = buffers(n, p, k, 0);
  for (size_t j = 0; j < p; ++j) b.lambda[j] = j < 20 ? 1.0 : 1e-40;
  double sigma[2] = {0.5, 0.1}, risk[2];
  for (uint32_t t = 0; t < 2; ++t) {
    kd_stage st = stage(n, p, k, b.lambda, 0, b.src, sigma, b.src, t, risk, b.beta);
    fallback_counts before = counts();
    run(&st);
    cr_expect_eq(st.fallback, 1, "trial %u did not take the fallback", t);
    cr_expect_eq(counts().gelsy, before.gelsy + 1, "trial %u: dgelsy was not called", t);
    cr_expect_eq(counts().qr, before.qr, "trial %u: the singular QR was used", t);
    cr_expect(isfinite(risk[0]) && isfinite(risk[1]));
    regenerate(&st, b.x, b.y);
    double *ref = svd_truncated(b.x, b.y, n, p, k, 1e-13);
    double dist = rel_diff(b.beta, ref, p * k);
    cr_expect_lt(dist, 1e-8, "trial %u: distance to the truncated SVD solution %g", t, dist);
    free(ref);
  }
  free_buffers(&b);
}

/* ---- inputs ------------------------------------------------------------------------ */

static void expect_rejected(kd_stage st, const char *culprit) {
  cr_expect_eq(kd_stage_run(&cpu, &st), KD_EINVAL, "a bad %s was accepted", culprit);
  cr_expect_not_null(strstr(kd_last_error(), culprit), "message '%s' does not name %s",
                     kd_last_error(), culprit);
}

Test(inputs, bad_stages_are_rejected) {
  const size_t p = 4;
  double lambda[4] = {1, 0.5, 0.25, 0.125}, src[4] = {1, 1, 1, 1}, sigma = 0.1, risk;
  const kd_stage good = stage(8, p, 1, lambda, 0, src, &sigma, src, 0, &risk, NULL);
  kd_stage st = good;
  run(&st);
  st = good, st.n = 0, expect_rejected(st, "n = 0");
  st = good, st.p = 0, expect_rejected(st, "p = 0");
  st = good, st.k = 0, expect_rejected(st, "k = 0");
  st = good, st.ridge = -1, expect_rejected(st, "ridge");
  st = good, st.ridge = NAN, expect_rejected(st, "ridge");
  st = good, st.lambda = NULL, expect_rejected(st, "lambda");
  st = good, st.sources = NULL, expect_rejected(st, "sources");
  st = good, st.sigma = NULL, expect_rejected(st, "sigma");
  st = good, st.target = NULL, expect_rejected(st, "target");
  st = good, st.risk = NULL, expect_rejected(st, "risk");
  double bad_lambda[4] = {1, 0.5, 0, 0.1};
  st = good, st.lambda = bad_lambda, expect_rejected(st, "lambda[2]");
  double bad_sigma = -0.1;
  st = good, st.sigma = &bad_sigma, expect_rejected(st, "sigma[0]");
  double bad_src[4] = {1, 1, 1, NAN};
  st = good, st.sources = bad_src, expect_rejected(st, "sources[3]");
  st = good, st.target = bad_src, expect_rejected(st, "target[3]");
  double bad_metric[4] = {1, -1, 1, 1};
  st = good, st.metric = bad_metric, expect_rejected(st, "metric[1]");
  double two_src[8] = {1, 1, 1, 1, 0, 1, 0, 1}, two_sigma[2] = {0.1, 0};
  kd_row_mix mix = {.blocks = 2, .rows = {3, 5}, .column = {1, 0}};
  const kd_stage mixed = {.n = 8, .p = p, .lambda = lambda, .k = 1, .sources = two_src,
                          .sigma = two_sigma, .mix = &mix, .columns = 2, .target = src,
                          .risk = &risk};
  st = mixed;
  run(&st);
  st = mixed, st.columns = 0, expect_rejected(st, "0 label columns");
  st = mixed, st.columns = 1, expect_rejected(st, "block 0 reads label column 1 of 1");
  mix.blocks = 0, st = mixed, expect_rejected(st, "mix 0 has 0 blocks");
  mix.blocks = KD_MIX_BLOCKS + 1, st = mixed, expect_rejected(st, "mix 0 has 9 blocks");
  mix.blocks = 2, mix.rows[1] = 4, st = mixed, expect_rejected(st, "mix 0 labels 7 rows, expected n = 8");
  mix.rows[1] = 6, st = mixed, expect_rejected(st, "mix 0 labels over 8 rows");
  mix.rows[1] = SIZE_MAX, st = mixed, expect_rejected(st, "mix 0 labels over 8 rows");
  mix.rows[1] = 5, two_sigma[1] = -1, st = mixed, expect_rejected(st, "sigma[1]");
  two_sigma[1] = 0, two_src[7] = NAN, st = mixed, expect_rejected(st, "sources[7]");
  cr_expect_eq(kd_stage_run(&cpu, NULL), KD_EINVAL);
}

Test(inputs, backend_names) {
  kd_backend b;
  cr_expect_eq(kd_backend_open("xyz", &b), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), "'xyz'"), "%s", kd_last_error());
  cr_expect_eq(kd_backend_open(NULL, &b), KD_EINVAL);
#ifndef KDBENCH_HAVE_CUDA
  cr_expect_eq(kd_backend_open("cuda", &b), KD_ENODEV);
  cr_expect_not_null(strstr(kd_last_error(), "not built in"), "%s", kd_last_error());
  cr_assert_eq(kd_backend_open("auto", &b), KD_OK, "%s", kd_last_error());
  cr_expect_eq(b.type, &kd_backend_cpu);
  kd_backend_close(&b);
#endif
  char line[512];
  cpu.type->describe(cpu.state, line, sizeof line);
  cr_expect(strncmp(line, "cpu: OpenBLAS", 13) == 0 && strstr(line, "threads"), "%s", line);
  cr_expect_eq(cpu.type->probe(), KD_OK);
}

/* The memory check's model of a state is exact: a state that has run stages of two
 * shapes, every buffer needed (the switch sends each stage on to dgelsy), holds
 * exactly the bytes the model says, in all four forms; on the Cholesky path alone it
 * holds less, and at least the design and the Gram. At p >> n the ridgeless fallback
 * takes no second n x p buffer (X^T goes into X's), the ridge one a (p + n) x n
 * system, not (n + p) x p; a shape beyond LAPACK's int range is SIZE_MAX. */
Test(inputs, workspace_model_is_the_state) {
  const struct { size_t n, p; double ridge; } cases[][2] = {
      {{90, 30, 0}, {60, 50, 0}}, {{30, 90, 0}, {50, 70, 0}},
      {{90, 30, 0.05}, {40, 60, 0.05}}, {{30, 90, 0.05}, {90, 30, 0}}};
  const size_t k = 2, d = sizeof(double);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c)
    for (int forced = 0; forced <= 1; ++forced) {
      kd_backend be;
      cr_assert_eq(kd_backend_open("cpu", &be), KD_OK, "%s", kd_last_error());
      kd_workspace w = {0}, main_path = {0};
      kd_cpu_force_gelsy(forced);
      for (int s = 0; s < 2; ++s) {
        const size_t n = cases[c][s].n, p = cases[c][s].p;
        double *lambda = power_law(p, 1), *src = truth_and_surrogate(p), sigma[2] = {0.5, 0.2};
        double risk[2];
        kd_stage st = stage(n, p, k, lambda, cases[c][s].ridge, src, sigma, src, 1, risk, NULL);
        cr_assert_eq(kd_stage_run(&be, &st), KD_OK, "%s", kd_last_error());
        cr_expect_eq(st.fallback, forced);
        be.type->workspace(&w, n, p, k, cases[c][s].ridge);
        size_t m = n < p ? n : p, bytes[2] = {d * n * p, d * m * m};
        kd_workspace_grow(main_path.host, bytes, 2);
        free(lambda);
        free(src);
      }
      kd_cpu_force_gelsy(0);
      size_t held = kd_cpu_workspace_bytes(be.state), model = kd_workspace_total(w.host);
      if (forced) cr_expect_eq(held, model, "case %zu: the state holds %zu bytes, the model %zu", c, held, model);
      else cr_expect(held < model && held >= kd_workspace_total(main_path.host),
                     "case %zu: Cholesky path only: %zu bytes held, model %zu", c, held, model);
      cr_expect_eq(kd_workspace_total(w.device), 0);
      kd_backend_close(&be);
    }
  kd_workspace w = {0}, r = {0}, big = {0};
  kd_backend_cpu.workspace(&w, 100, 100000, 1, 0);
  kd_backend_cpu.workspace(&r, 100, 100000, 1, 0.1);
  size_t x = sizeof(double) * 100 * 100000;
  cr_expect(kd_workspace_total(w.host) < x + x / 2, "ridgeless p >> n: %zu bytes for a %zu-byte design",
            kd_workspace_total(w.host), x);
  cr_expect(kd_workspace_total(r.host) > 2 * x && kd_workspace_total(r.host) < 2 * x + x / 2,
            "ridge p >> n: %zu bytes for a %zu-byte design", kd_workspace_total(r.host), x);
  kd_backend_cpu.workspace(&big, SIZE_MAX / 2, 2, 1, 0);
  cr_expect_eq(kd_workspace_total(big.host), SIZE_MAX);
}

/* ---- determinism ------------------------------------------------------------------- */

/* Same addresses -> bit-identical risks, also after the workspaces grew for a bigger
 * shape; another trial or point -> other risks. */
Test(determinism, addresses_fix_the_risks) {
  const size_t shapes[][2] = {{40, 90}, {90, 40}};
  double *big_l = power_law(200, 1), *big_s = truth_and_surrogate(200), sigma[2] = {0.5, 0.5};
  for (size_t c = 0; c < 2; ++c) {
    const size_t n = shapes[c][0], p = shapes[c][1];
    double *lambda = power_law(p, 1), *src = truth_and_surrogate(p);
    double first[2], again[2], other[2], moved[2], big[2];
    kd_stage st = stage(n, p, 2, lambda, 0, src, sigma, src, 4, first, NULL);
    run(&st);
    kd_stage grow = stage(150, 200, 2, big_l, 0, big_s, sigma, big_s, 4, big, NULL);
    run(&grow);
    st.risk = again;
    run(&st);
    cr_expect_eq(memcmp(first, again, sizeof first), 0, "shape %zu: risks changed on rerun", c);
    st.risk = other, st.design.trial = st.noise.trial = 5;
    run(&st);
    cr_expect_neq(first[0], other[0], "trial 5 repeated trial 4");
    st.risk = moved, st.design.trial = st.noise.trial = 4, st.design.point = st.noise.point = 8;
    run(&st);
    cr_expect_neq(first[0], moved[0], "point 8 repeated point 7");
    free(lambda);
    free(src);
  }
  free(big_l);
  free(big_s);
}

/* ---- a point's trials, side by side (point.c) --------------------------------------- */

TestSuite(trials);

typedef struct {
  kd_problem pr;
  kd_backend be;
} point_fixture;

static void point_setup(point_fixture *f, size_t p) {
  powerlaw_problem(&f->pr, p, 0.5);
  cr_assert_eq(kd_backend_open("cpu", &f->be), KD_OK, "%s", kd_last_error());
}

static void point_teardown(point_fixture *f) {
  kd_backend_close(&f->be);
  kd_problem_free(&f->pr);
}

/* kd_run_point on `threads` OpenMP threads: risks (rows x trials), fallbacks (rows). */
static kd_status run_point_on(point_fixture *f, const kd_plan *pl, uint32_t trials,
                              int threads, kd_teacher_cache *cache,
                              volatile sig_atomic_t *stop, double *risks,
                              long *fallbacks) {
  int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  kd_status st = kd_run_point(&f->be, &f->pr, 0, pl, 11, trials, cache, stop, risks, fallbacks);
  omp_set_num_threads(before);
  return st;
}

static int same_doubles(const double *a, const double *b, size_t len) {
  return memcmp(a, b, len * sizeof *a) == 0;
}

/* Small points run one trial per thread with single-threaded BLAS: every trial's
 * numbers are bit-identical for 1, 2 and 3 threads, the weak teachers included, with
 * and without the cache, also at the interpolation peak (where fallbacks happen), and
 * they agree with trials run one by one through kd_run_trial (whose BLAS may use
 * several threads: round-off only). */
Test(trials, results_do_not_depend_on_threads) {
  point_fixture f;
  point_setup(&f, 40);
  const size_t sizes[] = {25, 40, 90}; /* p > n, the peak n = p, n > p */
  const uint32_t trials = 23;
  double *ref = vec(KD_NPIPES * trials), *got = vec(KD_NPIPES * trials);
  for (size_t c = 0; c < 3; ++c) {
    kd_point pt = {.n = sizes[c], .ridge = 0, .m = 120, .k = 0};
    kd_plan pl;
    cr_assert_eq(kd_plan_point(&f.pr, &pt, KD_PIPES_DEFAULT | 1u << KD_PIPE_WEAK, &pl), KD_OK,
                 "%s", kd_last_error());
    long fb_ref[KD_NPIPES] = {0}, fb[KD_NPIPES] = {0};
    cr_assert_eq(run_point_on(&f, &pl, trials, 1, NULL, NULL, ref, fb_ref), KD_OK, "%s",
                 kd_last_error());
    for (int threads = 2; threads <= 3; ++threads) {
      kd_teacher_cache cache = {0};
      for (int pass = 0; pass < 2; ++pass) { /* pass 1: the teachers come from the cache */
        cr_assert_eq(run_point_on(&f, &pl, trials, threads, &cache, NULL, got, fb), KD_OK,
                     "%s", kd_last_error());
        cr_expect(same_doubles(ref, got, KD_NPIPES * trials),
                  "n = %zu: %d threads (pass %d) changed the risks", sizes[c], threads, pass);
        cr_expect_eq(memcmp(fb, fb_ref, sizeof fb), 0, "n = %zu: fallbacks changed", sizes[c]);
      }
      cr_expect(cache.valid, "the cache was not kept");
      kd_teacher_cache_free(&cache);
    }
    kd_trial_ws ws;
    cr_assert_eq(kd_trial_ws_init(&ws, &pl.prog, 1), KD_OK);
    for (uint32_t t = 0; t < trials; ++t) {
      double r[KD_PLAN_ROWS];
      int fbt[KD_PLAN_ROWS];
      cr_assert_eq(kd_run_trial(&f.be, &pl, 11, t, &ws, r, fbt), KD_OK);
      for (int q = 0; q < pl.nrows; ++q) { /* row q: pipeline q */
        double want = r[q], have = ref[(size_t)q * trials + t];
        double tol = pl.row[q].peak ? 1e-6 : 1e-12; /* the peak amplifies round-off */
        cr_expect_leq(fabs(have - want), tol * fabs(want), "n = %zu %s trial %u: %.17g vs %.17g",
                      sizes[c], kd_pipeline_name((kd_pipeline)q), t, have, want);
      }
    }
    kd_trial_ws_free(&ws);
    kd_plan_free(&pl);
  }
  free(ref);
  free(got);
  point_teardown(&f);
}

/* A cache filled at one n serves another n with the same teacher (m, k): the w2s and
 * weak risks equal those of a run without the cache; a stop leaves it invalid. */
Test(trials, teacher_cache_across_points) {
  point_fixture f;
  point_setup(&f, 40);
  const uint32_t trials = 17;
  unsigned pipes = KD_PIPES_DEFAULT | 1u << KD_PIPE_WEAK;
  kd_point a = {.n = 30, .m = 150, .k = 12}, b = {.n = 70, .m = 150, .k = 12};
  kd_plan pa, pb;
  cr_assert_eq(kd_plan_point(&f.pr, &a, pipes, &pa), KD_OK);
  cr_assert_eq(kd_plan_point(&f.pr, &b, pipes, &pb), KD_OK);
  double *plain = vec(KD_NPIPES * trials), *cached = vec(KD_NPIPES * trials);
  long fb[KD_NPIPES];
  cr_assert_eq(run_point_on(&f, &pb, trials, 2, NULL, NULL, plain, fb), KD_OK);
  kd_teacher_cache cache = {0};
  cr_assert_eq(run_point_on(&f, &pa, trials, 2, &cache, NULL, cached, fb), KD_OK);
  cr_assert(cache.valid && cache.k == 12 && cache.trials == trials);
  double first_hat = cache.hat[5 * 12 + 3];
  cr_assert_eq(run_point_on(&f, &pb, trials, 2, &cache, NULL, cached, fb), KD_OK);
  cr_expect_eq(cache.hat[5 * 12 + 3], first_hat, "the hit refitted the teachers");
  cr_expect(same_doubles(plain, cached, KD_NPIPES * trials), "the cached teachers differ");
  volatile sig_atomic_t stop = 1;
  kd_point c = {.n = 30, .m = 160, .k = 12}; /* another teacher: a miss, then stopped */
  kd_plan pc;
  cr_assert_eq(kd_plan_point(&f.pr, &c, pipes, &pc), KD_OK);
  cr_expect_eq(run_point_on(&f, &pc, trials, 2, &cache, &stop, cached, fb), KD_ESTOP);
  cr_expect_not_null(strstr(kd_last_error(), "stopped"), "%s", kd_last_error());
  cr_expect(!cache.valid, "a stopped point left its cache valid");
  kd_teacher_cache_free(&cache);
  kd_plan_free(&pa);
  kd_plan_free(&pb);
  kd_plan_free(&pc);
  free(plain);
  free(cached);
  point_teardown(&f);
}

/* The team's policy: side by side with single-threaded BLAS for small designs on the
 * CPU backend, never more workers than trials; one at a time above the threshold. */
Test(trials, team_policy) {
  kd_backend be;
  cr_assert_eq(kd_backend_open("cpu", &be), KD_OK);
  kd_trial_team team;
  cr_assert_eq(kd_trial_team_open(&team, &be, 1000, 100, 3), KD_OK);
  cr_expect(team.workers == 3 && team.single_blas == 1);
  kd_trial_team_close(&team);
  cr_assert_eq(kd_trial_team_open(&team, &be, 1000, 2, 3), KD_OK);
  cr_expect_eq(team.workers, 2);
  kd_trial_team_close(&team);
  cr_assert_eq(kd_trial_team_open(&team, &be, KD_TEAM_MAX_ELEMS + 1, 100, 3), KD_OK);
  cr_expect(team.workers == 1 && team.single_blas == 0);
  kd_trial_team_close(&team);
  kd_backend_close(&be);
}

typedef struct {
  volatile sig_atomic_t *stop;
  uint32_t stop_at, fail_slow, fail_fast;
  int ran[64];
  int saw_stop[64]; /* the stop flag was already up when the trial started */
} probe_ctx;

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Trial t: marks itself run; may raise the stop flag, or fail (slowly or at once). */
static kd_status probe_trial(void *vctx, kd_backend *be, int worker, uint32_t t) {
  (void)be;
  (void)worker;
  probe_ctx *c = vctx;
  __atomic_store_n(&c->saw_stop[t], (int)*c->stop, __ATOMIC_RELAXED);
  __atomic_store_n(&c->ran[t], 1, __ATOMIC_RELAXED);
  if (t == c->fail_fast) return kd_fail(KD_ENUM, "trial %u failed at once", t);
  sleep_ms(2);
  if (t == c->stop_at) *c->stop = 1;
  if (t == c->fail_slow) {
    sleep_ms(60);
    return kd_fail(KD_ENOMEM, "trial %u failed slowly", t);
  }
  return KD_OK;
}

/* A stop raised during trial 5 ends the run with KD_ESTOP: no trial starts once the
 * flag is up, and every trial before 5 has run. Which trials beyond 5 were already
 * under way when the flag went up depends on the scheduler (on a loaded machine a
 * worker may be descheduled inside trial 5 while the others go on), so the test
 * asks what each trial saw when it started, not how far the others got. */
Test(trials, stop_between_trials) {
  kd_backend be;
  cr_assert_eq(kd_backend_open("cpu", &be), KD_OK);
  for (int workers = 1; workers <= 3; ++workers) {
    kd_trial_team team;
    cr_assert_eq(kd_trial_team_open(&team, &be, 1000, 0, workers), KD_OK);
    volatile sig_atomic_t stop = 0;
    probe_ctx c = {.stop = &stop, .stop_at = 5, .fail_slow = 99, .fail_fast = 99};
    cr_expect_eq(kd_trial_team_run(&team, 0, 64, probe_trial, &c, &stop), KD_ESTOP);
    cr_expect_not_null(strstr(kd_last_error(), "stopped by a signal"), "%s", kd_last_error());
    int skipped = 0;
    for (uint32_t t = 0; t < 64; ++t) {
      if (t <= 5)
        cr_expect(c.ran[t], "%d workers: trial %u before the stop did not run", workers, t);
      cr_expect(!c.saw_stop[t], "%d workers: trial %u started after the stop", workers, t);
      skipped += !c.ran[t];
    }
    cr_expect(skipped > 0, "%d workers: the stop skipped no trial", workers);
    kd_trial_team_close(&team);
  }
  kd_backend_close(&be);
}

/* Two trials fail: 9 at once, 7 after a delay. Whatever the timing, the run returns
 * trial 7's status and reason on the calling thread (the error a loop would stop at),
 * every trial before 7 has run, and no trial after the failures is started late. */
Test(trials, first_error_with_its_reason) {
  kd_backend be;
  cr_assert_eq(kd_backend_open("cpu", &be), KD_OK);
  for (int workers = 1; workers <= 3; ++workers) {
    kd_trial_team team;
    cr_assert_eq(kd_trial_team_open(&team, &be, 1000, 0, workers), KD_OK);
    volatile sig_atomic_t stop = 0;
    probe_ctx c = {.stop = &stop, .stop_at = 99, .fail_slow = 7, .fail_fast = 9};
    kd_fail(KD_OK, "nothing yet");
    cr_expect_eq(kd_trial_team_run(&team, 0, 60, probe_trial, &c, &stop), KD_ENOMEM);
    cr_expect_str_eq(kd_last_error(), "trial 7 failed slowly", "%d workers", workers);
    for (uint32_t t = 0; t < 7; ++t)
      cr_expect(c.ran[t], "%d workers: trial %u did not run", workers, t);
    for (uint32_t t = 9 + (uint32_t)workers; t < 60; ++t)
      cr_expect(!c.ran[t], "%d workers: trial %u ran after the failures", workers, t);
    kd_trial_team_close(&team);
  }
  kd_backend_close(&be);
}
