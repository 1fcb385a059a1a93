/* The stage primitive and the backends that run it.
 *
 * A stage is one regression fit on n fresh samples: generate the design X (n x p,
 * rows ~ N(0, diag(lambda))) from its stream, form every label vector that shares
 * X at once (y_r = X source_r + sigma_r z, one common noise vector z), solve ridge or
 * ridgeless for all of them against one factorisation, and return each fit's exact
 * risk  sum_j metric_j (beta_hat_jr - target_j)^2.
 * A stage may also label each right-hand side by rows (kd_row_mix): its rows cut into
 * consecutive blocks, each block labelled by one of the stage's label columns, on the
 * same design and the same noise vector.
 *
 * Backends are descriptors (name, state size, function pointers), in the manner of
 * GSL's algorithm types; the CPU backend is the reference for every other one. */
#ifndef KDBENCH_BACKEND_H
#define KDBENCH_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/rng.h"
#include "kdbench/status.h"

/* Labels mixed by rows (kd_stage.mix): right-hand side r's n rows, in order, are cut
 * into `blocks` consecutive blocks; block b, the next rows[b] rows, carries label column
 * column[b]: there y_i = x_i . sources_c + sigma_c z_i, z the stage's one noise vector.
 * So row i's noise is z_i whichever column labels it, and a mix whose every row comes
 * from column c has the labels (and, run alone, the fit) of the unmixed stage whose one
 * right-hand side is c. Blocks of 0 rows are allowed. */
#define KD_MIX_BLOCKS 8
typedef struct {
  size_t blocks;                /* 1 .. KD_MIX_BLOCKS */
  size_t rows[KD_MIX_BLOCKS];   /* summing to n */
  size_t column[KD_MIX_BLOCKS]; /* below kd_stage.columns */
} kd_row_mix;

typedef struct {
  /* in */
  size_t n, p;             /* samples, features of this stage's design */
  const double *lambda;    /* p: the design's covariance spectrum */
  double ridge;            /* >= 0; 0 = minimum-norm least squares */
  size_t k;                /* number of right-hand sides */
  const double *sources;   /* p x k, column-major: beta_src of each RHS (p x columns with mix) */
  const double *sigma;     /* k: noise level of each RHS (columns with mix) */
  const kd_row_mix *mix;   /* NULL: RHS r is labelled by sources/sigma column r; else k
                              mixes, RHS r labelled by rows as mix[r] says */
  size_t columns;          /* with mix or sgd: the label columns of sources and sigma */
  const double *target;    /* p: the risk's reference (beta* on these features) */
  const double *metric;    /* p: the risk's covariance; NULL = lambda */
  kd_rng_addr design;      /* stream of X (column j = feature j, row i = sample i) */
  kd_rng_addr noise;       /* stream of z (column 0) */
  const struct kd_sgd *sgd; /* NULL: the direct ridge(less) solve; else one pass of SGD
                              (include/kdbench/sgd.h): ridge 0, no mix, 2 label columns
                              (easy, hard), right-hand side r along the sgd's order r,
                              its risk at each of the K checkpoints */
  /* out */
  double *risk;            /* k risks (sgd: k x K, right-hand side by right-hand side) */
  double *beta_hat;        /* p x k fitted coefficients, or NULL when not needed */
  int fallback;            /* 1 when the orthogonal-factorisation path was taken */
} kd_stage;

/* The grow-only buffers of a backend state, in bytes, slot by slot in the backend's
 * own numbering: each slot keeps the largest size any stage has asked of it. */
#define KD_WORKSPACE_SLOTS 24
typedef struct {
  size_t host[KD_WORKSPACE_SLOTS];   /* host memory, page-locked staging included */
  size_t device[KD_WORKSPACE_SLOTS]; /* device memory */
} kd_workspace;

/* w->slot[i] = max(w->slot[i], bytes[i]) for i < count, host or device side. */
void kd_workspace_grow(size_t *slots, const size_t *bytes, size_t count);
/* The sum of one side's slots (SIZE_MAX when it overflows). */
size_t kd_workspace_total(const size_t slots[KD_WORKSPACE_SLOTS]);

typedef struct kd_backend_type {
  const char *name;
  size_t state_size;
  /* KD_OK when usable on this machine; otherwise the reason is in kd_last_error(). */
  kd_status (*probe)(void);
  kd_status (*init)(void *state);
  void (*release)(void *state);
  kd_status (*run_stage)(void *state, kd_stage *st);
  /* One line: library versions, device name, threads. */
  void (*describe)(void *state, char *buf, size_t len);
  /* Optional (NULL: none): device facts for the run's metadata, "key=value" lines
   * (device, compute_capability, driver, runtime, cublas, cusolver). */
  void (*facts)(void *state, char *buf, size_t len);
  /* The memory check's model (kd_point_memory, host/sim/point.c): grows *w to what a state
   * holds once it has run a stage of this shape, the fallback's buffers included,
   * since any trial may take it. NULL: not modelled (the backend refuses a buffer that
   * does not fit as it grows it). A stage mixed by rows, k right-hand sides of `columns`
   * label columns, holds no more than an unmixed stage of max(k, columns) + 1 does. */
  void (*workspace)(kd_workspace *w, size_t n, size_t p, size_t k, double ridge);
  /* Optional (NULL: no device): the device memory the state's buffers may still take,
   * in bytes. */
  size_t (*device_free)(void *state);
  /* Optional (NULL: kd_stage_run_batch runs the stages one by one): `count` stages of
   * one shape and one problem (lambda, target, metric, sigma), each with its own
   * streams, sources and outputs, in as few launches as the device allows; each stage
   * is left as run_stage would leave it, to rounding. */
  kd_status (*run_batch)(void *state, kd_stage *stages, size_t count);
  /* Optional, with run_batch (NULL: the sweep hands it one trial at a time): the trials
   * of a stage of this shape that one run_batch call takes in one batch, out of `trials`,
   * from the backend's memory plan and the memory free now; 1 when batching does not
   * pay (or not even one trial fits: the single stage then says why). The sweep's trial
   * loop (host/sim/point.c) hands it that many trials per call. */
  size_t (*batch_size)(void *state, size_t n, size_t p, size_t k, double ridge, size_t trials);
} kd_backend_type;

typedef struct {
  const kd_backend_type *type;
  void *state;
} kd_backend;

extern const kd_backend_type kd_backend_cpu;
#ifdef KDBENCH_HAVE_CUDA
/* In the CUDA module, libkdcuda.so, which kd_backend_open loads for "cuda" (and for
 * "auto" where an NVIDIA device node exists); only programs linked with the module
 * (its tests, bench_stage) name it directly. */
extern const kd_backend_type kd_backend_cuda;
#endif

/* "cpu", "cuda", or "auto" (cuda when a device answers, else cpu). */
kd_status kd_backend_open(const char *name, kd_backend *b);
void kd_backend_close(kd_backend *b);
static inline kd_status kd_stage_run(kd_backend *b, kd_stage *st) {
  return b->type->run_stage(b->state, st);
}
static inline kd_status kd_stage_run_batch(kd_backend *b, kd_stage *st, size_t count) {
  if (b->type->run_batch) return b->type->run_batch(b->state, st, count);
  for (size_t i = 0; i < count; ++i) {
    kd_status rc = kd_stage_run(b, &st[i]);
    if (rc != KD_OK) return rc;
  }
  return KD_OK;
}

/* Batch i of `batches` near-equal batches of `trials` trials (sizes differing by one
 * at most, the larger first): trials [*first, *first + *count). */
void kd_batch_range(uint32_t trials, uint32_t batches, uint32_t i, uint32_t *first,
                    uint32_t *count);

/* Checks a stage's inputs (sizes, NULL pointers, finite and signed values); the
 * reason names the culprit. Every backend's run_stage starts with it. */
kd_status kd_stage_validate(const kd_stage *st);

/* The CPU backend's rank-revealing finish of a stage (dgelsy, on the design and labels
 * drawn again from their streams), which it takes itself when its QR fallback's
 * triangular factor is numerically singular; the CUDA backend hands such stages to it.
 * `cpu_state`: an open CPU backend's state. Sets st->fallback. */
kd_status kd_cpu_stage_gelsy(void *cpu_state, kd_stage *st);

#endif
