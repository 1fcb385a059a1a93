/* The benchmarks' timing harness (bench_cpu_stage, bench_stage): a warm-up, then
 * repetitions until a budget of samples and seconds is met; the median, minimum and
 * quartiles of the samples; and the flop model of a stage. */
#ifndef KDBENCH_BENCH_TIMING_H
#define KDBENCH_BENCH_TIMING_H

#include <stddef.h>

typedef struct {
  unsigned min_samples;   /* stop once this many samples ... */
  double min_time;        /* ... and this many seconds are in; */
  double max_time;        /* or once this many seconds ... */
  unsigned floor_samples; /* ... and this many samples are in */
} budget;

typedef struct {
  unsigned count;
  double median, min, q1, q3, total; /* seconds */
} timing;

/* Seconds spent in the timed part of one repetition (rep 0 = warm-up), < 0 on failure. */
typedef double (*timed_fn)(void *ctx, unsigned rep);

/* A monotonic clock, in seconds (kd_clock_s). */
double now(void);
/* "NxP" or "NxP:RIDGE" (n, p >= 1, ridge >= 0, default 0) -> n, p, ridge; 0 on success. */
int parse_shape_arg(const char *text, size_t *n, size_t *p, double *ridge);
/* malloc that exits, naming the size, when it fails. */
void *xmalloc(size_t bytes);
/* Sorts t[0 .. count) and summarises it. */
void summarize(double *t, unsigned count, timing *out);
/* One warm-up, then repetitions 1, 2, ... until the budget is met. 0 on success. */
int measure(timed_fn fn, void *ctx, const budget *b, timing *out);

/* The flop model of a stage (bench/README.md), m = min(n, p), M = max(n, p), k
 * right-hand sides: m^2 M + m^3/3 + 2 m^2 k + 2 n p k + [p > n] 2 n p k. */
double model_flops(size_t n, size_t p, size_t k);

#endif
