/* The progress line: redrawn in place after every point, erased while anything else
 * is written to the terminal. */
#include "kdbench/progress.h"

#include "kdbench/clock.h"

/* The cost model's constants, in flops: a least-squares fit of the wall time of a
 * trial, t = a (lo^2 hi + lo^3/3 + 4 n p) + b n p + c p, over strong points of the
 * CPU backend (n 20..1600, p 100..1600, 100 trials side by side on 2 cores: within
 * 25 % of each), KD_COST_ENTRY = b/a and KD_COST_COLUMN = c/a; and about 10 ms a point
 * for its theory and its files. An entry of the design costs that much beside the Gram
 * because it is drawn (Philox and Box-Muller) and then streamed through memory by
 * every product; a column, its generator's set-up. Points of the default sweep come
 * within a factor of 2 of it, the weak teacher's m x k stages included. */
#define KD_COST_ENTRY 350.0
#define KD_COST_COLUMN 9000.0
#define KD_COST_POINT 4e8

double kd_stage_cost(size_t n, size_t p) {
  double a = (double)n, b = (double)p, lo = a < b ? a : b, hi = a < b ? b : a;
  return lo * lo * hi + lo * lo * lo / 3 + 4 * a * b + KD_COST_ENTRY * a * b + KD_COST_COLUMN * b;
}

double kd_point_cost(size_t n, size_t p, unsigned trials) {
  return KD_COST_POINT + (double)trials * kd_stage_cost(n, p);
}

void kd_progress_start(kd_progress *pg, FILE *out, int line, int verbose, size_t total,
                       double cost_total) {
  *pg = (kd_progress){.out = out, .line = line, .verbose = verbose, .total = total,
                      .cost_left = cost_total, .t0 = kd_clock_s()};
}

void kd_progress_hide(kd_progress *pg) {
  if (!pg->shown) return;
  fputs("\r\033[K", pg->out);
  fflush(pg->out);
  pg->shown = 0;
}

static void clock_text(double s, char *buf, size_t len) {
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void kd_progress_point(kd_progress *pg, const char *what, double wall_s, double cost,
                       unsigned trials, int resumed) {
  ++pg->done;
  pg->cost_left -= cost;
  if (resumed) {
    ++pg->resumed;
  } else {
    pg->cost_done += cost;
    pg->trials_done += trials;
  }
  if (pg->verbose) {
    kd_progress_hide(pg);
    if (resumed) fprintf(pg->out, "kdbench: point %zu/%zu %s: already done\n", pg->done, pg->total, what);
    else
      fprintf(pg->out, "kdbench: point %zu/%zu %s: %.3f s (%.3g trials/s)\n", pg->done, pg->total,
              what, wall_s, wall_s > 0 ? trials / wall_s : 0);
  }
  if (!pg->line) return;
  fprintf(pg->out, "\r\033[Kkdbench: %zu/%zu points", pg->done, pg->total);
  if (pg->resumed) fprintf(pg->out, " (%zu already done)", pg->resumed);
  /* the pace of the points computed so far (seconds per unit of cost), applied to the
   * cost of the points left: none computed yet, no pace */
  double elapsed = kd_clock_s() - pg->t0;
  if (pg->cost_done > 0 && elapsed > 0) {
    char left[32];
    clock_text(elapsed / pg->cost_done * (pg->cost_left > 0 ? pg->cost_left : 0), left,
               sizeof left);
    fprintf(pg->out, ", %.3g trials/s, about %s left", pg->trials_done / elapsed, left);
  }
  fflush(pg->out);
  pg->shown = 1;
}

void kd_progress_end(kd_progress *pg) { kd_progress_hide(pg); }
