/* What the sweep's files share (host/sweep/sweep.c, extend.c): the rows an extended run
 * keeps. Private to host/sweep/. */
#ifndef KDBENCH_SWEEP_INTERNAL_H
#define KDBENCH_SWEEP_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/config.h"
#include "kdbench/grid.h"
#include "kdbench/run.h"
#include "kdbench/scenario_id.h"

/* --extend: the rows of the run at `csv` that the run of c over grid g (scenario id)
 * keeps. That run's scenario must be c's but for the swept axes' values and its trials,
 * at most c's (fewer only with per-trial risks). Every point of it that is in g, with
 * all its rows (rows_per_point of them), is kept: its rows with g's point index and key, in grid order, their
 * risks copied (a row with fewer risks than c->trials is a point to complete). No run
 * there: none. The refusals (another scenario, more trials, fewer without risks, a
 * damaged run) are one line naming the run and what differs. Free with kd_row_free. */
kd_status kd_extend_rows(const kd_config *c, const kd_grid *g, const kd_scenario_id *id,
                         const char *csv, size_t rows_per_point, kd_row **rows, size_t *n,
                         FILE *log);

#endif
