/* The table of a loaded run, one kd_table for NAME.md and NAME.tex (report_layout.c
 * says which columns): the leading columns, then per pipeline its own parameters, sim
 * (mean ± CI, or the median at the peak) and theory; the caption gives the setting
 * and the notes explain the marks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kdbench/escape.h"
#include "internal.h"

enum { MD = KD_TABLE_MD, TEX = KD_TABLE_TEX };

static const char *const tex_param_names[KD_RP_COUNT] = {
    "$n$", "$p$", "$m$", "$k$", "ridge", "$\\alpha$", "signal\\_exp", "$\\sigma$", "trials",
    [KD_RP_STUDENT_FEATURES] = "$s$"}; /* real_fraction: its column name */

static void param_column(kd_table *t, int q, const char *pipe) {
  char head[64];
  snprintf(head, sizeof head, "%s%s%s", pipe ? pipe : "", pipe ? ": " : "", kd_report_param_names[q]);
  kd_table_column(t, &(kd_column){.head = head, .tex_head = tex_param_names[q], .group = pipe,
                                  .fmt = kd_report_param_fmt(q)});
}

static void columns(const kd_report *r, kd_table *t) {
  for (int l = 0; l < r->nlead; ++l) param_column(t, r->lead[l], NULL);
  for (int p = 0; p < KD_NPIPES; ++p) {
    if (!r->pipe_present[p]) continue;
    const char *name = kd_pipeline_name((kd_pipeline)p);
    char sim[64], theory[64];
    for (int q = 0; q < KD_RP_COUNT; ++q)
      if (r->pipe_param[p][q]) param_column(t, q, name);
    snprintf(sim, sizeof sim, "%s: sim", name);
    snprintf(theory, sizeof theory, "%s: theory", name);
    if (kd_report_simulated(r))
      kd_table_column(t, &(kd_column){.head = sim, .tex_head = "sim", .group = name, .pair = 1,
                                      .digits = 4, .ci_digits = 2});
    kd_table_column(t, &(kd_column){.head = theory, .tex_head = "theory", .group = name,
                                    .digits = 4, .md_infinity = 1});
  }
}

static void param_cell(kd_table *t, int found, double v) {
  if (found)
    kd_table_num(t, v, NULL);
  else
    kd_table_none(t);
}

static void rows(const kd_report *r, kd_table *t) {
  for (size_t i = 0; i < r->npoints; ++i) {
    const kd_report_point *pt = &r->points[i];
    for (int l = 0; l < r->nlead; ++l) {
      double v = 0;
      int found = kd_report_lead_value(pt, r->lead[l], &v);
      param_cell(t, found, v);
    }
    for (int p = 0; p < KD_NPIPES; ++p) {
      if (!r->pipe_present[p]) continue;
      const kd_report_row *c = pt->cell[p];
      const double shift = c && r->test_risk ? c->noise : 0; /* --risk test */
      for (int q = 0; q < KD_RP_COUNT; ++q)
        if (r->pipe_param[p][q]) param_cell(t, c && c->has_param[q], c ? c->param[q] : 0);
      if (!kd_report_simulated(r))
        ;
      else if (!c)
        kd_table_none(t);
      else if (c->flag == KD_RFLAG_PEAK) /* the mean is meaningless there */
        kd_table_num(t, c->sim_median + shift, &kd_mark_dagger);
      else
        kd_table_pm(t, c->sim_mean + shift, isfinite(c->ci_half) ? c->ci_half : NAN, NULL);
      if (!c || !c->has_theory)
        kd_table_none(t);
      else
        kd_table_num(t, c->theory + shift,
                     c->flag == KD_RFLAG_NEAR_PEAK                         ? &kd_mark_ddagger
                     : c->flag == KD_RFLAG_PEAK && !kd_report_simulated(r) ? &kd_mark_dagger
                                                                           : NULL);
    }
  }
}

static void caption(const kd_report *r, kd_table *t) {
  const kd_report_meta *m = &r->meta;
  const char *trials = m->trials == 1 ? "" : "s", *points = m->points_total == 1 ? "" : "s";
  const char *incomplete = m->complete ? "" : " (an incomplete run)";
  const int sim = kd_report_simulated(r);
  char how[64];
  snprintf(how, sizeof how, sim ? "simulation beside theory" : "theory only (no simulation)");
  if (sim)
    kd_table_caption(t, MD,
                     "## kdbench run %s\n\n%s, %s. Scenario %s, seed %ld, %ld trial%s, backend "
                     "%s, kdbench %s (commit %s); %zu of %ld point%s%s.\n\n",
                     m->run_name, r->test_risk ? "Test risk (excess + sigma^2)" : "Excess risk",
                     how, m->scenario_hash, m->seed, m->trials, trials, m->backend, m->version,
                     m->commit, r->npoints, m->points_total, points, incomplete);
  else
    kd_table_caption(t, MD,
                     "## kdbench run %s\n\n%s, %s. Scenario %s, kdbench %s (commit %s); %zu "
                     "of %ld point%s%s.\n\n",
                     m->run_name, r->test_risk ? "Test risk (excess + sigma^2)" : "Excess risk",
                     how, m->scenario_hash, m->version, m->commit, r->npoints, m->points_total,
                     points, incomplete);
  /* LaTeX: words and math only; the scenario, seed, commit and backend are the file's
   * % comment (kd_report_write) */
  kd_table_caption(t, TEX,
                   r->test_risk ? "Test risk $\\mathrm{E}\\,\\|\\hat\\beta - \\beta^*\\|_\\Sigma^2 + \\sigma^2$"
                                : "Excess risk $\\mathrm{E}\\,\\|\\hat\\beta - \\beta^*\\|_\\Sigma^2$");
  if (sim)
    kd_table_caption(t, TEX, ", %s; %ld~trial%s, %zu of %ld point%s%s.", how, m->trials, trials,
                     r->npoints, m->points_total, points, incomplete);
  else
    kd_table_caption(t, TEX, ", %s; %zu of %ld point%s%s.", how, r->npoints, m->points_total,
                     points, incomplete);
  if (*r->fixed) {
    kd_table_caption(t, MD, "Fixed: %s.\n\n", r->fixed);
    kd_table_caption(t, TEX, " Fixed: ");
    kd_table_caption_source(t, TEX, r->fixed_tex);
    kd_table_caption(t, TEX, ".");
  }
}

static void notes(const kd_report *r, kd_table *t) {
  const kd_report_meta *m = &r->meta;
  static const char *const theory =
      "theory: deterministic equivalent, or the exact finite-sample formula where one exists";
  if (kd_report_simulated(r)) {
    kd_table_note(t, MD,
                  "sim: mean ± half-width of the 95 %% confidence interval (%s); %s; —: not "
                  "available.",
                  m->ci, theory);
    kd_table_note(t, TEX,
                  "Sim: mean $\\pm$ half-width of the 95\\,\\%% confidence interval (%s); %s; "
                  "---: not available.",
                  m->ci, theory);
  } else {
    static const char *const alone = "theory only, no trials: the deterministic equivalent, "
                                     "or the exact finite-sample formula where one exists";
    kd_table_note(t, MD, "%s; —: not available.", alone);
    kd_table_note(t, TEX, "%s; ---: not available.", alone);
  }
  kd_table_note(t, MD, "Risk: %s.", m->risk);
  kd_table_note(t, TEX,
                "Risk: the excess risk $(\\hat\\beta - \\beta^*)^\\top \\Sigma\\, (\\hat\\beta - "
                "\\beta^*)$; the test risk is the excess risk $+\\,\\sigma^2$.");
  if (r->any_peak) {
    const char *const peak =
        kd_report_simulated(r) ? "Interpolation peak: the expected risk is infinite and the "
                                 "mean over trials meaningless; the median over trials is shown."
                               : "Interpolation peak: the expected risk is infinite.";
    kd_table_note(t, MD, "† %s", peak);
    kd_table_note(t, TEX, "$^{\\dagger}$\\,%s", peak);
  }
  if (r->any_near_peak) {
    static const char *const near = "Near the peak: the deterministic equivalent's finite-size "
                                    "error grows like";
    kd_table_note(t, MD, "‡ %s 1/\\|n − p\\| there.", near);
    kd_table_note(t, TEX, "$^{\\ddagger}$\\,%s $1/|n - p|$ there.", near);
  }
  kd_report_backend_notes(r, t);
}

void kd_report_table(const kd_report *r, kd_table *t) {
  char label[64];
  t->tex_wide = r->wide;
  columns(r, t);
  rows(r, t);
  caption(r, t);
  notes(r, t);
  snprintf(label, sizeof label, "tab:kdbench-%s", r->meta.scenario_hash); /* 16 hex digits */
  kd_table_label(t, label);
}

/* A % comment line of LaTeX, "% key: text" (the text's line breaks as spaces), and `tail`
 * after it when not NULL. */
static void comment(FILE *out, const char *key, const char *text, const char *tail) {
  fprintf(out, "%% %s: ", key);
  for (const char *c = text; *c; ++c) fputc(*c == '\n' || *c == '\r' ? ' ' : *c, out);
  fprintf(out, "%s\n", tail ? tail : "");
}

/* Where the tables come from, as % comments before them (none of it typeset). */
static void provenance(const kd_report_meta *m, FILE *out) {
  fputs("% kdbench report: \\input it in a document that loads booktabs (and graphicx, which "
        "scales a table wider than the column down to it)\n",
        out);
  comment(out, "run", m->run_name, NULL);
  comment(out, "scenario", m->scenario_hash, NULL);
  fprintf(out, "%% seed: %ld\n", m->seed);
  comment(out, "kdbench", m->version, NULL);
  comment(out, "commit", m->commit, NULL);
  comment(out, "backend", m->backend_description ? m->backend_description : m->backend, NULL);
  if (m->earlier) comment(out, "computed earlier and resumed", m->earlier, NULL);
}

static kd_status write_one(const kd_table *t, unsigned format, FILE *out) {
  return format == KD_TABLE_TEX ? kd_table_write_tex(t, out) : kd_table_write_md(t, out);
}

/* The run's table (when a pipeline of one row has rows), then the table of each
 * pipeline with several rows at a point, then the fit's. */
kd_status kd_report_write(const kd_report *r, const kd_table *t, unsigned format, FILE *out) {
  kd_status st = KD_OK;
  int one_row = 0;
  for (int p = 0; p < KD_NPIPES; ++p) one_row |= r->pipe_present[p];
  if (format == KD_TABLE_TEX) {
    provenance(&r->meta, out);
    for (size_t i = 0; r->fit && i < r->fit->nnotes; ++i)
      comment(out, "fit note", r->fit->notes[i], ".");
  }
  if (one_row) st = write_one(t, format, out);
  for (int p = 0; st == KD_OK && p < KD_NPIPES; ++p) {
    if (!kd_pipelines[p]->groups) continue;
    kd_table steps;
    kd_table_init(&steps);
    if (kd_report_steps_table(r, p, format, &steps)) {
      if (one_row && format == KD_TABLE_MD) fputc('\n', out);
      st = steps.st ? steps.st : write_one(&steps, format, out);
    }
    kd_table_free(&steps);
  }
  if (st == KD_OK && r->fit) st = kd_report_write_fit(r->fit, format, r->wide, out);
  return st;
}
