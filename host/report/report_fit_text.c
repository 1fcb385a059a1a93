/* The tables of `kdbench fit` as text: the setting as comment lines, one row per fit
 * (pipeline and group), the local exponents, the weak-to-strong table, the notes; two
 * kd_tables printed by the text emitter. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/report.h"
#include "kdbench/table.h"
#include "internal.h"

enum { TEXT = KD_TABLE_TEXT };

/* where the exponent's interval comes from; a difference's interval from paired trials */
static const kd_mark mark_boot = {" b", "", ""}, mark_t = {" t", "", ""};
static const kd_mark mark_paired = {" p", "", ""};

static void setting(const kd_fit_result *r, kd_table *t) {
  kd_table_caption(t, TEXT, "# kdbench fit of run %s (scenario %s): risk ~ C %s^-exponent\n",
                   r->run, r->scenario_hash, r->x);
  kd_table_caption(t, TEXT,
                   "# window: %s; rows flagged peak or near-peak never enter (%zu left out)\n"
                   "# fitted: %s\n",
                   r->window, r->left_out, r->target);
  if (r->bootstrap)
    kd_table_caption(t, TEXT,
                     "# CI: 95%% percentile bootstrap over trials (%zu replicates, seed %llu) "
                     "where per-trial risks exist, else the regression's t-interval\n",
                     r->bootstrap, (unsigned long long)r->seed);
  else
    kd_table_caption(t, TEXT, "# CI: the regression's 95%% t-interval (--bootstrap 0)\n");
  kd_table_caption(t, TEXT,
                   "# theory: the same fit of the theory column; continuum: "
                   "docs/theory.md#continuum (p -> inf); C/C_strong: geometric mean of the "
                   "ratio over the window\n");
}

static void group_columns(kd_table *t) {
  static const struct {
    const char *head, *fmt;
    int width;
  } cols[] = {{"exponent", "%.4f", 9}, {"95% CI", "%.4f", 21}, {"se", "%.2g", 9},
              {"R2", "%.4f", 7},       {"C", "%.4g", 9},       {"C/Cstrong", "%.4f", 9},
              {"th_exp", "%.4f", 9},   {"th_C/Cs", "%.4f", 9}, {"cont_exp", "%.4f", 9},
              {"cont_C", "%.4g", 9},   {"cont_C/Cs", "%.4f", 9}};
  kd_table_column(t, &(kd_column){.head = "pipeline", .align = KD_LEFT, .width = 8});
  kd_table_column(t, &(kd_column){.head = "group", .align = KD_LEFT, .width = 14});
  kd_table_column(t, &(kd_column){.head = "pts", .fmt = "%.0f", .width = 4});
  for (size_t i = 0; i < sizeof cols / sizeof *cols; ++i)
    kd_table_column(t, &(kd_column){.head = cols[i].head, .fmt = cols[i].fmt,
                                    .width = cols[i].width});
}

static void group_row(kd_table *t, const kd_fit_group *g) {
  kd_table_text(t, g->pipeline, NULL);
  if (g->group[0])
    kd_table_text(t, g->group, NULL);
  else
    kd_table_none(t);
  kd_table_num(t, (double)g->npts, NULL);
  kd_table_num(t, g->sim_fit.exponent, NULL);
  kd_table_range(t, g->ci_low, g->ci_high,
                 !strcmp(g->ci_kind, "bootstrap") ? &mark_boot : &mark_t);
  kd_table_num(t, g->sim_fit.se, NULL);
  kd_table_num(t, g->sim_fit.r2, NULL);
  kd_table_num(t, g->sim_fit.prefactor, NULL);
  kd_table_num(t, g->ratio_strong, NULL);
  kd_table_num(t, g->theory_fit.npts ? g->theory_fit.exponent : NAN, NULL);
  kd_table_num(t, g->ratio_strong_theory, NULL);
  kd_table_num(t, g->cont_exponent, NULL);
  kd_table_num(t, g->cont_constant, NULL);
  kd_table_num(t, g->cont_ratio_strong, NULL);
}

/* The local exponents between neighbouring x of each fit, as notes of the fits' table. */
static void local_exponents(const kd_fit_result *r, kd_table *t) {
  kd_table_note(t, TEXT, "# local exponents between neighbouring %s (sim / theory):", r->x);
  for (size_t i = 0; i < r->ngroups; ++i) {
    const kd_fit_group *g = &r->groups[i];
    double *ls = malloc(2 * (g->npts + 1) * sizeof *ls);
    char *pairs = NULL;
    size_t len = 0;
    FILE *out = ls ? open_memstream(&pairs, &len) : NULL;
    if (out) {
      kd_local_exponents(g->x, g->sim, g->npts, ls);
      kd_local_exponents(g->x, g->theory, g->npts, ls + g->npts);
      for (size_t j = 0; j + 1 < g->npts; ++j)
        fprintf(out, " %g-%g: %.3f/%.3f", g->x[j], g->x[j + 1], ls[j], ls[g->npts + j]);
    }
    if (out && fclose(out) == 0)
      kd_table_note(t, TEXT, "#   %-8s%s%s:%s", g->pipeline, g->group[0] ? " " : "", g->group,
                    pairs);
    free(pairs);
    free(ls);
  }
}

static void w2s_columns(kd_table *t) {
  static const struct {
    const char *head, *fmt;
    int width;
  } cols[] = {{"n", "%.0f", 6},       {"p", "%.0f", 6},       {"m", "%.0f", 6},
              {"k", "%.0f", 5},       {"strong", "%.5g", 9},  {"w2s", "%.5g", 9},
              {"ratio", "%.4f", 7},   {"diff", "%.4g", 20},   {"weak", "%.5g", 9},
              {"PGR", "%.4f", 8},     {"PGR_th", "%.4f", 8},  {"gain_th", "%.4g", 9},
              {"misfit_th", "%.4g", 9}, {"best_k", "%.0f", 6}, {"bestk_s", "%.0f", 6}};
  for (size_t i = 0; i < sizeof cols / sizeof *cols; ++i)
    kd_table_column(t, &(kd_column){.head = cols[i].head, .fmt = cols[i].fmt, .ci_fmt = "%.2g",
                                    .width = cols[i].width});
  kd_table_column(t, &(kd_column){.head = "flag", .align = KD_LEFT});
}

/* The PGR, or why there is none. */
static void pgr_cell(kd_table *t, double pgr, kd_pgr_flag f) {
  if (f == KD_PGR_OK)
    kd_table_num(t, pgr, NULL);
  else if (f == KD_PGR_MISSING)
    kd_table_none(t);
  else
    kd_table_text(t, kd_pgr_flag_name(f), NULL);
}

static void w2s_row(kd_table *t, const kd_w2s_entry *e) {
  kd_table_num(t, (double)e->n, NULL);
  kd_table_num(t, (double)e->p, NULL);
  kd_table_num(t, (double)e->m, NULL);
  kd_table_num(t, (double)e->k, NULL);
  kd_table_num(t, e->strong, NULL);
  kd_table_num(t, e->w2s, NULL);
  kd_table_num(t, e->ratio, NULL);
  kd_table_pm(t, e->diff, e->diff_ci, e->diff_paired ? &mark_paired : NULL);
  kd_table_num(t, e->weak, NULL);
  pgr_cell(t, e->pgr, e->pgr_flag);
  pgr_cell(t, e->pgr_th, e->pgr_th_flag);
  kd_table_num(t, e->gain_th, NULL);
  kd_table_num(t, e->misfit_th, NULL);
  kd_table_num(t, (double)e->best_k, NULL);
  if (e->best_k_sim)
    kd_table_num(t, (double)e->best_k_sim, NULL);
  else
    kd_table_none(t);
  kd_table_text(t, e->flag, NULL);
}

void kd_crossing_cells(kd_table *t, const kd_w2s_crossing *x, int name_strong) {
  char lo[32] = "-", hi[32] = "-", ci[72], verdict[64];
  kd_table_num(t, (double)x->npts, NULL);
  kd_table_num(t, x->at, NULL);
  if (x->side) {
    kd_table_none(t);
    snprintf(verdict, sizeof verdict, "%s%s at every point", x->side < 0 ? "below" : "above",
             name_strong ? " strong" : "");
  } else {
    if (!isnan(x->ci_low)) snprintf(lo, sizeof lo, "%.5g", x->ci_low);
    if (!isnan(x->ci_high)) snprintf(hi, sizeof hi, "%.5g", x->ci_high);
    snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
    kd_table_text(t, ci, NULL);
    snprintf(verdict, sizeof verdict, "beats %s %s the crossing", name_strong ? "strong" : "it",
             x->beats ? "above" : "below");
  }
  kd_table_text(t, verdict, NULL);
}

/* Where w2s crosses strong: along which axis, at which group, the crossing and its CI. */
static void crossing_table(const kd_fit_result *r, kd_table *t) {
  t->nan_none = 1;
  kd_table_caption(t, TEXT,
                   "# where w2s crosses strong: the first sign change of w2s - strong along the "
                   "axis, linear in log x; 95%% CI from w2s - strong -+ its CI (- : beyond the "
                   "grid)\n");
  kd_table_column(t, &(kd_column){.head = "along", .align = KD_LEFT, .width = 5});
  kd_table_column(t, &(kd_column){.head = "at", .align = KD_LEFT, .width = 16});
  kd_table_column(t, &(kd_column){.head = "points", .fmt = "%.0f", .width = 6});
  kd_table_column(t, &(kd_column){.head = "crossing", .fmt = "%.5g", .width = 10});
  kd_table_column(t, &(kd_column){.head = "95% CI", .align = KD_LEFT, .width = 22});
  kd_table_column(t, &(kd_column){.head = "w2s", .align = KD_LEFT});
  for (size_t i = 0; i < r->ncross; ++i) {
    const kd_w2s_crossing *x = &r->cross[i];
    kd_table_text(t, x->axis, NULL);
    kd_table_text(t, x->group[0] ? x->group : "-", NULL);
    kd_crossing_cells(t, x, 1);
  }
}

void kd_fit_print(const kd_fit_result *r, FILE *out) {
  kd_table fits, w2s, cross;
  kd_table_init(&fits);
  kd_table_init(&w2s);
  kd_table_init(&cross);
  fits.nan_none = w2s.nan_none = 1;
  setting(r, &fits);
  group_columns(&fits);
  for (size_t i = 0; i < r->ngroups; ++i) group_row(&fits, &r->groups[i]);
  local_exponents(r, &fits);
  if (r->nw2s) {
    kd_table_caption(&w2s, TEXT,
                     "# weak-to-strong: ratio = w2s/strong; diff = w2s - strong +- 95%% CI "
                     "(paired over trials where marked p); PGR = (weak - w2s)/(weak - strong), "
                     "not divided when the gap is within 2 SE of 0 (gap~0) or negative "
                     "(gap<0); gain = weak - w2s, misfit = E||b_w2s - b_weak||^2_Sigma "
                     "(theory)\n");
    w2s_columns(&w2s);
    for (size_t i = 0; i < r->nw2s; ++i) w2s_row(&w2s, &r->w2s[i]);
  }
  if (r->ncross) crossing_table(r, &cross);
  kd_table steps;
  kd_table_init(&steps);
  if (r->nsteps) kd_report_steps_fit_table(r, &steps);
  kd_table *last = r->ncross ? &cross : r->nw2s ? &w2s : r->nsteps ? &steps : &fits;
  for (size_t i = 0; i < r->nnotes; ++i) kd_table_note(last, TEXT, "# note: %s", r->notes[i]);
  kd_status st = r->ngroups || !r->nsteps ? kd_table_write_text(&fits, out) : KD_OK;
  if (st == KD_OK && r->nsteps) st = kd_table_write_text(&steps, out);
  if (st == KD_OK && r->nw2s && kd_table_write_text(&w2s, out) == KD_OK && r->ncross)
    kd_table_write_text(&cross, out);
  kd_table_free(&fits);
  kd_table_free(&w2s);
  kd_table_free(&cross);
  kd_table_free(&steps);
}
