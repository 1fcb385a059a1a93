/* The progress line: redrawn in place after every point. */
#include "kdbench/progress.h"

#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double kd_point_cost(size_t n, size_t p, unsigned trials) {
  double a = (double)n, b = (double)p, lo = a < b ? a : b;
  return (double)trials * (lo * lo * (a + b) + 8 * a * b + lo * lo * lo / 3);
}

void kd_progress_start(kd_progress *pg, FILE *out, int line, int verbose, size_t total,
                       double cost_total) {
  *pg = (kd_progress){.out = out, .line = line, .verbose = verbose, .total = total,
                      .cost_total = cost_total, .t0 = now()};
}

static void clock_text(double s, char *buf, size_t len) {
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void kd_progress_point(kd_progress *pg, const char *what, double wall_s, double cost,
                       unsigned trials, int resumed) {
  ++pg->done;
  pg->cost_total -= resumed ? cost : 0; /* resumed points are not part of the estimate */
  if (!resumed) {
    pg->cost_done += cost;
    pg->trials_done += trials;
  }
  if (pg->verbose) {
    if (pg->line) fputs("\r\033[K", pg->out);
    if (resumed) fprintf(pg->out, "kdbench: point %zu/%zu %s: already done\n", pg->done, pg->total, what);
    else
      fprintf(pg->out, "kdbench: point %zu/%zu %s: %.3f s (%.0f trials/s)\n", pg->done, pg->total,
              what, wall_s, wall_s > 0 ? trials / wall_s : 0);
  }
  if (!pg->line) return;
  double elapsed = now() - pg->t0;
  char left[32] = "?";
  if (pg->cost_done > 0) clock_text(elapsed * (pg->cost_total - pg->cost_done) / pg->cost_done, left, sizeof left);
  fprintf(pg->out, "\r\033[Kkdbench: %zu/%zu points, %.0f trials/s, about %s left", pg->done,
          pg->total, elapsed > 0 ? pg->trials_done / elapsed : 0, left);
  fflush(pg->out);
}

void kd_progress_end(kd_progress *pg) {
  if (pg->line) {
    fputs("\r\033[K", pg->out);
    fflush(pg->out);
  }
}
