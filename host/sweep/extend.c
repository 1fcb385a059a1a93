/* --extend: a run made again with more values on a swept axis or more trials keeps what
 * the run at its output computed (docs/run-format.md#extending-a-run). A point's numbers
 * depend on its own values alone, and trial t of a point on t alone (its streams), so a
 * kept point, and a kept point completed with the new trials, are what the whole run
 * would compute. */
#include "internal.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdbench/run_paths.h"
#include "kdbench/run_reader.h"
#include "kdbench/scenario.h"

/* kd_config_print's canonical text of c (NULL: out of memory). */
static char *canonical(const kd_config *c) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  kd_config_print(c, f, 1);
  fclose(f);
  return text;
}

/* The first line where a and b differ, into why. */
static void first_difference(const char *a, const char *b, char *why, size_t len) {
  size_t i = 0;
  while (a[i] && a[i] == b[i]) ++i;
  while (i > 0 && a[i - 1] != '\n') --i; /* to the line's start */
  snprintf(why, len, "'%.*s' there, '%.*s' here", (int)strcspn(a + i, "\n"), a + i,
           (int)strcspn(b + i, "\n"), b + i);
}

/* The scenario of the run at stem, its trials and hash; checked against c and id. */
static kd_status same_scenario(const kd_config *c, const kd_scenario_id *id, const char *stem,
                               const cJSON *meta, kd_config *old, char hash[17]) {
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(meta, "scenario"),
              *h = cJSON_GetObjectItemCaseSensitive(meta, "scenario_hash");
  if (!cJSON_IsString(text) || !cJSON_IsString(h) || strlen(h->valuestring) != 16)
    return kd_fail(KD_EINVAL, "--extend: %s.meta.json has no scenario and hash", stem);
  snprintf(hash, 17, "%s", h->valuestring);
  kd_config_default(old);
  kd_status st = kd_scenario_load_text(old, text->valuestring, "--extend: the run's scenario");
  if (st != KD_OK) return st;
  if (old->trials > c->trials)
    return kd_fail(KD_EINVAL, "--extend: %s has %u trials, more than the %u asked for", stem,
                   old->trials, c->trials);
  if (old->trials < c->trials && !old->raw)
    return kd_fail(KD_EINVAL, "--extend: %s has %u trials without their risks (made without "
                   "--raw): more trials need them", stem, old->trials);
  kd_config same = *old;
  same.trials = c->trials;
  char *a = canonical(&same), *b = canonical(c), why[512] = "";
  if (!a || !b) st = kd_fail(KD_ENOMEM, "out of memory");
  else if (strcmp(a, b)) first_difference(a, b, why, sizeof why);
  free(a), free(b);
  kd_scenario_id was;
  kd_scenario_id_from_json(meta, &was);
  if (!st && !*why && (was.numerics != id->numerics || strcmp(was.spectrum, id->spectrum) ||
                       strcmp(was.beta, id->beta)))
    snprintf(why, sizeof why, "%s", "its numerics version or a spectrum or beta* file's values");
  if (!st && *why)
    st = kd_fail(KD_EINVAL, "--extend: %s is a run of another scenario (%s): only the swept "
                 "axes' values and the trials may differ", stem, why);
  return st;
}

/* By point, then pipeline; a pipeline's several rows as they were (`at`: its place
 * in the old run, read in its order). */
typedef struct {
  kd_row row;
  size_t at;
} ranked;

static int by_point(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->row.point != y->row.point) return x->row.point < y->row.point ? -1 : 1;
  if (x->row.pipeline != y->row.pipeline) return x->row.pipeline < y->row.pipeline ? -1 : 1;
  return (x->at > y->at) - (x->at < y->at);
}

/* The rows of the old run's complete points that are in g, re-keyed (see extend_rows). */
static kd_status keep_points(const kd_grid *g, const kd_scenario_id *id, const kd_grid *og,
                             const kd_run_view *v, size_t per_point, kd_row **rows, size_t *n) {
  size_t count = 0;
  if (!(*rows = calloc(v->n_rows + 1, sizeof **rows))) return kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; i < v->n_rows;) {
    size_t j = i, at = g->count;
    while (j < v->n_rows && v->rows[j].point == v->rows[i].point) ++j;
    char was[256], now[256];
    kd_grid_point_text(&og->pt[v->rows[i].point], was, sizeof was);
    for (size_t k = 0; j - i == per_point && k < g->count && at == g->count; ++k) {
      kd_grid_point_text(&g->pt[k], now, sizeof now);
      if (!strcmp(was, now)) at = k;
    }
    for (; at < g->count && i < j; ++i) {
      kd_row r = v->rows[i];
      r.point = at;
      kd_point_key(id->hash, &g->pt[at], r.key);
      if (r.risks && !(r.risks = malloc(sizeof(double) * (r.n_risks ? r.n_risks : 1)))) {
        *n = count;
        return kd_fail(KD_ENOMEM, "out of memory");
      }
      if (r.risks) memcpy(r.risks, v->rows[i].risks, sizeof(double) * r.n_risks);
      (*rows)[count++] = r;
    }
    i = j;
  }
  ranked *order = malloc(sizeof *order * (count ? count : 1));
  if (!order) {
    *n = count;
    return kd_fail(KD_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < count; ++i) order[i] = (ranked){(*rows)[i], i};
  qsort(order, count, sizeof *order, by_point);
  for (size_t i = 0; i < count; ++i) (*rows)[i] = order[i].row;
  free(order);
  *n = count;
  return KD_OK;
}

/* The rows of the run at `csv` that the run of c over grid g (scenario id) keeps. That
 * run's scenario must be c's but for the swept axes' values and its trials, at most c's
 * (fewer only with per-trial risks). Every point of it that is in g, with all its rows
 * (rows_per_point of them), is kept: its rows with g's point index and key, in grid
 * order, their risks copied (a row with fewer risks than c->trials is a point to
 * complete). No run there: none. The refusals (another scenario, more trials, fewer
 * without risks, a damaged run) are one line naming the run and what differs. Free with
 * kd_row_free. */
static kd_status extend_rows(const kd_config *c, const kd_grid *g, const kd_scenario_id *id,
                             const char *csv, size_t rows_per_point, kd_row **rows, size_t *n,
                             FILE *log) {
  *rows = NULL;
  *n = 0;
  char stem[4096], jsonl[4200], hash[17];
  kd_status st = kd_run_stem(csv, stem, sizeof stem);
  if (st == KD_OK) st = kd_run_path(stem, ".jsonl", jsonl, sizeof jsonl);
  if (st != KD_OK || access(jsonl, F_OK) != 0) return st; /* nothing to extend */
  cJSON *meta = NULL;
  kd_config *old = malloc(sizeof *old);
  kd_grid og = {0};
  kd_run_view v = {0};
  if (!old) return kd_fail(KD_ENOMEM, "out of memory");
  st = kd_run_read_meta(stem, &meta);
  if (st == KD_OK) st = same_scenario(c, id, stem, meta, old, hash);
  if (st == KD_OK) st = kd_config_resolve_p(old);
  if (st == KD_OK) st = kd_grid_build(old, &og);
  if (st == KD_OK)
    st = kd_run_read(stem, &(kd_run_expect){.hash = hash, .points = og.count}, &v, log);
  if (st == KD_OK) st = keep_points(g, id, &og, &v, rows_per_point, rows, n);
  if (st != KD_OK) {
    for (size_t i = 0; i < *n; ++i) kd_row_free(&(*rows)[i]);
    free(*rows);
    *rows = NULL, *n = 0;
  }
  kd_run_view_free(&v);
  kd_grid_free(&og);
  cJSON_Delete(meta);
  free(old);
  return st;
}

kd_status kd_sweep_open_extended(kd_sweep *s) {
  const size_t per_point = s->rows;
  if (s->sh.spec.count) return kd_fail(KD_EINVAL, "--extend: not with --shard (extend the merged run)");
  kd_row *rows;
  size_t n;
  kd_status st = extend_rows(&s->c, &s->g, &s->id, s->sh.csv, per_point, &rows, &n, stderr);
  if (st != KD_OK) return st;
  if (!rows) return kd_run_open(&s->rs, s->sh.csv, &s->id, &s->g, per_point, s->c.run.force, stderr);
  const int whole = n && rows[0].s.count == s->c.trials; /* every row has the run's trials */
  st = kd_run_open_from(&s->rs, s->sh.csv, &s->id, &s->g, rows, whole ? n : 0, stderr);
  if (st == KD_OK && !s->c.run.quiet)
    printf("# extending %s: %zu of its points kept%s\n", s->sh.csv, n / per_point,
           whole || !n ? "" : ", to be completed with the new trials");
  if (whole) {
    for (size_t i = 0; i < n; ++i) kd_row_free(&rows[i]);
    free(rows);
  } else {
    s->part = rows, s->n_part = n;
  }
  return st;
}
