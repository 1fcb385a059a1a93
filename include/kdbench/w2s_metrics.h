/* Weak-to-strong metrics on risks (docs/theory.md#w2s-metrics): the gain of a student
 * trained on weak labels over one trained on ground-truth labels at the same point,
 * the performance gap recovered (PGR), the misfit between student and weak teacher,
 * and the weak model's best capacity k (theory, docs/theory.md#best-k). */
#ifndef KDBENCH_W2S_METRICS_H
#define KDBENCH_W2S_METRICS_H

#include <stddef.h>

#include "kdbench/stats.h"
#include "kdbench/status.h"
#include "kdbench/theory.h"

typedef enum {
  KD_PGR_OK,
  KD_PGR_NEAR_ZERO, /* |R_weak - R_strong| <= tol: no gap to recover */
  KD_PGR_NEGATIVE,  /* R_weak < R_strong - tol: the weak model beats the strong ceiling */
  KD_PGR_MISSING,   /* an input is NaN (not available) */
} kd_pgr_flag;

/* PGR = (r_weak - r_w2s) / (r_weak - r_strong). The denominator is never divided by
 * when it is near zero or negative (flagged; NaN returned); tol >= 0 says how near
 * (e.g. twice the standard error of the denominator, or a relative 1e-9 for theory). */
double kd_pgr(double r_weak, double r_w2s, double r_strong, double tol, kd_pgr_flag *flag);
/* "" (ok), "gap~0", "gap<0", "n/a": the flag as written in tables and NAME.fit.json. */
const char *kd_pgr_flag_name(kd_pgr_flag f);
/* The inverse of kd_pgr_flag_name; -1 if unknown. */
int kd_pgr_flag_parse(const char *name);

/* Summary (mean, SE, 95 % t-interval) of the paired differences a[t] - b[t] of two
 * pipelines' per-trial risks at one point (their trials share the design). KD_EINVAL
 * unless na == nb >= 2 and every value is finite. */
kd_status kd_paired_diff(const double *a, size_t na, const double *b, size_t nb, kd_summary *out);

/* E ||beta_student - beta_weak||^2_Sigma for a student on n samples (de) trained on
 * labels X beta_w + sigma_lab z, where beta_w has independent coordinates of means mu
 * and variances v (kd_weak_moments). Sequence model (docs/theory.md#sequence-model):
 * beta_student_i = zeta_i beta_w_i + zeta_i gamma g_i / sqrt(n lambda_i), so
 *   misfit = U / Omega + sigma_lab^2 (1 - Omega) / Omega,  U = sum lambda (1 - zeta)^2 (mu^2 + v);
 * ridgeless with n > p + 1 the student is OLS and the misfit is exactly
 * sigma_lab^2 p / (n - p - 1). */
double kd_misfit_w2s(const double *lambda, size_t p, const kd_de *de, const double *mu,
                     const double *v, double sigma_lab);

/* The theory of one weak-to-strong point: the weak model w (m samples, top w->k
 * features) and the student (de) on its labels with noise sigma_lab. */
typedef struct {
  double weak;        /* the weak model's own risk */
  double w2s;         /* the student's risk on the weak labels (exact for a ridgeless
                         student with n > p + 1: then w2s = weak + misfit) */
  double gain;        /* weak - w2s: what the student gains over its teacher */
  double misfit;      /* kd_misfit_w2s */
  size_t best_k;      /* kd_best_k_w2s: the k minimising w2s for this m (w->k ignored) */
  double best_k_risk; /* the student's risk with that k */
} kd_w2s_theory;

kd_status kd_w2s_theory_point(const double *lambda, const double *beta, size_t p, const kd_de *de,
                              const kd_weak_spec *w, double sigma_lab, kd_w2s_theory *out);

#endif
