/* The records of a run (docs/run-format.md): one row per grid point x pipeline,
 * as a CSV line and as a JSON Lines object, and the store that appends them point by
 * point (fsync), reads them back to resume, and refuses another scenario's output. */
#ifndef KDBENCH_RUN_H
#define KDBENCH_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/grid.h"
#include "kdbench/hash.h"
#include "kdbench/pipeline.h"
#include "kdbench/scenario_id.h"
#include "kdbench/stats.h"

/* The schema of NAME.meta.json, and of NAME.jsonl (2: every row ends in its integrity
 * check, "check"; docs/run-format.md). */
#define KD_RUN_SCHEMA 1
#define KD_ROW_SCHEMA 2

typedef struct {
  size_t point;          /* index in the grid */
  char key[17];          /* point key, 16 hex digits */
  kd_pipeline pipeline;
  size_t n, p, m, k;     /* m = 0 / k = 0: empty (does not apply) */
  double ridge, alpha, signal_exp, sigma; /* NaN: empty */
  kd_summary s;          /* s.count = trials */
  double theory, ratio;  /* NaN: empty; +-inf allowed */
  long fallbacks;
  int exact;             /* theory_kind: exact (1) or de (0) */
  char flag[12];         /* peak, near-peak or "" */
  double wall_s;
  double real_fraction;  /* the mix's real fraction (NaN: empty): the mix's rows, all rows
                            where it is swept */
  double test_risk;      /* sim mean + the ground-truth labels' sigma^2; NaN: empty */
  size_t student_features; /* the features pipeline's s; 0: empty (does not apply) */
  double *risks;         /* per-trial risks (--raw) or NULL; owned by the row */
  size_t n_risks;
  /* a pipeline with several rows at a point (docs/architecture.md): the row's step and
   * group (0 and "": a pipeline of one row), written in the columns its descriptor
   * names (kd_pipeline_type.step_column, group_column) */
  int step;
  char group[KD_GROUP_LEN];
  /* the fraction of trials in which this row's risk is below its group's step 1 on the
   * same trial, and its Wilson 95 % interval; NaN: empty (step 1, one-row pipelines) */
  double beats, beats_low, beats_high;
} kd_row;

extern const char *const kd_csv_header;

void kd_row_write_csv(FILE *f, const kd_row *r);
/* The JSON Lines object of a row, with its newline, its last key the integrity
 * check ("check": the FNV-1a 64 of the line's text before ',"check":'); caller frees. */
char *kd_row_to_json(const kd_row *r, const char *scenario_hash);
/* Whether line[0..len) (no newline) ends in the check of the text before it: 1 yes,
 * 0 no check there, -1 a check that does not match. */
int kd_row_check(const char *line, size_t len);
/* Parses one JSON Lines object (its keys; the check is kd_row_check's); *hash gets its
 * scenario hash. The error names `origin` (file:line) and the key. Reading a run goes
 * through kd_run_read (kdbench/run_reader.h), which applies the rules of a run. */
kd_status kd_row_from_json(const char *line, const char *origin, kd_row *r, char hash[17]);
struct cJSON;
kd_status kd_row_from_object(const struct cJSON *o, const char *origin, kd_row *r, char hash[17]);
void kd_row_free(kd_row *r);

/* The point key of grid point pt of the scenario `hash` (16 hex digits): FNV-1a 64 of
 * the hash and the point's text (kd_grid_point_text). */
void kd_point_key(const char *hash, const kd_grid_point *pt, char key[17]);

typedef struct {
  char csv_path[4096], jsonl_path[4096], meta_path[4096], lock_path[4096];
  char hash[17];
  int fd_csv, fd_jsonl, fd_lock; /* NAME.lock: flock-ed while a kdbench writes the run */
  kd_row *rows;          /* the rows on disk (found on opening, then appended), in grid
                          * order; their risks owned */
  size_t n_rows, cap_rows;
} kd_run_store;

/* Opens the run whose CSV is csv_path for appending; a run another process is
 * writing (its NAME.lock is held) is refused. Rows of the scenario `id` (grid `g`)
 * already there are kept (see kd_run_find) unless `force`; they are read by
 * kd_run_read, which drops a torn last line and damaged rows with a warning on `log`
 * (their points are recomputed), as are points with fewer rows than `rows_per_point`;
 * another scenario's output (another hash: the error says which of its parts
 * changed, from the run's metadata) or a CSV without its JSON Lines is refused
 * unless `force`, which starts afresh. The JSON Lines (when rows were dropped or out
 * of order) and the CSV are rewritten from the rows kept, in grid order. */
kd_status kd_run_open(kd_run_store *rs, const char *csv_path, const kd_scenario_id *id,
                      const kd_grid *g, size_t rows_per_point, int force, FILE *log);
/* Opens the run afresh (as `force` does) holding copies of rows[0..count), rows of the
 * scenario `id` in grid order (an extended run's: host/sweep/extend.c): both files are
 * replaced, each at once, by them. */
kd_status kd_run_open_from(kd_run_store *rs, const char *csv_path, const kd_scenario_id *id,
                           const kd_grid *g, const kd_row *rows, size_t count, FILE *log);
/* The stored rows of point `key` (consecutive), or NULL; *count gets their number. */
const kd_row *kd_run_find(const kd_run_store *rs, const char *key, size_t *count);
/* Adds one point's rows to the JSON Lines, then the CSV: appended, each in one write
 * and fsynced; a point before one already on disk (a resume filling a hole) makes
 * both files be replaced (kd_file_replace) by all rows in grid order instead, so that
 * they are in grid order at every moment. */
kd_status kd_run_append(kd_run_store *rs, const kd_row *rows, size_t count);
void kd_run_close(kd_run_store *rs);

#endif
