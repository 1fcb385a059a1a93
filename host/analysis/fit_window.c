/* The window on x and the groups (the other swept axes) of the points in it. */
#include <math.h>
#include <string.h>

#include "internal.h"

int kd_fit_in_window(const kd_fit_ctx *c, const kd_fit_point *pt, double x) {
  if (isnan(x)) return 0;
  if (isnan(c->o->lo) && isnan(c->o->hi) && c->x == KD_AXIS_N) return x <= kd_fit_any_row(pt)->p / 4.0;
  return !(x < c->o->lo) && !(x > c->o->hi);
}

void kd_fit_group_key(const kd_fit_ctx *c, const kd_fit_point *pt, char *key, size_t len) {
  key[0] = '\0';
  for (int i = 0; i < c->d->naxes; ++i) {
    if (c->d->axes[i] == c->x) continue;
    size_t used = strlen(key);
    snprintf(key + used, len - used, "%s%s = %g", used ? ", " : "", kd_axis_name(c->d->axes[i]),
             kd_fit_point_axis(pt, c->d->axes[i]));
  }
}

const char *kd_fit_window_text(const kd_fit_ctx *c, char *buf, size_t len) {
  const char *ax = kd_axis_name(c->x);
  if (isnan(c->o->lo) && isnan(c->o->hi)) {
    if (c->x == KD_AXIS_N)
      snprintf(buf, len, "n <= p/4 (the default for an n axis)");
    else
      snprintf(buf, len, "every %s (the default)", ax);
  } else if (isnan(c->o->lo)) {
    snprintf(buf, len, "%s <= %g (--window)", ax, c->o->hi);
  } else if (isnan(c->o->hi)) {
    snprintf(buf, len, "%s >= %g (--window)", ax, c->o->lo);
  } else {
    snprintf(buf, len, "%g <= %s <= %g (--window)", c->o->lo, ax, c->o->hi);
  }
  return buf;
}

size_t kd_fit_collect(kd_fit_ctx *c, int q, const char *key, const kd_row **rows, double *xs) {
  size_t n = 0;
  char k[128];
  for (size_t i = 0; i < c->d->npoints; ++i) {
    const kd_fit_point *pt = &c->d->points[i];
    const kd_row *r = pt->cell[q];
    double x = kd_fit_point_axis(pt, c->x);
    if (!r || r->flag[0] || !kd_fit_in_window(c, pt, x)) continue;
    kd_fit_group_key(c, pt, k, sizeof k);
    if (strcmp(k, key) != 0) continue;
    size_t j = n++;
    for (; j > 0 && xs[j - 1] > x; --j) xs[j] = xs[j - 1], rows[j] = rows[j - 1];
    xs[j] = x;
    rows[j] = r;
  }
  return n;
}
