/* Saturating size arithmetic for the memory models (host and device): a * b and a + b,
 * or SIZE_MAX when they overflow, so that an absurd shape is refused by the memory check
 * instead of wrapping round to a small allocation. */
#ifndef KDBENCH_SIZE_SAT_H
#define KDBENCH_SIZE_SAT_H

#include <stddef.h>
#include <stdint.h>

static inline size_t kd_mul_sat(size_t a, size_t b) {
  return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}
static inline size_t kd_add_sat(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

#endif
