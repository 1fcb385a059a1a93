/* mask: the student on labels of the optimal 0-1 mask of beta* (its top k* features),
 * with the teacher's noise; its rows' k is the mask's size. */
#include "internal.h"

static const double *surrogate(const kd_plan *pl) { return pl->beta_mask; }
static size_t mask_size(const kd_plan *pl) { return pl->k_mask; }

static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  kd_pipeline_theory(
      value, kind, kd_pipeline_exact(pr, pl, pl->beta_mask, NULL, pr->teacher_sigma),
      kd_risk_surrogate(pr->lambda, pr->beta, pl->beta_mask, pr->p, &pl->de, pr->teacher_sigma));
}

const kd_pipeline_type kd_pipeline_mask = {
    .name = "mask",
    .chain = {1, {KD_STUDENT_STAGE(.kind = KD_LABELS_SURROGATE, .surrogate = surrogate,
                                   .noise = KD_NOISE_TEACHER)}},
    .theory = theory,
    .k_column = mask_size,
};
