/* The metadata of a run (NAME.meta.json, docs/run-format.md), rewritten atomically
 * after every point so that it always describes what is on disk. */
#ifndef KDBENCH_RUN_META_H
#define KDBENCH_RUN_META_H

#include <stddef.h>
#include <time.h>

#include "kdbench/backend.h"
#include "kdbench/config.h"
#include "kdbench/scenario_id.h"
#include "kdbench/shard_spec.h"

struct cJSON;

/* A shard's part of the metadata: which of how many, and the grid points it computes. */
typedef struct {
  kd_shard_spec spec;
  int from_slurm;
  size_t grid_points;
  double cost_share;         /* of the grid's flop-model cost */
  const size_t *points;      /* the global indices it computes */
  size_t n_points;
} kd_run_meta_shard;

typedef struct {
  const kd_config *cfg;
  const char *command;       /* the command line */
  const char *scenario;      /* kd_config_print's text */
  const kd_scenario_id *id;  /* the scenario hash and its parts */
  kd_backend *backend;
  time_t started, finished;  /* finished = 0: not finished */
  size_t points_total, points_done, points_resumed;
  const double *null_risk;   /* beta*' Sigma beta* by grid point (grid_points of them), or
                                NULL: not written (a run without generations) */
  size_t grid_points;
  size_t rows_per_point;     /* every point's rows (one per pipeline but for those with
                                several rows: docs/architecture.md) */
  const double *wall_s;      /* points_total wall times; NaN = not done */
  const kd_run_meta_shard *shard; /* NULL when not sharded; for a shard, points_* and
                                   * wall_s count its points, not the grid's */
  const struct cJSON *resumed_from; /* kd_run_meta_earlier's list, or NULL: none */
} kd_run_meta;

kd_status kd_run_meta_write(const char *path, const kd_run_meta *m);

/* Who computed the points a resume (or --extend) keeps, read from the run's metadata
 * before this process rewrites it (docs/run-format.md, "Points computed earlier"):
 * that metadata's own `resumed_from`, then an entry for the process that wrote it
 * when it computed any point (its command, times, backend, or its merged shards, and
 * points_computed); an entry with backend null when the metadata cannot be read.
 * NULL when the list is empty or out of memory; cJSON_Delete it. */
struct cJSON *kd_run_meta_earlier(const char *stem);

#endif
