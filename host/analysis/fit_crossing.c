/* Where w2s crosses strong (kd_w2s_crossing): along a swept n or m, at each value of the
 * run's other swept axes, the first sign change of the simulated w2s - strong between
 * neighbouring points, linear in log x; its 95 % interval from the same crossing of the
 * difference -+ its paired CI half-width (docs/theory.md#crossings). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t axis_value(const kd_w2s_entry *e, kd_axis a) {
  return a == KD_AXIS_N ? e->n : a == KD_AXIS_P ? e->p : a == KD_AXIS_M ? e->m : e->k;
}

static int is_swept(const kd_fit_data *d, kd_axis a) {
  for (int i = 0; i < d->naxes; ++i)
    if (d->axes[i] == a) return 1;
  return 0;
}

/* The run's swept axes but `along` among n, p, m, k: "k = 50, p = 500". */
static void group_of(const kd_fit_data *d, kd_axis along, const kd_w2s_entry *e, char *out,
                     size_t len) {
  static const kd_axis keyed[] = {KD_AXIS_N, KD_AXIS_P, KD_AXIS_M, KD_AXIS_K};
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < sizeof keyed / sizeof *keyed; ++i)
    if (keyed[i] != along && is_swept(d, keyed[i]) && used < len)
      used += (size_t)snprintf(out + used, len - used, "%s%s = %zu", used ? ", " : "",
                               kd_axis_name(keyed[i]), axis_value(e, keyed[i]));
}

/* The zero of the line through (u0, y0), (u1, y1), y0 and y1 of opposite signs (or y0 0),
 * as exp of the log-x position u. */
static double zero_between(double u0, double y0, double u1, double y1) {
  return exp(u0 + (u1 - u0) * y0 / (y0 - y1));
}

/* The crossing of the sorted points (u = log x, y = s (w2s - strong), h the half-width):
 * first i with y_i >= 0 > y_{i+1} (s flips the direction wanted). */
static void cross_along(const double *u, const double *y, const double *h, size_t n,
                        kd_w2s_crossing *out) {
  int pos = 0;
  for (size_t i = 0; i < n; ++i) pos |= y[i] > 0;
  size_t i = 0;
  while (i + 1 < n && !(y[i] >= 0 && y[i + 1] < 0)) ++i;
  out->at = out->ci_low = out->ci_high = NAN;
  if (i + 1 >= n) { /* no crossing: one side throughout */
    out->side = pos ? 1 : -1;
    return;
  }
  out->side = 0;
  out->at = zero_between(u[i], y[i], u[i + 1], y[i + 1]);
  /* the early curve y - h: its last rise above 0 at or before i; the late one y + h:
   * its first fall below 0 after i */
  for (size_t j = i + 1; j-- > 0;)
    if (y[j] - h[j] >= 0) {
      if (y[j + 1] - h[j + 1] < 0)
        out->ci_low = zero_between(u[j], y[j] - h[j], u[j + 1], y[j + 1] - h[j + 1]);
      break;
    }
  for (size_t j = i + 1; j < n; ++j)
    if (y[j] + h[j] < 0) {
      out->ci_high = zero_between(u[j - 1], y[j - 1] + h[j - 1], u[j], y[j] + h[j]);
      break;
    }
}

static int by_value(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One group along axis a: the entries whose key is `key`. */
static kd_status group_crossing(kd_fit_ctx *c, kd_axis a, const char *key, kd_w2s_crossing *out) {
  const kd_fit_result *r = c->res;
  double *pts = malloc(r->nw2s * 3 * sizeof *pts); /* (x, diff, ci) triples, sorted by x */
  double *u = malloc(r->nw2s * 3 * sizeof *u);
  if (!pts || !u) {
    free(pts), free(u);
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  }
  size_t n = 0;
  char k[128];
  for (size_t i = 0; i < r->nw2s; ++i) {
    group_of(c->d, a, &r->w2s[i], k, sizeof k);
    if (strcmp(k, key) || isnan(r->w2s[i].diff)) continue;
    pts[3 * n] = (double)axis_value(&r->w2s[i], a);
    pts[3 * n + 1] = r->w2s[i].diff;
    pts[3 * n + 2] = isfinite(r->w2s[i].diff_ci) ? r->w2s[i].diff_ci : NAN;
    ++n;
  }
  qsort(pts, n, 3 * sizeof *pts, by_value);
  double *y = u + n, *h = u + 2 * n;
  for (size_t i = 0; i < n; ++i) u[i] = log(pts[3 * i]), h[i] = pts[3 * i + 2];
  *out = (kd_w2s_crossing){.npts = n};
  snprintf(out->axis, sizeof out->axis, "%s", kd_axis_name(a));
  snprintf(out->group, sizeof out->group, "%s", key);
  /* the first sign change says which way: below strong after it (beats), or above */
  out->beats = 1;
  for (size_t i = 0; i + 1 < n; ++i) {
    const double d0 = pts[3 * i + 1], d1 = pts[3 * i + 4];
    if ((d0 >= 0 && d1 < 0) || (d0 <= 0 && d1 > 0)) {
      out->beats = d1 < 0;
      break;
    }
  }
  for (size_t i = 0; i < n; ++i) y[i] = out->beats ? pts[3 * i + 1] : -pts[3 * i + 1];
  cross_along(u, y, h, n, out); /* no sign change: beats stays 1, y is w2s - strong */
  free(pts), free(u);
  return KD_OK;
}

kd_status kd_fit_crossings(kd_fit_ctx *c) {
  kd_fit_result *r = c->res;
  static const kd_axis along[] = {KD_AXIS_N, KD_AXIS_M};
  if (!(r->cross = calloc(2 * r->nw2s + 1, sizeof *r->cross)))
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  for (size_t ai = 0; ai < sizeof along / sizeof *along; ++ai) {
    if (!is_swept(c->d, along[ai])) continue;
    for (size_t i = 0; i < r->nw2s; ++i) { /* each group once, at its first entry */
      char key[128], other[128];
      group_of(c->d, along[ai], &r->w2s[i], key, sizeof key);
      size_t j = 0;
      for (; j < i; ++j) {
        group_of(c->d, along[ai], &r->w2s[j], other, sizeof other);
        if (!strcmp(key, other)) break;
      }
      if (j < i) continue;
      kd_w2s_crossing x;
      kd_status st = group_crossing(c, along[ai], key, &x);
      if (st != KD_OK) return st;
      if (x.npts >= 2) r->cross[r->ncross++] = x;
    }
  }
  return KD_OK;
}
