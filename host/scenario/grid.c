/* Expanding the swept axes of a config into its points. */
#include "kdbench/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* Geometric segments between the anchors 20, p and 2000, about 8 points a decade. */
kd_status kd_default_n_grid(size_t p, size_t **n, size_t *count) {
  double anchors[3] = {20, 2000, 0};
  size_t na = 2;
  if (p > 20 && p < 2000) {
    anchors[1] = (double)p;
    anchors[2] = 2000;
    na = 3;
  }
  size_t cap = 64, len = 0;
  size_t *v = malloc(sizeof(size_t) * cap);
  if (!v) return kd_fail(KD_ENOMEM, "out of memory");
  v[len++] = 20;
  for (size_t s = 0; s + 1 < na; ++s) {
    double a = anchors[s], b = anchors[s + 1];
    int steps = (int)lround(8 * log10(b / a));
    if (steps < 1) steps = 1;
    for (int i = 1; i <= steps; ++i) {
      size_t x = (size_t)llround(a * pow(b / a, (double)i / steps));
      if (x != v[len - 1] && len < cap) v[len++] = x;
    }
  }
  *n = v;
  *count = len;
  return KD_OK;
}

/* The values of axis a at a point whose p is `p`: the config's, parsed when set, or the
 * axis's default. */
static kd_status axis_values(const kd_config *c, kd_axis a, size_t p, double **v, size_t *count) {
  if (c->axis_values[a].count) return kd_axis_spec_values(a, &c->axis_values[a], v, count);
  if (a == KD_AXIS_N) {
    size_t *n = NULL;
    kd_status st = kd_default_n_grid(p, &n, count);
    if (st != KD_OK) return st;
    *v = malloc(sizeof(double) * *count);
    for (size_t i = 0; *v && i < *count; ++i) (*v)[i] = (double)n[i];
    free(n);
    return *v ? KD_OK : kd_fail(KD_ENOMEM, "out of memory");
  }
  if (a == KD_AXIS_K || a == KD_AXIS_STUDENT_FEATURES) { /* 8 log-spaced from 10 (or 1) to p */
    kd_axis_spec *k = malloc(sizeof *k); /* a spec is 24 KiB: not on the stack */
    if (!k) return kd_fail(KD_ENOMEM, "out of memory");
    k->count = 1;
    k->item[0] =
        (kd_axis_item){.kind = KD_ITEM_LOG, .count = 8, .a = p >= 10 ? 10 : 1, .b = (double)p};
    kd_status st = kd_axis_spec_values(a, k, v, count);
    free(k);
    return st;
  }
  return kd_axis_values(a, kd_axis_default_values(a), v, count);
}

static void set_axis(kd_grid_point *pt, kd_axis a, double x) {
  switch (a) {
    case KD_AXIS_N: pt->n = (size_t)x; break;
    case KD_AXIS_P: pt->p = (size_t)x; break;
    case KD_AXIS_M: pt->m = (size_t)x; break;
    case KD_AXIS_K: pt->k = (size_t)x; break;
    case KD_AXIS_RIDGE: pt->ridge = x; break;
    case KD_AXIS_ALPHA: pt->alpha = x; break;
    case KD_AXIS_SIGMA: pt->sigma = x; break;
    case KD_AXIS_REAL_FRACTION: pt->real_fraction = x; break;
    case KD_AXIS_STUDENT_FEATURES: pt->student_features = (size_t)x; break;
    default: break;
  }
}

static kd_status push(kd_grid *g, size_t *cap, const kd_grid_point *pt) {
  if (pt->k > pt->p) {
    char text[256];
    kd_grid_point_text(pt, text, sizeof text);
    return kd_fail(KD_EINVAL, "k = %zu exceeds p = %zu at the point %s", pt->k, pt->p, text);
  }
  if (pt->student_features > pt->p) {
    char text[256];
    kd_grid_point_text(pt, text, sizeof text);
    return kd_fail(KD_EINVAL, "student-features = %zu exceeds p = %zu at the point %s",
                   pt->student_features, pt->p, text);
  }
  if (g->count == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    kd_grid_point *np = realloc(g->pt, sizeof *np * nc);
    if (!np) return kd_fail(KD_ENOMEM, "out of memory");
    g->pt = np;
    *cap = nc;
  }
  g->pt[g->count++] = *pt;
  return KD_OK;
}

kd_status kd_grid_build(const kd_config *c, kd_grid *g) {
  *g = (kd_grid){0};
  if (c->n_swept < 1) return kd_fail(KD_EINVAL, "nothing to sweep: give --sweep AXIS");
  int n_swept = c->swept[0] == KD_AXIS_N || (c->n_swept > 1 && c->swept[1] == KD_AXIS_N);
  double n = 0; /* a single value, checked when set to be a positive integer */
  if (!n_swept && !kd_axis_spec_single(&c->axis_values[KD_AXIS_N], &n))
    return kd_fail(KD_EINVAL, "n is not swept: give the student's sample size with --n N");
  kd_grid_point base = {.p = c->p, .m = c->m, .k = c->k, .ridge = c->ridge, .alpha = c->alpha,
                        .sigma = c->sigma, .real_fraction = c->real_fraction,
                        .student_features = c->student_features};
  base.n = (size_t)n;
  kd_axis inner = c->swept[0];
  double *outer_v = NULL;
  size_t outer_count = 1, cap = 0;
  kd_status st = KD_OK;
  if (c->n_swept > 1) st = axis_values(c, c->swept[1], c->p, &outer_v, &outer_count);
  for (size_t i = 0; i < outer_count && st == KD_OK; ++i) {
    kd_grid_point pt = base;
    if (outer_v) set_axis(&pt, c->swept[1], outer_v[i]);
    double *v = NULL;
    size_t count = 0;
    st = axis_values(c, inner, pt.p, &v, &count);
    for (size_t j = 0; j < count && st == KD_OK; ++j) {
      set_axis(&pt, inner, v[j]);
      if (c->k == KD_K_ALL) pt.k = pt.p; /* --k all: every feature of the point's p */
      st = push(g, &cap, &pt);
    }
    free(v);
  }
  free(outer_v);
  if (st != KD_OK) kd_grid_free(g);
  return st;
}

void kd_grid_free(kd_grid *g) {
  free(g->pt);
  *g = (kd_grid){0};
}

void kd_grid_point_text(const kd_grid_point *pt, char *buf, size_t len) {
  int used = snprintf(buf, len, "n=%zu p=%zu m=%zu k=%zu ridge=%.17g alpha=%.17g sigma=%.17g",
                      pt->n, pt->p, pt->m, pt->k, pt->ridge, pt->alpha, pt->sigma);
  if (pt->real_fraction != 0 && used >= 0 && (size_t)used < len)
    snprintf(buf + used, len - (size_t)used, " real_fraction=%.17g", pt->real_fraction);
  if (pt->student_features && used >= 0 && (size_t)used < len)
    snprintf(buf + used, len - (size_t)used, " student_features=%zu", pt->student_features);
}
