/* Summaries of a point's trials: mean, standard error, 95 % t-interval, median. */
#ifndef KDBENCH_STATS_H
#define KDBENCH_STATS_H

#include <stddef.h>

typedef struct {
  size_t count;
  double mean, se, ci_low, ci_high, median;
} kd_summary;

/* x is not modified. With one value, se and the interval are NaN. */
void kd_summarize(const double *x, size_t count, kd_summary *out);

#endif
