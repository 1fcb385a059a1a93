/* Stopping a run on SIGINT or SIGTERM. The signal sets a flag that the trial loops
 * poll between trials (the point in flight is abandoned, the finished ones are on
 * disk); where a trial does not come back in time (a long BLAS call, OpenBLAS
 * retrying an allocation for ever), a watchdog thread ends the process
 * KD_STOP_GRACE_S seconds after the signal, with the same exit status (128 + the
 * signal) and a one-line message, once no point is being written. A second signal
 * kills at once. */
#ifndef KDBENCH_STOP_H
#define KDBENCH_STOP_H

#include <signal.h>

#define KD_STOP_GRACE_S 2

/* Catches SIGINT and SIGTERM and starts the watchdog; `run` (the run's CSV) is named
 * in the watchdog's message. */
void kd_stop_arm(const char *run);
/* Restores the handlers of before and stops the watchdog. */
void kd_stop_disarm(void);
/* The signal that came since kd_stop_arm (0: none), for the trial loops to poll. */
volatile sig_atomic_t *kd_stop_flag(void);
/* Between hold and unhold a point's rows and metadata are written: the watchdog waits
 * for unhold, so that a forced stop never leaves half a point. */
void kd_stop_hold(void);
void kd_stop_unhold(void);

#endif
