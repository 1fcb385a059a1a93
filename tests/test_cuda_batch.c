/* The plan of batches of small stages on the CUDA backend (include/kdbench/cuda_batch.h):
 * every trial in exactly one batch, batches of near-equal size, the largest batch that
 * fits the free memory with the shared buffers and the headroom, one trial per batch
 * above KD_CUDA_BATCH_MAX_M, a one-line refusal when one trial does not fit, and the
 * layouts of a batch's one upload and one download; and kd_stage_run_batch on a backend
 * without batches (the CPU's): the stages one by one. Needs no device. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kdbench/backend.h"
#include "kdbench/cuda_batch.h"
#include "kdbench/rng.h"

#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

static kd_cuda_batch_plan plan_of(size_t n, size_t p, uint32_t trials, size_t free_bytes) {
  kd_cuda_batch_plan bp;
  cr_assert_eq(kd_cuda_batch_plan_make(n, p, 4, 0, trials, free_bytes, NULL, &bp), KD_OK, "%s",
               kd_last_error());
  return bp;
}

Test(batches, cover_every_trial_once) {
  const uint32_t counts[] = {1, 7, 200, 1000, 4097, 10000};
  const size_t frees[] = {300 * MIB, 4 * GIB, 140 * GIB};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; ++i)
    for (size_t f = 0; f < sizeof frees / sizeof frees[0]; ++f) {
      const uint32_t trials = counts[i];
      kd_cuda_batch_plan bp = plan_of(200, 500, trials, frees[f]);
      uint32_t next = 0, smallest = UINT32_MAX, largest = 0;
      for (uint32_t b = 0; b < bp.batches; ++b) {
        uint32_t first, count;
        kd_cuda_batch_range(&bp, trials, b, &first, &count);
        cr_expect_eq(first, next, "%u trials, batch %u starts at %u, not %u", trials, b, first,
                     next);
        next = first + count;
        smallest = count < smallest ? count : smallest;
        largest = count > largest ? count : largest;
      }
      cr_expect_eq(next, trials, "%u trials: the batches cover %u", trials, next);
      cr_expect_leq(largest - smallest, 1, "%u trials: sizes %u..%u", trials, smallest, largest);
      cr_expect_eq(largest, bp.size, "the buffers are sized for the largest batch");
      cr_expect_leq(bp.size, KD_CUDA_BATCH_MAX);
    }
}

Test(batches, the_largest_that_fits) {
  const size_t frees[] = {200 * MIB, 1 * GIB, 8 * GIB, 140 * GIB};
  const uint32_t trials = 100000;
  size_t last = 0;
  for (size_t f = 0; f < sizeof frees / sizeof frees[0]; ++f) {
    kd_cuda_batch_plan bp = plan_of(300, 800, trials, frees[f]);
    const size_t need = bp.shared + KD_CUDA_HEADROOM + (size_t)bp.size * bp.per_trial;
    cr_expect_leq(need, frees[f], "%zu MiB free: a batch of %u needs %zu MiB", frees[f] / MIB,
                  bp.size, need / MIB);
    /* the largest batch that fits, capped; then the fewest batches of at most that */
    size_t fit = (frees[f] - bp.shared - KD_CUDA_HEADROOM) / bp.per_trial;
    if (fit > KD_CUDA_BATCH_MAX) fit = KD_CUDA_BATCH_MAX;
    cr_expect_eq(bp.batches, (trials + fit - 1) / fit, "%zu MiB free: %u batches for a fit of %zu",
                 frees[f] / MIB, bp.batches, fit);
    cr_expect_geq(fit, last, "more memory, smaller batches");
    last = fit;
  }
  cr_expect_eq(last, KD_CUDA_BATCH_MAX, "a large device is capped");
  /* per trial: at least the design, the Gram and the labels */
  kd_cuda_batch_plan bp = plan_of(300, 800, 10, GIB);
  cr_expect_geq(bp.per_trial, (300 * 800 + 300 * 300 + 300 * 4) * sizeof(double));
  /* shared: at least one single stage's plan, for the trials that fall back */
  kd_cuda_plan single;
  kd_cuda_plan_stage(300, 800, 4, 0, NULL, &single);
  cr_expect_geq(bp.shared, kd_cuda_plan_device_bytes(&single));
}

Test(batches, bytes_are_affine_in_the_batch_size) {
  size_t d1[KD_BATCH_DEV_COUNT], d2[KD_BATCH_DEV_COUNT], d9[KD_BATCH_DEV_COUNT], pin;
  kd_cuda_batch_bytes(150, 100, 3, 0, 1, d1, &pin);
  kd_cuda_batch_bytes(150, 100, 3, 0, 2, d2, &pin);
  kd_cuda_batch_bytes(150, 100, 3, 0, 9, d9, &pin);
  for (int i = 0; i < KD_BATCH_DEV_COUNT; ++i)
    cr_expect_eq(d9[i], d1[i] + 8 * (d2[i] - d1[i]), "buffer %d", i);
  cr_expect_eq(d9[B_SRC], 100 * 3 * 9 * sizeof(double), "whitened: sources per trial");
  cr_expect_eq(d9[B_A], 0, "no kernel-form solutions for n > p");
}

Test(batches, one_trial_at_a_time_above_the_limit) {
  kd_cuda_batch_plan bp = plan_of(KD_CUDA_BATCH_MAX_M + 1, 3000, 50, 140 * GIB);
  cr_expect_eq(bp.size, 1);
  cr_expect_eq(bp.batches, 50);
  bp = plan_of(KD_CUDA_BATCH_MAX_M, 3000, 50, 140 * GIB);
  cr_expect_eq(bp.size, 50, "at the limit, batched");
}

Test(batches, refused_in_one_line_when_one_trial_does_not_fit) {
  kd_cuda_batch_plan bp;
  cr_expect_eq(kd_cuda_batch_plan_make(1000, 1000, 4, 0, 10, 100 * MIB, NULL, &bp), KD_ENOMEM);
  const char *msg = kd_last_error();
  cr_expect(strstr(msg, "n = 1000, p = 1000") && strstr(msg, "100.0 MiB free") &&
                !strchr(msg, '\n'),
            "%s", msg);
  cr_expect_eq(kd_cuda_batch_plan_make(1u << 30, 1u << 30, 4, 0, 10, 140 * GIB, NULL, &bp),
               KD_ENOMEM, "an overflowing shape");
  cr_expect_eq(kd_cuda_batch_plan_make(10, 10, 1, 0, 0, GIB, NULL, &bp), KD_EINVAL);
}

Test(layout, a_batch_uploads_and_downloads_once) {
  kd_cuda_batch_in_layout in = kd_cuda_batch_in_layout_of(7, 2, 5);
  cr_expect_geq(in.lambda, 10 * sizeof(kd_rng_addr), "two stream addresses per trial first");
  cr_expect_eq(in.lambda % sizeof(double), 0);
  cr_expect_eq(in.target, in.lambda + 7 * sizeof(double));
  cr_expect_eq(in.sources, in.sigma + 2 * sizeof(double));
  cr_expect_eq(in.bytes, in.sources + 7 * 2 * 5 * sizeof(double));
  kd_cuda_batch_out_layout out = kd_cuda_batch_out_layout_of(7, 2, 5);
  cr_expect_geq(out.rcond, 5 * KD_INFO_COUNT * sizeof(int32_t));
  cr_expect_eq(out.rcond % sizeof(double), 0);
  cr_expect_eq(out.risk, out.rcond + 5 * sizeof(double));
  cr_expect_eq(out.beta, out.risk + 2 * 5 * sizeof(double));
  cr_expect_eq(out.bytes, out.beta + 7 * 2 * 5 * sizeof(double));
}

/* A backend without run_batch runs the stages of a batch one by one: the same numbers
 * as kd_stage_run, bit for bit. */
Test(batches, run_one_by_one_without_a_batched_backend) {
  enum { P = 30, N = 20, COUNT = 5 };
  double lambda[P], src[P], sigma[1] = {0.5}, risk[2][COUNT];
  for (size_t j = 0; j < P; ++j) {
    lambda[j] = 1.0 / (double)(j + 1);
    src[j] = 1.0 / sqrt((double)(j + 1));
  }
  kd_backend cpu;
  cr_assert_eq(kd_backend_open("cpu", &cpu), KD_OK, "%s", kd_last_error());
  cr_assert_null(cpu.type->run_batch, "the CPU backend batches nothing");
  kd_stage st[COUNT];
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t t = 0; t < COUNT; ++t) {
      st[t] = (kd_stage){.n = N, .p = P, .lambda = lambda, .k = 1, .sources = src,
                         .sigma = sigma, .target = src, .risk = &risk[pass][t],
                         .design = {1, 2, t, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                         .noise = {1, 2, t, KD_STAGE_STUDENT | KD_PURPOSE_NOISE}};
      if (pass == 1) cr_assert_eq(kd_stage_run(&cpu, &st[t]), KD_OK, "%s", kd_last_error());
    }
    if (pass == 0) cr_assert_eq(kd_stage_run_batch(&cpu, st, COUNT), KD_OK, "%s", kd_last_error());
  }
  cr_expect_eq(memcmp(risk[0], risk[1], sizeof risk[0]), 0);
  for (uint32_t t = 1; t < COUNT; ++t) cr_expect_neq(risk[0][t], risk[0][0], "distinct trials");
  kd_backend_close(&cpu);
}
