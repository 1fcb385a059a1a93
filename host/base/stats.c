#include "kdbench/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void kd_summarize(const double *x, size_t count, kd_summary *out) {
  out->count = count;
  out->mean = out->se = out->ci_low = out->ci_high = out->median = NAN;
  if (count == 0) return;
  out->mean = gsl_stats_mean(x, 1, count);
  double *sorted = malloc(sizeof(double) * count);
  if (sorted) {
    memcpy(sorted, x, sizeof(double) * count);
    gsl_sort(sorted, 1, count);
    out->median = gsl_stats_median_from_sorted_data(sorted, 1, count);
    free(sorted);
  }
  if (count < 2) return;
  out->se = gsl_stats_sd_m(x, 1, count, out->mean) / sqrt((double)count);
  double t = gsl_cdf_tdist_Pinv(0.975, (double)(count - 1));
  out->ci_low = out->mean - t * out->se;
  out->ci_high = out->mean + t * out->se;
}

void kd_wilson(size_t hits, size_t count, double *low, double *high) {
  if (count == 0) {
    *low = *high = NAN;
    return;
  }
  const double z = 1.959963984540054, n = (double)count, f = (double)hits / n;
  const double centre = (f + z * z / (2 * n)) / (1 + z * z / n);
  const double half = z * sqrt(f * (1 - f) / n + z * z / (4 * n * n)) / (1 + z * z / n);
  *low = fmax(0.0, centre - half);
  *high = fmin(1.0, centre + half);
}

void kd_beats_fraction(const double *x, const double *ref, size_t count, double *fraction,
                       double *low, double *high) {
  size_t hits = 0;
  for (size_t t = 0; t < count; ++t) hits += x[t] < ref[t];
  *fraction = count ? (double)hits / (double)count : NAN;
  kd_wilson(hits, count, low, high);
}
