/* A run's rows as CSV lines and as JSON Lines objects (cJSON), both ways. */
#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/json_num.h"
#include "kdbench/run.h"

const char *const kd_csv_header =
    "pipeline,n,p,m,k,ridge,alpha,signal_exp,sigma,trials,sim_mean,sim_se,sim_ci_low,"
    "sim_ci_high,sim_median,theory,ratio,fallbacks,theory_kind,flag,real_fraction,test_risk,"
    "generation,schedule,beats_first,t,order,student_features\n";

/* The columns of the pipelines with several rows at a point (docs/architecture.md),
 * after the others: a step or group column holds the rows' step or group where their
 * pipeline names it (kd_pipeline_type.step_column, group_column), and is empty
 * elsewhere. */
static int names(const char *column, const char *want) { return column && !strcmp(column, want); }
static int step_in(const kd_row *r, const char *column) {
  return r->step > 0 && names(kd_pipelines[r->pipeline]->step_column, column);
}
static int group_in(const kd_row *r, const char *column) {
  return r->group[0] && names(kd_pipelines[r->pipeline]->group_column, column);
}

/* ---- CSV ------------------------------------------------------------------------------ */

static void put_num(FILE *f, double x) {
  fputc(',', f);
  if (isnan(x)) return; /* empty cell */
  if (isinf(x)) fputs(x > 0 ? "inf" : "-inf", f);
  else fprintf(f, "%.10g", x);
}

static void put_count(FILE *f, size_t x) {
  fputc(',', f);
  if (x) fprintf(f, "%zu", x);
}

void kd_row_write_csv(FILE *f, const kd_row *r) {
  fprintf(f, "%s,%zu,%zu", kd_pipeline_name(r->pipeline), r->n, r->p);
  put_count(f, r->m);
  put_count(f, r->k);
  put_num(f, r->ridge);
  put_num(f, r->alpha);
  put_num(f, r->signal_exp);
  put_num(f, r->sigma);
  fprintf(f, ",%zu", r->s.count);
  put_num(f, r->s.mean);
  put_num(f, r->s.se);
  put_num(f, r->s.ci_low);
  put_num(f, r->s.ci_high);
  put_num(f, r->s.median);
  put_num(f, r->theory);
  put_num(f, r->ratio);
  fprintf(f, ",%ld,%s,%s", r->fallbacks, r->exact ? "exact" : "de", r->flag);
  put_num(f, r->real_fraction); /* the columns added later, after flag: empty if NaN */
  put_num(f, r->test_risk);
  put_count(f, step_in(r, "generation") ? (size_t)r->step : 0);
  fprintf(f, ",%s", group_in(r, "schedule") ? r->group : "");
  put_num(f, r->beats);
  put_count(f, step_in(r, "t") ? (size_t)r->step : 0);
  fprintf(f, ",%s", group_in(r, "order") ? r->group : "");
  put_count(f, r->student_features);
  fputc('\n', f);
}

/* ---- JSON ---------------------------------------------------------------------------- */

/* How a row's text ends: this, 16 hex digits, '"}'. */
#define CHECK_KEY ",\"check\":\""

void kd_point_key(const char *hash, const kd_grid_point *pt, char key[17]) {
  char text[256];
  kd_grid_point_text(pt, text, sizeof text);
  kd_hash_hex(kd_fnv1a(kd_fnv1a(KD_FNV_INIT, hash, 16), text, strlen(text)), key);
}

static void add_count(cJSON *o, const char *key, size_t x) {
  if (x) cJSON_AddNumberToObject(o, key, (double)x);
  else cJSON_AddNullToObject(o, key);
}

char *kd_row_to_json(const kd_row *r, const char *scenario_hash) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "schema", KD_ROW_SCHEMA);
  cJSON_AddStringToObject(o, "scenario_hash", scenario_hash);
  cJSON_AddStringToObject(o, "point_key", r->key);
  cJSON_AddNumberToObject(o, "point", (double)r->point);
  cJSON_AddStringToObject(o, "pipeline", kd_pipeline_name(r->pipeline));
  cJSON_AddNumberToObject(o, "n", (double)r->n);
  cJSON_AddNumberToObject(o, "p", (double)r->p);
  add_count(o, "m", r->m);
  add_count(o, "k", r->k);
  kd_json_add_number(o, "ridge", r->ridge);
  kd_json_add_number(o, "alpha", r->alpha);
  kd_json_add_number(o, "signal_exp", r->signal_exp);
  kd_json_add_number(o, "sigma", r->sigma);
  cJSON_AddNumberToObject(o, "trials", (double)r->s.count);
  kd_json_add_number(o, "sim_mean", r->s.mean);
  kd_json_add_number(o, "sim_se", r->s.se);
  kd_json_add_number(o, "sim_ci_low", r->s.ci_low);
  kd_json_add_number(o, "sim_ci_high", r->s.ci_high);
  kd_json_add_number(o, "sim_median", r->s.median);
  kd_json_add_number(o, "theory", r->theory);
  kd_json_add_number(o, "ratio", r->ratio);
  cJSON_AddNumberToObject(o, "fallbacks", (double)r->fallbacks);
  cJSON_AddStringToObject(o, "theory_kind", r->exact ? "exact" : "de");
  cJSON_AddStringToObject(o, "flag", r->flag);
  kd_json_add_number(o, "wall_s", r->wall_s);
  /* the keys added later: only where the row has a value (a reader takes a missing one
   * as empty, so that rows written before them read as they did) */
  if (!isnan(r->real_fraction)) kd_json_add_number(o, "real_fraction", r->real_fraction);
  if (!isnan(r->test_risk)) kd_json_add_number(o, "test_risk", r->test_risk);
  if (step_in(r, "generation")) cJSON_AddNumberToObject(o, "generation", r->step);
  if (group_in(r, "schedule")) cJSON_AddStringToObject(o, "schedule", r->group);
  if (!isnan(r->beats)) {
    kd_json_add_number(o, "beats_first", r->beats);
    kd_json_add_number(o, "beats_first_low", r->beats_low);
    kd_json_add_number(o, "beats_first_high", r->beats_high);
  }
  if (step_in(r, "t")) cJSON_AddNumberToObject(o, "t", r->step);
  if (group_in(r, "order")) cJSON_AddStringToObject(o, "order", r->group);
  if (r->student_features)
    cJSON_AddNumberToObject(o, "student_features", (double)r->student_features);
  if (r->risks) {
    cJSON *a = cJSON_AddArrayToObject(o, "risks");
    for (size_t t = 0; a && t < r->n_risks; ++t) {
      cJSON_AddItemToArray(a, kd_json_number(r->risks[t]));
    }
  }
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!text) return NULL;
  /* "{...}" becomes "{...,"check":"H"}\n", H the hash of "{..." */
  size_t len = strlen(text) - 1, tail = strlen(CHECK_KEY) + 16 + 3;
  char *line = realloc(text, len + tail + 1);
  if (!line) {
    free(text);
    return NULL;
  }
  char check[17];
  kd_hash_hex(kd_fnv1a(KD_FNV_INIT, line, len), check);
  snprintf(line + len, tail + 1, CHECK_KEY "%s\"}\n", check);
  return line;
}

int kd_row_check(const char *line, size_t len) {
  size_t kl = strlen(CHECK_KEY), tail = kl + 16 + 2;
  if (len < tail || memcmp(line + len - tail, CHECK_KEY, kl) || memcmp(line + len - 2, "\"}", 2))
    return 0;
  char want[17];
  kd_hash_hex(kd_fnv1a(KD_FNV_INIT, line, len - tail), want);
  return memcmp(line + len - tail + kl, want, 16) ? -1 : 1;
}

/* ---- reading back ------------------------------------------------------------------------ */

typedef struct {
  const cJSON *o;
  const char *origin;
  kd_status st;
} reader;

static const cJSON *item(reader *rd, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(rd->o, key);
  if (!x && rd->st == KD_OK) rd->st = kd_fail(KD_EINVAL, "%s: missing key '%s'", rd->origin, key);
  return x;
}

static double get_num(reader *rd, const char *key) {
  const cJSON *x = item(rd, key);
  if (!x || cJSON_IsNull(x)) return NAN;
  if (cJSON_IsNumber(x)) return x->valuedouble;
  if (cJSON_IsString(x)) {
    if (!strcmp(x->valuestring, "inf")) return INFINITY;
    if (!strcmp(x->valuestring, "-inf")) return -INFINITY;
    if (!strcmp(x->valuestring, "nan")) return NAN;
  }
  if (rd->st == KD_OK) rd->st = kd_fail(KD_EINVAL, "%s: key '%s' is not a number", rd->origin, key);
  return NAN;
}

/* A whole number in [0, 2^53] (exact as a double): casting 1e30 or inf to size_t
 * would be undefined (and read as 0 trials). */
static size_t get_count(reader *rd, const char *key) {
  double x = get_num(rd, key);
  if (isnan(x)) return 0;
  if (!(x >= 0 && x <= 9007199254740992.0) || x != floor(x)) {
    if (rd->st == KD_OK) rd->st = kd_fail(KD_EINVAL, "%s: key '%s' is not a count", rd->origin, key);
    return 0;
  }
  return (size_t)x;
}

/* A key added after the first rows were written: missing is empty (NaN; a count 0). */
static double get_later_num(reader *rd, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(rd->o, key) ? get_num(rd, key) : NAN;
}

static size_t get_later_count(reader *rd, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(rd->o, key) ? get_count(rd, key) : 0;
}

static const char *get_str(reader *rd, const char *key) {
  const cJSON *x = item(rd, key);
  if (x && cJSON_IsString(x)) return x->valuestring;
  if (x && rd->st == KD_OK) rd->st = kd_fail(KD_EINVAL, "%s: key '%s' is not a string", rd->origin, key);
  return "";
}

/* The columns of the pipelines with several rows (missing where they do not apply, and
 * in older runs: empty). */
static void read_multi(reader *rd, kd_row *r) {
  const kd_pipeline_type *t = kd_pipelines[r->pipeline]; /* its step and group keys */
  const char *step_key = t->step_column ? t->step_column : "generation";
  const char *group_key = t->group_column ? t->group_column : "schedule";
  const size_t step = cJSON_GetObjectItemCaseSensitive(rd->o, step_key) ? get_count(rd, step_key) : 0;
  if (step > INT_MAX && rd->st == KD_OK)
    rd->st = kd_fail(KD_EINVAL, "%s: key '%s' is %zu, not a step", rd->origin, step_key, step);
  r->step = (int)step;
  if (cJSON_GetObjectItemCaseSensitive(rd->o, group_key))
    snprintf(r->group, sizeof r->group, "%s", get_str(rd, group_key));
  r->beats = get_later_num(rd, "beats_first");
  r->beats_low = get_later_num(rd, "beats_first_low");
  r->beats_high = get_later_num(rd, "beats_first_high");
}

kd_status kd_row_from_json(const char *line, const char *origin, kd_row *r, char hash[17]) {
  memset(r, 0, sizeof *r);
  cJSON *o = cJSON_Parse(line);
  if (!o || !cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return kd_fail(KD_EINVAL, "%s: not a JSON object", origin);
  }
  kd_status st = kd_row_from_object(o, origin, r, hash);
  cJSON_Delete(o);
  return st;
}

kd_status kd_row_from_object(const cJSON *o, const char *origin, kd_row *r, char hash[17]) {
  memset(r, 0, sizeof *r);
  reader rd = {.o = o, .origin = origin};
  double schema = get_num(&rd, "schema");
  if (rd.st == KD_OK && schema != KD_ROW_SCHEMA)
    rd.st = kd_fail(KD_EINVAL, "%s: schema %g, this kdbench reads schema %d", origin, schema,
                    KD_ROW_SCHEMA);
  snprintf(hash, 17, "%s", get_str(&rd, "scenario_hash"));
  snprintf(r->key, sizeof r->key, "%s", get_str(&rd, "point_key"));
  r->point = get_count(&rd, "point");
  const char *pipe = get_str(&rd, "pipeline");
  if (rd.st == KD_OK && kd_pipeline_parse(pipe, strlen(pipe), &r->pipeline) != KD_OK)
    rd.st = kd_fail(KD_EINVAL, "%s: %s", origin, kd_last_error());
  r->n = get_count(&rd, "n");
  r->p = get_count(&rd, "p");
  r->m = get_count(&rd, "m");
  r->k = get_count(&rd, "k");
  r->ridge = get_num(&rd, "ridge");
  r->alpha = get_num(&rd, "alpha");
  r->signal_exp = get_num(&rd, "signal_exp");
  r->sigma = get_num(&rd, "sigma");
  r->s.count = get_count(&rd, "trials");
  r->s.mean = get_num(&rd, "sim_mean");
  r->s.se = get_num(&rd, "sim_se");
  r->s.ci_low = get_num(&rd, "sim_ci_low");
  r->s.ci_high = get_num(&rd, "sim_ci_high");
  r->s.median = get_num(&rd, "sim_median");
  r->theory = get_num(&rd, "theory");
  r->ratio = get_num(&rd, "ratio");
  r->fallbacks = (long)get_count(&rd, "fallbacks");
  const char *kind = get_str(&rd, "theory_kind"), *flag = get_str(&rd, "flag");
  r->exact = !strcmp(kind, "exact");
  if (!r->exact && strcmp(kind, "de") && rd.st == KD_OK)
    rd.st = kd_fail(KD_EINVAL, "%s: key 'theory_kind' is not \"exact\" or \"de\"", origin);
  if (strcmp(flag, "") && strcmp(flag, "peak") && strcmp(flag, "near-peak") && rd.st == KD_OK)
    rd.st = kd_fail(KD_EINVAL, "%s: key 'flag' is not \"peak\", \"near-peak\" or \"\"", origin);
  snprintf(r->flag, sizeof r->flag, "%s", flag);
  r->wall_s = get_num(&rd, "wall_s");
  r->real_fraction = get_later_num(&rd, "real_fraction");
  r->test_risk = get_later_num(&rd, "test_risk");
  read_multi(&rd, r);
  r->student_features = get_later_count(&rd, "student_features");
  const cJSON *risks = cJSON_GetObjectItemCaseSensitive(o, "risks");
  if (rd.st == KD_OK && risks && !cJSON_IsArray(risks))
    rd.st = kd_fail(KD_EINVAL, "%s: key 'risks' is not an array", origin);
  if (rd.st == KD_OK && cJSON_IsArray(risks)) {
    r->n_risks = (size_t)cJSON_GetArraySize(risks);
    r->risks = malloc(sizeof(double) * (r->n_risks ? r->n_risks : 1));
    if (!r->risks) rd.st = kd_fail(KD_ENOMEM, "out of memory");
    size_t t = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, risks) {
      if (!cJSON_IsNumber(x) && !cJSON_IsNull(x) && rd.st == KD_OK)
        rd.st = kd_fail(KD_EINVAL, "%s: key 'risks' holds something else than numbers", origin);
      if (r->risks) r->risks[t++] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
    }
  }
  if (rd.st != KD_OK) kd_row_free(r);
  return rd.st;
}

void kd_row_free(kd_row *r) {
  free(r->risks);
  r->risks = NULL;
  r->n_risks = 0;
}
