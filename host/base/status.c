#include "kdbench/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

kd_status kd_fail(kd_status code, const char *fmt, ...) {
  /* Formatted aside first: an argument may be kd_last_error() itself (a reason
   * wrapped in more context), and vsnprintf must not read what it is writing. */
  char buf[sizeof last_error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  memcpy(last_error, buf, sizeof buf);
  return code;
}

const char *kd_last_error(void) { return last_error; }
