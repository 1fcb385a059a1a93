/* What the pipelines' descriptors share for their theory (internal.h): the exact
 * finite-sample risk where one exists, and the choice between it and the DE. Below
 * the descriptors, which call it. */
#include <math.h>

#include "internal.h"

/* E over a random source with coordinate means mu and variances v (v may be NULL) of
 * the exact ridgeless risk, where one exists (docs/theory.md#finite-size); -1 otherwise. */
static double exact_risk(const kd_problem *pr, const kd_point *pt, int isotropic,
                         const double *mu, const double *v, double sigma_lab) {
  size_t p = pr->p;
  double n = (double)pt->n, extra = 0;
  if (pt->ridge != 0) return -1;
  if (n > p + 1.0) {
    if (v)
      for (size_t i = 0; i < p; ++i) extra += pr->lambda[i] * v[i];
    return kd_exact_ols(pr->lambda, pr->beta, mu, p, n, sigma_lab) + extra;
  }
  if (isotropic && p > n + 1.0) {
    if (v)
      for (size_t i = 0; i < p; ++i) extra += v[i];
    return kd_exact_iso_minnorm(pr->lambda[0], pr->beta, mu, p, n, sigma_lab) +
           pr->lambda[0] * (n / p) * extra;
  }
  return -1;
}

static int spectrum_isotropic(const kd_problem *pr) {
  return pr->lambda[0] == pr->lambda[pr->p - 1];
}

double kd_pipeline_exact(const kd_problem *pr, const kd_plan *pl, const double *mu,
                         const double *v, double sigma_lab) {
  return exact_risk(pr, &pl->pt, spectrum_isotropic(pr), mu, v, sigma_lab);
}

void kd_pipeline_theory(double *value, kd_theory_kind *kind, double exact, double de) {
  *kind = exact >= 0 ? KD_THEORY_EXACT : KD_THEORY_DE;
  *value = exact >= 0 ? exact : de;
}

size_t kd_pipeline_weak_k(const kd_plan *pl) { return pl->pt.k; }

const double *kd_pipeline_weak_spectrum(const kd_plan *pl) { return pl->weak_lambda; }

void kd_pipeline_truth_theory(const kd_problem *pr, const kd_plan *pl, double *value,
                              kd_theory_kind *kind) {
  kd_pipeline_theory(value, kind, kd_pipeline_exact(pr, pl, pr->beta, NULL, pr->sigma),
                     kd_risk_surrogate(pr->lambda, pr->beta, pr->beta, pr->p, &pl->de, pr->sigma));
}

kd_curriculum kd_plan_curriculum(const kd_problem *pr, const kd_plan *pl, size_t n) {
  static const kd_curriculum defaults = KD_CURRICULUM_DEFAULTS;
  kd_curriculum c = pl->pt.opts && pl->pt.opts->orders ? pl->pt.opts->curriculum : defaults;
  c.n = n;
  if (c.budget == 0) c.budget = n;
  c.sigma = pr->sigma;
  return c;
}
