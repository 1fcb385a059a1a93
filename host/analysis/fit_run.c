/* kdbench fit RUN: reads a stored run, chooses the window, fits every pipeline
 * (host/analysis/fit.c), computes the weak-to-strong metrics (host/analysis/w2s_metrics.c) and the
 * theory they need from the run's own scenario (NAME.meta.json). Output: the tables
 * (kd_fit_print) and NAME.fit.json (host/analysis/fit_json.c); its command line is host/fit_cli.c. */
#include "kdbench/fit_run.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/config.h"
#include "kdbench/run.h"
#include "kdbench/run_paths.h"
#include "kdbench/run_reader.h"
#include "kdbench/scenario.h"
#include "kdbench/scenario_id.h"

void kd_fit_options_default(kd_fit_options *o) {
  *o = (kd_fit_options){.x = NULL, .lo = NAN, .hi = NAN, .bootstrap = 2000, .seed = 1};
}

/* ---- the stored run --------------------------------------------------------------------- */

typedef struct {
  const kd_row *cell[KD_NPIPES];
} point_rows;

typedef struct {
  char stem[4096];
  char hash[17];
  kd_scenario_id id; /* the hash's parts the metadata records (numerics -1: none) */
  char *scenario; /* the metadata's scenario text */
  kd_axis axes[KD_MAX_SWEPT];
  int naxes;
  kd_row *rows;
  size_t nrows;
  point_rows *points;
  size_t npoints;
} run_data;

static void run_free(run_data *d) {
  for (size_t i = 0; i < d->nrows; ++i) kd_row_free(&d->rows[i]);
  free(d->rows);
  free(d->points);
  free(d->scenario);
}

/* What the fit needs of the metadata (kd_run_read checked the hash). */
static kd_status take_meta(run_data *d, const cJSON *meta) {
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

/* The run through kd_run_read (docs/run-format.md, "Reading a run"): its rows, in grid
 * order, become the points. */
static kd_status load_run(run_data *d, FILE *log) {
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
    d->points[d->npoints - 1].cell[d->rows[i].pipeline] = &d->rows[i];
  }
  return KD_OK;
}

static const kd_row *any_row(const point_rows *pt) {
  for (int q = 0; q < KD_NPIPES; ++q)
    if (pt->cell[q]) return pt->cell[q];
  return NULL;
}

/* The value of axis a at a point; for m and k the weak model's (NaN if no row has
 * one); for sigma the ground-truth labels' (strong or weak row). */
static double point_axis(const point_rows *pt, kd_axis a) {
  const kd_row *r = any_row(pt),
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
    default:
      if (pt->cell[KD_PIPE_STRONG]) return pt->cell[KD_PIPE_STRONG]->sigma;
      if (pt->cell[KD_PIPE_WEAK]) return pt->cell[KD_PIPE_WEAK]->sigma;
      return r->sigma;
  }
}

/* ---- the problem of a row, rebuilt from the run's scenario ------------------------------ */

typedef struct {
  size_t p;
  double alpha;
  kd_problem pr;
  int isotropic;
} problem_entry;

typedef struct {
  const run_data *d;
  kd_config cfg;
  int loaded;
  problem_entry *e;
  size_t n;
} problems;

static void problems_free(problems *ps) {
  for (size_t i = 0; i < ps->n; ++i) kd_problem_free(&ps->e[i].pr);
  free(ps->e);
}

/* Prefixes the last error with the context of the rebuild. */
static kd_status rebuild_error(kd_status st, const run_data *d) {
  char why[512];
  snprintf(why, sizeof why, "%s", kd_last_error());
  return kd_fail(st, "fit: rebuilding the problem of run %s from its scenario: %s", d->stem, why);
}

/* The spectrum and beta* files the run read must hold the same values now, or the
 * theory would be of other values than the rows (runs that record no hash parts
 * cannot be checked). */
static kd_status same_files(const problems *ps) {
  const kd_scenario_id *was = &ps->d->id;
  if (was->numerics < 0 || (!was->spectrum[0] && !was->beta[0])) return KD_OK;
  kd_scenario_id now, then;
  kd_status st = kd_scenario_hash(&ps->cfg, &now);
  if (st != KD_OK) return st;
  then = now; /* now, with the files' values of the run: only they can differ below */
  memcpy(then.spectrum, was->spectrum, sizeof then.spectrum);
  memcpy(then.beta, was->beta, sizeof then.beta);
  if (!strcmp(then.spectrum, now.spectrum) && !strcmp(then.beta, now.beta)) return KD_OK;
  char why[1024];
  kd_scenario_id_diff(&then, &now, why, sizeof why);
  return kd_fail(KD_EINVAL, "fit: run %s: %s from those it was run with: restore the file, or "
                 "run the sweep again", ps->d->stem, why);
}

static kd_status problem_of(problems *ps, size_t p, double alpha, const kd_problem **out) {
  for (size_t i = 0; i < ps->n; ++i)
    if (ps->e[i].p == p && (ps->e[i].alpha == alpha || (isnan(alpha) && isnan(ps->e[i].alpha)))) {
      *out = &ps->e[i].pr;
      return KD_OK;
    }
  kd_status st = KD_OK;
  if (!ps->loaded) {
    kd_config_default(&ps->cfg);
    st = kd_scenario_load_text(&ps->cfg, ps->d->scenario, "scenario of the metadata");
    if (st != KD_OK) return rebuild_error(st, ps->d);
    if ((st = same_files(ps)) != KD_OK) return st;
    ps->loaded = 1;
  }
  problem_entry e = {.p = p, .alpha = alpha};
  st = kd_config_problem(&ps->cfg, p, isnan(alpha) ? ps->cfg.alpha : alpha, 0.0, 0.0, &e.pr);
  if (st != KD_OK) return rebuild_error(st, ps->d);
  e.isotropic = e.pr.lambda[0] == e.pr.lambda[p - 1];
  problem_entry *bigger = realloc(ps->e, (ps->n + 1) * sizeof *bigger);
  if (!bigger) {
    kd_problem_free(&e.pr);
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  }
  ps->e = bigger;
  ps->e[ps->n] = e;
  *out = &ps->e[ps->n++].pr;
  return KD_OK;
}

double kd_noise_floor(const kd_de *de, size_t p, int isotropic, double sigma) {
  double s2 = sigma * sigma, n = de->n, P = (double)p;
  if (s2 == 0) return 0.0;
  if (de->ridge == 0 && n > P + 1.0) return s2 * P / (n - P - 1.0);
  if (de->ridge == 0 && isotropic && P > n + 1.0) return s2 * n / (P - n - 1.0);
  return de->omega > 0 ? s2 * (de->df2 / n) / de->omega : INFINITY;
}

/* The floor of a row: ridgeless student rows with label noise (not the weak model's). */
static kd_status row_floor(problems *ps, const kd_row *r, double *floor) {
  *floor = 0.0;
  if (r->pipeline == KD_PIPE_WEAK || r->ridge != 0 || !(r->sigma > 0)) return KD_OK;
  const kd_problem *pr;
  kd_de de;
  kd_status st = problem_of(ps, r->p, r->alpha, &pr);
  if (st == KD_OK) st = kd_de_solve(pr->lambda, pr->p, (double)r->n, r->ridge, &de);
  if (st != KD_OK) return st;
  *floor = kd_noise_floor(&de, pr->p, pr->lambda[0] == pr->lambda[pr->p - 1], r->sigma);
  return KD_OK;
}

/* ---- result helpers ----------------------------------------------------------------------- */

static kd_status note(kd_fit_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static kd_status note(kd_fit_result *res, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  for (size_t i = 0; i < res->nnotes; ++i)
    if (!strcmp(res->notes[i], text)) return KD_OK; /* once */
  char **bigger = realloc(res->notes, (res->nnotes + 1) * sizeof *bigger);
  if (!bigger) return kd_fail(KD_ENOMEM, "fit: out of memory");
  res->notes = bigger;
  if (!(res->notes[res->nnotes] = strdup(text))) return kd_fail(KD_ENOMEM, "fit: out of memory");
  res->nnotes++;
  return KD_OK;
}

void kd_fit_result_free(kd_fit_result *res) {
  for (size_t i = 0; i < res->nnotes; ++i) free(res->notes[i]);
  for (size_t g = 0; g < res->ngroups; ++g) free(res->groups[g].x);
  free(res->notes);
  free(res->groups);
  free(res->w2s);
  memset(res, 0, sizeof *res);
}

/* ---- the window and the groups -------------------------------------------------------------- */

typedef struct {
  const run_data *d;
  const kd_fit_options *o;
  kd_fit_result *res;
  kd_axis x;
  problems ps;
} fit_ctx;

static int in_window(const fit_ctx *c, const point_rows *pt, double x) {
  if (isnan(x)) return 0;
  if (isnan(c->o->lo) && isnan(c->o->hi) && c->x == KD_AXIS_N) return x <= any_row(pt)->p / 4.0;
  return !(x < c->o->lo) && !(x > c->o->hi);
}

static void group_key(const fit_ctx *c, const point_rows *pt, char *key, size_t len) {
  key[0] = '\0';
  for (int i = 0; i < c->d->naxes; ++i) {
    if (c->d->axes[i] == c->x) continue;
    size_t used = strlen(key);
    snprintf(key + used, len - used, "%s%s = %g", used ? ", " : "", kd_axis_name(c->d->axes[i]),
             point_axis(pt, c->d->axes[i]));
  }
}

static const char *window_text(const fit_ctx *c, char *buf, size_t len) {
  const char *ax = kd_axis_name(c->x);
  if (isnan(c->o->lo) && isnan(c->o->hi)) {
    if (c->x == KD_AXIS_N)
      snprintf(buf, len, "n <= p/4 (the default for an n axis)");
    else
      snprintf(buf, len, "every %s (the default)", ax);
  } else if (isnan(c->o->lo)) {
    snprintf(buf, len, "%s <= %g (--window)", ax, c->o->hi);
  } else if (isnan(c->o->hi)) {
    snprintf(buf, len, "%s >= %g (--window)", ax, c->o->lo);
  } else {
    snprintf(buf, len, "%g <= %s <= %g (--window)", c->o->lo, ax, c->o->hi);
  }
  return buf;
}

/* The points of group g (pipeline q, key) in the window, by increasing x. */
static size_t collect(fit_ctx *c, int q, const char *key, const kd_row **rows, double *xs) {
  size_t n = 0;
  char k[128];
  for (size_t i = 0; i < c->d->npoints; ++i) {
    const point_rows *pt = &c->d->points[i];
    const kd_row *r = pt->cell[q];
    double x = point_axis(pt, c->x);
    if (!r || r->flag[0] || !in_window(c, pt, x)) continue;
    group_key(c, pt, k, sizeof k);
    if (strcmp(k, key) != 0) continue;
    size_t j = n++;
    for (; j > 0 && xs[j - 1] > x; --j) xs[j] = xs[j - 1], rows[j] = rows[j - 1];
    xs[j] = x;
    rows[j] = r;
  }
  return n;
}

/* The continuum limit of docs/theory.md#continuum, where it applies: x = n, a
 * ridgeless student on a power-law spectrum and beta*; constants for strong, optimal
 * and mask (no continuum limit for a weak teacher at fixed m). */
static kd_status continuum(fit_ctx *c, kd_fit_group *g, const kd_row *r) {
  g->cont_exponent = g->cont_constant = NAN;
  if (c->x != KD_AXIS_N || r->ridge != 0 || isnan(r->alpha) || isnan(r->signal_exp) ||
      r->pipeline == KD_PIPE_WEAK || r->pipeline == KD_PIPE_W2S)
    return KD_OK;
  kd_continuum cl;
  kd_status st = kd_continuum_limit(r->alpha, r->signal_exp, &cl);
  if (st != KD_OK) return st;
  g->cont_exponent = cl.exponent;
  g->cont_constant = r->pipeline == KD_PIPE_STRONG    ? cl.c_strong
                     : r->pipeline == KD_PIPE_OPTIMAL ? cl.c_optimal
                                                      : cl.c_mask;
  return KD_OK;
}

static kd_status bootstrap(fit_ctx *c, kd_fit_group *g, const kd_row **rows) {
  size_t n = g->npts;
  int raw = 1;
  for (size_t i = 0; i < n; ++i) raw &= rows[i]->risks && rows[i]->n_risks == rows[i]->s.count;
  strcpy(g->ci_kind, isnan(g->sim_fit.ci_low) ? "none" : "t");
  g->ci_low = g->sim_fit.ci_low;
  g->ci_high = g->sim_fit.ci_high;
  if (c->o->bootstrap == 0)
    return note(c->res, "--bootstrap 0: the interval is the regression's 95 %% t-interval");
  if (!raw)
    return note(c->res,
                "no per-trial risks (the run was made without --raw): no bootstrap; the "
                "interval is the regression's 95 %% t-interval from its standard error");
  const double **risks = malloc(n * sizeof *risks);
  size_t *count = malloc(n * sizeof *count);
  kd_status st = risks && count ? KD_OK : kd_fail(KD_ENOMEM, "fit: out of memory");
  for (size_t i = 0; st == KD_OK && i < n; ++i)
    risks[i] = rows[i]->risks, count[i] = rows[i]->n_risks;
  kd_bootstrap b;
  if (st == KD_OK)
    st = kd_fit_bootstrap(g->x, risks, count, g->floor, n, c->o->bootstrap, c->o->seed, &b);
  free(risks);
  free(count);
  if (st != KD_OK) {
    char why[512];
    snprintf(why, sizeof why, "%s", kd_last_error());
    return kd_fail(st, "fit: pipeline %s%s%s: %s", g->pipeline, g->group[0] ? ", " : "", g->group,
                   why);
  }
  g->boot_used = b.used;
  if (isnan(b.ci_low))
    return note(c->res,
                "%s%s%s: %zu of %zu bootstrap replicates fell below the floor: the "
                "interval is the regression's t-interval",
                g->pipeline, g->group[0] ? ", " : "", g->group, b.replicates - b.used,
                b.replicates);
  strcpy(g->ci_kind, "bootstrap");
  g->ci_low = b.ci_low;
  g->ci_high = b.ci_high;
  if (!b.paired)
    return note(c->res,
                "trial counts differ between points: the bootstrap resampled each point "
                "independently");
  return KD_OK;
}

/* A note when the theory's local exponent moves by more than DRIFT over the window:
 * the curve is not one power law there (a crossover, or finite p). */
static const double DRIFT = 0.1;

static kd_status drift(fit_ctx *c, const kd_fit_group *g) {
  if (!g->theory_fit.npts || g->npts < 3) return KD_OK;
  double lo = INFINITY, hi = -INFINITY, *ls = malloc((g->npts - 1) * sizeof *ls);
  if (!ls) return kd_fail(KD_ENOMEM, "fit: out of memory");
  kd_local_exponents(g->x, g->theory, g->npts, ls);
  for (size_t i = 0; i + 1 < g->npts; ++i) lo = fmin(lo, ls[i]), hi = fmax(hi, ls[i]);
  double first = ls[0], last = ls[g->npts - 2];
  free(ls);
  if (!(hi - lo > DRIFT)) return KD_OK;
  return note(c->res,
              "%s%s%s: the theory's local exponent drifts from %.3f to %.3f over the "
              "window (range %.3f > %g): not one power law there; narrow --window or "
              "use a larger p",
              g->pipeline, g->group[0] ? ", " : "", g->group, first, last, hi - lo, DRIFT);
}

/* The reason group g cannot be fitted (fewer than 2 points), in `why`. */
static void too_few(const fit_ctx *c, const kd_fit_group *g, char *why, size_t len) {
  snprintf(why, len,
           "pipeline %s%s%s has %zu point%s in the window %s: a fit needs at least 2 (widen "
           "--window; rows flagged peak or near-peak never enter)",
           g->pipeline, g->group[0] ? ", " : "", g->group, g->npts, g->npts == 1 ? "" : "s",
           c->res->window);
}

static kd_status fit_group(fit_ctx *c, kd_fit_group *g, const kd_row **rows, const double *xs) {
  size_t n = g->npts;
  if (!(g->x = malloc(4 * n * sizeof *g->x))) return kd_fail(KD_ENOMEM, "fit: out of memory");
  g->sim = g->x + n, g->theory = g->x + 2 * n, g->floor = g->x + 3 * n;
  int theory_ok = 1;
  kd_status st;
  for (size_t i = 0; i < n; ++i) {
    const kd_row *r = rows[i];
    g->x[i] = xs[i];
    if (!c->o->no_floor && (st = row_floor(&c->ps, r, &g->floor[i])) != KD_OK) return st;
    if (g->floor[i] > 0) c->res->floor = 1;
    g->sim[i] = r->s.mean - g->floor[i];
    g->theory[i] = r->theory - g->floor[i];
    if (!(g->theory[i] > 0 && isfinite(g->theory[i]))) g->theory[i] = NAN, theory_ok = 0;
    if (!(g->sim[i] > 0 && isfinite(g->sim[i])))
      return kd_fail(KD_EINVAL,
                     "fit: run %s: pipeline %s at %s = %g%s%s: mean risk %.6g is not above the "
                     "noise floor %.6g: narrow --window, or fit a noiseless run (--sigma 0)",
                     c->res->run, g->pipeline, c->res->x, xs[i], g->group[0] ? ", " : "", g->group,
                     r->s.mean, g->floor[i]);
  }
  if ((st = kd_fit_powerlaw(g->x, g->sim, n, &g->sim_fit)) != KD_OK) return st;
  if (theory_ok) {
    if ((st = kd_fit_powerlaw(g->x, g->theory, n, &g->theory_fit)) != KD_OK) return st;
  } else if ((st = note(c->res,
                        "%s%s%s: a theory value is missing or not above the floor: no "
                        "theory fit",
                        g->pipeline, g->group[0] ? ", " : "", g->group)) != KD_OK) {
    return st;
  }
  if ((st = continuum(c, g, rows[0])) != KD_OK) return st;
  if ((st = drift(c, g)) != KD_OK) return st;
  return bootstrap(c, g, rows);
}

/* exp(mean log(a / b)) over the x both have: the ratio of prefactors of a
 * common-exponent fit. */
static double geo_ratio(const kd_fit_group *a, const kd_fit_group *b, int theory) {
  double s = 0;
  size_t n = 0;
  for (size_t i = 0; i < a->npts; ++i)
    for (size_t j = 0; j < b->npts; ++j)
      if (a->x[i] == b->x[j]) {
        s += theory ? log(a->theory[i] / b->theory[j]) : log(a->sim[i] / b->sim[j]);
        ++n;
      }
  return n ? exp(s / (double)n) : NAN;
}

static void ratios(kd_fit_result *res) {
  for (size_t g = 0; g < res->ngroups; ++g) {
    kd_fit_group *a = &res->groups[g];
    a->ratio_strong = a->ratio_strong_theory = a->cont_ratio_strong = NAN;
    for (size_t h = 0; h < res->ngroups; ++h) {
      const kd_fit_group *b = &res->groups[h];
      if (strcmp(b->pipeline, "strong") || strcmp(a->group, b->group)) continue;
      a->ratio_strong = geo_ratio(a, b, 0);
      a->ratio_strong_theory = geo_ratio(a, b, 1);
      a->cont_ratio_strong = a->cont_constant / b->cont_constant;
    }
  }
}

static kd_status fit_all(fit_ctx *c) {
  kd_fit_result *res = c->res;
  size_t np = c->d->npoints;
  const kd_row **rows = malloc(np * sizeof *rows);
  double *xs = malloc(np * sizeof *xs);
  char(*keys)[128] = malloc(np * sizeof *keys);
  res->groups = calloc(np * KD_NPIPES, sizeof *res->groups);
  kd_status st =
      rows && xs && keys && res->groups ? KD_OK : kd_fail(KD_ENOMEM, "fit: out of memory");
  size_t nkeys = 0, in = 0;
  char first_culprit[1024] = "";
  double xmin = INFINITY, xmax = -INFINITY;
  for (size_t i = 0; st == KD_OK && i < np; ++i) { /* the groups' keys, in grid order */
    const point_rows *pt = &c->d->points[i];
    double x = point_axis(pt, c->x);
    xmin = fmin(xmin, x), xmax = fmax(xmax, x);
    if (!in_window(c, pt, x)) continue;
    ++in;
    for (int q = 0; q < KD_NPIPES; ++q) res->left_out += pt->cell[q] && pt->cell[q]->flag[0];
    char k[128];
    group_key(c, pt, k, sizeof k);
    size_t j = 0;
    while (j < nkeys && strcmp(keys[j], k)) ++j;
    if (j == nkeys) memcpy(keys[nkeys++], k, sizeof k);
  }
  if (st == KD_OK && in == 0)
    st = kd_fail(KD_EINVAL, "fit: run %s: no rows in the window %s (the run has %s from %g to %g)",
                 res->run, res->window, res->x, xmin, xmax);
  for (size_t j = 0; st == KD_OK && j < nkeys; ++j)
    for (int q = 0; st == KD_OK && q < KD_NPIPES; ++q) {
      kd_fit_group *g = &res->groups[res->ngroups];
      snprintf(g->pipeline, sizeof g->pipeline, "%s", kd_pipeline_name((kd_pipeline)q));
      snprintf(g->group, sizeof g->group, "%s", keys[j]);
      int present = 0; /* a pipeline with rows in the window, flagged or not */
      for (size_t i = 0; i < np; ++i) {
        const point_rows *pt = &c->d->points[i];
        char k[128];
        group_key(c, pt, k, sizeof k);
        present |= pt->cell[q] && in_window(c, pt, point_axis(pt, c->x)) && !strcmp(k, keys[j]);
      }
      if (!present) continue;
      g->npts = collect(c, q, keys[j], rows, xs);
      if (g->npts < 2) { /* skipped with a note; an error if no group is left */
        char why[1024];
        too_few(c, g, why, sizeof why);
        if (!first_culprit[0]) snprintf(first_culprit, sizeof first_culprit, "%s", why);
        st = note(res, "%s: left out", why);
        memset(g, 0, sizeof *g);
        continue;
      }
      res->ngroups++;
      st = fit_group(c, g, rows, xs);
    }
  free(rows);
  free(xs);
  free(keys);
  if (st == KD_OK && res->ngroups == 0)
    st = kd_fail(KD_EINVAL, "fit: run %s: %s", res->run, first_culprit);
  if (st == KD_OK) ratios(res);
  return st;
}

/* ---- weak-to-strong ----------------------------------------------------------------------------
 */

static double half(const kd_row *r) { return r ? (r->s.ci_high - r->s.ci_low) / 2 : NAN; }

/* The k of least simulated w2s risk among points equal to pt in everything but k. */
static size_t best_k_sim(const run_data *d, const point_rows *pt) {
  const kd_row *w = pt->cell[KD_PIPE_W2S];
  size_t best = 0, siblings = 0;
  double least = INFINITY;
  for (size_t i = 0; i < d->npoints; ++i) {
    const kd_row *o = d->points[i].cell[KD_PIPE_W2S];
    if (!o || o->flag[0] || o->n != w->n || o->p != w->p || o->m != w->m || o->ridge != w->ridge ||
        !(o->alpha == w->alpha || (isnan(o->alpha) && isnan(w->alpha))) ||
        point_axis(&d->points[i], KD_AXIS_SIGMA) != point_axis(pt, KD_AXIS_SIGMA))
      continue;
    ++siblings;
    if (o->s.mean < least) least = o->s.mean, best = o->k;
  }
  return siblings > 1 ? best : 0;
}

static kd_status w2s_entry(fit_ctx *c, const point_rows *pt, kd_w2s_entry *e) {
  const kd_row *s = pt->cell[KD_PIPE_STRONG], *w = pt->cell[KD_PIPE_W2S],
               *wk = pt->cell[KD_PIPE_WEAK];
  *e = (kd_w2s_entry){.point = (long)w->point, .n = w->n, .p = w->p, .m = w->m, .k = w->k};
  snprintf(e->flag, sizeof e->flag, "%s", w->flag);
  e->strong = s ? s->s.mean : NAN, e->strong_ci = half(s), e->strong_th = s ? s->theory : NAN;
  e->w2s = w->s.mean, e->w2s_ci = half(w), e->w2s_th = w->theory;
  e->weak = wk ? wk->s.mean : NAN, e->weak_ci = half(wk);
  e->ratio = e->w2s / e->strong;
  e->diff = e->w2s - e->strong;
  kd_summary d;
  kd_status st;
  if (s && w->risks && s->risks && w->n_risks == s->n_risks && w->n_risks > 1 &&
      kd_paired_diff(w->risks, w->n_risks, s->risks, s->n_risks, &d) == KD_OK) {
    e->diff_ci = (d.ci_high - d.ci_low) / 2, e->diff_paired = 1;
  } else {
    e->diff_ci = hypot(e->w2s_ci, e->strong_ci); /* conservative: ignores the pairing */
    if (s && (st = note(c->res,
                        "w2s - strong: without per-trial risks its interval combines the "
                        "two intervals as if independent (conservative: the trials share "
                        "designs)")))
      return st;
  }
  /* PGR: a gap within two standard errors of zero is flagged, not divided */
  double gap_se = NAN;
  if (wk && s) {
    if (wk->risks && s->risks && wk->n_risks == s->n_risks && wk->n_risks > 1 &&
        kd_paired_diff(wk->risks, wk->n_risks, s->risks, s->n_risks, &d) == KD_OK)
      gap_se = d.se;
    else
      gap_se = hypot(wk->s.se, s->s.se);
  }
  e->pgr = kd_pgr(e->weak, e->w2s, e->strong, 2 * gap_se, &e->pgr_flag);
  /* theory: the weak model of this point and the best k for its m */
  const kd_problem *pr;
  kd_de de;
  double sigma = point_axis(pt, KD_AXIS_SIGMA);
  if ((st = problem_of(&c->ps, w->p, w->alpha, &pr)) ||
      (st = kd_de_solve(pr->lambda, pr->p, (double)w->n, w->ridge, &de)))
    return st;
  kd_weak_spec ws = {.m = (double)w->m, .k = w->k, .ridge = 0, .lambda_w = NULL, .sigma = sigma};
  kd_w2s_theory th;
  if ((st = kd_w2s_theory_point(pr->lambda, pr->beta, pr->p, &de, &ws, w->sigma, &th))) return st;
  e->weak_th = wk ? wk->theory : th.weak;
  e->gain_th = e->weak_th - e->w2s_th;
  e->misfit_th = th.misfit;
  e->best_k = th.best_k, e->best_k_risk = th.best_k_risk;
  e->best_k_sim = best_k_sim(c->d, pt);
  double tol = 1e-9 * fmax(fabs(e->weak_th), fabs(e->strong_th));
  e->pgr_th = kd_pgr(e->weak_th, e->w2s_th, e->strong_th, tol, &e->pgr_th_flag);
  return KD_OK;
}

static kd_status w2s_all(fit_ctx *c) {
  kd_fit_result *res = c->res;
  if (!(res->w2s = calloc(c->d->npoints, sizeof *res->w2s)))
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  int peaks = 0, weak_rows = 0;
  for (size_t i = 0; i < c->d->npoints; ++i) {
    const point_rows *pt = &c->d->points[i];
    if (!pt->cell[KD_PIPE_W2S]) continue;
    if (!strcmp(pt->cell[KD_PIPE_W2S]->flag, "peak")) {
      peaks = 1;
      continue;
    }
    weak_rows |= pt->cell[KD_PIPE_WEAK] != NULL;
    kd_status st = w2s_entry(c, pt, &res->w2s[res->nw2s]);
    if (st != KD_OK) return st;
    res->nw2s++;
  }
  kd_status st = KD_OK;
  if (res->nw2s && !weak_rows)
    st = note(res,
              "no weak rows (run with --pipelines ...,weak): the simulated PGR is not "
              "available; the theory PGR uses the engine's weak risk");
  if (!st && peaks) st = note(res, "weak-to-strong: points at the interpolation peak are left out");
  if (!st && res->nw2s)
    st = note(res,
              "misfit = E||b_student - b_weak||^2_Sigma from the theory engine only: the "
              "simulation does not record it (it needs the trial loop to keep both fits)");
  return st;
}

/* ---- the run ------------------------------------------------------------------------------------
 */

kd_status kd_fit_run(const char *run, const kd_fit_options *o, kd_fit_result *res, FILE *log) {
  memset(res, 0, sizeof *res);
  run_data d = {0};
  fit_ctx c = {.d = &d, .o = o, .res = res};
  c.ps.d = &d;
  kd_status st = kd_run_stem(run, d.stem, sizeof d.stem);
  if (st == KD_OK) {
    const char *slash = strrchr(d.stem, '/');
    snprintf(res->run, sizeof res->run, "%.255s", slash ? slash + 1 : d.stem);
    st = load_run(&d, log);
  }
  if (st == KD_OK) {
    memcpy(res->scenario_hash, d.hash, 17);
    int x = o->x ? kd_axis_parse(o->x) : (int)d.axes[0], found = 0;
    for (int i = 0; i < d.naxes; ++i) found |= x >= 0 && d.axes[i] == (kd_axis)x;
    if (!found)
      st = kd_fail(KD_EINVAL, "fit: --x %s: not a swept axis of run %s (axes: %s%s%s)", o->x,
                   res->run, kd_axis_name(d.axes[0]), d.naxes > 1 ? ", " : "",
                   d.naxes > 1 ? kd_axis_name(d.axes[1]) : "");
    c.x = (kd_axis)x;
  }
  if (st == KD_OK && (o->bootstrap > 0 && o->bootstrap < 100))
    st = kd_fail(KD_EINVAL, "fit: --bootstrap %zu: use 0 (none) or at least 100", o->bootstrap);
  if (st == KD_OK) {
    snprintf(res->x, sizeof res->x, "%s", kd_axis_name(c.x));
    res->window_lo = o->lo, res->window_hi = o->hi;
    window_text(&c, res->window, sizeof res->window);
    res->bootstrap = o->bootstrap, res->seed = o->seed;
    st = fit_all(&c);
  }
  if (st == KD_OK) st = w2s_all(&c);
  if (st == KD_OK) {
    snprintf(res->target, sizeof res->target, "%s",
             res->floor ? "mean excess risk less the label-noise floor sigma^2 (1 - Omega)/Omega "
                          "of the finite-p theory (ridgeless rows with sigma > 0; the weak model "
                          "as is); a noiseless run (--sigma 0) needs no subtraction"
                        : "mean excess risk");
    if (o->no_floor)
      st = note(res,
                "--no-floor: noisy ridgeless risks approach the floor "
                "sigma^2 (alpha - 1), not zero: the exponent is not the "
                "continuum one");
  }
  problems_free(&c.ps);
  run_free(&d);
  if (st != KD_OK) kd_fit_result_free(res);
  return st;
}
