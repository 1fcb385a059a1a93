/* The memory this process may use: what the memory check of a sweep
 * (host/sweep/sweep_memory.c) compares its model's need with. */
#ifndef KDBENCH_MEMORY_LIMIT_H
#define KDBENCH_MEMORY_LIMIT_H

#include <stddef.h>

/* Memory available to this process, in bytes (host/base/memory_limit.c; 0 if unknown): the
 * least of MemAvailable, the room under the cgroup's memory limit (of its group and
 * every group above it) and the room under the address-space limit (RLIMIT_AS, ulimit
 * -v) once the threads have mapped what they will (OpenBLAS's 128 MiB buffer per
 * thread that runs BLAS, which it would otherwise try to map for ever; an OpenMP
 * thread's stack and malloc arena). 1 when nothing fits. */
size_t kd_available_memory(void);
/* The same, and in *why which bound it is, in words to follow "available" in a message:
 * "" (MemAvailable), "under the cgroup's memory limit", "under the address-space limit
 * (ulimit -v) ...". */
size_t kd_available_memory_why(const char **why);
/* The room under the memory limits of the cgroups named in `self_cgroup` (the format
 * of /proc/self/cgroup: v2 "0::/PATH", v1 "N:memory:/PATH") under the cgroup file
 * system `fs_root` (/sys/fs/cgroup; v1 groups under fs_root/memory): for the group and
 * each one above it, limit - (usage - inactive file pages) (v2: memory.max,
 * memory.current; v1: memory.limit_in_bytes, memory.usage_in_bytes; memory.stat), the
 * least of them; SIZE_MAX without a limit. */
size_t kd_cgroup_memory_room(const char *fs_root, const char *self_cgroup);

#endif
