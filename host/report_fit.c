/* The tables of NAME.fit.json (kdbench fit) in the report: a scaling-law table
 * (one row per pipeline and group) and a weak-to-strong table (one row per point with
 * a w2s row), in Markdown and as booktabs LaTeX floats. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdbench/escape.h"
#include "kdbench/report.h"
#include "kdbench/run_paths.h"
#include "report_internal.h"

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

static w2s_cols w2s_columns(const kd_fit_result *f) {
  w2s_cols c = {0, 0};
  for (size_t i = 0; i < f->nw2s; ++i) {
    c.p |= f->w2s[i].p != f->w2s[0].p;
    c.best_k_sim |= f->w2s[i].best_k_sim != 0;
  }
  return c;
}

/* First and last local exponent of a series, "a → b" (arrow as given). */
static void local_range(const kd_fit_group *g, const double *y, const char *arrow, char *out,
                        size_t len) {
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
  snprintf(out, len, "%s%s%s", a, arrow, b);
  free(ls);
}

static const char *ci_name(const char *kind) {
  return !strcmp(kind, "bootstrap") ? "bootstrap" : !strcmp(kind, "t") ? "t" : "—";
}

/* ---- Markdown --------------------------------------------------------------------------- */

static void md_num(FILE *out, double x, int digits) {
  char s[64];
  kd_fmt_digits(x, digits, s, sizeof s);
  fprintf(out, " %s |", isnan(x) ? "—" : s);
}

static void md_pm(FILE *out, double x, double ci, const char *mark) {
  char a[64], b[64];
  kd_fmt_digits(x, 4, a, sizeof a);
  kd_fmt_digits(ci, 2, b, sizeof b);
  if (isnan(x))
    fputs(" — |", out);
  else if (isnan(ci))
    fprintf(out, " %s%s |", a, mark);
  else
    fprintf(out, " %s ± %s%s |", a, b, mark);
}

static void md_pgr(FILE *out, double pgr, kd_pgr_flag flag) {
  if (flag == KD_PGR_OK) {
    md_num(out, pgr, 3);
  } else {
    fputc(' ', out);
    kd_md_escape(out, flag == KD_PGR_MISSING ? "—" : kd_pgr_flag_name(flag));
    fputs(" |", out);
  }
}

static void md_scaling(const kd_fit_result *f, FILE *out) {
  int groups = any_group(f);
  fputs("\n### Scaling laws\n\nRisk ≈ C · ", out);
  kd_md_escape(out, f->x);
  fputs("^−exponent, least squares in log–log over the window ", out);
  kd_md_escape(out, f->window);
  fprintf(out, "; rows flagged peak or near-peak left out (%zu). Fitted: ", f->left_out);
  kd_md_escape(out, f->target);
  fputs(".\n\n| pipeline |", out);
  if (groups) fputs(" at |", out);
  fputs(
      " points | exponent (sim) | 95 % CI | CI from | R² | exponent (theory, finite p) | "
      "exponent (continuum) | C (sim) | C/C\\_strong (sim) | C/C\\_strong (theory) | "
      "C (continuum) | C/C\\_strong (continuum) | local exponent, first → last: sim; theory |\n"
      "|:---|",
      out);
  if (groups) fputs(":---|", out);
  for (int i = 0; i < 13; ++i) fputs("---:|", out);
  fputc('\n', out);
  for (size_t i = 0; i < f->ngroups; ++i) {
    const kd_fit_group *g = &f->groups[i];
    char lo[64], hi[64], ls[96], lt[96];
    fputs("| ", out);
    kd_md_escape(out, g->pipeline);
    fputs(" |", out);
    if (groups) {
      fputc(' ', out);
      kd_md_escape(out, g->group);
      fputs(" |", out);
    }
    fprintf(out, " %zu |", g->npts);
    md_num(out, g->sim_fit.exponent, 4);
    kd_fmt_digits(g->ci_low, 4, lo, sizeof lo);
    kd_fmt_digits(g->ci_high, 4, hi, sizeof hi);
    if (isnan(g->ci_low))
      fputs(" — |", out);
    else
      fprintf(out, " [%s, %s] |", lo, hi);
    fprintf(out, " %s |", ci_name(g->ci_kind));
    md_num(out, g->sim_fit.r2, 4);
    md_num(out, g->theory_fit.npts ? g->theory_fit.exponent : NAN, 4);
    md_num(out, g->cont_exponent, 4);
    md_num(out, g->sim_fit.prefactor, 4);
    md_num(out, g->ratio_strong, 4);
    md_num(out, g->ratio_strong_theory, 4);
    md_num(out, g->cont_constant, 4);
    md_num(out, g->cont_ratio_strong, 4);
    local_range(g, g->sim, " → ", ls, sizeof ls);
    local_range(g, g->theory, " → ", lt, sizeof lt);
    fprintf(out, " %s; %s |\n", ls, lt);
  }
  fputs(
      "\n- C/C\\_strong: the geometric mean of the ratio to `strong` over the window (the "
      "ratio of prefactors of a common-exponent fit); continuum: p → ∞, docs/theory.md#continuum "
      "(strong, optimal and mask only).\n",
      out);
}

static void md_w2s(const kd_fit_result *f, FILE *out) {
  w2s_cols c = w2s_columns(f);
  int ncols = 10 + c.p + c.best_k_sim;
  fputs("\n### Weak-to-strong\n\n| n |", out);
  if (c.p) fputs(" p |", out);
  fputs(
      " m | k | w2s/strong | w2s − strong | PGR | PGR (theory) | gain (theory) | "
      "misfit (theory) | best k (theory) |",
      out);
  if (c.best_k_sim) fputs(" best k (sim) |", out);
  fputs("\n|", out);
  for (int i = 0; i < ncols; ++i) fputs("---:|", out);
  fputc('\n', out);
  for (size_t i = 0; i < f->nw2s; ++i) {
    const kd_w2s_entry *e = &f->w2s[i];
    fprintf(out, "| %zu%s |", e->n, e->flag[0] ? "‡" : "");
    if (c.p) fprintf(out, " %zu |", e->p);
    fprintf(out, " %zu | %zu |", e->m, e->k);
    md_num(out, e->ratio, 4);
    md_pm(out, e->diff, e->diff_ci, e->diff_paired ? "" : "*");
    md_pgr(out, e->pgr, e->pgr_flag);
    md_pgr(out, e->pgr_th, e->pgr_th_flag);
    md_num(out, e->gain_th, 4);
    md_num(out, e->misfit_th, 4);
    fprintf(out, " %zu |", e->best_k);
    if (c.best_k_sim) {
      if (e->best_k_sim)
        fprintf(out, " %zu |", e->best_k_sim);
      else
        fputs(" — |", out);
    }
    fputc('\n', out);
  }
  fputs(
      "\n- w2s/strong, w2s − strong: simulated, at the same point (the risks are in the table "
      "above); ± the half-width of the 95 % CI of the paired per-trial differences (the "
      "pipelines share designs), * where the run has no per-trial risks and the two intervals "
      "are combined as if independent. PGR = (weak − w2s) / (weak − strong), not divided when "
      "the gap weak − strong is within two standard errors of 0 (gap\\~0; theory: within 1e-9 "
      "relative) or negative (gap\\<0: the weak model beats the strong student); the simulated "
      "PGR needs weak rows. gain = weak − w2s; misfit = E‖b\\_w2s − b\\_weak‖²\\_Σ; best k: "
      "the weak model's k that minimises the w2s risk at this m (kd\\_best\\_k\\_w2s). ‡ near "
      "the peak.\n",
      out);
}

void kd_report_write_fit_md(const kd_fit_result *f, FILE *out) {
  md_scaling(f, out);
  if (f->nw2s) md_w2s(f, out);
  for (size_t i = 0; i < f->nnotes; ++i) {
    fputs("- ", out);
    kd_md_escape(out, f->notes[i]);
    fputs(".\n", out);
  }
}

/* ---- LaTeX ------------------------------------------------------------------------------- */

static void tex_num(FILE *out, double x, int digits) {
  char s[64];
  kd_fmt_digits(x, digits, s, sizeof s);
  if (isnan(x)) {
    fputs(" & ---", out);
    return;
  }
  fputs(" & $", out);
  kd_tex_number(out, s);
  fputc('$', out);
}

/* mean & \pm CI: two columns (r@{\,}l) */
static void tex_pm(FILE *out, double x, double ci, const char *mark) {
  char a[64], b[64];
  kd_fmt_digits(x, 4, a, sizeof a);
  kd_fmt_digits(ci, 2, b, sizeof b);
  if (isnan(x)) {
    fputs(" & --- &", out);
    return;
  }
  fputs(" & $", out);
  kd_tex_number(out, a);
  fputs("$ &", out);
  if (!isnan(ci)) {
    fputs(" ${}\\pm ", out);
    kd_tex_number(out, b);
    fprintf(out, "%s$", mark);
  }
}

static void tex_pgr(FILE *out, double pgr, kd_pgr_flag flag) {
  if (flag == KD_PGR_OK)
    tex_num(out, pgr, 3);
  else if (flag == KD_PGR_MISSING)
    fputs(" & ---", out);
  else
    fprintf(out, " & %s", flag == KD_PGR_NEAR_ZERO ? "gap${}\\approx 0$" : "gap${}<0$");
}

static void tex_scaling(const kd_fit_result *f, FILE *out) {
  int groups = any_group(f);
  fputs("\\begin{table}[htbp]\n\\centering\n\\small\n\\caption{Scaling laws of run ", out);
  kd_tex_escape(out, f->run);
  fputs(": risk $\\approx C\\,", out);
  kd_tex_escape(out, f->x);
  fputs("^{-\\mathrm{exponent}}$, least squares in log--log over the window ", out);
  kd_tex_escape(out, f->window);
  fprintf(out, "; rows flagged peak or near-peak left out (%zu). Fitted: ", f->left_out);
  kd_tex_escape(out, f->target);
  fprintf(out, ".}\n\\label{tab:kdbench-fit-%s}\n", f->scenario_hash);
  fputs(
      "\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n\\makebox[\\linewidth]{%\n"
      "\\begin{tabular}{l",
      out);
  if (groups) fputc('l', out);
  fputs("rrr@{\\,}lrrrrrrrr}\n\\toprule\n", out);
  fputs(" &", out);
  if (groups) fputs(" &", out);
  fputs(
      " & \\multicolumn{4}{c}{exponent, simulation} & \\multicolumn{2}{c}{exponent, theory} & "
      "\\multicolumn{3}{c}{prefactor} & "
      "\\multicolumn{2}{c}{continuum} \\\\\n",
      out);
  int c0 = 2 + groups;
  fprintf(out,
          "\\cmidrule(lr){%d-%d}\\cmidrule(lr){%d-%d}\\cmidrule(lr){%d-%d}\\cmidrule(lr){%d-%d}\n",
          c0 + 1, c0 + 4, c0 + 5, c0 + 6, c0 + 7, c0 + 9, c0 + 10, c0 + 11);
  fputs("pipeline", out);
  if (groups) fputs(" & at", out);
  fputs(
      " & points & value & \\multicolumn{2}{c}{95\\,\\% CI} & $R^2$ & finite $p$ & continuum & "
      "$C$ & ratio & ratio (th.) & $C$ & ratio \\\\\n\\midrule\n",
      out);
  for (size_t i = 0; i < f->ngroups; ++i) {
    const kd_fit_group *g = &f->groups[i];
    char lo[64], hi[64];
    kd_tex_escape(out, g->pipeline);
    if (groups) {
      fputs(" & ", out);
      kd_tex_escape(out, g->group);
    }
    fprintf(out, " & $%zu$", g->npts);
    tex_num(out, g->sim_fit.exponent, 4);
    kd_fmt_digits(g->ci_low, 4, lo, sizeof lo);
    kd_fmt_digits(g->ci_high, 4, hi, sizeof hi);
    if (isnan(g->ci_low)) {
      fputs(" & --- &", out);
    } else {
      fputs(" & $[", out);
      kd_tex_number(out, lo);
      fputs(",$ & $", out);
      kd_tex_number(out, hi);
      fprintf(out, "]%s$", !strcmp(g->ci_kind, "bootstrap") ? "" : "^{t}");
    }
    tex_num(out, g->sim_fit.r2, 4);
    tex_num(out, g->theory_fit.npts ? g->theory_fit.exponent : NAN, 4);
    tex_num(out, g->cont_exponent, 4);
    tex_num(out, g->sim_fit.prefactor, 4);
    tex_num(out, g->ratio_strong, 4);
    tex_num(out, g->ratio_strong_theory, 4);
    tex_num(out, g->cont_constant, 4);
    tex_num(out, g->cont_ratio_strong, 4);
    fputs(" \\\\\n", out);
  }
  fputs(
      "\\bottomrule\n\\end{tabular}\n}\n\\par\\smallskip\n\\begin{minipage}{\\linewidth}\n"
      "CI: 95\\,\\% percentile bootstrap over trials; $^{t}$\\,the regression's $t$-interval "
      "(no per-trial risks). Ratio: $C/C_{\\mathrm{strong}}$, the geometric mean of the ratio "
      "to strong over the window. Continuum: $p\\to\\infty$ (strong, optimal, mask).\\par\n",
      out);
  for (size_t i = 0; i < f->nnotes; ++i) {
    kd_tex_escape(out, f->notes[i]);
    fputs(".\\par\n", out);
  }
  fputs("\\end{minipage}\n\\end{table}\n", out);
}

static void tex_w2s(const kd_fit_result *f, FILE *out) {
  w2s_cols c = w2s_columns(f);
  fputs("\\begin{table}[htbp]\n\\centering\n\\small\n\\caption{Weak-to-strong metrics of run ",
        out);
  kd_tex_escape(out, f->run);
  fputs(
      ": the student on weak labels (w2s) against ground-truth labels (strong) at the same "
      "point, simulated; PGR $= (R_{\\mathrm{weak}} - R_{\\mathrm{w2s}}) / (R_{\\mathrm{weak}} "
      "- R_{\\mathrm{strong}})$; theory.}\n",
      out);
  fprintf(out, "\\label{tab:kdbench-w2s-%s}\n", f->scenario_hash);
  fputs(
      "\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n\\makebox[\\linewidth]{%\n"
      "\\begin{tabular}{r",
      out);
  if (c.p) fputc('r', out);
  fputs("rrrr@{\\,}lrrrrr", out);
  if (c.best_k_sim) fputc('r', out);
  fputs("}\n\\toprule\n$n$", out);
  if (c.p) fputs(" & $p$", out);
  fputs(
      " & $m$ & $k$ & w2s/strong & \\multicolumn{2}{c}{w2s $-$ strong} & PGR & PGR (th.) & "
      "gain (th.) & misfit (th.) & best $k$ (th.)",
      out);
  if (c.best_k_sim) fputs(" & best $k$ (sim)", out);
  fputs(" \\\\\n\\midrule\n", out);
  for (size_t i = 0; i < f->nw2s; ++i) {
    const kd_w2s_entry *e = &f->w2s[i];
    fprintf(out, "$%zu%s$", e->n, e->flag[0] ? "^{\\ddagger}" : "");
    if (c.p) fprintf(out, " & $%zu$", e->p);
    fprintf(out, " & $%zu$ & $%zu$", e->m, e->k);
    tex_num(out, e->ratio, 4);
    tex_pm(out, e->diff, e->diff_ci, e->diff_paired ? "" : "^{*}");
    tex_pgr(out, e->pgr, e->pgr_flag);
    tex_pgr(out, e->pgr_th, e->pgr_th_flag);
    tex_num(out, e->gain_th, 4);
    tex_num(out, e->misfit_th, 4);
    fprintf(out, " & $%zu$", e->best_k);
    if (c.best_k_sim) {
      if (e->best_k_sim)
        fprintf(out, " & $%zu$", e->best_k_sim);
      else
        fputs(" & ---", out);
    }
    fputs(" \\\\\n", out);
  }
  fputs(
      "\\bottomrule\n\\end{tabular}\n}\n\\par\\smallskip\n\\begin{minipage}{\\linewidth}\n"
      "w2s $-$ strong: $\\pm$ the half-width of the 95\\,\\% CI of the paired per-trial "
      "differences (shared designs); $^{*}$\\,the two intervals combined as if independent (no "
      "per-trial risks). PGR is not divided when the gap $R_{\\mathrm{weak}} - "
      "R_{\\mathrm{strong}}$ is within two standard errors of 0 (theory: $10^{-9}$ relative) or "
      "negative; the simulated PGR needs weak rows. Gain $= R_{\\mathrm{weak}} - "
      "R_{\\mathrm{w2s}}$; misfit $= E\\|\\hat\\beta_{\\mathrm{w2s}} - "
      "\\hat\\beta_{\\mathrm{weak}}\\|_\\Sigma^2$; best $k$: the weak model's $k$ minimising "
      "the w2s risk at this $m$. $^{\\ddagger}$\\,Near the peak.\\par\n"
      "\\end{minipage}\n\\end{table}\n",
      out);
}

void kd_report_write_fit_tex(const kd_fit_result *f, FILE *out) {
  tex_scaling(f, out);
  if (f->nw2s) tex_w2s(f, out);
}
