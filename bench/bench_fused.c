/* bench_fused: does fusing generation with the Gram pay (issue 17, item 2)?
 *
 * The CPU stage (host/sim/backend_cpu.c) draws the whole design X (n x p, column-major,
 * kd_rng_fill) and then forms the lower triangle of its Gram with one dsyrk: X X^T when
 * p > n (the kernel form, a sum over X's columns), X^T X when n >= p (the primal form, a
 * sum over its rows). Fused, X is drawn a panel at a time and each panel's SYRK is
 * accumulated into the Gram (beta = 1 after the first), so that the Gram reads every
 * panel while it is still in cache:
 *   kernel form  column panels of w columns: kd_rng_fill(design, n, j0, w, ...) into
 *                X's own columns (the stage needs X again for X^T A after the solve), so
 *                the values are the product's design bit for bit;
 *   primal form  row panels of w rows, drawn into a w x p buffer and never stored (the
 *                labels and X^T Y could be accumulated per panel too). kd_rng_fill starts
 *                every column at row 0, so the prototype draws each panel from a stream
 *                of its own (point + 1 + panel index): the same calls, the same count of
 *                normals per column segment, other values. Its Gram is compared with the
 *                unfused SYRK of the design assembled from the same panels.
 * Timed: generation + Gram of one trial (the ridge shift and everything after the Gram
 * are the same either way), unfused against fused at each panel width, in R rounds whose
 * order is reversed every other round, so that load from other work falls on all of them
 * alike; in each round a variant runs for `slice` seconds (at least one sample) and its
 * median is kept. Reported: the medians over rounds of the time per trial and of each
 * round's ratio fused / unfused, and the Gram's difference from the unfused one
 * (summation order: the last bits), in two modes: 2x1 (two trials side by side, BLAS on
 * one thread each: kd_trial_team, as kdbench runs designs of <= 2^22 entries) and 1x2
 * (one trial, BLAS and generation on both cores: as it runs larger ones).
 *
 * Napkin math printed beside it: bytes of X, the time to write it and read it back at
 * the STREAM-like triad bandwidth measured in the same run (both cores), the L3 size
 * (sysfs), and the traffic of re-reading and re-writing the Gram's lower triangle once
 * per panel (beta = 1).
 *
 *   bench_fused [--rounds R] [--slice S] [--shape NxP[:RIDGE]] [--widths W,W,...]
 *               [--mode 2x1|1x2|both] [--check]
 *     defaults: 5 rounds of 0.3 s per variant, the shapes 200x500, 1000x2000, 2000x1000,
 *     4000x4000:1e-3, widths 64,256,1024 (those below the dimension panelled), both modes
 *     --check  the dry run (tests): small shapes and odd widths; the fused kernel-form
 *              design equals the scalar reference kd_rng_normal_at bit for bit, every
 *              fused Gram equals the unfused one to 1e-12 of sqrt(G_ii G_jj); exit 1
 *              otherwise */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/backend.h"
#include "kdbench/hash.h"
#include "kdbench/pipeline.h"
#include "kdbench/rng.h"
#include "kdbench/version.h"
#include "timing.h"

#define SEED 20240601u
#define MAX_WIDTHS 8
#define MAX_ROUNDS 99
#define MAX_SHAPES 8
#define TRIAD_N ((size_t)1 << 25) /* 256 MiB per array */
#define CHECK_TOL 1e-12

typedef struct {
  size_t n, p;
  double ridge;
} shape;

static const shape default_shapes[] = {{200, 500, 0}, {1000, 2000, 0}, {2000, 1000, 0},
                                       {4000, 4000, 1e-3}};

/* One shape as the stage sees it. */
typedef struct {
  size_t n, p, m;
  int kernel;          /* p > n: G = X X^T (column panels), else X^T X (row panels) */
  const double *scale; /* sqrt(lambda); NULL on the whitened path (ridgeless n >= p) */
  kd_rng_addr design;
} geom;

/* One worker's buffers. */
typedef struct {
  double *x, *g, *panel; /* n x p; m x m; w x p (row panels) */
  double t_gen, t_syrk;  /* the unfused variant's two steps, last trial */
} buffers;

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static kd_rng_addr trial_stream(const geom *g, uint32_t trial) {
  kd_rng_addr a = g->design;
  a.trial = trial;
  return a;
}

/* The stream of row panel r (the prototype's stand-in for rows r w .. of the design). */
static kd_rng_addr panel_stream(kd_rng_addr a, size_t r) {
  a.point += 1u + (uint32_t)r;
  return a;
}

/* Generation + Gram of one trial: width 0 as the stage does it, else fused. */
static void run_variant(const geom *g, buffers *b, size_t width, uint32_t trial) {
  const int n = (int)g->n, p = (int)g->p, m = (int)g->m;
  const kd_rng_addr a = trial_stream(g, trial);
  if (width == 0) {
    double t0 = now();
    kd_rng_fill(a, g->n, 0, g->p, g->scale, b->x, g->n);
    double t1 = now();
    cblas_dsyrk(CblasColMajor, CblasLower, g->kernel ? CblasNoTrans : CblasTrans, m,
                g->kernel ? p : n, 1.0, b->x, n, 0.0, b->g, m);
    b->t_gen = t1 - t0;
    b->t_syrk = now() - t1;
  } else if (g->kernel) {
    for (size_t j0 = 0; j0 < g->p; j0 += width) {
      const size_t w = min_sz(width, g->p - j0);
      double *panel = b->x + j0 * g->n;
      kd_rng_fill(a, g->n, (uint32_t)j0, w, g->scale ? g->scale + j0 : NULL, panel, g->n);
      cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, m, (int)w, 1.0, panel, n,
                  j0 ? 1.0 : 0.0, b->g, m);
    }
  } else {
    for (size_t r0 = 0, r = 0; r0 < g->n; r0 += width, ++r) {
      const size_t h = min_sz(width, g->n - r0);
      kd_rng_fill(panel_stream(a, r), h, 0, g->p, g->scale, b->panel, h);
      cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, m, (int)h, 1.0, b->panel, (int)h,
                  r0 ? 1.0 : 0.0, b->g, m);
    }
  }
}

/* The design the fused primal form's Gram sums: its row panels, assembled into x. */
static void assemble_rows(const geom *g, buffers *b, size_t width, uint32_t trial) {
  const kd_rng_addr a = trial_stream(g, trial);
  for (size_t r0 = 0, r = 0; r0 < g->n; r0 += width, ++r) {
    const size_t h = min_sz(width, g->n - r0);
    kd_rng_fill(panel_stream(a, r), h, 0, g->p, g->scale, b->panel, h);
    LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', (lapack_int)h, (lapack_int)g->p, b->panel,
                        (lapack_int)h, b->x + r0, (lapack_int)g->n);
  }
}

typedef struct {
  double rel;    /* max |d_ij| / |G_ij| */
  double scaled; /* max |d_ij| / sqrt(G_ii G_jj) */
} gram_diff;

/* Lower triangles of the unfused gu and the fused gf. */
static gram_diff diff_grams(size_t m, const double *gu, const double *gf) {
  gram_diff d = {0, 0};
  for (size_t j = 0; j < m; ++j)
    for (size_t i = j; i < m; ++i) {
      const double u = gu[i + j * m], e = fabs(gf[i + j * m] - u);
      const double rel = u != 0 ? e / fabs(u) : (e > 0 ? INFINITY : 0);
      const double sc = e / sqrt(gu[i + i * m] * gu[j + j * m]);
      if (rel > d.rel || isnan(rel)) d.rel = rel;
      if (sc > d.scaled || isnan(sc)) d.scaled = sc;
    }
  return d;
}

static void buffers_alloc(buffers *b, const geom *g, size_t max_width) {
  b->x = xmalloc(g->n * g->p * sizeof(double));
  b->g = xmalloc(g->m * g->m * sizeof(double));
  b->panel = g->kernel ? NULL : xmalloc(min_sz(max_width, g->n) * g->p * sizeof(double));
}

static void buffers_free(buffers *b) {
  free(b->x);
  free(b->g);
  free(b->panel);
}

/* The fused Gram of width w against the unfused one of the same design (trial `trial`,
 * in the calling thread with the BLAS threads it has); *design_same: the fused kernel
 * form's design equals the unfused one byte for byte (always 1 for the primal form,
 * whose unfused Gram is taken of the assembled panels). */
static gram_diff compare_width(const geom *g, buffers *u, buffers *f, size_t width,
                               uint32_t trial, int *design_same) {
  const int n = (int)g->n, m = (int)g->m;
  run_variant(g, f, width, trial);
  if (g->kernel) {
    run_variant(g, u, 0, trial);
    *design_same = memcmp(u->x, f->x, g->n * g->p * sizeof(double)) == 0;
  } else {
    assemble_rows(g, u, width, trial);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, m, n, 1.0, u->x, n, 0.0, u->g, m);
    *design_same = 1;
  }
  return diff_grams(g->m, u->g, f->g);
}

/* ---- the machine: memory bandwidth, L3 ----------------------------------------------- */

/* GB/s of the triad a = b + s c over TRIAD_N doubles on `threads` threads (24 bytes per
 * element, as STREAM counts it: no write-allocate), median of 5 after a warm-up. */
static double triad_gbs(int threads) {
  double *a = xmalloc(TRIAD_N * sizeof(double)), *b = xmalloc(TRIAD_N * sizeof(double)),
         *c = xmalloc(TRIAD_N * sizeof(double));
  double t[6];
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t i = 0; i < TRIAD_N; ++i) {
    a[i] = 0;
    b[i] = 1.0;
    c[i] = 2.0;
  }
  for (int r = 0; r < 6; ++r) {
    const double s = 1.0 + r, t0 = now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < TRIAD_N; ++i) a[i] = b[i] + s * c[i];
    t[r] = now() - t0;
  }
  volatile double sink = a[TRIAD_N / 2];
  (void)sink;
  free(a);
  free(b);
  free(c);
  timing tm;
  summarize(t + 1, 5, &tm);
  return 24.0 * (double)TRIAD_N / tm.median * 1e-9;
}

/* GB/s copied by one memcpy of TRIAD_N doubles (bytes copied / s), median of 5. */
static double memcpy_gbs(void) {
  double *a = xmalloc(TRIAD_N * sizeof(double)), *b = xmalloc(TRIAD_N * sizeof(double));
  memset(a, 1, TRIAD_N * sizeof(double));
  memset(b, 2, TRIAD_N * sizeof(double));
  double t[6];
  for (int r = 0; r < 6; ++r) {
    double t0 = now();
    memcpy(r & 1 ? a : b, r & 1 ? b : a, TRIAD_N * sizeof(double));
    t[r] = now() - t0;
  }
  free(a);
  free(b);
  timing tm;
  summarize(t + 1, 5, &tm);
  return 8.0 * (double)TRIAD_N / tm.median * 1e-9;
}

/* The L3 size in bytes from sysfs (glibc's sysconf misreads it in some guests), or 0. */
static double l3_bytes(void) {
  FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r");
  if (!f) return 0;
  unsigned long v = 0;
  char unit = 0;
  int got = fscanf(f, "%lu%c", &v, &unit);
  fclose(f);
  if (got < 1) return 0;
  return (double)v * (unit == 'K' ? 1024.0 : unit == 'M' ? 1048576.0 : 1.0);
}

/* ---- timing ------------------------------------------------------------------------- */

typedef struct {
  const geom *g;
  buffers *buf; /* one per worker */
  size_t width;
} team_ctx;

static kd_status team_trial(void *ctx, kd_backend *be, int worker, uint32_t trial) {
  (void)be;
  team_ctx *c = ctx;
  run_variant(c->g, &c->buf[worker], c->width, trial);
  return KD_OK;
}

typedef struct {
  kd_trial_team team;
  const geom *g;
  buffers *buf;
  uint32_t next_trial;
} mode_ctx;

/* One sample: one trial per worker; its time per trial (wall / trials). */
static double sample(mode_ctx *mc, size_t width, double *gen, double *syrk) {
  team_ctx c = {mc->g, mc->buf, width};
  const unsigned count = (unsigned)mc->team.workers;
  double t0 = now();
  kd_status rc = kd_trial_team_run(&mc->team, mc->next_trial, count, team_trial, &c, NULL);
  double t = now() - t0;
  if (rc != KD_OK) {
    fprintf(stderr, "bench_fused: %s\n", kd_last_error());
    exit(1);
  }
  mc->next_trial += count;
  *gen = *syrk = 0;
  for (unsigned w = 0; w < count; ++w) {
    *gen += mc->buf[w].t_gen / count;
    *syrk += mc->buf[w].t_syrk / count;
  }
  return t / count;
}

/* Samples of one variant for at least `slice` seconds: their median per trial. */
static double slice_median(mode_ctx *mc, size_t width, double slice, double *gen,
                           double *syrk) {
  double t[256], ge[256], sy[256], total = 0;
  unsigned count = 0;
  while (count < 256 && (count == 0 || total < slice)) {
    t[count] = sample(mc, width, &ge[count], &sy[count]);
    total += t[count] * (double)mc->team.workers;
    ++count;
  }
  timing a, b, c;
  summarize(t, count, &a);
  summarize(ge, count, &b);
  summarize(sy, count, &c);
  *gen = b.median;
  *syrk = c.median;
  return a.median;
}

static double median_of(double *v, unsigned count) {
  timing t;
  summarize(v, count, &t);
  return t.median;
}

typedef struct {
  unsigned rounds;
  double slice;
  size_t widths[MAX_WIDTHS];
  unsigned nwidths;
  double triad2, l3;
} settings;

/* One shape in one mode: its rows of the two tables. */
static void run_mode(const settings *s, const geom *g, const shape *sh, kd_backend *be,
                     int side_by_side, FILE *napkin, FILE *table) {
  size_t widths[MAX_WIDTHS], max_width = 0;
  unsigned nw = 0;
  const size_t panelled = g->kernel ? g->p : g->n;
  for (unsigned i = 0; i < s->nwidths; ++i)
    if (s->widths[i] < panelled) {
      widths[nw++] = s->widths[i];
      if (s->widths[i] > max_width) max_width = s->widths[i];
    }
  const int workers = side_by_side ? 2 : 1;
  kd_backend own = *be; /* worker 1's handle: team_trial never uses a backend */
  mode_ctx mc = {.team = {.workers = workers, .single_blas = side_by_side, .be = be,
                          .own = side_by_side ? &own : NULL},
                 .g = g,
                 .next_trial = 0};
  buffers buf[2] = {{0}, {0}};
  for (int w = 0; w < workers; ++w) buffers_alloc(&buf[w], g, max_width);
  mc.buf = buf;
  double warm_g, warm_s;
  for (unsigned v = 0; v <= nw; ++v) slice_median(&mc, v ? widths[v - 1] : 0, 0, &warm_g, &warm_s);
  double per[MAX_WIDTHS + 1][MAX_ROUNDS], ratio[MAX_WIDTHS][MAX_ROUNDS];
  double gen[MAX_ROUNDS], syrk[MAX_ROUNDS];
  for (unsigned r = 0; r < s->rounds; ++r) {
    for (unsigned k = 0; k <= nw; ++k) {
      const unsigned v = r & 1 ? nw - k : k; /* reversed every other round */
      double ge, sy;
      per[v][r] = slice_median(&mc, v ? widths[v - 1] : 0, s->slice, &ge, &sy);
      if (v == 0) {
        gen[r] = ge;
        syrk[r] = sy;
      }
    }
    for (unsigned v = 1; v <= nw; ++v) ratio[v - 1][r] = per[v][r] / per[0][r];
  }
  /* the Gram's difference, with the threads one trial of the mode has */
  const int blas_before = openblas_get_num_threads();
  if (side_by_side) openblas_set_num_threads(1);
  buffers extra = {0};
  buffers_alloc(&extra, g, max_width);
  gram_diff diff[MAX_WIDTHS];
  int same[MAX_WIDTHS];
  for (unsigned v = 0; v < nw; ++v) diff[v] = compare_width(g, &extra, &buf[0], widths[v], 7, &same[v]);
  if (side_by_side) openblas_set_num_threads(blas_before);
  buffers_free(&extra);
  for (int w = 0; w < workers; ++w) buffers_free(&buf[w]);

  const char *mode = side_by_side ? "2x1" : "1x2";
  const double xb = 8.0 * (double)g->n * (double)g->p, cb = 4.0 * (double)g->m * (g->m + 1);
  const double tg = median_of(gen, s->rounds), ts = median_of(syrk, s->rounds);
  const double tu = median_of(per[0], s->rounds);
  /* kernel form: fused saves only the Gram's read of X (X is kept for X^T A); primal:
   * both the write and the read */
  const double saved = (g->kernel ? 1.0 : 2.0) * xb / (s->triad2 * 1e9);
  const double c_pass = 2.0 * cb / (s->triad2 * 1e9); /* read + write of G's lower triangle */
  fprintf(napkin,
          "| %zu x %zu | %s | %s | %.1f MB (%s L3) | %.2f | %.2f MB (%s L3) | %.2f | %.3f | "
          "%.3f | %.1f %% |\n",
          sh->n, sh->p, mode, g->kernel ? "kernel, column panels" : "primal, row panels",
          xb / 1e6, xb <= s->l3 ? "fits" : "exceeds", 1e3 * saved, cb / 1e6,
          cb <= s->l3 ? "fits" : "exceeds", 1e3 * c_pass, 1e3 * tg, 1e3 * ts,
          100 * saved / (tg + ts));
  fprintf(table, "| %zu x %zu | %s | %.3f (%.3f + %.3f) |", sh->n, sh->p, mode, 1e3 * tu,
          1e3 * tg, 1e3 * ts);
  for (unsigned v = 0; v < s->nwidths; ++v) {
    unsigned k = 0;
    while (k < nw && widths[k] != s->widths[v]) ++k;
    if (k == nw) {
      fputs(" - |", table);
      continue;
    }
    double lo = ratio[k][0], hi = ratio[k][0];
    for (unsigned r = 1; r < s->rounds; ++r) {
      lo = ratio[k][r] < lo ? ratio[k][r] : lo;
      hi = ratio[k][r] > hi ? ratio[k][r] : hi;
    }
    fprintf(table, " %.3f (**%.3f**, %.3f-%.3f; %.1e / %.1e%s) |",
            1e3 * median_of(per[k + 1], s->rounds), median_of(ratio[k], s->rounds), lo, hi,
            diff[k].rel, diff[k].scaled, same[k] ? "" : "; DESIGN DIFFERS");
  }
  fputc('\n', table);
  fflush(table);
}

/* ---- shapes -------------------------------------------------------------------------- */

/* The stage's geometry of a shape: bench_cpu_stage's design stream and spectrum
 * (lambda_i = i^-2); *scale_out: sqrt(lambda), for the caller to free. */
static int geom_init(const shape *s, geom *g, double **scale_out) {
  const kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 2.0};
  size_t p = s->p;
  double *lambda = NULL;
  if (kd_spectrum_build(&spec, &p, &lambda) != KD_OK) {
    fprintf(stderr, "bench_fused: %s\n", kd_last_error());
    return -1;
  }
  double *scale = xmalloc(p * sizeof(double));
  for (size_t j = 0; j < p; ++j) scale[j] = sqrt(lambda[j]);
  free(lambda);
  char name[64];
  snprintf(name, sizeof name, "bench n=%zu p=%zu ridge=%g", s->n, s->p, s->ridge);
  *g = (geom){.n = s->n, .p = s->p, .m = min_sz(s->n, s->p), .kernel = s->p > s->n,
              .design = {.seed = SEED, .point = kd_hash32(name), .trial = 0,
                         .purpose = KD_PURPOSE_DESIGN | KD_STAGE_STUDENT}};
  g->scale = (g->kernel || s->ridge > 0) ? scale : NULL; /* whitened: Z */
  *scale_out = scale;
  return 0;
}

/* ---- the dry run (--check) -------------------------------------------------------------- */

/* The fused kernel-form design against the scalar reference, entry by entry. */
static int design_is_reference(const geom *g, const double *x, uint32_t trial) {
  const kd_rng_addr a = trial_stream(g, trial);
  for (size_t j = 0; j < g->p; ++j)
    for (size_t i = 0; i < g->n; ++i) {
      double z = kd_rng_normal_at(a, i, (uint32_t)j);
      if (g->scale && g->scale[j] != 1.0) z *= g->scale[j];
      if (memcmp(&z, &x[i + j * g->n], sizeof z) != 0) return 0;
    }
  return 1;
}

static int check(void) {
  static const shape cs[] = {{30, 70, 0}, {70, 30, 0}, {64, 64, 1e-3}, {33, 257, 0}};
  static const size_t cw[] = {1, 7, 16, 31, 32, 100};
  int bad = 0;
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i) {
    geom g;
    double *scale;
    if (geom_init(&cs[i], &g, &scale) != 0) return 1;
    buffers u = {0}, f = {0};
    buffers_alloc(&u, &g, 100);
    buffers_alloc(&f, &g, 100);
    for (size_t k = 0; k < sizeof cw / sizeof cw[0]; ++k) {
      int same = 0;
      gram_diff d = compare_width(&g, &u, &f, cw[k], 3, &same);
      const int ref = !g.kernel || design_is_reference(&g, f.x, 3);
      const int ok = same && ref && d.scaled <= CHECK_TOL;
      printf("%s %zux%zu width %zu: design %s, Gram %.1e of sqrt(G_ii G_jj) (%.1e of the "
             "entry)\n",
             ok ? "ok  " : "FAIL", cs[i].n, cs[i].p, cw[k],
             !g.kernel ? "of the row panels" : same && ref ? "bit-identical" : "DIFFERS",
             d.scaled, d.rel);
      bad |= !ok;
    }
    buffers_free(&u);
    buffers_free(&f);
    free(scale);
  }
  printf("%s\n", bad ? "bench_fused --check: FAILED" : "bench_fused --check: every fused Gram "
                                                        "agrees to 1e-12");
  return bad ? 1 : 0;
}

/* ---- main ------------------------------------------------------------------------------- */

static int usage(void) {
  fputs("usage: bench_fused [--rounds R] [--slice S] [--shape NxP[:RIDGE]] [--widths W,W,...] "
        "[--mode 2x1|1x2|both] [--check]\n",
        stderr);
  return 2;
}

/* "NxP" or "NxP:RIDGE" -> *s (parse_shape_arg); 0 on success. */
static int parse_shape(const char *text, shape *s) {
  size_t n, p;
  double ridge;
  if (parse_shape_arg(text, &n, &p, &ridge) != 0) return -1;
  *s = (shape){n, p, ridge};
  return 0;
}

/* "64,256,1024" -> widths (each >= 1, at most MAX_WIDTHS); 0 on success. */
static int parse_widths(const char *text, settings *s) {
  s->nwidths = 0;
  const char *q = text;
  for (;;) {
    char *end = NULL;
    unsigned long long w = strtoull(q, &end, 10);
    if (end == q || w == 0 || s->nwidths == MAX_WIDTHS || (*end && *end != ',')) return -1;
    s->widths[s->nwidths++] = (size_t)w;
    if (!*end) return 0;
    q = end + 1;
  }
}

int main(int argc, char **argv) {
  settings s = {.rounds = 5, .slice = 0.3, .widths = {64, 256, 1024}, .nwidths = 3};
  shape list[MAX_SHAPES];
  size_t nlist = sizeof default_shapes / sizeof default_shapes[0];
  memcpy(list, default_shapes, sizeof default_shapes);
  int modes = 3; /* bit 0: 2x1, bit 1: 1x2 */
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (strcmp(arg, "--check") == 0) return check();
    if (!val) return usage();
    if (strcmp(arg, "--rounds") == 0) {
      unsigned long r = strtoul(val, &end, 10);
      if (end == val || *end || r < 1 || r > MAX_ROUNDS) {
        fprintf(stderr, "bench_fused: bad --rounds '%s' (1..%d)\n", val, MAX_ROUNDS);
        return 2;
      }
      s.rounds = (unsigned)r;
    } else if (strcmp(arg, "--slice") == 0) {
      s.slice = strtod(val, &end);
      if (end == val || *end || !(s.slice >= 0 && s.slice <= 60)) {
        fprintf(stderr, "bench_fused: bad --slice '%s' (seconds, 0..60)\n", val);
        return 2;
      }
    } else if (strcmp(arg, "--shape") == 0) {
      if (parse_shape(val, &list[0]) != 0) {
        fprintf(stderr, "bench_fused: bad --shape '%s' (NxP or NxP:RIDGE)\n", val);
        return 2;
      }
      nlist = 1;
    } else if (strcmp(arg, "--widths") == 0) {
      if (parse_widths(val, &s) != 0) {
        fprintf(stderr, "bench_fused: bad --widths '%s' (1 to %d widths >= 1, comma-separated)\n",
                val, MAX_WIDTHS);
        return 2;
      }
    } else if (strcmp(arg, "--mode") == 0) {
      modes = strcmp(val, "2x1") == 0 ? 1 : strcmp(val, "1x2") == 0 ? 2
              : strcmp(val, "both") == 0 ? 3 : 0;
      if (!modes) {
        fprintf(stderr, "bench_fused: bad --mode '%s' (2x1, 1x2 or both)\n", val);
        return 2;
      }
    } else {
      return usage();
    }
    ++i;
  }
  kd_backend be;
  if (kd_backend_open("cpu", &be) != KD_OK) {
    fprintf(stderr, "bench_fused: %s\n", kd_last_error());
    return 1;
  }
  char describe[256];
  be.type->describe(be.state, describe, sizeof describe);
  printf("kdbench %s (%s) fused generation + Gram benchmark, %u rounds of %.2f s per "
         "variant\n%s; %d OpenMP threads; generator path %s\n",
         KDBENCH_VERSION, KDBENCH_GIT_COMMIT, s.rounds, s.slice, describe,
         omp_get_max_threads(), kd_rng_path_name(kd_rng_current_path()));
  const double copy1 = memcpy_gbs(), triad1 = triad_gbs(1);
  s.triad2 = triad_gbs(2);
  s.l3 = l3_bytes();
  printf("memory: memcpy %.1f GB/s copied (1 thread); triad %.1f GB/s (1 thread), %.1f GB/s "
         "(2 threads); L3 %.0f MiB\n\n",
         copy1, triad1, s.triad2, s.l3 / 1048576);
  fflush(stdout);
  char *nap = NULL, *tab = NULL;
  size_t nap_len = 0, tab_len = 0;
  FILE *napkin = open_memstream(&nap, &nap_len), *table = open_memstream(&tab, &tab_len);
  fputs("| n x p | mode | form | X | X's round trip saved at most, ms | lower G | "
        "G's read + write per panel, ms | generation ms | SYRK ms | saved / (gen + SYRK) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n", napkin);
  fputs("| n x p | mode | unfused ms (gen + SYRK) |", table);
  for (unsigned v = 0; v < s.nwidths; ++v)
    fprintf(table, " fused w = %zu ms (**ratio**, range; Gram diff: entry / sqrt(G_ii G_jj)) |",
            s.widths[v]);
  fputs("\n|---|---|---|", table);
  for (unsigned v = 0; v < s.nwidths; ++v) fputs("---|", table);
  fputc('\n', table);
  for (size_t i = 0; i < nlist; ++i) {
    geom g;
    double *scale;
    if (geom_init(&list[i], &g, &scale) != 0) return 1;
    for (int mode = 1; mode <= 2; ++mode) {
      if (!(modes & mode)) continue;
      fprintf(stderr, "bench_fused: %zu x %zu, %s\n", list[i].n, list[i].p,
              mode == 1 ? "2x1" : "1x2");
      run_mode(&s, &g, &list[i], &be, mode == 1, napkin, table);
    }
    free(scale);
  }
  fclose(napkin);
  fclose(table);
  printf("napkin (X and the lower triangle of G at the 2-thread triad bandwidth; generation "
         "and SYRK: the unfused steps, medians over rounds):\n\n%s\ntimes per trial, medians "
         "over rounds; ratio = fused / unfused per round:\n\n%s",
         nap, tab);
  free(nap);
  free(tab);
  kd_backend_close(&be);
  return 0;
}
