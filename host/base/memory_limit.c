/* The memory a run may use (kd_available_memory, include/kdbench/memory_limit.h): the least
 * of what the machine has available, what the cgroup leaves (the limit a batch system
 * such as Slurm sets) and what the address-space limit (ulimit -v) leaves once the
 * threads have what they will map. */
#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kdbench/memory_limit.h"

#define MIB ((size_t)1 << 20)

/* OpenBLAS 0.3 maps a buffer of BUFFER_SIZE = 32 << 22 bytes (x86-64, arm64) for
 * each thread the first time that thread runs a routine, and when the mapping fails
 * it tries again for ever (blas_memory_alloc): kdbench then spins at 100 % CPU. */
#define BLAS_BUFFER (128 * MIB)
/* glibc gives each thread that allocates an arena of 64 MiB of address space
 * (HEAP_MAX_SIZE), mapping twice that for a moment to align it. */
#define THREAD_ARENA (64 * MIB)
/* Beside the memory model: stdio and JSON buffers, a thread's first pages. */
#define SLACK (32 * MIB)

static size_t sub_or_zero(size_t a, size_t b) { return a > b ? a - b : 0; }

/* ---- the machine ------------------------------------------------------------------ */

/* MemAvailable (/proc/meminfo), else the free pages; SIZE_MAX if unknown. */
static size_t machine_room(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    unsigned long long kb;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
        fclose(f);
        return (size_t)kb * 1024;
      }
    fclose(f);
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : SIZE_MAX;
}

/* ---- the cgroup --------------------------------------------------------------------- */

/* The first number in file dir/name, after `key ` when key is given (memory.stat);
 * -1 when absent or not a number ("max"). */
static long long read_number(const char *dir, const char *name, const char *key) {
  char path[4200], line[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long long v = -1;
  size_t kl = key ? strlen(key) : 0;
  while (fgets(line, sizeof line, f)) {
    if (key && (strncmp(line, key, kl) || line[kl] != ' ')) continue;
    char *end;
    errno = 0;
    long long x = strtoll(line + (key ? kl + 1 : 0), &end, 10);
    if (end != line + (key ? kl + 1 : 0) && errno == 0 && x >= 0) v = x;
    break;
  }
  fclose(f);
  return v;
}

/* The room one cgroup's memory limit leaves: limit - (usage - inactive file pages,
 * which the kernel drops before it kills); SIZE_MAX without a limit. */
static size_t group_room(const char *dir, int v2) {
  long long limit = read_number(dir, v2 ? "memory.max" : "memory.limit_in_bytes", NULL);
  long long usage = read_number(dir, v2 ? "memory.current" : "memory.usage_in_bytes", NULL);
  long long cache = read_number(dir, "memory.stat", v2 ? "inactive_file" : "total_inactive_file");
  if (limit < 0 || usage < 0) return SIZE_MAX;
  if (cache < 0) cache = 0;
  if (cache > usage) cache = usage;
  return sub_or_zero((size_t)limit, (size_t)(usage - cache));
}

size_t kd_cgroup_memory_room(const char *fs_root, const char *self_cgroup) {
  FILE *f = fopen(self_cgroup, "r");
  if (!f) return SIZE_MAX;
  char line[4096], dir[8400];
  size_t room = SIZE_MAX;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    /* "0::/PATH" (v2), "4:memory:/PATH" or "4:cpu,memory:/PATH" (v1) */
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = '\0';
    int v2 = c1[1] == '\0';
    int v1 = !v2 && (!strcmp(c1 + 1, "memory") || strstr(c1 + 1, "memory,") == c1 + 1 ||
                     strstr(c1 + 1, ",memory"));
    if (!v1 && !v2) continue;
    const char *top = v2 ? "" : "/memory";
    /* The group and each one above it up to the root of the mount: a parent's limit
     * binds its children (a cgroup namespace shows its own group as "/"). */
    int n = snprintf(dir, sizeof dir, "%s%s%s", fs_root, top, c2 + 1);
    if (n < 0 || (size_t)n >= sizeof dir) continue;
    size_t root_len = strlen(fs_root) + strlen(top);
    for (;;) {
      size_t r = group_room(dir, v2);
      if (r < room) room = r;
      char *slash = strrchr(dir, '/');
      if (!slash || (size_t)(slash - dir) < root_len) break;
      *slash = '\0';
    }
  }
  fclose(f);
  return room;
}

/* ---- the address space --------------------------------------------------------------- */

/* VmSize of /proc/self/status: the address space mapped now; 0 if unknown. */
static size_t mapped_now(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %llu kB", &kb) == 1) break;
  fclose(f);
  return (size_t)kb * 1024;
}

/* What the threads will map beside what is mapped now. */
static size_t thread_reserve(void) {
  size_t omp = (size_t)omp_get_max_threads(), blas = (size_t)openblas_get_num_threads();
  if (omp < 1) omp = 1;
  if (blas < 1) blas = 1;
  /* A stack for each thread of an OpenMP team but the caller's (the pthread default:
   * RLIMIT_STACK, 8 MiB when unlimited). */
  struct rlimit st;
  size_t stack = getrlimit(RLIMIT_STACK, &st) == 0 && st.rlim_cur != RLIM_INFINITY
                     ? (size_t)st.rlim_cur
                     : 8 * MIB;
  /* A buffer for each thread that may run BLAS at once: the trial team's (one thread
   * of BLAS each) or the BLAS's own team, the caller in both. */
  return (omp + blas - 1) * BLAS_BUFFER + (omp - 1) * (stack + THREAD_ARENA) + THREAD_ARENA + SLACK;
}

/* RLIMIT_AS less what is mapped and what the threads will map (SIZE_MAX without a
 * limit), and the sum in words in why[len]. */
static size_t address_space_room(char *why, size_t len) {
  struct rlimit as;
  if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  size_t mapped = mapped_now(), reserve = thread_reserve();
  snprintf(why, len, "under the address-space limit (ulimit -v %.2f GiB, of which %.2f GiB is "
           "mapped and %.2f GiB is for the buffers and stacks of OpenBLAS and the threads): "
           "raise it, or lower OMP_NUM_THREADS and OPENBLAS_NUM_THREADS",
           (double)as.rlim_cur / (1 << 30), (double)mapped / (1 << 30), (double)reserve / (1 << 30));
  return sub_or_zero(sub_or_zero((size_t)as.rlim_cur, mapped), reserve);
}

size_t kd_available_memory_why(const char **why) {
  size_t room = machine_room(), r;
  const char *bound = ""; /* MemAvailable: what "available" means without a limit */
  if ((r = kd_cgroup_memory_room("/sys/fs/cgroup", "/proc/self/cgroup")) < room) {
    room = r;
    bound = "under the cgroup's memory limit";
  }
  static _Thread_local char as_why[320];
  if ((r = address_space_room(as_why, sizeof as_why)) < room) {
    room = r;
    bound = as_why;
  }
  if (why) *why = bound;
  if (room == SIZE_MAX) return 0; /* unknown */
  return room ? room : 1;         /* 0 would read as unknown: nothing fits */
}

size_t kd_available_memory(void) { return kd_available_memory_why(NULL); }
