/* Loads a stored run for the report: NAME.meta.json and NAME.jsonl, checked key by
 * key (cJSON does the parsing). A torn last JSONL line (no newline, or not JSON) is
 * skipped with a warning, as the writer's resume does; a bad line elsewhere is an
 * error naming file and line. Rows end sorted by (point, pipeline), the later of two
 * rows with the same point_key and pipeline winning. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/file_io.h"
#include "kdbench/input_file.h"
#include "kdbench/run_paths.h"
#include "report_internal.h"

const char *const kd_report_param_names[KD_RP_COUNT] = {
    "n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma", "trials"};
const char *const kd_report_pipe_names[KD_RPIPE_COUNT] = {"strong", "optimal", "mask", "w2s",
                                                          "weak"};

/* ---- typed access to a JSON object's keys; errors name file, line (0: none), key ---- */

typedef struct {
  const char *file;
  long line;
} where;

static kd_status key_error(where w, const char *key, const char *what) {
  if (w.line > 0) return kd_fail(KD_EINVAL, "%s:%ld: key \"%s\" %s", w.file, w.line, key, what);
  return kd_fail(KD_EINVAL, "%s: key \"%s\" %s", w.file, key, what);
}

static kd_status get_item(const cJSON *obj, const char *key, where w, const cJSON **item) {
  *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return *item ? KD_OK : key_error(w, key, "is missing");
}

/* An integer; with has != NULL, null is allowed and sets *has = 0. */
static kd_status get_long(const cJSON *obj, const char *key, where w, long *out, int *has) {
  const cJSON *it;
  kd_status st = get_item(obj, key, w, &it);
  if (st) return st;
  if (has) *has = !cJSON_IsNull(it);
  if (has && !*has) return KD_OK;
  double v = it->valuedouble;
  if (!cJSON_IsNumber(it) || v != floor(v) || fabs(v) >= 9.2233720368547758e18)
    return key_error(w, key, has ? "is not an integer or null" : "is not an integer");
  *out = (long)v;
  return KD_OK;
}

/* A number, or one of the strings "inf", "-inf", "nan"; null as in get_long. */
static kd_status get_real(const cJSON *obj, const char *key, where w, double *out, int *has) {
  const cJSON *it;
  kd_status st = get_item(obj, key, w, &it);
  if (st) return st;
  if (has) *has = !cJSON_IsNull(it);
  if (has && !*has) return KD_OK;
  if (cJSON_IsNumber(it))
    *out = it->valuedouble;
  else if (cJSON_IsString(it) && strcmp(it->valuestring, "inf") == 0)
    *out = INFINITY;
  else if (cJSON_IsString(it) && strcmp(it->valuestring, "-inf") == 0)
    *out = -INFINITY;
  else if (cJSON_IsString(it) && strcmp(it->valuestring, "nan") == 0)
    *out = NAN;
  else
    return key_error(w, key, has ? "is not a number or null" : "is not a number");
  return KD_OK;
}

static kd_status get_string(const cJSON *obj, const char *key, where w, const char **out) {
  const cJSON *it;
  kd_status st = get_item(obj, key, w, &it);
  if (st) return st;
  if (!cJSON_IsString(it)) return key_error(w, key, "is not a string");
  *out = it->valuestring;
  return KD_OK;
}

static kd_status get_object(const cJSON *obj, const char *key, where w, const cJSON **out) {
  kd_status st = get_item(obj, key, w, out);
  if (st) return st;
  return cJSON_IsObject(*out) ? KD_OK : key_error(w, key, "is not an object");
}

static kd_status copy_string(const cJSON *obj, const char *key, where w, char **out) {
  const char *s = NULL;
  kd_status st = get_string(obj, key, w, &s);
  if (st) return st;
  if (!(*out = strdup(s))) return kd_fail(KD_ENOMEM, "%s: out of memory", w.file);
  return KD_OK;
}

static int is_hex16(const char *s) {
  if (strlen(s) != 16) return 0;
  for (; *s; ++s)
    if (!strchr("0123456789abcdef", *s)) return 0;
  return 1;
}

static int param_index(const char *name) {
  for (int q = 0; q < KD_RP_COUNT; ++q)
    if (strcmp(kd_report_param_names[q], name) == 0) return q;
  return -1;
}

static int pipe_index(const char *name) {
  for (int p = 0; p < KD_RPIPE_COUNT; ++p)
    if (strcmp(kd_report_pipe_names[p], name) == 0) return p;
  return -1;
}

/* ---- NAME.meta.json ------------------------------------------------------------------ */

/* The file's text; a NUL byte inside it is refused (cJSON would stop there). */
static kd_status read_file(const char *path, char **text) {
  size_t len;
  char *buf = kd_file_read(path, &len);
  if (!buf) return KD_EIO;
  if (strlen(buf) != len) {
    free(buf);
    return kd_fail(KD_EINVAL, "%s: not valid JSON (a NUL byte)", path);
  }
  *text = buf;
  return KD_OK;
}

static kd_status parse_axes(const cJSON *meta, where w, kd_report_meta *m) {
  const cJSON *axes;
  kd_status st = get_item(meta, "axes", w, &axes);
  if (st) return st;
  if (!cJSON_IsArray(axes) || cJSON_GetArraySize(axes) == 0)
    return key_error(w, "axes", "is not a non-empty array");
  const cJSON *a;
  cJSON_ArrayForEach(a, axes) {
    int q = cJSON_IsString(a) ? param_index(a->valuestring) : -1;
    if (q < 0 || q == KD_RP_TRIALS)
      return kd_fail(KD_EINVAL, "%s: key \"axes\": unknown axis %s%s%s", w.file,
                     cJSON_IsString(a) ? "'" : "(not a string)",
                     cJSON_IsString(a) ? a->valuestring : "", cJSON_IsString(a) ? "'" : "");
    for (int i = 0; i < m->naxes; ++i)
      if (m->axes[i] == q)
        return kd_fail(KD_EINVAL, "%s: key \"axes\": axis '%s' twice", w.file, a->valuestring);
    m->axes[m->naxes++] = q;
  }
  return KD_OK;
}

static kd_status parse_meta(const cJSON *meta, where w, kd_report_meta *m) {
  const cJSON *kd, *backend, *conv, *complete, *desc;
  long schema;
  kd_status st;
  if (!cJSON_IsObject(meta)) return kd_fail(KD_EINVAL, "%s: not a JSON object", w.file);
  if ((st = get_long(meta, "schema", w, &schema, NULL))) return st;
  if (schema != 1) return kd_fail(KD_EINVAL, "%s: key \"schema\": %ld is not 1", w.file, schema);
  if ((st = copy_string(meta, "scenario_hash", w, &m->scenario_hash))) return st;
  if (!is_hex16(m->scenario_hash)) return key_error(w, "scenario_hash", "is not 16 hex digits");
  if ((st = parse_axes(meta, w, m))) return st;
  if ((st = get_long(meta, "seed", w, &m->seed, NULL))) return st;
  if ((st = get_long(meta, "trials", w, &m->trials, NULL))) return st;
  if ((st = get_long(meta, "points_total", w, &m->points_total, NULL))) return st;
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
    return kd_fail(KD_ENOMEM, "%s: out of memory", w.file);
  if ((st = get_object(meta, "conventions", w, &conv))) return st;
  if ((st = copy_string(conv, "risk", w, &m->risk))) return st;
  return copy_string(conv, "ci", w, &m->ci);
}

static kd_status load_meta(const char *stem, kd_report_meta *m) {
  char path[4096];
  char *text = NULL;
  kd_status st = kd_run_path(stem, ".meta.json", path, sizeof path);
  if (st || (st = read_file(path, &text))) return st;
  cJSON *meta = cJSON_ParseWithOpts(text, NULL, 1);
  free(text);
  if (!meta) return kd_fail(KD_EINVAL, "%s: not valid JSON", path);
  st = parse_meta(meta, (where){path, 0}, m);
  cJSON_Delete(meta);
  return st;
}

/* ---- NAME.jsonl ---------------------------------------------------------------------- */

static kd_status parse_row(const cJSON *obj, where w, const kd_report_meta *m, kd_report_row *r) {
  static const int nullable[KD_RP_COUNT] = {
      [KD_RP_M] = 1, [KD_RP_K] = 1, [KD_RP_ALPHA] = 1, [KD_RP_SIGNAL_EXP] = 1};
  static const int integer[KD_RP_COUNT] = {
      [KD_RP_N] = 1, [KD_RP_P] = 1, [KD_RP_M] = 1, [KD_RP_K] = 1, [KD_RP_TRIALS] = 1};
  const char *s = NULL;
  long schema = 0;
  double lo, hi;
  kd_status st;
  if (!cJSON_IsObject(obj)) return kd_fail(KD_EINVAL, "%s:%ld: not a JSON object", w.file, w.line);
  if ((st = get_long(obj, "schema", w, &schema, NULL))) return st;
  if (schema != 1)
    return kd_fail(KD_EINVAL, "%s:%ld: key \"schema\": %ld is not 1", w.file, w.line, schema);
  if ((st = get_string(obj, "scenario_hash", w, &s))) return st;
  if (strcmp(s, m->scenario_hash) != 0)
    return kd_fail(KD_EINVAL, "%s:%ld: key \"scenario_hash\": %s differs from the meta file's %s",
                   w.file, w.line, s, m->scenario_hash);
  if ((st = get_string(obj, "point_key", w, &s))) return st;
  if (!is_hex16(s)) return key_error(w, "point_key", "is not 16 hex digits");
  memcpy(r->point_key, s, 17);
  if ((st = get_long(obj, "point", w, &r->point, NULL))) return st;
  if (r->point < 0) return key_error(w, "point", "is negative");
  if ((st = get_string(obj, "pipeline", w, &s))) return st;
  if ((r->pipe = pipe_index(s)) < 0) return key_error(w, "pipeline", "is not a known pipeline");
  for (int q = 0; q < KD_RP_COUNT; ++q) {
    int has = 1;
    long v = 0;
    const char *key = kd_report_param_names[q];
    if (integer[q]) {
      st = get_long(obj, key, w, &v, nullable[q] ? &has : NULL);
      r->param[q] = (double)v;
    } else {
      st = get_real(obj, key, w, &r->param[q], nullable[q] ? &has : NULL);
    }
    if (st) return st;
    r->has_param[q] = (unsigned char)has;
  }
  /* null (how the writer stores NaN: one trial has no CI) reads as NaN */
  int has_mean, has_median, has_lo, has_hi;
  if ((st = get_real(obj, "sim_mean", w, &r->sim_mean, &has_mean)) ||
      (st = get_real(obj, "sim_median", w, &r->sim_median, &has_median)) ||
      (st = get_real(obj, "sim_ci_low", w, &lo, &has_lo)) ||
      (st = get_real(obj, "sim_ci_high", w, &hi, &has_hi)) ||
      (st = get_real(obj, "theory", w, &r->theory, &r->has_theory)) ||
      (st = get_string(obj, "flag", w, &s)))
    return st;
  if (!has_mean) r->sim_mean = NAN;
  if (!has_median) r->sim_median = NAN;
  r->ci_half = has_lo && has_hi ? (hi - lo) / 2 : NAN;
  if (strcmp(s, "") == 0)
    r->flag = KD_RFLAG_NONE;
  else if (strcmp(s, "peak") == 0)
    r->flag = KD_RFLAG_PEAK;
  else if (strcmp(s, "near-peak") == 0)
    r->flag = KD_RFLAG_NEAR_PEAK;
  else
    return key_error(w, "flag", "is not \"peak\", \"near-peak\" or \"\"");
  r->line = w.line;
  return KD_OK;
}

static kd_status append_row(kd_report *r, const kd_report_row *row, size_t *cap) {
  if (r->nrows == *cap) {
    size_t n = *cap ? 2 * *cap : 64;
    kd_report_row *bigger = realloc(r->rows, n * sizeof *bigger);
    if (!bigger) return kd_fail(KD_ENOMEM, "out of memory for %zu report rows", n);
    r->rows = bigger;
    *cap = n;
  }
  r->rows[r->nrows++] = *row;
  return KD_OK;
}

static void warn_torn(FILE *log, const char *path, long line, const char *why) {
  if (log) fprintf(log, "warning: %s:%ld: torn last line (%s) skipped\n", path, line, why);
}

static kd_status load_rows(const char *path, kd_report *r, FILE *log) {
  FILE *f;
  if (kd_input_open(path, &f) != KD_OK) return KD_EIO;
  char *line = NULL;
  size_t linecap = 0, rowcap = 0;
  ssize_t len;
  long lineno = 0, unparsed = 0; /* unparsed: a line that is not JSON, fatal unless last */
  kd_status st = KD_OK;
  while ((len = getline(&line, &linecap, f)) != -1) {
    ++lineno;
    if (unparsed) {
      st = kd_fail(KD_EINVAL, "%s:%ld: not valid JSON", path, unparsed);
      break;
    }
    if (line[len - 1] != '\n') {
      warn_torn(log, path, lineno, "no newline");
      break;
    }
    line[len - 1] = '\0';
    /* require_null_terminated: trailing garbage after the object is not JSON either */
    cJSON *obj = strlen(line) == (size_t)len - 1 ? cJSON_ParseWithOpts(line, NULL, 1) : NULL;
    if (!obj) {
      unparsed = lineno;
      continue;
    }
    kd_report_row row;
    st = parse_row(obj, (where){path, lineno}, &r->meta, &row);
    cJSON_Delete(obj);
    if (st || (st = append_row(r, &row, &rowcap))) break;
  }
  if (!st && ferror(f)) st = kd_fail(KD_EIO, "%s: read error", path);
  if (!st && unparsed) warn_torn(log, path, unparsed, "not valid JSON");
  if (!st && r->nrows == 0) st = kd_fail(KD_EINVAL, "%s: no rows (an empty run)", path);
  free(line);
  fclose(f);
  return st;
}

/* ---- order and duplicates ---------------------------------------------------------- */

static int by_key_pipe_line(const void *a, const void *b) {
  const kd_report_row *x = a, *y = b;
  int c = strcmp(x->point_key, y->point_key);
  if (c) return c;
  if (x->pipe != y->pipe) return x->pipe < y->pipe ? -1 : 1;
  return (x->line > y->line) - (x->line < y->line);
}

static int by_point_pipe(const void *a, const void *b) {
  const kd_report_row *x = a, *y = b;
  if (x->point != y->point) return x->point < y->point ? -1 : 1;
  if (x->pipe != y->pipe) return x->pipe < y->pipe ? -1 : 1;
  return strcmp(x->point_key, y->point_key);
}

static void order_rows(kd_report *r) {
  qsort(r->rows, r->nrows, sizeof *r->rows, by_key_pipe_line);
  size_t kept = 0;
  for (size_t i = 0; i < r->nrows; ++i) {
    const kd_report_row *next = i + 1 < r->nrows ? &r->rows[i + 1] : NULL;
    if (next && next->pipe == r->rows[i].pipe && !strcmp(next->point_key, r->rows[i].point_key))
      continue; /* a later row for the same point and pipeline follows: it wins */
    r->rows[kept++] = r->rows[i];
  }
  r->nrows = kept;
  qsort(r->rows, r->nrows, sizeof *r->rows, by_point_pipe);
}

kd_status kd_report_load(const char *stem, kd_report *r, FILE *log) {
  char path[4096];
  const char *slash = strrchr(stem, '/');
  if (!(r->meta.run_name = strdup(slash ? slash + 1 : stem)))
    return kd_fail(KD_ENOMEM, "out of memory");
  kd_status st = load_meta(stem, &r->meta);
  if (st || (st = kd_run_path(stem, ".jsonl", path, sizeof path)) || (st = load_rows(path, r, log)))
    return st;
  order_rows(r);
  return KD_OK;
}
