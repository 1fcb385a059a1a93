/* strong: the student on ground-truth labels y = X beta* + sigma z. */
#include "internal.h"

static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  kd_pipeline_theory(value, kind, kd_pipeline_exact(pr, pl, pr->beta, NULL, pr->sigma),
                     kd_risk_surrogate(pr->lambda, pr->beta, pr->beta, pr->p, &pl->de, pr->sigma));
}

const kd_pipeline_type kd_pipeline_strong = {
    .name = "strong",
    .chain = {1, {KD_STUDENT_STAGE(.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA)}},
    .theory = theory,
};
