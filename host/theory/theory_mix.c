/* Mixed labels (docs/theory.md#mix): a student fitted on rows of which a fraction f
 * carries ground-truth labels and the rest a random teacher's. Its deterministic
 * equivalent and, for the ridgeless student at n > p + 1, its exact expected risk. */
#include <math.h>

#include "kdbench/theory.h"
#include "internal.h"

/* D = E||beta_T - beta*||^2_Sigma over the teacher's coordinate moments. */
static double disagreement(const double *lambda, const double *beta, size_t p,
                           const kd_mix_source *src) {
  kd_acc d = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double e = src->mu[i] - beta[i];
    kd_acc_add(&d, lambda[i] * (e * e + src->v[i]));
  }
  return kd_acc_sum(&d);
}

/* f sigma^2 + (1 - f) teacher_sigma^2: the label noise, row-averaged. */
static double label_noise(const kd_mix_source *s) {
  return s->f * s->sigma * s->sigma + (1 - s->f) * s->teacher_sigma * s->teacher_sigma;
}

double kd_risk_mix(const double *lambda, const double *beta, size_t p, const kd_de *de,
                   const kd_mix_source *src) {
  const double f = src->f, g = 1 - f;
  kd_acc bias = {0.0, 0.0}, unfit = {0.0, 0.0};
  for (size_t i = 0; i < p; ++i) {
    double z, zc;
    kd_zeta_pair(lambda[i], de->tau, &z, &zc);
    double mean = g * src->mu[i] + f * beta[i], var = g * g * src->v[i];
    double e = z * mean - beta[i];
    kd_acc_add(&bias, lambda[i] * (e * e + z * z * var));
    kd_acc_add(&unfit, lambda[i] * zc * zc * (mean * mean + var));
  }
  double noise = label_noise(src) + f * g * disagreement(lambda, beta, p, src);
  return kd_acc_sum(&bias) + kd_var_amp(noise + kd_acc_sum(&unfit), de);
}

double kd_exact_mix_ols(const double *lambda, const double *beta, size_t p, double n,
                        const kd_mix_source *src) {
  const double P = (double)p, f = src->f, g = 1 - f;
  if (!(n > P + 1.0)) return NAN;
  const double D = disagreement(lambda, beta, p, src), den = n - P - 1.0;
  /* the source disagreement x_i'(beta* - beta_T), weighted by row, regressed on X */
  const double c = 2.0 / (n + 2.0) + n * (n + 1.0) * (P - 1.0) / ((n + 2.0) * (n - 1.0) * den);
  return g * g * D + label_noise(src) * P / den + D * f * g * c;
}
