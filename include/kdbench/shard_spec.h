/* The shard setting: which of N parts of a grid this process computes (--shard I/N,
 * "off", or the Slurm array task). Part of the scenario layer: the settings check it
 * when they read it; the cluster layer (kdbench/shard.h) partitions and writes. */
#ifndef KDBENCH_SHARD_SPEC_H
#define KDBENCH_SHARD_SPEC_H

#include "kdbench/status.h"

#define KD_MAX_SHARDS 100000u

typedef struct {
  unsigned index, count; /* 1 <= index <= count; count = 0: the whole grid */
} kd_shard_spec;

/* "I/N" (1 <= I <= N <= KD_MAX_SHARDS) or "off" (count 0). The error names --shard. */
kd_status kd_shard_parse(const char *text, kd_shard_spec *s);

/* The shard of this process from the shard setting: "I/N", "off", or "" (the Slurm
 * array task, if any; else the whole grid). *from_slurm (may be NULL) says whether
 * it came from Slurm. A Slurm array that is not evenly spaced is an error. */
kd_status kd_shard_resolve(const char *setting, kd_shard_spec *s, int *from_slurm);

#endif
