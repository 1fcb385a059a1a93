/* What the pipelines' descriptors (host/pipeline_*.c) share: the exact finite-sample
 * risk where one exists, the choice between it and the deterministic equivalent, and
 * the two stages of the paper's pipelines. */
#ifndef KDBENCH_PIPELINE_INTERNAL_H
#define KDBENCH_PIPELINE_INTERNAL_H

#include "kdbench/pipeline.h"

/* E over a random label source with coordinate means mu and variances v (v may be NULL)
 * of the student's exact ridgeless risk at the point, where one exists
 * (docs/theory.md#finite-size); -1 otherwise. */
double kd_pipeline_exact(const kd_problem *pr, const kd_plan *pl, const double *mu,
                         const double *v, double sigma_lab);
/* *value = exact (*kind exact) when exact >= 0, else de (*kind DE). */
void kd_pipeline_theory(double *value, kd_theory_kind *kind, double exact, double de);
/* The theory of the student on ground-truth labels at the point (strong's; the first
 * generation of recursive's). */
void kd_pipeline_truth_theory(const kd_problem *pr, const kd_plan *pl, double *value,
                              kd_theory_kind *kind);
/* The curriculum of the point's SGD stages on n samples (include/kdbench/curriculum.h):
 * the scenario's (kd_point.opts) or, without one, KD_CURRICULUM_DEFAULTS; its budget 0
 * resolved to n, its noise the problem's. */
kd_curriculum kd_plan_curriculum(const kd_problem *pr, const kd_plan *pl, size_t n);
/* The rows' k column of the weak model's pipelines: the point's k. */
size_t kd_pipeline_weak_k(const kd_plan *pl);

/* The student: the swept n samples of every feature, the point's ridge, learning from
 * the labels whose kd_labels fields are the arguments. */
#define KD_STUDENT_STAGE(...)                                                       \
  {.stream = KD_STREAM_STUDENT, .samples = {.kind = KD_SAMPLES_N},                  \
   .features = {.kind = KD_FEATURES_ALL}, .solver = {.ridge = KD_RIDGE_STUDENT},    \
   .labels = {__VA_ARGS__}}

/* The weak model's design spectrum: the plan's weak_lambda (NULL: the problem's). */
const double *kd_pipeline_weak_spectrum(const kd_plan *pl);

/* The weak model: m samples of the top k features drawn from its own spectrum (the
 * problem's, or Sigma_s under a covariance shift), the weak ridge, on ground-truth
 * labels with the problem's noise. */
#define KD_WEAK_STAGE                                                               \
  {.stream = KD_STREAM_WEAK, .samples = {.kind = KD_SAMPLES_M},                     \
   .spectrum = kd_pipeline_weak_spectrum, .features = {.kind = KD_FEATURES_TOP_K},  \
   .solver = {.ridge = KD_RIDGE_WEAK},                                              \
   .labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}}

#endif
