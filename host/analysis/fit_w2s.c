/* The weak-to-strong metrics of a run's points (host/analysis/w2s_metrics.c), simulated
 * and from the theory of the rebuilt problem. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static double half(const kd_row *r) { return r ? (r->s.ci_high - r->s.ci_low) / 2 : NAN; }

/* The k of least simulated w2s risk among points equal to pt in everything but k. */
static size_t best_k_sim(const kd_fit_data *d, const kd_fit_point *pt) {
  const kd_row *w = pt->cell[KD_PIPE_W2S];
  size_t best = 0, siblings = 0;
  double least = INFINITY;
  for (size_t i = 0; i < d->npoints; ++i) {
    const kd_row *o = d->points[i].cell[KD_PIPE_W2S];
    if (!o || o->flag[0] || o->n != w->n || o->p != w->p || o->m != w->m || o->ridge != w->ridge ||
        !(o->alpha == w->alpha || (isnan(o->alpha) && isnan(w->alpha))) ||
        kd_fit_point_axis(&d->points[i], KD_AXIS_SIGMA) != kd_fit_point_axis(pt, KD_AXIS_SIGMA))
      continue;
    ++siblings;
    if (o->s.mean < least) least = o->s.mean, best = o->k;
  }
  return siblings > 1 ? best : 0;
}

static kd_status w2s_entry(kd_fit_ctx *c, const kd_fit_point *pt, kd_w2s_entry *e) {
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
    if (s && (st = kd_fit_note(c->res,
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
  double sigma = kd_fit_point_axis(pt, KD_AXIS_SIGMA);
  if ((st = kd_fit_problem_of(&c->ps, w->p, w->alpha, &pr)) ||
      (st = kd_de_solve(pr->lambda, pr->p, (double)w->n, w->ridge, &de)))
    return st;
  kd_weak_spec ws = {.m = (double)w->m, .k = w->k, .ridge = 0, .lambda_w = pr->lambda_w,
                     .sigma = sigma};
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

kd_status kd_fit_w2s_all(kd_fit_ctx *c) {
  kd_fit_result *res = c->res;
  if (!(res->w2s = calloc(c->d->npoints, sizeof *res->w2s)))
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  int peaks = 0, weak_rows = 0;
  for (size_t i = 0; i < c->d->npoints; ++i) {
    const kd_fit_point *pt = &c->d->points[i];
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
    st = kd_fit_note(res,
              "no weak rows (run with --pipelines ...,weak): the simulated PGR is not "
              "available; the theory PGR uses the engine's weak risk");
  if (!st && peaks) st = kd_fit_note(res, "weak-to-strong: points at the interpolation peak are left out");
  if (!st && res->nw2s)
    st = kd_fit_note(res,
              "misfit = E||b_student - b_weak||^2_Sigma from the theory engine only: the "
              "simulation does not record it (it needs the trial loop to keep both fits)");
  return st;
}
