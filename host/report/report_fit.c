/* The tables of NAME.fit.json (kdbench fit) in the report: a scaling-law table
 * (one row per pipeline and group) and a weak-to-strong table (one row per point with
 * a w2s row), each one kd_table printed in Markdown or as a booktabs LaTeX float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdbench/escape.h"
#include "kdbench/report.h"
#include "kdbench/run_paths.h"
#include "internal.h"

kd_status kd_report_load_fit(const char *stem, kd_report *r, FILE *log) {
  char path[4200];
  kd_status st = kd_run_path(stem, ".fit.json", path, sizeof path);
  if (st || access(path, F_OK) != 0) return st;
  kd_fit_result *f = calloc(1, sizeof *f);
  if (!f) return kd_fail(KD_ENOMEM, "out of memory");
  if ((st = kd_fit_read_json(path, f)) != KD_OK) {
    free(f);
    return st;
  }
  if (strcmp(f->scenario_hash, r->meta.scenario_hash) != 0) {
    if (log)
      fprintf(
          log,
          "warning: %s: made from scenario %s, the run is %s: ignored (run kdbench fit again)\n",
          path, f->scenario_hash, r->meta.scenario_hash);
    kd_fit_result_free(f);
    free(f);
    return KD_OK;
  }
  r->fit = f;
  return KD_OK;
}

static int any_group(const kd_fit_result *f) {
  for (size_t i = 0; i < f->ngroups; ++i)
    if (f->groups[i].group[0]) return 1;
  return 0;
}

/* Which optional columns of the weak-to-strong table are needed. */
typedef struct {
  int p, best_k_sim;
} w2s_cols;

static w2s_cols w2s_needs(const kd_fit_result *f) {
  w2s_cols c = {0, 0};
  for (size_t i = 0; i < f->nw2s; ++i) {
    c.p |= f->w2s[i].p != f->w2s[0].p;
    c.best_k_sim |= f->w2s[i].best_k_sim != 0;
  }
  return c;
}

/* First and last local exponent of a series, "a → b" ("" with fewer than 2 points). */
static void local_range(const kd_fit_group *g, const double *y, char *out, size_t len) {
  char a[32], b[32];
  double *ls = malloc((g->npts + 1) * sizeof *ls);
  if (!ls || g->npts < 2) {
    snprintf(out, len, "%s", "");
    free(ls);
    return;
  }
  kd_local_exponents(g->x, y, g->npts, ls);
  kd_fmt_digits(ls[0], 3, a, sizeof a);
  kd_fmt_digits(ls[g->npts - 2], 3, b, sizeof b);
  snprintf(out, len, "%s → %s", a, b);
  free(ls);
}

enum { MD = KD_TABLE_MD, TEX = KD_TABLE_TEX };

/* the exponent's interval is the regression's t-interval (no per-trial risks) */
static const kd_mark mark_t = {"", "", "^{t}"};
/* w2s - strong's interval combines two intervals as if independent */
static const kd_mark mark_unpaired = {"", "*", "^{*}"};

/* ---- scaling laws ----------------------------------------------------------------------- */

static void scaling_columns(kd_table *t, int groups) {
  static const char *const sim = "exponent, simulation", *const th = "exponent, theory";
  kd_table_column(t, &(kd_column){.head = "pipeline", .align = KD_LEFT});
  if (groups) kd_table_column(t, &(kd_column){.head = "at", .align = KD_LEFT});
  kd_table_column(t, &(kd_column){.head = "points", .fmt = "%.0f"});
  kd_table_column(t, &(kd_column){.head = "exponent (sim)", .tex_head = "value", .group = sim,
                                  .digits = 4});
  kd_table_column(t, &(kd_column){.head = "95 % CI", .tex_head = "95\\,\\% CI", .group = sim,
                                  .pair = 1, .digits = 4});
  kd_table_column(t, &(kd_column){.head = "CI from", .formats = MD});
  kd_table_column(t, &(kd_column){.head = "R²", .tex_head = "$R^2$", .group = sim, .digits = 4});
  kd_table_column(t, &(kd_column){.head = "exponent (theory, finite p)", .tex_head = "finite $p$",
                                  .group = th, .digits = 4});
  kd_table_column(t, &(kd_column){.head = "exponent (continuum)", .tex_head = "continuum",
                                  .group = th, .digits = 4});
  kd_table_column(t, &(kd_column){.head = "C (sim)", .tex_head = "$C$", .group = "prefactor",
                                  .digits = 4});
  kd_table_column(t, &(kd_column){.head = "C/C_strong (sim)", .tex_head = "ratio",
                                  .group = "prefactor", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "C/C_strong (theory)", .tex_head = "ratio (th.)",
                                  .group = "prefactor", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "C (continuum)", .tex_head = "$C$",
                                  .group = "continuum", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "C/C_strong (continuum)", .tex_head = "ratio",
                                  .group = "continuum", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "local exponent, first → last: sim; theory",
                                  .formats = MD});
}

static void scaling_row(kd_table *t, const kd_fit_group *g, int groups) {
  char ls[96], lt[96], local[200];
  int boot = !strcmp(g->ci_kind, "bootstrap");
  kd_table_text(t, g->pipeline, NULL);
  if (groups) kd_table_text(t, g->group, NULL);
  kd_table_num(t, (double)g->npts, NULL);
  kd_table_num(t, g->sim_fit.exponent, NULL);
  kd_table_range(t, g->ci_low, g->ci_high, boot ? NULL : &mark_t);
  if (boot || !strcmp(g->ci_kind, "t"))
    kd_table_text(t, g->ci_kind, NULL);
  else
    kd_table_none(t);
  kd_table_num(t, g->sim_fit.r2, NULL);
  kd_table_num(t, g->theory_fit.npts ? g->theory_fit.exponent : NAN, NULL);
  kd_table_num(t, g->cont_exponent, NULL);
  kd_table_num(t, g->sim_fit.prefactor, NULL);
  kd_table_num(t, g->ratio_strong, NULL);
  kd_table_num(t, g->ratio_strong_theory, NULL);
  kd_table_num(t, g->cont_constant, NULL);
  kd_table_num(t, g->cont_ratio_strong, NULL);
  local_range(g, g->sim, ls, sizeof ls);
  local_range(g, g->theory, lt, sizeof lt);
  snprintf(local, sizeof local, "%s; %s", ls, lt);
  kd_table_text(t, local, NULL);
}

static void scaling_table(const kd_fit_result *f, kd_table *t) {
  char label[64];
  int groups = any_group(f);
  t->nan_none = 1;
  scaling_columns(t, groups);
  for (size_t i = 0; i < f->ngroups; ++i) scaling_row(t, &f->groups[i], groups);
  kd_table_caption(t, MD,
                   "\n### Scaling laws\n\nRisk ≈ C · %s^−exponent, least squares in log–log over "
                   "the window %s; rows flagged peak or near-peak left out (%zu). Fitted: %s.\n\n",
                   f->x, f->window, f->left_out, f->target);
  kd_table_caption(t, TEX,
                   "Scaling laws of run %s: risk $\\approx C\\,%s^{-\\mathrm{exponent}}$, least "
                   "squares in log--log over the window %s; rows flagged peak or near-peak left "
                   "out (%zu). Fitted: %s.",
                   f->run, f->x, f->window, f->left_out, f->target);
  snprintf(label, sizeof label, "tab:kdbench-fit-%s", f->scenario_hash);
  kd_table_label(t, label);
  kd_table_note(t, MD,
                "C/C\\_strong: the geometric mean of the ratio to `strong` over the window (the "
                "ratio of prefactors of a common-exponent fit); continuum: p → ∞, "
                "docs/theory.md#continuum (strong, optimal and mask only).");
  kd_table_note(t, TEX,
                "CI: 95\\,\\%% percentile bootstrap over trials; $^{t}$\\,the regression's "
                "$t$-interval (no per-trial risks). Ratio: $C/C_{\\mathrm{strong}}$, the "
                "geometric mean of the ratio to strong over the window. Continuum: "
                "$p\\to\\infty$ (strong, optimal, mask).");
}

/* ---- weak-to-strong ---------------------------------------------------------------------- */

static void w2s_columns(kd_table *t, w2s_cols c) {
  kd_table_column(t, &(kd_column){.head = "n", .tex_head = "$n$", .fmt = "%.0f"});
  if (c.p) kd_table_column(t, &(kd_column){.head = "p", .tex_head = "$p$", .fmt = "%.0f"});
  kd_table_column(t, &(kd_column){.head = "m", .tex_head = "$m$", .fmt = "%.0f"});
  kd_table_column(t, &(kd_column){.head = "k", .tex_head = "$k$", .fmt = "%.0f"});
  kd_table_column(t, &(kd_column){.head = "w2s/strong", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "w2s − strong", .tex_head = "w2s $-$ strong", .pair = 1,
                                  .digits = 4, .ci_digits = 2});
  kd_table_column(t, &(kd_column){.head = "PGR", .digits = 3});
  kd_table_column(t, &(kd_column){.head = "PGR (theory)", .tex_head = "PGR (th.)", .digits = 3});
  kd_table_column(t, &(kd_column){.head = "gain (theory)", .tex_head = "gain (th.)", .digits = 4});
  kd_table_column(t,
                  &(kd_column){.head = "misfit (theory)", .tex_head = "misfit (th.)", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "best k (theory)", .tex_head = "best $k$ (th.)",
                                  .fmt = "%.0f"});
  if (c.best_k_sim)
    kd_table_column(t, &(kd_column){.head = "best k (sim)", .tex_head = "best $k$ (sim)",
                                    .fmt = "%.0f"});
}

/* The PGR, or why there is none. */
static void pgr_cell(kd_table *t, double pgr, kd_pgr_flag flag) {
  if (flag == KD_PGR_OK)
    kd_table_num(t, pgr, NULL);
  else if (flag == KD_PGR_MISSING)
    kd_table_none(t);
  else
    kd_table_text(t, kd_pgr_flag_name(flag),
                  flag == KD_PGR_NEAR_ZERO ? "gap${}\\approx 0$" : "gap${}<0$");
}

static void w2s_row(kd_table *t, const kd_w2s_entry *e, w2s_cols c) {
  kd_table_num(t, (double)e->n, e->flag[0] ? &kd_mark_ddagger : NULL);
  if (c.p) kd_table_num(t, (double)e->p, NULL);
  kd_table_num(t, (double)e->m, NULL);
  kd_table_num(t, (double)e->k, NULL);
  kd_table_num(t, e->ratio, NULL);
  kd_table_pm(t, e->diff, e->diff_ci, e->diff_paired ? NULL : &mark_unpaired);
  pgr_cell(t, e->pgr, e->pgr_flag);
  pgr_cell(t, e->pgr_th, e->pgr_th_flag);
  kd_table_num(t, e->gain_th, NULL);
  kd_table_num(t, e->misfit_th, NULL);
  kd_table_num(t, (double)e->best_k, NULL);
  if (!c.best_k_sim) return;
  if (e->best_k_sim)
    kd_table_num(t, (double)e->best_k_sim, NULL);
  else
    kd_table_none(t);
}

static void w2s_table(const kd_fit_result *f, kd_table *t) {
  char label[64];
  w2s_cols c = w2s_needs(f);
  t->nan_none = 1;
  w2s_columns(t, c);
  for (size_t i = 0; i < f->nw2s; ++i) w2s_row(t, &f->w2s[i], c);
  kd_table_caption(t, MD, "\n### Weak-to-strong\n\n");
  kd_table_caption(t, TEX,
                   "Weak-to-strong metrics of run %s: the student on weak labels (w2s) against "
                   "ground-truth labels (strong) at the same point, simulated; PGR $= "
                   "(R_{\\mathrm{weak}} - R_{\\mathrm{w2s}}) / (R_{\\mathrm{weak}} - "
                   "R_{\\mathrm{strong}})$; theory.",
                   f->run);
  snprintf(label, sizeof label, "tab:kdbench-w2s-%s", f->scenario_hash);
  kd_table_label(t, label);
  kd_table_note(
      t, MD,
      "w2s/strong, w2s − strong: simulated, at the same point (the risks are in the table "
      "above); ± the half-width of the 95 %% CI of the paired per-trial differences (the "
      "pipelines share designs), * where the run has no per-trial risks and the two intervals "
      "are combined as if independent. PGR = (weak − w2s) / (weak − strong), not divided when "
      "the gap weak − strong is within two standard errors of 0 (gap\\~0; theory: within 1e-9 "
      "relative) or negative (gap\\<0: the weak model beats the strong student); the simulated "
      "PGR needs weak rows. gain = weak − w2s; misfit = E‖b\\_w2s − b\\_weak‖²\\_Σ; best k: "
      "the weak model's k that minimises the w2s risk at this m (kd\\_best\\_k\\_w2s). ‡ near "
      "the peak.");
  kd_table_note(
      t, TEX,
      "w2s $-$ strong: $\\pm$ the half-width of the 95\\,\\%% CI of the paired per-trial "
      "differences (shared designs); $^{*}$\\,the two intervals combined as if independent (no "
      "per-trial risks). PGR is not divided when the gap $R_{\\mathrm{weak}} - "
      "R_{\\mathrm{strong}}$ is within two standard errors of 0 (theory: $10^{-9}$ relative) or "
      "negative; the simulated PGR needs weak rows. Gain $= R_{\\mathrm{weak}} - "
      "R_{\\mathrm{w2s}}$; misfit $= E\\|\\hat\\beta_{\\mathrm{w2s}} - "
      "\\hat\\beta_{\\mathrm{weak}}\\|_\\Sigma^2$; best $k$: the weak model's $k$ minimising "
      "the w2s risk at this $m$. $^{\\ddagger}$\\,Near the peak.");
}

/* ---- both ---------------------------------------------------------------------------------- */

static kd_status write_table(const kd_table *t, unsigned format, FILE *out) {
  return format == KD_TABLE_TEX ? kd_table_write_tex(t, out) : kd_table_write_md(t, out);
}

/* The run's notes go into the scaling table's float in LaTeX, after the last table in
 * Markdown. */
kd_status kd_report_write_fit(const kd_fit_result *f, unsigned format, FILE *out) {
  kd_table scaling, w2s;
  kd_table_init(&scaling);
  kd_table_init(&w2s);
  scaling_table(f, &scaling);
  if (f->nw2s) w2s_table(f, &w2s);
  kd_table *last = f->nw2s ? &w2s : &scaling;
  for (size_t i = 0; i < f->nnotes; ++i) {
    kd_table_note(&scaling, TEX, "%s.", f->notes[i]);
    kd_table_note(last, MD, "%s.", f->notes[i]);
  }
  kd_status st = write_table(&scaling, format, out);
  if (st == KD_OK && f->nw2s) st = write_table(&w2s, format, out);
  kd_table_free(&scaling);
  kd_table_free(&w2s);
  return st;
}
