/* The progress line of a sweep on standard error: points done / total, trials per
 * second, time left (weighted by the flop model); per-point timings with verbose. */
#ifndef KDBENCH_PROGRESS_H
#define KDBENCH_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *out;
  int line;        /* draw the \r line (a terminal, not quiet) */
  int verbose;     /* a line per point */
  size_t total, done;
  double cost_total, cost_done, t0, trials_done;
} kd_progress;

/* Cost of a point under the flop model: trials x (Gram + labels) of an n x p stage. */
double kd_point_cost(size_t n, size_t p, unsigned trials);

void kd_progress_start(kd_progress *pg, FILE *out, int line, int verbose, size_t total,
                       double cost_total);
/* A point finished (resumed = taken from the output, not computed). */
void kd_progress_point(kd_progress *pg, const char *what, double wall_s, double cost,
                       unsigned trials, int resumed);
void kd_progress_end(kd_progress *pg);

#endif
