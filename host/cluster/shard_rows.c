/* Reading a shard's rows (for merge and missing): a shard is a run, read by
 * kd_run_read (docs/run-format.md, "Reading a run"); each complete point is filed
 * under its global index with the spans of its lines in the JSON Lines and in the CSV. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdbench/file_io.h"
#include "kdbench/run_reader.h"
#include "internal.h"

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

/* Files the complete point rows[0..n) (taken from the view; their per-trial risks
 * stay in the text), whose lines at[0..n) are now text[off, end) of the shard's JSON
 * Lines. */
static kd_status add_point(reader *rd, kd_row *rows, const kd_run_line *at, size_t n,
                           const char *text, size_t off, size_t end) {
  kd_shard_set *set = rd->set;
  kd_shard_out *s = &set->shard[rd->k];
  kd_point_rows *pt = &set->point[rows[0].point];
  ++s->done;
  if (pt->shard >= 0) return KD_OK; /* also in another shard: the first one read stays */
  kd_row *mine = malloc(sizeof *mine * n);
  if (!mine) return kd_fail(KD_ENOMEM, "out of memory");
  for (size_t r = 0; r < n; ++r) {
    kd_row_free(&rows[r]);
    mine[r] = rows[r];
  }
  pt->shard = (long)rd->k;
  pt->json = text + off;
  pt->json_len = end - off;
  pt->rows = mine;
  pt->wall_s = mine[0].wall_s;
  /* the CSV's lines of the rows: those of the same numbers, one after the other */
  size_t first = at[0].line - 1;
  int ok = first + n <= rd->n_csv;
  for (size_t r = 0; ok && r < n; ++r)
    ok = at[r].line == at[0].line + r && csv_matches(rd->csv[first + r], &mine[r]);
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
  snprintf(path, sizeof path, "%s.jsonl", s->stem);
  if (access(path, F_OK) != 0 && errno == ENOENT) return KD_OK; /* started, nothing written yet */
  snprintf(path, sizeof path, "%s.csv", s->stem);
  s->csv = kd_file_read(path, NULL);
  kd_run_expect want = {.hash = s->hash, .points = set->grid_points, .allow_empty = 1};
  kd_run_view v;
  kd_status st = kd_run_read(s->stem, &want, &v, log);
  if (st == KD_EINVAL) st = kd_fail(st, "%s (a corrupt shard)", kd_last_error());
  /* The JSON Lines of the shard's complete points, in grid order, are its text now:
   * each point's lines one span of it (merge copies them as they are). */
  char *text = st == KD_OK ? malloc(v.len + 1) : NULL;
  if (st == KD_OK && !text) st = kd_fail(KD_ENOMEM, "out of memory");
  reader rd = {.set = set, .k = k, .log = log};
  rd.csv = csv_lines(s->csv, &rd.n_csv);
  if (st == KD_OK && s->csv && !rd.csv && log) {
    fprintf(log, "kdbench: warning: %s.csv is not a kdbench CSV: its rows are written from the "
            "JSON Lines\n", s->stem);
    rd.csv_warned = 1;
  }
  size_t len = 0;
  for (size_t i = 0; st == KD_OK && i < v.n_rows;) {
    size_t j = i, off = len;
    while (j < v.n_rows && v.rows[j].point == v.rows[i].point) ++j;
    if (j - i != set->rows_per_point) { /* an incomplete point: missing */
      i = j;
      continue;
    }
    for (size_t r = i; r < j; ++r) {
      memcpy(text + len, v.text + v.at[r].off, v.at[r].len);
      len += v.at[r].len;
    }
    st = add_point(&rd, v.rows + i, v.at + i, j - i, text, off, len);
    i = j;
  }
  if (text) text[len] = '\0';
  s->jsonl = text;
  free(rd.csv);
  kd_run_view_free(&v);
  return st;
}
