/* The problem model: a diagonal covariance (the spectrum), a ground truth beta*
 * and label noise. Conventions (fixed, written into every output):
 *   - Sigma = diag(lambda_1 >= ... >= lambda_p > 0), eigenbasis coordinates;
 *   - risk = excess risk (b - beta*)^T Sigma (b - beta*); test risk = risk + sigma^2;
 *   - ridge minimises (1/n)||y - X b||^2 + lambda ||b||^2 (so the Gram gets n*lambda). */
#ifndef KDBENCH_PROBLEM_H
#define KDBENCH_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/status.h"

typedef enum {
  KD_SPEC_POWERLAW, /* lambda_i = i^-alpha */
  KD_SPEC_ISOTROPIC,/* lambda_i = level_a */
  KD_SPEC_TWOLEVEL, /* lambda_i = level_a for i <= strong, level_b after */
  KD_SPEC_FILE,     /* one eigenvalue per line, non-increasing */
} kd_spectrum_kind;

typedef enum {
  KD_BETA_POWERLAW, /* lambda_i beta*_i^2 = i^-signal_exp, beta*_i > 0 */
  KD_BETA_GAUSS,    /* beta*_i ~ N(0, 1/p), drawn from the seed */
  KD_BETA_FILE,     /* one value per line, p lines */
} kd_beta_kind;

typedef struct {
  kd_spectrum_kind kind;
  double alpha;           /* power law */
  size_t strong;          /* two-level: number of strong features */
  double level_a, level_b;/* two-level levels (isotropic uses level_a) */
  const char *path;       /* file */
} kd_spectrum_spec;

typedef struct {
  kd_beta_kind kind;
  double signal_exp;      /* power law: the b of lambda_i beta_i^2 = i^-b */
  const char *path;       /* file */
} kd_beta_spec;

typedef struct {
  size_t p;
  double *lambda;         /* p eigenvalues, non-increasing */
  double *lambda_w;       /* the weak model's design spectrum Sigma_s (p eigenvalues in the
                             same basis as lambda: jointly diagonal), NULL: lambda; the
                             risk is measured under lambda either way */
  double *beta;           /* p coordinates of beta* */
  double sigma;           /* noise of ground-truth labels */
  double teacher_sigma;   /* noise of surrogate (teacher) labels */
} kd_problem;

/* The range of the scales kdbench computes with, checked where each is read (the
 * limits are listed in README.md, "Limits"):
 *   - every eigenvalue lambda_i in [KD_SCALE_MIN, KD_SCALE_MAX];
 *   - every signal share lambda_i beta*_i^2, the ridge and the noise variances sigma^2
 *     at most KD_SCALE_MAX.
 * The stages form sums over the p features and n samples of these values, their
 * products and their ratios (ridge / lambda_i <= 1e200; tau / (lambda_i + tau) <= 1),
 * which for any p and n that fit in memory stay below about 1e220: finite, with room
 * for the squares the risks' spread takes. Beyond them a stage overflowed or
 * underflowed (inf or 0 in the middle of a run) instead of refusing the input. */
#define KD_SCALE_MIN 1e-100
#define KD_SCALE_MAX 1e100
#define KD_SIGMA_MAX 1e50 /* sqrt(KD_SCALE_MAX): sigma^2 <= KD_SCALE_MAX */
/* log2(1 / KD_SCALE_MIN): a power law's p^-alpha >= KD_SCALE_MIN fails for every p >= 2
 * above it, so a setting can refuse it where it is read (the bound for the p of a run,
 * 100 / log10 p, is kd_spectrum_check's). */
#define KD_ALPHA_MAX 332.19280948873623

/* The checks a spectrum passes before it is built: levels in [KD_SCALE_MIN,
 * KD_SCALE_MAX] and in order, alpha > 0; with p != 0 also what depends on p (the
 * power law's smallest eigenvalue p^-alpha >= KD_SCALE_MIN, two-level's strong <= p).
 * The error names the setting ("alpha = ...", "isotropic level ..."). */
kd_status kd_spectrum_check(const kd_spectrum_spec *s, size_t p);
/* Fills lambda[0..p). A file spectrum sets *p from the file when *p == 0, and must
 * otherwise have exactly *p lines. Errors name the file and line. */
kd_status kd_spectrum_build(const kd_spectrum_spec *s, size_t *p, double **lambda);
/* beta*[0..p) for the spectrum lambda. A file must have p values, each keeping
 * lambda_i beta*_i^2 <= KD_SCALE_MAX (the error names the file and line). */
kd_status kd_beta_build(const kd_beta_spec *b, size_t p, const double *lambda,
                        uint64_t seed, double **beta);
/* Both of the above, plus the noise levels (each in [0, KD_SIGMA_MAX]). */
kd_status kd_problem_init(kd_problem *pr, const kd_spectrum_spec *s,
                          const kd_beta_spec *b, size_t p, double sigma,
                          double teacher_sigma, uint64_t seed);
/* Sigma_s, the weak model's own design spectrum (covariance shift), built from `s` at
 * the problem's p into pr->lambda_w (a file must have p lines). */
kd_status kd_problem_weak_spectrum(kd_problem *pr, const kd_spectrum_spec *s);
void kd_problem_free(kd_problem *pr);

/* Reads a file of one double per line (blank lines and lines starting with '#'
 * skipped). `eigenvalues` != 0 takes only values in [KD_SCALE_MIN, KD_SCALE_MAX].
 * With `lines`, (*lines)[i] is the line of value i (caller frees). */
kd_status kd_read_vector_file(const char *path, int eigenvalues, double **out, size_t *count,
                              size_t **lines);

#endif
