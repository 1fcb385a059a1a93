/* bench_rng: normals per second of each bulk path of the generator (kd_rng_fill), on one
 * thread, against the scalar reference of rng.h.
 *
 * In llm.c's manner: every path's fill of the timed design is first checked bit for bit
 * against the scalar reference (kd_rng_normal_at); a mismatch stops the benchmark. Then
 * R rounds; in each, every path (and the reference) fills the design repeatedly for at
 * least `slice` seconds, the order of the paths reversed every other round, so that load
 * from other work on a shared machine falls on all of them alike. Reported per path: the
 * median over rounds of normals/s, ns per normal, GB/s written, and the median over
 * rounds of its speed-up over the scalar reference, the generic and the AVX2 path (the
 * ratios of one round are measured seconds apart).
 *
 * Napkin math: a normal is 8 bytes written, half a Philox4x32-10 call (10 rounds of two
 * 32 x 32 -> 64-bit products and a few xors: ~40 integer operations per pair) and half
 * a Box-Muller transform (a division, a square root and ~70 adds and multiplies per
 * pair: the log's degree-23 series, the sincospi's degree 17/16 ones). At 8 GB/s of
 * stores a thread would write 1e9 normals/s; the arithmetic, ~55 operations per
 * normal, keeps a lane busy far longer, so the rate is bound by the SIMD width.
 *
 *   bench_rng [--n N] [--p P] [--rounds R] [--slice S] [--json FILE]
 *     defaults: the 200 x 500 design of the default sweep, 7 rounds of 0.2 s per path */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/rng.h"
#include "kdbench/version.h"
#include "timing.h"

#define REFERENCE KD_RNG_PATHS /* the index of the scalar reference among the rows */
#define MAX_ROUNDS 99

typedef struct {
  size_t n, p;
  kd_rng_addr a;
  double *z;
} design;

/* The scalar reference: one Philox call and one kd_normal_pair per row pair (rng.h). */
static void fill_reference(const design *d) {
  for (size_t j = 0; j < d->p; ++j)
    for (size_t i = 0; i < d->n; i += 2) {
      uint32_t ctr[4], key[2], w[4];
      kd_rng_counter(d->a, i >> 1, (uint32_t)j, ctr, key);
      kd_philox4x32_10(ctr, key, w);
      double z0, z1;
      kd_normal_pair(w, &z0, &z1);
      d->z[i + j * d->n] = z0;
      if (i + 1 < d->n) d->z[i + 1 + j * d->n] = z1;
    }
}

static void fill(const design *d, int row) {
  if (row == REFERENCE) {
    fill_reference(d);
    return;
  }
  kd_rng_use_path((kd_rng_path)row);
  kd_rng_fill(d->a, d->n, 0, d->p, NULL, d->z, d->n);
}

static const char *row_name(int row) {
  return row == REFERENCE ? "scalar" : kd_rng_path_name((kd_rng_path)row);
}

/* Normals per second of one row: fills for at least `slice` seconds. */
static double rate(const design *d, int row, double slice) {
  unsigned reps = 0;
  double t0 = now(), t;
  do {
    fill(d, row);
    ++reps;
  } while ((t = now() - t0) < slice);
  return (double)reps * (double)(d->n * d->p) / t;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median(double *x, int count) {
  qsort(x, (size_t)count, sizeof *x, cmp_double);
  return count % 2 ? x[count / 2] : 0.5 * (x[count / 2 - 1] + x[count / 2]);
}

static int parse(int argc, char **argv, design *d, int *rounds, double *slice,
                 const char **json) {
  for (int i = 1; i < argc; ++i) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(argv[i], "--json") && v) {
      *json = v;
    } else if (!strcmp(argv[i], "--n") && v) {
      d->n = strtoul(v, &end, 10);
    } else if (!strcmp(argv[i], "--p") && v) {
      d->p = strtoul(v, &end, 10);
    } else if (!strcmp(argv[i], "--rounds") && v) {
      *rounds = (int)strtol(v, &end, 10);
    } else if (!strcmp(argv[i], "--slice") && v) {
      *slice = strtod(v, &end);
    } else {
      fprintf(stderr, "usage: bench_rng [--n N] [--p P] [--rounds R] [--slice S] [--json FILE]\n");
      return 2;
    }
    if (end && *end) {
      fprintf(stderr, "bench_rng: bad value '%s' for %s\n", v, argv[i]);
      return 2;
    }
    ++i;
  }
  if (!d->n || !d->p || *rounds < 1 || *rounds > MAX_ROUNDS || !(*slice > 0)) {
    fprintf(stderr, "bench_rng: n, p >= 1, 1 <= rounds <= %d, slice > 0 seconds\n", MAX_ROUNDS);
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  design d = {.n = 200, .p = 500, .a = {.seed = 20240601u, .point = 1, .trial = 0,
                                        .purpose = KD_PURPOSE_DESIGN}};
  int rounds = 7;
  double slice = 0.2;
  const char *json = NULL;
  int rc = parse(argc, argv, &d, &rounds, &slice, &json);
  if (rc) return rc;
  omp_set_num_threads(1); /* the rate of one thread, as a trial side by side has */
  const size_t count = d.n * d.p;
  d.z = xmalloc(sizeof(double) * count);
  double *want = xmalloc(sizeof(double) * count);

  int rows[KD_RNG_PATHS + 1], nrows = 0;
  rows[nrows++] = REFERENCE;
  for (int p = 0; p < KD_RNG_PATHS; ++p)
    if (kd_rng_path_runs((kd_rng_path)p)) rows[nrows++] = p;
  const kd_rng_path best = kd_rng_current_path();

  printf("kdbench %s (%s) generator benchmark: %zu x %zu normals per fill, one thread, "
         "%d rounds of %.2f s per path; default path here: %s\n",
         KDBENCH_VERSION, KDBENCH_GIT_COMMIT, d.n, d.p, rounds, slice, kd_rng_path_name(best));
  fill(&d, REFERENCE);
  memcpy(want, d.z, sizeof(double) * count);
  for (int r = 1; r < nrows; ++r) { /* validate before timing */
    memset(d.z, 0, sizeof(double) * count);
    fill(&d, rows[r]);
    if (memcmp(d.z, want, sizeof(double) * count)) {
      fprintf(stderr, "bench_rng: the %s path differs from the scalar reference\n",
              row_name(rows[r]));
      return 1;
    }
    printf("  %-8s bit-identical to the scalar reference (%zu normals)\n", row_name(rows[r]),
           count);
  }

  double rate_of[KD_RNG_PATHS + 1][MAX_ROUNDS];
  for (int k = 0; k < rounds; ++k)
    for (int r = 0; r < nrows; ++r) {
      int i = k % 2 ? nrows - 1 - r : r;
      rate_of[i][k] = rate(&d, rows[i], slice);
    }
  kd_rng_use_path(KD_RNG_PATHS);

  FILE *jf = json ? fopen(json, "w") : NULL;
  if (json && !jf) {
    fprintf(stderr, "bench_rng: cannot write %s\n", json);
    return 1;
  }
  if (jf)
    fprintf(jf, "{\"bench\": \"bench_rng\", \"version\": \"%s\", \"commit\": \"%s\", \"n\": %zu, "
            "\"p\": %zu, \"rounds\": %d, \"slice_s\": %g, \"default_path\": \"%s\", \"paths\": [",
            KDBENCH_VERSION, KDBENCH_GIT_COMMIT, d.n, d.p, rounds, slice, kd_rng_path_name(best));
  /* the rows the ratios are taken against: the reference, generic, AVX2 (-1: not run) */
  int base[3] = {0, -1, -1};
  for (int r = 0; r < nrows; ++r) {
    if (rows[r] == KD_RNG_GENERIC) base[1] = r;
    if (rows[r] == KD_RNG_AVX2) base[2] = r;
  }
  printf("  path     normals/s  ns/normal  GB/s written  x scalar  x generic  x avx2"
         "  (medians over rounds)\n");
  for (int i = 0; i < nrows; ++i) {
    double med[MAX_ROUNDS], x[3], ratio[MAX_ROUNDS];
    for (int k = 0; k < rounds; ++k) med[k] = rate_of[i][k];
    for (int b = 0; b < 3; ++b) {
      for (int k = 0; k < rounds && base[b] >= 0; ++k)
        ratio[k] = rate_of[i][k] / rate_of[base[b]][k];
      x[b] = base[b] >= 0 ? median(ratio, rounds) : 0; /* 0: that path does not run */
    }
    double m = median(med, rounds);
    printf("  %-8s %9.3e  %9.3f  %12.2f  %8.2f  %9.2f  %6.2f\n", row_name(rows[i]), m, 1e9 / m,
           8e-9 * m, x[0], x[1], x[2]);
    if (jf)
      fprintf(jf, "%s{\"path\": \"%s\", \"normals_per_s\": %.6g, \"x_scalar\": %.4g, "
              "\"x_generic\": %.4g, \"x_avx2\": %.4g}", i ? ", " : "", row_name(rows[i]), m,
              x[0], x[1], x[2]);
  }
  if (jf) {
    fprintf(jf, "]}\n");
    fclose(jf);
  }
  free(d.z);
  free(want);
  return 0;
}
