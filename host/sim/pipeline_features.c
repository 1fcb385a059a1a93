/* features: the student on ground-truth labels, seeing only the point's student
 * features: the first s of the plan's order (head, tail or random), then q pure-noise
 * features of variance rho. The signal it does not see reaches its labels as extra
 * noise and counts in its risk, measured on the full Sigma (and on the noise features'
 * coefficients). */
#include <math.h>

#include "internal.h"

static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  const kd_student_features *f = &pl->pt.features;
  int exact = 0;
  *value = NAN;
  *kind = KD_THEORY_DE;
  if (kd_risk_features(pr->lambda, pr->beta, pr->p, pl->order, f->count ? f->count : pr->p,
                       f->noise, f->level, (double)pl->pt.n, pl->pt.ridge, pr->sigma, value,
                       &exact) == KD_OK)
    *kind = exact ? KD_THEORY_EXACT : KD_THEORY_DE;
}

const kd_pipeline_type kd_pipeline_features = {
    .name = "features",
    .chain = {1, {{.stream = KD_STREAM_STUDENT, .samples = {.kind = KD_SAMPLES_N},
                   .features = {.kind = KD_FEATURES_STUDENT},
                   .solver = {.ridge = KD_RIDGE_STUDENT},
                   .labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}}}},
    .theory = theory,
    .features_column = 1,
};
