/* The scenario hash and its parts (include/kdbench/scenario_id.h). */
#include "kdbench/scenario_id.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/problem.h"
#include "kdbench/hash.h"


/* The canonical scenario text plus every point's values. */
static kd_status settings_hash(const kd_config *c, const kd_grid *g, char out[17]) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return kd_fail(KD_ENOMEM, "out of memory");
  kd_config_print(c, f, 1);
  fclose(f);
  uint64_t h = kd_fnv1a(KD_FNV_INIT, text, len);
  free(text);
  for (size_t i = 0; i < g->count; ++i) {
    char pt[256];
    kd_grid_point_text(&g->pt[i], pt, sizeof pt);
    h = kd_fnv1a(h, pt, strlen(pt) + 1);
  }
  kd_hash_hex(h, out);
  return KD_OK;
}

/* A 64-bit value as 8 bytes, least significant first: the same hash on every machine. */
static uint64_t fnv_u64(uint64_t h, uint64_t x) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = (unsigned char)(x >> (8 * i));
  return kd_fnv1a(h, b, sizeof b);
}

/* The values kdbench reads from `path` (as the problem does: kd_read_vector_file),
 * hashed bit for bit: an edit that changes no value (a comment, 0.50 for 0.5) keeps
 * the hash, any other changes it. */
static kd_status values_hash(const char *path, char out[17]) {
  double *v = NULL;
  size_t n = 0;
  kd_status st = kd_read_vector_file(path, 0, &v, &n, NULL);
  if (st != KD_OK) return st;
  uint64_t h = fnv_u64(KD_FNV_INIT, n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits;
    memcpy(&bits, &v[i], sizeof bits);
    h = fnv_u64(h, bits);
  }
  free(v);
  kd_hash_hex(h, out);
  return KD_OK;
}

/* A weak spectrum from a file: its values join the settings' hash (a scenario without
 * one keeps its hash). */
static kd_status weak_file_hash(const kd_config *c, char settings[17]) {
  kd_spectrum_spec w;
  char values[17], text[64];
  if (!kd_config_weak_spectrum(c, c->alpha, &w) || w.kind != KD_SPEC_FILE) return KD_OK;
  kd_status st = values_hash(w.path, values);
  if (st != KD_OK) return st;
  int len = snprintf(text, sizeof text, "%s\nweak-spectrum values=%s\n", settings, values);
  kd_hash_hex(kd_fnv1a(KD_FNV_INIT, text, (size_t)len), settings);
  return KD_OK;
}

kd_status kd_scenario_id_make(const kd_config *c, const kd_grid *g, kd_scenario_id *id) {
  memset(id, 0, sizeof *id);
  id->numerics = KD_NUMERICS_VERSION;
  kd_spectrum_spec s;
  kd_beta_spec b;
  kd_status st = settings_hash(c, g, id->settings);
  if (st == KD_OK) st = kd_config_spectrum(c, &s);
  if (st == KD_OK) st = kd_config_beta(c, &b);
  if (st == KD_OK && s.kind == KD_SPEC_FILE) {
    snprintf(id->spectrum_path, sizeof id->spectrum_path, "%s", s.path);
    st = values_hash(id->spectrum_path, id->spectrum);
  }
  if (st == KD_OK && b.kind == KD_BETA_FILE) {
    snprintf(id->beta_path, sizeof id->beta_path, "%s", b.path);
    st = values_hash(id->beta_path, id->beta);
  }
  if (st == KD_OK) st = weak_file_hash(c, id->settings);
  if (st != KD_OK) return st;
  char text[128];
  int len = snprintf(text, sizeof text, "settings=%s\nnumerics=%d\nspectrum=%s\nbeta=%s\n",
                     id->settings, id->numerics, id->spectrum[0] ? id->spectrum : "-",
                     id->beta[0] ? id->beta : "-");
  kd_hash_hex(kd_fnv1a(KD_FNV_INIT, text, (size_t)len), id->hash);
  return KD_OK;
}

/* ---- in the metadata ---------------------------------------------------------------- */

static cJSON *file_part(const char *path, const char *hash) {
  if (!hash[0]) return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "path", path);
  cJSON_AddStringToObject(o, "values", hash);
  return o;
}

void kd_scenario_id_to_json(const kd_scenario_id *id, cJSON *meta) {
  cJSON_AddNumberToObject(meta, "numerics_version", id->numerics);
  cJSON *parts = cJSON_AddObjectToObject(meta, "hash_parts");
  cJSON_AddStringToObject(parts, "settings", id->settings);
  cJSON_AddItemToObject(parts, "spectrum_file", file_part(id->spectrum_path, id->spectrum));
  cJSON_AddItemToObject(parts, "beta_file", file_part(id->beta_path, id->beta));
}

static void get_text(const cJSON *o, const char *key, char *out, size_t len) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
  if (cJSON_IsString(x)) snprintf(out, len, "%s", x->valuestring);
}

static void get_file(const cJSON *parts, const char *key, char *path, size_t path_len,
                     char hash[17]) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(parts, key);
  get_text(f, "path", path, path_len);
  get_text(f, "values", hash, 17);
}

void kd_scenario_id_from_json(const cJSON *meta, kd_scenario_id *id) {
  memset(id, 0, sizeof *id);
  id->numerics = -1;
  get_text(meta, "scenario_hash", id->hash, sizeof id->hash);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "numerics_version");
  /* valueint would read 1.5 as 1 and 1e30 as INT_MAX: only a whole int is a version */
  if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 2147483648.0)
    id->numerics = (int)v->valuedouble;
  const cJSON *parts = cJSON_GetObjectItemCaseSensitive(meta, "hash_parts");
  get_text(parts, "settings", id->settings, sizeof id->settings);
  get_file(parts, "spectrum_file", id->spectrum_path, sizeof id->spectrum_path, id->spectrum);
  get_file(parts, "beta_file", id->beta_path, sizeof id->beta_path, id->beta);
}

/* ---- what changed ------------------------------------------------------------------------ */

/* Appends one cause to buf ("; " between causes). */
__attribute__((format(printf, 4, 5))) static void add(char *buf, size_t len, size_t *used,
                                                      const char *fmt, ...) {
  if (*used + 3 >= len) return;
  if (*used) *used += (size_t)snprintf(buf + *used, len - *used, "; ");
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *used, len - *used, fmt, ap);
  va_end(ap);
  if (n > 0) *used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

void kd_scenario_id_diff(const kd_scenario_id *was, const kd_scenario_id *now, char *buf,
                         size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  if (was->numerics < 0) { /* made before numerics versions were recorded: nothing to compare */
    add(buf, len, &used, "no numerics version recorded: made by a kdbench older than numerics "
        "version %d, or of other settings", now->numerics);
    return;
  }
  if (was->numerics != now->numerics)
    add(buf, len, &used, "computed by numerics version %d, not %d", was->numerics, now->numerics);
  if (strcmp(was->settings, now->settings)) {
    add(buf, len, &used, "other settings");
  } else { /* the same settings, so the same spectrum and beta* texts: the files' values changed */
    if (strcmp(was->spectrum, now->spectrum))
      add(buf, len, &used, "the values in the --spectrum file %s differ", now->spectrum_path);
    if (strcmp(was->beta, now->beta))
      add(buf, len, &used, "the values in the --beta file %s differ", now->beta_path);
  }
  if (!used) add(buf, len, &used, "other settings");
}

kd_status kd_config_resolve_p(kd_config *c) {
  if (c->p) return KD_OK;
  kd_spectrum_spec s;
  kd_status st = kd_config_spectrum(c, &s);
  double *lambda = NULL;
  if (st == KD_OK) st = kd_spectrum_build(&s, &c->p, &lambda);
  free(lambda);
  return st;
}

kd_status kd_scenario_hash(const kd_config *cfg, kd_scenario_id *id) {
  kd_config c = *cfg;
  kd_grid g;
  kd_status st = kd_config_resolve_p(&c);
  if (st == KD_OK) st = kd_grid_build(&c, &g);
  if (st != KD_OK) return st;
  st = kd_scenario_id_make(&c, &g, id);
  kd_grid_free(&g);
  return st;
}
