/* What every backend shares, below the backends and above nothing of them: the sums
 * of the memory check's workspace model (each backend's model lives beside the
 * buffers it counts), the split of trials into batches, and the stage's inputs,
 * checked once for every backend (include/kdbench/backend.h). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/backend.h"
#include "kdbench/sgd.h"
#include "kdbench/size_sat.h"

/* ---- the workspace model ---------------------------------------------------------------- */

void kd_workspace_grow(size_t *slots, const size_t *bytes, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (bytes[i] > slots[i]) slots[i] = bytes[i];
}

size_t kd_workspace_total(const size_t slots[KD_WORKSPACE_SLOTS]) {
  size_t total = 0;
  for (int i = 0; i < KD_WORKSPACE_SLOTS; ++i)
    total = kd_add_sat(total, slots[i]);
  return total;
}

void kd_batch_range(uint32_t trials, uint32_t batches, uint32_t i, uint32_t *first,
                    uint32_t *count) {
  const uint32_t base = trials / batches, extra = trials % batches;
  *count = base + (i < extra);
  *first = i * base + (i < extra ? i : extra);
}

/* ---- the stage's inputs, checked once for every backend ------------------------------ */

typedef enum { ANY_FINITE, NON_NEGATIVE, POSITIVE } kd_range;

static kd_status check_vector(const double *v, size_t len, const char *name, kd_range range) {
  static const char *const what[] = {"finite number", "non-negative finite number",
                                     "positive finite number"};
  for (size_t j = 0; j < len; ++j) {
    int ok = isfinite(v[j]) && (range == ANY_FINITE || v[j] > 0 ||
                                (range == NON_NEGATIVE && v[j] == 0));
    if (!ok)
      return kd_fail(KD_EINVAL, "stage: %s[%zu] = %g, expected a %s", name, j, v[j],
                     what[range]);
  }
  return KD_OK;
}

/* Each right-hand side's row blocks: 1 to KD_MIX_BLOCKS, of existing columns, n rows. */
static kd_status check_mix(const kd_stage *st) {
  if (!st->mix) return KD_OK;
  if (st->columns == 0 || st->columns > INT_MAX)
    return kd_fail(KD_EINVAL, "stage: %zu label columns for its mix (1 to %d)", st->columns,
                   INT_MAX);
  for (size_t r = 0; r < st->k; ++r) {
    const kd_row_mix *m = &st->mix[r];
    if (m->blocks < 1 || m->blocks > KD_MIX_BLOCKS)
      return kd_fail(KD_EINVAL, "stage: mix %zu has %zu blocks (1 to %d)", r, m->blocks,
                     KD_MIX_BLOCKS);
    size_t rows = 0;
    for (size_t b = 0; b < m->blocks; ++b) {
      if (m->column[b] >= st->columns)
        return kd_fail(KD_EINVAL, "stage: mix %zu, block %zu reads label column %zu of %zu", r,
                       b, m->column[b], st->columns);
      rows += m->rows[b] <= st->n ? m->rows[b] : st->n + 1; /* no wrap-around */
    }
    if (rows != st->n)
      return kd_fail(KD_EINVAL, "stage: mix %zu labels %s%zu rows, expected n = %zu", r,
                     rows > st->n ? "over " : "", rows > st->n ? st->n : rows, st->n);
  }
  return KD_OK;
}

/* An SGD stage: its curriculum's settings, for each of its orders, on this pool. */
static kd_status check_sgd(const kd_stage *st) {
  if (!st->sgd) return KD_OK;
  if (st->mix || st->ridge != 0 || st->columns != 2 || !st->sgd->cur || !st->sgd->orders)
    return kd_fail(KD_EINVAL, "stage: an SGD stage is ridgeless, unmixed, with 2 label columns "
                              "(easy, hard), a curriculum and its orders");
  if (st->sgd->cur->n != st->n)
    return kd_fail(KD_EINVAL, "stage: the curriculum's pool of %zu samples is not the stage's n = %zu",
                   st->sgd->cur->n, st->n);
  for (size_t r = 0; r < st->k; ++r) {
    if (!(st->sgd->orders[r] >= 0 && st->sgd->orders[r] < KD_NORDERS))
      return kd_fail(KD_EINVAL, "stage: order %zu is not an order", r);
    kd_status rc = kd_curriculum_check(st->sgd->cur, (int)st->sgd->orders[r]);
    if (rc != KD_OK) return rc;
  }
  return KD_OK;
}

kd_status kd_stage_validate(const kd_stage *st) {
  if (!st) return kd_fail(KD_EINVAL, "stage: NULL stage");
  if (st->n == 0) return kd_fail(KD_EINVAL, "stage: n = 0 samples (need at least one)");
  if (st->p == 0) return kd_fail(KD_EINVAL, "stage: p = 0 features (need at least one)");
  if (st->k == 0) return kd_fail(KD_EINVAL, "stage: k = 0 right-hand sides (need at least one)");
  /* LAPACK's int dimensions, the ridge fallback's n + p rows included (cuSOLVER's
   * Dormqr takes int too): both backends accept the same stages. */
  if (!(st->n <= INT_MAX && st->p <= INT_MAX - st->n && st->k <= INT_MAX))
    return kd_fail(KD_EINVAL, "stage: n = %zu, p = %zu, k = %zu exceed LAPACK's int range",
                   st->n, st->p, st->k);
  if (!(st->ridge >= 0 && isfinite(st->ridge)))
    return kd_fail(KD_EINVAL, "stage: ridge = %g, expected a non-negative finite number",
                   st->ridge);
  const struct { const void *ptr; const char *name; } need[] = {
      {st->lambda, "lambda"}, {st->sources, "sources"}, {st->sigma, "sigma"},
      {st->target, "target"}, {st->risk, "risk"}};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; ++i)
    if (!need[i].ptr) return kd_fail(KD_EINVAL, "stage: %s is NULL", need[i].name);
  kd_status rc = check_mix(st);
  if (rc == KD_OK) rc = check_sgd(st);
  const size_t columns = st->mix || st->sgd ? st->columns : st->k;
  if (rc == KD_OK) rc = check_vector(st->lambda, st->p, "lambda", POSITIVE);
  if (rc == KD_OK) rc = check_vector(st->sigma, columns, "sigma", NON_NEGATIVE);
  if (rc == KD_OK) rc = check_vector(st->sources, st->p * columns, "sources", ANY_FINITE);
  if (rc == KD_OK) rc = check_vector(st->target, st->p, "target", ANY_FINITE);
  if (rc == KD_OK && st->metric) rc = check_vector(st->metric, st->p, "metric", NON_NEGATIVE);
  return rc;
}
