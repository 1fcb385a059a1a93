/* weak: the weak model of w2s itself, m samples of the top k features on ground-truth
 * labels; its risk counts the signal of the features it does not see. */
#include "internal.h"

static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  const double ew = kd_risk_weak(pr->lambda, pr->beta, pr->p, pl->mu, pl->v);
  kd_pipeline_theory(value, kind, pl->weak.exact ? ew : -1, ew);
}

const kd_pipeline_type kd_pipeline_weak = {
    .name = "weak",
    .chain = {1, {KD_WEAK_STAGE}},
    .theory = theory,
    .k_column = kd_pipeline_weak_k,
    .m_column = 1,
};
