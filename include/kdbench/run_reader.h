/* The one reader of a stored run (docs/run-format.md, "Reading a run"): NAME.meta.json
 * and the rows of NAME.jsonl, with the rules every reader of a run follows (resume,
 * fit, report, merge and missing) written once: a torn last line is dropped with a
 * warning; any other line that is not a JSON object is an error naming file:line; a
 * row that fails its integrity check or its own keys' checks is damaged (dropped with a
 * warning for resume, an error for the others); a row of another scenario is refused;
 * of two rows of the same point and pipeline the later wins; rows end in grid order. */
#ifndef KDBENCH_RUN_READER_H
#define KDBENCH_RUN_READER_H

#include <cJSON.h>
#include <stddef.h>
#include <stdio.h>

#include "kdbench/run.h"

/* What the rows must agree with. */
typedef struct {
  /* The scenario hash of every row; NULL: the metadata's, which is then read (into
   * view->meta), as is the grid's size (below). */
  const char *hash;
  /* A row's point is below it: the grid's points (0: not checked). With hash NULL it
   * is the metadata's (a shard's shard.grid_points, else points_total). */
  size_t points;
  /* The grid's point keys by point (points of them), or NULL: a row's point_key must
   * be its point's; without them, rows of one point must share one key. */
  const char (*keys)[17];
  /* Resume: a damaged row is dropped with a warning (its point is then recomputed)
   * instead of being an error. */
  int drop_damaged;
  /* An empty JSON Lines file (or one with only a torn line) is no error. */
  int allow_empty;
} kd_run_expect;

/* Where a row came from: its line (from 1) and its text's span in view->text
 * (newline included). */
typedef struct {
  size_t line, off, len;
} kd_run_line;

typedef struct {
  cJSON *meta;          /* NAME.meta.json when the hash came from it, else NULL */
  char *text;           /* NAME.jsonl as read */
  size_t len;
  kd_row *rows;         /* by (point, pipeline), one per identity (the later line won, in
                         * the place of the first) */
  kd_run_line *at;      /* at[i]: where rows[i] came from */
  size_t n_rows;
  size_t dropped;       /* lines dropped: a torn last one, damaged rows */
  int reordered;        /* rows[] is not the file's lines in order (out of order, or a
                         * duplicate resolved) */
  char other_hash[17];  /* on the refusal of a row of another scenario: its hash, */
  size_t other_line;    /* and its line (0: no such refusal) */
} kd_run_view;

/* Reads the run `stem` (kd_run_stem's) into *v (zeroed first; free it with
 * kd_run_view_free, also after an error). Warnings go to log (NULL: none). */
kd_status kd_run_read(const char *stem, const kd_run_expect *want, kd_run_view *v, FILE *log);
void kd_run_view_free(kd_run_view *v);

/* NAME.meta.json of the run `stem`, parsed (a regular file, valid JSON with nothing
 * after it, an object); the caller deletes it. */
kd_status kd_run_read_meta(const char *stem, cJSON **meta);

/* A count of a run's metadata, o[key]: 0 unless a whole number in [0, 2^53] (casting
 * 1e30 or a negative to size_t would be undefined). */
size_t kd_run_meta_count(const cJSON *o, const char *key);

#endif
