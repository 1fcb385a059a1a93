/* The memory check's model (kd_sweep_memory: host/sweep/sweep_memory.c, host/sim/point.c
 * and each backend's workspace model) against the peak resident memory of a real kdbench run
 * of the same command line, and the refusal of a point that cannot fit.
 *
 * The peak is the child's ru_maxrss (wait4), which is its VmHWM. The model counts what
 * kdbench allocates for a sweep, not the process's baseline (code, libraries, the
 * BLAS's own buffers, the run's files): that baseline is measured as the peak of a run
 * at a tiny shape (n = 20, p = 50, one trial, whose model is a few kB) under the same
 * thread settings, and subtracted from every peak. Each shape is large enough (100 MB
 * and more) for what the baseline does not capture (the BLAS's packing buffers grow
 * with the threads that touch them) to stay small beside it. Under AddressSanitizer
 * (scripts/test.sh's second pass) every allocation carries redzones and shadow memory,
 * so there the peaks are not compared. */
#include <criterion/criterion.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kd_test.h"
#include "kdbench/cli.h"
#include "kdbench/sweep.h"

TestSuite(memory, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 600);

/* Splits `args` at spaces into argv[1..] after "kdbench" (at most 62 words). */
static int split(char *args, char *argv[64]) {
  int argc = 0;
  argv[argc++] = "kdbench";
  for (char *w = strtok(args, " "); w && argc < 63; w = strtok(NULL, " ")) argv[argc++] = w;
  argv[argc] = NULL;
  return argc;
}

/* The model's peak for `args`, in bytes, with `threads` OpenMP threads. */
static size_t model(const char *args, int threads) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", args);
  char *argv[64];
  int argc = split(buf, argv);
  kd_cli cli;
  cr_assert_eq(kd_cli_parse(argc, argv, &cli, 0), KD_OK, "%s: %s", args, kd_last_error());
  int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  kd_memory peak;
  kd_status st = kd_sweep_memory(&cli.cfg, &peak);
  omp_set_num_threads(before);
  cr_assert_eq(st, KD_OK, "%s: %s", args, kd_last_error());
  cr_expect_eq(peak.device, 0, "a CPU run with device memory");
  return peak.host;
}

/* Runs kdbench `args` --csv DIR/out.csv --quiet with OMP_NUM_THREADS = threads, stderr
 * into `err`; returns the exit status and its peak resident memory in bytes. */
static int run(const char *args, int threads, size_t *peak, char *err, size_t errlen) {
  char buf[1024], csv[300], errpath[300];
  snprintf(csv, sizeof csv, "%s", kd_test_path("out.csv"));
  snprintf(errpath, sizeof errpath, "%s", kd_test_path("err.txt"));
  snprintf(buf, sizeof buf, "%s --csv %s --force --quiet", args, csv);
  char *argv[64];
  split(buf, argv);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    char t[16];
    snprintf(t, sizeof t, "%d", threads);
    setenv("OMP_NUM_THREADS", t, 1);
    if (!freopen("/dev/null", "w", stdout) || !freopen(errpath, "w", stderr)) _exit(127);
    execv(KDBENCH_BIN, argv);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
  *peak = (size_t)ru.ru_maxrss * 1024;
  FILE *f = fopen(errpath, "r");
  cr_assert_not_null(f);
  size_t len = fread(err, 1, errlen - 1, f);
  err[len] = '\0';
  fclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t measure(const char *args, int threads) {
  char err[4096];
  size_t peak = 0;
  int code = run(args, threads, &peak, err, sizeof err);
  cr_assert_eq(code, 0, "%s: exit %d: %s", args, code, err);
  return peak;
}

#define TINY "--sweep n --n 20 --p 50 --trials 1 --pipelines strong"
#define MIB (1024.0 * 1024.0)

#if defined(__SANITIZE_ADDRESS__)
#define MEASURED_PEAKS 0
#else
#define MEASURED_PEAKS 1
#endif

static void need_measured_peaks(void) {
  if (!MEASURED_PEAKS)
    cr_skip_test("AddressSanitizer's shadow memory and redzones make peak memory meaningless");
}

/* The model against the measured peak, both above the tiny run's: within a factor of
 * 1.5 either way. */
static void expect_close(const char *args, int threads) {
  need_measured_peaks();
  double base = (double)measure(TINY, threads), base_model = (double)model(TINY, threads);
  double got = (double)measure(args, threads) - base;
  double want = (double)model(args, threads) - base_model;
  cr_expect(got > 0 && want > 0, "%s: peak %.1f MiB, model %.1f MiB above the tiny run's", args,
            got / MIB, want / MIB);
  cr_expect(want <= 1.5 * got && got <= 1.5 * want,
            "%s (%d threads): measured %.1f MiB, model %.1f MiB (ratio %.2f; baseline %.1f MiB)",
            args, threads, got / MIB, want / MIB, want / got, base / MIB);
}

/* p > n: the kernel form, X (160 MB) the largest buffer. */
Test(memory, wide_design) { expect_close("--sweep n --n 200 --p 100000 --trials 1 --pipelines strong", 2); }

/* n > p: the whitened primal form, with its four right-hand sides. */
Test(memory, tall_design) {
  expect_close("--sweep n --n 100000 --p 200 --trials 1 --pipelines strong,optimal,mask", 2);
}

/* The weak teacher's m x k design (128 MB) dominates when w2s runs, and is not
 * counted, nor allocated, when it does not. */
Test(memory, weak_teacher_only_with_w2s) {
  expect_close("--sweep n --n 100 --p 2000 --m 20000 --k 800 --trials 1 --pipelines strong,w2s", 2);
  size_t base = model(TINY, 2);
  size_t strong = model("--sweep n --n 100 --p 2000 --m 20000 --k 800 --trials 1 --pipelines strong", 2);
  cr_expect_lt(strong - base, 8u << 20, "strong alone: %.1f MiB above the tiny run's", (strong - base) / MIB);
}

/* The default pipelines at large p: k is the theory's, found by planning the point. */
Test(memory, weak_teacher_of_the_theory) {
  expect_close("--sweep n --n 1000 --p 10000 --m 20000 --trials 1", 2);
}

/* Small designs run one trial per thread, each with its own workspace: four of them. */
Test(memory, parallel_workers) {
  expect_close("--sweep n --n 200 --p 20000 --trials 8 --pipelines strong", 4);
  size_t one = model("--sweep n --n 200 --p 20000 --trials 8 --pipelines strong", 1);
  size_t four = model("--sweep n --n 200 --p 20000 --trials 8 --pipelines strong", 4);
  cr_expect_gt(four, 3 * one, "4 workers: %.1f MiB, 1 worker: %.1f MiB", four / MIB, one / MIB);
}

/* A sweep: the buffers only grow, so its peak is at its largest point. */
Test(memory, sweep_over_n) {
  expect_close("--sweep n --n 50,400,100 --p 50000 --trials 1 --pipelines strong", 2);
}

/* With ridge, the fallback's augmented system [X^T; c I_n] is counted though Gaussian
 * designs never need it at this ridge: the model is an upper bound, at most the
 * design's size again above the peak. */
Test(memory, ridge_counts_its_fallback) {
  const char *args = "--sweep n --n 200 --p 100000 --ridge 0.01 --trials 1 --pipelines strong";
  need_measured_peaks();
  double base = (double)measure(TINY, 2), base_model = (double)model(TINY, 2);
  double got = (double)measure(args, 2) - base, want = (double)model(args, 2) - base_model;
  cr_expect(want >= got && want <= 2.5 * got, "%s: measured %.1f MiB, model %.1f MiB", args,
            got / MIB, want / MIB);
}

/* The high-dimensional regime runs: p = 10^6 is 0.8 GB of design, not p^2. */
Test(memory, million_features_fit) {
  size_t need = model("--sweep n --n 100 --p 1000000 --trials 1 --pipelines strong", 2);
  cr_expect_lt(need, (size_t)3 << 30, "p = 1e6, n = 100: the model says %.1f MiB", need / MIB);
  cr_expect_gt(need, (size_t)800000000, "less than the design itself: %.1f MiB", need / MIB);
}

/* A point that cannot fit is refused before anything is written: one line naming the
 * point, the need and what is available, exit status 2, no output file. */
Test(memory, impossible_point_is_refused) {
  char err[4096];
  size_t peak = 0;
  int code = run("--sweep n --n 20,300000 --p 400000 --trials 1 --pipelines strong", 2, &peak,
                 err, sizeof err);
  cr_expect_eq(code, 2, "exit %d: %s", code, err);
  const char *want = "kdbench: point n = 300000, p = 400000 needs ";
  cr_expect(strncmp(err, want, strlen(want)) == 0, "message: %s", err);
  cr_expect(strstr(err, " GiB of memory but only ") && strstr(err, " GiB is available\n"),
            "message: %s", err);
  char *nl = strchr(err, '\n');
  cr_expect(nl && nl[1] == '\0', "more than one line: %s", err);
  cr_expect(!kd_test_exists("out.csv") && !kd_test_exists("out.jsonl") && !kd_test_exists("out.meta.json") &&
                !kd_test_exists("out.lock"),
            "output left behind");
  if (MEASURED_PEAKS)
    cr_expect_lt(peak, (size_t)200 << 20, "the refusal allocated %.1f MiB", peak / MIB);
  /* w2s names the weak teacher's m and k */
  code = run("--sweep n --n 20 --p 100 --m 1000000000 --k 90 --trials 1 --pipelines w2s", 2, &peak,
             err, sizeof err);
  cr_expect_eq(code, 2, "exit %d: %s", code, err);
  cr_expect(strstr(err, "point n = 20, p = 100, m = 1000000000, k = 90 needs ") != NULL,
            "message: %s", err);
  cr_expect(!kd_test_exists("out.csv"), "output left behind");
}

/* An absurd p (a typo's 2e8 features) is refused on the student's design alone, before
 * any problem of that size is built: the bound's message ("at least"), exit status 2,
 * nothing written, and (measured) a small peak where building lambda, beta* and the
 * plan took 9 GB and minutes; with recursive too (its generation 1 is the student). */
Test(memory, absurd_p_refused_before_its_problem_is_built) {
  char err[4096];
  size_t peak = 0;
  int code = run("--sweep n --n 100 --p 200000000 --trials 1 --pipelines strong,recursive", 2,
                 &peak, err, sizeof err);
  cr_expect_eq(code, 2, "exit %d: %s", code, err);
  const char *want = "kdbench: point n = 100, p = 200000000 needs at least ";
  cr_expect(strncmp(err, want, strlen(want)) == 0 && strstr(err, " GiB is available"),
            "message: %s", err);
  char *nl = strchr(err, '\n');
  cr_expect(nl && nl[1] == '\0', "more than one line: %s", err);
  cr_expect(!kd_test_exists("out.csv") && !kd_test_exists("out.jsonl"), "output left behind");
  if (MEASURED_PEAKS)
    cr_expect_lt(peak, (size_t)200 << 20, "the refusal allocated %.1f MiB", peak / MIB);
  /* the weak teacher alone has no student's stage: its point is planned, and fits */
  code = run("--sweep n --n 100 --p 100000 --k 50 --m 200 --trials 1 --pipelines weak", 2, &peak,
             err, sizeof err);
  cr_expect_eq(code, 0, "exit %d: %s", code, err);
}
