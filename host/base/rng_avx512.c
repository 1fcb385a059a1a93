/* The generator's AVX-512 bulk path: exactly the values of kd_rng_normal_at (rng.h), 32
 * row pairs per step.
 *
 * Philox in 32-bit lanes (16 per register, two registers per word, so that two
 * independent chains of products are in flight; the 32 x 32 -> 64-bit products by
 * vpmuludq on even and odd lanes, the three-way xor by one vpternlogd), Box-Muller in
 * 64-bit lanes, 8 per register, every lane performing the IEEE operations of the scalar
 * reference in the same order. Unlike AVX2, AVX-512 DQ converts int64 to double
 * directly; every conversion here is of an integer below 2^53 in magnitude, so exact,
 * as in the reference. Selects are masks, negation is a sign-bit xor (as the
 * reference's unary minus). Compiled with -ffp-contract=off: nothing is contracted,
 * although the target has FMA. */
#include "internal.h"

#if KD_RNG_X86
#include <immintrin.h>

#define KD_AVX512 __attribute__((target("avx512f,avx512dq")))
#define KD_INLINE KD_AVX512 static inline __attribute__((always_inline))
#define KD_PAIRS 32 /* row pairs per step: 4 groups of 8 */

/* hi and lo words of the 32 x 32-bit products a_l * m (m broadcast in every lane). */
KD_INLINE void mulhilo16(__m512i a, __m512i m, __m512i *hi, __m512i *lo) {
  __m512i pe = _mm512_mul_epu32(a, m);                        /* even lanes */
  __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m); /* odd lanes */
  *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
  *lo = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

/* Philox4x32-10 of the counters {t0 + l, c1, c2, c3}, l < 16 nh: w[word][h]. */
KD_INLINE void philox(uint32_t t0, const uint32_t ctr[4], const uint32_t key[2], int nh,
                      __m512i w[4][2]) {
  const __m512i m0 = _mm512_set1_epi32((int)0xD2511F53u), m1 = _mm512_set1_epi32((int)0xCD9E8D57u);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i c0[2], c1[2], c2[2], c3[2];
  for (int h = 0; h < nh; ++h) {
    c0[h] = _mm512_add_epi32(_mm512_set1_epi32((int)(t0 + 16u * (uint32_t)h)), iota);
    c1[h] = _mm512_set1_epi32((int)ctr[1]);
    c2[h] = _mm512_set1_epi32((int)ctr[2]);
    c3[h] = _mm512_set1_epi32((int)ctr[3]);
  }
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; ++r) {
    const __m512i kk0 = _mm512_set1_epi32((int)k0), kk1 = _mm512_set1_epi32((int)k1);
    for (int h = 0; h < nh; ++h) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo16(c0[h], m0, &hi0, &lo0);
      mulhilo16(c2[h], m1, &hi1, &lo1);
      c0[h] = _mm512_ternarylogic_epi32(hi1, c1[h], kk0, 0x96); /* a ^ b ^ c */
      c2[h] = _mm512_ternarylogic_epi32(hi0, c3[h], kk1, 0x96);
      c1[h] = lo1;
      c3[h] = lo0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int h = 0; h < nh; ++h) {
    w[0][h] = c0[h];
    w[1][h] = c1[h];
    w[2][h] = c2[h];
    w[3][h] = c3[h];
  }
}

/* x + (y * p), the Horner step of rng.h, unfused. */
#define KD_HORNER(c, s2, p) _mm512_add_pd(_mm512_set1_pd(c), _mm512_mul_pd((s2), (p)))

/* kd_log of rng.h for x in [2^-53, 1]. */
KD_INLINE __m512d log8(__m512d x) {
  const __m512d one = _mm512_set1_pd(1.0);
  __m512i b = _mm512_castpd_si512(x);
  __m512i e = _mm512_sub_epi64(_mm512_srli_epi64(b, 52), _mm512_set1_epi64(1023)); /* x > 0 */
  __m512d m = _mm512_castsi512_pd(
      _mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi64(0x000fffffffffffffLL)),
                      _mm512_set1_epi64(0x3ff0000000000000LL)));
  __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(1.41421356237309504880), _CMP_GT_OQ);
  __m512d f = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
  e = _mm512_mask_add_epi64(e, big, e, _mm512_set1_epi64(1));
  __m512d s = _mm512_div_pd(_mm512_sub_pd(f, one), _mm512_add_pd(f, one));
  __m512d s2 = _mm512_mul_pd(s, s);
  __m512d p = _mm512_set1_pd(KD_LOG_LEAD);
#define KD_STEP(c) p = KD_HORNER(c, s2, p);
  KD_LOG_STEPS(KD_STEP)
#undef KD_STEP
  __m512d two_s = _mm512_mul_pd(_mm512_set1_pd(2.0), s);
  __m512d logf = _mm512_add_pd(two_s, _mm512_mul_pd(_mm512_mul_pd(two_s, s2), p));
  __m512d de = _mm512_cvtepi64_pd(e); /* a small integer: exact */
  return _mm512_add_pd(_mm512_mul_pd(de, _mm512_set1_pd(6.93147180369123816490e-01)),
                       _mm512_add_pd(_mm512_mul_pd(de, _mm512_set1_pd(1.90821492927058770002e-10)),
                                     logf));
}

/* kd_sincos2pi_bits of rng.h for k < 2^53 in 64-bit lanes. */
KD_INLINE void sincos8(__m512i k, __m512d *s, __m512d *c) {
  const __m512i one = _mm512_set1_epi64(1), two = _mm512_set1_epi64(2);
  __m512i q = _mm512_srli_epi64(_mm512_add_epi64(k, _mm512_set1_epi64(1LL << 50)), 51);
  __m512i d = _mm512_sub_epi64(k, _mm512_slli_epi64(q, 51)); /* [-2^50, 2^50) */
  __m512d r = _mm512_mul_pd(_mm512_cvtepi64_pd(d), _mm512_set1_pd(0x1p-52));
  __m512d r2 = _mm512_mul_pd(r, r);
  __m512d ps = _mm512_set1_pd(KD_SINPI_LEAD);
#define KD_STEP(c) ps = KD_HORNER(c, r2, ps);
  KD_SINPI_STEPS(KD_STEP)
#undef KD_STEP
  __m512d pc = _mm512_set1_pd(KD_COSPI_LEAD);
#define KD_STEP(c) pc = KD_HORNER(c, r2, pc);
  KD_COSPI_STEPS(KD_STEP)
#undef KD_STEP
  __m512d sr = _mm512_mul_pd(r, ps), cr = pc;
  __mmask8 odd = _mm512_test_epi64_mask(q, one);
  __m512i a = _mm512_castpd_si512(_mm512_mask_blend_pd(odd, sr, cr)); /* odd: swapped */
  __m512i bb = _mm512_castpd_si512(_mm512_mask_blend_pd(odd, cr, sr));
  /* sin negated for q in {2, 3}, cos for q in {1, 2} (q = 4 is q = 0) */
  __mmask8 sneg = _mm512_test_epi64_mask(q, two);
  __mmask8 cneg = _mm512_test_epi64_mask(_mm512_add_epi64(q, one), two);
  const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);
  *s = _mm512_castsi512_pd(_mm512_mask_xor_epi64(a, sneg, a, sign));
  *c = _mm512_castsi512_pd(_mm512_mask_xor_epi64(bb, cneg, bb, sign));
}

/* Box-Muller of eight Philox outputs, words x0..x3 in 64-bit lanes: z0, z1. */
KD_INLINE void box_muller8(__m512i x0, __m512i x1, __m512i x2, __m512i x3, __m512d *z0,
                           __m512d *z1) {
  /* u1 = (bits53 + 1) 2^-53, the integer at most 2^53: exact */
  __m512i k1 = _mm512_or_si512(_mm512_slli_epi64(x0, 21), _mm512_srli_epi64(x1, 11));
  __m512d u1 = _mm512_mul_pd(_mm512_cvtepi64_pd(_mm512_add_epi64(k1, _mm512_set1_epi64(1))),
                             _mm512_set1_pd(0x1p-53));
  __m512d rad = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), log8(u1)));
  __m512i k2 = _mm512_or_si512(_mm512_slli_epi64(x2, 21), _mm512_srli_epi64(x3, 11));
  __m512d s, c;
  sincos8(k2, &s, &c);
  *z0 = _mm512_mul_pd(rad, c);
  *z1 = _mm512_mul_pd(rad, s);
}

/* z0, z1 of eight pairs interleaved (z0 to even rows) and scaled: 16 doubles at out. */
KD_INLINE void store16(double *out, __m512d z0, __m512d z1, __m512d scale, int scaled) {
  if (scaled) {
    z0 = _mm512_mul_pd(z0, scale);
    z1 = _mm512_mul_pd(z1, scale);
  }
  const __m512i lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  _mm512_storeu_pd(out, _mm512_permutex2var_pd(z0, lo, z1));
  _mm512_storeu_pd(out + 8, _mm512_permutex2var_pd(z0, hi, z1));
}

/* Eight 32-bit words (half `up` of w) zero-extended to 64-bit lanes. */
KD_INLINE __m512i widen(__m512i w, int up) {
  return _mm512_cvtepu32_epi64(up ? _mm512_extracti64x4_epi64(w, 1) : _mm512_castsi512_si256(w));
}

/* Rows [2 t0, 2 t0 + 16 groups) of one column, groups <= 4, to out. */
KD_INLINE void block(uint32_t t0, const uint32_t ctr[4], const uint32_t key[2], int groups,
                     __m512d scale, int scaled, double *out) {
  __m512i w[4][2];
  philox(t0, ctr, key, (groups + 1) / 2, w);
  for (int g = 0; g < groups; ++g) {
    const int h = g >> 1, up = g & 1;
    __m512d z0, z1;
    box_muller8(widen(w[0][h], up), widen(w[1][h], up), widen(w[2][h], up), widen(w[3][h], up),
                &z0, &z1);
    store16(out + 16 * g, z0, z1, scale, scaled);
  }
}

KD_AVX512 static void fill_column_avx512(kd_rng_addr a, size_t n, uint32_t col, double scale,
                                         double *out) {
  uint32_t ctr[4], key[2];
  kd_rng_counter(a, 0, col, ctr, key);
  const int scaled = scale != 1.0; /* z * 1.0 == z: skipping it changes nothing */
  const __m512d sc = _mm512_set1_pd(scale);
  size_t t = 0;
  for (; 2 * (t + KD_PAIRS) <= n; t += KD_PAIRS)
    block((uint32_t)t, ctr, key, 4, sc, scaled, out + 2 * t);
  if (2 * t < n) { /* the last rows: the groups that hold them into a buffer, then copied */
    const size_t rows = n - 2 * t;
    double buf[2 * KD_PAIRS];
    block((uint32_t)t, ctr, key, (int)((rows + 15) / 16), sc, scaled, buf);
    for (size_t i = 0; i < rows; ++i) out[2 * t + i] = buf[i];
  }
}

/* The AVX-512 Box-Muller on given words, for kd_normals_from_words. */
KD_AVX512 static void words_avx512(const uint32_t *w, size_t count, double *z) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    uint64_t x[4][8];
    for (int l = 0; l < 8; ++l)
      for (int j = 0; j < 4; ++j) x[j][l] = w[4 * (i + (size_t)l) + (size_t)j];
    __m512d z0, z1;
    __m512i v[4];
    for (int j = 0; j < 4; ++j) v[j] = _mm512_loadu_si512(x[j]);
    box_muller8(v[0], v[1], v[2], v[3], &z0, &z1);
    store16(z + 2 * i, z0, z1, _mm512_set1_pd(1.0), 0);
  }
  for (; i < count; ++i) kd_normal_pair(w + 4 * i, z + 2 * i, z + 2 * i + 1);
}

static int avx512_runs(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

const kd__rng_impl kd__rng_avx512 = {avx512_runs, fill_column_avx512, words_avx512};
#endif
