/* The effective configuration of a run (a "scenario"): problem, student, teacher,
 * sweep axes, trials, backend and outputs.
 *
 * Every setting has one name, the same as its command-line flag (without the
 * dashes) and its key in a scenario file, and one setter, kd_config_set, used by the
 * command line, scenario files and presets alike. Text is copied into the config,
 * so a config can be copied by assignment and owns nothing. */
#ifndef KDBENCH_CONFIG_H
#define KDBENCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/axis.h"
#include "kdbench/pipeline.h"
#include "kdbench/chain.h"
#include "kdbench/problem.h"
#include "kdbench/status.h"

#define KD_MAX_SWEPT 2
#define KD_K_ALL ((size_t)-1) /* --k all: the weak model sees every feature (k = p) */
#define KD_TEXT_LEN 2048

/* One item of an axis's values (kd_axis_values gives the grammar): a number, or a
 * range A:B:logN, A:B:linN or A:B:pow2. */
typedef enum { KD_ITEM_NUMBER, KD_ITEM_LOG, KD_ITEM_LIN, KD_ITEM_POW2 } kd_axis_item_kind;
typedef struct {
  kd_axis_item_kind kind;
  uint32_t count; /* logN, linN: N */
  double a, b;    /* a number: a; a range: A and B */
} kd_axis_item;

/* An axis's values as parsed once, and checked, by kd_axis_spec_parse: the items in
 * the order given (count 0: none given, the axis's default). Expanded by
 * kd_axis_spec_values, which parses nothing. A text shorter than KD_TEXT_LEN holds at
 * most KD_TEXT_LEN / 2 items ("1,1,..."), so every accepted text fits. */
#define KD_AXIS_MAX_ITEMS (KD_TEXT_LEN / 2)
typedef struct {
  size_t count;
  kd_axis_item item[KD_AXIS_MAX_ITEMS];
} kd_axis_spec;

/* What a run does: a sweep (default) or the weights (include/kdbench/weights.h). */
typedef enum { KD_JOB_SWEEP, KD_JOB_WEIGHTS } kd_job;

/* How a scenario is run and where it is written: nothing of it determines the
 * numbers, so none of it is hashed or printed canonically (kd_config_print). */
typedef struct {
  kd_job job;
  char backend[16];      /* cpu | cuda | auto */
  char csv[KD_TEXT_LEN]; /* the run's CSV; the other files sit beside it */
  int fit;               /* kdbench fit on the run when it is complete */
  char shard[24];        /* host/cluster/shard.c: "I/N", "off", or "" (the Slurm array task, if any) */
  int quiet, verbose, force; /* presentation: command line only, not part of a scenario */
  int extend; /* keep the points (and trials) of the run at csv of the same scenario but for
                 the swept axes' values and fewer trials (host/sweep/extend.c) */
  int test_risk;         /* --risk test: the live table shows test risk (excess + sigma^2) */
} kd_run_opts;

/* What determines the numbers (hashed through kd_config_print's canonical text), and
 * how to run it. */
typedef struct {
  /* problem: the spectrum and beta* as given (printed) and as parsed once by
   * kd_config_set (the canonical print, hence the hash, is made of these); the specs'
   * alpha, signal_exp and path are left out (NULL, unused): kd_config_spectrum and
   * kd_config_beta give whole specs, whose paths point into the texts */
  char spectrum[KD_TEXT_LEN]; /* powerlaw | isotropic[:L] | twolevel:K,A,B | file:PATH */
  char beta[KD_TEXT_LEN];     /* powerlaw | gauss | file:PATH */
  kd_spectrum_spec spectrum_spec;
  kd_beta_spec beta_spec;
  size_t p;                   /* 0 with a spectrum file and no p given: the file's length */
  double alpha, signal_exp, sigma;
  double teacher_sigma;       /* < 0: the same as sigma */
  /* student and teacher */
  double ridge;
  double real_fraction;       /* the mix's share of ground-truth rows, in [0, 1] */
  /* the features pipeline's student: s features (0: all p) in an order, plus q
   * pure-noise features of variance rho (defaults: all, head, 0, 1) */
  size_t student_features;
  kd_feature_order feature_order;
  size_t noise_features;
  double noise_level;
  size_t m, k;                /* k = 0: the theory-optimal k; KD_K_ALL: every feature */
  double weak_ridge;          /* the weak model's ridge; < 0: the theory-optimal one */
  /* the weak model's own design spectrum Sigma_s (covariance shift), as given and parsed
   * (the grammar of spectrum); "" = the student's. weak_alpha: its power-law exponent,
   * 0 = the point's alpha (a weak-alpha alone means weak-spectrum powerlaw) */
  char weak_spectrum[KD_TEXT_LEN];
  kd_spectrum_spec weak_spectrum_spec;
  double weak_alpha;
  unsigned pipelines;
  kd_pipe_opts pipe_opts;     /* the options of the pipelines that have any (recursive) */
  /* sweep */
  int n_swept;
  kd_axis swept[KD_MAX_SWEPT];      /* swept[0] is the x axis: the inner loop */
  /* an axis's values parsed once by kd_config_set (the grid and the checks read them),
   * and as given (only printed: a scenario file keeps the user's ranges); "" = default */
  kd_axis_spec axis_values[KD_NAXES];
  char values[KD_NAXES][KD_TEXT_LEN];
  uint32_t trials;
  uint64_t seed;
  int raw;                    /* per-trial risks in the JSON Lines (a row holds them) */
  int theory_only;            /* rows of theory alone: no trials, no backend (hashed too) */
  kd_run_opts run;            /* how to run: never hashed */
} kd_config;



/* Sets one setting by its name ("p", "signal-exp", "sweep", "csv", ...) from text.
 * The error names the setting and the text. Axis settings (n, p, m, k, ridge, alpha,
 * sigma, real-fraction) accept a single value or, when the axis is swept, a list/range (see
 * kd_axis_values). */
kd_status kd_config_set(kd_config *c, const char *name, const char *text);
/* 1 when `name` is a setting kd_config_set knows; its scenario-file section in *section. */
int kd_config_known(const char *name, const char **section);

/* Whether c sweeps axis a. */
int kd_config_swept(const kd_config *c, kd_axis a);
/* Forgets the values text of every axis c does not sweep, but n (whose single value
 * is its only setting), keeping the scalar: what a preset sets for such an axis is
 * the default of a run, not the values of a later --sweep of it, which then takes
 * the axis's default grid. */
void kd_config_unswept_as_defaults(kd_config *c);

/* Cross-setting checks once everything is set: a list given for an axis that is
 * not swept, k > p, a p axis with a spectrum file, ... */
kd_status kd_config_check(const kd_config *c);

/* The spectrum and beta* specs of the config (their paths point into c). */
kd_status kd_config_spectrum(const kd_config *c, kd_spectrum_spec *s);
/* The weak model's spectrum spec at the point's alpha; 0 when the config has none (the
 * weak model draws from the student's spectrum), 1 when *s is filled. */
int kd_config_weak_spectrum(const kd_config *c, double alpha, kd_spectrum_spec *s);
kd_status kd_config_beta(const kd_config *c, kd_beta_spec *b);
/* The problem of the config at p features, power-law exponent alpha (ignored for other
 * spectra) and the given noise levels, with the weak model's spectrum where it has one. */
kd_status kd_config_problem(const kd_config *c, size_t p, double alpha, double sigma,
                            double teacher_sigma, kd_problem *pr);

/* Writes the config as a scenario file (INI), which kd_scenario_load reads back to
 * the same config. With `canonical`, only what determines the numbers (no run or
 * output section, no comments), printed from the typed values (spectrum, beta*,
 * scalars; a swept axis's values are the grid's points, hashed with it): the text the
 * scenario hash is taken of, one for every spelling of a scenario. */
void kd_config_print(const kd_config *c, FILE *out, int canonical);

/* The values of an axis from its text: comma-separated items, each a number (the
 * grammar of include/kdbench/number.h; blanks around an item ignored) or a range
 * A:B:logN (N log-spaced values from A to B), A:B:linN (N evenly spaced) or A:B:pow2
 * (the powers of two from A to B); a range must have A <= B and at least one value;
 * at most 10000 values in all. Integer axes are rounded; every axis is de-duplicated
 * (first occurrence kept). Caller frees *v. */
kd_status kd_axis_values(kd_axis a, const char *text, double **v, size_t *count);
/* The same in two steps: the text parsed and checked into *s (left as it was on an
 * error), then the values of *s (expanded, rounded, de-duplicated; fails only for
 * memory). Caller frees *v. */
kd_status kd_axis_spec_parse(kd_axis a, const char *text, kd_axis_spec *s);
kd_status kd_axis_spec_values(kd_axis a, const kd_axis_spec *s, double **v, size_t *count);
/* 1 when *s is one number (no list, no range), that number in *x (x may be NULL). */
int kd_axis_spec_single(const kd_axis_spec *s, double *x);

#endif
