/* The benchmarks' timing harness (timing.h). */
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/clock.h"

double now(void) { return kd_clock_s(); }

int parse_shape_arg(const char *text, size_t *n, size_t *p, double *ridge) {
  char *end = NULL;
  unsigned long long rows = strtoull(text, &end, 10), cols = 0;
  if (end == text || *end != 'x') return -1;
  const char *q = end + 1;
  cols = strtoull(q, &end, 10);
  if (end == q) return -1;
  double r = 0;
  if (*end == ':') {
    q = end + 1;
    r = strtod(q, &end);
    if (end == q) return -1;
  }
  if (*end || rows == 0 || cols == 0 || !(r >= 0)) return -1;
  *n = (size_t)rows;
  *p = (size_t)cols;
  *ridge = r;
  return 0;
}

void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) {
    fprintf(stderr, "bench: cannot allocate %zu bytes\n", bytes);
    exit(1);
  }
  return p;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Quantile of sorted x (linear interpolation between order statistics). */
static double quantile(const double *x, unsigned count, double q) {
  double pos = q * (count - 1);
  unsigned lo = (unsigned)pos;
  if (lo + 1 >= count) return x[count - 1];
  return x[lo] + (pos - lo) * (x[lo + 1] - x[lo]);
}

void summarize(double *t, unsigned count, timing *out) {
  qsort(t, count, sizeof *t, cmp_double);
  out->count = count;
  out->min = t[0];
  out->q1 = quantile(t, count, 0.25);
  out->median = quantile(t, count, 0.5);
  out->q3 = quantile(t, count, 0.75);
  out->total = 0;
  for (unsigned i = 0; i < count; ++i) out->total += t[i];
}

static int budget_met(const budget *b, unsigned count, double total) {
  return (count >= b->min_samples && total >= b->min_time) ||
         (count >= b->floor_samples && total >= b->max_time);
}

int measure(timed_fn fn, void *ctx, const budget *b, timing *out) {
  if (fn(ctx, 0) < 0) return -1;
  unsigned cap = 64, count = 0;
  double *t = xmalloc(cap * sizeof *t), total = 0;
  while (!budget_met(b, count, total)) {
    double s = fn(ctx, count + 1);
    if (s < 0) {
      free(t);
      return -1;
    }
    if (count == cap) {
      double *grown = xmalloc(2 * cap * sizeof *t);
      memcpy(grown, t, cap * sizeof *t);
      free(t);
      t = grown;
      cap *= 2;
    }
    t[count++] = s;
    total += s;
  }
  summarize(t, count, out);
  free(t);
  return 0;
}

double model_flops(size_t n, size_t p, size_t k) {
  double m = (double)(n < p ? n : p), M = (double)(n < p ? p : n);
  double npk = 2.0 * (double)n * (double)p * (double)k;
  return m * m * M + m * m * m / 3 + 2 * m * m * (double)k + npk + (p > n ? npk : 0);
}
