/* G generations of regression on the labels of the generation before
 * (include/kdbench/theory_generations.h, docs/theory.md#generations). */
#include "kdbench/theory_generations.h"

#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "kdbench/theory.h"

static kd_status check(const kd_generation *gen, int G) {
  for (int g = 0; g < G; ++g)
    if (!(gen[g].t >= 1 && isfinite(gen[g].t) && gen[g].ridge >= 0 && isfinite(gen[g].ridge) &&
          gen[g].sigma >= 0 && isfinite(gen[g].sigma)))
      return kd_fail(KD_EINVAL, "generation %d: %g samples, ridge %g, sigma %g", g + 1, gen[g].t,
                     gen[g].ridge, gen[g].sigma);
  return KD_OK;
}

/* A ridgeless fit at its interpolation threshold: infinite expected risk. */
static int at_threshold(const kd_generation *g, size_t p) {
  return g->ridge == 0 && fabs(g->t - (double)p) <= 1;
}

/* One generation's fit in the test metric a (p): a <- Phi(a), returning sigma^2 c(a),
 * where with zeta_j = lambda_j / (lambda_j + tau):
 *   c(a) = sum_j a_j lambda_j / (lambda_j + tau)^2 / (t - df2),
 *   Phi(a)_j = zeta_j^2 a_j + c(a) tau^2 lambda_j / (lambda_j + tau)^2. */
static double step_back(const double *lambda, size_t p, const kd_de *de, double sigma, double *a) {
  const double tau = de->tau;
  double c = 0;
  for (size_t j = 0; j < p; ++j) {
    const double d = lambda[j] + tau;
    c += a[j] * lambda[j] / (d * d);
  }
  c /= de->n - de->df2;
  for (size_t j = 0; j < p; ++j) {
    const double z = kd_zeta(lambda[j], tau), d = lambda[j] + tau;
    a[j] = z * z * a[j] + c * tau * tau * lambda[j] / (d * d);
  }
  return sigma * sigma * c;
}

kd_status kd_generations_de(const double *lambda, const double *beta, size_t p,
                            const kd_generation *gen, int G, double *risk) {
  kd_status st = check(gen, G);
  kd_de *de = malloc(sizeof *de * (size_t)(G > 0 ? G : 1));
  double *a = malloc(sizeof *a * (p ? p : 1));
  if (st == KD_OK && (!de || !a)) st = kd_fail(KD_ENOMEM, "out of memory");
  for (int g = 0; g < G && st == KD_OK; ++g)
    if (!at_threshold(&gen[g], p)) st = kd_de_solve(lambda, p, gen[g].t, gen[g].ridge, &de[g]);
  double null = 0;
  for (size_t j = 0; j < p && st == KD_OK; ++j) null += lambda[j] * beta[j] * beta[j];
  for (int last = 0, peak = 0; last < G && st == KD_OK; ++last) {
    peak |= at_threshold(&gen[last], p);
    if (peak) {
      risk[last] = INFINITY;
      continue;
    }
    /* E b'Sigma b = beta*' diag(a_0) beta* + sum_g sigma_g^2 c_g(a_g), a_last = lambda */
    double noise = 0, quad = 0, cross = 0;
    for (size_t j = 0; j < p; ++j) a[j] = lambda[j];
    for (int g = last; g >= 0; --g) noise += step_back(lambda, p, &de[g], gen[g].sigma, a);
    for (size_t j = 0; j < p; ++j) {
      double shrink = 1; /* E b_j = prod_g zeta_gj beta*_j */
      for (int g = 0; g <= last; ++g) shrink *= kd_zeta(lambda[j], de[g].tau);
      quad += a[j] * beta[j] * beta[j];
      cross += lambda[j] * shrink * beta[j] * beta[j];
    }
    risk[last] = quad + noise - 2 * cross + null;
  }
  free(de);
  free(a);
  return st;
}

static int spectrum_isotropic(const double *lambda, size_t p) {
  int isotropic = 1;
  for (size_t j = 1; j < p; ++j) isotropic &= lambda[j] == lambda[0];
  return isotropic;
}

int kd_generations_exact(const double *lambda, const double *beta, size_t p,
                         const kd_generation *gen, int G, double *risk) {
  const int isotropic = spectrum_isotropic(lambda, p);
  const double P = (double)p;
  for (int g = 0; g < G; ++g) {
    const double t = gen[g].t;
    if (gen[g].ridge != 0 || !(t > P + 1 || (isotropic && t < P - 1))) return 0;
  }
  /* A = E b'Sigma b, C = E b'Sigma beta*, B = beta*'Sigma beta*; R = A - 2 C + B */
  double B = 0;
  for (size_t j = 0; j < p; ++j) B += lambda[j] * beta[j] * beta[j];
  double A = B, C = B;
  for (int g = 0; g < G; ++g) {
    const double t = gen[g].t, s2 = gen[g].sigma * gen[g].sigma;
    if (t > P + 1) {
      A += s2 * P / (t - P - 1);
    } else { /* the projection onto the row space of t isotropic rows */
      const double r = t / P;
      A = r * A + s2 * t / (P - t - 1);
      C *= r;
    }
    risk[g] = A - 2 * C + B;
  }
  return 1;
}

/* V(N) = E tr(Sigma (X'X)^+) for N Gaussian rows: p / (N - p - 1) above p + 1 (any
 * Sigma) and N / (p - N - 1) below p - 1 for an isotropic one (*exact = 1), +inf within
 * 1 of p (exact too: the Gaussian expectation does not exist), else the ridgeless DE
 * df2 / (N - df2) (*exact = 0). */
static kd_status pinv_trace(const double *lambda, size_t p, int isotropic, double N, double *v,
                            int *exact) {
  const double P = (double)p;
  *exact = 1;
  if (N > P + 1) {
    *v = P / (N - P - 1);
  } else if (N >= P - 1) {
    *v = INFINITY;
  } else if (isotropic) {
    *v = N / (P - N - 1);
  } else {
    kd_de de;
    kd_status st = kd_de_solve(lambda, p, N, 0, &de);
    if (st != KD_OK) return st;
    *v = kd_var_amp(1.0, &de);
    *exact = 0;
  }
  return KD_OK;
}

kd_status kd_generations_accumulate(const double *lambda, size_t p, double n, const double *sigma,
                                    int G, double first, double *risk, int *exact) {
  if (!(n >= 1 && isfinite(n)))
    return kd_fail(KD_EINVAL, "kd_generations_accumulate: %g samples a block (at least 1)", n);
  kd_status st = kd_check_spectrum("kd_generations_accumulate", "lambda", lambda, p);
  for (int g = 1; g < G && st == KD_OK; ++g)
    if (!(sigma[g] >= 0 && isfinite(sigma[g])))
      st = kd_fail(KD_EINVAL, "kd_generations_accumulate: block %d: sigma %g", g + 1, sigma[g]);
  const int isotropic = st == KD_OK && spectrum_isotropic(lambda, p);
  double r = first;
  int all_exact = 1;
  for (int g = 0; g < G && st == KD_OK; ++g) {
    if (g && sigma[g] != 0) { /* b_g = b_(g-1) + A_g^+ X_g' sigma_g z_g */
      double v;
      int e;
      st = pinv_trace(lambda, p, isotropic, (g + 1) * n, &v, &e);
      if (st != KD_OK) break;
      r += sigma[g] * sigma[g] * v / (g + 1);
      all_exact &= e;
    }
    risk[g] = r;
    exact[g] = all_exact;
  }
  return st;
}

double kd_location_beats_first(double n0, const double *n, int t) {
  double inv = 0;
  for (int k = 0; k < t; ++k) inv += 1 / n[k];
  return atan(2 / sqrt(n0 * inv)) / M_PI;
}
