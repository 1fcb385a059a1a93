/* libFuzzer target: the vector-file reader of --spectrum file: and --beta file:
 * (host/sim/problem.c): the bytes as a file (a memfd, a regular file like any other),
 * read as a spectrum (positive, non-increasing) and as beta*. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kdbench/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("kdbench-fuzz-vector", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  kd_spectrum_spec s = {.kind = KD_SPEC_FILE, .path = path};
  size_t p = 0;
  double *lambda = NULL;
  if (kd_spectrum_build(&s, &p, &lambda) == KD_OK) {
    kd_beta_spec b = {.kind = KD_BETA_FILE, .path = path};
    double *beta = NULL;
    if (kd_beta_build(&b, p, lambda, 1, &beta) == KD_OK) free(beta);
    free(lambda);
  }
  close(fd);
  return 0;
}
