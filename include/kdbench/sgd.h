/* The SGD solver of a stage (kd_stage.sgd, include/kdbench/backend.h): one pass of
 * stochastic gradient descent along a curriculum (include/kdbench/curriculum.h), from
 * w = 0, O(p) a sample:
 *   w <- w - eta_t (x_i^T w - y_i) x_i   (x_i masked to the step's features),
 * where the stage's design row i is sample i of the pool and its label is
 *   y_i = x_i^T source_c + sigma_c z_i,
 * c = 0 for an easy sample (the first round(f n) rows of the pool), 1 for a hard one.
 * The order takes the pool's rows in turn, hard ones first for anti, shuffled for random
 * (Fisher-Yates on the stage's order stream, a fresh permutation every trial); paced,
 * step t takes row t and draws its kind from the pace (the order stream's uniform at
 * row t). The order stream is the design's address with purpose KD_PURPOSE_ORDER, so
 * every draw is regenerable by index on any backend. Right-hand side r follows
 * orders[r]; its risk at checkpoint i, sum_j metric_j (w_j - target_j)^2, is
 * risk[r K + i]; beta_hat (when asked for) holds its final w. */
#ifndef KDBENCH_SGD_H
#define KDBENCH_SGD_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/backend.h"
#include "kdbench/curriculum.h"

typedef struct kd_sgd {
  const kd_curriculum *cur;
  const kd_order *orders; /* kd_stage.k of them */
} kd_sgd;

/* The stage's two label columns for a curriculum on beta* (p): sources (p x 2, column
 * 0 the easy samples', 1 the hard ones') and their noise levels sigma[2]. */
void kd_sgd_labels(const kd_curriculum *c, const double *beta, size_t p, double *sources,
                   double sigma[2]);

/* The pass for every right-hand side of an SGD stage, on its design x (n x p, column
 * major, rows ~ N(0, diag lambda)) and noise z (n) as drawn from its streams; w (p x k)
 * and order (n) are the caller's buffers; the stage is checked (kd_stage_validate). */
kd_status kd_sgd_stage(kd_stage *st, const double *x, const double *z, double *w,
                       uint32_t *order);

#endif
