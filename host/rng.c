/* Bulk generation on the CPU: the same values as kd_rng_normal_at, a Philox call
 * per pair of rows. This file must be compiled with -ffp-contract=off (CMake sets
 * it for the whole project) so that no multiply-add is fused. */
#include "kdbench/rng.h"

void kd_rng_fill(kd_rng_addr a, size_t n, uint32_t col0, size_t ncol,
                 const double *scale, double *Z, size_t ld) {
#pragma omp parallel for schedule(static) if (n * ncol > 65536)
  for (size_t jj = 0; jj < ncol; ++jj) {
    uint32_t ctr[4], key[2], w[4];
    double *col = Z + jj * ld;
    double s = scale ? scale[jj] : 1.0;
    kd_rng_counter(a, 0, col0 + (uint32_t)jj, ctr, key);
    for (size_t i = 0; i < n; i += 2) {
      double z0, z1;
      ctr[0] = (uint32_t)(i >> 1);
      kd_philox4x32_10(ctr, key, w);
      kd_normal_pair(w, &z0, &z1);
      col[i] = scale ? z0 * s : z0;
      if (i + 1 < n) col[i + 1] = scale ? z1 * s : z1;
    }
  }
}

uint32_t kd_hash32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; ++s) {
    h ^= (uint8_t)*s;
    h *= 16777619u;
  }
  return h;
}
