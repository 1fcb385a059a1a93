/* The axes' table (include/kdbench/axis.h). */
#include "kdbench/axis.h"

#include <stdio.h>
#include <string.h>

/* The default grids are also in --help (host/cli/cli.c) and the README. */
const kd_axis_type kd_axes[KD_NAXES] = {
    [KD_AXIS_N] = {"n", 1, NULL},
    [KD_AXIS_P] = {"p", 1, "100,200,500,1000,2000"},
    [KD_AXIS_M] = {"m", 1, "500,1000,2000,5000,10000,20000"},
    [KD_AXIS_K] = {"k", 1, NULL},
    [KD_AXIS_RIDGE] = {"ridge", 0, "1e-4:1:log9"},
    [KD_AXIS_ALPHA] = {"alpha", 0, "1.25,1.5,2,3,4"},
    [KD_AXIS_SIGMA] = {"sigma", 0, "0,0.1,0.25,0.5,1"},
    [KD_AXIS_REAL_FRACTION] = {"real-fraction", 0, "0:1:lin5"},
    [KD_AXIS_STUDENT_FEATURES] = {"student-features", 1, NULL},
};

const char *kd_axis_name(kd_axis a) { return (unsigned)a < KD_NAXES ? kd_axes[a].name : "?"; }

int kd_axis_parse(const char *name) {
  for (int a = 0; a < KD_NAXES; ++a)
    if (strcmp(name, kd_axes[a].name) == 0) return a;
  return -1;
}

int kd_axis_is_integer(kd_axis a) { return (unsigned)a < KD_NAXES && kd_axes[a].integer; }

const char *kd_axis_default_values(kd_axis a) {
  return (unsigned)a < KD_NAXES ? kd_axes[a].default_values : NULL;
}

void kd_axis_names(char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int a = 0; a < KD_NAXES && used < len; ++a)
    used += (size_t)snprintf(buf + used, len - used, "%s%s",
                             a == 0 ? "" : a == KD_NAXES - 1 ? " or " : ", ", kd_axes[a].name);
}
