/* The CUDA backend's memory plan (include/kdbench/cuda_plan.h): the sizes of its
 * buffers, shape by shape, as reserve_stage (backend_cuda.cu) allocates them. Plain C,
 * built with or without CUDA. */
#include "kdbench/cuda_plan.h"

#include <stdint.h>

#include "kdbench/rng.h"
#include "kdbench/size_sat.h"

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }
/* The bytes of n doubles. */
static size_t doubles(size_t n) { return kd_mul_sat(n, sizeof(double)); }

kd_cuda_qr_shape kd_cuda_qr_shape_of(size_t n, size_t p, double ridge) {
  kd_cuda_qr_shape q;
  q.m = min_sz(n, p);
  q.rows = kd_add_sat(max_sz(n, p), ridge > 0 ? q.m : 0);
  q.kernel = p > n;
  q.in_place = !q.kernel && !(ridge > 0);
  return q;
}

kd_cuda_in_layout kd_cuda_in_layout_of(size_t p, size_t k) {
  kd_cuda_in_layout l;
  /* whole doubles per address, so that the doubles after them stay aligned */
  const size_t addr = doubles((sizeof(kd_rng_addr) + sizeof(double) - 1) / sizeof(double));
  l.design = 0;
  l.noise = addr;
  l.lambda = 2 * addr;
  l.target = kd_add_sat(l.lambda, doubles(p));
  l.metric = kd_add_sat(l.target, doubles(p));
  l.sigma = kd_add_sat(l.metric, doubles(p));
  l.sources = kd_add_sat(l.sigma, doubles(k));
  l.bytes = kd_add_sat(l.sources, doubles(kd_mul_sat(p, k)));
  return l;
}

kd_cuda_out_layout kd_cuda_out_layout_of(size_t p, size_t k) {
  kd_cuda_out_layout l;
  l.info = 0;
  /* the int32 info words padded to whole doubles, so that the doubles stay aligned */
  l.rcond = doubles((KD_INFO_COUNT * sizeof(int32_t) + sizeof(double) - 1) / sizeof(double));
  l.risk = l.rcond + sizeof(double);
  l.beta = kd_add_sat(l.risk, doubles(k));
  l.bytes = kd_add_sat(l.beta, doubles(kd_mul_sat(p, k)));
  return l;
}

void kd_cuda_plan_stage(size_t n, size_t p, size_t k, double ridge,
                        const kd_cuda_lib_bytes *lib, kd_cuda_plan *plan) {
  const kd_cuda_lib_bytes none = {0, 0, 0, 0, 0};
  if (!lib) lib = &none;
  const size_t m = min_sz(n, p);
  const int whitened = !(ridge > 0) && n >= p;
  const kd_cuda_qr_shape q = kd_cuda_qr_shape_of(n, p, ridge);
  size_t *d = plan->dev;
  d[D_IN] = kd_cuda_in_layout_of(p, k).bytes;
  d[D_SCALE] = doubles(p);
  d[D_SRC] = whitened ? doubles(kd_mul_sat(p, k)) : 0;
  d[D_X] = doubles(kd_mul_sat(n, p));
  d[D_NOISE] = doubles(n);
  d[D_Y] = doubles(kd_mul_sat(n, k));
  d[D_A] = p > n ? d[D_Y] : 0;
  d[D_G] = doubles(kd_mul_sat(m, m));
  d[D_OUT] = kd_cuda_out_layout_of(p, k).bytes;
  d[D_POTRF] = lib->potrf;
  d[D_EST_X] = doubles(m);
  d[D_EST_S] = doubles(m);
  d[D_EST_I] = kd_mul_sat(m, sizeof(int32_t));
  d[D_EST] = KD_CUDA_EST_STATE_BYTES;
  d[D_BLAS] = lib->blas;
  d[D_QR] = q.in_place ? 0 : doubles(kd_mul_sat(q.rows, q.m));
  d[D_RHS] = doubles(kd_mul_sat(q.rows, k));
  d[D_TAU] = doubles(q.m);
  d[D_QRWORK] = lib->qr;
  plan->pin[H_IN] = d[D_IN];
  plan->pin[H_OUT] = d[D_OUT];
  plan->pin[H_EST] = kd_add_sat(doubles(m), kd_mul_sat(m, sizeof(int32_t)));
  plan->host = max_sz(lib->potrf_host, lib->qr_host);
}

size_t kd_cuda_plan_device_bytes(const kd_cuda_plan *plan) {
  size_t total = 0;
  for (int i = 0; i < KD_DEV_COUNT; ++i) total = kd_add_sat(total, plan->dev[i]);
  return total;
}

size_t kd_cuda_plan_growth(const kd_cuda_plan *plan, const size_t cap[KD_DEV_COUNT]) {
  size_t total = 0;
  for (int i = 0; i < KD_DEV_COUNT; ++i)
    if (plan->dev[i] > cap[i]) total = kd_add_sat(total, plan->dev[i]);
  return total;
}

void kd_cuda_plan_workspace(kd_workspace *w, size_t n, size_t p, size_t k, double ridge,
                            size_t state_bytes) {
  const kd_cuda_lib_bytes lib = {.blas = KD_CUDA_BLAS_WORKSPACE};
  kd_cuda_plan pl;
  kd_cuda_plan_stage(n, p, k, ridge, &lib, &pl);
  size_t dev[KD_DEV_COUNT + 1], host[KD_PIN_COUNT + 2];
  for (int i = 0; i < KD_DEV_COUNT; ++i) dev[i] = pl.dev[i];
  dev[KD_DEV_COUNT] = KD_CUDA_HEADROOM;
  for (int i = 0; i < KD_PIN_COUNT; ++i) host[i] = pl.pin[i];
  host[KD_PIN_COUNT] = pl.host;
  host[KD_PIN_COUNT + 1] = state_bytes;
  kd_workspace_grow(w->device, dev, KD_DEV_COUNT + 1);
  kd_workspace_grow(w->host, host, KD_PIN_COUNT + 2);
}
_Static_assert(KD_DEV_COUNT + 1 <= KD_WORKSPACE_SLOTS && KD_PIN_COUNT + 2 <= KD_WORKSPACE_SLOTS,
               "a workspace slot per buffer");
