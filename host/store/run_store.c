/* The run's files on disk: append a point's rows with fsync (or, for a point before
 * one on disk, replace both files in grid order), read them back to resume
 * (kd_run_read: torn and damaged rows dropped), refuse another scenario's output. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdbench/file_io.h"
#include "kdbench/run.h"
#include "kdbench/run_paths.h"
#include "kdbench/run_reader.h"

/* The CSV and the JSON Lines text of rows. */
static kd_status render(const kd_row *rows, size_t count, const char *hash, char **csv,
                        size_t *csv_len, char **jsonl, size_t *jsonl_len) {
  FILE *c = open_memstream(csv, csv_len), *j = jsonl ? open_memstream(jsonl, jsonl_len) : NULL;
  kd_status st = c && (!jsonl || j) ? KD_OK : kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; i < count && st == KD_OK; ++i) {
    kd_row_write_csv(c, &rows[i]);
    if (!j) continue;
    char *line = kd_row_to_json(&rows[i], hash);
    if (!line) st = kd_fail(KD_ENOMEM, "out of memory");
    else fputs(line, j);
    free(line);
  }
  if (c) fclose(c);
  if (j) fclose(j);
  return st;
}

static void free_rows(kd_run_store *rs) {
  for (size_t i = 0; i < rs->n_rows; ++i) kd_row_free(&rs->rows[i]);
  free(rs->rows);
  rs->rows = NULL;
  rs->n_rows = 0;
}

/* The refusal of a run whose row at `line` has hash `hash`, saying what changed (from
 * its metadata's hash parts, when it has readable metadata). */
static kd_status another_scenario(const kd_run_store *rs, const char *stem, const char *hash,
                                  size_t line, const kd_scenario_id *id) {
  cJSON *meta = NULL;
  kd_run_read_meta(stem, &meta); /* none readable: the diff says so */
  kd_scenario_id was;
  kd_scenario_id_from_json(meta, &was);
  cJSON_Delete(meta);
  char why[1024];
  kd_scenario_id_diff(&was, id, why, sizeof why);
  return kd_fail(KD_EINVAL,
                 "%s:%zu holds a run of another scenario (hash %s, this one %s: %s): use --force "
                 "to overwrite it, or write elsewhere with --csv",
                 rs->jsonl_path, line, hash, rs->hash, why);
}

/* Reads the run's rows (kd_run_read, against the grid's point keys) into rs->rows,
 * keeping the complete points; *changed when anything was dropped or out of order. */
static kd_status load(kd_run_store *rs, const char *stem, const kd_scenario_id *id,
                      const kd_grid *g, size_t rows_per_point, FILE *log, int *changed) {
  char (*keys)[17] = malloc(17 * (g->count ? g->count : 1));
  if (!keys) return kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; i < g->count; ++i) kd_point_key(rs->hash, &g->pt[i], keys[i]);
  kd_run_expect want = {.hash = rs->hash, .points = g->count, .keys = (const char(*)[17])keys,
                        .drop_damaged = 1, .allow_empty = 1};
  kd_run_view v;
  kd_status st = kd_run_read(stem, &want, &v, log);
  free(keys);
  if (st != KD_OK && v.other_line) st = another_scenario(rs, stem, v.other_hash, v.other_line, id);
  else if (st == KD_EINVAL)
    st = kd_fail(st, "%s: repair it, or start afresh with --force", kd_last_error());
  if (st != KD_OK) {
    kd_run_view_free(&v);
    return st;
  }
  *changed = v.dropped || v.reordered;
  /* Keep only complete points: all their rows. */
  size_t kept = 0;
  for (size_t i = 0; i < v.n_rows;) {
    size_t j = i;
    while (j < v.n_rows && v.rows[j].point == v.rows[i].point) ++j;
    if (j - i == rows_per_point) {
      for (size_t t = i; t < j; ++t) v.rows[kept++] = v.rows[t];
    } else {
      if (log) fprintf(log, "kdbench: warning: %s: point %zu has %zu of its %zu rows; recomputed\n",
                       rs->jsonl_path, v.rows[i].point, j - i, rows_per_point);
      for (size_t t = i; t < j; ++t) kd_row_free(&v.rows[t]);
      *changed = 1;
    }
    i = j;
  }
  rs->rows = v.rows; /* taken from the view */
  rs->n_rows = rs->cap_rows = kept;
  v.rows = NULL;
  v.n_rows = 0;
  kd_run_view_free(&v);
  return KD_OK;
}

/* Replaces the CSV (and, with `jsonl`, the JSON Lines) by rs->rows, in that order of
 * files (the JSON Lines first: they are what resume trusts), and (re)opens both for
 * appending. */
static kd_status rewrite(kd_run_store *rs, int jsonl) {
  char *csv = NULL, *json = NULL;
  size_t csv_len = 0, json_len = 0;
  kd_status st = render(rs->rows, rs->n_rows, rs->hash, &csv, &csv_len, jsonl ? &json : NULL,
                        &json_len);
  if (st == KD_OK && jsonl) st = kd_file_replace(rs->jsonl_path, json, json_len);
  if (st == KD_OK) {
    size_t hl = strlen(kd_csv_header);
    char *full = malloc(hl + csv_len + 1);
    if (!full) st = kd_fail(KD_ENOMEM, "out of memory");
    else {
      memcpy(full, kd_csv_header, hl);
      memcpy(full + hl, csv, csv_len);
      st = kd_file_replace(rs->csv_path, full, hl + csv_len);
      free(full);
    }
  }
  free(csv);
  free(json);
  if (rs->fd_jsonl >= 0) close(rs->fd_jsonl);
  if (rs->fd_csv >= 0) close(rs->fd_csv);
  rs->fd_csv = rs->fd_jsonl = -1;
  if (st == KD_OK && (rs->fd_jsonl = open(rs->jsonl_path, O_WRONLY | O_APPEND)) < 0)
    st = kd_fail(KD_EIO, "%s: cannot append: %s", rs->jsonl_path, strerror(errno));
  if (st == KD_OK && (rs->fd_csv = open(rs->csv_path, O_WRONLY | O_APPEND)) < 0)
    st = kd_fail(KD_EIO, "%s: cannot append: %s", rs->csv_path, strerror(errno));
  return st;
}

/* flock on NAME.lock, re-checked against the path: the previous holder unlinks the
 * file as it releases it, and a lock on an unlinked file would guard nothing. */
static kd_status take_lock(kd_run_store *rs, const char *csv_path) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    int fd = open(rs->lock_path, O_RDWR | O_CREAT, 0666);
    if (fd < 0) return kd_fail(KD_EIO, "%s: cannot create: %s", rs->lock_path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      return kd_fail(KD_EINVAL, "%s is being written by another kdbench (%s is locked)", csv_path,
                     rs->lock_path);
    }
    struct stat held, now;
    if (fstat(fd, &held) == 0 && stat(rs->lock_path, &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      rs->fd_lock = fd;
      return KD_OK;
    }
    close(fd); /* the file was replaced under us: try the new one */
  }
  return kd_fail(KD_EIO, "%s: cannot take the lock", rs->lock_path);
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static kd_status keep(kd_run_store *rs, const kd_row *rows, size_t count, size_t *at);

/* kd_run_open, or with `init` (force): afresh, holding copies of init[0..n_init). */
static kd_status open_run(kd_run_store *rs, const char *csv_path, const kd_scenario_id *id,
                          const kd_grid *g, size_t rows_per_point, int force,
                          const kd_row *init, size_t n_init, FILE *log) {
  memset(rs, 0, sizeof *rs);
  rs->fd_csv = rs->fd_jsonl = rs->fd_lock = -1;
  const char *hash = id->hash;
  snprintf(rs->hash, sizeof rs->hash, "%s", hash);
  char stem[4096];
  kd_status st = kd_run_stem(csv_path, stem, sizeof stem);
  if (st == KD_OK && strlen(csv_path) >= sizeof rs->csv_path)
    st = kd_fail(KD_EINVAL, "--csv: path too long");
  if (st == KD_OK) st = kd_run_path(stem, ".jsonl", rs->jsonl_path, sizeof rs->jsonl_path);
  if (st == KD_OK) st = kd_run_path(stem, ".meta.json", rs->meta_path, sizeof rs->meta_path);
  if (st == KD_OK) st = kd_run_name_check(csv_path); /* before the first folder is made */
  if (st != KD_OK) return st;
  strcpy(rs->csv_path, csv_path);
  st = kd_make_parent_dirs(csv_path);
  if (st == KD_OK) st = kd_run_path(stem, ".lock", rs->lock_path, sizeof rs->lock_path);
  if (st != KD_OK) return st;
  /* One writer per run: a second kdbench on the same output is refused, not mixed in.
   * The lock dies with the process (a SIGKILL included). */
  st = take_lock(rs, csv_path);
  if (st != KD_OK) return st;

  int have_jsonl = exists(rs->jsonl_path), changed = 0;
  if (!force && !have_jsonl && exists(csv_path)) {
    st = kd_fail(KD_EINVAL,
                 "%s exists without %s beside it (not a resumable kdbench run): use --force "
                 "to overwrite it, or write elsewhere with --csv",
                 csv_path, rs->jsonl_path);
    kd_run_close(rs); /* release and remove NAME.lock: leave the folder as it was */
    return st;
  }
  if (!force && have_jsonl) st = load(rs, stem, id, g, rows_per_point, log, &changed);
  for (size_t i = 0, at; st == KD_OK && i < n_init; ++i) st = keep(rs, &init[i], 1, &at);
  /* The JSON Lines are the record; the CSV is rewritten from them. */
  if (st == KD_OK) st = rewrite(rs, changed || force || !have_jsonl);
  if (st != KD_OK) kd_run_close(rs);
  return st;
}

kd_status kd_run_open(kd_run_store *rs, const char *csv_path, const kd_scenario_id *id,
                      const kd_grid *g, size_t rows_per_point, int force, FILE *log) {
  return open_run(rs, csv_path, id, g, rows_per_point, force, NULL, 0, log);
}

kd_status kd_run_open_from(kd_run_store *rs, const char *csv_path, const kd_scenario_id *id,
                           const kd_grid *g, const kd_row *rows, size_t count, FILE *log) {
  return open_run(rs, csv_path, id, g, 0, 1, rows, count, log);
}

const kd_row *kd_run_find(const kd_run_store *rs, const char *key, size_t *count) {
  for (size_t i = 0; i < rs->n_rows; ++i) {
    if (strcmp(rs->rows[i].key, key) != 0) continue;
    size_t j = i;
    while (j < rs->n_rows && !strcmp(rs->rows[j].key, key)) ++j;
    *count = j - i;
    return &rs->rows[i];
  }
  *count = 0;
  return NULL;
}

/* Inserts copies of rows[0..count) (one point's; their risks copied) into rs->rows
 * at the place of their point; *at gets that place. */
static kd_status keep(kd_run_store *rs, const kd_row *rows, size_t count, size_t *at) {
  if (rs->n_rows + count > rs->cap_rows) {
    size_t cap = 2 * (rs->n_rows + count);
    kd_row *nr = realloc(rs->rows, sizeof *nr * cap);
    if (!nr) return kd_fail(KD_ENOMEM, "out of memory");
    rs->rows = nr;
    rs->cap_rows = cap;
  }
  size_t i = rs->n_rows;
  while (i > 0 && rs->rows[i - 1].point > rows[0].point) --i;
  memmove(rs->rows + i + count, rs->rows + i, sizeof *rs->rows * (rs->n_rows - i));
  for (size_t r = 0; r < count; ++r) {
    kd_row *c = &rs->rows[i + r];
    *c = rows[r];
    if (rows[r].risks && (c->risks = malloc(sizeof(double) * (c->n_risks ? c->n_risks : 1))))
      memcpy(c->risks, rows[r].risks, sizeof(double) * c->n_risks);
    else if (rows[r].risks) c->n_risks = 0; /* out of memory: rs->rows stays consistent */
  }
  rs->n_rows += count;
  *at = i;
  for (size_t r = 0; r < count; ++r)
    if (rows[r].risks && !rs->rows[i + r].risks) return kd_fail(KD_ENOMEM, "out of memory");
  return KD_OK;
}

kd_status kd_run_append(kd_run_store *rs, const kd_row *rows, size_t count) {
  size_t at = 0;
  kd_status st = keep(rs, rows, count, &at);
  if (st != KD_OK) return st;
  /* A point before one already on disk (a resume filling a hole): both files again,
   * in grid order. */
  if (at + count < rs->n_rows) return rewrite(rs, 1);
  char *csv = NULL, *jsonl = NULL;
  size_t csv_len = 0, jsonl_len = 0;
  /* where the files end now: a write cut short (a full disk) takes both back there, so
   * that they hold the same whole points (the CSV's write can fail after the JSON
   * Lines' succeeded) */
  const off_t jsonl_end = lseek(rs->fd_jsonl, 0, SEEK_END), csv_end = lseek(rs->fd_csv, 0, SEEK_END);
  st = render(rows, count, rs->hash, &csv, &csv_len, &jsonl, &jsonl_len);
  /* The JSON Lines first: they are what resume trusts. */
  if (st == KD_OK) st = kd_file_write_all(rs->fd_jsonl, jsonl, jsonl_len, rs->jsonl_path);
  if (st == KD_OK && fsync(rs->fd_jsonl) != 0)
    st = kd_fail(KD_EIO, "%s: fsync failed: %s", rs->jsonl_path, strerror(errno));
  if (st == KD_OK) st = kd_file_write_all(rs->fd_csv, csv, csv_len, rs->csv_path);
  if (st == KD_OK && fsync(rs->fd_csv) != 0)
    st = kd_fail(KD_EIO, "%s: fsync failed: %s", rs->csv_path, strerror(errno));
  if (st != KD_OK && jsonl_end >= 0 && csv_end >= 0 && ftruncate(rs->fd_jsonl, jsonl_end) == 0 &&
      ftruncate(rs->fd_csv, csv_end) == 0) {
    fsync(rs->fd_jsonl); /* best effort: the error above is what is reported */
    fsync(rs->fd_csv);
  }
  free(csv);
  free(jsonl);
  return st;
}

void kd_run_close(kd_run_store *rs) {
  if (rs->fd_csv >= 0) close(rs->fd_csv);
  if (rs->fd_jsonl >= 0) close(rs->fd_jsonl);
  rs->fd_csv = rs->fd_jsonl = -1;
  if (rs->fd_lock >= 0) {
    unlink(rs->lock_path); /* while still holding it: a waiting writer re-checks the file */
    close(rs->fd_lock);
    rs->fd_lock = -1;
  }
  free_rows(rs);
}
