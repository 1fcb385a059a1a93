/* NAME.fit.json both ways (cJSON). Every number round-trips exactly (cJSON prints
 * 17 digits where 15 do not suffice); NaN is null, infinities are the strings "inf"
 * and "-inf" (as in NAME.jsonl). */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/fit_run.h"
#include "kdbench/file_io.h"
#include "kdbench/json_num.h"

/* ---- writing ------------------------------------------------------------------------------ */

static cJSON *num(double x) { return kd_json_number(x); }


static void add_array(cJSON *o, const char *key, const double *x, size_t n) {
  cJSON *a = cJSON_AddArrayToObject(o, key);
  for (size_t i = 0; a && i < n; ++i) cJSON_AddItemToArray(a, num(x[i]));
}

static cJSON *powerlaw_json(const kd_powerlaw_fit *f) {
  if (f->npts == 0) return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  kd_json_add_number(o, "exponent", f->exponent);
  kd_json_add_number(o, "se", f->se);
  kd_json_add_number(o, "ci_low", f->ci_low);
  kd_json_add_number(o, "ci_high", f->ci_high);
  kd_json_add_number(o, "prefactor", f->prefactor);
  kd_json_add_number(o, "r2", f->r2);
  return o;
}

static cJSON *group_json(const kd_fit_group *g) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "pipeline", g->pipeline);
  cJSON_AddStringToObject(o, "group", g->group);
  cJSON_AddNumberToObject(o, "points", (double)g->npts);
  add_array(o, "x", g->x, g->npts);
  add_array(o, "sim", g->sim, g->npts);
  add_array(o, "theory", g->theory, g->npts);
  add_array(o, "floor", g->floor, g->npts);
  cJSON_AddItemToObject(o, "sim_fit", powerlaw_json(&g->sim_fit));
  cJSON_AddItemToObject(o, "theory_fit", powerlaw_json(&g->theory_fit));
  cJSON *ci = cJSON_AddObjectToObject(o, "ci");
  cJSON_AddStringToObject(ci, "kind", g->ci_kind);
  kd_json_add_number(ci, "low", g->ci_low);
  kd_json_add_number(ci, "high", g->ci_high);
  cJSON_AddNumberToObject(ci, "replicates_used", (double)g->boot_used);
  /* derived, for readers of the file (not read back) */
  double *loc = malloc((g->npts > 1 ? g->npts - 1 : 1) * sizeof *loc);
  cJSON *le = cJSON_AddObjectToObject(o, "local_exponents");
  if (loc && g->npts > 1) {
    kd_local_exponents(g->x, g->sim, g->npts, loc);
    add_array(le, "sim", loc, g->npts - 1);
    kd_local_exponents(g->x, g->theory, g->npts, loc);
    add_array(le, "theory", loc, g->npts - 1);
  }
  free(loc);
  cJSON *cont = cJSON_AddObjectToObject(o, "continuum");
  kd_json_add_number(cont, "exponent", g->cont_exponent);
  kd_json_add_number(cont, "constant", g->cont_constant);
  kd_json_add_number(cont, "ratio_strong", g->cont_ratio_strong);
  cJSON *r = cJSON_AddObjectToObject(o, "ratio_strong");
  kd_json_add_number(r, "sim", g->ratio_strong);
  kd_json_add_number(r, "theory", g->ratio_strong_theory);
  return o;
}

static cJSON *w2s_json(const kd_w2s_entry *e) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "point", (double)e->point);
  cJSON_AddNumberToObject(o, "n", (double)e->n);
  cJSON_AddNumberToObject(o, "p", (double)e->p);
  cJSON_AddNumberToObject(o, "m", (double)e->m);
  cJSON_AddNumberToObject(o, "k", (double)e->k);
  cJSON_AddStringToObject(o, "flag", e->flag);
  const struct {
    const char *key;
    double v;
  } nums[] = {{"strong", e->strong},
              {"strong_ci", e->strong_ci},
              {"w2s", e->w2s},
              {"w2s_ci", e->w2s_ci},
              {"weak", e->weak},
              {"weak_ci", e->weak_ci},
              {"strong_theory", e->strong_th},
              {"w2s_theory", e->w2s_th},
              {"weak_theory", e->weak_th},
              {"ratio", e->ratio},
              {"diff", e->diff},
              {"diff_ci", e->diff_ci},
              {"pgr", e->pgr},
              {"pgr_theory", e->pgr_th},
              {"gain_theory", e->gain_th},
              {"misfit_theory", e->misfit_th},
              {"best_k_risk", e->best_k_risk}};
  for (size_t i = 0; i < sizeof nums / sizeof *nums; ++i) kd_json_add_number(o, nums[i].key, nums[i].v);
  cJSON_AddBoolToObject(o, "diff_paired", e->diff_paired);
  cJSON_AddStringToObject(o, "pgr_flag", kd_pgr_flag_name(e->pgr_flag));
  cJSON_AddStringToObject(o, "pgr_theory_flag", kd_pgr_flag_name(e->pgr_th_flag));
  cJSON_AddNumberToObject(o, "best_k", (double)e->best_k);
  cJSON_AddNumberToObject(o, "best_k_sim", (double)e->best_k_sim);
  return o;
}

static const char *const sides[] = {"below", "crosses", "above"}; /* side -1, 0, +1 */

static cJSON *crossing_json(const kd_w2s_crossing *x) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "axis", x->axis);
  cJSON_AddStringToObject(o, "group", x->group);
  cJSON_AddNumberToObject(o, "points", (double)x->npts);
  cJSON_AddStringToObject(o, "w2s", sides[x->side + 1]);
  cJSON_AddBoolToObject(o, "beats_after", x->beats);
  kd_json_add_number(o, "at", x->at);
  kd_json_add_number(o, "ci_low", x->ci_low);
  kd_json_add_number(o, "ci_high", x->ci_high);
  return o;
}

static cJSON *steps_json(const kd_fit_steps *f) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "pipeline", f->pipeline);
  cJSON_AddStringToObject(o, "group", f->group);
  cJSON_AddNumberToObject(o, "point", (double)f->point);
  cJSON_AddNumberToObject(o, "n", (double)f->n);
  cJSON_AddNumberToObject(o, "p", (double)f->p);
  cJSON_AddNumberToObject(o, "steps", f->steps);
  kd_json_add_number(o, "slope", f->slope);
  kd_json_add_number(o, "ci_low", f->ci_low);
  kd_json_add_number(o, "ci_high", f->ci_high);
  cJSON_AddStringToObject(o, "ci", f->ci_kind);
  kd_json_add_number(o, "theory_slope", f->theory_slope);
  return o;
}

static cJSON *result_json(const kd_fit_result *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "schema", KD_FIT_SCHEMA);
  cJSON_AddStringToObject(o, "run", r->run);
  cJSON_AddStringToObject(o, "scenario_hash", r->scenario_hash);
  cJSON_AddStringToObject(o, "x", r->x);
  cJSON *w = cJSON_AddObjectToObject(o, "window");
  kd_json_add_number(w, "lo", r->window_lo);
  kd_json_add_number(w, "hi", r->window_hi);
  cJSON_AddStringToObject(w, "rule", r->window);
  cJSON_AddNumberToObject(w, "left_out_flagged", (double)r->left_out);
  cJSON_AddStringToObject(o, "target", r->target);
  cJSON_AddBoolToObject(o, "floor_subtracted", r->floor);
  cJSON *b = cJSON_AddObjectToObject(o, "bootstrap");
  cJSON_AddNumberToObject(b, "replicates", (double)r->bootstrap);
  cJSON_AddNumberToObject(b, "seed", (double)r->seed);
  cJSON *notes = cJSON_AddArrayToObject(o, "notes");
  for (size_t i = 0; i < r->nnotes; ++i)
    cJSON_AddItemToArray(notes, cJSON_CreateString(r->notes[i]));
  cJSON *fits = cJSON_AddArrayToObject(o, "fits");
  for (size_t g = 0; g < r->ngroups; ++g) cJSON_AddItemToArray(fits, group_json(&r->groups[g]));
  cJSON *w2s = cJSON_AddArrayToObject(o, "w2s");
  for (size_t i = 0; i < r->nw2s; ++i) cJSON_AddItemToArray(w2s, w2s_json(&r->w2s[i]));
  if (r->ncross) { /* only where there are some: older fits keep their bytes */
    cJSON *cross = cJSON_AddArrayToObject(o, "crossings");
    for (size_t i = 0; i < r->ncross; ++i)
      cJSON_AddItemToArray(cross, crossing_json(&r->cross[i]));
  }
  if (r->nsteps) { /* only in the fit of a run with a pipeline of several rows */
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (size_t i = 0; i < r->nsteps; ++i) cJSON_AddItemToArray(steps, steps_json(&r->steps[i]));
  }
  return o;
}

kd_status kd_fit_write_json(const kd_fit_result *res, const char *path) {
  cJSON *o = result_json(res);
  kd_status st = kd_json_replace(path, o);
  cJSON_Delete(o);
  return st ? kd_fail(st, "fit: %s", kd_last_error()) : KD_OK;
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct {
  const char *path;
  kd_status st;
} reader;

static const cJSON *item(reader *rd, const cJSON *o, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!x && rd->st == KD_OK)
    rd->st = kd_fail(KD_EINVAL, "%s: key \"%s\" is missing", rd->path, key);
  return x;
}

static double value(reader *rd, const cJSON *x, const char *key) {
  if (!x || cJSON_IsNull(x)) return NAN;
  if (cJSON_IsNumber(x)) return x->valuedouble;
  if (cJSON_IsString(x) && !strcmp(x->valuestring, "inf")) return INFINITY;
  if (cJSON_IsString(x) && !strcmp(x->valuestring, "-inf")) return -INFINITY;
  if (rd->st == KD_OK) rd->st = kd_fail(KD_EINVAL, "%s: key \"%s\" is not a number", rd->path, key);
  return NAN;
}

static double get_num(reader *rd, const cJSON *o, const char *key) {
  return value(rd, item(rd, o, key), key);
}

static size_t get_count(reader *rd, const cJSON *o, const char *key) {
  double x = get_num(rd, o, key);
  if (!(x >= 0 && x == floor(x) && x < 9007199254740992.0)) {
    if (rd->st == KD_OK)
      rd->st = kd_fail(KD_EINVAL, "%s: key \"%s\" is not a count", rd->path, key);
    return 0;
  }
  return (size_t)x;
}

static void get_str(reader *rd, const cJSON *o, const char *key, char *out, size_t len) {
  const cJSON *x = item(rd, o, key);
  out[0] = '\0';
  if (x && cJSON_IsString(x) && strlen(x->valuestring) < len) {
    strcpy(out, x->valuestring);
  } else if (x && rd->st == KD_OK) {
    rd->st = kd_fail(KD_EINVAL, "%s: key \"%s\" is not a string (of fewer than %zu bytes)",
                     rd->path, key, len);
  }
}

static int get_bool(reader *rd, const cJSON *o, const char *key) {
  const cJSON *x = item(rd, o, key);
  if (x && !cJSON_IsBool(x) && rd->st == KD_OK)
    rd->st = kd_fail(KD_EINVAL, "%s: key \"%s\" is not true or false", rd->path, key);
  return cJSON_IsTrue(x);
}

static void get_array(reader *rd, const cJSON *o, const char *key, double *out, size_t n) {
  const cJSON *a = item(rd, o, key), *x;
  if (a && (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)) {
    if (rd->st == KD_OK)
      rd->st =
          kd_fail(KD_EINVAL, "%s: key \"%s\" is not an array of %zu numbers", rd->path, key, n);
    return;
  }
  size_t i = 0;
  cJSON_ArrayForEach(x, a) out[i++] = value(rd, x, key);
}

static void get_powerlaw(reader *rd, const cJSON *o, const char *key, size_t npts,
                         kd_powerlaw_fit *f) {
  const cJSON *x = item(rd, o, key);
  memset(f, 0, sizeof *f);
  if (!x || cJSON_IsNull(x)) return;
  f->npts = npts;
  f->exponent = get_num(rd, x, "exponent");
  f->se = get_num(rd, x, "se");
  f->ci_low = get_num(rd, x, "ci_low");
  f->ci_high = get_num(rd, x, "ci_high");
  f->prefactor = get_num(rd, x, "prefactor");
  f->r2 = get_num(rd, x, "r2");
}

static void read_group(reader *rd, const cJSON *o, kd_fit_group *g) {
  get_str(rd, o, "pipeline", g->pipeline, sizeof g->pipeline);
  get_str(rd, o, "group", g->group, sizeof g->group);
  g->npts = get_count(rd, o, "points");
  if (rd->st != KD_OK) return;
  if (!(g->x = malloc((4 * g->npts + 1) * sizeof *g->x))) {
    rd->st = kd_fail(KD_ENOMEM, "%s: out of memory", rd->path);
    return;
  }
  g->sim = g->x + g->npts, g->theory = g->x + 2 * g->npts, g->floor = g->x + 3 * g->npts;
  get_array(rd, o, "x", g->x, g->npts);
  get_array(rd, o, "sim", g->sim, g->npts);
  get_array(rd, o, "theory", g->theory, g->npts);
  get_array(rd, o, "floor", g->floor, g->npts);
  get_powerlaw(rd, o, "sim_fit", g->npts, &g->sim_fit);
  get_powerlaw(rd, o, "theory_fit", g->npts, &g->theory_fit);
  const cJSON *ci = item(rd, o, "ci"), *cont = item(rd, o, "continuum"),
              *ratio = item(rd, o, "ratio_strong");
  if (rd->st != KD_OK) return;
  get_str(rd, ci, "kind", g->ci_kind, sizeof g->ci_kind);
  g->ci_low = get_num(rd, ci, "low");
  g->ci_high = get_num(rd, ci, "high");
  g->boot_used = get_count(rd, ci, "replicates_used");
  g->cont_exponent = get_num(rd, cont, "exponent");
  g->cont_constant = get_num(rd, cont, "constant");
  g->cont_ratio_strong = get_num(rd, cont, "ratio_strong");
  g->ratio_strong = get_num(rd, ratio, "sim");
  g->ratio_strong_theory = get_num(rd, ratio, "theory");
}

static kd_pgr_flag get_flag(reader *rd, const cJSON *o, const char *key) {
  char name[16];
  get_str(rd, o, key, name, sizeof name);
  int f = kd_pgr_flag_parse(name);
  if (f < 0 && rd->st == KD_OK)
    rd->st = kd_fail(KD_EINVAL, "%s: key \"%s\": unknown flag '%s'", rd->path, key, name);
  return f < 0 ? KD_PGR_MISSING : (kd_pgr_flag)f;
}

static void read_w2s(reader *rd, const cJSON *o, kd_w2s_entry *e) {
  e->point = (long)get_count(rd, o, "point");
  e->n = get_count(rd, o, "n");
  e->p = get_count(rd, o, "p");
  e->m = get_count(rd, o, "m");
  e->k = get_count(rd, o, "k");
  get_str(rd, o, "flag", e->flag, sizeof e->flag);
  e->strong = get_num(rd, o, "strong");
  e->strong_ci = get_num(rd, o, "strong_ci");
  e->w2s = get_num(rd, o, "w2s");
  e->w2s_ci = get_num(rd, o, "w2s_ci");
  e->weak = get_num(rd, o, "weak");
  e->weak_ci = get_num(rd, o, "weak_ci");
  e->strong_th = get_num(rd, o, "strong_theory");
  e->w2s_th = get_num(rd, o, "w2s_theory");
  e->weak_th = get_num(rd, o, "weak_theory");
  e->ratio = get_num(rd, o, "ratio");
  e->diff = get_num(rd, o, "diff");
  e->diff_ci = get_num(rd, o, "diff_ci");
  e->diff_paired = get_bool(rd, o, "diff_paired");
  e->pgr = get_num(rd, o, "pgr");
  e->pgr_flag = get_flag(rd, o, "pgr_flag");
  e->pgr_th = get_num(rd, o, "pgr_theory");
  e->pgr_th_flag = get_flag(rd, o, "pgr_theory_flag");
  e->gain_th = get_num(rd, o, "gain_theory");
  e->misfit_th = get_num(rd, o, "misfit_theory");
  e->best_k = get_count(rd, o, "best_k");
  e->best_k_risk = get_num(rd, o, "best_k_risk");
  e->best_k_sim = get_count(rd, o, "best_k_sim");
}

static void read_crossing(reader *rd, const cJSON *o, kd_w2s_crossing *x) {
  char side[16];
  get_str(rd, o, "axis", x->axis, sizeof x->axis);
  get_str(rd, o, "group", x->group, sizeof x->group);
  x->npts = get_count(rd, o, "points");
  get_str(rd, o, "w2s", side, sizeof side);
  x->side = 2;
  for (int i = 0; i < 3; ++i)
    if (!strcmp(side, sides[i])) x->side = i - 1;
  if (x->side == 2 && rd->st == KD_OK)
    rd->st = kd_fail(KD_EINVAL, "%s: key \"w2s\": '%s' is not below, crosses or above", rd->path,
                     side);
  x->beats = get_bool(rd, o, "beats_after");
  x->at = get_num(rd, o, "at");
  x->ci_low = get_num(rd, o, "ci_low");
  x->ci_high = get_num(rd, o, "ci_high");
}

/* "crossings" (optional: a fit without any has none). */
static void read_crossings(reader *rd, const cJSON *o, kd_fit_result *r) {
  const cJSON *cross = cJSON_GetObjectItemCaseSensitive(o, "crossings"), *x;
  if (!cross || rd->st != KD_OK) return;
  if (!cJSON_IsArray(cross)) {
    rd->st = kd_fail(KD_EINVAL, "%s: \"crossings\" must be an array", rd->path);
    return;
  }
  if (!(r->cross = calloc((size_t)cJSON_GetArraySize(cross) + 1, sizeof *r->cross))) {
    rd->st = kd_fail(KD_ENOMEM, "%s: out of memory", rd->path);
    return;
  }
  cJSON_ArrayForEach(x, cross) if (rd->st == KD_OK) read_crossing(rd, x, &r->cross[r->ncross++]);
}

static void read_steps(reader *rd, const cJSON *o, kd_fit_steps *f) {
  get_str(rd, o, "pipeline", f->pipeline, sizeof f->pipeline);
  get_str(rd, o, "group", f->group, sizeof f->group);
  f->point = (long)get_count(rd, o, "point");
  f->n = get_count(rd, o, "n");
  f->p = get_count(rd, o, "p");
  f->steps = (int)get_count(rd, o, "steps");
  f->slope = get_num(rd, o, "slope");
  f->ci_low = get_num(rd, o, "ci_low");
  f->ci_high = get_num(rd, o, "ci_high");
  get_str(rd, o, "ci", f->ci_kind, sizeof f->ci_kind);
  f->theory_slope = get_num(rd, o, "theory_slope");
}

/* "steps" (optional: only the fit of a run with a pipeline of several rows has them). */
static void read_all_steps(reader *rd, const cJSON *o, kd_fit_result *r) {
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(o, "steps"), *x;
  if (rd->st != KD_OK || !steps) return;
  if (!cJSON_IsArray(steps)) {
    rd->st = kd_fail(KD_EINVAL, "%s: \"steps\" must be an array", rd->path);
    return;
  }
  if (!(r->steps = calloc((size_t)cJSON_GetArraySize(steps) + 1, sizeof *r->steps))) {
    rd->st = kd_fail(KD_ENOMEM, "%s: out of memory", rd->path);
    return;
  }
  cJSON_ArrayForEach(x, steps) if (rd->st == KD_OK) read_steps(rd, x, &r->steps[r->nsteps++]);
}

static void read_result(reader *rd, const cJSON *o, kd_fit_result *r) {
  double schema = get_num(rd, o, "schema");
  if (rd->st == KD_OK && schema != KD_FIT_SCHEMA)
    rd->st = kd_fail(KD_EINVAL, "%s: schema %g, this kdbench reads schema %d", rd->path, schema,
                     KD_FIT_SCHEMA);
  get_str(rd, o, "run", r->run, sizeof r->run);
  get_str(rd, o, "scenario_hash", r->scenario_hash, sizeof r->scenario_hash);
  get_str(rd, o, "x", r->x, sizeof r->x);
  get_str(rd, o, "target", r->target, sizeof r->target);
  r->floor = get_bool(rd, o, "floor_subtracted");
  const cJSON *w = item(rd, o, "window"), *b = item(rd, o, "bootstrap"),
              *notes = item(rd, o, "notes"), *fits = item(rd, o, "fits"), *w2s = item(rd, o, "w2s"),
              *x;
  if (rd->st != KD_OK) return;
  r->window_lo = get_num(rd, w, "lo");
  r->window_hi = get_num(rd, w, "hi");
  get_str(rd, w, "rule", r->window, sizeof r->window);
  r->left_out = get_count(rd, w, "left_out_flagged");
  r->bootstrap = get_count(rd, b, "replicates");
  double seed = get_num(rd, b, "seed"); /* casting a negative, inf or 1e30 would be undefined */
  if (seed >= 0 && seed < 18446744073709551616.0 && seed == floor(seed)) r->seed = (uint64_t)seed;
  else if (rd->st == KD_OK) rd->st = kd_fail(KD_EINVAL, "%s: key \"seed\" is not a 64-bit seed", rd->path);
  if (!cJSON_IsArray(notes) || !cJSON_IsArray(fits) || !cJSON_IsArray(w2s)) {
    if (rd->st == KD_OK)
      rd->st = kd_fail(KD_EINVAL, "%s: \"notes\", \"fits\" and \"w2s\" must be arrays", rd->path);
    return;
  }
  size_t nn = (size_t)cJSON_GetArraySize(notes), nf = (size_t)cJSON_GetArraySize(fits),
         nw = (size_t)cJSON_GetArraySize(w2s);
  r->notes = calloc(nn + 1, sizeof *r->notes);
  r->groups = calloc(nf + 1, sizeof *r->groups);
  r->w2s = calloc(nw + 1, sizeof *r->w2s);
  if (!r->notes || !r->groups || !r->w2s) {
    rd->st = kd_fail(KD_ENOMEM, "%s: out of memory", rd->path);
    return;
  }
  cJSON_ArrayForEach(x, notes) {
    if (rd->st != KD_OK) return;
    if (!cJSON_IsString(x))
      rd->st = kd_fail(KD_EINVAL, "%s: a note is not a string", rd->path);
    else if (!(r->notes[r->nnotes++] = strdup(x->valuestring)))
      rd->st = kd_fail(KD_ENOMEM, "%s: out of memory", rd->path);
  }
  cJSON_ArrayForEach(x, fits) if (rd->st == KD_OK) read_group(rd, x, &r->groups[r->ngroups++]);
  cJSON_ArrayForEach(x, w2s) if (rd->st == KD_OK) read_w2s(rd, x, &r->w2s[r->nw2s++]);
  read_crossings(rd, o, r);
  read_all_steps(rd, o, r);
}

kd_status kd_fit_read_json(const char *path, kd_fit_result *res) {
  memset(res, 0, sizeof *res);
  size_t len;
  char *text = kd_file_read(path, &len);
  if (!text) return KD_EIO;
  cJSON *o = cJSON_Parse(text);
  free(text);
  if (!o || !cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return kd_fail(KD_EINVAL, "%s: not a JSON object", path);
  }
  reader rd = {.path = path};
  read_result(&rd, o, res);
  cJSON_Delete(o);
  if (rd.st != KD_OK) kd_fit_result_free(res);
  return rd.st;
}
