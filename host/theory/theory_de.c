/* The deterministic-equivalent solve (docs/theory.md#tau-solve): tau from its
 * fixed-point equation, and the statistics df1, df2, Omega at the root. */
#include <float.h>
#include <math.h>

#include "kdbench/theory.h"
#include "internal.h"

enum {
  DE_BLOCK = 128,    /* pairwise summation: plain loop below this length */
  DE_MAX_ITER = 400, /* far above need: bisection alone resolves the bracket in < 200 */
};
/* Stop as soon as |F|/n is this small; the contract is 1e-12 (DE_RESID_MAX). */
static const double DE_TOL = 1e-14;
static const double DE_RESID_MAX = 1e-12;

/* Over one spectrum at one tau: sum zeta, sum (1 - zeta), sum zeta (1 - zeta),
 * sum zeta^2. */
typedef struct {
  double z, zc, zzc, zz;
} de_sums;

/* Pairwise summation (error ~ eps log p): the solve evaluates these sums over up to
 * 1e7 eigenvalues dozens of times, so it is the hot loop; pairwise is both accurate
 * and cheap here. */
static de_sums de_sums_pairwise(const double *lambda, size_t p, double tau) {
  if (p <= DE_BLOCK) {
    de_sums s = {0.0, 0.0, 0.0, 0.0};
    for (size_t i = 0; i < p; ++i) {
      double d = 1.0 / (lambda[i] + tau);
      double z = lambda[i] * d, zc = tau * d;
      s.z += z;
      s.zc += zc;
      s.zzc += z * zc;
      s.zz += z * z;
    }
    return s;
  }
  size_t h = p / 2;
  de_sums a = de_sums_pairwise(lambda, h, tau);
  de_sums b = de_sums_pairwise(lambda + h, p - h, tau);
  return (de_sums){a.z + b.z, a.zc + b.zc, a.zzc + b.zzc, a.zz + b.zz};
}

/* F(tau) = n - df1 - n ridge / tau, increasing in tau. n - df1 equals
 * sum (1 - zeta) - (p - n); the form built on the smaller of the two sums is used, so
 * that for n close to p (df1 ~ p, tau tiny) F keeps digits beyond eps * p. */
static double de_residual(const de_sums *s, size_t p, double n, double ridge, double tau) {
  double core = s->z <= s->zc ? n - s->z : s->zc - ((double)p - n);
  return ridge > 0.0 ? core - n * ridge / tau : core;
}

kd_status kd_check_spectrum(const char *who, const char *name, const double *lambda, size_t p) {
  if (!lambda) return kd_fail(KD_EINVAL, "%s: %s is NULL", who, name);
  for (size_t i = 0; i < p; ++i)
    if (!(isfinite(lambda[i]) && lambda[i] > 0.0))
      return kd_fail(KD_EINVAL, "%s: %s[%zu] = %g must be finite and positive", who, name, i,
                     lambda[i]);
  return KD_OK;
}

static kd_status de_check(const double *lambda, size_t p, double n, double ridge,
                          const kd_de *de) {
  if (!de) return kd_fail(KD_EINVAL, "kd_de_solve: de is NULL");
  if (p == 0) return kd_fail(KD_EINVAL, "kd_de_solve: p = 0 (empty spectrum)");
  if (!(isfinite(n) && n > 0.0))
    return kd_fail(KD_EINVAL, "kd_de_solve: n = %g must be finite and positive", n);
  if (!(isfinite(ridge) && ridge >= 0.0))
    return kd_fail(KD_EINVAL, "kd_de_solve: ridge = %g must be finite and >= 0", ridge);
  return kd_check_spectrum("kd_de_solve", "lambda", lambda, p);
}

/* Fills df1, df2, Omega from the sums at the root. Omega = 1 - df2/n is taken as
 * ridge/tau + sum zeta (1 - zeta) / n (equal at the root: n - df1 = n ridge / tau),
 * which keeps full relative accuracy when Omega is tiny (n close to p). */
static void de_fill(kd_de *de, const de_sums *s, double tau) {
  de->tau = tau;
  de->df1 = s->z;
  de->df2 = s->zz;
  de->omega = de->ridge / tau + s->zzc / de->n;
}

kd_status kd_de_solve(const double *lambda, size_t p, double n, double ridge, kd_de *de) {
  kd_status st = de_check(lambda, p, n, ridge, de);
  if (st != KD_OK) return st;
  *de = (kd_de){.n = n, .ridge = ridge};
  double P = (double)p;
  if (ridge == 0.0 && n >= P) { /* under-parameterised ridgeless: OLS, zeta = 1 */
    de->df1 = de->df2 = P;
    de->omega = 1.0 - P / n;
    return KD_OK;
  }

  kd_acc tr = {0.0, 0.0};
  double lmin = lambda[0];
  for (size_t i = 0; i < p; ++i) {
    kd_acc_add(&tr, lambda[i]);
    lmin = fmin(lmin, lambda[i]);
  }
  /* A bracket with sign change, in closed form (no expansion needed):
   *  - F(tr/n + ridge) > 0 because df1(tau) < tr/tau;
   *  - F(ridge) = -df1(ridge) < 0;
   *  - for p > n, tau <= c lambda_min with c = (p - n)/(2n) gives every zeta_i >=
   *    1/(1 + c), so df1 > n and F < 0 (and the ridge only lowers F). */
  double lo = P > n ? fmax(ridge, 0.5 * lmin * (P - n) / n) : ridge;
  lo = fmax(lo, DBL_TRUE_MIN); /* log(0) would poison the search; a tau below this fails
                                  the residual check instead */
  double hi = kd_acc_sum(&tr) / n + ridge;
  if (!isfinite(hi))
    return kd_fail(KD_EINVAL, "kd_de_solve: sum of lambda / n overflows (%g)", hi);

  /* Safeguarded Newton in t = log tau: F is monotone in t and dF/dt = sum zeta (1 -
   * zeta) + n ridge / tau needs no extra pass. A Newton step leaving the bracket, or
   * one that failed to halve |F|, is replaced by bisection in t. */
  double tlo = log(lo), thi = log(hi), t = 0.5 * (tlo + thi);
  double best_t = t, best_F = INFINITY, F_prev = INFINITY;
  de_sums best = {0.0, 0.0, 0.0, 0.0};
  for (int it = 0; it < DE_MAX_ITER; ++it) {
    double tau = exp(t);
    de_sums s = de_sums_pairwise(lambda, p, tau);
    double F = de_residual(&s, p, n, ridge, tau);
    if (fabs(F) < fabs(best_F)) {
      best_F = F;
      best_t = t;
      best = s;
    }
    if (fabs(F) <= DE_TOL * n) break;
    if (F < 0.0)
      tlo = t;
    else
      thi = t;
    double tn = t - F / (s.zzc + n * ridge / tau);
    int bisect = !(tn > tlo && tn < thi) || fabs(F) > 0.5 * fabs(F_prev);
    if (bisect) tn = 0.5 * (tlo + thi);
    F_prev = bisect ? INFINITY : F; /* after a bisection, give Newton a fresh chance */
    /* t is resolved to about an ulp: no double tau does much better */
    if (tn == t || thi - tlo <= 2.0 * DBL_EPSILON * fmax(1.0, fabs(t))) break;
    t = tn;
  }
  de->resid = fabs(best_F) / n;
  if (!(de->resid < DE_RESID_MAX))
    return kd_fail(KD_ENUM,
                   "kd_de_solve: relative residual %g above %g (p = %zu, n = %g, "
                   "ridge = %g)",
                   de->resid, DE_RESID_MAX, p, n, ridge);
  de_fill(de, &best, exp(best_t));
  return KD_OK;
}
