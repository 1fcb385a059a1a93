/* Summaries of a point's trials: mean, standard error, 95 % t-interval, median; the
 * fraction of trials in which one row beats another, with its Wilson interval. */
#ifndef KDBENCH_STATS_H
#define KDBENCH_STATS_H

#include <stddef.h>

typedef struct {
  size_t count;
  double mean, se, ci_low, ci_high, median;
} kd_summary;

/* x is not modified. With one value, se and the interval are NaN. */
void kd_summarize(const double *x, size_t count, kd_summary *out);

/* The Wilson score interval (z = 1.959963984540054: 95 %) of `hits` successes in
 * `count` trials, in [0, 1]; NaN for count = 0. */
void kd_wilson(size_t hits, size_t count, double *low, double *high);
/* The fraction of the count trials in which x[t] < ref[t] (NaN trials count as not
 * lower), and its Wilson 95 % interval. */
void kd_beats_fraction(const double *x, const double *ref, size_t count, double *fraction,
                       double *low, double *high);

#endif
