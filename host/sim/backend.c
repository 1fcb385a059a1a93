/* Opening and closing backends by name, and the sums of the memory check's workspace
 * model; the descriptors live in backend_cpu.c and cuda/ (each workspace model lives
 * beside the buffers it counts). */
#include "kdbench/backend.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef KDBENCH_HAVE_CUDA
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#endif

#ifdef KDBENCH_HAVE_CUDA
/* The CUDA backend is a module of its own (KDBENCH_CUDA_MODULE, libkdcuda.so), loaded
 * the first time a run asks for it and never unloaded: a CPU run does not map cuBLAS
 * and cuSOLVER (over 250 MB resident and 1 GB of address space at load). The module
 * calls back into this program's kdcore, which every kdbench program exports. */
static const kd_backend_type *cuda_type;
static char cuda_error[512];

static void load_cuda(void) {
  void *module = dlopen(KDBENCH_CUDA_MODULE, RTLD_NOW | RTLD_LOCAL);
  if (module) cuda_type = dlsym(module, "kd_backend_cuda");
  if (!cuda_type) snprintf(cuda_error, sizeof cuda_error, "%s", dlerror());
}

/* The descriptor, or KD_ENODEV saying why the module did not load. */
static kd_status cuda_module(const kd_backend_type **type) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, load_cuda);
  if (!cuda_type)
    return kd_fail(KD_ENODEV, "no CUDA device: the CUDA backend (%s) does not load: %s",
                   KDBENCH_CUDA_MODULE, cuda_error);
  *type = cuda_type;
  return KD_OK;
}

/* Whether the machine has an NVIDIA device node at all (the driver's, or WSL's): where
 * it has none, "auto" takes the CPU without loading the module. */
static int device_node_exists(void) {
  return access("/dev/nvidiactl", F_OK) == 0 || access("/dev/dxg", F_OK) == 0;
}
#endif

/* The descriptor called `name`, or an error naming what went wrong. */
static kd_status lookup(const char *name, const kd_backend_type **type) {
  if (strcmp(name, "cpu") == 0) {
    *type = &kd_backend_cpu;
    return KD_OK;
  }
#ifdef KDBENCH_HAVE_CUDA
  if (strcmp(name, "cuda") == 0) {
    kd_status rc = cuda_module(type);
    return rc == KD_OK ? (*type)->probe() : rc;
  }
  if (strcmp(name, "auto") == 0) {
    const kd_backend_type *cuda = NULL;
    *type = device_node_exists() && cuda_module(&cuda) == KD_OK && cuda->probe() == KD_OK
                ? cuda : &kd_backend_cpu;
    return KD_OK;
  }
#else
  if (strcmp(name, "cuda") == 0)
    return kd_fail(KD_ENODEV, "backend 'cuda' is not built in (configure with nvcc present)");
  if (strcmp(name, "auto") == 0) {
    *type = &kd_backend_cpu;
    return KD_OK;
  }
#endif
  return kd_fail(KD_EINVAL, "unknown backend '%s' (expected cpu, cuda or auto)", name);
}

kd_status kd_backend_open(const char *name, kd_backend *b) {
  if (!b) return kd_fail(KD_EINVAL, "kd_backend_open: NULL backend handle");
  *b = (kd_backend){0};
  if (!name) return kd_fail(KD_EINVAL, "kd_backend_open: NULL backend name");
  const kd_backend_type *type = NULL;
  kd_status rc = lookup(name, &type);
  if (rc != KD_OK) return rc;
  /* calloc(1, 0) may return NULL: every state gets at least one byte. */
  size_t size = type->state_size ? type->state_size : 1;
  void *state = calloc(1, size);
  if (!state)
    return kd_fail(KD_ENOMEM, "backend '%s': cannot allocate %zu bytes of state", type->name,
                   size);
  rc = type->init(state); /* on failure init has released what it took */
  if (rc != KD_OK) {
    free(state);
    return rc;
  }
  b->type = type;
  b->state = state;
  return KD_OK;
}

void kd_backend_close(kd_backend *b) {
  if (!b || !b->type) return;
  b->type->release(b->state);
  free(b->state);
  *b = (kd_backend){0};
}

/* ---- the workspace model ---------------------------------------------------------------- */

void kd_workspace_grow(size_t *slots, const size_t *bytes, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (bytes[i] > slots[i]) slots[i] = bytes[i];
}

size_t kd_workspace_total(const size_t slots[KD_WORKSPACE_SLOTS]) {
  size_t total = 0;
  for (int i = 0; i < KD_WORKSPACE_SLOTS; ++i)
    total = slots[i] > SIZE_MAX - total ? SIZE_MAX : total + slots[i];
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
  const size_t columns = st->mix ? st->columns : st->k;
  if (rc == KD_OK) rc = check_vector(st->lambda, st->p, "lambda", POSITIVE);
  if (rc == KD_OK) rc = check_vector(st->sigma, columns, "sigma", NON_NEGATIVE);
  if (rc == KD_OK) rc = check_vector(st->sources, st->p * columns, "sources", ANY_FINITE);
  if (rc == KD_OK) rc = check_vector(st->target, st->p, "target", ANY_FINITE);
  if (rc == KD_OK && st->metric) rc = check_vector(st->metric, st->p, "metric", NON_NEGATIVE);
  return rc;
}
