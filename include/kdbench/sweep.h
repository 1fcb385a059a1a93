/* The sweep runner: every point of a config's grid, theory beside simulation,
 * appended to the run's files point by point (resumable), with a readable table. */
#ifndef KDBENCH_SWEEP_H
#define KDBENCH_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/config.h"
#include "kdbench/point.h"
#include "kdbench/scenario_id.h"

/* Runs the sweep: validates everything (settings, sizes, memory, backend, the
 * output's scenario) before the first file is touched, then computes the points not
 * already in the output. The table goes to `table` (NULL: none); progress to
 * standard error when it is a terminal. `command` is recorded in the metadata.
 * SIGINT / SIGTERM abandon the point in flight and return KD_ESTOP; finished
 * points are on disk. */
kd_status kd_sweep_run(const kd_config *cfg, const char *command, FILE *table);

/* The signal that stopped the last run (0: none). A trial that does not come back
 * within KD_STOP_GRACE_S of it ends the process instead (include/kdbench/stop.h). */
int kd_sweep_stop_signal(void);

/* The memory check's model of the sweep (host/sweep/sweep_memory.c, host/sim/point.c):
 * the most it holds at any point, on the host and on the device of the config's
 * backend, beyond the process's baseline (code, libraries, the BLAS's own buffers).
 * kd_sweep_run refuses, before any output exists, a point whose need exceeds what is available. */
kd_status kd_sweep_memory(const kd_config *cfg, kd_memory *peak);

#endif
