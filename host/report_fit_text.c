/* The tables of `kdbench fit` as text: the setting as comment lines, one row per fit
 * (pipeline and group), the local exponents, the weak-to-strong table, the notes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/report.h"

/* fmt: " %*..." (a space, then the number right-aligned in width); NaN: "-" in its place. */
static void pnum(FILE *out, const char *fmt, double x, int width) {
  if (isnan(x))
    fprintf(out, " %*s", width, "-");
  else
    fprintf(out, fmt, width, x);
}

/* The PGR, or why there is none. */
static void pgr_cell(FILE *out, double pgr, kd_pgr_flag f) {
  if (f == KD_PGR_OK)
    pnum(out, " %*.4f", pgr, 8);
  else
    fprintf(out, " %8s", f == KD_PGR_MISSING ? "-" : kd_pgr_flag_name(f));
}

static void print_setting(const kd_fit_result *r, FILE *out) {
  fprintf(out, "# kdbench fit of run %s (scenario %s): risk ~ C %s^-exponent\n", r->run,
          r->scenario_hash, r->x);
  fprintf(out, "# window: %s; rows flagged peak or near-peak never enter (%zu left out)\n",
          r->window, r->left_out);
  fprintf(out, "# fitted: %s\n", r->target);
  if (r->bootstrap)
    fprintf(out,
            "# CI: 95%% percentile bootstrap over trials (%zu replicates, seed %llu) where "
            "per-trial risks exist, else the regression's t-interval\n",
            r->bootstrap, (unsigned long long)r->seed);
  else
    fprintf(out, "# CI: the regression's 95%% t-interval (--bootstrap 0)\n");
  fprintf(out,
          "# theory: the same fit of the theory column; continuum: docs/theory.md#continuum "
          "(p -> inf); C/C_strong: geometric mean of the ratio over the window\n");
}

static void print_groups(const kd_fit_result *r, FILE *out) {
  fprintf(out, "%-8s %-14s %4s %9s %21s %9s %7s %9s %9s %9s %9s %9s %9s %9s\n", "pipeline", "group",
          "pts", "exponent", "95% CI", "se", "R2", "C", "C/Cstrong", "th_exp", "th_C/Cs",
          "cont_exp", "cont_C", "cont_C/Cs");
  for (size_t i = 0; i < r->ngroups; ++i) {
    const kd_fit_group *g = &r->groups[i];
    char ci[64];
    snprintf(ci, sizeof ci, "[%.4f, %.4f] %s", g->ci_low, g->ci_high,
             !strcmp(g->ci_kind, "bootstrap") ? "b" : "t");
    fprintf(out, "%-8s %-14s %4zu", g->pipeline, g->group[0] ? g->group : "-", g->npts);
    pnum(out, " %*.4f", g->sim_fit.exponent, 9);
    fprintf(out, " %21s", isnan(g->ci_low) ? "-" : ci);
    pnum(out, " %*.2g", g->sim_fit.se, 9);
    pnum(out, " %*.4f", g->sim_fit.r2, 7);
    pnum(out, " %*.4g", g->sim_fit.prefactor, 9);
    pnum(out, " %*.4f", g->ratio_strong, 9);
    pnum(out, " %*.4f", g->theory_fit.npts ? g->theory_fit.exponent : NAN, 9);
    pnum(out, " %*.4f", g->ratio_strong_theory, 9);
    pnum(out, " %*.4f", g->cont_exponent, 9);
    pnum(out, " %*.4g", g->cont_constant, 9);
    pnum(out, " %*.4f", g->cont_ratio_strong, 9);
    fputc('\n', out);
  }
}

static void print_local_exponents(const kd_fit_result *r, FILE *out) {
  fprintf(out, "# local exponents between neighbouring %s (sim / theory):\n", r->x);
  for (size_t i = 0; i < r->ngroups; ++i) {
    const kd_fit_group *g = &r->groups[i];
    double *ls = malloc(2 * (g->npts + 1) * sizeof *ls);
    if (!ls) continue;
    kd_local_exponents(g->x, g->sim, g->npts, ls);
    kd_local_exponents(g->x, g->theory, g->npts, ls + g->npts);
    fprintf(out, "#   %-8s%s%s:", g->pipeline, g->group[0] ? " " : "", g->group);
    for (size_t j = 0; j + 1 < g->npts; ++j)
      fprintf(out, " %g-%g: %.3f/%.3f", g->x[j], g->x[j + 1], ls[j], ls[g->npts + j]);
    fputc('\n', out);
    free(ls);
  }
}

static void print_w2s(const kd_fit_result *r, FILE *out) {
  fprintf(out,
          "# weak-to-strong: ratio = w2s/strong; diff = w2s - strong +- 95%% CI "
          "(paired over trials where marked p); PGR = (weak - w2s)/(weak - strong), "
          "not divided when the gap is within 2 SE of 0 (gap~0) or negative (gap<0); "
          "gain = weak - w2s, misfit = E||b_w2s - b_weak||^2_Sigma (theory)\n");
  fprintf(out, "%6s %6s %6s %5s %9s %9s %7s %20s %9s %8s %8s %9s %9s %6s %6s %s\n", "n", "p", "m",
          "k", "strong", "w2s", "ratio", "diff", "weak", "PGR", "PGR_th", "gain_th", "misfit_th",
          "best_k", "bestk_s", "flag");
  for (size_t i = 0; i < r->nw2s; ++i) {
    const kd_w2s_entry *e = &r->w2s[i];
    char diff[64];
    snprintf(diff, sizeof diff, "%.4g +- %.2g%s", e->diff, e->diff_ci, e->diff_paired ? " p" : "");
    fprintf(out, "%6zu %6zu %6zu %5zu", e->n, e->p, e->m, e->k);
    pnum(out, " %*.5g", e->strong, 9);
    pnum(out, " %*.5g", e->w2s, 9);
    pnum(out, " %*.4f", e->ratio, 7);
    fprintf(out, " %20s", isnan(e->diff) ? "-" : diff);
    pnum(out, " %*.5g", e->weak, 9);
    pgr_cell(out, e->pgr, e->pgr_flag);
    pgr_cell(out, e->pgr_th, e->pgr_th_flag);
    pnum(out, " %*.4g", e->gain_th, 9);
    pnum(out, " %*.4g", e->misfit_th, 9);
    fprintf(out, " %6zu", e->best_k);
    if (e->best_k_sim)
      fprintf(out, " %6zu", e->best_k_sim);
    else
      fprintf(out, " %6s", "-");
    fprintf(out, " %s\n", e->flag);
  }
}

void kd_fit_print(const kd_fit_result *r, FILE *out) {
  print_setting(r, out);
  print_groups(r, out);
  print_local_exponents(r, out);
  if (r->nw2s) print_w2s(r, out);
  for (size_t i = 0; i < r->nnotes; ++i) fprintf(out, "# note: %s\n", r->notes[i]);
}
