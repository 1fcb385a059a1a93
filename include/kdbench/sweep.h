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

/* The hash of what determines a config's numbers (id->hash: 16 hex digits + NUL)
 * and its parts (include/kdbench/scenario_id.h). */
kd_status kd_scenario_hash(const kd_config *cfg, kd_scenario_id *id);

/* The memory check's model of the sweep (host/sweep.c, host/point.c): the most it
 * holds at any point, on the host and on the device of the config's backend, beyond
 * the process's baseline (code, libraries, the BLAS's own buffers). kd_sweep_run
 * refuses, before any output exists, a point whose need exceeds what is available. */
kd_status kd_sweep_memory(const kd_config *cfg, kd_memory *peak);

/* Memory available to this process, in bytes (host/memory_limit.c; 0 if unknown): the
 * least of MemAvailable, the room under the cgroup's memory limit (of its group and
 * every group above it) and the room under the address-space limit (RLIMIT_AS, ulimit
 * -v) once the threads have mapped what they will (OpenBLAS's 128 MiB buffer per
 * thread that runs BLAS, which it would otherwise try to map for ever; an OpenMP
 * thread's stack and malloc arena). 1 when nothing fits. */
size_t kd_available_memory(void);
/* The same, and in *why which bound it is, in words to follow "available" in a message:
 * "" (MemAvailable), "under the cgroup's memory limit", "under the address-space limit
 * (ulimit -v) ...". */
size_t kd_available_memory_why(const char **why);
/* The room under the memory limits of the cgroups named in `self_cgroup` (the format
 * of /proc/self/cgroup: v2 "0::/PATH", v1 "N:memory:/PATH") under the cgroup file
 * system `fs_root` (/sys/fs/cgroup; v1 groups under fs_root/memory): for the group and
 * each one above it, limit - (usage - inactive file pages) (v2: memory.max,
 * memory.current; v1: memory.limit_in_bytes, memory.usage_in_bytes; memory.stat), the
 * least of them; SIZE_MAX without a limit. */
size_t kd_cgroup_memory_room(const char *fs_root, const char *self_cgroup);

#endif
