/* The table of a pipeline with several rows at a grid point (docs/architecture.md):
 * one line per grid point and step (a generation), the run's leading columns and the
 * step first, then per group (a schedule) the simulation (mean ± CI, or the median at
 * the peak), the theory (its kind) and the fraction of trials beating the group's step
 * 1. NAME.md and NAME.tex have it after the run's table; in NAME.tex a long chain shows
 * some of its steps (a float is one page), which its caption lists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { MD = KD_TABLE_MD, TEX = KD_TABLE_TEX, GROUPS = 16 };

/* LaTeX: a chain of more steps than this shows its steps of rank 1 .. 10, then 20, 50,
 * 100, 200, 500, ... and its last; Markdown shows every step. */
enum { TEX_STEPS = 20 };

/* Whether the step of rank k (from 1) of nsteps is a row of the table. */
static int shown(int k, int nsteps, unsigned format) {
  if (format != TEX || nsteps <= TEX_STEPS || k <= 10 || k == nsteps) return 1;
  int d = k;
  while (d % 10 == 0) d /= 10;
  return d == 1 || d == 2 || d == 5;
}

static int by_value(const void *a, const void *b) {
  const int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The distinct steps of the pipeline's rows, increasing (malloc'd; NULL when out of
 * memory), their count in *n. */
static int *steps_of(const kd_report *r, int pipe, int *n) {
  int *v = malloc(sizeof *v * (r->nrows ? r->nrows : 1));
  *n = 0;
  if (!v) return NULL;
  for (size_t i = 0; i < r->nrows; ++i)
    if (r->rows[i].pipe == pipe && r->rows[i].step >= 1) v[(*n)++] = r->rows[i].step;
  qsort(v, (size_t)*n, sizeof *v, by_value);
  int kept = 0;
  for (int i = 0; i < *n; ++i)
    if (!kept || v[i] != v[kept - 1]) v[kept++] = v[i];
  *n = kept;
  return v;
}

/* The pipeline's groups, in the order its rows first name them; their count. */
static int groups_of(const kd_report *r, int pipe, char names[GROUPS][KD_GROUP_LEN]) {
  int n = 0;
  for (size_t i = 0; i < r->nrows; ++i) {
    const kd_report_row *x = &r->rows[i];
    if (x->pipe != pipe || x->step < 1) continue;
    int g = 0;
    while (g < n && strcmp(names[g], x->group)) ++g;
    if (g == n && n < GROUPS) snprintf(names[n++], KD_GROUP_LEN, "%s", x->group);
  }
  return n;
}

static const kd_report_row *find(const kd_report *r, size_t from, long point, int pipe,
                                 const char *group, int step) {
  for (size_t i = from; i < r->nrows && r->rows[i].point == point; ++i) {
    const kd_report_row *x = &r->rows[i];
    if (x->pipe == pipe && x->step == step && !strcmp(x->group, group)) return x;
  }
  return NULL;
}

static void columns(const kd_report *r, const kd_pipeline_type *type, int ngroups,
                    char names[GROUPS][KD_GROUP_LEN], kd_table *t) {
  for (int l = 0; l < r->nlead; ++l) {
    const int q = r->lead[l];
    kd_table_column(t, &(kd_column){.head = kd_report_param_names[q],
                                    .fmt = kd_report_param_fmt(q)});
  }
  kd_table_column(t, &(kd_column){.head = type->step_column, .fmt = "%.0f"});
  for (int g = 0; g < ngroups; ++g) {
    char sim[64], theory[64], beats[64];
    snprintf(sim, sizeof sim, "%.*s: sim", KD_GROUP_LEN, names[g]);
    snprintf(theory, sizeof theory, "%.*s: theory", KD_GROUP_LEN, names[g]);
    snprintf(beats, sizeof beats, "%.*s: beats 1", KD_GROUP_LEN, names[g]);
    if (kd_report_simulated(r))
      kd_table_column(t, &(kd_column){.head = sim, .tex_head = "sim", .group = names[g],
                                      .pair = 1, .digits = 4, .ci_digits = 2});
    kd_table_column(t, &(kd_column){.head = theory, .tex_head = "theory", .group = names[g],
                                    .digits = 4, .md_infinity = 1});
    if (kd_report_simulated(r))
      kd_table_column(t, &(kd_column){.head = beats, .tex_head = "beats 1", .group = names[g],
                                      .fmt = "%.2f"});
  }
}

static const kd_mark exact_mark = {.text = "*", .md = "*", .tex = "^{*}"};

/* A group's cells at a step: sim, theory, beats 1; theory alone in a theory-only run
 * (its peak's dagger then on the theory). */
static void cells(kd_table *t, const kd_report_row *c, int sim) {
  if (!c) {
    for (int i = 0; i < (sim ? 3 : 1); ++i) kd_table_none(t);
    return;
  }
  if (!sim)
    ;
  else if (c->flag == KD_RFLAG_PEAK)
    kd_table_num(t, c->sim_median, &kd_mark_dagger);
  else
    kd_table_pm(t, c->sim_mean, isfinite(c->ci_half) ? c->ci_half : NAN, NULL);
  if (!c->has_theory)
    kd_table_none(t);
  else
    kd_table_num(t, c->theory, c->flag == KD_RFLAG_NEAR_PEAK       ? &kd_mark_ddagger
                               : c->flag == KD_RFLAG_PEAK && !sim ? &kd_mark_dagger
                               : c->exact                         ? &exact_mark
                                                                  : NULL);
  if (!sim)
    ;
  else if (isnan(c->beats))
    kd_table_none(t);
  else
    kd_table_num(t, c->beats, NULL);
}

static void rows(const kd_report *r, int pipe, int ngroups, char names[GROUPS][KD_GROUP_LEN],
                 const int *steps, int nsteps, unsigned format, kd_table *t) {
  for (size_t i = 0; i < r->nrows;) {
    const long point = r->rows[i].point;
    for (int k = 0; k < nsteps; ++k) {
      const int s = steps[k];
      if (!shown(k + 1, nsteps, format)) continue;
      const kd_report_row *any = NULL;
      for (int g = 0; g < ngroups && !any; ++g) any = find(r, i, point, pipe, names[g], s);
      if (!any) continue;
      for (int l = 0; l < r->nlead; ++l) {
        const int q = r->lead[l];
        if (any->has_param[q]) kd_table_num(t, any->param[q], NULL);
        else kd_table_none(t);
      }
      kd_table_num(t, s, NULL);
      for (int g = 0; g < ngroups; ++g)
        cells(t, find(r, i, point, pipe, names[g], s), kd_report_simulated(r));
    }
    while (i < r->nrows && r->rows[i].point == point) ++i;
  }
}

/* LaTeX: which steps a long chain's table shows, as "1--10, 20, 50, 64" (a run of
 * three or more consecutive values as its ends). */
static void steps_shown(const kd_pipeline_type *type, const int *steps, int nsteps, kd_table *t) {
  char list[512] = "";
  size_t len = 0;
  int count = 0;
  for (int k = 0; k < nsteps && len < sizeof list - 32; ++k) {
    if (!shown(k + 1, nsteps, TEX)) continue;
    int end = k; /* the run of consecutive values from k, all shown */
    while (end + 1 < nsteps && steps[end + 1] == steps[end] + 1 && shown(end + 2, nsteps, TEX)) ++end;
    if (end - k < 2) end = k;
    len += (size_t)snprintf(list + len, sizeof list - len, end > k ? "%s%d--%d" : "%s%d",
                            len ? ", " : "", steps[k], steps[end]);
    count += end - k + 1;
    k = end;
  }
  kd_table_caption(t, TEX, " Shown: %s ", type->step_column);
  kd_table_caption_source(t, TEX, list); /* digits, commas and en dashes */
  kd_table_caption(t, TEX, " (%d of the %d; every %s in the Markdown table and the CSV).", count,
                   nsteps, type->step_column);
}

static void caption(const kd_report *r, const kd_pipeline_type *type, kd_table *t) {
  const kd_report_meta *m = &r->meta;
  const int sim = kd_report_simulated(r);
  char how[64];
  if (sim) snprintf(how, sizeof how, "simulation beside theory; %ld trials", m->trials);
  else snprintf(how, sizeof how, "theory only (no simulation)");
  kd_table_caption(t, MD, "## kdbench run %s: %s, by %s\n\nExcess risk of each %s and %s, %s.\n\n",
                   m->run_name, type->name, type->step_column, type->step_column,
                   type->group_column, how);
  kd_table_caption(t, TEX,
                   "Excess risk $\\mathrm{E}\\,\\|\\hat\\beta - \\beta^*\\|_\\Sigma^2$ of each %s "
                   "(pipeline %s) and %s, ",
                   type->step_column, type->name, type->group_column);
  /* the trials' tie (~) is LaTeX source: in the format, not an escaped argument */
  if (sim) kd_table_caption(t, TEX, "simulation beside theory; %ld~trials.", m->trials);
  else kd_table_caption(t, TEX, "theory only (no simulation).");
  if (*r->fixed) {
    kd_table_caption(t, MD, "Fixed: %s.\n\n", r->fixed);
    kd_table_caption(t, TEX, " Fixed: ");
    kd_table_caption_source(t, TEX, r->fixed_tex);
    kd_table_caption(t, TEX, ".");
  }
}

static void notes(const kd_report *r, int pipe, kd_table *t) {
  const kd_pipeline_type *type = kd_pipelines[pipe];
  if (kd_report_simulated(r)) {
    kd_table_note(t, MD,
                  "sim: mean ± half-width of the 95 %% confidence interval (%s); theory: the "
                  "deterministic-equivalent recursion, or (*) the exact finite-sample value; "
                  "beats 1: the fraction of trials in which the %s's risk is below %s 1's on "
                  "the same trial (its Wilson 95 %% interval is in the JSON Lines); —: not "
                  "available.", r->meta.ci, type->step_column, type->step_column);
    kd_table_note(t, TEX,
                  "Sim: mean $\\pm$ half-width of the 95\\,\\%% confidence interval (%s); theory: "
                  "the deterministic-equivalent recursion, or ($^{*}$) the exact finite-sample "
                  "value; beats 1: the fraction of trials in which the %s's risk is below %s~1's "
                  "on the same trial; ---: not available.", r->meta.ci, type->step_column,
                  type->step_column);
  } else {
    kd_table_note(t, MD, "theory only, no trials: the deterministic-equivalent recursion, or "
                  "(*) the exact finite-sample value; —: not available.");
    kd_table_note(t, TEX, "Theory only, no trials: the deterministic-equivalent recursion, or "
                  "($^{*}$) the exact finite-sample value; ---: not available.");
  }
  if (r->any_peak) {
    const char *median = kd_report_simulated(r) ? "; the median is shown" : "";
    kd_table_note(t, MD, "† Interpolation peak: the expected risk is infinite%s.", median);
    kd_table_note(t, TEX, "$^{\\dagger}$\\,Interpolation peak: the expected risk is infinite%s.",
                  median);
  }
  if (r->any_near_peak) {
    kd_table_note(t, MD, "‡ Near an interpolation peak: the deterministic equivalent's "
                  "finite-size error grows like 1/\\|T − p\\| there.");
    kd_table_note(t, TEX, "$^{\\ddagger}$\\,Near an interpolation peak: the deterministic "
                  "equivalent's finite-size error grows like $1/|T - p|$ there.");
  }
  /* the backend where no table comes before this one (kd_report_write's order) */
  int before = 0;
  for (int p = 0; p < KD_NPIPES; ++p) before |= r->pipe_present[p]; /* the run's table */
  for (size_t i = 0; i < r->nrows && !before; ++i)
    before = r->rows[i].step >= 1 && r->rows[i].pipe < pipe && kd_pipelines[r->rows[i].pipe]->groups != NULL;
  if (!before) kd_report_backend_notes(r, t);
}

int kd_report_steps_table(const kd_report *r, int pipe, unsigned format, kd_table *t) {
  char names[GROUPS][KD_GROUP_LEN];
  const int ngroups = groups_of(r, pipe, names);
  if (!ngroups) return 0;
  int nsteps = 0, *steps = steps_of(r, pipe, &nsteps);
  if (!steps) {
    t->st = kd_fail(KD_ENOMEM, "out of memory");
    return 1;
  }
  const kd_pipeline_type *type = kd_pipelines[pipe];
  char label[96];
  t->tex_wide = r->wide;
  columns(r, type, ngroups, names, t);
  rows(r, pipe, ngroups, names, steps, nsteps, format, t);
  caption(r, type, t);
  if (nsteps > TEX_STEPS) steps_shown(type, steps, nsteps, t);
  free(steps);
  notes(r, pipe, t);
  snprintf(label, sizeof label, "tab:kdbench-%s-%s", r->meta.scenario_hash, type->name);
  kd_table_label(t, label);
  return 1;
}
