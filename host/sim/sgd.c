/* One pass of SGD along a curriculum, the solver of an SGD stage (include/kdbench/sgd.h).
 * The backends draw the design and the noise; this walks the samples in their order. */
#include "kdbench/sgd.h"

#include <math.h>
#include <string.h>

void kd_sgd_labels(const kd_curriculum *c, const double *beta, size_t p, double *sources,
                   double sigma[2]) {
  const double easy = c->difficulty == KD_DIFFICULTY_SOURCE ? KD_CURRICULUM_TEACHER : 1.0;
  for (size_t j = 0; j < p; ++j) {
    sources[j] = easy * beta[j];
    sources[j + p] = beta[j];
  }
  sigma[0] = c->difficulty == KD_DIFFICULTY_NOISE    ? c->easy_sigma
             : c->difficulty == KD_DIFFICULTY_SOURCE ? 0.0
                                                     : c->sigma;
  sigma[1] = c->difficulty == KD_DIFFICULTY_NOISE ? c->hard_sigma : c->sigma;
}

/* The pool's rows in the unpaced order o: easy rows [0, E) first, hard first for anti
 * (rows E.. then 0..E), or a uniform permutation drawn from the order stream. */
static void pool_order(const kd_stage *st, kd_order o, size_t easy, kd_rng_addr a,
                       uint32_t *order) {
  const size_t n = st->n;
  for (size_t t = 0; t < n; ++t)
    order[t] = (uint32_t)(o == KD_ORDER_ANTI ? (t + easy) % n : t);
  if (o != KD_ORDER_RANDOM) return;
  for (size_t i = n - 1; i > 0; --i) { /* Fisher-Yates, uniform j in [0, i] */
    size_t j = (size_t)(kd_rng_uniform_at(a, i) * (double)(i + 1));
    if (j > i) j = i;
    uint32_t tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
}

/* Whether step t of a paced order draws an easy sample: its difficulty percentile
 * u g(t), u the order stream's uniform at row t, below the easy share (curriculum: the
 * pool sorted easy first), at or above the hard share (anti: hard first); random
 * ignores the pace (an unsorted pool). */
static int paced_easy(const kd_curriculum *c, kd_order o, kd_rng_addr a, size_t t) {
  const double u = kd_rng_uniform_at(a, t), f = c->easy_fraction;
  if (o == KD_ORDER_RANDOM) return u < f;
  const double pct = u * kd_pace(c->pacing, t, c->budget);
  return o == KD_ORDER_CURRICULUM ? pct < f : pct >= 1.0 - f;
}

static double risk_of(const kd_stage *st, const double *w) {
  const double *metric = st->metric ? st->metric : st->lambda;
  double sum = 0;
  for (size_t j = 0; j < st->p; ++j) {
    const double d = w[j] - st->target[j];
    sum += metric[j] * d * d;
  }
  return sum;
}

/* One order's pass: w from 0, its risks at the checkpoints into risk[0..K). */
static void pass(const kd_stage *st, kd_order o, const double *x, const double *z, double *w,
                 uint32_t *order, double trace, double *risk) {
  const kd_curriculum *c = st->sgd->cur;
  const size_t n = st->n, p = st->p, easy = kd_curriculum_easy(c);
  const int paced = c->pacing != KD_PACING_NONE && c->difficulty != KD_DIFFICULTY_FEATURES;
  kd_rng_addr a = st->design;
  a.purpose = (st->design.purpose & 0xf0u) | KD_PURPOSE_ORDER;
  if (!paced) pool_order(st, o, easy, a, order);
  memset(w, 0, sizeof(double) * p);
  size_t next = 0;
  for (size_t t = 0; t < c->budget; ++t) {
    const size_t i = paced ? t : order[t];
    const int kind = paced ? !paced_easy(c, o, a, t) : i >= easy;
    const double *src = st->sources + (size_t)kind * p;
    size_t lo, hi;
    kd_curriculum_active(c, o, p, t, &lo, &hi);
    double y = st->sigma[kind] * z[i], pred = 0; /* y - x^T w over the active features */
    for (size_t j = 0; j < lo; ++j) y += x[i + j * n] * src[j];
    for (size_t j = lo; j < hi; ++j) {
      const double xij = x[i + j * n];
      y += xij * src[j];
      pred += xij * w[j];
    }
    for (size_t j = hi; j < p; ++j) y += x[i + j * n] * src[j];
    const double g = kd_step_size(&c->step, trace, t) * (pred - y);
    for (size_t j = lo; j < hi; ++j) w[j] -= g * x[i + j * n];
    for (; next < c->checkpoints && kd_checkpoint_at(c, next) == t + 1; ++next)
      risk[next] = risk_of(st, w);
  }
}

kd_status kd_sgd_stage(kd_stage *st, const double *x, const double *z, double *w,
                       uint32_t *order) {
  double trace = 0;
  for (size_t j = 0; j < st->p; ++j) trace += st->lambda[j];
  const size_t K = st->sgd->cur->checkpoints;
  for (size_t r = 0; r < st->k; ++r) {
    pass(st, st->sgd->orders[r], x, z, w + r * st->p, order, trace, st->risk + r * K);
    if (st->beta_hat) memcpy(st->beta_hat + r * st->p, w + r * st->p, sizeof(double) * st->p);
  }
  st->fallback = 0;
  return KD_OK;
}
