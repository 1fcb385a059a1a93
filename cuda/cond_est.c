/* The condition estimator's host driver (include/kdbench/cond_est.h): the sums of
 * kd_est_sums by plain loops. The CUDA backend drives it through triangular solves on
 * the device for the QR fallback's R (qr_fallback.cu); its tests drive it through
 * LAPACK's solves and compare the estimate with dpocon's and dtrcon's. Plain C, built
 * with or without CUDA. */
#include "kdbench/cond_est.h"

#include <math.h>

static void apply(kd_est_fill f, const kd_est *s, double *x, int32_t *isgn, size_t m) {
  if (f == KD_EST_KEEP) return;
  for (size_t i = 0; i < m; ++i) {
    x[i] = kd_est_value(f, s, x[i], (int64_t)i, (int64_t)m);
    if (f == KD_EST_SIGNS) isgn[i] = (int32_t)x[i];
  }
}

void kd_est_begin(kd_est *s, double *x, int32_t *isgn, size_t m) {
  for (size_t i = 0; i < m; ++i) isgn[i] = 0; /* no sign yet: nothing matches */
  apply(kd_est_start(s), s, x, isgn, m);
}

void kd_est_step(kd_est *s, double *x, int32_t *isgn, size_t m) {
  if (s->kase == 0) return;
  kd_est_sums r = {.asum = 0, .same = 1, .imax = 0, .amax = -1, .xj = x[s->j], .x0 = x[0]};
  for (size_t i = 0; i < m; ++i) {
    const double a = fabs(x[i]);
    r.asum += a;
    if ((x[i] >= 0 ? 1 : -1) != isgn[i]) r.same = 0;
    if (a > r.amax) {
      r.amax = a;
      r.imax = (int32_t)i;
    }
  }
  if (r.amax < 0) r.amax = fabs(x[0]); /* every x_i NaN */
  apply(kd_est_next(s, &r, (int64_t)m), s, x, isgn, m);
}
