/* The CUDA backend's memory plan (include/kdbench/cuda_plan.h), which reserve_stage
 * allocates from before a stage runs: every buffer of the three forms, the QR
 * fallback's four systems and the library workspaces counted up front, overflow
 * saturating to a refusal, growth counting only what grows, and the one-copy layouts
 * of the upload and the download. Needs no device. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "kdbench/cuda_plan.h"
#include "kdbench/rng.h"

#define D sizeof(double)

static kd_cuda_plan plan_of(size_t n, size_t p, size_t k, double ridge,
                            const kd_cuda_lib_bytes *lib) {
  kd_cuda_plan pl;
  kd_cuda_plan_stage(n, p, k, ridge, lib, &pl);
  return pl;
}

Test(plan, buffers_follow_the_form) {
  /* kernel form: G = X X^T (n x n), A = G^-1 Y */
  kd_cuda_plan k = plan_of(200, 500, 3, 0, NULL);
  cr_expect_eq(k.dev[D_X], 200 * 500 * D);
  cr_expect_eq(k.dev[D_G], 200 * 200 * D);
  cr_expect_eq(k.dev[D_A], 200 * 3 * D);
  cr_expect_eq(k.dev[D_SRC], 0, "no whitening for p > n");
  cr_expect_eq(k.dev[D_EST_X], 200 * D, "the estimator works at order m = n");
  /* whitened: ridgeless n >= p scales the sources, no kernel-form solutions */
  kd_cuda_plan w = plan_of(500, 200, 3, 0, NULL);
  cr_expect_eq(w.dev[D_G], 200 * 200 * D);
  cr_expect_eq(w.dev[D_SRC], 200 * 3 * D);
  cr_expect_eq(w.dev[D_A], 0);
  /* primal: ridge, n >= p, neither */
  kd_cuda_plan r = plan_of(500, 200, 3, 0.1, NULL);
  cr_expect_eq(r.dev[D_SRC], 0);
  cr_expect_eq(r.dev[D_A], 0);
  cr_expect_eq(r.dev[D_OUT], kd_cuda_out_layout_of(200, 3).bytes);
  cr_expect_eq(r.pin[H_OUT], r.dev[D_OUT], "one staging buffer per download");
  cr_expect_eq(r.pin[H_IN], r.dev[D_IN]);
}

/* The fallback's system, buffer by buffer, for its four cases. */
Test(plan, fallback_counted_up_front) {
  const struct {
    size_t n, p;
    double ridge;
    size_t rows, qr;
  } cases[] = {
      {500, 200, 0, 500, 0},                   /* Z itself, in place */
      {200, 500, 0, 500, 500 * 200 * D},       /* X^T */
      {500, 200, 0.1, 700, 700 * 200 * D},     /* [X; c I_p] */
      {200, 500, 0.1, 700, 700 * 200 * D},     /* [X^T; c I_n] */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const size_t n = cases[i].n, p = cases[i].p, k = 2;
    kd_cuda_qr_shape q = kd_cuda_qr_shape_of(n, p, cases[i].ridge);
    cr_expect_eq(q.rows, cases[i].rows, "case %zu", i);
    cr_expect_eq(q.m, 200);
    cr_expect_eq(q.kernel, p > n);
    cr_expect_eq(q.in_place, n >= p && cases[i].ridge == 0);
    kd_cuda_plan pl = plan_of(n, p, k, cases[i].ridge, NULL);
    cr_expect_eq(pl.dev[D_QR], cases[i].qr, "case %zu: QR matrix %zu bytes", i, pl.dev[D_QR]);
    cr_expect_eq(pl.dev[D_RHS], cases[i].rows * k * D, "case %zu", i);
    cr_expect_eq(pl.dev[D_TAU], 200 * D);
    size_t data = 0;
    for (int b = 0; b < D_QR; ++b) data += pl.dev[b];
    cr_expect_eq(kd_cuda_plan_device_bytes(&pl),
                 data + pl.dev[D_QR] + pl.dev[D_RHS] + pl.dev[D_TAU],
                 "case %zu: the total counts the fallback", i);
  }
}

Test(plan, library_workspaces_counted) {
  const kd_cuda_lib_bytes lib = {.potrf = 1000, .potrf_host = 7, .qr = 5000, .qr_host = 9,
                                 .blas = KD_CUDA_BLAS_WORKSPACE};
  kd_cuda_plan with = plan_of(300, 100, 4, 0, &lib), without = plan_of(300, 100, 4, 0, NULL);
  cr_expect_eq(with.dev[D_POTRF], 1000);
  cr_expect_eq(with.dev[D_QRWORK], 5000);
  cr_expect_eq(with.dev[D_BLAS], KD_CUDA_BLAS_WORKSPACE);
  cr_expect_eq(with.host, 9, "one host workspace, the larger of the two");
  cr_expect_eq(kd_cuda_plan_device_bytes(&with) - kd_cuda_plan_device_bytes(&without),
               1000 + 5000 + KD_CUDA_BLAS_WORKSPACE);
  cr_expect_eq(without.dev[D_POTRF] + without.dev[D_QRWORK] + without.dev[D_BLAS], 0);
}

Test(plan, overflow_saturates_to_a_refusal) {
  kd_cuda_plan pl = plan_of((size_t)1 << 40, (size_t)1 << 40, 1, 0, NULL);
  cr_expect_eq(pl.dev[D_X], SIZE_MAX);
  cr_expect_eq(kd_cuda_plan_device_bytes(&pl), SIZE_MAX);
  /* rows past the 2^31-byte pitch of a 2-D copy are only a size here (item of the
   * review: the backend copies them with a kernel) */
  kd_cuda_plan tall = plan_of(300000000, 1, 1, 0.5, NULL);
  cr_expect_eq(tall.dev[D_QR], (size_t)300000001 * D);
}

Test(plan, growth_counts_only_what_grows) {
  kd_cuda_plan pl = plan_of(400, 300, 2, 0.01, NULL);
  cr_expect_eq(kd_cuda_plan_growth(&pl, pl.dev), 0, "every buffer already fits");
  size_t cap[KD_DEV_COUNT];
  for (int i = 0; i < KD_DEV_COUNT; ++i) cap[i] = pl.dev[i];
  cap[D_X] -= 8;
  cap[D_G] = 0;
  cr_expect_eq(kd_cuda_plan_growth(&pl, cap), pl.dev[D_X] + pl.dev[D_G],
               "a growing buffer is allocated whole, its old block freed");
  for (int i = 0; i < KD_DEV_COUNT; ++i) cap[i] = SIZE_MAX;
  cr_expect_eq(kd_cuda_plan_growth(&pl, cap), 0);
}

Test(layout, one_upload_and_one_download) {
  kd_cuda_in_layout in = kd_cuda_in_layout_of(7, 3);
  cr_expect_eq(in.design, 0);
  cr_expect_geq(in.noise, sizeof(kd_rng_addr));
  cr_expect_geq(in.lambda, in.noise + sizeof(kd_rng_addr));
  cr_expect_eq(in.lambda % D, 0, "the doubles stay aligned");
  cr_expect_eq(in.target, in.lambda + 7 * D);
  cr_expect_eq(in.metric, in.lambda + 14 * D);
  cr_expect_eq(in.sigma, in.lambda + 21 * D);
  cr_expect_eq(in.sources, in.lambda + 24 * D);
  cr_expect_eq(in.bytes, in.lambda + 45 * D);
  kd_cuda_out_layout out = kd_cuda_out_layout_of(7, 3);
  cr_expect_eq(out.info, 0);
  cr_expect_geq(out.rcond, KD_INFO_COUNT * sizeof(int32_t), "the info words come first");
  cr_expect_eq(out.rcond % D, 0, "the doubles stay aligned");
  cr_expect_eq(out.risk, out.rcond + D);
  cr_expect_eq(out.beta, out.risk + 3 * D);
  cr_expect_eq(out.bytes, out.beta + 21 * D);
  cr_expect_eq(kd_cuda_out_layout_of(1000, 9).rcond, out.rcond, "fixed offsets up front");
}
