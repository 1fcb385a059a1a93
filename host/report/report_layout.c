/* The table layout of a loaded run: one table row per grid point; leading columns
 * for the swept axes (meta order), then any other parameter that is the same for
 * all pipelines of a point but varies between points; inside a pipeline's group, a
 * column for a parameter of that pipeline alone that varies (the mask's size k, the
 * weak model's k when k is chosen per n); everything constant goes to one "fixed"
 * line of text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/escape.h"
#include "internal.h"

void kd_report_lead_order(const kd_pipeline_type *const *pipes, int count, int q, int *order) {
  const int m_first = q == KD_RP_M || q == KD_RP_K;
  int n = 0;
  for (int part = m_first ? 0 : 1; part < 2; ++part) /* part 0: the m-column pipelines */
    for (int p = 0; p < count; ++p)
      if (!m_first || (part == 0) == (pipes[p]->m_column != 0)) order[n++] = p;
}

int kd_report_lead_value(const kd_report_point *pt, int q, double *v) {
  int order[KD_NPIPES];
  kd_report_lead_order(kd_pipelines, KD_NPIPES, q, order);
  for (int i = 0; i < KD_NPIPES; ++i) {
    const kd_report_row *c = pt->cell[order[i]];
    if (c && c->has_param[q]) {
      *v = c->param[q];
      return 1;
    }
  }
  return 0;
}

static kd_status group_points(kd_report *r) {
  if (!(r->points = calloc(r->nrows, sizeof *r->points)))
    return kd_fail(KD_ENOMEM, "out of memory for %zu report points", r->nrows);
  for (size_t i = 0; i < r->nrows; ++i) {
    const kd_report_row *row = &r->rows[i];
    if (i == 0 || row->point != r->rows[i - 1].point) r->npoints++;
    kd_report_point *pt = &r->points[r->npoints - 1];
    if (row->step > 0) continue; /* a pipeline with several rows: not a cell of this table */
    if (pt->cell[row->pipe]) /* rows are de-duplicated by point_key: a second key */
      return kd_fail(KD_EINVAL, "run %s: point %ld has two point keys (%s, %s)", r->meta.run_name,
                     row->point, pt->cell[row->pipe]->point_key, row->point_key);
    pt->cell[row->pipe] = row;
    r->pipe_present[row->pipe] = 1;
    r->any_peak |= row->flag == KD_RFLAG_PEAK;
    r->any_near_peak |= row->flag == KD_RFLAG_NEAR_PEAK;
  }
  return KD_OK;
}

static int is_axis(const kd_report *r, int q) {
  for (int i = 0; i < r->meta.naxes; ++i)
    if (r->meta.axes[i] == q) return 1;
  return 0;
}

/* Every row of each point has q, with the same value, and it differs between points
 * (a parameter that only some pipelines have, like k, stays in their groups). */
static int varies_per_point(const kd_report *r, int q) {
  int seen = 0, varies = 0;
  double first = 0;
  for (size_t i = 0; i < r->npoints; ++i) {
    double lead;
    if (!kd_report_lead_value(&r->points[i], q, &lead)) continue;
    for (int p = 0; p < KD_NPIPES; ++p) {
      const kd_report_row *c = r->points[i].cell[p];
      if (c && (!c->has_param[q] || c->param[q] != lead)) return 0;
    }
    if (seen && lead != first) varies = 1;
    if (!seen) first = lead, seen = 1;
  }
  return varies;
}

static int is_lead(const kd_report *r, int q) {
  for (int i = 0; i < r->nlead; ++i)
    if (r->lead[i] == q) return 1;
  return 0;
}

/* Pipeline p's value of q where the leading column does not already show it: 0 when
 * it always does (or p never has q); 1 when p's own value is constant (*c); 2 when it
 * varies between points. */
static int own_values(const kd_report *r, int p, int q, double *c) {
  int lead = is_lead(r, q), seen = 0, varies = 0, shown = 1;
  for (size_t i = 0; i < r->npoints; ++i) {
    const kd_report_row *cell = r->points[i].cell[p];
    double v;
    if (!cell || !cell->has_param[q]) continue;
    if (!lead || !kd_report_lead_value(&r->points[i], q, &v) || v != cell->param[q]) shown = 0;
    if (seen && cell->param[q] != *c) varies = 1;
    if (!seen) *c = cell->param[q], seen = 1;
  }
  return shown ? 0 : varies ? 2 : 1;
}

static void append(char *text, size_t len, const char *s) {
  size_t n = strlen(text);
  snprintf(text + n, len - n, "%s", s);
}

/* A number as kd_tex_number writes it (1e-05 as 1\\times10^{-5}), in place. */
static void tex_number(char *num, size_t len) {
  char plain[64];
  snprintf(plain, sizeof plain, "%s", num);
  FILE *f = fmemopen(num, len, "w");
  if (!f) return; /* the plain number stays */
  kd_tex_number(f, plain);
  fclose(f);
}

/* Appends to the fixed text "q = c" or, annotated, "q = c1 (a, b), c2 (c)"; in LaTeX
 * (tex) "$q = c$" or "$q = c_1$ (a, b), $c_2$ (c)", q's symbol after its word (ridge
 * $\lambda$). Without `annotate`, all the values are equal. */
static void describe_fixed(int q, const double *c, const int *has, int annotate, int tex,
                           char *text, size_t len) {
  char num[64];
  int done[KD_NPIPES] = {0}, first_value = 1;
  const char *sym = tex ? kd_report_param_tex(q) : NULL;
  if (*text) append(text, len, ", ");
  if (tex && (q == KD_RP_RIDGE || q == KD_RP_SIGNAL_EXP))
    append(text, len, q == KD_RP_RIDGE ? "ridge " : "signal exponent ");
  append(text, len, sym ? "$" : "");
  append(text, len, sym ? sym : tex ? "trials" : kd_report_param_names[q]);
  append(text, len, " = ");
  for (int p = 0; p < KD_NPIPES; ++p) {
    if (!has[p] || done[p]) continue;
    if (!first_value) append(text, len, sym ? ", $" : ", ");
    first_value = 0;
    kd_report_fmt_param(q, c[p], num, sizeof num);
    if (sym) tex_number(num, sizeof num);
    append(text, len, num);
    append(text, len, sym ? "$" : "");
    if (!annotate) break;
    for (int o = p, first_pipe = 1; o < KD_NPIPES; ++o) {
      if (!has[o] || c[o] != c[p]) continue;
      done[o] = 1;
      append(text, len, first_pipe ? " (" : ", ");
      append(text, len, kd_pipeline_name((kd_pipeline)o));
      first_pipe = 0;
    }
    append(text, len, ")");
  }
}

static kd_status classify_columns(kd_report *r) {
  for (int i = 0; i < r->meta.naxes; ++i) r->lead[r->nlead++] = r->meta.axes[i];
  for (int q = 0; q < KD_RP_COUNT; ++q)
    if (!is_axis(r, q) && varies_per_point(r, q)) r->lead[r->nlead++] = q;

  size_t len = 4096;
  if (!(r->fixed = calloc(len, 1)) || !(r->fixed_tex = calloc(len, 1)))
    return kd_fail(KD_ENOMEM, "out of memory");
  for (int q = 0; q < KD_RP_COUNT; ++q) {
    double c[KD_NPIPES];
    int has[KD_NPIPES] = {0}, nconst = 0, own_column = 0, first = -1, all_equal = 1;
    for (int p = 0; p < KD_NPIPES; ++p) {
      int kind = r->pipe_present[p] ? own_values(r, p, q, &c[p]) : 0;
      r->pipe_param[p][q] = kind == 2;
      own_column |= kind == 2;
      if (kind != 1) continue;
      has[p] = 1, nconst++;
      if (first < 0)
        first = p;
      else if (c[p] != c[first])
        all_equal = 0;
    }
    if (!nconst) continue;
    /* the caption gives the trials already */
    if (q == KD_RP_TRIALS && all_equal && c[first] == (double)r->meta.trials && !own_column &&
        !is_lead(r, q))
      continue;
    int annotate = !all_equal || own_column || is_lead(r, q);
    describe_fixed(q, c, has, annotate, 0, r->fixed, len);
    describe_fixed(q, c, has, annotate, 1, r->fixed_tex, len);
  }
  return KD_OK;
}

kd_status kd_report_layout(kd_report *r) {
  kd_status st = group_points(r);
  return st ? st : classify_columns(r);
}

void kd_report_free(kd_report *r) {
  kd_report_meta *m = &r->meta;
  free(m->run_name), free(m->scenario_hash), free(m->version), free(m->commit);
  free(m->backend), free(m->backend_description), free(m->risk), free(m->ci);
  free(m->earlier);
  free(r->rows), free(r->points), free(r->fixed), free(r->fixed_tex);
  if (r->fit) kd_fit_result_free(r->fit);
  free(r->fit);
  memset(r, 0, sizeof *r);
}

/* ---- numbers ------------------------------------------------------------------------ */

const char *kd_report_param_fmt(int q) {
  int integer = q == KD_RP_N || q == KD_RP_P || q == KD_RP_M || q == KD_RP_K || q == KD_RP_TRIALS ||
                q == KD_RP_STUDENT_FEATURES;
  return integer ? "%.0f" : "%g";
}

const char *kd_report_param_tex(int q) {
  static const char *const sym[KD_RP_COUNT] = {
      [KD_RP_N] = "n",      [KD_RP_P] = "p",         [KD_RP_M] = "m",
      [KD_RP_K] = "k",      [KD_RP_RIDGE] = "\\lambda", [KD_RP_ALPHA] = "\\alpha",
      [KD_RP_SIGNAL_EXP] = "b", [KD_RP_SIGMA] = "\\sigma"};
  return q >= 0 && q < KD_RP_COUNT ? sym[q] : NULL;
}

void kd_report_fmt_param(int q, double x, char *out, size_t len) {
  snprintf(out, len, kd_report_param_fmt(q), x);
}
