/* The grid of a sweep: the points the swept axes span, in run order. */
#ifndef KDBENCH_GRID_H
#define KDBENCH_GRID_H

#include <stddef.h>

#include "kdbench/config.h"

typedef struct {
  size_t n, p, m, k; /* k = 0: the theory-optimal k */
  double ridge, alpha, sigma;
  double real_fraction;
  size_t student_features; /* the features pipeline's s; 0: all p */
} kd_grid_point;

typedef struct {
  kd_grid_point *pt;
  size_t count;
} kd_grid;

/* The points of c: swept[1] (when two axes are swept) is the outer loop, swept[0]
 * the inner one. An axis without values takes its default (for n, the default grid
 * through each point's p). c->p must be resolved (> 0). Errors name the point. */
kd_status kd_grid_build(const kd_config *c, kd_grid *g);
void kd_grid_free(kd_grid *g);

/* The default n grid for p: log-spaced from 20 to 2000 (about 8 points a decade)
 * passing through n = p. Caller frees. */
kd_status kd_default_n_grid(size_t p, size_t **n, size_t *count);

/* "n=200 p=500 m=5000 k=0 ridge=0 alpha=2 sigma=0.5": what identifies a point, with
 * " real_fraction=F" after it when F is not 0 and " student_features=S" when S is
 * given (so that the points of runs made before those axes keep their keys). */
void kd_grid_point_text(const kd_grid_point *pt, char *buf, size_t len);

#endif
