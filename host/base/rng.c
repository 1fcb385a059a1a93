/* Bulk generation on the CPU: exactly the values of kd_rng_normal_at, many row pairs
 * at a time.
 *
 * Three paths (kd_rng_path), all bit-identical to the scalar reference in rng.h: every
 * lane performs the same IEEE operations in the same order (tests/test_rng.c checks
 * each path the machine runs against the reference):
 *
 *   avx512   rng_avx512.c: 32 row pairs per step with AVX-512 F + DQ intrinsics
 *   avx2     rng_avx2.c: 16 row pairs per step with AVX2 intrinsics
 *   generic  here: 8 row pairs per step in plain C that the compiler vectorises as far
 *            as the baseline ISA allows; the path of every other CPU
 *
 * The fastest path the CPU runs is chosen at start-up (kd_rng_use_path can force one,
 * for tests and bench/bench_rng.c). The three files are compiled with -ffp-contract=off
 * (no fused multiply-add), -fno-math-errno (lets sqrt vectorise; its argument is >= 0)
 * and -fno-trapping-math (lets selects be if-converted); none changes a value. */
#include "internal.h"

#include <omp.h>

/* ---- generic path ------------------------------------------------------------------ */

#define KD_LANES 8

typedef union {
  double d;
  uint64_t u;
} bits64;

/* Exact conversion of k < 2^52 + 2^52 (bit 52 at most) to double without a 64-bit
 * integer conversion: the low 52 bits through the 2^52 exponent trick, bit 52 added
 * as a power of two. */
static inline double u53_to_double(uint64_t k) {
  bits64 b = {.u = 0x4330000000000000ULL | (k & 0x000fffffffffffffULL)};
  return (b.d - 0x1p52) + ((k >> 52) ? 0x1p52 : 0.0); /* a select, not a conversion */
}

/* (bits53(hi, lo) + 1) 2^-53, exactly, for every pair of words (the all-ones words
 * give 2^53, which has bit 53 set: hence the two exact halves, not u53_to_double). */
static inline double uniform_open0_lane(uint32_t hi, uint32_t lo) {
  return ((double)hi * 0x1p21 + (double)((lo >> 11) + 1u)) * 0x1p-53;
}

/* kd_log of rng.h, without branches (selects and exact scalings instead). */
static inline double log_lane(double x) {
  bits64 b = {.d = x};
  uint64_t big_exp = (b.u >> 52) & 0x7ff; /* biased exponent */
  bits64 m = {.u = (b.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL};
  uint64_t big = m.d > 1.41421356237309504880;
  double f = m.d * (big ? 0.5 : 1.0); /* exact either way */
  double s = (f - 1.0) / (f + 1.0), s2 = s * s, p = 1.0 / 23;
  p = 1.0 / 21 + s2 * p;
  p = 1.0 / 19 + s2 * p;
  p = 1.0 / 17 + s2 * p;
  p = 1.0 / 15 + s2 * p;
  p = 1.0 / 13 + s2 * p;
  p = 1.0 / 11 + s2 * p;
  p = 1.0 / 9 + s2 * p;
  p = 1.0 / 7 + s2 * p;
  p = 1.0 / 5 + s2 * p;
  p = 1.0 / 3 + s2 * p;
  double two_s = 2.0 * s, logf = two_s + (two_s * s2) * p;
  double de = u53_to_double(big_exp + big) - 1023.0; /* exact: small integers */
  return de * 6.93147180369123816490e-01 + (de * 1.90821492927058770002e-10 + logf);
}

/* kd_sincos2pi_bits of rng.h, without branches: quadrant q swaps sin and cos when
 * odd, negates sin for q in {2, 3} and cos for q in {1, 2}. */
static inline void sincos_lane(uint64_t k, double *s, double *c) {
  uint64_t q = (k + (1ULL << 50)) >> 51;
  uint64_t d = k - (q << 51); /* two's complement of a value in [-2^50, 2^50) */
  uint64_t neg = d >> 63;
  double mag = u53_to_double(neg ? (uint64_t)0 - d : d);
  double r = (neg ? -mag : mag) * 0x1p-52;
  double sr, cr;
  kd_sincospi_reduced(r, &sr, &cr);
  uint64_t odd = q & 1, sneg = (q >> 1) & 1, cneg = ((q + 1) >> 1) & 1;
  double a = odd ? cr : sr, bb = odd ? sr : cr;
  *s = sneg ? -a : a;
  *c = cneg ? -bb : bb;
}

/* Box-Muller of KD_LANES Philox outputs (words a0..a3 of each lane). */
static inline void box_muller_lanes(const uint32_t a0[KD_LANES], const uint32_t a1[KD_LANES],
                                    const uint32_t a2[KD_LANES], const uint32_t a3[KD_LANES],
                                    double z0[KD_LANES], double z1[KD_LANES]) {
  double rad[KD_LANES], s[KD_LANES], c[KD_LANES];
  for (int l = 0; l < KD_LANES; ++l)
    rad[l] = __builtin_sqrt(-2.0 * log_lane(uniform_open0_lane(a0[l], a1[l])));
  for (int l = 0; l < KD_LANES; ++l) sincos_lane(kd_bits53(a2[l], a3[l]), &s[l], &c[l]);
  for (int l = 0; l < KD_LANES; ++l) {
    z0[l] = rad[l] * c[l];
    z1[l] = rad[l] * s[l];
  }
}

/* One column, rows [2 t0, 2 t0 + 2 KD_LANES): z0 to even rows, z1 to odd rows. */
static inline void lanes(const uint32_t ctr[4], const uint32_t key[2], uint32_t t0,
                         double z0[KD_LANES], double z1[KD_LANES]) {
  uint32_t a0[KD_LANES], a1[KD_LANES], a2[KD_LANES], a3[KD_LANES];
  for (int l = 0; l < KD_LANES; ++l) {
    a0[l] = t0 + (uint32_t)l;
    a1[l] = ctr[1];
    a2[l] = ctr[2];
    a3[l] = ctr[3];
  }
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; ++r) {
    for (int l = 0; l < KD_LANES; ++l) {
      uint64_t p0 = (uint64_t)0xD2511F53u * a0[l];
      uint64_t p1 = (uint64_t)0xCD9E8D57u * a2[l];
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ a1[l] ^ k0;
      uint32_t n2 = (uint32_t)(p0 >> 32) ^ a3[l] ^ k1;
      a1[l] = (uint32_t)p1;
      a3[l] = (uint32_t)p0;
      a0[l] = n0;
      a2[l] = n2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  box_muller_lanes(a0, a1, a2, a3, z0, z1);
}

/* The scalar reference for pairs [t, pairs) of a column. */
static void column_tail(const uint32_t ctr_in[4], const uint32_t key[2], size_t t, size_t n,
                        double scale, double *out) {
  uint32_t ctr[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
  for (size_t pairs = (n + 1) / 2; t < pairs; ++t) {
    uint32_t w[4];
    ctr[0] = (uint32_t)t;
    kd_philox4x32_10(ctr, key, w);
    double y0, y1;
    kd_normal_pair(w, &y0, &y1);
    out[2 * t] = y0 * scale;
    if (2 * t + 1 < n) out[2 * t + 1] = y1 * scale;
  }
}

static void fill_column_generic(kd_rng_addr a, size_t n, uint32_t col, double scale,
                                double *out) {
  uint32_t ctr[4], key[2];
  kd_rng_counter(a, 0, col, ctr, key);
  size_t pairs = (n + 1) / 2, t = 0;
  double z0[KD_LANES], z1[KD_LANES];
  for (; t + KD_LANES <= pairs; t += KD_LANES) {
    lanes(ctr, key, (uint32_t)t, z0, z1);
    for (int l = 0; l < KD_LANES; ++l) {
      size_t i = 2 * (t + (size_t)l);
      out[i] = z0[l] * scale;
      if (i + 1 < n) out[i + 1] = z1[l] * scale;
    }
  }
  column_tail(ctr, key, t, n, scale, out);
}


static int generic_runs(void) { return 1; }

/* kd_normals_from_words on the generic path. */
static void words_generic(const uint32_t *w, size_t count, double *z) {
  size_t i = 0;
  for (; i + KD_LANES <= count; i += KD_LANES) {
    uint32_t a[4][KD_LANES];
    double z0[KD_LANES], z1[KD_LANES];
    for (int l = 0; l < KD_LANES; ++l)
      for (int j = 0; j < 4; ++j) a[j][l] = w[4 * (i + (size_t)l) + (size_t)j];
    box_muller_lanes(a[0], a[1], a[2], a[3], z0, z1);
    for (int l = 0; l < KD_LANES; ++l) {
      z[2 * (i + (size_t)l)] = z0[l];
      z[2 * (i + (size_t)l) + 1] = z1[l];
    }
  }
  for (; i < count; ++i) kd_normal_pair(w + 4 * i, z + 2 * i, z + 2 * i + 1);
}

static const kd__rng_impl rng_generic = {generic_runs, fill_column_generic, words_generic};

/* ---- dispatch ------------------------------------------------------------------------- */

static const kd__rng_impl *impl_of(kd_rng_path p) {
  switch (p) {
    case KD_RNG_GENERIC: return &rng_generic;
#if KD_RNG_X86
    case KD_RNG_AVX2: return &kd__rng_avx2;
    case KD_RNG_AVX512: return &kd__rng_avx512;
#endif
    default: return NULL;
  }
}

int kd_rng_path_runs(kd_rng_path p) {
  const kd__rng_impl *impl = impl_of(p);
  return impl && impl->runs();
}

const char *kd_rng_path_name(kd_rng_path p) {
  static const char *const names[KD_RNG_PATHS] = {"generic", "avx2", "avx512"};
  return (unsigned)p < KD_RNG_PATHS ? names[p] : "unknown";
}

static kd_rng_path fastest(void) {
  kd_rng_path p = KD_RNG_PATHS;
  while (p > KD_RNG_GENERIC && !kd_rng_path_runs(--p)) {}
  return p;
}

static int current = -1; /* the path in use; -1 until the first call decides */

kd_rng_path kd_rng_current_path(void) {
  int p = __atomic_load_n(&current, __ATOMIC_RELAXED);
  if (p < 0) { /* every thread that races here decides the same */
    p = (int)fastest();
    __atomic_store_n(&current, p, __ATOMIC_RELAXED);
  }
  return (kd_rng_path)p;
}

int kd_rng_use_path(kd_rng_path p) {
  if (p == KD_RNG_PATHS) p = fastest();
  if (!kd_rng_path_runs(p)) return -1;
  int was = (int)kd_rng_current_path();
  __atomic_store_n(&current, (int)p, __ATOMIC_RELAXED);
  return was;
}

void kd_normals_from_words(const uint32_t *w, size_t count, double *z) {
  impl_of(kd_rng_current_path())->from_words(w, count, z);
}

void kd_rng_fill(kd_rng_addr a, size_t n, uint32_t col0, size_t ncol,
                 const double *scale, double *Z, size_t ld) {
  const kd__rng_impl *impl = impl_of(kd_rng_current_path());
  /* Parallel over columns when big enough, and never inside another parallel region
   * (a trial team): there each thread fills its own design alone. */
#pragma omp parallel for schedule(static) if (n * ncol > 65536 && !omp_in_parallel())
  for (size_t jj = 0; jj < ncol; ++jj)
    impl->fill_column(a, n, col0 + (uint32_t)jj, scale ? scale[jj] : 1.0, Z + jj * ld);
}
