/* Philox4x32-10 known answers (Random123's kat_vectors), exact uniform edge
 * cases, the portable log/sincos against libm, and the moments of the normals. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Bit-for-bit equality (distinguishes -0.0 from 0.0, unlike ==). */
static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Makes p the bulk path for this test, or skips the test, saying why, on a CPU (or a
 * build) that cannot run it. */
static void use_path(kd_rng_path p) {
  if (!kd_rng_path_runs(p))
    cr_skip_test("this CPU cannot run the %s path of the generator", kd_rng_path_name(p));
  cr_assert_geq(kd_rng_use_path(p), 0);
}

/* Column j of a fill (ld >= n) against the pointwise reference, bit for bit. */
static void expect_reference(kd_rng_addr a, size_t n, uint32_t col0, size_t ncol,
                             const double *scale, const double *Z, size_t ld) {
  for (size_t j = 0; j < ncol; ++j)
    for (size_t i = 0; i < n; ++i) {
      double want = kd_rng_normal_at(a, i, col0 + (uint32_t)j) * (scale ? scale[j] : 1.0);
      cr_assert(same_bits(Z[i + j * ld], want), "%s n=%zu col %u (%zu, %zu): %.17g vs %.17g",
                kd_rng_path_name(kd_rng_current_path()), n, col0, i, j, Z[i + j * ld], want);
    }
}

/* Every column length from 1 to 70 (odd ones leave half a pair; short ones have no
 * whole SIMD block), a few longer ones, against the pointwise reference, with and
 * without column scales. */
static void all_lengths(kd_rng_path path) {
  use_path(path);
  const size_t lengths[] = {1, 2, 3, 31, 32, 33, 63, 64, 65, 127, 1001};
  double scale[3] = {0.75, 1.0, 3e-3};
  double *Z = malloc(sizeof(double) * 1001 * 3);
  cr_assert_not_null(Z);
  for (size_t c = 0; c < 70 + sizeof lengths / sizeof lengths[0]; ++c) {
    size_t n = c < 70 ? c + 1 : lengths[c - 70];
    kd_rng_addr a = {.seed = 0x9e3779b97f4a7c15ULL ^ n, .point = (uint32_t)(1000 + n),
                     .trial = (uint32_t)(n * 7919), .purpose = (uint32_t)(n & 0xff)};
    const double *sc = (n & 1) ? scale : NULL;
    kd_rng_fill(a, n, (uint32_t)(n * 3), 3, sc, Z, n);
    expect_reference(a, n, (uint32_t)(n * 3), 3, sc, Z, n);
  }
  kd_rng_use_path(KD_RNG_PATHS);
  free(Z);
}

/* 400 streams drawn at random (seed, point, trial, purpose), each with a random column
 * length 1..300 (every tail a SIMD block can leave), a random first column anywhere in
 * 0..2^32-3 and a leading dimension above n (nothing written between columns). */
static void many_streams(kd_rng_path path) {
  use_path(path);
  enum { STREAMS = 400, NMAX = 300, NCOL = 2, PAD = 3 };
  double *Z = malloc(sizeof(double) * (NMAX + PAD) * NCOL);
  cr_assert_not_null(Z);
  uint64_t x = 0x2545f4914f6cdd1dULL;
  for (int s = 0; s < STREAMS; ++s) {
    uint64_t r[4];
    for (int i = 0; i < 4; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
      r[i] = x;
    }
    kd_rng_addr a = {.seed = r[0], .point = (uint32_t)r[1],
                     .trial = (uint32_t)(r[1] >> 32) % KD_MAX_TRIALS,
                     .purpose = (uint32_t)r[2] & 0xff};
    size_t n = 1 + (size_t)(r[2] >> 32) % NMAX, ld = n + PAD;
    uint32_t col0 = (uint32_t)(r[3] % 0xfffffffeULL);
    double scale[NCOL] = {1.0, 1.0 / (1.0 + (double)(r[3] >> 40))};
    for (size_t i = 0; i < ld * NCOL; ++i) Z[i] = -1.0;
    kd_rng_fill(a, n, col0, NCOL, (s & 1) ? scale : NULL, Z, ld);
    expect_reference(a, n, col0, NCOL, (s & 1) ? scale : NULL, Z, ld);
    for (size_t j = 0; j < NCOL; ++j)
      for (size_t i = n; i < ld; ++i)
        cr_assert_eq(Z[i + j * ld], -1.0, "row %zu of column %zu written (n = %zu)", i, j, n);
  }
  kd_rng_use_path(KD_RNG_PATHS);
  free(Z);
}

/* 2 x 1M values in parallel fills: the path agrees with the generic one everywhere, and
 * with the reference on a sample. */
static void equals_generic_large(kd_rng_path path) {
  use_path(path);
  const size_t n = 2001, p = 500;
  double *a = malloc(sizeof(double) * n * p), *b = malloc(sizeof(double) * n * p);
  double *scale = malloc(sizeof(double) * p);
  cr_assert(a && b && scale);
  for (size_t j = 0; j < p; ++j) scale[j] = 1.0 / (double)(j + 1);
  for (int s = 0; s < 2; ++s) {
    kd_rng_addr addr = {.seed = 1 + (uint64_t)s, .point = 0xdeadbeef, .trial = 77, .purpose = 1};
    kd_rng_use_path(KD_RNG_GENERIC);
    kd_rng_fill(addr, n, 5, p, s ? scale : NULL, a, n);
    kd_rng_use_path(path);
    kd_rng_fill(addr, n, 5, p, s ? scale : NULL, b, n);
    cr_expect_eq(memcmp(a, b, sizeof(double) * n * p), 0, "the %s and generic paths differ",
                 kd_rng_path_name(path));
    for (size_t i = 0; i < n * p; i += 997) {
      size_t row = i % n, col = i / n;
      double want = kd_rng_normal_at(addr, row, (uint32_t)(5 + col)) * (s ? scale[col] : 1.0);
      cr_assert(same_bits(b[i], want), "(%zu, %zu)", row, col);
    }
  }
  kd_rng_use_path(KD_RNG_PATHS);
  free(a);
  free(b);
  free(scale);
}

Test(rng_paths, generic_all_lengths) { all_lengths(KD_RNG_GENERIC); }
Test(rng_paths, avx2_all_lengths) { all_lengths(KD_RNG_AVX2); }
Test(rng_paths, avx512_all_lengths) { all_lengths(KD_RNG_AVX512); }
Test(rng_paths, generic_many_streams) { many_streams(KD_RNG_GENERIC); }
Test(rng_paths, avx2_many_streams) { many_streams(KD_RNG_AVX2); }
Test(rng_paths, avx512_many_streams) { many_streams(KD_RNG_AVX512); }
Test(rng_paths, avx2_equals_generic_large) { equals_generic_large(KD_RNG_AVX2); }
Test(rng_paths, avx512_equals_generic_large) { equals_generic_large(KD_RNG_AVX512); }

/* The default is the fastest path the CPU runs; the generic path always runs; a path
 * that does not exist is refused and changes nothing. */
Test(rng_paths, default_is_fastest_and_bad_paths_are_refused) {
  kd_rng_path best = KD_RNG_GENERIC;
  for (int p = 0; p < KD_RNG_PATHS; ++p)
    if (kd_rng_path_runs((kd_rng_path)p)) best = (kd_rng_path)p;
  cr_expect(kd_rng_path_runs(KD_RNG_GENERIC));
  cr_expect_eq(kd_rng_current_path(), best, "in use: %s, fastest: %s",
               kd_rng_path_name(kd_rng_current_path()), kd_rng_path_name(best));
  cr_expect_eq(kd_rng_use_path(KD_RNG_GENERIC), (int)best);
  cr_expect_eq(kd_rng_use_path((kd_rng_path)(KD_RNG_PATHS + 1)), -1);
  cr_expect_eq(kd_rng_current_path(), KD_RNG_GENERIC);
  cr_expect_eq(kd_rng_use_path(KD_RNG_PATHS), (int)KD_RNG_GENERIC);
  cr_expect_eq(kd_rng_current_path(), best);
}

/* Words chosen for the edges of the transform: the extreme uniforms (u1 = 2^-53 and
 * u1 = 1, whose integer 2^53 has bit 53 set), the mantissa of u1 on either side of
 * sqrt(2) (the log's range reduction), and the angle at every quadrant boundary
 * (q = 0..4, r = -1/4 and just below 1/4); then pseudo-random words. */
static void edge_words(kd_rng_path path) {
  use_path(path);
  enum { COUNT = 1024 };
  uint32_t *w = malloc(sizeof(uint32_t) * 4 * COUNT);
  double *got = malloc(sizeof(double) * 2 * COUNT);
  cr_assert(w && got);
  uint64_t u1k[] = {0, 1, (1ULL << 53) - 2, (1ULL << 53) - 1, (1ULL << 52) - 1, 1ULL << 52,
                    (uint64_t)(1.41421356237309504880 * 0x1p52) - 2,
                    (uint64_t)(1.41421356237309504880 * 0x1p52) - 1,
                    (uint64_t)(1.41421356237309504880 * 0x1p52),
                    (uint64_t)(1.41421356237309504880 * 0x1p51) - 1,
                    (uint64_t)(1.41421356237309504880 * 0x1p51)};
  const size_t nu = sizeof u1k / sizeof u1k[0];
  uint64_t x = 0x243f6a8885a308d3ULL;
  for (size_t i = 0; i < COUNT; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t k1 = i < nu ? u1k[i] : (x >> 11);
    uint64_t k2;
    if (i < 5 * 8) { /* quadrant q = i / 8, offsets around its edges */
      const int64_t off[8] = {-(1LL << 50), -(1LL << 50) + 1, -1, 0, 1, (1LL << 50) - 2,
                              (1LL << 50) - 1, 3};
      int64_t v = (int64_t)((i / 8) << 51) + off[i % 8];
      k2 = v < 0 ? 0 : (v >= (int64_t)(1ULL << 53) ? (1ULL << 53) - 1 : (uint64_t)v);
    } else {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      k2 = x >> 11;
    }
    /* the words behind each 53-bit integer; the 11 discarded bits are arbitrary */
    w[4 * i] = (uint32_t)(k1 >> 21);
    w[4 * i + 1] = (uint32_t)((k1 & 0x1fffff) << 11) | (uint32_t)(i & 0x7ff);
    w[4 * i + 2] = (uint32_t)(k2 >> 21);
    w[4 * i + 3] = (uint32_t)((k2 & 0x1fffff) << 11) | (uint32_t)((i * 37) & 0x7ff);
  }
  for (size_t count = COUNT; count >= COUNT - 9; --count) { /* every tail of 8 lanes */
    kd_normals_from_words(w, count, got);
    for (size_t i = 0; i < count; ++i) {
      double z0, z1;
      kd_normal_pair(w + 4 * i, &z0, &z1);
      cr_assert(same_bits(got[2 * i], z0) && same_bits(got[2 * i + 1], z1),
                "%s word set %zu: (%.17g, %.17g) vs (%.17g, %.17g)",
                kd_rng_path_name(path), i, got[2 * i], got[2 * i + 1], z0, z1);
    }
  }
  kd_rng_use_path(KD_RNG_PATHS);
  free(w);
  free(got);
}

Test(rng_paths, generic_edge_words) { edge_words(KD_RNG_GENERIC); }
Test(rng_paths, avx2_edge_words) { edge_words(KD_RNG_AVX2); }
Test(rng_paths, avx512_edge_words) { edge_words(KD_RNG_AVX512); }
