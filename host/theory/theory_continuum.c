/* Scaling-law constants in the continuum limit (docs/theory.md#continuum):
 * lambda_i = i^-alpha, lambda_i beta_i^2 = i^-b, p -> inf, ridgeless, noiseless,
 *   E(n) ~ C n^-(b-1),  C = A1^(b-1) int_0^inf u^-b h(u) du,  zeta(u) = 1/(1 + u^alpha). */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>

#include "kdbench/theory.h"

enum { QUAD_LIMIT = 1000 };
static const double QUAD_EPSREL = 1e-11;

/* int_0^inf u^-b h(u) du in two halves that leave only algebraic weights singular:
 * on [0, 1], u^-b h(u) = u^(2 alpha - b) head(u); on [1, inf), with u = 1/t, the
 * integral is int_0^1 t^(b-2) tail(t) dt. head and tail are smooth on [0, 1] (and
 * beyond), and qaws integrates the weights x^w exactly (Chebyshev moments), so the
 * constants stay accurate as b approaches 1 or 2 alpha + 1 (both weights -> x^-1). */
typedef enum { H_STANDARD, H_OPTIMAL } h_kind;

typedef struct {
  double alpha;
  h_kind kind;
} h_params;

/* standard: h = alpha (1 - zeta)^2 = alpha u^2a / (1 + u^a)^2;
 * optimal:  h = (1 - Om) u^2a / (Om + (1 - Om) u^2a), Om = 1/alpha. */
static double head(double u, void *params) {
  const h_params *q = params;
  double ua = pow(u, q->alpha), om = 1.0 / q->alpha;
  if (q->kind == H_OPTIMAL) return (1.0 - om) / (om + (1.0 - om) * ua * ua);
  return q->alpha / ((1.0 + ua) * (1.0 + ua));
}

/* h(1/t) */
static double tail(double t, void *params) {
  const h_params *q = params;
  double ta = pow(t, q->alpha), om = 1.0 / q->alpha;
  if (q->kind == H_OPTIMAL) return (1.0 - om) / (om * ta * ta + 1.0 - om);
  return q->alpha / ((1.0 + ta) * (1.0 + ta));
}

/* int_0^hi x^w f(x) dx; `w` is the exponent the qaws table was made for. */
static kd_status quad(double (*f)(double, void *), h_params *q, double hi, double w,
                      gsl_integration_qaws_table *table, gsl_integration_workspace *ws,
                      double *out) {
  gsl_function fn = {.function = f, .params = q};
  double err;
  int rc =
      gsl_integration_qaws(&fn, 0.0, hi, table, 0.0, QUAD_EPSREL, QUAD_LIMIT, ws, out, &err);
  if (rc != GSL_SUCCESS)
    return kd_fail(KD_ENUM, "kd_continuum_limit: quadrature of x^%g f(x) on [0, %g] failed: %s",
                   w, hi, gsl_strerror(rc));
  return KD_OK;
}

/* The three integrals (before the factor A1^(b-1)). The mask keeps u < u_star, where
 * h is the standard one; beyond, h = 1 and the integral is u_star^(1-b)/(b-1). */
static kd_status integrals(kd_continuum *c, double alpha, double b,
                           gsl_integration_workspace *ws) {
  double wh = 2.0 * alpha - b, wt = b - 2.0; /* both > -1 */
  gsl_integration_qaws_table *th = gsl_integration_qaws_table_alloc(wh, 0.0, 0, 0);
  gsl_integration_qaws_table *tt = gsl_integration_qaws_table_alloc(wt, 0.0, 0, 0);
  kd_status st = KD_OK;
  if (!th || !tt) st = kd_fail(KD_ENOMEM, "kd_continuum_limit: no quadrature tables");
  h_params standard = {alpha, H_STANDARD}, optimal = {alpha, H_OPTIMAL};
  double std_head = 0, std_tail = 0, opt_head = 0, opt_tail = 0, kept = 0;
  if (st == KD_OK) st = quad(head, &standard, 1.0, wh, th, ws, &std_head);
  if (st == KD_OK) st = quad(tail, &standard, 1.0, wt, tt, ws, &std_tail);
  if (st == KD_OK) st = quad(head, &optimal, 1.0, wh, th, ws, &opt_head);
  if (st == KD_OK) st = quad(tail, &optimal, 1.0, wt, tt, ws, &opt_tail);
  if (st == KD_OK) st = quad(head, &standard, c->u_star, wh, th, ws, &kept);
  if (th) gsl_integration_qaws_table_free(th);
  if (tt) gsl_integration_qaws_table_free(tt);
  c->c_strong = std_head + std_tail;
  c->c_optimal = opt_head + opt_tail;
  c->c_mask = kept + pow(c->u_star, 1.0 - b) / (b - 1.0);
  return st;
}

kd_status kd_continuum_limit(double alpha, double b, kd_continuum *out) {
  if (!out) return kd_fail(KD_EINVAL, "kd_continuum_limit: out is NULL");
  if (!(isfinite(alpha) && alpha > 1.0))
    return kd_fail(KD_EINVAL, "kd_continuum_limit: alpha = %g must be finite and > 1", alpha);
  if (!(isfinite(b) && b > 1.0))
    return kd_fail(KD_EINVAL, "kd_continuum_limit: b = %g must be finite and > 1", b);
  kd_continuum c = {.A1 = (M_PI / alpha) / sin(M_PI / alpha), .omega = 1.0 / alpha};
  /* keep iff (1 - zeta)^2 < 1/alpha  <=>  u < u_star */
  c.u_star = pow(1.0 / (1.0 - sqrt(1.0 / alpha)) - 1.0, 1.0 / alpha);
  /* At b >= 2 alpha + 1 the integrals diverge at u = 0: the head of the spectrum,
   * not the scale n, sets the risk, and the rate saturates at n^-2alpha (at equality
   * with a log factor). */
  if (b >= 2.0 * alpha + 1.0) {
    c.exponent = 2.0 * alpha;
    c.c_strong = c.c_optimal = c.c_mask = NAN;
    *out = c;
    return KD_OK;
  }
  c.exponent = b - 1.0;
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(QUAD_LIMIT);
  if (!ws) return kd_fail(KD_ENOMEM, "kd_continuum_limit: no quadrature workspace");
  /* GSL's default handler aborts; failures are reported through kd_status instead. */
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  kd_status st = integrals(&c, alpha, b, ws);
  gsl_set_error_handler(old);
  gsl_integration_workspace_free(ws);
  if (st != KD_OK) return st;
  double scale = pow(c.A1, b - 1.0);
  c.c_strong *= scale;
  c.c_optimal *= scale;
  c.c_mask *= scale;
  *out = c;
  return KD_OK;
}
