/* The one reader of a stored run (include/kdbench/run_reader.h): the rules of
 * docs/run-format.md ("Reading a run") in one place, for resume, fit, report, merge
 * and missing. */
#include "kdbench/run_reader.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/file_io.h"
#include "kdbench/run_paths.h"

kd_status kd_run_read_meta(const char *stem, cJSON **meta) {
  *meta = NULL;
  char path[4096];
  size_t len = 0;
  kd_status st = kd_run_path(stem, ".meta.json", path, sizeof path);
  if (st != KD_OK) return st;
  char *text = kd_file_read(path, &len);
  if (!text) return KD_EIO; /* kd_file_read named the path and the reason */
  if (strlen(text) != len) st = kd_fail(KD_EINVAL, "%s: not valid JSON (a NUL byte)", path);
  /* require_null_terminated: text after the object is not JSON either */
  if (st == KD_OK && !(*meta = cJSON_ParseWithOpts(text, NULL, 1)))
    st = kd_fail(KD_EINVAL, "%s: not valid JSON", path);
  free(text);
  if (st == KD_OK && !cJSON_IsObject(*meta)) st = kd_fail(KD_EINVAL, "%s: not a JSON object", path);
  if (st != KD_OK) {
    cJSON_Delete(*meta);
    *meta = NULL;
  }
  return st;
}

size_t kd_run_meta_count(const cJSON *o, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= 9007199254740992.0) ||
      x->valuedouble != floor(x->valuedouble))
    return 0;
  return (size_t)x->valuedouble;
}

/* The hash and the grid's size from the metadata. */
static kd_status from_meta(const char *stem, kd_run_view *v, char hash[17], size_t *points) {
  kd_status st = kd_run_read_meta(stem, &v->meta);
  if (st != KD_OK) return st;
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(v->meta, "scenario_hash");
  if (!cJSON_IsString(h) || strlen(h->valuestring) != 16 ||
      strspn(h->valuestring, "0123456789abcdef") != 16)
    return kd_fail(KD_EINVAL, "%s.meta.json: key \"scenario_hash\" is missing or not 16 hex digits",
                   stem);
  memcpy(hash, h->valuestring, 17);
  const cJSON *shard = cJSON_GetObjectItemCaseSensitive(v->meta, "shard");
  *points = cJSON_IsObject(shard) ? kd_run_meta_count(shard, "grid_points")
                                 : kd_run_meta_count(v->meta, "points_total");
  return KD_OK;
}

typedef struct {
  const kd_run_expect *want;
  kd_run_view *v;
  FILE *log;
  size_t cap;
} reader;

/* A damaged row (the message names file:line and what failed): dropped with a warning
 * (KD_OK) or an error. */
static kd_status damaged(reader *rd, const char *fmt, ...) {
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (!rd->want->drop_damaged) return kd_fail(KD_EINVAL, "%s; resume the run to recompute it", what);
  if (rd->log) fprintf(rd->log, "kdbench: warning: %s; the row is dropped, its point recomputed\n", what);
  ++rd->v->dropped;
  return KD_OK;
}

static void torn(reader *rd, const char *origin, const char *why) {
  if (rd->log) fprintf(rd->log, "kdbench: warning: %s: torn last line (%s) dropped\n", origin, why);
  ++rd->v->dropped;
}

/* The row of one line that is a JSON object o; a damaged row is left out. */
static kd_status take(reader *rd, const cJSON *o, const char *origin, const char *hash,
                      size_t points, size_t lineno, size_t off, size_t len) {
  kd_run_view *v = rd->v;
  const char *line = v->text + off;
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "scenario_hash");
  if (cJSON_IsString(h) && strcmp(h->valuestring, hash)) { /* refused, not dropped */
    snprintf(v->other_hash, sizeof v->other_hash, "%s", h->valuestring);
    v->other_line = lineno;
    return kd_fail(KD_EINVAL, "%s: a row of another scenario (hash %.16s, the run's %s)", origin,
                   h->valuestring, hash);
  }
  int check = kd_row_check(line, len - 1);
  if (check == 0 && !strstr(line, "\"check\""))
    return damaged(rd, "%s: no integrity check (a row written by an older kdbench)", origin);
  if (check <= 0) return damaged(rd, "%s: the row fails its integrity check (edited or damaged)", origin);
  kd_row r;
  char row_hash[17];
  kd_status st = kd_row_from_object(o, origin, &r, row_hash);
  if (st == KD_ENOMEM) return st;
  if (st != KD_OK) return damaged(rd, "%s", kd_last_error());
  const char *why = NULL;
  char buf[160];
  if (points && r.point >= points) {
    snprintf(buf, sizeof buf, "point %zu beyond the grid's %zu points", r.point, points);
    why = buf;
  } else if (rd->want->keys && r.point < points && strcmp(r.key, rd->want->keys[r.point])) {
    snprintf(buf, sizeof buf, "point key %s is not point %zu's (%s)", r.key, r.point,
             rd->want->keys[r.point]);
    why = buf;
  } else if (r.risks && r.n_risks != r.s.count) {
    snprintf(buf, sizeof buf, "%zu per-trial risks for %zu trials", r.n_risks, r.s.count);
    why = buf;
  }
  if (why) {
    kd_row_free(&r);
    return damaged(rd, "%s: %s", origin, why);
  }
  if (v->n_rows == rd->cap) {
    size_t cap = rd->cap ? 2 * rd->cap : 64;
    kd_row *rows = realloc(v->rows, cap * sizeof *rows);
    if (rows) v->rows = rows;
    kd_run_line *at = rows ? realloc(v->at, cap * sizeof *at) : NULL;
    if (at) v->at = at;
    if (!rows || !at) {
      kd_row_free(&r);
      return kd_fail(KD_ENOMEM, "out of memory for %zu rows", cap);
    }
    rd->cap = cap;
  }
  v->at[v->n_rows] = (kd_run_line){.line = lineno, .off = off, .len = len};
  v->rows[v->n_rows++] = r;
  return KD_OK;
}

/* The lines of v->text, each through take(). */
static kd_status read_lines(reader *rd, const char *path, const char *hash, size_t points) {
  kd_run_view *v = rd->v;
  char *text = v->text, *end = text + v->len;
  kd_status st = KD_OK;
  size_t lineno = 0;
  for (char *s = text; s < end && st == KD_OK;) {
    char *nl = memchr(s, '\n', (size_t)(end - s));
    char origin[4200];
    snprintf(origin, sizeof origin, "%s:%zu", path, ++lineno);
    if (!nl) { /* the write was cut */
      torn(rd, origin, "no newline");
      break;
    }
    *nl = '\0';
    cJSON *o = strlen(s) == (size_t)(nl - s) ? cJSON_ParseWithOpts(s, NULL, 1) : NULL;
    if (cJSON_IsObject(o))
      st = take(rd, o, origin, hash, points, lineno, (size_t)(s - text), (size_t)(nl + 1 - s));
    else if (nl + 1 == end)
      torn(rd, origin, "not a JSON object");
    else
      st = kd_fail(KD_EINVAL, "%s: not a JSON object (a corrupt run)", origin);
    cJSON_Delete(o);
    *nl = '\n';
    s = nl + 1;
  }
  return st;
}

/* A row's identity: its point, pipeline, group and step (docs/architecture.md). */
static int same_row(const kd_row *x, const kd_row *y) {
  return x->point == y->point && x->pipeline == y->pipeline && x->step == y->step &&
         !strcmp(x->group, y->group);
}

static int by_line(const kd_run_view *v, size_t i, size_t j) {
  return (v->at[i].line > v->at[j].line) - (v->at[i].line < v->at[j].line);
}

/* By identity, then line: a row's copies side by side, the last line last. */
static int by_identity_line(const void *a, const void *b, void *ctx) {
  const kd_run_view *v = ctx;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  const kd_row *x = &v->rows[i], *y = &v->rows[j];
  if (x->point != y->point) return x->point < y->point ? -1 : 1;
  if (x->pipeline != y->pipeline) return x->pipeline < y->pipeline ? -1 : 1;
  int g = strcmp(x->group, y->group);
  if (g) return g;
  if (x->step != y->step) return x->step < y->step ? -1 : 1;
  return by_line(v, i, j);
}

/* The kept rows in the order of the run: by point and pipeline, then as written (a
 * pipeline's groups and steps in the order it gives them), a row that won over an
 * earlier copy of itself in that copy's place (`place`: by row, the line of its
 * identity's first copy). */
typedef struct {
  const kd_run_view *v;
  const size_t *place;
} placed;

static int by_point_pipeline_place(const void *a, const void *b, void *ctx) {
  const placed *c = ctx;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  const kd_row *x = &c->v->rows[i], *y = &c->v->rows[j];
  if (x->point != y->point) return x->point < y->point ? -1 : 1;
  if (x->pipeline != y->pipeline) return x->pipeline < y->pipeline ? -1 : 1;
  return (c->place[i] > c->place[j]) - (c->place[i] < c->place[j]);
}

/* The rows of each point (idx: by point) share one key: the key of most of them is
 * the point's, a row with another is named. */
static kd_status one_key(const kd_run_view *v, const size_t *idx, size_t n, const char *path) {
  for (size_t i = 0, j; i < n; i = j) {
    size_t best = i, best_votes = 0;
    for (j = i; j < n && v->rows[idx[j]].point == v->rows[idx[i]].point; ++j) {
      size_t votes = 0;
      for (size_t t = i; t < n && v->rows[idx[t]].point == v->rows[idx[i]].point; ++t)
        votes += !strcmp(v->rows[idx[t]].key, v->rows[idx[j]].key);
      if (votes > best_votes) best = j, best_votes = votes;
    }
    for (size_t t = i; t < j; ++t)
      if (strcmp(v->rows[idx[t]].key, v->rows[idx[best]].key))
        return kd_fail(KD_EINVAL, "%s:%zu: point key %s is not that of point %zu's other rows (%s)",
                       path, v->at[idx[t]].line, v->rows[idx[t]].key, v->rows[idx[t]].point,
                       v->rows[idx[best]].key);
  }
  return KD_OK;
}

/* Rows by (point, pipeline, group, step), the later line of a pair winning, then in
 * the order of the run; a point's rows (a pair's included) must share one key (the
 * grid's, when known, was checked row by row). */
static kd_status order(kd_run_view *v, const char *path) {
  size_t n = v->n_rows, kept = 0;
  if (!n) return KD_OK;
  size_t *idx = malloc(n * sizeof *idx), *place = malloc(n * sizeof *place);
  kd_row *rows = malloc(n * sizeof *rows);
  kd_run_line *at = malloc(n * sizeof *at);
  if (!idx || !place || !rows || !at) {
    free(idx), free(place), free(rows), free(at);
    return kd_fail(KD_ENOMEM, "out of memory for %zu rows", n);
  }
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  qsort_r(idx, n, sizeof *idx, by_identity_line, v);
  kd_status st = one_key(v, idx, n, path);
  /* the rows that win, in idx[0 .. live); first: the line (from 1) of the first copy of
   * idx[i]'s identity, 0 before it */
  size_t live = 0, first = 0;
  for (size_t i = 0; i < n; ++i) {
    kd_row *r = &v->rows[idx[i]];
    const kd_row *next = i + 1 < n ? &v->rows[idx[i + 1]] : NULL;
    if (!first) first = v->at[idx[i]].line;
    if (next && same_row(next, r)) {
      kd_row_free(r); /* a later row of the same identity follows: it wins */
      continue;
    }
    place[idx[i]] = first;
    first = 0;
    idx[live++] = idx[i];
  }
  qsort_r(idx, live, sizeof *idx, by_point_pipeline_place, &(placed){v, place});
  for (size_t i = 0; i < live; ++i) {
    if (kept && at[kept - 1].line > v->at[idx[i]].line) v->reordered = 1;
    at[kept] = v->at[idx[i]];
    rows[kept++] = v->rows[idx[i]];
  }
  if (kept != n) v->reordered = 1;
  free(idx);
  free(place);
  free(v->rows);
  free(v->at);
  v->rows = rows;
  v->at = at;
  v->n_rows = kept;
  return st;
}

kd_status kd_run_read(const char *stem, const kd_run_expect *want, kd_run_view *v, FILE *log) {
  memset(v, 0, sizeof *v);
  char hash[17] = "", path[4096];
  size_t points = want->points;
  kd_status st = KD_OK;
  if (want->hash) snprintf(hash, sizeof hash, "%s", want->hash);
  else st = from_meta(stem, v, hash, &points);
  if (st == KD_OK) st = kd_run_path(stem, ".jsonl", path, sizeof path);
  if (st != KD_OK) return st;
  if (!(v->text = kd_file_read(path, &v->len))) return KD_EIO; /* named by kd_file_read */
  reader rd = {.want = want, .v = v, .log = log};
  st = read_lines(&rd, path, hash, points);
  if (st == KD_OK) st = order(v, path);
  if (st == KD_OK && !v->n_rows && !want->allow_empty)
    st = kd_fail(KD_EINVAL, "%s: no rows (an empty run)", path);
  return st;
}

void kd_run_view_free(kd_run_view *v) {
  for (size_t i = 0; i < v->n_rows; ++i) kd_row_free(&v->rows[i]);
  free(v->rows);
  free(v->at);
  free(v->text);
  cJSON_Delete(v->meta);
  memset(v, 0, sizeof *v);
}
