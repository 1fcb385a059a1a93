/* The order in which a student grown feature by feature takes the problem's features
 * (kd_feature_order, include/kdbench/chain.h): head first, tail first or at random. */
#include <stdlib.h>

#include "kdbench/hash.h"
#include "kdbench/pipeline.h"
#include "kdbench/rng.h"

typedef struct {
  double key;
  size_t index;
} ranked;

/* Increasing key, ties by index: a total order, so the sort's result is unique. */
static int by_key(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

kd_status kd_feature_order_build(const kd_problem *pr, kd_feature_order order, uint64_t seed,
                                 size_t *index) {
  const size_t p = pr->p;
  if (order != KD_GROW_HEAD && order != KD_GROW_TAIL && order != KD_GROW_RANDOM)
    return kd_fail(KD_EINVAL, "feature order %d: expected head, tail or random", (int)order);
  ranked *r = malloc(sizeof *r * (p ? p : 1));
  if (!r) return kd_fail(KD_ENOMEM, "cannot allocate the feature order of p = %zu", p);
  /* random: the features sorted by a normal of their own, drawn from the run's seed in
   * a stream of its own (no design, noise or beta* draws from it) */
  const kd_rng_addr a = {.seed = seed, .point = kd_hash32("feature order"), .trial = 0,
                         .purpose = KD_PURPOSE_BETA};
  for (size_t i = 0; i < p; ++i) {
    const double signal = pr->lambda[i] * pr->beta[i] * pr->beta[i];
    r[i].index = i;
    r[i].key = order == KD_GROW_RANDOM ? kd_rng_normal_at(a, i, 0) : -signal;
  }
  qsort(r, p, sizeof *r, by_key);
  for (size_t i = 0; i < p; ++i) index[order == KD_GROW_TAIL ? p - 1 - i : i] = r[i].index;
  free(r);
  return KD_OK;
}
