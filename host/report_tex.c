/* NAME.tex: a booktabs table float of a loaded run (report_layout.c says which
 * columns), caption giving the setting, notes explaining the marks. It needs only
 * \usepackage{booktabs}; every text value from the run goes through kd_tex_escape. */
#include <math.h>
#include <string.h>

#include "kdbench/escape.h"
#include "kdbench/report.h"
#include "report_internal.h"

/* Two tabular columns, r@{}l, so that the \pm signs line up: mean & \pm CI. */
static void sim_cell(FILE *out, const kd_report_row *c) {
  char mean[64], ci[64];
  if (!c) {
    fputs(" & --- &", out);
  } else if (c->flag == KD_RFLAG_PEAK) {
    kd_fmt_digits(c->sim_median, 4, mean, sizeof mean);
    fputs(" & $", out);
    kd_tex_number(out, mean);
    fputs("^{\\dagger}$ &", out);
  } else {
    kd_fmt_digits(c->sim_mean, 4, mean, sizeof mean);
    kd_fmt_digits(c->ci_half, 2, ci, sizeof ci);
    fputs(" & $", out);
    kd_tex_number(out, mean);
    fputs("$ &", out);
    if (isfinite(c->ci_half)) {
      fputs(" ${}\\pm ", out);
      kd_tex_number(out, ci);
      fputs("$", out);
    }
  }
}

static void theory_cell(FILE *out, const kd_report_row *c) {
  char num[64];
  if (!c || !c->has_theory) {
    fputs(" & ---", out);
    return;
  }
  kd_fmt_digits(c->theory, 4, num, sizeof num);
  fputs(" & $", out);
  kd_tex_number(out, num);
  fputs(c->flag == KD_RFLAG_NEAR_PEAK ? "^{\\ddagger}$" : "$", out);
}

static void param_cell(FILE *out, int q, int found, double v, int first) {
  char num[64];
  kd_report_fmt_param(q, v, num, sizeof num);
  fputs(first ? "" : " & ", out);
  if (!found) {
    fputs("---", out);
    return;
  }
  fputc('$', out);
  kd_tex_number(out, num);
  fputc('$', out);
}

static void param_name(FILE *out, int q) {
  static const char *const names[KD_RP_COUNT] = {
      "$n$", "$p$", "$m$", "$k$", "ridge", "$\\alpha$", "signal\\_exp", "$\\sigma$", "trials"};
  fputs(names[q], out);
}

/* The tabular columns of a pipeline's group: its own parameters, sim (two), theory. */
static int group_width(const kd_report *r, int p) {
  int w = 3;
  for (int q = 0; q < KD_RP_COUNT; ++q) w += r->pipe_param[p][q];
  return w;
}

static void header(FILE *out, const kd_report *r) {
  fputs("\\begin{tabular}{", out);
  for (int i = 0; i < r->nlead; ++i) fputc('r', out);
  for (int p = 0; p < KD_RPIPE_COUNT; ++p) {
    if (!r->pipe_present[p]) continue;
    for (int i = 0; i < group_width(r, p) - 3; ++i) fputc('r', out);
    fputs("r@{\\,}lr", out);
  }
  fputs("}\n\\toprule\n", out);
  for (int i = 1; i < r->nlead; ++i) fputs(" &", out);
  for (int p = 0; p < KD_RPIPE_COUNT; ++p)
    if (r->pipe_present[p])
      fprintf(out, " & \\multicolumn{%d}{c}{%s}", group_width(r, p), kd_report_pipe_names[p]);
  fputs(" \\\\\n", out);
  for (int p = 0, col = r->nlead + 1; p < KD_RPIPE_COUNT; ++p) {
    if (!r->pipe_present[p]) continue;
    fprintf(out, "\\cmidrule(lr){%d-%d}", col, col + group_width(r, p) - 1);
    col += group_width(r, p);
  }
  fputc('\n', out);
  for (int i = 0; i < r->nlead; ++i) {
    fputs(i ? " & " : "", out);
    param_name(out, r->lead[i]);
  }
  for (int p = 0; p < KD_RPIPE_COUNT; ++p) {
    if (!r->pipe_present[p]) continue;
    for (int q = 0; q < KD_RP_COUNT; ++q)
      if (r->pipe_param[p][q]) {
        fputs(" & ", out);
        param_name(out, q);
      }
    fputs(" & \\multicolumn{2}{c}{sim} & theory", out);
  }
  fputs(" \\\\\n\\midrule\n", out);
}

static void body(FILE *out, const kd_report *r) {
  for (size_t i = 0; i < r->npoints; ++i) {
    const kd_report_point *pt = &r->points[i];
    double v = 0;
    for (int l = 0; l < r->nlead; ++l) {
      int found = kd_report_lead_value(pt, r->lead[l], &v);
      param_cell(out, r->lead[l], found, v, l == 0);
    }
    for (int p = 0; p < KD_RPIPE_COUNT; ++p) {
      if (!r->pipe_present[p]) continue;
      const kd_report_row *c = pt->cell[p];
      for (int q = 0; q < KD_RP_COUNT; ++q)
        if (r->pipe_param[p][q]) param_cell(out, q, c && c->has_param[q], c ? c->param[q] : 0, 0);
      sim_cell(out, c);
      theory_cell(out, c);
    }
    fputs(" \\\\\n", out);
  }
  fputs("\\bottomrule\n\\end{tabular}\n", out);
}

static void caption(FILE *out, const kd_report *r) {
  const kd_report_meta *m = &r->meta;
  fputs("\\caption{Excess risk of run ", out);
  kd_tex_escape(out, m->run_name);
  fputs(", simulation beside theory. Scenario \\texttt{", out);
  kd_tex_escape(out, m->scenario_hash);
  fprintf(out, "}, seed %ld, %ld~trial%s, backend ", m->seed, m->trials, m->trials == 1 ? "" : "s");
  kd_tex_escape(out, m->backend);
  fputs(", kdbench ", out);
  kd_tex_escape(out, m->version);
  fputs(" (commit \\texttt{", out);
  kd_tex_escape(out, m->commit);
  fprintf(out, "}); %zu of %ld point%s%s.", r->npoints, m->points_total,
          m->points_total == 1 ? "" : "s", m->complete ? "" : " (an incomplete run)");
  if (*r->fixed) {
    fputs(" Fixed: ", out);
    kd_tex_escape(out, r->fixed);
    fputc('.', out);
  }
  fputs("}\n", out);
}

static void notes(FILE *out, const kd_report *r) {
  const kd_report_meta *m = &r->meta;
  fputs(
      "\\par\\smallskip\n\\begin{minipage}{\\linewidth}\n"
      "Sim: mean $\\pm$ half-width of the 95\\,\\% confidence interval (",
      out);
  kd_tex_escape(out, m->ci);
  fputs(
      "); theory: deterministic equivalent, or the exact finite-sample formula where one "
      "exists; ---: not available.\\par\nRisk: ",
      out);
  kd_tex_escape(out, m->risk);
  fputs(".\\par\n", out);
  if (r->any_peak)
    fputs(
        "$^{\\dagger}$\\,Interpolation peak: the expected risk is infinite and the mean over "
        "trials meaningless; the median over trials is shown.\\par\n",
        out);
  if (r->any_near_peak)
    fputs(
        "$^{\\ddagger}$\\,Near the peak: the deterministic equivalent's finite-size error "
        "grows like $1/|n - p|$ there.\\par\n",
        out);
  if (m->backend_description) {
    fputs("Backend: ", out);
    kd_tex_escape(out, m->backend_description);
    fputs(".\\par\n", out);
  }
  fputs("\\end{minipage}\n", out);
}

kd_status kd_report_write_tex(const kd_report *r, FILE *out) {
  fputs("% kdbench report of run ", out);
  kd_tex_escape(out, r->meta.run_name);
  fputs(
      ": \\input it in a document that loads booktabs.\n"
      "\\begin{table}[htbp]\n\\centering\n\\small\n",
      out);
  caption(out, r);
  fprintf(out, "\\label{tab:kdbench-%s}\n", r->meta.scenario_hash); /* 16 hex digits */
  /* A wide table (five pipelines) may not fit the text width: \makebox centres it
   * on the page instead of letting it run into the right margin. */
  fputs("\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n\\makebox[\\linewidth]{%\n", out);
  header(out, r);
  body(out, r);
  fputs("}\n", out);
  notes(out, r);
  fputs("\\end{table}\n", out);
  if (r->fit) kd_report_write_fit_tex(r->fit, out);
  return KD_OK;
}
