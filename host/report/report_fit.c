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

/* The fit's axis as a LaTeX math symbol ("n", "\\alpha"; another name as \\mathrm). */
static void tex_symbol(const char *axis, char *out, size_t len) {
  for (int q = 0; q < KD_RP_COUNT; ++q)
    if (!strcmp(kd_report_param_names[q], axis) && kd_report_param_tex(q)) {
      snprintf(out, len, "%s", kd_report_param_tex(q));
      return;
    }
  size_t n = (size_t)snprintf(out, len, "\\mathrm{");
  for (const char *c = axis; *c && n + 4 < len; ++c) {
    if (*c == '_') out[n++] = '\\';
    out[n++] = *c;
  }
  snprintf(out + n, len - n, "}");
}

/* The window as LaTeX: "$n \\le p/4$ (the default)", "$10 \\le n \\le 400$", ... */
static void tex_window(const kd_fit_result *f, const char *x, char *out, size_t len) {
  const double lo = f->window_lo, hi = f->window_hi;
  if (isnan(lo) && isnan(hi))
    snprintf(out, len, !strcmp(f->x, "n") ? "$n \\le p/4$ (the default)" : "of every $%s$", x);
  else if (isnan(lo))
    snprintf(out, len, "$%s \\le %g$", x, hi);
  else if (isnan(hi))
    snprintf(out, len, "$%s \\ge %g$", x, lo);
  else
    snprintf(out, len, "$%g \\le %s \\le %g$", lo, x, hi);
}

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
  char x[64], window[160];
  tex_symbol(f->x, x, sizeof x);
  tex_window(f, x, window, sizeof window);
  kd_table_caption(t, TEX, "Scaling laws: risk $\\approx C\\,");
  kd_table_caption_source(t, TEX, x);
  kd_table_caption(t, TEX,
                   "^{-\\mathrm{exponent}}$, least squares in log--log over the window ");
  kd_table_caption_source(t, TEX, window);
  kd_table_caption(t, TEX, "; rows flagged peak or near-peak left out (%zu). Fitted: %s",
                   f->left_out, f->floor ? "" : "the mean excess risk");
  if (f->floor)
    kd_table_caption(t, TEX,
                     "the mean excess risk less the label-noise floor $\\sigma^2 (1 - \\Omega) / "
                     "\\Omega$ of the finite-$p$ theory (ridgeless rows with $\\sigma > 0$; the "
                     "weak model as is)");
  kd_table_caption(t, TEX, ".");
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
                   "Weak-to-strong metrics: the student on weak labels (w2s) against "
                   "ground-truth labels (strong) at the same point, simulated; PGR $= "
                   "(R_{\\mathrm{weak}} - R_{\\mathrm{w2s}}) / (R_{\\mathrm{weak}} - "
                   "R_{\\mathrm{strong}})$; theory.");
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

/* ---- the weak-to-strong grid ------------------------------------------------------------- */

/* The weak-to-strong grid: a row per (n, p, m), a column per k, w2s/strong in each cell
 * ± the paired CI of w2s - strong over strong's mean; bold where that CI excludes 0. For a
 * run that sweeps k at several (n, p, m), whose entries fill distinct cells, half of them
 * at least (a k chosen per n fills a diagonal: no grid). */
typedef struct {
  size_t *k, nk;       /* the distinct k, ascending */
  size_t *row, nrow;   /* entry index of each row's first entry, rows in the entries' order */
  long *cell;          /* nrow x nk: the entry in each cell, -1 for none */
  int n_varies, p_varies;
} w2s_grid;

static int same_row(const kd_w2s_entry *a, const kd_w2s_entry *b) {
  return a->n == b->n && a->p == b->p && a->m == b->m;
}

static void grid_free(w2s_grid *g) {
  free(g->k), free(g->row), free(g->cell);
  memset(g, 0, sizeof *g);
}

/* 1 when the entries form such a grid (g filled), 0 otherwise or out of memory. */
static int grid_build(const kd_fit_result *f, w2s_grid *g) {
  memset(g, 0, sizeof *g);
  const size_t n = f->nw2s;
  g->k = malloc(n * sizeof *g->k), g->row = malloc(n * sizeof *g->row);
  if (!g->k || !g->row) return grid_free(g), 0;
  for (size_t i = 0; i < n; ++i) {
    const kd_w2s_entry *e = &f->w2s[i];
    size_t j = 0, r = 0;
    while (j < g->nk && g->k[j] < e->k) ++j;
    if (j == g->nk || g->k[j] != e->k) {
      memmove(g->k + j + 1, g->k + j, (g->nk - j) * sizeof *g->k);
      g->k[j] = e->k, g->nk++;
    }
    while (r < g->nrow && !same_row(&f->w2s[g->row[r]], e)) ++r;
    if (r == g->nrow) g->row[g->nrow++] = i;
    g->n_varies |= e->n != f->w2s[0].n;
    g->p_varies |= e->p != f->w2s[0].p;
  }
  /* two k at least, at two rows at least, and half the cells filled: not one k per n */
  if (g->nk < 2 || g->nrow < 2 || 2 * n < g->nrow * g->nk ||
      !(g->cell = malloc(g->nrow * g->nk * sizeof *g->cell)))
    return grid_free(g), 0;
  for (size_t c = 0; c < g->nrow * g->nk; ++c) g->cell[c] = -1;
  for (size_t i = 0; i < n; ++i) {
    size_t r = 0, j = 0;
    while (!same_row(&f->w2s[g->row[r]], &f->w2s[i])) ++r;
    while (g->k[j] != f->w2s[i].k) ++j;
    if (g->cell[r * g->nk + j] >= 0) return grid_free(g), 0; /* two entries in one cell */
    g->cell[r * g->nk + j] = (long)i;
  }
  return 1;
}

static void grid_cell(kd_table *t, const kd_w2s_entry *e) {
  const double ci = e->diff_ci / e->strong;
  kd_table_pm(t, e->ratio, isfinite(ci) ? ci : NAN, e->diff_paired ? NULL : &mark_unpaired);
  if (isfinite(e->diff_ci) && fabs(e->diff) > e->diff_ci) kd_table_bold(t);
}

static void grid_table(const kd_fit_result *f, const w2s_grid *g, kd_table *t) {
  char head[64], tex[64], label[64];
  t->nan_none = 1;
  if (g->n_varies) kd_table_column(t, &(kd_column){.head = "n", .tex_head = "$n$", .fmt = "%.0f"});
  if (g->p_varies) kd_table_column(t, &(kd_column){.head = "p", .tex_head = "$p$", .fmt = "%.0f"});
  kd_table_column(t, &(kd_column){.head = "m", .tex_head = "$m$", .fmt = "%.0f"});
  for (size_t j = 0; j < g->nk; ++j) {
    snprintf(head, sizeof head, "k = %zu", g->k[j]);
    snprintf(tex, sizeof tex, "$k = %zu$", g->k[j]);
    kd_table_column(t, &(kd_column){.head = head, .tex_head = tex, .group = "w2s / strong",
                                    .pair = 1, .digits = 4, .ci_digits = 2});
  }
  for (size_t r = 0; r < g->nrow; ++r) {
    const kd_w2s_entry *first = &f->w2s[g->row[r]];
    if (g->n_varies) kd_table_num(t, (double)first->n, NULL);
    if (g->p_varies) kd_table_num(t, (double)first->p, NULL);
    kd_table_num(t, (double)first->m, NULL);
    for (size_t j = 0; j < g->nk; ++j) {
      const long i = g->cell[r * g->nk + j];
      if (i < 0)
        kd_table_none(t);
      else
        grid_cell(t, &f->w2s[i]);
    }
  }
  kd_table_caption(t, MD, "\n### Weak-to-strong, m × k\n\n");
  kd_table_caption(t, TEX,
                   "Weak-to-strong against strong: $R_{\\mathrm{w2s}} / R_{\\mathrm{strong}}$ "
                   "by the weak model's samples $m$ (rows) and features $k$ (columns), "
                   "simulated; bold where the paired 95\\,\\%% interval of $R_{\\mathrm{w2s}} - "
                   "R_{\\mathrm{strong}}$ excludes 0.");
  snprintf(label, sizeof label, "tab:kdbench-w2s-grid-%s", f->scenario_hash);
  kd_table_label(t, label);
  kd_table_note(t, MD,
                "w2s/strong ± the half-width of the paired 95 %% CI of w2s − strong divided by "
                "strong's mean; **bold**: that CI excludes 0 (below 1: w2s beats strong; above: "
                "strong wins); * the two intervals combined as if independent (no per-trial "
                "risks).");
  kd_table_note(t, TEX,
                "$\\pm$ the half-width of the paired 95\\,\\%% interval of $R_{\\mathrm{w2s}} - "
                "R_{\\mathrm{strong}}$ divided by $R_{\\mathrm{strong}}$; below 1, w2s beats "
                "strong; $^{*}$\\,the two intervals combined as if independent (no per-trial "
                "risks).");
}

/* ---- where w2s crosses strong ------------------------------------------------------------- */

static void crossing_table(const kd_fit_result *f, kd_table *t) {
  char label[64], tex[96];
  t->nan_none = 1;
  kd_table_column(t, &(kd_column){.head = "along", .align = KD_LEFT});
  kd_table_column(t, &(kd_column){.head = "at", .align = KD_LEFT});
  kd_table_column(t, &(kd_column){.head = "points", .fmt = "%.0f"});
  kd_table_column(t, &(kd_column){.head = "crossing", .digits = 4});
  kd_table_column(t, &(kd_column){.head = "95 % CI", .tex_head = "95\\,\\% CI", .align = KD_LEFT});
  kd_table_column(t, &(kd_column){.head = "w2s against strong", .align = KD_LEFT});
  for (size_t i = 0; i < f->ncross; ++i) {
    const kd_w2s_crossing *x = &f->cross[i];
    snprintf(tex, sizeof tex, "$%s$", x->axis); /* n or m */
    kd_table_text(t, x->axis, tex);
    if (x->group[0])
      kd_table_text(t, x->group, NULL);
    else
      kd_table_none(t);
    kd_crossing_cells(t, x, 0); /* the column's head names strong */
  }
  kd_table_caption(t, MD, "\n### Where w2s crosses strong\n\n");
  kd_table_caption(t, TEX,
                   "Where the student on weak labels (w2s) crosses the one on ground-truth labels "
                   "(strong): the first sign change of the simulated $R_{\\mathrm{w2s}} - "
                   "R_{\\mathrm{strong}}$ along $n$ or $m$, linear in $\\log n$ ($\\log m$), "
                   "the other swept parameters fixed.");
  snprintf(label, sizeof label, "tab:kdbench-cross-%s", f->scenario_hash);
  kd_table_label(t, label);
  kd_table_note(t, MD,
                "crossing: where w2s − strong, interpolated linearly in log n (log m) between "
                "the two points around its first sign change, is 0; 95 %% CI: where w2s − "
                "strong ∓ the half-width of its 95 %% CI is (- : beyond the grid).");
  kd_table_note(t, TEX,
                "95\\,\\%% CI: where $R_{\\mathrm{w2s}} - R_{\\mathrm{strong}}$ $\\mp$ the "
                "half-width of its 95\\,\\%% interval, interpolated alike, is 0 (-: beyond the "
                "grid).");
}

/* ---- all of them --------------------------------------------------------------------------- */

static kd_status write_table(const kd_table *t, unsigned format, FILE *out) {
  return format == KD_TABLE_TEX ? kd_table_write_tex(t, out) : kd_table_write_md(t, out);
}

/* The fit's notes: after the last table in Markdown; LaTeX has them as % comments
 * (kd_report_write: they say how the fit was made, not what the tables show). */
kd_status kd_report_write_fit(const kd_fit_result *f, unsigned format, int wide, FILE *out) {
  kd_table tables[5];
  w2s_grid g;
  int ntables = 0;
  for (int i = 0; i < 5; ++i) kd_table_init(&tables[i]), tables[i].tex_wide = wide;
  if (f->ngroups || !f->nsteps) scaling_table(f, &tables[ntables++]);
  if (f->nsteps) kd_report_steps_fit_table(f, &tables[ntables++]);
  if (f->nw2s) w2s_table(f, &tables[ntables++]);
  if (f->nw2s && grid_build(f, &g)) {
    grid_table(f, &g, &tables[ntables++]);
    grid_free(&g);
  }
  if (f->ncross) crossing_table(f, &tables[ntables++]);
  for (size_t i = 0; i < f->nnotes; ++i) kd_table_note(&tables[ntables - 1], MD, "%s.", f->notes[i]);
  kd_status st = KD_OK;
  for (int i = 0; i < ntables && st == KD_OK; ++i) st = write_table(&tables[i], format, out);
  for (int i = 0; i < 5; ++i) kd_table_free(&tables[i]);
  return st;
}
