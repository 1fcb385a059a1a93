/* Philox4x32-10 known answers (Random123's kat_vectors), exact uniform edge
 * cases, the portable log/sincos against libm, and the moments of the normals. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "kdbench/rng.h"

static void check_kat(const uint32_t ctr[4], const uint32_t key[2], const uint32_t want[4]) {
  uint32_t out[4];
  kd_philox4x32_10(ctr, key, out);
  for (int i = 0; i < 4; ++i)
    cr_expect_eq(out[i], want[i], "word %d: got %08x want %08x", i, out[i], want[i]);
}

Test(philox, known_answer_zero) {
  const uint32_t c[4] = {0, 0, 0, 0}, k[2] = {0, 0};
  const uint32_t w[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
  check_kat(c, k, w);
}

Test(philox, known_answer_ones) {
  const uint32_t c[4] = {~0u, ~0u, ~0u, ~0u}, k[2] = {~0u, ~0u};
  const uint32_t w[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
  check_kat(c, k, w);
}

Test(philox, known_answer_pi) {
  const uint32_t c[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
  const uint32_t k[2] = {0xa4093822, 0x299f31d0};
  const uint32_t w[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
  check_kat(c, k, w);
}

Test(uniform, edge_cases) {
  /* all-zero words: smallest values; all-one words: largest. */
  cr_expect_eq(kd_bits53(0, 0), 0);
  cr_expect_eq(kd_uniform_open0(kd_bits53(0, 0)), 0x1p-53);
  cr_expect_eq(kd_uniform_open1(kd_bits53(0, 0)), 0.0);
  cr_expect_eq(kd_bits53(~0u, ~0u), (1ULL << 53) - 1);
  cr_expect_eq(kd_uniform_open0(kd_bits53(~0u, ~0u)), 1.0);
  cr_expect_eq(kd_uniform_open1(kd_bits53(~0u, ~0u)), 1.0 - 0x1p-53);
}

Test(portable_math, log_matches_libm) {
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    double u = kd_uniform_open0(((uint64_t)i * 0x9E3779B97F4A7C15ULL) >> 11);
    double got = kd_log(u), want = log(u);
    double err = fabs(got - want) / fmax(fabs(want), 1e-300);
    if (err > worst) worst = err;
  }
  cr_expect_lt(worst, 4e-16, "worst relative error of kd_log: %g", worst);
}

Test(portable_math, sincos_matches_libm) {
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    uint64_t k = ((uint64_t)i * 0x9E3779B97F4A7C15ULL) >> 11;
    double s, c;
    kd_sincos2pi_bits(k, &s, &c);
    double x = 2 * M_PI * kd_uniform_open1(k);
    worst = fmax(worst, fmax(fabs(s - sin(x)), fabs(c - cos(x))));
  }
  cr_expect_lt(worst, 1e-15, "worst absolute error of sincos: %g", worst);
}

Test(normals, moments) {
  const size_t n = 1000, p = 400;
  double *Z = malloc(sizeof(double) * n * p);
  kd_rng_addr a = {.seed = 42, .point = 7, .trial = 3, .purpose = KD_PURPOSE_DESIGN};
  kd_rng_fill(a, n, 0, p, NULL, Z, n);
  double m1 = 0, m2 = 0, m4 = 0, N = (double)(n * p);
  for (size_t i = 0; i < n * p; ++i) {
    m1 += Z[i];
    m2 += Z[i] * Z[i];
    m4 += Z[i] * Z[i] * Z[i] * Z[i];
  }
  m1 /= N; m2 /= N; m4 /= N;
  /* 5 standard errors: sd(mean) = 1/sqrt(N), sd(m2) = sqrt(2/N), sd(m4) = sqrt(96/N) */
  cr_expect_lt(fabs(m1), 5 / sqrt(N));
  cr_expect_lt(fabs(m2 - 1), 5 * sqrt(2 / N));
  cr_expect_lt(fabs(m4 - 3), 5 * sqrt(96 / N));
  free(Z);
}

Test(normals, bulk_fill_equals_pointwise) {
  const size_t n = 37, p = 5; /* odd n: the last pair is half used */
  double Z[37 * 5], scale[5] = {1, 0.5, 0.25, 2, 3};
  kd_rng_addr a = {.seed = 0x123456789abcdefULL, .point = 99, .trial = 12345, .purpose = 17};
  kd_rng_fill(a, n, 10, p, scale, Z, n);
  for (size_t j = 0; j < p; ++j)
    for (size_t i = 0; i < n; ++i)
      cr_assert_eq(Z[i + j * n], kd_rng_normal_at(a, i, (uint32_t)(10 + j)) * scale[j],
                   "mismatch at (%zu, %zu)", i, j);
}

Test(normals, streams_differ) {
  kd_rng_addr a = {.seed = 1, .point = 1, .trial = 0, .purpose = 0};
  kd_rng_addr b = a, c = a, d = a;
  b.trial = 1; c.purpose = 1; d.seed = 2;
  double x = kd_rng_normal_at(a, 0, 0);
  cr_expect_neq(x, kd_rng_normal_at(b, 0, 0));
  cr_expect_neq(x, kd_rng_normal_at(c, 0, 0));
  cr_expect_neq(x, kd_rng_normal_at(d, 0, 0));
  cr_expect_neq(x, kd_rng_normal_at(a, 0, 1));
  cr_expect_neq(x, kd_rng_normal_at(a, 2, 0));
}
