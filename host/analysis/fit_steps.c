/* The slopes of the pipelines with several rows at a point (kd_fit_steps,
 * include/kdbench/fit_run.h): risk against step (generation) for each grid point and
 * group (schedule), least squares, with its 95 % interval. */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The least-squares slope of y[0..n) against 1..n. */
static double slope_of(const double *y, int n) {
  const double xbar = (n + 1) / 2.0;
  double sxy = 0, sxx = 0;
  for (int i = 0; i < n; ++i) {
    const double dx = (i + 1) - xbar;
    sxy += dx * y[i];
    sxx += dx * dx;
  }
  return sxy / sxx;
}

/* The regression's t-interval of the slope of y against 1..n (n > 2). */
static void t_interval(const double *y, int n, double slope, double *lo, double *hi) {
  const double xbar = (n + 1) / 2.0;
  double ybar = 0, sxx = 0, rss = 0;
  for (int i = 0; i < n; ++i) ybar += y[i] / n;
  for (int i = 0; i < n; ++i) {
    const double dx = (i + 1) - xbar, r = y[i] - ybar - slope * dx;
    sxx += dx * dx;
    rss += r * r;
  }
  const double half = gsl_cdf_tdist_Pinv(0.975, n - 2.0) * sqrt(rss / (n - 2) / sxx);
  *lo = slope - half, *hi = slope + half;
}

/* The slopes of one group: rows[0..n), steps 1..n in order. */
static void fit_one(const kd_row *const *rows, int n, kd_fit_steps *f) {
  double y[KD_CHAIN_MAX], th[KD_CHAIN_MAX];
  int theory = 1;
  size_t trials = rows[0]->n_risks;
  for (int i = 0; i < n; ++i) {
    y[i] = rows[i]->s.mean;
    th[i] = rows[i]->theory;
    theory &= isfinite(th[i]);
    if (!rows[i]->risks || rows[i]->n_risks != trials) trials = 0;
  }
  f->slope = slope_of(y, n);
  f->theory_slope = theory ? slope_of(th, n) : NAN;
  f->ci_low = f->ci_high = NAN;
  snprintf(f->ci_kind, sizeof f->ci_kind, "none");
  if (trials > 1) { /* the per-trial slopes: their mean is the slope of the means */
    double sum = 0, sum2 = 0;
    for (size_t t = 0; t < trials; ++t) {
      double yt[KD_CHAIN_MAX];
      for (int i = 0; i < n; ++i) yt[i] = rows[i]->risks[t];
      const double b = slope_of(yt, n);
      sum += b, sum2 += b * b;
    }
    const double mean = sum / trials, var = (sum2 - trials * mean * mean) / (trials - 1);
    const double half = gsl_cdf_tdist_Pinv(0.975, trials - 1.0) * sqrt(fmax(var, 0) / trials);
    f->ci_low = f->slope - half, f->ci_high = f->slope + half;
    snprintf(f->ci_kind, sizeof f->ci_kind, "trials");
  } else if (n > 2) {
    t_interval(y, n, f->slope, &f->ci_low, &f->ci_high);
    snprintf(f->ci_kind, sizeof f->ci_kind, "t");
  }
}

kd_status kd_fit_steps_all(kd_fit_ctx *c) {
  const kd_fit_data *d = c->d;
  kd_fit_result *res = c->res;
  const kd_row *group[KD_CHAIN_MAX];
  for (size_t i = 0; i < d->nrows;) {
    const kd_row *r = &d->rows[i];
    size_t j = i + 1; /* the group's rows: written together, steps in order */
    while (j < d->nrows && d->rows[j].point == r->point && d->rows[j].pipeline == r->pipeline &&
           d->rows[j].step > 0 && !strcmp(d->rows[j].group, r->group))
      ++j;
    const int n = (int)(j - i);
    int in_order = r->step == 1 && n <= KD_CHAIN_MAX, flagged = 0;
    for (int s = 0; in_order && s < n; ++s) {
      in_order = d->rows[i + (size_t)s].step == s + 1;
      flagged |= d->rows[i + (size_t)s].flag[0] != 0;
      group[s] = &d->rows[i + (size_t)s];
    }
    if (r->step < 1 || n < 2 || !in_order) {
      i = j;
      continue;
    }
    if (flagged) {
      kd_status st = kd_fit_note(res, "pipeline %s, %s, n = %zu: a step near or at an "
                                 "interpolation peak; its slope is fitted nonetheless",
                                 kd_pipeline_name(r->pipeline), r->group, r->n);
      if (st != KD_OK) return st;
    }
    if (res->nsteps % 16 == 0) {
      kd_fit_steps *grown = realloc(res->steps, sizeof *grown * (res->nsteps + 16));
      if (!grown) return kd_fail(KD_ENOMEM, "fit: out of memory");
      res->steps = grown;
    }
    kd_fit_steps *f = &res->steps[res->nsteps++];
    *f = (kd_fit_steps){.point = (long)r->point, .n = r->n, .p = r->p, .steps = n};
    snprintf(f->pipeline, sizeof f->pipeline, "%s", kd_pipeline_name(r->pipeline));
    snprintf(f->group, sizeof f->group, "%s", r->group);
    fit_one(group, n, f);
    i = j;
  }
  return KD_OK;
}
