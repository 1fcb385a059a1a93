/* The layout of a kd_shard_set (include/kdbench/merge.h): private to shard_set.c,
 * merge.c and missing.c. */
#ifndef KDBENCH_SHARD_SET_H
#define KDBENCH_SHARD_SET_H

#include <cJSON.h>

#include "kdbench/merge.h"
#include "kdbench/run.h"
#include "kdbench/shard.h"

/* One shard's output as found. */
typedef struct {
  char stem[4096];          /* DIR/NAME.shards/shard-003-of-008 */
  kd_shard_spec spec;
  char hash[17];
  cJSON *meta;              /* its NAME.meta.json */
  size_t *points, n_points; /* the global indices it owns (meta "shard.points") */
  size_t done;              /* of them, complete in its JSON Lines */
  int running;              /* its .lock is held */
  char who[300];            /* "pid P on HOST" (from the meta) */
  char *jsonl, *csv;        /* the files' text (csv NULL when absent) */
} kd_shard_out;

/* One grid point's rows: spans of the shards' texts. */
typedef struct {
  long shard;               /* index into set->shard, -1: missing */
  const char *json;         /* its JSON Lines, verbatim, newlines included */
  size_t json_len;
  const char *csv;          /* its CSV lines, or NULL: render `rows` */
  size_t csv_len;
  kd_row *rows;             /* parsed, rows_per_point of them */
  double wall_s;
} kd_point_rows;

struct kd_shard_set {
  kd_shard_out *shard;      /* sorted by shard number */
  size_t n_shards;
  unsigned count;           /* N */
  char hash[17];
  size_t grid_points, rows_per_point;
  kd_point_rows *point;     /* grid_points of them */
  char dir[4096];           /* the one .shards directory they come from, or "" */
};

/* Reads the rows of set->shard[k] into set->point (shard_rows.c); a torn last line is
 * dropped with a warning on `log`, any other bad line is an error naming it. */
kd_status kd_shard_read_rows(kd_shard_set *set, size_t k, FILE *log);

/* One line on what is missing: absent, running and unfinished shards and the
 * missing points, e.g. "shard 3/8 not started; shard 5/8 stopped after 1 of 4
 * points (points 4, 7, 12 missing)". "" when nothing is. Caller frees. */
char *kd_shard_set_gaps(const kd_shard_set *set);
/* Points missing (no complete rows) and shards being written. */
size_t kd_shard_set_missing(const kd_shard_set *set);
size_t kd_shard_set_running(const kd_shard_set *set);

#endif
