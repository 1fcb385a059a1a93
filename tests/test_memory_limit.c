/* What the memory check may use (host/base/memory_limit.c): the room under a cgroup's
 * memory limit, read from a planted cgroup tree (v2 and v1, nested groups, "max",
 * page cache counted as free), and the room under an address-space limit, in a child
 * that sets one. */
#include <cblas.h>
#include <criterion/criterion.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kd_test.h"
#include "kdbench/memory_limit.h"

TestSuite(cgroup, .init = kd_test_dir_make, .fini = kd_test_dir_remove);
TestSuite(address_space);

/* Writes `text` to rel in the test folder, making the folders above it. */
static void plant(const char *rel, const char *text) {
  cr_assert_eq(kd_test_sh("mkdir -p \"$(dirname '%s')\"", rel), 0, "%s", kd_test_err);
  kd_test_write(rel, text);
}

static size_t room(void) {
  return kd_cgroup_memory_room(kd_test_dir, kd_test_path("self"));
}

#define MIB ((size_t)1 << 20)

Test(cgroup, v2_least_room_of_the_group_and_those_above_it) {
  plant("self", "0::/job/step\n");
  /* the step: 1000 MiB limit, 300 used of which 100 page cache: 800 left */
  plant("job/step/memory.max", "1048576000\n");
  plant("job/step/memory.current", "314572800\n");
  plant("job/step/memory.stat", "anon 209715200\nfile 104857600\ninactive_file 104857600\n");
  plant("job/memory.max", "max\n"); /* no limit of its own */
  plant("job/memory.current", "314572800\n");
  cr_expect_eq(room(), 800 * MIB);
  /* the job's limit binds once it is the lower */
  plant("job/memory.max", "524288000\n"); /* 500 MiB, 300 used, no stat: 200 left */
  cr_expect_eq(room(), 200 * MIB);
  /* a group over its limit leaves nothing */
  plant("job/memory.current", "600000000\n");
  cr_expect_eq(room(), 0);
}

Test(cgroup, v2_namespace_root_and_no_limit) {
  plant("self", "0::/\n");
  cr_expect_eq(room(), SIZE_MAX, "no memory.max anywhere: no limit");
  plant("memory.max", "2097152000\n"); /* a container's own group, seen as the root */
  plant("memory.current", "1048576000\n");
  cr_expect_eq(room(), 1000 * MIB);
}

Test(cgroup, v1_memory_controller_among_others) {
  plant("self", "9:name=systemd:/\n5:cpu,memory:/slurm/uid_1/job_7\n0::/\n");
  plant("memory/slurm/uid_1/job_7/memory.limit_in_bytes", "419430400\n"); /* 400 MiB */
  plant("memory/slurm/uid_1/job_7/memory.usage_in_bytes", "209715200\n");
  plant("memory/slurm/uid_1/job_7/memory.stat", "cache 1\ninactive_file 9\ntotal_inactive_file 104857600\n");
  plant("memory/memory.limit_in_bytes", "9223372036854771712\n"); /* v1's "unlimited" */
  plant("memory/memory.usage_in_bytes", "9000000000\n");
  cr_expect_eq(room(), 300 * MIB);
}

Test(cgroup, unreadable_self_is_no_limit) {
  cr_expect_eq(kd_cgroup_memory_room(kd_test_dir, "/nonexistent/cgroup"), SIZE_MAX);
}

/* In a child (the limit is for good), with two OpenMP and two BLAS threads: the room
 * under RLIMIT_AS is the limit less what is mapped less what the threads will map,
 * and under a limit that leaves nothing the check refuses everything (1, not 0: 0
 * means unknown). */
static int room_under(rlim_t limit, size_t *room, const char **why) {
  int fd[2];
  cr_assert_eq(pipe(fd), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    omp_set_num_threads(2);
    openblas_set_num_threads(2);
    struct rlimit as = {limit, limit};
    size_t r = setrlimit(RLIMIT_AS, &as) == 0 ? kd_available_memory_why(why) : 0;
    char out[512];
    int n = snprintf(out, sizeof out, "%zu %s", r, *why);
    _exit(write(fd[1], out, (size_t)n) == n ? 0 : 1);
  }
  close(fd[1]);
  static char buf[512];
  ssize_t n = read(fd[0], buf, sizeof buf - 1);
  close(fd[0]);
  int status;
  waitpid(pid, &status, 0);
  buf[n > 0 ? n : 0] = '\0';
  char *space = strchr(buf, ' ');
  *why = space ? space + 1 : "";
  *room = strtoull(buf, NULL, 10);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Test(address_space, limit_less_mapped_less_the_threads_reserve) {
#if defined(__SANITIZE_ADDRESS__)
  cr_skip_test("AddressSanitizer maps terabytes of shadow memory: no address-space limit fits it");
#endif
  const char *why = "";
  size_t room = 0;
  cr_assert(room_under((rlim_t)2 << 30, &room, &why));
  if (!strstr(why, "ulimit -v")) cr_skip_test("less than 2 GiB available: the limit does not bind");
  cr_expect(strstr(why, "ulimit -v 2.00 GiB") != NULL, "why: '%s'", why);
  /* what is mapped and three 128 MiB BLAS buffers (2 + 2 threads, the caller once)
   * are taken off, and not much more */
  cr_expect_lt(room, ((size_t)2 << 30) - 3 * 128 * MIB, "%zu bytes", room);
  cr_expect_gt(room, 128 * MIB, "%zu bytes", room);
  cr_assert(room_under((rlim_t)300 << 20, &room, &why));
  cr_expect_eq(room, 1, "300 MiB cannot hold the process and its BLAS buffers: %zu", room);
  cr_expect(strstr(why, "ulimit -v") && strstr(why, "OPENBLAS_NUM_THREADS"), "why: '%s'", why);
}
