/* The axes a sweep can vary, as one table: each axis's name (its flag, its INI key and
 * its CSV column), whether it is an integer, and the grid it takes when it is swept
 * without values. Adding an axis: a line here and in host/scenario/axis.c, its field in
 * kd_grid_point (grid.h) and kd_config, its column in the rows (store/run_rows.c). */
#ifndef KDBENCH_AXIS_H
#define KDBENCH_AXIS_H

#include <stddef.h>

typedef enum {
  KD_AXIS_N, KD_AXIS_P, KD_AXIS_M, KD_AXIS_K, KD_AXIS_RIDGE, KD_AXIS_ALPHA, KD_AXIS_SIGMA,
  KD_AXIS_REAL_FRACTION,
  KD_AXIS_STUDENT_FEATURES,
  KD_NAXES
} kd_axis;

typedef struct {
  const char *name;           /* flag --NAME, INI key, CSV column (its '-' a '_') */
  int integer;                /* a count (samples, features): rounded, de-duplicated */
  const char *default_values; /* swept without values: this axis text ("1e-4:1:log9");
                               * NULL for n, k and student-features, whose defaults
                               * depend on p (grid.c) */
} kd_axis_type;

extern const kd_axis_type kd_axes[KD_NAXES];

const char *kd_axis_name(kd_axis a);
/* "n" -> KD_AXIS_N; -1 when unknown. */
int kd_axis_parse(const char *name);
/* Integer axes (n, p, m, k, student-features) are rounded and de-duplicated. */
int kd_axis_is_integer(kd_axis a);
/* kd_axes[a].default_values (NULL for an unknown axis). */
const char *kd_axis_default_values(kd_axis a);
/* "n, p, m, k, ridge, alpha, sigma or real-fraction": the axes' names, for messages. */
void kd_axis_names(char *buf, size_t len);

#endif
