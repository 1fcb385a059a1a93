/* Counter-based random numbers shared, bit for bit, by the CPU and CUDA backends.
 *
 * Philox4x32-10 (Salmon et al., SC'11; the Random123 bijection, cuRAND's layout)
 * turns a 128-bit counter and a 64-bit key into four 32-bit words. Every draw has
 * an address, so any design, any trial, any grid point can be regenerated alone:
 *
 *   key     = run seed (k0 = low word, k1 = high word)
 *   counter = { row pair i/2,  column j,  trial << 8 | purpose,  point id }
 *
 * One Philox call gives two normals: rows 2t and 2t+1 of a column. (In cuRAND's
 * terms: subsequence = c3:c2, offset = 4 * c1:c0.)
 *
 * Normals come from exact 53-bit uniforms and a Box-Muller transform whose log and
 * sincospi are written here with IEEE basic operations only (+ - * / sqrt are
 * correctly rounded on both sides). On the device every operation goes through
 * __dmul_rn/__dadd_rn, which are never fused; on the host the translation units
 * are compiled with -ffp-contract=off. Hence identical doubles everywhere.
 * Accuracy (about 1 ulp) is immaterial; bit-identity is the point.
 *
 * This header is compiled by gcc and by nvcc: keep it C and C++ clean. */
#ifndef KDBENCH_RNG_H
#define KDBENCH_RNG_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define KD_HD static inline __host__ __device__
#else
#define KD_HD static inline
#endif

#if defined(__CUDA_ARCH__)
#define KD_MUL(a, b) __dmul_rn((a), (b))
#define KD_ADD(a, b) __dadd_rn((a), (b))
#define KD_SUB(a, b) __dsub_rn((a), (b))
#else
#define KD_MUL(a, b) ((a) * (b))
#define KD_ADD(a, b) ((a) + (b))
#define KD_SUB(a, b) ((a) - (b))
#endif

/* What a stream of draws is for (the low 8 bits of counter word 2). */
enum {
  KD_PURPOSE_DESIGN = 0,     /* the design matrix of a stage */
  KD_PURPOSE_NOISE = 1,      /* label noise of a stage */
  KD_PURPOSE_ORDER = 2,      /* the order of an SGD stage's samples (kd_rng_uniform_at) */
  KD_STAGE_STUDENT = 0 << 4, /* OR-ed with the above */
  KD_STAGE_WEAK = 1 << 4,
  KD_PURPOSE_BETA = 0xff,    /* a random ground truth (point 0, trial 0) */
};

typedef struct {
  uint64_t seed;    /* the run's seed: the Philox key */
  uint32_t point;   /* grid point id (kd_point_id) */
  uint32_t trial;   /* trial index, < 2^24 */
  uint32_t purpose; /* stage | kind, < 2^8 */
} kd_rng_addr;

#define KD_MAX_TRIALS (1u << 24)

/* ---- Philox4x32-10 ---------------------------------------------------------- */

KD_HD void kd_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2],
                            uint32_t out[4]) {
  uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
  uint32_t k0 = key_in[0], k1 = key_in[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0;
    uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = (uint32_t)p0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* ---- exact uniforms ------------------------------------------------------------ */

/* 53-bit integer from two words: (hi << 21) | (lo >> 11). */
KD_HD uint64_t kd_bits53(uint32_t hi, uint32_t lo) {
  return ((uint64_t)hi << 21) | (uint64_t)(lo >> 11);
}
/* (k + 1) 2^-53 in (0, 1]: never 0, so its log is finite. Exact conversion. */
KD_HD double kd_uniform_open0(uint64_t k) {
  return (double)(int64_t)(k + 1) * 0x1p-53;
}
/* k 2^-53 in [0, 1). */
KD_HD double kd_uniform_open1(uint64_t k) { return (double)(int64_t)k * 0x1p-53; }

/* ---- portable log and sincospi --------------------------------------------------- */

KD_HD uint64_t kd_d2u(double x) {
#if defined(__CUDA_ARCH__)
  return (uint64_t)__double_as_longlong(x);
#else
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
#endif
}
KD_HD double kd_u2d(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double((long long)u);
#else
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
#endif
}

/* The polynomials of kd_log and kd_sincospi_reduced: the leading coefficient, then the
 * others highest degree first as STEP(c) for the Horner step p = c + s2 p. One list for
 * every path that must give the same bits (this scalar reference, the device, the host's
 * AVX2 and AVX-512 paths): the same constants, the same steps. */
#define KD_LOG_LEAD (1.0 / 23)
#define KD_LOG_STEPS(STEP) STEP(1.0 / 21) STEP(1.0 / 19) STEP(1.0 / 17) STEP(1.0 / 15) STEP(1.0 / 13) STEP(1.0 / 11) STEP(1.0 / 9) STEP(1.0 / 7) STEP(1.0 / 5) STEP(1.0 / 3)
#define KD_SINPI_LEAD 7.95205400147551278478e-7
#define KD_SINPI_STEPS(STEP) STEP(-2.19153534478302158274e-5) STEP(4.66302805767612564421e-4) STEP(-7.37043094571435077726e-3) STEP(8.21458866111282287988e-2) STEP(-5.99264529320792076888e-1) STEP(2.55016403987734544386) STEP(-5.16771278004997002925) STEP(3.14159265358979323846)
#define KD_COSPI_LEAD 4.3030695870329470073e-6
#define KD_COSPI_STEPS(STEP) STEP(-1.04638104924845707118e-4) STEP(1.92957430940392304790e-3) STEP(-2.58068913900140600126e-2) STEP(2.35330630358893204542e-1) STEP(-1.33526276885458949588) STEP(4.05871212641676821819) STEP(-4.93480220054467930942) STEP(1.0)

/* Natural log of a positive normal double: x = 2^e f, f in [sqrt(1/2), sqrt(2)),
 * log f = 2 atanh(s), s = (f-1)/(f+1), |s| <= 0.1716, series to s^23. */
KD_HD double kd_log(double x) {
  uint64_t b = kd_d2u(x);
  int e = (int)((b >> 52) & 0x7ff) - 1023;
  double f = kd_u2d((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (f > 1.41421356237309504880) {
    f = KD_MUL(f, 0.5);
    e += 1;
  }
  double s = KD_SUB(f, 1.0) / KD_ADD(f, 1.0);
  double s2 = KD_MUL(s, s);
  double p = KD_LOG_LEAD;
#define KD_STEP(c) p = KD_ADD(c, KD_MUL(s2, p));
  KD_LOG_STEPS(KD_STEP)
#undef KD_STEP
  double two_s = KD_MUL(2.0, s);
  double logf = KD_ADD(two_s, KD_MUL(KD_MUL(two_s, s2), p));
  /* ln 2 split (fdlibm): e * LN2_HI is exact for |e| < 2^11. */
  const double LN2_HI = 6.93147180369123816490e-01;
  const double LN2_LO = 1.90821492927058770002e-10;
  double de = (double)e;
  return KD_ADD(KD_MUL(de, LN2_HI), KD_ADD(KD_MUL(de, LN2_LO), logf));
}

/* sin(pi r), cos(pi r) for |r| <= 1/4: Taylor series in r^2 to degree 17/16. */
KD_HD void kd_sincospi_reduced(double r, double *s, double *c) {
  double r2 = KD_MUL(r, r);
  double ps = KD_SINPI_LEAD, pc = KD_COSPI_LEAD;
#define KD_STEP(c) ps = KD_ADD(c, KD_MUL(r2, ps));
  KD_SINPI_STEPS(KD_STEP)
#undef KD_STEP
#define KD_STEP(c) pc = KD_ADD(c, KD_MUL(r2, pc));
  KD_COSPI_STEPS(KD_STEP)
#undef KD_STEP
  *s = KD_MUL(r, ps);
  *c = pc;
}

/* sin and cos of 2 pi u for u = k 2^-53, k < 2^53, reduced in integers:
 * 4u = q + d 2^-51 with q the nearest integer, so 2 pi u = q pi/2 + pi r,
 * r = d 2^-52 in [-1/4, 1/4), exactly. */
KD_HD void kd_sincos2pi_bits(uint64_t k, double *s, double *c) {
  uint64_t q = (k + (1ULL << 50)) >> 51; /* 0..4 */
  int64_t d = (int64_t)k - (int64_t)(q << 51);
  double r = (double)d * 0x1p-52;
  double sr, cr;
  kd_sincospi_reduced(r, &sr, &cr);
  switch (q & 3) {
    case 0: *s = sr; *c = cr; break;
    case 1: *s = cr; *c = -sr; break;
    case 2: *s = -sr; *c = -cr; break;
    default: *s = -cr; *c = sr; break;
  }
}

/* ---- normals -------------------------------------------------------------------- */

/* Two standard normals from one Philox output (Box-Muller). */
KD_HD void kd_normal_pair(const uint32_t w[4], double *z0, double *z1) {
  double u1 = kd_uniform_open0(kd_bits53(w[0], w[1]));
  uint64_t k2 = kd_bits53(w[2], w[3]);
  double rad = sqrt(KD_MUL(-2.0, kd_log(u1)));
  double s, c;
  kd_sincos2pi_bits(k2, &s, &c);
  *z0 = KD_MUL(rad, c);
  *z1 = KD_MUL(rad, s);
}

KD_HD void kd_rng_counter(kd_rng_addr a, uint64_t row_pair, uint32_t col,
                          uint32_t ctr[4], uint32_t key[2]) {
  ctr[0] = (uint32_t)row_pair;
  ctr[1] = col;
  ctr[2] = (a.trial << 8) | (a.purpose & 0xffu);
  ctr[3] = a.point;
  key[0] = (uint32_t)a.seed;
  key[1] = (uint32_t)(a.seed >> 32);
}

/* The normal at (row, col) of the stream `a`: the reference definition that the
 * bulk fills (CPU and GPU) must reproduce exactly. */
KD_HD double kd_rng_normal_at(kd_rng_addr a, uint64_t row, uint32_t col) {
  uint32_t ctr[4], key[2], w[4];
  kd_rng_counter(a, row >> 1, col, ctr, key);
  kd_philox4x32_10(ctr, key, w);
  double z0, z1;
  kd_normal_pair(w, &z0, &z1);
  return (row & 1) ? z1 : z0;
}

/* The uniform in [0, 1) at `row` of the stream `a` (column 0): the 53-bit uniform of
 * the first two words of its Philox output (the same counter as the normal pair of rows
 * 2 row and 2 row + 1, so a stream is for uniforms or for normals, not both). */
KD_HD double kd_rng_uniform_at(kd_rng_addr a, uint64_t row) {
  uint32_t ctr[4], key[2], w[4];
  kd_rng_counter(a, row, 0, ctr, key);
  kd_philox4x32_10(ctr, key, w);
  return kd_uniform_open1(kd_bits53(w[0], w[1]));
}

/* ---- host-side bulk generation (host/base/rng.c) ----------------------------------------- */
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Z[i + (j - col0) ld] = normal(a, row i, column j) for i < n, col0 <= j < col0+ncol,
 * each column scaled by scale[j - col0] when scale is not NULL. Parallel over columns. */
void kd_rng_fill(kd_rng_addr a, size_t n, uint32_t col0, size_t ncol,
                 const double *scale, double *Z, size_t ld);

/* The bulk path's Box-Muller on given Philox outputs: z[2i], z[2i+1] from the words
 * w[4i .. 4i+3], i < count, exactly as kd_normal_pair (a test hook for edge-case words). */
void kd_normals_from_words(const uint32_t *w, size_t count, double *z);

/* The bulk paths of kd_rng_fill and kd_normals_from_words, slowest first. Each gives
 * exactly the values of kd_rng_normal_at; tests/test_rng.c checks every path the machine
 * runs, bench/bench_rng.c times them. */
typedef enum {
  KD_RNG_GENERIC, /* plain C, vectorised by the compiler for the baseline ISA */
  KD_RNG_AVX2,    /* AVX2 intrinsics, 16 row pairs per step */
  KD_RNG_AVX512,  /* AVX-512 F + DQ intrinsics, 32 row pairs per step */
  KD_RNG_PATHS    /* their number; for kd_rng_use_path: the fastest this CPU runs */
} kd_rng_path;

/* Whether this build and this CPU can run the path. */
int kd_rng_path_runs(kd_rng_path p);
/* "generic", "avx2", "avx512". */
const char *kd_rng_path_name(kd_rng_path p);
/* The path in use (at start-up the fastest this CPU runs). */
kd_rng_path kd_rng_current_path(void);
/* Uses path p from now on (KD_RNG_PATHS: the fastest this CPU runs again); a path the
 * CPU cannot run is refused (returns -1, nothing changes), else returns the path that
 * was in use. Values never depend on it; it is for tests and benchmarks. */
int kd_rng_use_path(kd_rng_path p);
#ifdef __cplusplus
}
#endif

#endif
