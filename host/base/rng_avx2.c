/* The generator's AVX2 bulk path: exactly the values of kd_rng_normal_at (rng.h), 16 row
 * pairs per step.
 *
 * Philox in 32-bit lanes (8 per register; the 32 x 32 -> 64-bit products by vpmuludq on
 * even and odd lanes), Box-Muller in 64-bit lanes, every lane performing the IEEE
 * operations of the scalar reference in the same order. AVX2 has no int64 <-> double
 * conversion, so every conversion is done exactly through the 2^52 exponent trick on
 * values below 2^52 (the 53-bit uniform as w0 2^21 + (w1 >> 11) + 1, both parts exact,
 * their sum exact). No FMA target is enabled and the file is compiled with
 * -ffp-contract=off, so nothing can be contracted. */
#include "internal.h"

#if KD_RNG_X86
#include <immintrin.h>

#define KD_AVX2 __attribute__((target("avx2")))
#define KD_BLOCK 16 /* row pairs per step: 2 registers of 8 lanes per Philox word */

/* hi and lo words of the 32 x 32-bit products a_l * m (m broadcast in every lane). */
KD_AVX2 static inline void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo) {
  __m256i pe = _mm256_mul_epu32(a, m);                        /* lanes 0, 2, 4, 6 */
  __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m); /* lanes 1, 3, 5, 7 */
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
  *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

/* Philox4x32-10 of the counters {t0 + l, c1, c2, c3}, l < 16: w[word][half]. */
KD_AVX2 static inline void philox16(uint32_t t0, const uint32_t ctr[4], const uint32_t key[2],
                                    __m256i w[4][2]) {
  const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u), m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i c0[2], c1[2], c2[2], c3[2];
  for (int h = 0; h < 2; ++h) {
    c0[h] = _mm256_add_epi32(_mm256_set1_epi32((int)(t0 + 8u * (uint32_t)h)), iota);
    c1[h] = _mm256_set1_epi32((int)ctr[1]);
    c2[h] = _mm256_set1_epi32((int)ctr[2]);
    c3[h] = _mm256_set1_epi32((int)ctr[3]);
  }
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; ++r) {
    const __m256i kk0 = _mm256_set1_epi32((int)k0), kk1 = _mm256_set1_epi32((int)k1);
    for (int h = 0; h < 2; ++h) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(c0[h], m0, &hi0, &lo0);
      mulhilo8(c2[h], m1, &hi1, &lo1);
      c0[h] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[h]), kk0);
      c2[h] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[h]), kk1);
      c1[h] = lo1;
      c3[h] = lo0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int h = 0; h < 2; ++h) {
    w[0][h] = c0[h];
    w[1][h] = c1[h];
    w[2][h] = c2[h];
    w[3][h] = c3[h];
  }
}

/* Four 32-bit words (one 128-bit half of w) zero-extended to 64-bit lanes. */
KD_AVX2 static inline __m256i widen(__m256i w, int upper) {
  return _mm256_cvtepu32_epi64(upper ? _mm256_extracti128_si256(w, 1)
                                     : _mm256_castsi256_si128(w));
}

/* Exact double of 64-bit lanes holding integers in [0, 2^52). */
KD_AVX2 static inline __m256d small_u_to_pd(__m256i k) {
  const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(k, magic)), _mm256_set1_pd(0x1p52));
}

/* Exact double of 64-bit lanes holding integers in [-2^51, 2^51). */
KD_AVX2 static inline __m256d small_i_to_pd(__m256i k) {
  const __m256i magic = _mm256_set1_epi64x(0x4338000000000000LL); /* 2^52 + 2^51 */
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(k, magic)),
                       _mm256_set1_pd(0x1.8p52));
}

/* x + (y * p), the Horner step of rng.h, unfused. */
#define KD_HORNER(c, s2, p) _mm256_add_pd(_mm256_set1_pd(c), _mm256_mul_pd((s2), (p)))

/* kd_log of rng.h for x in [2^-53, 1]. */
KD_AVX2 static inline __m256d log4(__m256d x) {
  __m256i b = _mm256_castpd_si256(x);
  __m256i biased = _mm256_srli_epi64(b, 52); /* x > 0: no sign bit */
  __m256d m = _mm256_castsi256_pd(
      _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                      _mm256_set1_epi64x(0x3ff0000000000000LL)));
  __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(1.41421356237309504880), _CMP_GT_OQ);
  __m256d f = _mm256_mul_pd(m, _mm256_blendv_pd(_mm256_set1_pd(1.0), _mm256_set1_pd(0.5), big));
  __m256d one = _mm256_set1_pd(1.0);
  __m256d s = _mm256_div_pd(_mm256_sub_pd(f, one), _mm256_add_pd(f, one));
  __m256d s2 = _mm256_mul_pd(s, s);
  __m256d p = _mm256_set1_pd(KD_LOG_LEAD);
#define KD_STEP(c) p = KD_HORNER(c, s2, p);
  KD_LOG_STEPS(KD_STEP)
#undef KD_STEP
  __m256d two_s = _mm256_mul_pd(_mm256_set1_pd(2.0), s);
  __m256d logf = _mm256_add_pd(two_s, _mm256_mul_pd(_mm256_mul_pd(two_s, s2), p));
  /* e = biased - 1023 (+ 1 when big): small integers, exact in any order */
  __m256d de = _mm256_add_pd(_mm256_sub_pd(small_u_to_pd(biased), _mm256_set1_pd(1023.0)),
                             _mm256_and_pd(big, one));
  return _mm256_add_pd(_mm256_mul_pd(de, _mm256_set1_pd(6.93147180369123816490e-01)),
                       _mm256_add_pd(_mm256_mul_pd(de, _mm256_set1_pd(1.90821492927058770002e-10)),
                                     logf));
}

/* kd_sincos2pi_bits of rng.h for k < 2^53 in 64-bit lanes. */
KD_AVX2 static inline void sincos4(__m256i k, __m256d *s, __m256d *c) {
  __m256i q = _mm256_srli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1LL << 50)), 51);
  __m256i d = _mm256_sub_epi64(k, _mm256_slli_epi64(q, 51)); /* [-2^50, 2^50) */
  __m256d r = _mm256_mul_pd(small_i_to_pd(d), _mm256_set1_pd(0x1p-52));
  __m256d r2 = _mm256_mul_pd(r, r);
  __m256d ps = _mm256_set1_pd(KD_SINPI_LEAD);
#define KD_STEP(c) ps = KD_HORNER(c, r2, ps);
  KD_SINPI_STEPS(KD_STEP)
#undef KD_STEP
  __m256d pc = _mm256_set1_pd(KD_COSPI_LEAD);
#define KD_STEP(c) pc = KD_HORNER(c, r2, pc);
  KD_COSPI_STEPS(KD_STEP)
#undef KD_STEP
  __m256d sr = _mm256_mul_pd(r, ps), cr = pc;
  const __m256i one = _mm256_set1_epi64x(1);
  __m256d odd = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(q, one), one));
  __m256d a = _mm256_blendv_pd(sr, cr, odd), bb = _mm256_blendv_pd(cr, sr, odd);
  /* the sign bits: sin negated for q in {2, 3}, cos for q in {1, 2} (q = 4 is q = 0) */
  __m256i sneg = _mm256_slli_epi64(_mm256_and_si256(_mm256_srli_epi64(q, 1), one), 63);
  __m256i cneg = _mm256_slli_epi64(
      _mm256_and_si256(_mm256_srli_epi64(_mm256_add_epi64(q, one), 1), one), 63);
  *s = _mm256_xor_pd(a, _mm256_castsi256_pd(sneg));
  *c = _mm256_xor_pd(bb, _mm256_castsi256_pd(cneg));
}

/* Box-Muller of four Philox outputs, words x0..x3 in 64-bit lanes: z0, z1. */
KD_AVX2 static inline void box_muller4(__m256i x0, __m256i x1, __m256i x2, __m256i x3,
                                       __m256d *z0, __m256d *z1) {
  /* u1 = (x0 2^21 + (x1 >> 11) + 1) 2^-53: both terms and the sum exact */
  __m256d hi = _mm256_mul_pd(small_u_to_pd(x0), _mm256_set1_pd(0x1p21));
  __m256d lo = small_u_to_pd(_mm256_add_epi64(_mm256_srli_epi64(x1, 11), _mm256_set1_epi64x(1)));
  __m256d u1 = _mm256_mul_pd(_mm256_add_pd(hi, lo), _mm256_set1_pd(0x1p-53));
  __m256d rad = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), log4(u1)));
  __m256i k2 = _mm256_or_si256(_mm256_slli_epi64(x2, 21), _mm256_srli_epi64(x3, 11));
  __m256d s, c;
  sincos4(k2, &s, &c);
  *z0 = _mm256_mul_pd(rad, c);
  *z1 = _mm256_mul_pd(rad, s);
}

/* z0, z1 of pairs l..l+3 interleaved and scaled: 8 doubles at out. */
KD_AVX2 static inline void store8(double *out, __m256d z0, __m256d z1, __m256d scale,
                                  int scaled) {
  if (scaled) {
    z0 = _mm256_mul_pd(z0, scale);
    z1 = _mm256_mul_pd(z1, scale);
  }
  __m256d lo = _mm256_unpacklo_pd(z0, z1), hi = _mm256_unpackhi_pd(z0, z1);
  _mm256_storeu_pd(out, _mm256_permute2f128_pd(lo, hi, 0x20));
  _mm256_storeu_pd(out + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
}

/* 2 KD_BLOCK normals of rows [2 t0, 2 t0 + 2 KD_BLOCK) of one column. */
KD_AVX2 static inline void block16(uint32_t t0, const uint32_t ctr[4], const uint32_t key[2],
                                   __m256d scale, int scaled, double *out) {
  __m256i w[4][2];
  philox16(t0, ctr, key, w);
  for (int g = 0; g < 4; ++g) {
    const int h = g >> 1, up = g & 1;
    __m256d z0, z1;
    box_muller4(widen(w[0][h], up), widen(w[1][h], up), widen(w[2][h], up), widen(w[3][h], up),
                &z0, &z1);
    store8(out + 8 * g, z0, z1, scale, scaled);
  }
}

KD_AVX2 static void fill_column_avx2(kd_rng_addr a, size_t n, uint32_t col, double scale,
                                     double *out) {
  uint32_t ctr[4], key[2];
  kd_rng_counter(a, 0, col, ctr, key);
  const int scaled = scale != 1.0; /* z * 1.0 == z: skipping it changes nothing */
  const __m256d sc = _mm256_set1_pd(scale);
  size_t t = 0;
  for (; 2 * (t + KD_BLOCK) <= n; t += KD_BLOCK)
    block16((uint32_t)t, ctr, key, sc, scaled, out + 2 * t);
  if (2 * t < n) { /* the last rows: a whole block into a buffer, the needed part copied */
    double buf[2 * KD_BLOCK];
    block16((uint32_t)t, ctr, key, sc, scaled, buf);
    for (size_t i = 2 * t; i < n; ++i) out[i] = buf[i - 2 * t];
  }
}

/* The AVX2 Box-Muller on given words, for kd_normals_from_words. */
KD_AVX2 static void words_avx2(const uint32_t *w, size_t count, double *z) {
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    uint64_t x[4][4];
    for (int l = 0; l < 4; ++l)
      for (int j = 0; j < 4; ++j) x[j][l] = w[4 * (i + (size_t)l) + (size_t)j];
    __m256d z0, z1;
    __m256i v[4];
    for (int j = 0; j < 4; ++j) v[j] = _mm256_loadu_si256((const __m256i *)x[j]);
    box_muller4(v[0], v[1], v[2], v[3], &z0, &z1);
    store8(z + 2 * i, z0, z1, _mm256_set1_pd(1.0), 0);
  }
  for (; i < count; ++i) kd_normal_pair(w + 4 * i, z + 2 * i, z + 2 * i + 1);
}

static int avx2_runs(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}

const kd__rng_impl kd__rng_avx2 = {avx2_runs, fill_column_avx2, words_avx2};
#endif
