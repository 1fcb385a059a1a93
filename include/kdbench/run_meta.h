/* The metadata of a run (NAME.meta.json, docs/run-format.md), rewritten atomically
 * after every point so that it always describes what is on disk. */
#ifndef KDBENCH_RUN_META_H
#define KDBENCH_RUN_META_H

#include <stddef.h>
#include <time.h>

#include "kdbench/backend.h"
#include "kdbench/config.h"
#include "kdbench/scenario_id.h"
#include "kdbench/shard.h"

typedef struct {
  const kd_config *cfg;
  const char *command;       /* the command line */
  const char *scenario;      /* kd_config_print's text */
  const kd_scenario_id *id;  /* the scenario hash and its parts */
  kd_backend *backend;
  time_t started, finished;  /* finished = 0: not finished */
  size_t points_total, points_done, points_resumed;
  const double *wall_s;      /* points_total wall times; NaN = not done */
  const kd_shard *shard;     /* NULL when not sharded; for a shard, points_* and wall_s
                              * count its points (kd_shard.points), not the grid's */
} kd_run_meta;

kd_status kd_run_meta_write(const char *path, const kd_run_meta *m);

#endif
