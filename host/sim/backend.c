/* Opening and closing backends by name; the descriptors live in backend_cpu.c and
 * cuda/, and what every backend shares (the stage's checks, the workspace sums, the
 * batch split) in stage.c, below them. */
#include "kdbench/backend.h"

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
