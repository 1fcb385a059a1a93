/* Loads a stored run for the report through the one reader of a run (kd_run_read,
 * docs/run-format.md "Reading a run": torn, damaged and duplicate rows, the hash, grid
 * order): NAME.meta.json checked key by key, and each row seen as a kd_report_row. */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/run_reader.h"
#include "internal.h"

const char *const kd_report_param_names[KD_RP_COUNT] = {
    "n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma", "trials", "real_fraction",
    "student_features"};

/* ---- typed access to the metadata's keys; errors name the file (w) and the key ---- */

static kd_status key_error(const char *w, const char *key, const char *what) {
  return kd_fail(KD_EINVAL, "%s: key \"%s\" %s", w, key, what);
}

static kd_status get_item(const cJSON *obj, const char *key, const char *w, const cJSON **item) {
  *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return *item ? KD_OK : key_error(w, key, "is missing");
}

/* An integer. */
static kd_status get_long(const cJSON *obj, const char *key, const char *w, long *out) {
  const cJSON *it;
  kd_status st = get_item(obj, key, w, &it);
  if (st) return st;
  double v = it->valuedouble;
  if (!cJSON_IsNumber(it) || v != floor(v) || fabs(v) >= 9.2233720368547758e18)
    return key_error(w, key, "is not an integer");
  *out = (long)v;
  return KD_OK;
}

static kd_status get_string(const cJSON *obj, const char *key, const char *w, const char **out) {
  const cJSON *it;
  kd_status st = get_item(obj, key, w, &it);
  if (st) return st;
  if (!cJSON_IsString(it)) return key_error(w, key, "is not a string");
  *out = it->valuestring;
  return KD_OK;
}

static kd_status get_object(const cJSON *obj, const char *key, const char *w, const cJSON **out) {
  kd_status st = get_item(obj, key, w, out);
  if (st) return st;
  return cJSON_IsObject(*out) ? KD_OK : key_error(w, key, "is not an object");
}

static kd_status copy_string(const cJSON *obj, const char *key, const char *w, char **out) {
  const char *s = NULL;
  kd_status st = get_string(obj, key, w, &s);
  if (st) return st;
  if (!(*out = strdup(s))) return kd_fail(KD_ENOMEM, "%s: out of memory", w);
  return KD_OK;
}

static int is_hex16(const char *s) {
  if (strlen(s) != 16) return 0;
  for (; *s; ++s)
    if (!strchr("0123456789abcdef", *s)) return 0;
  return 1;
}

/* The parameter of a column name or an axis name ("real-fraction": real_fraction). */
static int param_index(const char *name) {
  for (int q = 0; q < KD_RP_COUNT; ++q) {
    const char *a = kd_report_param_names[q], *b = name;
    while (*a && (*a == *b || (*a == '_' && *b == '-'))) ++a, ++b;
    if (!*a && !*b) return q;
  }
  return -1;
}

/* ---- NAME.meta.json ------------------------------------------------------------------ */

static kd_status parse_axes(const cJSON *meta, const char *w, kd_report_meta *m) {
  const cJSON *axes;
  kd_status st = get_item(meta, "axes", w, &axes);
  if (st) return st;
  if (!cJSON_IsArray(axes) || cJSON_GetArraySize(axes) == 0)
    return key_error(w, "axes", "is not a non-empty array");
  const cJSON *a;
  cJSON_ArrayForEach(a, axes) {
    int q = cJSON_IsString(a) ? param_index(a->valuestring) : -1;
    if (q < 0 || q == KD_RP_TRIALS)
      return kd_fail(KD_EINVAL, "%s: key \"axes\": unknown axis %s%s%s", w,
                     cJSON_IsString(a) ? "'" : "(not a string)",
                     cJSON_IsString(a) ? a->valuestring : "", cJSON_IsString(a) ? "'" : "");
    for (int i = 0; i < m->naxes; ++i)
      if (m->axes[i] == q)
        return kd_fail(KD_EINVAL, "%s: key \"axes\": axis '%s' twice", w, a->valuestring);
    m->axes[m->naxes++] = q;
  }
  return KD_OK;
}

/* The backend names of merged shards, earliest first: what each shard resumed, then the
 * shard's own. */
static void shard_backends(FILE *f, const cJSON *shards, const char **sep) {
  const cJSON *s, *e;
  cJSON_ArrayForEach(s, shards) {
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s, "resumed_from")) {
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "backend"), "name");
      fprintf(f, "%s%s", *sep, cJSON_IsString(name) ? name->valuestring : "?");
      *sep = ", ";
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(s, "backend");
    fprintf(f, "%s%s", *sep, cJSON_IsString(b) ? b->valuestring : "?");
    *sep = ", ";
  }
}

/* What made an entry of resumed_from: its backend's description (or name), its merged
 * shards' backends, or "an unknown backend". */
static void earlier_backend(FILE *f, const cJSON *e) {
  const cJSON *be = cJSON_GetObjectItemCaseSensitive(e, "backend");
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(be, "description");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(be, "name");
  const cJSON *shards = cJSON_GetObjectItemCaseSensitive(e, "shards");
  if (cJSON_IsString(desc) || cJSON_IsString(name)) {
    fputs(cJSON_IsString(desc) ? desc->valuestring : name->valuestring, f);
    return;
  }
  if (!cJSON_IsArray(shards)) {
    fputs("an unknown backend (its metadata was unreadable)", f);
    return;
  }
  const int n = cJSON_GetArraySize(shards);
  const char *sep = "";
  fprintf(f, "a merge of %d shard%s (", n, n == 1 ? "" : "s");
  shard_backends(f, shards, &sep);
  fputc(')', f);
}

/* An entry of resumed_from whose backend is described as `here` is (the run's own
 * backend, which the tables already name). */
static int same_backend(const cJSON *e, const char *here) {
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "backend"),
                                                      "description");
  return here && cJSON_IsString(desc) && !strcmp(desc->valuestring, here);
}

/* The points a resume kept that another backend computed, by who computed them: "12
 * points by DESC; ...", or NULL when there are none. */
static kd_status parse_earlier(const cJSON *meta, const char *w, const char *here, char **out) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(meta, "resumed_from"), *e;
  *out = NULL;
  if (!list) return KD_OK;
  if (!cJSON_IsArray(list)) return key_error(w, "resumed_from", "is not an array");
  int others = 0;
  cJSON_ArrayForEach(e, list) others |= !same_backend(e, here);
  if (!others) return KD_OK;
  size_t len = 0;
  FILE *f = open_memstream(out, &len);
  if (!f) return kd_fail(KD_ENOMEM, "%s: out of memory", w);
  const char *sep = "";
  cJSON_ArrayForEach(e, list) {
    if (same_backend(e, here)) continue;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "points_computed");
    fputs(sep, f);
    if (cJSON_IsNumber(n)) fprintf(f, "%g point%s by ", n->valuedouble, n->valuedouble == 1 ? "" : "s");
    else fputs("points by ", f);
    earlier_backend(f, e);
    sep = "; ";
  }
  fclose(f);
  return KD_OK;
}

static kd_status parse_meta(const cJSON *meta, const char *w, kd_report_meta *m) {
  const cJSON *kd, *backend, *conv, *complete, *desc;
  long schema;
  kd_status st;
  if (!cJSON_IsObject(meta)) return kd_fail(KD_EINVAL, "%s: not a JSON object", w);
  if ((st = get_long(meta, "schema", w, &schema))) return st;
  if (schema != 1) return kd_fail(KD_EINVAL, "%s: key \"schema\": %ld is not 1", w, schema);
  if ((st = copy_string(meta, "scenario_hash", w, &m->scenario_hash))) return st;
  if (!is_hex16(m->scenario_hash)) return key_error(w, "scenario_hash", "is not 16 hex digits");
  if ((st = parse_axes(meta, w, m))) return st;
  if ((st = get_long(meta, "seed", w, &m->seed))) return st;
  if ((st = get_long(meta, "trials", w, &m->trials))) return st;
  if ((st = get_long(meta, "points_total", w, &m->points_total))) return st;
  if ((st = get_item(meta, "complete", w, &complete))) return st;
  if (!cJSON_IsBool(complete)) return key_error(w, "complete", "is not true or false");
  m->complete = cJSON_IsTrue(complete);
  if ((st = get_object(meta, "kdbench", w, &kd))) return st;
  if ((st = copy_string(kd, "version", w, &m->version))) return st;
  if ((st = copy_string(kd, "git_commit", w, &m->commit))) return st;
  if ((st = get_object(meta, "backend", w, &backend))) return st;
  if ((st = copy_string(backend, "name", w, &m->backend))) return st;
  desc = cJSON_GetObjectItemCaseSensitive(backend, "description"); /* optional */
  if (cJSON_IsString(desc) && !(m->backend_description = strdup(desc->valuestring)))
    return kd_fail(KD_ENOMEM, "%s: out of memory", w);
  if ((st = parse_earlier(meta, w, m->backend_description, &m->earlier))) return st;
  if ((st = get_object(meta, "conventions", w, &conv))) return st;
  if ((st = copy_string(conv, "risk", w, &m->risk))) return st;
  return copy_string(conv, "ci", w, &m->ci);
}

/* ---- NAME.jsonl ---------------------------------------------------------------------- */

/* The report's view of a row read by kd_run_read. */
static void view_row(const kd_row *x, kd_report_row *r) {
  const double param[KD_RP_COUNT] = {
      [KD_RP_N] = (double)x->n,     [KD_RP_P] = (double)x->p,
      [KD_RP_M] = (double)x->m,     [KD_RP_K] = (double)x->k,
      [KD_RP_RIDGE] = x->ridge,     [KD_RP_ALPHA] = x->alpha,
      [KD_RP_SIGNAL_EXP] = x->signal_exp, [KD_RP_SIGMA] = x->sigma,
      [KD_RP_TRIALS] = (double)x->s.count, [KD_RP_REAL_FRACTION] = x->real_fraction,
      [KD_RP_STUDENT_FEATURES] = (double)x->student_features};
  memset(r, 0, sizeof *r);
  memcpy(r->point_key, x->key, sizeof r->point_key);
  r->point = (long)x->point;
  r->pipe = (int)x->pipeline;
  for (int q = 0; q < KD_RP_COUNT; ++q) {
    r->param[q] = param[q];
    /* null in the JSON Lines: 0 for a count (m, k, s), NaN for a real (alpha, ...) */
    r->has_param[q] = q == KD_RP_M || q == KD_RP_K || q == KD_RP_STUDENT_FEATURES
                          ? param[q] != 0
                          : !isnan(param[q]);
  }
  r->sim_mean = x->s.mean;
  r->sim_median = x->s.median;
  r->ci_half = (x->s.ci_high - x->s.ci_low) / 2; /* NaN when either is null (one trial) */
  r->theory = x->theory;
  r->has_theory = !isnan(x->theory);
  r->noise = x->test_risk - x->s.mean;
  r->exact = x->exact;
  r->step = x->step;
  memcpy(r->group, x->group, sizeof r->group);
  r->beats = x->beats, r->beats_low = x->beats_low, r->beats_high = x->beats_high;
  r->flag = !strcmp(x->flag, "peak") ? KD_RFLAG_PEAK
            : !strcmp(x->flag, "near-peak") ? KD_RFLAG_NEAR_PEAK : KD_RFLAG_NONE;
}

kd_status kd_report_load(const char *stem, kd_report *r, FILE *log) {
  const char *slash = strrchr(stem, '/');
  if (!(r->meta.run_name = strdup(slash ? slash + 1 : stem)))
    return kd_fail(KD_ENOMEM, "out of memory");
  kd_run_view v;
  char path[4200];
  snprintf(path, sizeof path, "%s.meta.json", stem);
  kd_status st = kd_run_read(stem, &(kd_run_expect){0}, &v, log);
  if (st == KD_OK) st = parse_meta(v.meta, path, &r->meta);
  if (st == KD_OK && !(r->rows = malloc(v.n_rows * sizeof *r->rows)))
    st = kd_fail(KD_ENOMEM, "out of memory for %zu report rows", v.n_rows);
  for (size_t i = 0; st == KD_OK && i < v.n_rows; ++i) view_row(&v.rows[i], &r->rows[r->nrows++]);
  kd_run_view_free(&v);
  return st;
}
