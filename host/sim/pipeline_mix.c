/* mix: the weak model of w2s as a teacher, and a student whose n rows are a mix: the
 * first round(f n) carry ground-truth labels (noise sigma), the rest the teacher's
 * (noise teacher sigma), f the point's real fraction. f = 0 is w2s and f = 1 is strong,
 * exactly: the same designs, the same right-hand side. */
#include "internal.h"

static const kd_labels_mix real_and_teacher = {
    .parts = 2,
    .part = {{.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA},
             {.kind = KD_LABELS_STAGE, .stage = 0, .noise = KD_NOISE_TEACHER}},
    .from_point = 1,
};

/* The ridgeless student at n > p + 1: the exact formula, exact as far as the teacher's
 * moments are (and whatever they are at f = 1, where the teacher labels no row); the
 * deterministic equivalent elsewhere. */
static void theory(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind) {
  const kd_point *pt = &pl->pt;
  const size_t real = kd_mix_rows(pt->real_fraction, pt->n);
  const kd_mix_source src = {.mu = pl->mu, .v = pl->v, .f = (double)real / (double)pt->n,
                             .sigma = pr->sigma, .teacher_sigma = pr->teacher_sigma};
  const int ols = pt->ridge == 0 && (double)pt->n > (double)pr->p + 1;
  *value = ols ? kd_exact_mix_ols(pr->lambda, pr->beta, pr->p, (double)pt->n, &src)
               : kd_risk_mix(pr->lambda, pr->beta, pr->p, &pl->de, &src);
  *kind = ols && (pl->weak.exact || real == pt->n) ? KD_THEORY_EXACT : KD_THEORY_DE;
}

const kd_pipeline_type kd_pipeline_mix = {
    .name = "mix",
    .chain = {2, {KD_WEAK_STAGE,
                  KD_STUDENT_STAGE(.kind = KD_LABELS_MIX, .noise = KD_NOISE_SIGMA,
                                   .mix = &real_and_teacher)}},
    .theory = theory,
    .k_column = kd_pipeline_weak_k,
    .m_column = 1,
};
