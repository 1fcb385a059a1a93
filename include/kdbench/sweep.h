/* A sweep: a problem, a grid of points, pipelines and trials; the runner writes the
 * tidy CSV and the readable table. */
#ifndef KDBENCH_SWEEP_H
#define KDBENCH_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kdbench/pipeline.h"
#include "kdbench/problem.h"

typedef struct {
  kd_spectrum_spec spectrum;
  kd_beta_spec beta;
  size_t p;             /* 0 with a spectrum file: the file's length */
  double sigma;
  double teacher_sigma; /* < 0: same as sigma */
  double ridge;
  size_t m, k;          /* weak model: samples, features (0 = theory-optimal) */
  unsigned pipelines;
  size_t *n;            /* the n axis; NULL: the default grid for p */
  size_t n_count;
  uint32_t trials;
  uint64_t seed;
  const char *backend;  /* cpu, cuda, auto */
  const char *csv_path;
  int quiet;
} kd_sweep_config;

/* The embedded default: the paper's Figure 1 setting (see kdbench --help). */
void kd_sweep_default(kd_sweep_config *cfg);
/* The default n grid for p: log-spaced from 20 to 2000 (about 8 points a decade)
 * passing through n = p. Caller frees. */
kd_status kd_default_n_grid(size_t p, size_t **n, size_t *count);

/* Runs the sweep: validates everything (sizes, memory) first, then computes point by
 * point. The CSV is written to csv_path + ".partial" and renamed when complete, so
 * a failed run leaves no file that looks finished. The table goes to `table`
 * (NULL: none). */
kd_status kd_sweep_run(const kd_sweep_config *cfg, FILE *table);

/* Memory available to this process, in bytes (MemAvailable; 0 if unknown). */
size_t kd_available_memory(void);

#endif
