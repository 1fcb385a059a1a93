/* The fits of every group: the power law of the simulation and of the theory, the
 * continuum limit, the bootstrap, the drift note, the ratios to strong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The continuum limit of docs/theory.md#continuum, where it applies: x = n, a
 * ridgeless student on a power-law spectrum and beta*; constants for strong, optimal
 * and mask (no continuum limit for a pipeline with a weak teacher at fixed m). */
static kd_status continuum(kd_fit_ctx *c, kd_fit_group *g, const kd_row *r) {
  g->cont_exponent = g->cont_constant = NAN;
  if (c->x != KD_AXIS_N || r->ridge != 0 || isnan(r->alpha) || isnan(r->signal_exp) ||
      kd_pipelines[r->pipeline]->m_column)
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

static kd_status bootstrap(kd_fit_ctx *c, kd_fit_group *g, const kd_row **rows) {
  size_t n = g->npts;
  int raw = 1;
  for (size_t i = 0; i < n; ++i) raw &= rows[i]->risks && rows[i]->n_risks == rows[i]->s.count;
  strcpy(g->ci_kind, isnan(g->sim_fit.ci_low) ? "none" : "t");
  g->ci_low = g->sim_fit.ci_low;
  g->ci_high = g->sim_fit.ci_high;
  if (c->o->bootstrap == 0)
    return kd_fit_note(c->res, "--bootstrap 0: the interval is the regression's 95 %% t-interval");
  if (!raw)
    return kd_fit_note(c->res,
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
    return kd_fit_note(c->res,
                "%s%s%s: %zu of %zu bootstrap replicates fell below the floor: the "
                "interval is the regression's t-interval",
                g->pipeline, g->group[0] ? ", " : "", g->group, b.replicates - b.used,
                b.replicates);
  strcpy(g->ci_kind, "bootstrap");
  g->ci_low = b.ci_low;
  g->ci_high = b.ci_high;
  if (!b.paired)
    return kd_fit_note(c->res,
                "trial counts differ between points: the bootstrap resampled each point "
                "independently");
  return KD_OK;
}

/* A note when the theory's local exponent moves by more than DRIFT over the window:
 * the curve is not one power law there (a crossover, or finite p). */
static const double DRIFT = 0.1;

static kd_status drift(kd_fit_ctx *c, const kd_fit_group *g) {
  if (!g->theory_fit.npts || g->npts < 3) return KD_OK;
  double lo = INFINITY, hi = -INFINITY, *ls = malloc((g->npts - 1) * sizeof *ls);
  if (!ls) return kd_fail(KD_ENOMEM, "fit: out of memory");
  kd_local_exponents(g->x, g->theory, g->npts, ls);
  for (size_t i = 0; i + 1 < g->npts; ++i) lo = fmin(lo, ls[i]), hi = fmax(hi, ls[i]);
  double first = ls[0], last = ls[g->npts - 2];
  free(ls);
  if (!(hi - lo > DRIFT)) return KD_OK;
  return kd_fit_note(c->res,
              "%s%s%s: the theory's local exponent drifts from %.3f to %.3f over the "
              "window (range %.3f > %g): not one power law there; narrow --window or "
              "use a larger p",
              g->pipeline, g->group[0] ? ", " : "", g->group, first, last, hi - lo, DRIFT);
}

/* The reason group g cannot be fitted (fewer than 2 points), in `why`. */
static void too_few(const kd_fit_ctx *c, const kd_fit_group *g, char *why, size_t len) {
  snprintf(why, len,
           "pipeline %s%s%s has %zu point%s in the window %s: a fit needs at least 2 (widen "
           "--window; rows flagged peak or near-peak never enter)",
           g->pipeline, g->group[0] ? ", " : "", g->group, g->npts, g->npts == 1 ? "" : "s",
           c->res->window);
}

static kd_status fit_group(kd_fit_ctx *c, kd_fit_group *g, const kd_row **rows, const double *xs) {
  size_t n = g->npts;
  if (!(g->x = malloc(4 * n * sizeof *g->x))) return kd_fail(KD_ENOMEM, "fit: out of memory");
  g->sim = g->x + n, g->theory = g->x + 2 * n, g->floor = g->x + 3 * n;
  int theory_ok = 1;
  kd_status st;
  for (size_t i = 0; i < n; ++i) {
    const kd_row *r = rows[i];
    g->x[i] = xs[i];
    if (!c->o->no_floor && (st = kd_fit_row_floor(&c->ps, r, &g->floor[i])) != KD_OK) return st;
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
  } else if ((st = kd_fit_note(c->res,
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

kd_status kd_fit_all(kd_fit_ctx *c) {
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
    const kd_fit_point *pt = &c->d->points[i];
    double x = kd_fit_point_axis(pt, c->x);
    xmin = fmin(xmin, x), xmax = fmax(xmax, x);
    if (!kd_fit_in_window(c, pt, x)) continue;
    ++in;
    for (int q = 0; q < KD_NPIPES; ++q) res->left_out += pt->cell[q] && pt->cell[q]->flag[0];
    char k[128];
    kd_fit_group_key(c, pt, k, sizeof k);
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
        const kd_fit_point *pt = &c->d->points[i];
        char k[128];
        kd_fit_group_key(c, pt, k, sizeof k);
        present |= pt->cell[q] && kd_fit_in_window(c, pt, kd_fit_point_axis(pt, c->x)) && !strcmp(k, keys[j]);
      }
      if (!present) continue;
      g->npts = kd_fit_collect(c, q, keys[j], rows, xs);
      if (g->npts < 2) { /* skipped with a note; an error if no group is left */
        char why[1024];
        too_few(c, g, why, sizeof why);
        if (!first_culprit[0]) snprintf(first_culprit, sizeof first_culprit, "%s", why);
        st = kd_fit_note(res, "%s: left out", why);
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
