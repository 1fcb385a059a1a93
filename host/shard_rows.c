/* Reading a shard's rows (for merge and missing): its JSON Lines, checked line by
 * line, grouped by point, each complete point filed under its global index with the
 * spans of its lines in the JSON Lines and in the CSV. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/file_io.h"
#include "shard_set.h"

/* ---- one shard's rows ------------------------------------------------------------------- */

/* The spans of the complete lines of a CSV after its header; NULL (and 0) when the
 * CSV is absent or not a kdbench CSV. */
static const char **csv_lines(const char *csv, size_t *count) {
  *count = 0;
  size_t hl = strlen(kd_csv_header);
  if (!csv || strncmp(csv, kd_csv_header, hl)) return NULL;
  size_t cap = 64;
  const char **v = malloc(sizeof *v * cap);
  for (const char *s = csv + hl, *nl; v && (nl = strchr(s, '\n')); s = nl + 1) {
    if (*count + 1 == cap) {
      const char **nv = realloc(v, sizeof *v * (cap *= 2));
      if (!nv) break;
      v = nv;
    }
    v[(*count)++] = s;
    v[*count] = nl + 1; /* the end of the last line */
  }
  return v;
}

/* Whether a CSV line holds `r`: its first ten cells (pipeline .. trials) are the
 * row's. The statistics are taken as written: the CSV has them from the computed
 * numbers, the JSON Lines through a decimal round trip. */
static int csv_matches(const char *line, const kd_row *r) {
  char buf[1024] = "";
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  if (!f) return 0;
  kd_row_write_csv(f, r);
  fclose(f);
  size_t cells = 0, i = 0;
  for (; buf[i] && line[i] == buf[i]; ++i)
    if (buf[i] == ',' && ++cells == 10) return 1;
  return 0;
}

typedef struct {
  kd_shard_set *set;
  size_t k;                 /* the shard's slot */
  const char **csv;         /* its CSV lines (csv[count] = the end) */
  size_t n_csv;
  int csv_warned;
  FILE *log;
} reader;

/* Files the complete point rows[0..n) read from lines [first, first + n) of the
 * JSON Lines, spanning json .. json_end. */
static kd_status add_point(reader *rd, kd_row *rows, size_t n, size_t first, const char *json,
                           const char *json_end) {
  kd_shard_set *set = rd->set;
  kd_shard_out *s = &set->shard[rd->k];
  kd_point_rows *pt = &set->point[rows[0].point];
  ++s->done;
  if (pt->shard >= 0) { /* also in another shard: the first one read stays */
    for (size_t r = 0; r < n; ++r) kd_row_free(&rows[r]);
    free(rows);
    return KD_OK;
  }
  pt->shard = (long)rd->k;
  pt->json = json;
  pt->json_len = (size_t)(json_end - json);
  pt->rows = rows;
  pt->wall_s = rows[0].wall_s;
  int ok = first + n <= rd->n_csv;
  for (size_t r = 0; ok && r < n; ++r) ok = csv_matches(rd->csv[first + r], &rows[r]);
  if (ok) {
    pt->csv = rd->csv[first];
    pt->csv_len = (size_t)(rd->csv[first + n] - rd->csv[first]);
  } else if (rd->csv && !rd->csv_warned && rd->log) {
    fprintf(rd->log, "kdbench: warning: %s.csv does not match %s.jsonl from row %zu on: its rows "
            "are written from the JSON Lines\n", s->stem, s->stem, first + 1);
    rd->csv_warned = 1;
  }
  return KD_OK;
}

kd_status kd_shard_read_rows(kd_shard_set *set, size_t k, FILE *log) {
  kd_shard_out *s = &set->shard[k];
  char path[4200];
  size_t len = 0;
  snprintf(path, sizeof path, "%s.csv", s->stem);
  s->csv = kd_file_read(path, NULL);
  snprintf(path, sizeof path, "%s.jsonl", s->stem);
  s->jsonl = kd_file_read(path, &len);
  if (!s->jsonl && errno == ENOENT) return KD_OK; /* started, nothing written yet */
  if (!s->jsonl) return kd_fail(KD_EIO, "%s: cannot read: %s", path, strerror(errno));
  reader rd = {.set = set, .k = k, .log = log};
  rd.csv = csv_lines(s->csv, &rd.n_csv);
  if (s->csv && !rd.csv && log) {
    fprintf(log, "kdbench: warning: %s.csv is not a kdbench CSV: its rows are written from the "
            "JSON Lines\n", s->stem);
    rd.csv_warned = 1;
  }
  kd_row *group = NULL;
  size_t n = 0, first = 0, lineno = 0;
  const char *group_start = NULL;
  kd_status st = KD_OK;
  char *text = s->jsonl, *end = text + len;
  for (char *line = text; line < end && st == KD_OK;) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    ++lineno;
    char origin[4300];
    snprintf(origin, sizeof origin, "%s:%zu", path, lineno);
    kd_row r;
    char hash[17];
    if (nl) *nl = '\0';
    kd_status pst = nl ? kd_row_from_json(line, origin, &r, hash) : KD_EINVAL;
    if (nl) *nl = '\n';
    if (pst != KD_OK && (!nl || nl + 1 == end)) { /* a torn last line, as resume sees it */
      if (log) fprintf(log, "kdbench: warning: %s: torn last line ignored (its point is missing)\n", origin);
      break;
    }
    if (pst != KD_OK) {
      st = kd_fail(pst, "%s (a corrupt shard)", kd_last_error());
      break;
    }
    kd_row_free(&r); /* the per-trial risks stay in the text */
    if (strcmp(hash, s->hash))
      st = kd_fail(KD_EINVAL, "%s: scenario hash %s, its metadata %s.meta.json says %s", origin, hash,
                   s->stem, s->hash);
    else if (r.point >= set->grid_points)
      st = kd_fail(KD_EINVAL, "%s: point %zu beyond the grid's %zu points (a corrupt shard)", origin,
                   r.point, set->grid_points);
    if (st != KD_OK) break;
    if (n && (strcmp(r.key, group[0].key) || r.point != group[0].point)) {
      free(group); /* an incomplete point: the rows of another follow */
      group = NULL;
      n = 0;
    }
    if (!n) {
      group = malloc(sizeof *group * set->rows_per_point);
      if (!group) st = kd_fail(KD_ENOMEM, "out of memory");
      group_start = line;
      first = lineno - 1;
    }
    if (group && n < set->rows_per_point) group[n++] = r;
    if (st == KD_OK && n == set->rows_per_point) {
      st = add_point(&rd, group, n, first, group_start, nl + 1);
      group = NULL;
      n = 0;
    }
    line = nl + 1;
  }
  free(group);
  free(rd.csv);
  return st;
}

