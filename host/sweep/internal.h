/* What the sweep's files share: the run's state (sweep.c opens and closes it), the
 * problem of a point (sweep_problem.c), the memory check (sweep_memory.c), a point's
 * rows (sweep_rows.c), the live table (sweep_table.c), the walk over the points
 * (sweep_walk.c; --theory-only: sweep_theory.c) and an extended run's files
 * (extend.c). Private to host/sweep/. */
#ifndef KDBENCH_SWEEP_INTERNAL_H
#define KDBENCH_SWEEP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/backend.h"
#include "kdbench/config.h"
#include "kdbench/grid.h"
#include "kdbench/pipeline.h"
#include "kdbench/point.h"
#include "kdbench/progress.h"
#include "kdbench/run.h"
#include "kdbench/run_meta.h"
#include "kdbench/scenario_id.h"
#include "kdbench/shard.h"

/* ---- the problem of a point (sweep_problem.c) ---- */

/* The problem of the last point asked for, kept while the next has the same one. */
typedef struct {
  kd_problem pr;
  int valid;
  kd_grid_point at; /* the point it was built for */
  uint64_t id; /* changes whenever the problem does (the teacher cache's key) */
} kd_sweep_problem;

/* Whether two grid points have one problem (p, alpha and sigma: the spectrum, beta*
 * and the noise; the other axes are the plan's). */
int kd_sweep_same_problem(const kd_grid_point *a, const kd_grid_point *b);

/* ps's problem made gp's (p, alpha, sigma), built only when it differs. */
kd_status kd_sweep_problem_for(const kd_config *c, const kd_grid_point *gp, kd_sweep_problem *ps);
/* Builds every distinct problem of the grid once (cheap: O(p)), so that a bad
 * spectrum or beta* file is an error before any output exists. */
kd_status kd_sweep_check_problems(const kd_config *c, const kd_grid *g);
/* The point the plan takes: the grid's values, the weak model's ridge and the student's
 * features. */
kd_point kd_sweep_point_of(const kd_config *c, const kd_grid_point *gp);
/* The null risk beta*' Sigma beta* (the zero predictor's) of every grid point, for the
 * metadata of a run with generations (the level a collapsing chain drifts to); else
 * *out NULL. */
kd_status kd_sweep_null_risks(const kd_config *c, const kd_grid *g, double **out);

/* ---- the memory check (sweep_memory.c) ---- */

/* The first point whose student's stage alone (kd_pipeline_fits_student: the
 * backend's workspace of its n x p design, and the problem's p-vectors) exceeds the
 * memory available or free on the device, refused in one line, before any problem is
 * built: an absurd p is refused in milliseconds rather than after minutes and
 * gigabytes. KD_OK when every point may fit, or no selected pipeline has that stage. */
kd_status kd_sweep_bound_memory(const kd_config *c, const kd_grid *g, const kd_backend *be);

/* Plans every point once, in the order they run, for two models of the run: its
 * memory (the largest need into *peak; with `check`, the first point that does not fit
 * refused in one line) and (when `cost` is not NULL) the progress line's cost of each
 * point; *rows: the rows of the first point. */
kd_status kd_sweep_model_memory(const kd_config *c, const kd_grid *g, const kd_backend *be,
                                int check, kd_memory *peak, double *cost, size_t *rows);

/* ---- a point's rows (sweep_rows.c) ---- */

/* The rows of a point, every point's alike: the grid's first point's (a run that plans
 * no point before its files are opened, --theory-only). */
kd_status kd_sweep_point_rows(const kd_config *c, const kd_grid *g, size_t *rows);
/* Row q of the point; `first`: the risks of its group's step 1 (NULL: none, or it is
 * that row), against which beats_first counts the trials. */
kd_row kd_sweep_make_row(const kd_config *c, const kd_problem *pr, const kd_plan *pl,
                         const kd_grid_point *gp, int q, const double *risks, uint32_t trials,
                         const double *first, long fallbacks);
/* The risks of row q's group's step 1 at the point (NULL: a row without steps). */
const double *kd_sweep_first_of(const kd_plan *pl, int q, const double *risks, uint32_t trials);

/* ---- the live table (sweep_table.c) ---- */

/* The live table's caption and header. */
void kd_sweep_table_header(FILE *t, const kd_config *c, const char *backend);
/* A point's rows in the table (t NULL: none), the progress line erased first. */
void kd_sweep_table_rows(FILE *t, kd_progress *pg, const kd_config *c, const kd_row *rows,
                         size_t count, const kd_grid_point *gp);
/* "n=200 p=500": the swept axes of a point (progress lines). */
void kd_sweep_point_label(const kd_config *c, const kd_grid_point *gp, char *buf, size_t len);

/* ---- the run (sweep.c) and its walk (sweep_walk.c, sweep_theory.c) ---- */

/* What a run holds from its start to its end. Zero-initialised, so that sweep_close frees
 * whatever was opened, however far sweep_open got: the one cleanup path. */
typedef struct {
  kd_config c;
  kd_grid g;
  kd_scenario_id id;
  char *scenario; /* the setting as INI text, for the meta */
  kd_shard sh;    /* shard: the points this process computes and the CSV it writes */
  kd_backend be;
  double *cost; /* the cost model's, by grid point (kd_sweep_model_memory) */
  double *null_risk; /* by grid point, with generations (kd_sweep_null_risks); else NULL */
  double *risks, *wall;
  size_t rows; /* of every point */
  kd_run_store rs;
  int store_open;
  kd_sweep_problem ps;
  kd_teacher_cache cache;
  kd_row *part; /* --extend: the kept points with fewer trials, to complete */
  size_t n_part;
  struct cJSON *earlier; /* who computed the points kept (kd_run_meta_earlier), or NULL */
} kd_sweep;

/* What the walk writes to, for the points of one run. */
typedef struct {
  const kd_config *c;
  const kd_grid *g;
  kd_backend *be;
  kd_run_store *rs;
  kd_run_meta *meta;
  double *wall;
  const double *cost; /* the cost model's, by grid point (kd_sweep_model_memory) */
  FILE *table;
  kd_progress *pg;
} kd_sweep_ctx;

/* Point i (the j-th of the shard), finished by an earlier run of the same scenario: its
 * rows, as they are. */
void kd_sweep_resume_point(kd_sweep_ctx *x, size_t i, size_t j, const kd_row *done, size_t count);
/* The shard's points in order, until the last or the first error or stop: simulated
 * (kd_sweep_walk) or, --theory-only, theory alone (kd_sweep_walk_theory). */
kd_status kd_sweep_walk(kd_sweep *s, kd_sweep_ctx *x);
kd_status kd_sweep_walk_theory(kd_sweep *s, kd_sweep_ctx *x);

/* ---- --extend (extend.c) ---- */

/* --extend: the run's files afresh, holding the kept points if they have all their
 * trials; else (the run had fewer) kept aside, s->part, to be completed. No run there:
 * as without --extend. */
kd_status kd_sweep_open_extended(kd_sweep *s);

#endif
