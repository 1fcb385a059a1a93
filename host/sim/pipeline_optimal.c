/* optimal: the student on labels of the optimal surrogate beta^s = g .* beta* (it
 * amplifies the head and shrinks the tail), with the teacher's noise. */
#include "internal.h"

static const double *surrogate(const kd_plan *pl) { return pl->beta_opt; }

static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  kd_pipeline_theory(value, kind,
                     kd_pipeline_exact(pr, pl, pl->beta_opt, NULL, pr->teacher_sigma),
                     kd_risk_optimal(pr->lambda, pr->beta, pr->p, &pl->de, pr->teacher_sigma));
}

const kd_pipeline_type kd_pipeline_optimal = {
    .name = "optimal",
    .chain = {1, {KD_STUDENT_STAGE(.kind = KD_LABELS_SURROGATE, .surrogate = surrogate,
                                   .noise = KD_NOISE_TEACHER)}},
    .theory = theory,
};
