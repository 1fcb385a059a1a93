/* The wall clock the run's timings use: seconds on a monotonic clock (differences only). */
#ifndef KDBENCH_CLOCK_H
#define KDBENCH_CLOCK_H

double kd_clock_s(void);

#endif
