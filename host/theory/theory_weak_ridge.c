/* The theory-optimal ridge of the weak model's own fit (include/kdbench/theory.h,
 * kd_best_weak_ridge): a log-spaced scan, then a golden-section refinement. */
#include <math.h>
#include <stdlib.h>

#include "kdbench/theory.h"
#include "internal.h"

enum { RIDGE_PER_DECADE = 8, RIDGE_GOLDEN_STEPS = 60 };
static const double RIDGE_LOG_MIN = -12.0, RIDGE_LOG_MAX = 8.0;

typedef struct {
  const double *lambda, *beta;
  size_t p;
  kd_weak_spec w;
  double *mu, *v;
} ridge_search;

/* The weak model's risk at ridge 10^x (x = -inf: ridge 0). */
static kd_status risk_at(ridge_search *s, double x, double *r) {
  s->w.ridge = isinf(x) ? 0.0 : pow(10.0, x);
  kd_status st = kd_weak_moments(s->lambda, s->beta, s->p, &s->w, s->mu, s->v, NULL);
  if (st != KD_OK) return st;
  *r = kd_risk_weak(s->lambda, s->beta, s->p, s->mu, s->v);
  if (isnan(*r)) *r = INFINITY;
  return KD_OK;
}

static kd_status search(ridge_search *s, double *ridge_best) {
  const int points = (int)((RIDGE_LOG_MAX - RIDGE_LOG_MIN) * RIDGE_PER_DECADE) + 1;
  double best = INFINITY, r, x_best = -INFINITY;
  int j_best = -1;
  kd_status st = risk_at(s, -INFINITY, &best); /* ridge 0 first: it wins ties */
  for (int j = 0; j < points && st == KD_OK; ++j) {
    const double x = RIDGE_LOG_MIN + (double)j / RIDGE_PER_DECADE;
    st = risk_at(s, x, &r);
    if (st == KD_OK && r < best) {
      best = r;
      j_best = j;
      x_best = x;
    }
  }
  if (st != KD_OK) return st;
  if (j_best >= 0) { /* golden section between the neighbours of the best scan point */
    const double phi = (sqrt(5.0) - 1.0) / 2.0;
    double a = RIDGE_LOG_MIN + (double)(j_best > 0 ? j_best - 1 : 0) / RIDGE_PER_DECADE;
    double b = RIDGE_LOG_MIN + (double)(j_best < points - 1 ? j_best + 1 : j_best) / RIDGE_PER_DECADE;
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a), r1, r2;
    st = risk_at(s, x1, &r1);
    if (st == KD_OK) st = risk_at(s, x2, &r2);
    for (int i = 0; i < RIDGE_GOLDEN_STEPS && st == KD_OK; ++i) {
      if (r1 <= r2) {
        b = x2, x2 = x1, r2 = r1, x1 = b - phi * (b - a);
        st = risk_at(s, x1, &r1);
      } else {
        a = x1, x1 = x2, r1 = r2, x2 = a + phi * (b - a);
        st = risk_at(s, x2, &r2);
      }
    }
    if (st != KD_OK) return st;
    const double x = r1 <= r2 ? x1 : x2, rx = r1 <= r2 ? r1 : r2;
    if (rx <= best) x_best = x;
  }
  *ridge_best = isinf(x_best) ? 0.0 : pow(10.0, x_best);
  return KD_OK;
}

kd_status kd_best_weak_ridge(const double *lambda, const double *beta, size_t p,
                             const kd_weak_spec *w, double *ridge_best) {
  if (!w || !ridge_best)
    return kd_fail(KD_EINVAL, "kd_best_weak_ridge: w and ridge_best must not be NULL");
  ridge_search s = {.lambda = lambda, .beta = beta, .p = p, .w = *w};
  s.mu = malloc(sizeof(double) * (p ? p : 1));
  s.v = malloc(sizeof(double) * (p ? p : 1));
  kd_status st = s.mu && s.v ? search(&s, ridge_best)
                             : kd_fail(KD_ENOMEM, "kd_best_weak_ridge: no memory for 2 x %zu "
                                                  "doubles", p);
  free(s.mu);
  free(s.v);
  return st;
}
