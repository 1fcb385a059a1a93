/* The live table: its caption and header, a point's rows as the run writes them, and the
 * point's label on the progress line. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kdbench/table.h"
#include "internal.h"

static double axis_value(const kd_row *r, kd_axis a, const kd_grid_point *gp) {
  switch (a) {
    case KD_AXIS_N: return (double)r->n;
    case KD_AXIS_P: return (double)r->p;
    case KD_AXIS_M: return (double)gp->m;
    case KD_AXIS_K: return (double)gp->k;
    case KD_AXIS_RIDGE: return r->ridge;
    case KD_AXIS_ALPHA: return gp->alpha;
    case KD_AXIS_REAL_FRACTION: return gp->real_fraction;
    case KD_AXIS_STUDENT_FEATURES:
      return (double)(gp->student_features ? gp->student_features : gp->p);
    default: return gp->sigma;
  }
}

/* n and k, swept or not, are columns of every row: k is the row's (the weak model's,
 * the swept value, for w2s and weak; the mask's size for mask); a swept axis's own
 * column would repeat them. */
static int own_column(kd_axis a) { return a == KD_AXIS_N || a == KD_AXIS_K; }

/* The first selected pipeline with several rows at a point (NULL: none). */
static const kd_pipeline_type *multi_rows(const kd_config *c) {
  for (int q = 0; q < KD_NPIPES; ++q)
    if (c->pipelines >> q & 1u && kd_pipelines[q]->groups) return kd_pipelines[q];
  return NULL;
}

/* The live table's columns: the swept axes without a column of their own (the last
 * first), then n, pipeline, k, (with a pipeline of several rows: its group and step,
 * named as its columns), the simulation, its theory and their ratio. */
static void live_columns(kd_table *t, const kd_config *c) {
  for (int i = c->n_swept - 1; i >= 0; --i)
    if (!own_column(c->swept[i]))
      kd_table_column(t, &(kd_column){.head = kd_axis_name(c->swept[i]), .fmt = "%.4g",
                                      .width = 8, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "n", .fmt = "%.0f", .width = 6, .sep = "  "});
  int name = 8; /* the pipeline column: as wide as the longest selected name */
  for (int q = 0; q < KD_NPIPES; ++q)
    if (c->pipelines >> q & 1u && (int)strlen(kd_pipelines[q]->name) > name)
      name = (int)strlen(kd_pipelines[q]->name);
  kd_table_column(t, &(kd_column){.head = "pipeline", .align = KD_LEFT, .width = name, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "k", .fmt = "%.0f", .width = 5});
  const kd_pipeline_type *multi = multi_rows(c);
  if (multi) {
    kd_table_column(t, &(kd_column){.head = multi->group_column, .align = KD_LEFT, .width = 14,
                                    .sep = "  "});
    kd_table_column(t, &(kd_column){.head = multi->step_column, .fmt = "%.0f", .width = 4,
                                    .sep = "  "});
  }
  const int test = c->run.test_risk; /* --risk test */
  kd_table_column(t, &(kd_column){.head = test ? "sim_test" : "sim_mean", .fmt = "%.5g",
                                  .width = 11, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "+-CI95", .fmt = "%.2g", .width = 9, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = test ? "test_theory" : "theory", .fmt = "%.5g",
                                  .width = 11, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "ratio", .fmt = "%.3f", .width = 6, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "kind", .align = KD_LEFT, .width = 5, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "flag", .align = KD_LEFT, .sep = "  "});
}

/* The setting, on comment lines above the header. */
static void live_caption(kd_table *t, const kd_config *c, const char *backend) {
  enum { T = KD_TABLE_TEXT };
  kd_table_caption(t, T, "# kdbench sweep over ");
  for (int i = 0; i < c->n_swept; ++i)
    kd_table_caption(t, T, "%s%s", i ? "," : "", kd_axis_name(c->swept[i]));
  kd_table_caption(t, T, ":");
  if (!kd_config_swept(c, KD_AXIS_P)) kd_table_caption(t, T, " p = %zu,", c->p);
  if (c->spectrum_spec.kind != KD_SPEC_POWERLAW) kd_table_caption(t, T, " spectrum %s,", c->spectrum);
  else if (!kd_config_swept(c, KD_AXIS_ALPHA)) kd_table_caption(t, T, " lambda_i = i^-%g,", c->alpha);
  if (c->beta_spec.kind == KD_BETA_POWERLAW)
    kd_table_caption(t, T, " lambda_i beta_i^2 = i^-%g,", c->signal_exp);
  else kd_table_caption(t, T, " beta* %s,", c->beta);
  if (!kd_config_swept(c, KD_AXIS_SIGMA)) kd_table_caption(t, T, " sigma = %g,", c->sigma);
  if (c->teacher_sigma >= 0) kd_table_caption(t, T, " teacher sigma = %g,", c->teacher_sigma);
  if (!kd_config_swept(c, KD_AXIS_RIDGE)) kd_table_caption(t, T, " ridge = %g,", c->ridge);
  if (!kd_config_swept(c, KD_AXIS_M)) kd_table_caption(t, T, " m = %zu,", c->m);
  if (c->weak_ridge < 0) kd_table_caption(t, T, " weak ridge auto,");
  else if (c->weak_ridge != 0) kd_table_caption(t, T, " weak ridge = %g,", c->weak_ridge);
  if ((c->pipelines >> KD_PIPE_MIX & 1u) && !kd_config_swept(c, KD_AXIS_REAL_FRACTION))
    kd_table_caption(t, T, " real fraction = %g,", c->real_fraction);
  if (c->theory_only) kd_table_caption(t, T, " theory only\n# backend: %s\n", backend);
  else
    kd_table_caption(t, T, " %u trial%s, seed %llu\n# backend: %s\n", c->trials,
                     c->trials == 1 ? "" : "s", (unsigned long long)c->seed, backend);
  kd_table_caption(t, T, c->run.test_risk ? "# risk = test risk (b - beta*)' Sigma (b - beta*) + "
                                            "sigma^2; ratio = their ratio; CI = 95%% t-interval\n"
                                          : "# risk = excess risk (b - beta*)' Sigma (b - beta*); "
                                            "CI = 95%% t-interval\n");
}

void kd_sweep_table_header(FILE *t, const kd_config *c, const char *backend) {
  kd_table live;
  kd_table_init(&live);
  live_caption(&live, c, backend);
  live_columns(&live, c);
  kd_table_text_head(&live, t);
  kd_table_free(&live);
}

void kd_sweep_point_label(const kd_config *c, const kd_grid_point *gp, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < c->n_swept && used < len; ++i) {
    kd_row r = {.n = gp->n, .p = gp->p, .ridge = gp->ridge};
    used += (size_t)snprintf(buf + used, len - used, "%s%s=%g", i ? " " : "",
                             kd_axis_name(c->swept[i]), axis_value(&r, c->swept[i], gp));
  }
}

static void live_row(kd_table *t, const kd_config *c, const kd_row *r, const kd_grid_point *gp) {
  char median[48] = "", fallbacks[48] = "", flag[128];
  for (int i = c->n_swept - 1; i >= 0; --i)
    if (!own_column(c->swept[i])) kd_table_num(t, axis_value(r, c->swept[i], gp), NULL);
  kd_table_num(t, (double)r->n, NULL);
  kd_table_text(t, kd_pipeline_name(r->pipeline), NULL);
  if (r->k)
    kd_table_num(t, (double)r->k, NULL);
  else
    kd_table_none(t);
  if (multi_rows(c)) {
    kd_table_text(t, r->group, NULL);
    if (r->step) kd_table_num(t, (double)r->step, NULL);
    else kd_table_none(t);
  }
  const double noise = c->run.test_risk ? gp->sigma * gp->sigma : 0; /* --risk test */
  const double theory = r->theory + noise;
  kd_table_num(t, r->s.mean + noise, NULL);
  kd_table_num(t, r->s.ci_high - r->s.mean, NULL);
  kd_table_num(t, theory, NULL);
  kd_table_num(t, noise && isfinite(theory) && theory > 0 ? (r->s.mean + noise) / theory : r->ratio,
               NULL);
  kd_table_text(t, r->exact ? "exact" : "de", NULL);
  if (!strcmp(r->flag, "peak")) snprintf(median, sizeof median, " (median %.4g)", r->s.median + noise);
  if (r->fallbacks)
    snprintf(fallbacks, sizeof fallbacks, " [%ld fallback%s]", r->fallbacks,
             r->fallbacks == 1 ? "" : "s");
  snprintf(flag, sizeof flag, "%s%s%s", r->flag, median, fallbacks);
  kd_table_text(t, flag, NULL);
}

/* A point's rows in the table: the progress line (on the same terminal, most likely) is
 * erased first, and the rows are flushed before it is drawn again. */
void kd_sweep_table_rows(FILE *t, kd_progress *pg, const kd_config *c, const kd_row *rows,
                         size_t count, const kd_grid_point *gp) {
  if (!t) return;
  kd_table live;
  kd_table_init(&live);
  live.nan_none = c->theory_only; /* no simulation: '-', not nan */
  live_columns(&live, c);
  for (size_t r = 0; r < count; ++r) live_row(&live, c, &rows[r], gp);
  kd_progress_hide(pg);
  if (live.st == KD_OK)
    kd_table_text_rows(&live, t);
  else /* the run's files have the rows */
    fprintf(stderr, "kdbench: warning: %s: rows left out of the table\n", kd_last_error());
  fflush(t);
  kd_table_free(&live);
}
