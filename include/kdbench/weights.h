/* The weights job (kdbench --job weights): beta*, the optimal surrogate g .* beta*
 * and the optimal 0-1 mask of beta*, feature by feature, at one student size n
 * (the paper's Figure 1a). Theory only: nothing is simulated. */
#ifndef KDBENCH_WEIGHTS_H
#define KDBENCH_WEIGHTS_H

#include <stdio.h>

#include "kdbench/config.h"

/* Writes the CSV (columns i,lambda,beta_star,gain,beta_optimal,beta_mask) to
 * cfg->csv through a temporary file, and a summary to `table` (NULL: none). n must be
 * a single value. */
kd_status kd_weights_run(const kd_config *cfg, FILE *table);

#endif
