/* Which shard a process computes: --shard I/N, or the Slurm array task
 * (include/kdbench/shard_spec.h). */
#include "kdbench/shard_spec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/number.h"

/* A whole number (include/kdbench/number.h) in [lo, hi]; 0 on anything else. */
static int parse_uint(const char *text, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out) {
  uint64_t x = 0;
  if (!text || kd_whole_parse(text, &x) != KD_NUM_OK || x < lo || x > hi) return 0;
  *out = x;
  return 1;
}

kd_status kd_shard_parse(const char *text, kd_shard_spec *s) {
  if (!strcmp(text, "off")) {
    *s = (kd_shard_spec){0};
    return KD_OK;
  }
  char buf[32];
  const char *slash = strchr(text, '/');
  size_t len = slash ? (size_t)(slash - text) : 0;
  unsigned long long i = 0, n = 0;
  if (slash && len < sizeof buf) {
    memcpy(buf, text, len);
    buf[len] = '\0';
  }
  if (!slash || len >= sizeof buf || !parse_uint(slash + 1, 1, KD_MAX_SHARDS, &n) ||
      !parse_uint(buf, 1, n, &i))
    return kd_fail(KD_EINVAL, "--shard: expected I/N with 1 <= I <= N <= %u (or off), got '%s'",
                   KD_MAX_SHARDS, text);
  *s = (kd_shard_spec){.index = (unsigned)i, .count = (unsigned)n};
  return KD_OK;
}

/* A Slurm array variable; 0 when unset, an error when not a number. */
static kd_status slurm_var(const char *name, int required, unsigned long long *out, int *set) {
  const char *v = getenv(name);
  *set = v && *v;
  if (!*set) return required ? kd_fail(KD_EINVAL, "%s is not set in a Slurm array task: give --shard I/N", name) : KD_OK;
  if (!parse_uint(v, 0, 4000000000ull, out))
    return kd_fail(KD_EINVAL, "%s = '%s': not a task index: give --shard I/N", name, v);
  return KD_OK;
}

kd_status kd_shard_resolve(const char *setting, kd_shard_spec *s, int *from_slurm) {
  if (from_slurm) *from_slurm = 0;
  if (setting && *setting) return kd_shard_parse(setting, s);
  *s = (kd_shard_spec){0};
  unsigned long long id = 0, min = 0, max = 0, count = 0, step = 1;
  int set = 0, has_step = 0;
  kd_status st = slurm_var("SLURM_ARRAY_TASK_ID", 0, &id, &set);
  if (st != KD_OK || !set) return st; /* not an array task: the whole grid */
  if ((st = slurm_var("SLURM_ARRAY_TASK_MIN", 1, &min, &set)) != KD_OK ||
      (st = slurm_var("SLURM_ARRAY_TASK_MAX", 1, &max, &set)) != KD_OK ||
      (st = slurm_var("SLURM_ARRAY_TASK_COUNT", 1, &count, &set)) != KD_OK ||
      (st = slurm_var("SLURM_ARRAY_TASK_STEP", 0, &step, &has_step)) != KD_OK)
    return st;
  if (!has_step || step == 0) step = 1;
  /* An evenly spaced array min, min + step, ..., max of `count` tasks: task k of them. */
  if (count < 1 || count > KD_MAX_SHARDS || max < min || (max - min) != (count - 1) * step ||
      id < min || id > max || (id - min) % step)
    return kd_fail(KD_EINVAL,
                   "Slurm array task %llu of an array that is not evenly spaced (min %llu, max "
                   "%llu, step %llu, count %llu): give the shard with --shard I/N",
                   id, min, max, step, count);
  *s = (kd_shard_spec){.index = (unsigned)((id - min) / step + 1), .count = (unsigned)count};
  if (from_slurm) *from_slurm = 1;
  return KD_OK;
}
