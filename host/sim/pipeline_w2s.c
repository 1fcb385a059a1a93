/* w2s: weak to strong. The weak model (m samples of the top k features) learns from
 * the ground truth; the student learns from the weak model's fit, with the teacher's
 * noise. */
#include "internal.h"

static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  const double ex =
      pl->weak.exact ? kd_pipeline_exact(pr, pl, pl->mu, pl->v, pr->teacher_sigma) : -1;
  kd_pipeline_theory(
      value, kind, ex,
      kd_risk_w2s(pr->lambda, pr->beta, pr->p, &pl->de, pl->mu, pl->v, pr->teacher_sigma));
}

const kd_pipeline_type kd_pipeline_w2s = {
    .name = "w2s",
    .chain = {2, {KD_WEAK_STAGE,
                  KD_STUDENT_STAGE(.kind = KD_LABELS_STAGE, .stage = 0,
                                   .noise = KD_NOISE_TEACHER)}},
    .theory = theory,
    .k_column = kd_pipeline_weak_k,
    .m_column = 1,
};
