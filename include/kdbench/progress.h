/* The progress line of a sweep on standard error: points done / total, trials per
 * second, time left (the cost model of what is left, at the pace the computed points
 * kept); per-point timings with verbose. Points taken from the output (resumed) count
 * as done but enter neither the pace nor what is left. */
#ifndef KDBENCH_PROGRESS_H
#define KDBENCH_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *out;
  int line;        /* draw the \r line (a terminal, not quiet) */
  int verbose;     /* a line per point */
  int shown;       /* the line is on the terminal now */
  size_t total, done, resumed;
  double cost_left;                /* the model's cost of the points not done yet */
  double cost_done, trials_done;   /* of the points computed here */
  double t0;
} kd_progress;

/* The cost model, in flop-equivalents (only ratios matter: the progress line
 * calibrates the scale on the points done). One trial's stage on an n x p design:
 * the Gram, its factorisation and the products, the drawing of the design (by entry
 * and by column) and the traffic through it. */
double kd_stage_cost(size_t n, size_t p);
/* A point of `trials` trials whose only stage is the student's n x p one (add
 * trials x kd_stage_cost(m, k) where the weak teacher is fitted), with its fixed
 * overhead (theory, files). Also the shards' balance (host/cluster/shard.c). */
double kd_point_cost(size_t n, size_t p, unsigned trials);

void kd_progress_start(kd_progress *pg, FILE *out, int line, int verbose, size_t total,
                       double cost_total);
/* Erases the line, if drawn, before anything else goes to the terminal (table rows on
 * standard output); the next kd_progress_point draws it again. */
void kd_progress_hide(kd_progress *pg);
/* A point finished (resumed = taken from the output, not computed); `cost` is its
 * share of start's cost_total. Draws the line. */
void kd_progress_point(kd_progress *pg, const char *what, double wall_s, double cost,
                       unsigned trials, int resumed);
void kd_progress_end(kd_progress *pg);

#endif
