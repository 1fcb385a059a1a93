/* Shards: the i-th of N disjoint parts of a sweep's grid, balanced by the flop model
 * (kd_point_cost), each written to its own resumable output, so that N processes
 * (a Slurm job array, or one per GPU of a node) compute one run together.
 *
 * Shards are numbered from 1: `--shard 3/8` is the third of eight. Without --shard,
 * a process in a Slurm array task takes (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN)
 * / SLURM_ARRAY_TASK_STEP + 1 of SLURM_ARRAY_TASK_COUNT; `--shard off` ignores Slurm.
 *
 * Shard i/N of the run DIR/NAME.csv is DIR/NAME.shards/shard-00i-of-00N.{csv,jsonl,
 * meta.json} (a run in the format of docs/run-format.md, with the global point index
 * in every row; its .lock while a process computes it), beside scenario.ini (the
 * effective scenario, which `kdbench missing` names). */
#ifndef KDBENCH_SHARD_H
#define KDBENCH_SHARD_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/config.h"
#include "kdbench/grid.h"
#include "kdbench/shard_spec.h"

/* The points of shard s among `count` points of costs `cost`: longest-processing-
 * time first (by cost, ties by index), each to the least loaded shard (ties: the
 * lowest). Deterministic. *idx (increasing global indices; caller frees) gets *n of
 * them; all of them when s.count = 0. */
kd_status kd_shard_points(const double *cost, size_t count, kd_shard_spec s, size_t **idx,
                          size_t *n);

/* DIR/NAME.shards of the run `run` (a stem or one of its files). */
kd_status kd_shard_dir(const char *run, char *out, size_t len);
/* DIR/NAME.shards/shard-003-of-008: the stem of shard s of `run`. */
kd_status kd_shard_stem(const char *run, kd_shard_spec s, char *out, size_t len);
/* Parses a shard's file name (a stem or a file, with or without directory):
 * 1 and *s when it is shard-I-of-N[.suffix]. */
int kd_shard_name_parse(const char *path, kd_shard_spec *s);

/* 1 when a process is writing the run `stem` (its STEM.lock, which kd_run_open
 * holds with flock while the run is open, is locked). */
int kd_shard_running(const char *stem);

/* ---- the sweep's view: which points, written where ------------------------------ */

typedef struct {
  kd_shard_spec spec;      /* count = 0: not sharded */
  int from_slurm;
  size_t *points, n_points; /* the global indices this process computes */
  size_t grid_points;
  double cost_share;       /* of the grid's flop-model cost */
  char stem[4096];         /* the shard's stem ("" when not sharded) */
  char csv[4096];          /* the CSV to write: the run's, or the shard's */
} kd_shard;

/* Resolves c's shard, partitions g by kd_point_cost and names the CSV to write.
 * Writes nothing (kd_run_open creates the directory and takes the run's lock). */
kd_status kd_shard_open(kd_shard *sh, const kd_config *c, const kd_grid *g);
/* Writes the .shards directory's scenario.ini: c printed without its shard (the
 * same text from every shard). Nothing when not sharded. */
kd_status kd_shard_save_scenario(const kd_shard *sh, const kd_config *c);
/* Frees sh, and removes the .shards directory (and its scenario.ini) when nothing
 * else is in it: a shard that failed before it wrote anything leaves nothing. */
void kd_shard_close(kd_shard *sh);

#endif
