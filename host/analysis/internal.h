/* What the files of `kdbench fit RUN` share (kd_fit_run, fit_run.c): the stored run as
 * the fit reads it (fit_data.c), the problems rebuilt for its theory (fit_problem.c), the
 * result's notes (fit_result.c), the window (fit_window.c), the fits (fit_groups.c), the
 * weak-to-strong metrics (fit_w2s.c) and their crossings (fit_crossing.c). Private to
 * host/analysis/. */
#ifndef KDBENCH_ANALYSIS_INTERNAL_H
#define KDBENCH_ANALYSIS_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/config.h"
#include "kdbench/fit_run.h"
#include "kdbench/run.h"
#include "kdbench/scenario_id.h"

/* ---- the stored run (fit_data.c) ---- */

/* A grid point's rows, by pipeline (NULL: none). */
typedef struct {
  const kd_row *cell[KD_NPIPES];
} kd_fit_point;

typedef struct {
  char stem[4096];
  char hash[17];
  kd_scenario_id id; /* the hash's parts the metadata records (numerics -1: none) */
  char *scenario; /* the metadata's scenario text */
  kd_axis axes[KD_MAX_SWEPT];
  int naxes;
  kd_row *rows;
  size_t nrows;
  kd_fit_point *points;
  size_t npoints;
} kd_fit_data;

/* The run through kd_run_read (docs/run-format.md, "Reading a run"), d->stem set: its
 * rows, in grid order, become the points. */
kd_status kd_fit_data_load(kd_fit_data *d, FILE *log);
void kd_fit_data_free(kd_fit_data *d);
const kd_row *kd_fit_any_row(const kd_fit_point *pt);
/* The value of axis a at a point; for m and k the weak model's (NaN if no row has
 * one); for sigma the ground-truth labels' (strong or weak row). */
double kd_fit_point_axis(const kd_fit_point *pt, kd_axis a);

/* ---- the problem of a row, rebuilt from the run's scenario (fit_problem.c) ---- */

typedef struct {
  size_t p;
  double alpha;
  kd_problem pr;
  int isotropic;
} kd_fit_problem_entry;

typedef struct {
  const kd_fit_data *d;
  kd_config cfg;
  int loaded;
  kd_fit_problem_entry *e;
  size_t n;
} kd_fit_problems;

/* The problem of (p, alpha) (NaN: the scenario's alpha), built once from the run's
 * scenario; refused if a spectrum or beta* file the run read has changed since. */
kd_status kd_fit_problem_of(kd_fit_problems *ps, size_t p, double alpha, const kd_problem **out);
void kd_fit_problems_free(kd_fit_problems *ps);
/* The floor of a row: ridgeless student rows with label noise (not the weak model's). */
kd_status kd_fit_row_floor(kd_fit_problems *ps, const kd_row *r, double *floor);

/* ---- the result (fit_result.c) ---- */

/* Adds a note to the result, once (a second equal note is dropped). */
kd_status kd_fit_note(kd_fit_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the window and the fits (fit_window.c, fit_groups.c, fit_w2s.c) ---- */

typedef struct {
  const kd_fit_data *d;
  const kd_fit_options *o;
  kd_fit_result *res;
  kd_axis x;
  kd_fit_problems ps;
} kd_fit_ctx;

int kd_fit_in_window(const kd_fit_ctx *c, const kd_fit_point *pt, double x);
/* The other swept axes of a point, "p = 500" ("" with one axis): its group. */
void kd_fit_group_key(const kd_fit_ctx *c, const kd_fit_point *pt, char *key, size_t len);
const char *kd_fit_window_text(const kd_fit_ctx *c, char *buf, size_t len);
/* The points of group g (pipeline q, key) in the window, by increasing x. */
size_t kd_fit_collect(kd_fit_ctx *c, int q, const char *key, const kd_row **rows, double *xs);
/* Every group's fit, into c->res. */
kd_status kd_fit_all(kd_fit_ctx *c);
/* The weak-to-strong metrics of every point with a w2s row, into c->res. */
kd_status kd_fit_w2s_all(kd_fit_ctx *c);
/* Where w2s crosses strong along n and along m (kd_w2s_crossing), from c->res->w2s. */
kd_status kd_fit_crossings(kd_fit_ctx *c);
/* The slopes against the step of every group of a pipeline with several rows, into
 * c->res (fit_steps.c). */
kd_status kd_fit_steps_all(kd_fit_ctx *c);

#endif
