/* A point's rows: how many every point has, and each row from the point's plan and its
 * trials' risks (summaries, theory, flags, the columns its pipeline fills, and a row of a
 * group's step against the group's step 1). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kdbench/stats.h"
#include "internal.h"

kd_status kd_sweep_point_rows(const kd_config *c, const kd_grid *g, size_t *rows) {
  kd_sweep_problem ps = {0};
  kd_plan pl;
  kd_status st = g->count ? kd_sweep_problem_for(c, &g->pt[0], &ps) : KD_OK;
  if (st == KD_OK && g->count) {
    kd_point pt = kd_sweep_point_of(c, &g->pt[0]);
    st = kd_plan_point(&ps.pr, &pt, c->pipelines, &pl);
    if (st == KD_OK) *rows = (size_t)pl.nrows, kd_plan_free(&pl);
  }
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

/* "peak": a ridgeless fit of the pipeline at its interpolation peak, the student's
 * |n - p| <= 1 or (w2s, weak) the weak teacher's |m - k| <= 1 (kd_plan_point): the
 * expected risk is infinite and the mean meaningless (use the median).
 * "near-peak": a theory that is a deterministic equivalent of a ridgeless fit within
 * a tenth of that fit's peak (kd_plan_near_peak). */
static const char *flag_of(const kd_plan *pl, int q) {
  if (pl->row[q].peak) return "peak";
  if (pl->row[q].kind != KD_THEORY_DE) return "";
  return kd_plan_near_peak(pl, q) ? "near-peak" : "";
}

kd_row kd_sweep_make_row(const kd_config *c, const kd_problem *pr, const kd_plan *pl,
                         const kd_grid_point *gp, int q, const double *risks, uint32_t trials,
                         const double *first, long fallbacks) {
  const kd_plan_row *pr_row = &pl->row[q];
  kd_row r = {.pipeline = pr_row->pipe, .n = pl->pt.n, .p = pr->p, .sigma = pr_row->sigma,
              .step = pr_row->step, .beats = NAN, .beats_low = NAN, .beats_high = NAN};
  snprintf(r.group, sizeof r.group, "%s", pr_row->group);
  kd_plan_columns(pl, q, &r.m, &r.k); /* the pipeline's own */
  r.ridge = pl->pt.ridge;
  r.alpha = c->spectrum_spec.kind == KD_SPEC_POWERLAW ? gp->alpha : NAN;
  r.signal_exp = c->beta_spec.kind == KD_BETA_POWERLAW ? c->signal_exp : NAN;
  /* the mix's rows, and every row where it is swept */
  r.real_fraction = pr_row->pipe == KD_PIPE_MIX || kd_config_swept(c, KD_AXIS_REAL_FRACTION)
                        ? gp->real_fraction
                        : NAN;
  if (kd_pipelines[pr_row->pipe]->features_column)
    r.student_features = pl->pt.features.count ? pl->pt.features.count : pr->p;
  kd_summarize(risks, trials, &r.s);
  r.theory = pr_row->theory;
  r.ratio = isfinite(r.theory) && r.theory > 0 ? r.s.mean / r.theory : NAN;
  r.test_risk = r.s.mean + gp->sigma * gp->sigma; /* the truth's noise, whatever the labels' */
  r.fallbacks = fallbacks;
  r.exact = pr_row->kind == KD_THEORY_EXACT;
  snprintf(r.flag, sizeof r.flag, "%s", flag_of(pl, q));
  if (first && first != risks && trials)
    kd_beats_fraction(risks, first, trials, &r.beats, &r.beats_low, &r.beats_high);
  return r;
}

const double *kd_sweep_first_of(const kd_plan *pl, int q, const double *risks, uint32_t trials) {
  const kd_plan_row *r = &pl->row[q];
  if (r->step < 1) return NULL;
  for (int i = pl->first_row[r->pipe]; i <= q; ++i)
    if (pl->row[i].step == 1 && !strcmp(pl->row[i].group, r->group))
      return risks + (size_t)i * trials;
  return NULL;
}
