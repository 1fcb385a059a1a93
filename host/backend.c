/* Opening and closing backends by name; the descriptors live in backend_cpu.c and
 * cuda/ (kd_stage_bytes lives beside the CPU buffers it counts, in backend_cpu.c). */
#include "kdbench/backend.h"

#include <stdlib.h>
#include <string.h>

/* The descriptor called `name`, or an error naming what went wrong. */
static kd_status lookup(const char *name, const kd_backend_type **type) {
  if (strcmp(name, "cpu") == 0) {
    *type = &kd_backend_cpu;
    return KD_OK;
  }
#ifdef KDBENCH_HAVE_CUDA
  if (strcmp(name, "cuda") == 0) {
    *type = &kd_backend_cuda;
    return kd_backend_cuda.probe();
  }
  if (strcmp(name, "auto") == 0) {
    *type = kd_backend_cuda.probe() == KD_OK ? &kd_backend_cuda : &kd_backend_cpu;
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
