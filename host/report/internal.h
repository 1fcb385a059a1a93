/* What the report writers share: a stored run as loaded from NAME.jsonl and
 * NAME.meta.json (report_load.c) and its table layout (report_layout.c); the escapes
 * and number formatting are kdbench/escape.h. Private to host/report*.c (and
 * tests/test_report.c). */
#ifndef KDBENCH_REPORT_INTERNAL_H
#define KDBENCH_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/fit_run.h"
#include "kdbench/pipeline.h"
#include "kdbench/status.h"
#include "kdbench/table.h"

/* The parameters of a JSONL row that can be swept or vary; CSV/JSONL names (an axis
 * named with '-' has its column with '_'). */
enum {
  KD_RP_N,
  KD_RP_P,
  KD_RP_M,
  KD_RP_K,
  KD_RP_RIDGE,
  KD_RP_ALPHA,
  KD_RP_SIGNAL_EXP,
  KD_RP_SIGMA,
  KD_RP_TRIALS,
  KD_RP_REAL_FRACTION, /* the axis real-fraction */
  KD_RP_STUDENT_FEATURES,
  KD_RP_COUNT
};
extern const char *const kd_report_param_names[KD_RP_COUNT];

/* Pipelines are the registry's (kdbench/pipeline.h): indexed by kd_pipeline, in its
 * order, which is the table's order of their column groups. */

enum { KD_RFLAG_NONE, KD_RFLAG_PEAK, KD_RFLAG_NEAR_PEAK };

/* A row as the report sees it: a view of the kd_row kd_run_read parsed (report_load.c). */
typedef struct {
  char point_key[17];
  long point;       /* grid index */
  int pipe;         /* its kd_pipeline */
  double param[KD_RP_COUNT];
  unsigned char has_param[KD_RP_COUNT]; /* 0: null in the JSONL (m, k, alpha, ...) */
  double sim_mean, sim_median, ci_half; /* ci_half: (ci_high - ci_low) / 2 */
  double theory;                        /* may be +-inf or nan */
  int has_theory;                       /* 0: null (not available) */
  int flag;                             /* KD_RFLAG_* */
  double noise; /* the ground-truth labels' sigma^2 (test_risk - sim_mean); NaN: unknown */
  int exact;                            /* theory_kind exact */
  int step;                             /* a pipeline with several rows: its step (> 0) */
  char group[KD_GROUP_LEN];             /* ... and group */
  double beats, beats_low, beats_high;  /* beats_first and its interval (NaN: empty) */
} kd_report_row;

typedef struct {
  char *run_name; /* the stem's last component */
  char *scenario_hash, *version, *commit, *backend, *backend_description, *risk, *ci;
  char *earlier; /* "N points by BACKEND; ..." of resumed_from, or NULL: none */
  long seed, trials, points_total;
  int complete;
  int axes[KD_RP_COUNT], naxes; /* swept parameters, in meta order */
} kd_report_meta;

/* A table row: one grid point. */
typedef struct {
  const kd_report_row *cell[KD_NPIPES]; /* NULL: no row for that pipeline */
} kd_report_point;

typedef struct {
  kd_report_meta meta;
  kd_report_row *rows; /* sorted by (point, pipe), duplicates resolved */
  size_t nrows;
  kd_report_point *points;
  size_t npoints;
  int lead[KD_RP_COUNT], nlead;                     /* leading columns: axes, then others */
  int pipe_present[KD_NPIPES];                      /* pipelines with at least one row */
  unsigned char pipe_param[KD_NPIPES][KD_RP_COUNT]; /* a column in that pipeline's group */
  char *fixed; /* what does not vary, as plain text: "p = 500, ridge = 0, ..." ("" if none) */
  char *fixed_tex; /* the same as LaTeX source: "$p = 500$, $\lambda = 0$, ..." */
  int any_peak, any_near_peak;
  kd_fit_result *fit; /* NAME.fit.json (kdbench fit) when it exists for this run, else NULL */
  int wide;           /* LaTeX: table* floats (KD_REPORT_WIDE) */
  int test_risk;      /* the run's table in test risk (KD_REPORT_TEST_RISK) */
} kd_report;

/* Whether the run simulated: a theory-only run (--theory-only) has no trials, and its
 * tables no simulation columns. */
static inline int kd_report_simulated(const kd_report *r) { return r->meta.trials > 0; }

/* report_load.c: meta and rows (kd_run_read: in grid order, de-duplicated); warnings to log. */
kd_status kd_report_load(const char *stem, kd_report *r, FILE *log);
/* report_layout.c: points, leading and per-pipeline columns, the fixed text (plain and
 * LaTeX). */
kd_status kd_report_layout(kd_report *r);
void kd_report_free(kd_report *r);

/* The value of parameter q at a point for the leading column (0 if none has it): the
 * first pipeline's of kd_report_lead_order(kd_pipelines, KD_NPIPES, q, ...) that has it. */
int kd_report_lead_value(const kd_report_point *pt, int q, double *v);
/* The order in which the pipelines of registry `pipes` (count of them) give a point's
 * leading value of q, as indices into it: for m and k those whose m column holds the
 * point's m first (the weak model's k is the swept one; a mask's k is its own size),
 * then the rest; each part in registry order. */
void kd_report_lead_order(const kd_pipeline_type *const *pipes, int count, int q, int *order);

/* A parameter value: integers exactly, reals to 6 significant digits (%g); its printf
 * format (of a double); its symbol in LaTeX math ("n", "\\lambda" for the ridge, "b" for
 * signal_exp; NULL for the trials, which have none). */
void kd_report_fmt_param(int q, double x, char *out, size_t len);
const char *kd_report_param_fmt(int q);
const char *kd_report_param_tex(int q);

/* report_table.c: the run's table into t (initialised; both formats' captions and
 * notes), and NAME.md or NAME.tex (format KD_TABLE_MD or KD_TABLE_TEX) with the fit's
 * tables after it. */
void kd_report_table(const kd_report *r, kd_table *t);
/* report_backend.c: the Markdown notes of what computed the run (its backend, and the
 * points resumed from other backends): in the run's table, or in the first table of
 * several rows a point when the run has no other. */
void kd_report_backend_notes(const kd_report *r, kd_table *t);
/* report_steps.c: the table of pipeline `pipe`'s rows when it has several at a point
 * (into t, initialised) for `format` (LaTeX: a long chain's steps 1 .. 10, 20, 50, ...
 * and its last), by grid point and step, its groups side by side; 0 (t untouched)
 * when the run has no such rows of it. */
int kd_report_steps_table(const kd_report *r, int pipe, unsigned format, kd_table *t);
kd_status kd_report_write(const kd_report *r, const kd_table *t, unsigned format, FILE *out);


/* report_fit.c: NAME.fit.json into r->fit (left NULL when there is none; one from
 * another scenario is ignored with a warning on log), and its tables (scaling laws,
 * weak-to-strong, and the weak-to-strong grid where the run sweeps k at several m) in
 * `format` (KD_TABLE_MD or KD_TABLE_TEX; `wide`: LaTeX table* floats). */
kd_status kd_report_load_fit(const char *stem, kd_report *r, FILE *log);
/* report_fit_text.c: a crossing's last four cells (points, crossing, its 95 % interval as
 * "[lo, hi]" with "-" for an open end, and the verdict, naming strong when name_strong),
 * for the fit's text and the report alike. */
void kd_crossing_cells(kd_table *t, const kd_w2s_crossing *x, int name_strong);
kd_status kd_report_write_fit(const kd_fit_result *f, unsigned format, int wide, FILE *out);
/* report_fit_steps.c: the table of the fit's slopes against the step (kd_fit_steps), in all three formats
 * (kdbench fit prints its text, the report its Markdown and LaTeX). */
void kd_report_steps_fit_table(const kd_fit_result *f, kd_table *t);

#endif
