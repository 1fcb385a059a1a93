/* The records of a run (docs/run-format.md): one row per grid point x pipeline,
 * as a CSV line and as a JSON Lines object, and the store that appends them point by
 * point (fsync), reads them back to resume, and refuses another scenario's output. */
#ifndef KDBENCH_RUN_H
#define KDBENCH_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/hash.h"
#include "kdbench/pipeline.h"
#include "kdbench/scenario_id.h"
#include "kdbench/stats.h"

#define KD_RUN_SCHEMA 1

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
  double *risks;         /* per-trial risks (--raw) or NULL; owned by the row */
  size_t n_risks;
} kd_row;

extern const char *const kd_csv_header;

void kd_row_write_csv(FILE *f, const kd_row *r);
/* The JSON Lines object of a row, with its newline; caller frees. */
char *kd_row_to_json(const kd_row *r, const char *scenario_hash);
/* Parses one JSON Lines object; *hash gets its scenario hash. The error names
 * `origin` (file:line) and the key. */
kd_status kd_row_from_json(const char *line, const char *origin, kd_row *r, char hash[17]);
void kd_row_free(kd_row *r);

typedef struct {
  char csv_path[4096], jsonl_path[4096], meta_path[4096], lock_path[4096];
  char hash[17];
  int fd_csv, fd_jsonl, fd_lock; /* NAME.lock: flock-ed while a kdbench writes the run */
  kd_row *rows;          /* finished rows found on opening, in file order */
  size_t n_rows;
} kd_run_store;

/* Opens the run whose CSV is csv_path for appending; a run another process is
 * writing (its NAME.lock is held) is refused. Rows of the scenario `id` already
 * there are kept (see kd_run_find) unless `force`; a torn last line and points with
 * fewer rows than `rows_per_point` are dropped with a warning on `log`; another
 * scenario's output (another hash: the error says which of its parts changed, from
 * the run's metadata) or a CSV without its JSON Lines is refused unless `force`,
 * which starts afresh. The CSV is rewritten from the JSON Lines. */
kd_status kd_run_open(kd_run_store *rs, const char *csv_path, const kd_scenario_id *id,
                      size_t rows_per_point, int force, FILE *log);
/* The stored rows of point `key` (consecutive), or NULL; *count gets their number. */
const kd_row *kd_run_find(const kd_run_store *rs, const char *key, size_t *count);
/* Appends one point's rows to the JSON Lines, then the CSV, each in one write and
 * fsynced. */
kd_status kd_run_append(kd_run_store *rs, const kd_row *rows, size_t count);
void kd_run_close(kd_run_store *rs);

#endif
