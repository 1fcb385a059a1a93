/* The table of a pipeline with several rows at a grid point (docs/architecture.md):
 * one line per grid point and step (a generation), the run's leading columns and the
 * step first, then per group (a schedule) the simulation (mean ± CI, or the median at
 * the peak), the theory (its kind) and the fraction of trials beating the group's step
 * 1. NAME.md and NAME.tex have it after the run's table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

enum { MD = KD_TABLE_MD, TEX = KD_TABLE_TEX, GROUPS = 16 };

/* The pipeline's groups, in the order its rows first name them; their count. */
static int groups_of(const kd_report *r, int pipe, char names[GROUPS][KD_GROUP_LEN], int *steps) {
  int n = 0;
  *steps = 0;
  for (size_t i = 0; i < r->nrows; ++i) {
    const kd_report_row *x = &r->rows[i];
    if (x->pipe != pipe || x->step < 1) continue;
    if (x->step > *steps) *steps = x->step;
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
                 int steps, kd_table *t) {
  for (size_t i = 0; i < r->nrows;) {
    const long point = r->rows[i].point;
    for (int s = 1; s <= steps; ++s) {
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

static void caption(const kd_report *r, const kd_pipeline_type *type, kd_table *t) {
  const kd_report_meta *m = &r->meta;
  char how[64], tex_how[64];
  if (kd_report_simulated(r)) {
    snprintf(how, sizeof how, "simulation beside theory; %ld trials", m->trials);
    snprintf(tex_how, sizeof tex_how, "simulation beside theory; %ld~trials", m->trials);
  } else {
    snprintf(how, sizeof how, "theory only (no simulation)");
    snprintf(tex_how, sizeof tex_how, "theory only (no simulation)");
  }
  kd_table_caption(t, MD, "## kdbench run %s: %s, by %s\n\nExcess risk of each %s and %s, %s.\n\n",
                   m->run_name, type->name, type->step_column, type->step_column,
                   type->group_column, how);
  kd_table_caption(t, TEX,
                   "Excess risk $\\mathrm{E}\\,\\|\\hat\\beta - \\beta^*\\|_\\Sigma^2$ of each %s "
                   "(pipeline %s) and %s, %s.",
                   type->step_column, type->name, type->group_column, tex_how);
  if (*r->fixed) {
    kd_table_caption(t, MD, "Fixed: %s.\n\n", r->fixed);
    kd_table_caption(t, TEX, " Fixed: ");
    kd_table_caption_source(t, TEX, r->fixed_tex);
    kd_table_caption(t, TEX, ".");
  }
}

static void notes(const kd_report *r, const kd_pipeline_type *type, kd_table *t) {
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
}

int kd_report_steps_table(const kd_report *r, int pipe, kd_table *t) {
  char names[GROUPS][KD_GROUP_LEN];
  int steps = 0;
  const int ngroups = groups_of(r, pipe, names, &steps);
  if (!ngroups) return 0;
  const kd_pipeline_type *type = kd_pipelines[pipe];
  char label[96];
  t->tex_wide = r->wide;
  columns(r, type, ngroups, names, t);
  rows(r, pipe, ngroups, names, steps, t);
  caption(r, type, t);
  notes(r, type, t);
  snprintf(label, sizeof label, "tab:kdbench-%s-%s", r->meta.scenario_hash, type->name);
  kd_table_label(t, label);
  return 1;
}
