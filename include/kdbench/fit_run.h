/* `kdbench fit RUN`: scaling-law fits and weak-to-strong metrics of a stored run
 * (NAME.jsonl + NAME.meta.json, docs/run-format.md), printed as tables and written
 * to NAME.fit.json, which `kdbench report` turns into two more tables (the printers,
 * kd_fit_print among them, are kdbench/report.h).
 *
 *   kdbench fit RUN [--x AXIS] [--window LO:HI] [--bootstrap B] [--seed S] [--no-floor]
 *                   [--out FILE] [--quiet]            (host/cli/fit_cli.c; kdbench fit --help)
 *
 * For every pipeline (and every value of a second swept axis) over the window:
 * risk ~ C x^-exponent by least squares in log-log (host/analysis/fit.c), the exponent's
 * standard error and 95 % interval (bootstrap over trials with --raw risks, else the
 * regression's t-interval), R^2, local exponents; the same fit of the theory column;
 * the continuum-limit exponent and constant (docs/theory.md#continuum). Rows flagged
 * peak or near-peak never enter. Ridgeless rows with label noise are fitted as the
 * excess over the finite-p noise term sigma^2 (1 - Omega)/Omega (the floor,
 * docs/theory.md#noise-floor), unless --no-floor. */
#ifndef KDBENCH_FIT_RUN_H
#define KDBENCH_FIT_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/fit.h"
#include "kdbench/pipeline.h"
#include "kdbench/w2s_metrics.h"

#define KD_FIT_SCHEMA 1

typedef struct {
  const char *x;    /* the axis fitted against; NULL: the run's first (x) axis */
  double lo, hi;    /* the window on x, inclusive; NaN: the default */
  size_t bootstrap; /* replicates; 0: no bootstrap (default 2000) */
  uint64_t seed;    /* of the bootstrap (default 1) */
  int no_floor;     /* fit the risk itself even with label noise */
} kd_fit_options;

void kd_fit_options_default(kd_fit_options *o);

/* One fit: a pipeline over the window, at one value of the other swept axes. */
typedef struct {
  char pipeline[16];
  char group[128]; /* the other swept axes, "p = 500" ("" with one axis) */
  size_t npts;
  double *x, *sim, *theory; /* what was fitted: the mean (theory) less the floor;
                               theory NaN where not available */
  double *floor;            /* the floor subtracted at each point (0: none) */
  kd_powerlaw_fit sim_fit;
  kd_powerlaw_fit theory_fit; /* npts = 0: no theory fit (a theory value missing) */
  char ci_kind[16];           /* "bootstrap", "t" (the regression's t-interval) or "none" */
  double ci_low, ci_high;     /* the 95 % interval reported for the exponent */
  size_t boot_used;           /* bootstrap replicates used (0 without a bootstrap) */
  double cont_exponent, cont_constant; /* continuum limit; NaN where it does not apply */
  double ratio_strong; /* geometric mean of sim / strong's sim over common x (NaN) */
  double ratio_strong_theory, cont_ratio_strong;
} kd_fit_group;

/* Weak-to-strong metrics at one grid point that has a w2s row. */
typedef struct {
  long point;
  size_t n, p, m, k;
  char flag[12];            /* the w2s row's flag ("near-peak" or "") */
  double strong, strong_ci; /* simulated mean and CI half-width (NaN: no row) */
  double w2s, w2s_ci, weak, weak_ci;
  double strong_th, w2s_th, weak_th; /* theory (weak from the engine without a weak row) */
  double ratio, diff, diff_ci;       /* w2s / strong; w2s - strong and its CI half-width */
  int diff_paired;                   /* 1: CI of the per-trial differences (same designs) */
  double pgr, pgr_th;                /* simulated (needs a weak row) and theory PGR */
  kd_pgr_flag pgr_flag, pgr_th_flag;
  double gain_th, misfit_th; /* weak - w2s, and E||b_student - b_weak||^2_Sigma (theory) */
  size_t best_k;             /* theory's best k of the weak model at this m (and n) */
  double best_k_risk;
  size_t best_k_sim; /* the k of least simulated w2s risk among this point's
                        siblings that differ only in k (0: k not swept) */
} kd_w2s_entry;

/* Where w2s meets strong along a swept n or m, the run's other swept axes fixed (its
 * group): the first sign change of the simulated w2s - strong between two neighbouring
 * points, interpolated linearly in log x, and its 95 % interval, the same interpolation
 * of w2s - strong -+ the half-width of its paired 95 % CI (NaN: that end lies beyond the
 * grid, or the run has no interval). side: 0 a crossing (beats: 1 when w2s is below
 * strong after it, i.e. w2s beats strong from `at` on; 0 when above), -1 w2s below strong
 * at every point of the group, +1 above at every point (at NaN). */
typedef struct {
  char axis[4];    /* "n" or "m" */
  char group[128]; /* "k = 50" ("" with no other swept axis) */
  size_t npts;
  double at, ci_low, ci_high;
  int beats, side;
} kd_w2s_crossing;

/* A pipeline with several rows at a grid point (recursive: its generations): the
 * least-squares slope of the mean risk against the step, per point and group, with
 * its 95 % interval: from the per-trial slopes where the run has its per-trial risks
 * (--raw; every step holds the same trials, and the slope is linear in the risks), else
 * the regression's t-interval; and the same slope of the theory. */
typedef struct {
  char pipeline[16];
  char group[KD_GROUP_LEN]; /* the schedule */
  long point;
  size_t n, p;
  int steps;                /* the steps fitted: 1 .. steps */
  double slope, ci_low, ci_high, theory_slope; /* NaN: not available */
  char ci_kind[16];         /* "trials", "t" or "none" */
} kd_fit_steps;

typedef struct {
  char run[256]; /* the stem's last component */
  char scenario_hash[17];
  char x[16];
  double window_lo, window_hi; /* NaN: open */
  char window[256];            /* the window as text, with where it comes from */
  char target[320];            /* what was fitted */
  int floor;                   /* 1 when a floor was subtracted somewhere */
  size_t bootstrap;
  uint64_t seed;
  size_t left_out; /* rows in the window flagged peak or near-peak */
  char **notes;
  size_t nnotes;
  kd_fit_group *groups;
  size_t ngroups;
  kd_w2s_entry *w2s;
  size_t nw2s;
  kd_w2s_crossing *cross; /* along n and along m, where the run sweeps them */
  size_t ncross;
  kd_fit_steps *steps; /* the slopes of the pipelines with several rows (none: NULL, 0) */
  size_t nsteps;
} kd_fit_result;

/* Fits the stored run RUN (its stem or any of its files); warnings (a torn last
 * line) to `log` (may be NULL). One-line errors name the culprit: a missing file,
 * no rows in the window, a fit with fewer than 2 points, a mean below its floor. */
kd_status kd_fit_run(const char *run, const kd_fit_options *o, kd_fit_result *res, FILE *log);
void kd_fit_result_free(kd_fit_result *res);

/* NAME.fit.json (schema KD_FIT_SCHEMA), written through a temporary file; and read
 * back (every number exactly; NaN is null, infinities the strings "inf", "-inf"). */
kd_status kd_fit_write_json(const kd_fit_result *res, const char *path);
kd_status kd_fit_read_json(const char *path, kd_fit_result *res);

/* The label-noise part of a student's risk, sigma^2 (1 - Omega)/Omega (the same for
 * every surrogate; -> sigma^2 (alpha - 1) for n << p on a power law): with ridge 0
 * and n > p + 1 exactly sigma^2 p/(n - p - 1); with ridge 0, an isotropic spectrum
 * and p > n + 1 exactly sigma^2 n/(p - n - 1); else the deterministic equivalent. */
double kd_noise_floor(const kd_de *de, size_t p, int isotropic, double sigma);

/* `kdbench fit ...` with argv[0] = "fit": prints the tables (not with --quiet), writes
 * NAME.fit.json (or --out FILE); returns the exit status (0; 2 for bad input, with
 * "kdbench: REASON" on stderr). */
int kd_fit_main(int argc, char **argv);

#endif
