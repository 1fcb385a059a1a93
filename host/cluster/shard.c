/* Which points belong to a shard: longest-processing-time first by the flop model.
 * Which shard a process computes is host/scenario/shard_spec.c's. */
#include "kdbench/shard.h"

#include <stdlib.h>

/* ---- the partition ---------------------------------------------------------------- */

typedef struct {
  double cost;
  size_t index;
} job;

/* Costliest first; equal costs in grid order. */
static int by_cost(const void *a, const void *b) {
  const job *x = a, *y = b;
  if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

typedef struct {
  double load;
  unsigned shard;
} bin;

static int lighter(const bin *a, const bin *b) {
  return a->load < b->load || (a->load == b->load && a->shard < b->shard);
}

/* The min-heap of bins, restored downward from slot i. */
static void sift_down(bin *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && lighter(&h[l], &h[m])) m = l;
    if (r < n && lighter(&h[r], &h[m])) m = r;
    if (m == i) return;
    bin t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

kd_status kd_shard_points(const double *cost, size_t count, kd_shard_spec s, size_t **idx,
                          size_t *n) {
  *idx = malloc(sizeof(size_t) * (count ? count : 1));
  if (!*idx) return kd_fail(KD_ENOMEM, "out of memory");
  *n = 0;
  if (s.count == 0) {
    for (size_t i = 0; i < count; ++i) (*idx)[(*n)++] = i;
    return KD_OK;
  }
  job *jobs = malloc(sizeof *jobs * (count ? count : 1));
  bin *heap = malloc(sizeof *heap * s.count);
  unsigned char *mine = calloc(count ? count : 1, 1);
  if (!jobs || !heap || !mine) {
    free(jobs);
    free(heap);
    free(mine);
    free(*idx);
    *idx = NULL;
    return kd_fail(KD_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < count; ++i) jobs[i] = (job){cost[i], i};
  qsort(jobs, count, sizeof *jobs, by_cost);
  /* Every bin starts empty; ordered by shard number, the array is already a heap. */
  for (unsigned b = 0; b < s.count; ++b) heap[b] = (bin){0, b};
  for (size_t j = 0; j < count; ++j) {
    if (heap[0].shard + 1 == s.index) mine[jobs[j].index] = 1;
    heap[0].load += jobs[j].cost;
    sift_down(heap, s.count, 0);
  }
  for (size_t i = 0; i < count; ++i)
    if (mine[i]) (*idx)[(*n)++] = i;
  free(jobs);
  free(heap);
  free(mine);
  return KD_OK;
}
