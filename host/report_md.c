/* NAME.md: a GitHub-flavoured Markdown table of a loaded run (report_layout.c says
 * which columns), with a heading giving the setting and notes explaining the marks. */
#include <math.h>
#include <string.h>

#include "kdbench/escape.h"
#include "kdbench/report.h"
#include "report_internal.h"

static void sim_cell(FILE *out, const kd_report_row *c) {
  char mean[64], ci[64];
  if (!c) {
    fputs(" —", out);
  } else if (c->flag == KD_RFLAG_PEAK) {
    kd_fmt_digits(c->sim_median, 4, mean, sizeof mean);
    fprintf(out, " %s†", mean);
  } else {
    kd_fmt_digits(c->sim_mean, 4, mean, sizeof mean);
    kd_fmt_digits(c->ci_half, 2, ci, sizeof ci);
    fprintf(out, isfinite(c->ci_half) ? " %s ± %s" : " %s", mean, ci);
  }
}

static void theory_cell(FILE *out, const kd_report_row *c) {
  char num[64];
  if (!c || !c->has_theory) {
    fputs(" —", out);
    return;
  }
  kd_fmt_digits(c->theory, 4, num, sizeof num);
  fprintf(out, " %s%s", isinf(c->theory) ? (c->theory > 0 ? "∞" : "−∞") : num,
          c->flag == KD_RFLAG_NEAR_PEAK ? "‡" : "");
}

static void param_cell(FILE *out, int q, int found, double v) {
  char num[64];
  kd_report_fmt_param(q, v, num, sizeof num);
  fprintf(out, " %s |", found ? num : "—");
}

static void header(FILE *out, const kd_report *r) {
  int ncols = r->nlead;
  fputc('|', out);
  for (int i = 0; i < r->nlead; ++i) {
    fputc(' ', out);
    kd_md_escape(out, kd_report_param_names[r->lead[i]]);
    fputs(" |", out);
  }
  for (int p = 0; p < KD_RPIPE_COUNT; ++p) {
    if (!r->pipe_present[p]) continue;
    const char *name = kd_report_pipe_names[p];
    for (int q = 0; q < KD_RP_COUNT; ++q)
      if (r->pipe_param[p][q]) {
        fprintf(out, " %s: ", name);
        kd_md_escape(out, kd_report_param_names[q]);
        fputs(" |", out);
        ++ncols;
      }
    fprintf(out, " %s: sim | %s: theory |", name, name);
    ncols += 2;
  }
  fputs("\n|", out);
  for (int i = 0; i < ncols; ++i) fputs("---:|", out);
  fputc('\n', out);
}

static void body(FILE *out, const kd_report *r) {
  for (size_t i = 0; i < r->npoints; ++i) {
    const kd_report_point *pt = &r->points[i];
    double v = 0;
    fputc('|', out);
    for (int l = 0; l < r->nlead; ++l) {
      int found = kd_report_lead_value(pt, r->lead[l], &v);
      param_cell(out, r->lead[l], found, v);
    }
    for (int p = 0; p < KD_RPIPE_COUNT; ++p) {
      if (!r->pipe_present[p]) continue;
      const kd_report_row *c = pt->cell[p];
      for (int q = 0; q < KD_RP_COUNT; ++q)
        if (r->pipe_param[p][q]) param_cell(out, q, c && c->has_param[q], c ? c->param[q] : 0);
      sim_cell(out, c);
      fputs(" |", out);
      theory_cell(out, c);
      fputs(" |", out);
    }
    fputc('\n', out);
  }
}

kd_status kd_report_write_md(const kd_report *r, FILE *out) {
  const kd_report_meta *m = &r->meta;
  fputs("## kdbench run ", out);
  kd_md_escape(out, m->run_name);
  fputs("\n\nExcess risk, simulation beside theory. Scenario ", out);
  kd_md_escape(out, m->scenario_hash);
  fprintf(out, ", seed %ld, %ld trial%s, backend ", m->seed, m->trials, m->trials == 1 ? "" : "s");
  kd_md_escape(out, m->backend);
  fputs(", kdbench ", out);
  kd_md_escape(out, m->version);
  fputs(" (commit ", out);
  kd_md_escape(out, m->commit);
  fprintf(out, "); %zu of %ld point%s%s.\n\n", r->npoints, m->points_total,
          m->points_total == 1 ? "" : "s", m->complete ? "" : " (an incomplete run)");
  if (*r->fixed) {
    fputs("Fixed: ", out);
    kd_md_escape(out, r->fixed);
    fputs(".\n\n", out);
  }
  header(out, r);
  body(out, r);
  fputs("\n- sim: mean ± half-width of the 95 % confidence interval (", out);
  kd_md_escape(out, m->ci);
  fputs(
      "); theory: deterministic equivalent, or the exact finite-sample formula where one "
      "exists; —: not available.\n- Risk: ",
      out);
  kd_md_escape(out, m->risk);
  fputs(".\n", out);
  if (r->any_peak)
    fputs(
        "- † Interpolation peak: the expected risk is infinite and the mean over trials "
        "meaningless; the median over trials is shown.\n",
        out);
  if (r->any_near_peak)
    fputs(
        "- ‡ Near the peak: the deterministic equivalent's finite-size error grows like "
        "1/\\|n − p\\| there.\n",
        out);
  if (m->backend_description) {
    fputs("- Backend: ", out);
    kd_md_escape(out, m->backend_description);
    fputs(".\n", out);
  }
  if (r->fit) kd_report_write_fit_md(r->fit, out);
  return KD_OK;
}
