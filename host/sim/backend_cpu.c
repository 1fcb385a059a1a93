/* The CPU backend: OpenBLAS + LAPACKE, the reference every other backend is checked
 * against (docs/gpu.md#stage and docs/gpu.md#accuracy).
 *
 * One stage = draw X and z, form all k label vectors, factor ONE Gram, solve all k
 * right-hand sides against it, score each fit:
 *   p > n          kernel form   G = X X^T + n ridge I,  beta_hat = X^T G^-1 Y
 *   n >= p, ridge  primal form   G = X^T X + n ridge I,  beta_hat = G^-1 X^T Y
 *   n >= p, ridge 0  whitened    the same on Z (X = Z Lambda^1/2), theta = Lambda^1/2 beta:
 *                  OLS is equivariant under column scaling, so the Gram's conditioning
 *                  depends on n/p only, never on the spectrum.
 * When the Cholesky factor fails or is too ill-conditioned to trust, the trial is
 * redone by a Householder QR (dgeqrt, blocked compact WY) of the design itself and
 * flagged:
 *   n >= p, ridge 0  QR of Z,  theta = R^-1 Q^T Y
 *   p > n,  ridge 0  QR of X^T (drawn again, transposed, into X's buffer),
 *                    beta = Q [R^-T Y; 0]: the minimum-norm solution
 *   n >= p, ridge    QR of the augmented [X; c I_p], c = sqrt(n ridge): the ridge
 *                    solution is its least-squares solution
 *   p > n,  ridge    QR of [X^T; c I_n]: the ridge solution is the top p rows of
 *                    the minimum-norm solution of [X, c I_n] u = Y, u = Q [R^-T Y; 0]
 *                    (an (n + p) x n system, not (n + p) x p)
 * Its error grows like kappa(X), not kappa(X)^2 as the Gram's. Only when the
 * triangular factor is itself numerically singular (dtrcon) does the trial go on to
 * the rank-revealing dgelsy (on a design redrawn from its stream where the QR
 * overwrote it).
 *
 * All workspaces are grow-only and live in the state: once the largest shape has
 * been seen, a trial allocates nothing. LAPACK is called through the *_work entry
 * points, which neither allocate nor scan the inputs for NaNs. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/backend.h"
#include "kdbench/sgd.h"
#include "kdbench/size_sat.h"

/* Cholesky on the Gram has a forward error of about u / rcond(G); at rcond = 1e-10
 * that is ~1e-6 relative, the least accuracy we accept before paying for QR. */
#define KD_CPU_RCOND_MIN 1e-10

/* dgelsy's rank threshold: it keeps the leading block of the pivoted QR whose
 * estimated condition number stays below 1/rcond. We reach dgelsy only when
 * kappa(X) > ~1e5, and there we want the minimum-norm solution of the problem the
 * data actually pose: keep every direction whose singular value is above the
 * rounding floor (~ sqrt(n p) u ||X||, i.e. 1e-14..1e-13 ||X|| at our sizes) and drop
 * only those below it. A larger threshold (1e-8, say) would truncate genuine small
 * singular directions and change the estimator (the interpolator would no longer
 * interpolate); a smaller one would let pure rounding noise into the solution. */
#define KD_CPU_GELSY_RCOND 1e-13

/* The unpivoted QR solution is the minimum-norm one whenever the design has
 * full rank; its triangular factor is "numerically singular", and dgelsy decides the
 * rank instead, when dtrcon's estimate of its reciprocal 1-norm condition number is
 * below this: 100 times dgelsy's own threshold, so that the QR path never keeps a
 * direction that dgelsy would have dropped (up to the estimators' slack); there the
 * solution's accuracy (about u kappa) is already ~1e-5 relative at best. */
#define KD_CPU_QR_RCOND_MIN 1e-11

/* Block size of dgeqrt / dgemqrt (at 4000 x 4000 with 2 threads, 96-128 took ~1.6 s
 * against ~2.0 s for dgeqrf with LAPACK's default block of 32). */
#define KD_CPU_QR_NB 128

typedef struct {
  void *ptr;
  size_t cap; /* bytes */
} kd_buf;

typedef enum {
  W_X,      /* n x p: the design X, or Z on the whitened path */
  W_Y,      /* n x k: labels; the kernel path solves in place (mixed by rows: n x (k + 1),
               the last column each label column in turn, before its rows are copied out) */
  W_G,      /* m x m: the Gram, then its Cholesky factor */
  W_B,      /* p x k: X^T Y, then beta_hat (theta_hat when whitened) */
  W_NOISE,  /* n: the common noise vector z */
  W_SCALE,  /* p: sqrt(lambda) */
  W_SRC,    /* p x k (columns when mixed): sqrt(lambda) .* sources on the whitened path */
  W_WORK,   /* 3m doubles: dlansy, dpocon */
  W_IWORK,  /* m ints: dpocon */
  /* fallback only, allocated the first time it is taken */
  W_AUG,    /* (n+p) x p: [X; sqrt(n ridge) I] for ridge */
  W_RHS,    /* max(rows, p) x k: dgelsy's right-hand sides, then its solution */
  W_LSWORK, /* dgelsy's optimal workspace */
  W_JPVT,   /* p ints: dgelsy's column pivots; dtrcon's integer workspace */
  W_QRT,    /* nb x cols: the block reflectors' triangular factors (dgeqrt) */
  W_QRWORK, /* dgeqrt, dgemqrt and dtrcon workspace */
  W_COUNT
} kd_work_id;

static const char *const work_names[W_COUNT] = {
    "the design", "the labels", "the Gram matrix", "the solutions",
    "the noise", "the column scales", "the whitened sources", "the LAPACK workspace",
    "the LAPACK integer workspace", "the augmented ridge system",
    "the least-squares right-hand sides", "the least-squares workspace",
    "the column pivots", "the block reflector factors", "the QR workspace"};

typedef struct {
  kd_buf w[W_COUNT];
  /* fallback solves since init, by kind (kd_cpu_fallback_counts, for tests) */
  unsigned long qr_solves, gelsy_solves;
} cpu_state;

/* Test hook (kd_cpu_force_gelsy): every trial takes the fallback, and the fallback
 * goes on to dgelsy, so that tests reach the dgelsy paths Gaussian designs never
 * need. Off in every real run. */
static int force_gelsy_flag;
static int force_gelsy(void) { return __atomic_load_n(&force_gelsy_flag, __ATOMIC_RELAXED); }

/* ---- sizes (shared by the allocations and the workspace model) -------------------- */

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }


/* The fallback's system, rows x cols, whose least-squares (n >= p) or minimum-norm
 * (p > n) solution is the fit: X (Z when whitened), or with ridge the augmented
 * [X; c I_p] (n >= p) or [X, c I_n] (p > n), c = sqrt(n ridge). dgelsy solves it. */
static size_t system_rows(size_t n, size_t p, int ridge) { return ridge && n >= p ? n + p : n; }
static size_t system_cols(size_t n, size_t p, int ridge) { return ridge && p > n ? p + n : p; }

/* Label columns of a stage: k, or its mix's (its SGD's) columns. */
static size_t label_columns(const kd_stage *st) { return st->mix || st->sgd ? st->columns : st->k; }

/* Bytes of each buffer of the Cholesky path for a stage of this shape; `columns` label
 * columns, and `mixed` when its right-hand sides are mixed by rows from them. */
static void main_bytes(size_t n, size_t p, size_t k, size_t columns, int mixed, int whiten,
                       size_t bytes[W_COUNT]) {
  size_t m = min_sz(n, p), d = sizeof(double);
  bytes[W_X] = kd_mul_sat(kd_mul_sat(n, p), d);
  bytes[W_Y] = kd_mul_sat(kd_mul_sat(n, k + (mixed != 0)), d);
  bytes[W_G] = kd_mul_sat(kd_mul_sat(m, m), d);
  bytes[W_B] = kd_mul_sat(kd_mul_sat(p, k), d);
  bytes[W_NOISE] = kd_mul_sat(n, d);
  bytes[W_SCALE] = kd_mul_sat(p, d);
  bytes[W_SRC] = whiten ? kd_mul_sat(kd_mul_sat(p, columns), d) : 0;
  bytes[W_WORK] = kd_mul_sat(kd_mul_sat(3, m), d);
  bytes[W_IWORK] = kd_mul_sat(m, sizeof(lapack_int));
}

/* dgelsy's optimal workspace, in doubles, from its own query (no data touched). */
static size_t gelsy_lwork(lapack_int rows, lapack_int p, lapack_int k) {
  double query = 0, a = 0, b = 0;
  lapack_int jpvt = 0, rank = 0;
  lapack_int ldb = rows > p ? rows : p;
  lapack_int info = LAPACKE_dgelsy_work(LAPACK_COL_MAJOR, rows, p, k, &a, rows, &b, ldb,
                                        &jpvt, KD_CPU_GELSY_RCOND, &rank, &query, -1);
  return info == 0 ? (size_t)query : SIZE_MAX;
}

/* The fallback's QR: of the system's transpose (X^T or [X^T; c I_n], cols = n) when
 * p > n, where the minimum-norm solution lives in the row space of X; of the system
 * itself (cols = p) otherwise. Its matrix has qr_rows >= qr_cols rows. */
static int fallback_kernel(size_t n, size_t p) { return p > n; }
static size_t qr_rows(size_t n, size_t p, int ridge) {
  return fallback_kernel(n, p) ? system_cols(n, p, ridge) : system_rows(n, p, ridge);
}
static size_t qr_cols(size_t n, size_t p) { return min_sz(n, p); }
static size_t qr_nb(size_t cols) { return cols < KD_CPU_QR_NB ? cols : KD_CPU_QR_NB; }

/* Bytes of each buffer of the orthogonal-factorisation fallback. */
static void fallback_bytes(size_t n, size_t p, size_t k, int ridge, size_t bytes[W_COUNT]) {
  size_t rows = system_rows(n, p, ridge), sys_cols = system_cols(n, p, ridge), d = sizeof(double);
  /* the augmented system, or (p > n) its transpose for the QR: the same size */
  bytes[W_AUG] = ridge ? kd_mul_sat(kd_mul_sat(rows, sys_cols), d) : 0;
  bytes[W_RHS] = kd_mul_sat(kd_mul_sat(max_sz(rows, sys_cols), k), d);
  bytes[W_LSWORK] =
      kd_mul_sat(gelsy_lwork((lapack_int)rows, (lapack_int)sys_cols, (lapack_int)k), d);
  bytes[W_JPVT] = kd_mul_sat(sys_cols, sizeof(lapack_int));
  size_t cols = qr_cols(n, p), nb = qr_nb(cols);
  bytes[W_QRT] = kd_mul_sat(kd_mul_sat(nb, cols), d);
  /* dgeqrt: nb cols; dgemqrt from the left: nb k; dtrcon: 3 cols */
  bytes[W_QRWORK] = kd_mul_sat(max_sz(kd_mul_sat(nb, max_sz(cols, k)), kd_mul_sat(3, cols)), d);
}

/* Shapes whose every dimension (the augmented system's n + p rows included) fits a
 * LAPACK integer, as kd_stage_validate requires. */
static int shape_fits_lapack(size_t n, size_t p, size_t k) {
  return n <= INT_MAX && p <= INT_MAX - n && k <= INT_MAX;
}

/* The workspace model (kd_backend_type.workspace): slot i < W_COUNT is buffer i, as
 * cpu_run_stage reserves it on the Cholesky path and solve_orthogonal on the
 * fallback's, and slot W_COUNT the state itself. A shape no stage accepts is SIZE_MAX. */
static void cpu_workspace(kd_workspace *w, size_t n, size_t p, size_t k, double ridge) {
  size_t bytes[W_COUNT + 1] = {0};
  if (!shape_fits_lapack(n, p, k)) {
    bytes[W_X] = SIZE_MAX;
  } else {
    main_bytes(n, p, k, k, 0, ridge == 0 && n >= p, bytes);
    fallback_bytes(n, p, k, ridge > 0, bytes);
  }
  bytes[W_COUNT] = sizeof(cpu_state);
  kd_workspace_grow(w->host, bytes, W_COUNT + 1);
}
_Static_assert(W_COUNT + 1 <= KD_WORKSPACE_SLOTS, "a workspace slot per buffer, and the state");

/* ---- workspaces ------------------------------------------------------------------- */

/* Grows buffer `id` to at least `bytes` (contents are not kept). */
static kd_status reserve(cpu_state *s, kd_work_id id, size_t bytes) {
  kd_buf *b = &s->w[id];
  if (bytes == SIZE_MAX)
    return kd_fail(KD_ENOMEM, "cpu backend: %s of this stage exceeds the address space",
                   work_names[id]);
  if (b->cap >= bytes) return KD_OK;
  free(b->ptr);
  b->ptr = malloc(bytes);
  b->cap = b->ptr ? bytes : 0;
  if (!b->ptr)
    return kd_fail(KD_ENOMEM, "cpu backend: cannot allocate %zu bytes for %s", bytes,
                   work_names[id]);
  return KD_OK;
}

static kd_status reserve_all(cpu_state *s, const size_t bytes[W_COUNT], int first, int last) {
  for (int i = first; i <= last; ++i) {
    kd_status rc = reserve(s, (kd_work_id)i, bytes[i]);
    if (rc != KD_OK) return rc;
  }
  return KD_OK;
}

static double *dbuf(cpu_state *s, kd_work_id id) { return s->w[id].ptr; }
static lapack_int *ibuf(cpu_state *s, kd_work_id id) { return s->w[id].ptr; }

/* ---- the stage, step by step ------------------------------------------------------ */

static int whitened(const kd_stage *st) { return st->ridge == 0 && st->n >= st->p; }

/* y (n x k) = x s + z sigma^T: k label columns s (p x k) with their noise levels. */
static void label(const kd_stage *st, int k, const double *x, const double *src,
                  const double *sigma, const double *z, double *y) {
  const int n = (int)st->n, p = (int)st->p;
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, k, p, 1.0, x, n, src, p, 0.0,
              y, n);
  cblas_dger(CblasColMajor, n, k, 1.0, z, 1, sigma, 1, y, n);
}

/* Right-hand sides mixed by rows (kd_row_mix): each label column in turn, computed
 * alone exactly as an unmixed stage of that one column computes it, into the spare last
 * column of Y, then its blocks copied into the right-hand sides they label. */
static void label_mixed(cpu_state *s, const kd_stage *st, const double *src) {
  const size_t n = st->n, p = st->p;
  double *y = dbuf(s, W_Y), *col = y + n * st->k;
  for (size_t c = 0; c < st->columns; ++c) {
    label(st, 1, dbuf(s, W_X), src + c * p, st->sigma + c, dbuf(s, W_NOISE), col);
    for (size_t r = 0; r < st->k; ++r) {
      const kd_row_mix *m = &st->mix[r];
      for (size_t b = 0, row = 0; b < m->blocks; row += m->rows[b++])
        if (m->column[b] == c)
          memcpy(y + r * n + row, col + row, sizeof(double) * m->rows[b]);
    }
  }
}

/* X (or Z when whitened) and z from their streams; Y = X S + z sigma^T, which on the
 * whitened path is Z (sqrt(lambda) .* S) + z sigma^T: the same labels. */
static void draw(cpu_state *s, const kd_stage *st) {
  const size_t p = st->p, columns = label_columns(st);
  double *x = dbuf(s, W_X), *z = dbuf(s, W_NOISE);
  double *scale = dbuf(s, W_SCALE);
  for (size_t j = 0; j < p; ++j) scale[j] = sqrt(st->lambda[j]);
  const double *src = st->sources;
  if (whitened(st)) {
    double *theta = dbuf(s, W_SRC);
    for (size_t r = 0; r < columns; ++r)
      for (size_t j = 0; j < p; ++j) theta[j + r * p] = scale[j] * src[j + r * p];
    src = theta;
  }
  kd_rng_fill(st->design, st->n, 0, st->p, whitened(st) ? NULL : scale, x, st->n);
  kd_rng_fill(st->noise, st->n, 0, 1, NULL, z, st->n);
  if (st->mix)
    label_mixed(s, st, src);
  else
    label(st, (int)st->k, x, src, st->sigma, z, dbuf(s, W_Y));
}

/* Lower triangle of G = X X^T (p > n) or X^T X (n >= p), plus n ridge on the diagonal. */
static void form_gram(cpu_state *s, const kd_stage *st) {
  const int n = (int)st->n, p = (int)st->p;
  const int kernel = st->p > st->n, m = kernel ? n : p;
  double *g = dbuf(s, W_G);
  cblas_dsyrk(CblasColMajor, CblasLower, kernel ? CblasNoTrans : CblasTrans, m,
              kernel ? p : n, 1.0, dbuf(s, W_X), n, 0.0, g, m);
  const double shift = (double)st->n * st->ridge;
  for (int i = 0; i < m; ++i) g[i + (size_t)i * m] += shift;
}

/* Cholesky of G in place; *trusted = 0 when it breaks down or rcond < KD_CPU_RCOND_MIN
 * (anorm is taken before the factorisation overwrites G). */
static kd_status factor_gram(cpu_state *s, lapack_int m, int *trusted) {
  double *g = dbuf(s, W_G), *work = dbuf(s, W_WORK);
  double anorm = LAPACKE_dlansy_work(LAPACK_COL_MAJOR, '1', 'L', m, g, m, work);
  lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', m, g, m);
  if (info < 0) return kd_fail(KD_ENUM, "cpu backend: dpotrf argument %d is invalid", (int)-info);
  *trusted = 0;
  if (info > 0) return KD_OK;
  double rcond = 0;
  info = LAPACKE_dpocon_work(LAPACK_COL_MAJOR, 'L', m, g, m, anorm, &rcond, work,
                             ibuf(s, W_IWORK));
  if (info != 0) return kd_fail(KD_ENUM, "cpu backend: dpocon argument %d is invalid", (int)-info);
  *trusted = rcond >= KD_CPU_RCOND_MIN; /* false for a NaN rcond too */
  return KD_OK;
}

/* B = beta_hat (theta_hat when whitened) from the Cholesky factor, all RHS at once. */
static kd_status solve_cholesky(cpu_state *s, const kd_stage *st) {
  const int n = (int)st->n, p = (int)st->p, k = (int)st->k;
  const int kernel = st->p > st->n;
  double *x = dbuf(s, W_X), *y = dbuf(s, W_Y), *g = dbuf(s, W_G), *b = dbuf(s, W_B);
  lapack_int info;
  if (kernel) { /* A = G^-1 Y in place, then beta_hat = X^T A */
    info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', n, k, g, n, y, n);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, p, k, n, 1.0, x, n, y, n, 0.0, b, p);
  } else { /* C = X^T Y, then beta_hat = G^-1 C in place */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, p, k, n, 1.0, x, n, y, n, 0.0, b, p);
    info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', p, k, g, p, b, p);
  }
  if (info != 0) return kd_fail(KD_ENUM, "cpu backend: dpotrs argument %d is invalid", (int)-info);
  return KD_OK;
}

/* The fallback's system (system_rows x system_cols): X itself (destroyed, it is
 * redrawn every trial) when ridgeless, else the augmented [X; c I_p] (n >= p) or
 * [X, c I_n] (p > n), whose least-squares or minimum-norm solution has the ridge
 * solution in its first p rows. */
static double *fallback_matrix(cpu_state *s, const kd_stage *st) {
  if (st->ridge == 0) return dbuf(s, W_X);
  const size_t n = st->n, p = st->p, rows = system_rows(n, p, 1);
  const double c = sqrt((double)n * st->ridge);
  double *a = dbuf(s, W_AUG);
  LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', (lapack_int)n, (lapack_int)p, dbuf(s, W_X),
                      (lapack_int)n, a, (lapack_int)rows);
  if (fallback_kernel(n, p)) /* c I_n to the right of X */
    LAPACKE_dlaset_work(LAPACK_COL_MAJOR, 'A', (lapack_int)n, (lapack_int)n, 0.0, c,
                        a + n * p, (lapack_int)n);
  else /* c I_p below X */
    LAPACKE_dlaset_work(LAPACK_COL_MAJOR, 'A', (lapack_int)p, (lapack_int)p, 0.0, c, a + n,
                        (lapack_int)rows);
  return a;
}

/* B = the minimum-norm least-squares solution by dgelsy (complete orthogonal
 * factorisation with column pivoting), all RHS at once. Needs X and Y as drawn. */
static kd_status solve_gelsy(cpu_state *s, const kd_stage *st, const size_t bytes[W_COUNT]) {
  const size_t n = st->n, p = st->p, k = st->k;
  const int ridge = st->ridge > 0;
  const size_t rows = system_rows(n, p, ridge), cols = system_cols(n, p, ridge);
  const size_t ldb = max_sz(rows, cols);
  double *a = fallback_matrix(s, st), *rhs = dbuf(s, W_RHS);
  LAPACKE_dlaset_work(LAPACK_COL_MAJOR, 'A', (lapack_int)ldb, (lapack_int)k, 0.0, 0.0, rhs,
                      (lapack_int)ldb);
  LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', (lapack_int)n, (lapack_int)k, dbuf(s, W_Y),
                      (lapack_int)n, rhs, (lapack_int)ldb);
  lapack_int *jpvt = ibuf(s, W_JPVT);
  lapack_int rank = 0;
  for (size_t j = 0; j < cols; ++j) jpvt[j] = 0; /* every column free to pivot */
  lapack_int info = LAPACKE_dgelsy_work(
      LAPACK_COL_MAJOR, (lapack_int)rows, (lapack_int)cols, (lapack_int)k, a, (lapack_int)rows,
      rhs, (lapack_int)ldb, jpvt, KD_CPU_GELSY_RCOND, &rank, dbuf(s, W_LSWORK),
      (lapack_int)(bytes[W_LSWORK] / sizeof(double)));
  if (info != 0) return kd_fail(KD_ENUM, "cpu backend: dgelsy argument %d is invalid", (int)-info);
  LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', (lapack_int)p, (lapack_int)k, rhs,
                      (lapack_int)ldb, dbuf(s, W_B), (lapack_int)p);
  ++s->gelsy_solves;
  return KD_OK;
}

static kd_status lapack_error(const char *routine, lapack_int info) {
  return kd_fail(KD_ENUM, "cpu backend: %s argument %d is invalid", routine, (int)-info);
}

/* The triangular factor's reciprocal 1-norm condition number (dtrcon's estimate). */
static kd_status triangle_rcond(cpu_state *s, char uplo, lapack_int m, const double *t,
                                lapack_int ldt, double *rcond) {
  lapack_int info = LAPACKE_dtrcon_work(LAPACK_COL_MAJOR, '1', uplo, 'N', m, t, ldt, rcond,
                                        dbuf(s, W_QRWORK), ibuf(s, W_JPVT));
  return info == 0 ? KD_OK : lapack_error("dtrcon", info);
}

/* X^T (p x n) into the top of a (leading dimension lda), drawn again from its stream
 * a block of columns at a time through the QR workspace (free until dgeqrt, and nb n
 * doubles long): the values a transposed copy of X would hold, so that ridgeless it
 * can go into X's own buffer instead of a second n x p one. */
static void draw_transposed(cpu_state *s, const kd_stage *st, double *a, size_t lda) {
  const size_t n = st->n, p = st->p, nb = qr_nb(n);
  const double *scale = dbuf(s, W_SCALE);
  double *block = dbuf(s, W_QRWORK);
  for (size_t j0 = 0; j0 < p; j0 += nb) {
    const size_t cols = min_sz(nb, p - j0);
    kd_rng_fill(st->design, n, (uint32_t)j0, cols, scale + j0, block, n);
    for (size_t i = 0; i < n; ++i)
      for (size_t c = 0; c < cols; ++c) a[j0 + c + i * lda] = block[i + c * n];
  }
}

/* B by Householder QR of the fallback's system (its transpose in the kernel form);
 * *singular = 1, with B untouched, when the triangular factor is numerically
 * singular. Overwrites X or Z when ridgeless and, when it succeeds, Y. */
static kd_status solve_qr(cpu_state *s, const kd_stage *st, int *singular) {
  const size_t n = st->n, p = st->p;
  const int ridge = st->ridge > 0, kernel = fallback_kernel(n, p);
  const lapack_int rows = (lapack_int)qr_rows(n, p, ridge), cols = (lapack_int)qr_cols(n, p);
  const lapack_int nb = (lapack_int)qr_nb((size_t)cols), k = (lapack_int)st->k;
  const lapack_int ln = (lapack_int)n;
  double *t = dbuf(s, W_QRT), *work = dbuf(s, W_QRWORK), *b = dbuf(s, W_B), *y = dbuf(s, W_Y);
  double *a;
  if (kernel) { /* A = X^T (p x n) in place of X, or [X^T; c I_n] */
    a = ridge ? dbuf(s, W_AUG) : dbuf(s, W_X);
    draw_transposed(s, st, a, (size_t)rows);
    if (ridge)
      LAPACKE_dlaset_work(LAPACK_COL_MAJOR, 'A', ln, ln, 0.0, sqrt((double)n * st->ridge),
                          a + p, rows);
  } else {
    a = fallback_matrix(s, st);
  }
  *singular = 0;
  lapack_int info = LAPACKE_dgeqrt_work(LAPACK_COL_MAJOR, rows, cols, nb, a, rows, t, nb, work);
  if (info != 0) return lapack_error("dgeqrt", info);
  double rcond = 0;
  kd_status rc = triangle_rcond(s, 'U', cols, a, rows, &rcond);
  if (rc != KD_OK) return rc;
  if (!(rcond >= KD_CPU_QR_RCOND_MIN) || force_gelsy()) { /* NaN included */
    *singular = 1;
    return KD_OK;
  }
  if (kernel) { /* A^T = R^T Q^T (first n columns of Q): u = Q [R^-T Y; 0], the
                 * minimum-norm solution of A^T u = Y, whose first p rows are beta */
    info = LAPACKE_dtrtrs_work(LAPACK_COL_MAJOR, 'U', 'T', 'N', ln, k, a, rows, y, ln);
    if (info != 0) return lapack_error("dtrtrs", info);
    double *u = ridge ? dbuf(s, W_RHS) : b; /* p + n rows, or p */
    LAPACKE_dlaset_work(LAPACK_COL_MAJOR, 'A', rows, k, 0.0, 0.0, u, rows);
    LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', ln, k, y, ln, u, rows);
    info = LAPACKE_dgemqrt_work(LAPACK_COL_MAJOR, 'L', 'N', rows, k, cols, nb, a, rows, t, nb,
                                u, rows, work);
    if (info != 0) return lapack_error("dgemqrt", info);
    if (ridge) LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', (lapack_int)p, k, u, rows, b, (lapack_int)p);
  } else { /* B = R^-1 (Q^T [Y; 0])[0:p] */
    double *rhs = y; /* ridgeless: Y itself (n rows) */
    if (ridge) {     /* [Y; 0], n + p rows */
      rhs = dbuf(s, W_RHS);
      LAPACKE_dlaset_work(LAPACK_COL_MAJOR, 'A', rows, k, 0.0, 0.0, rhs, rows);
      LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', ln, k, y, ln, rhs, rows);
    }
    info = LAPACKE_dgemqrt_work(LAPACK_COL_MAJOR, 'L', 'T', rows, k, cols, nb, a, rows, t, nb,
                                rhs, rows, work);
    if (info != 0) return lapack_error("dgemqrt", info);
    info = LAPACKE_dtrtrs_work(LAPACK_COL_MAJOR, 'U', 'N', 'N', cols, k, a, rows, rhs, rows);
    if (info != 0) return lapack_error("dtrtrs", info);
    LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', cols, k, rhs, rows, b, cols);
  }
  ++s->qr_solves;
  return KD_OK;
}

/* B = the minimum-norm least-squares (or ridge) solution by an orthogonal
 * factorisation, all RHS at once: QR first, dgelsy when its triangular factor
 * is numerically singular. Y is intact on entry: both Cholesky paths consume it only
 * after the conditioning check. */
static kd_status solve_orthogonal(cpu_state *s, const kd_stage *st) {
  const int ridge = st->ridge > 0;
  size_t bytes[W_COUNT] = {0};
  fallback_bytes(st->n, st->p, st->k, ridge, bytes);
  kd_status rc = reserve_all(s, bytes, W_AUG, W_QRWORK);
  if (rc != KD_OK) return rc;
  int singular = 0;
  rc = solve_qr(s, st, &singular);
  if (rc != KD_OK || !singular) return rc;
  /* Ridgeless, the QR overwrote X or Z (it worked on the augmented system otherwise):
   * the design is addressable, so draw it again rather than keep a copy of it. */
  if (!ridge) draw(s, st);
  return solve_gelsy(s, st, bytes);
}

/* theta_hat -> beta_hat on the whitened path. */
static void unwhiten(cpu_state *s, const kd_stage *st) {
  const double *scale = dbuf(s, W_SCALE);
  double *b = dbuf(s, W_B);
  for (size_t r = 0; r < st->k; ++r)
    for (size_t j = 0; j < st->p; ++j) b[j + r * st->p] /= scale[j];
}

static void score(cpu_state *s, kd_stage *st) {
  const double *b = dbuf(s, W_B);
  const double *metric = st->metric ? st->metric : st->lambda;
  for (size_t r = 0; r < st->k; ++r) {
    const double *br = b + r * st->p;
    double sum = 0;
    for (size_t j = 0; j < st->p; ++j) {
      double d = br[j] - st->target[j];
      sum += metric[j] * d * d;
    }
    st->risk[r] = sum;
  }
  if (st->beta_hat)
    LAPACKE_dlacpy_work(LAPACK_COL_MAJOR, 'A', (lapack_int)st->p, (lapack_int)st->k, b,
                        (lapack_int)st->p, st->beta_hat, (lapack_int)st->p);
}

/* An SGD stage (include/kdbench/sgd.h): X and z drawn as for a direct stage, then the
 * passes, in buffers no larger than a direct stage of its shape holds (the workspace
 * model's): X, z, w (p x k) in the solutions' and the order (n indices) in the labels'. */
static kd_status run_sgd(cpu_state *s, kd_stage *st) {
  const size_t n = st->n, p = st->p, d = sizeof(double);
  size_t bytes[W_COUNT] = {0};
  bytes[W_X] = kd_mul_sat(kd_mul_sat(n, p), d);
  bytes[W_NOISE] = kd_mul_sat(n, d);
  bytes[W_B] = kd_mul_sat(kd_mul_sat(p, st->k), d);
  bytes[W_Y] = kd_mul_sat(kd_mul_sat(n, st->k), d);
  bytes[W_SCALE] = kd_mul_sat(p, d);
  kd_status rc = reserve_all(s, bytes, W_X, W_SCALE);
  if (rc != KD_OK) return rc;
  double *scale = dbuf(s, W_SCALE);
  for (size_t j = 0; j < p; ++j) scale[j] = sqrt(st->lambda[j]);
  kd_rng_fill(st->design, n, 0, p, scale, dbuf(s, W_X), n);
  kd_rng_fill(st->noise, n, 0, 1, NULL, dbuf(s, W_NOISE), n);
  _Static_assert(sizeof(uint32_t) <= sizeof(double), "an index in a label's room");
  return kd_sgd_stage(st, dbuf(s, W_X), dbuf(s, W_NOISE), dbuf(s, W_B), s->w[W_Y].ptr);
}

static kd_status cpu_run_stage(void *state, kd_stage *st) {
  cpu_state *s = state;
  kd_status rc = kd_stage_validate(st);
  if (rc != KD_OK) return rc;
  if (st->sgd) return run_sgd(s, st);
  st->fallback = 0;
  size_t bytes[W_COUNT] = {0};
  main_bytes(st->n, st->p, st->k, label_columns(st), st->mix != NULL, whitened(st), bytes);
  rc = reserve_all(s, bytes, W_X, W_IWORK);
  if (rc != KD_OK) return rc;
  draw(s, st);
  form_gram(s, st);
  int trusted = 0;
  rc = factor_gram(s, (lapack_int)min_sz(st->n, st->p), &trusted);
  trusted = trusted && !force_gelsy();
  if (rc == KD_OK) rc = trusted ? solve_cholesky(s, st) : solve_orthogonal(s, st);
  if (rc != KD_OK) return rc;
  st->fallback = !trusted;
  if (whitened(st)) unwhiten(s, st);
  score(s, st);
  return KD_OK;
}

/* The CUDA backend's hand-over (backend.h): the stage finished as cpu_run_stage
 * finishes it when its QR's triangular factor is numerically singular, by dgelsy on
 * the design and labels drawn again from their streams. */
kd_status kd_cpu_stage_gelsy(void *state, kd_stage *st) {
  cpu_state *s = state;
  kd_status rc = kd_stage_validate(st);
  if (rc != KD_OK) return rc;
  size_t bytes[W_COUNT] = {0};
  main_bytes(st->n, st->p, st->k, label_columns(st), st->mix != NULL, whitened(st), bytes);
  fallback_bytes(st->n, st->p, st->k, st->ridge > 0, bytes);
  rc = reserve_all(s, bytes, 0, W_COUNT - 1);
  if (rc != KD_OK) return rc;
  draw(s, st);
  rc = solve_gelsy(s, st, bytes);
  if (rc != KD_OK) return rc;
  st->fallback = 1;
  if (whitened(st)) unwhiten(s, st);
  score(s, st);
  return KD_OK;
}

/* ---- the descriptor ---------------------------------------------------------------- */

static kd_status cpu_probe(void) { return KD_OK; }

static kd_status cpu_init(void *state) {
  (void)state; /* zeroed by kd_backend_open: every workspace starts empty */
  return KD_OK;
}

/* Test hooks (tests/test_cpu_backend.c declares them): the fallback solves this CPU
 * backend state has made since it was opened, by QR and by dgelsy; and the switch
 * that sends every trial to dgelsy. */
void kd_cpu_fallback_counts(const void *state, unsigned long *qr, unsigned long *gelsy);
void kd_cpu_fallback_counts(const void *state, unsigned long *qr, unsigned long *gelsy) {
  const cpu_state *s = state;
  *qr = s->qr_solves;
  *gelsy = s->gelsy_solves;
}

void kd_cpu_force_gelsy(int on);
void kd_cpu_force_gelsy(int on) { __atomic_store_n(&force_gelsy_flag, on != 0, __ATOMIC_RELAXED); }

/* Test hook: the bytes this state holds (its buffers' capacities and itself), which
 * the workspace model must match once every buffer has been needed. */
size_t kd_cpu_workspace_bytes(const void *state);
size_t kd_cpu_workspace_bytes(const void *state) {
  const cpu_state *s = state;
  size_t total = sizeof *s;
  for (int i = 0; i < W_COUNT; ++i) total += s->w[i].cap;
  return total;
}

static void cpu_release(void *state) {
  cpu_state *s = state;
  for (int i = 0; i < W_COUNT; ++i) {
    free(s->w[i].ptr);
    s->w[i] = (kd_buf){0};
  }
}

static void cpu_describe(void *state, char *buf, size_t len) {
  (void)state;
  lapack_int major = 0, minor = 0, patch = 0;
  LAPACKE_ilaver(&major, &minor, &patch);
  snprintf(buf, len, "cpu: %s, LAPACK %d.%d.%d, %d threads", openblas_get_config(),
           (int)major, (int)minor, (int)patch, openblas_get_num_threads());
}

const kd_backend_type kd_backend_cpu = {
    .name = "cpu",
    .state_size = sizeof(cpu_state),
    .probe = cpu_probe,
    .init = cpu_init,
    .release = cpu_release,
    .run_stage = cpu_run_stage,
    .describe = cpu_describe,
    .workspace = cpu_workspace,
};
