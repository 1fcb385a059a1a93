/* Status codes and the last error's reason, in the manner of GSL: every
 * fallible function returns a kd_status and, on failure, leaves a one-line
 * reason naming the culprit in kd_last_error(). */
#ifndef KDBENCH_STATUS_H
#define KDBENCH_STATUS_H

typedef enum {
  KD_OK = 0,
  KD_EINVAL,   /* bad input: a value, a flag, a file's content */
  KD_EIO,      /* a file could not be read or written */
  KD_ENOMEM,   /* an allocation failed, or a size exceeds the machine's memory */
  KD_ENUM,     /* a numerical failure (root not bracketed, LAPACK error) */
  KD_ENODEV,   /* a backend or device is not available */
  KD_ESTOP,    /* stopped on request (SIGINT, SIGTERM) */
} kd_status;

/* Records a printf-style reason and returns `code` (so: return kd_fail(...)). */
kd_status kd_fail(kd_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *kd_last_error(void);

#endif
