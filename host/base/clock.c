/* Seconds on CLOCK_MONOTONIC, for the progress line and the points' wall times. */
#include "kdbench/clock.h"

#include <time.h>

double kd_clock_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
