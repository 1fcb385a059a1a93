/* Private to host/base/: the table model's emitters (table*.c) and the generator's bulk
 * paths (rng*.c). */
#ifndef KDBENCH_BASE_INTERNAL_H
#define KDBENCH_BASE_INTERNAL_H

#include "kdbench/rng.h"
#include "kdbench/table.h"

/* x (ci: the ± part) as column c prints it: printf's fmt, else its significant digits. */
void kd_table_number(const kd_column *c, double x, int ci, char *out, size_t len);

/* One bulk path of the generator (kd_rng_path): whether this CPU runs it, one column of
 * a stream (rows [0, n) of column col, each times scale, into out), and
 * kd_normals_from_words. */
typedef struct {
  int (*runs)(void);
  void (*fill_column)(kd_rng_addr a, size_t n, uint32_t col, double scale, double *out);
  void (*from_words)(const uint32_t *w, size_t count, double *z);
} kd__rng_impl;

/* The x86 paths (rng_avx2.c, rng_avx512.c), compiled where gcc or clang targets x86. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define KD_RNG_X86 1
extern const kd__rng_impl kd__rng_avx2, kd__rng_avx512;
#else
#define KD_RNG_X86 0
#endif

#endif
