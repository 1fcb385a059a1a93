/* The stored run as the fit reads it: its rows by grid point, its axes, its scenario. */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kdbench/run_reader.h"

void kd_fit_data_free(kd_fit_data *d) {
  for (size_t i = 0; i < d->nrows; ++i) kd_row_free(&d->rows[i]);
  free(d->rows);
  free(d->points);
  free(d->scenario);
}

/* What the fit needs of the metadata (kd_run_read checked the hash). */
static kd_status take_meta(kd_fit_data *d, const cJSON *meta) {
  char path[4200];
  snprintf(path, sizeof path, "%s.meta.json", d->stem);
  const cJSON *hash = cJSON_GetObjectItemCaseSensitive(meta, "scenario_hash");
  const cJSON *scen = cJSON_GetObjectItemCaseSensitive(meta, "scenario");
  const cJSON *axes = cJSON_GetObjectItemCaseSensitive(meta, "axes"), *a;
  if (!cJSON_IsString(scen))
    return kd_fail(KD_EINVAL, "fit: %s: key \"scenario\" is missing or not a string", path);
  if (!cJSON_IsArray(axes) || cJSON_GetArraySize(axes) < 1 || cJSON_GetArraySize(axes) > KD_MAX_SWEPT)
    return kd_fail(KD_EINVAL, "fit: %s: key \"axes\" is not an array of 1 or 2 axes", path);
  memcpy(d->hash, hash->valuestring, 17);
  kd_scenario_id_from_json(meta, &d->id);
  if (!(d->scenario = strdup(scen->valuestring))) return kd_fail(KD_ENOMEM, "fit: out of memory");
  cJSON_ArrayForEach(a, axes) {
    int q = cJSON_IsString(a) ? kd_axis_parse(a->valuestring) : -1;
    if (q < 0) return kd_fail(KD_EINVAL, "fit: %s: key \"axes\": unknown axis", path);
    d->axes[d->naxes++] = (kd_axis)q;
  }
  return KD_OK;
}

kd_status kd_fit_data_load(kd_fit_data *d, FILE *log) {
  kd_run_view v;
  kd_status st = kd_run_read(d->stem, &(kd_run_expect){0}, &v, log);
  if (st != KD_OK) st = kd_fail(st, "fit: %s", kd_last_error());
  else st = take_meta(d, v.meta);
  if (st == KD_OK) { /* the rows are taken from the view */
    d->rows = v.rows, d->nrows = v.n_rows;
    v.rows = NULL, v.n_rows = 0;
  }
  kd_run_view_free(&v);
  if (st != KD_OK) return st;
  if (!(d->points = calloc(d->nrows, sizeof *d->points)))
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  for (size_t i = 0; i < d->nrows; ++i) {
    if (i == 0 || d->rows[i].point != d->rows[i - 1].point) d->npoints++;
    if (d->rows[i].step > 0) continue; /* a pipeline with several rows: fit by step apart */
    d->points[d->npoints - 1].cell[d->rows[i].pipeline] = &d->rows[i];
  }
  return KD_OK;
}

const kd_row *kd_fit_any_row(const kd_fit_point *pt) {
  for (int q = 0; q < KD_NPIPES; ++q)
    if (pt->cell[q]) return pt->cell[q];
  return NULL;
}

double kd_fit_point_axis(const kd_fit_point *pt, kd_axis a) {
  const kd_row *r = kd_fit_any_row(pt),
               *weak = pt->cell[KD_PIPE_W2S] ? pt->cell[KD_PIPE_W2S] : pt->cell[KD_PIPE_WEAK];
  switch (a) {
    case KD_AXIS_N:
      return (double)r->n;
    case KD_AXIS_P:
      return (double)r->p;
    case KD_AXIS_M:
      return weak ? (double)weak->m : NAN;
    case KD_AXIS_K:
      return weak ? (double)weak->k : NAN;
    case KD_AXIS_RIDGE:
      return r->ridge;
    case KD_AXIS_ALPHA:
      return r->alpha;
    case KD_AXIS_REAL_FRACTION:
      return r->real_fraction;
    case KD_AXIS_STUDENT_FEATURES:
      return pt->cell[KD_PIPE_FEATURES] ? (double)pt->cell[KD_PIPE_FEATURES]->student_features : NAN;
    default:
      if (pt->cell[KD_PIPE_STRONG]) return pt->cell[KD_PIPE_STRONG]->sigma;
      if (pt->cell[KD_PIPE_WEAK]) return pt->cell[KD_PIPE_WEAK]->sigma;
      return r->sigma;
  }
}
