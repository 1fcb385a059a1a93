/* Faults of the environment, through the real kdbench binary: address-space limits
 * (ulimit -v) too tight for OpenBLAS's threads, under which every command must still
 * end; a merge past the file-size limit (ulimit -f); and a disk that fills up (a small
 * tmpfs mounted in a user and mount namespace, skipped with the reason where that is
 * not allowed) under a sweep and under a merge: the error names the file, every
 * finished point is kept, and the same command, once there is room, completes the run
 * byte-identical. A sweep's own limit tests are test_resume's limits suite; a merge killed
 * at random moments is test_shard's shards/sigkill_of_a_merge_at_random_moments_... */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

TestSuite(faults, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 300);

/* Five points, two pipelines: milliseconds a run (as in test_shard). */
#define GRID "--sweep n --n 10,20,30,40,60 --p 30 --m 100 --trials 4 --pipelines strong,w2s --backend cpu --quiet"
/* 12 points of growing size, about a second in all (as in test_resume). */
#define LONGER "--sweep n --n 20:400:log12 --trials 50 --p 100 --quiet"

/* The unsharded run full.csv and the three shards of run.csv. */
static void reference_and_shards(void) {
  kd_test_run_ok(GRID " --csv full.csv");
  for (int i = 1; i <= 3; ++i) kd_test_run_ok(GRID " --csv run.csv --shard %d/3", i);
}

/* A file's text that must not name a temporary file or a lock (a listing). */
static void expect_no_leftovers(const char *listing) {
  char *text = kd_test_read(listing, NULL);
  cr_assert_not_null(text, "%s missing", listing);
  cr_expect(!strstr(text, ".tmp") && !strstr(text, ".lock"), "left behind (%s): %s", listing, text);
  free(text);
}

/* ---- address-space limits ------------------------------------------------------------- */

/* OpenBLAS's worker threads, started as it loads, retry their 128 MiB buffer's
 * mapping for ever under a tight ulimit -v, and its exit handler waited for them:
 * `kdbench --help`, a merge, `missing` and a sweep refused up front all hung at exit
 * (timeout's KILL, status 137). Each must end: the sweep refused in one line naming
 * the limit, nothing written; the others do their work. */
Test(faults, every_command_ends_under_a_tight_address_space_limit) {
#if defined(__SANITIZE_ADDRESS__)
  cr_skip_test("AddressSanitizer maps terabytes of shadow memory: no address-space limit fits it");
#endif
  reference_and_shards();
  const long mb[] = {100, 150, 200};
  for (size_t i = 0; i < sizeof mb / sizeof *mb; ++i) {
    char prefix[128];
    snprintf(prefix, sizeof prefix, "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 timeout -s KILL 60 "
             "prlimit --as=%ld ", mb[i] * 1000000);
    int code = kd_test_run_under(prefix, "--help");
    cr_expect_eq(code, 0, "--help under %ld MB: exit %d (137: it hung)", mb[i], code);
    code = kd_test_run_under(prefix, "--sweep n --p 20 --n 2000 --trials 1 --pipelines strong "
                             "--csv @/o/x.csv --quiet");
    kd_test_expect_refused(code, "ulimit -v");
    cr_expect(!kd_test_exists("o"), "a refused run made o/");
    code = kd_test_run_under(prefix, "merge --quiet run.shards");
    cr_expect_eq(code, 0, "merge under %ld MB: exit %d (%s)", mb[i], code, kd_test_err);
    kd_test_expect_same_file("run.csv", "full.csv");
    code = kd_test_run_under(prefix, "missing run");
    cr_expect_eq(code, 0, "missing under %ld MB: exit %d (%s)", mb[i], code, kd_test_err);
  }
}

/* ---- file-size limit ------------------------------------------------------------------ */

/* A merge past ulimit -f: the write fails with EFBIG (SIGXFSZ is ignored), one line
 * naming the file, no temporary file left; the metadata already written says the
 * merge was interrupted, `kdbench missing` says to run it again, and the same merge
 * without the limit writes what an unlimited merge writes. */
Test(faults, a_merge_past_the_file_size_limit_restarts) {
  reference_and_shards();
  kd_test_run_ok("merge --quiet run.shards");
  cr_assert_eq(kd_test_sh("for f in csv jsonl meta.json; do mv run.$f ref.$f; done"), 0);
  size_t meta_len = 0, jsonl_len = 0;
  free(kd_test_read("ref.meta.json", &meta_len));
  free(kd_test_read("ref.jsonl", &jsonl_len));
  /* room for the metadata (written first), not for the JSON Lines */
  cr_assert_gt(jsonl_len, meta_len + 100, "the JSON Lines must be the larger file");
  char prefix[64];
  snprintf(prefix, sizeof prefix, "prlimit --fsize=%zu ", meta_len + 100);
  kd_test_expect_refused(kd_test_run_under(prefix, "merge --quiet run.shards"), "run.jsonl");
  cr_expect(strstr(kd_test_err, "File too large"), "message: %s", kd_test_err);
  cr_assert_eq(kd_test_sh("ls -A > names.txt"), 0);
  expect_no_leftovers("names.txt");
  kd_test_run_ok("missing run");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect(out && strstr(out, "a merge into run.csv was interrupted: run it again:\n"), "%s", out);
  free(out);
  kd_test_run_ok("merge --quiet run.shards");
  kd_test_expect_same_file("run.csv", "ref.csv");
  kd_test_expect_same_file("run.jsonl", "ref.jsonl");
  kd_test_expect_same_file("run.meta.json", "ref.meta.json");
  cr_assert_eq(kd_test_sh("ls -A > names.txt"), 0);
  expect_no_leftovers("names.txt");
}

/* ---- a disk that fills up --------------------------------------------------------------- */

/* Why a tmpfs cannot be mounted here (unshare -rm: a user namespace in which we are
 * root, and a mount namespace), or NULL when it can. */
static const char *no_tmpfs(void) {
  static char why[512];
  if (kd_test_sh("mkdir -p probe && unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs probe'") == 0)
    return NULL;
  const char *e = *kd_test_err ? kd_test_err : "failed";
  snprintf(why, sizeof why, "cannot mount a tmpfs here (unshare -rm sh -c 'mount -t tmpfs ...': %.*s)",
           (int)strcspn(e, "\n"), e);
  return why;
}

/* Runs `script` (sh, set -e) in a user and mount namespace, from the test folder, with
 * a 128 KiB tmpfs on m/ (gone when the script ends) and $K the binary. */
static void in_small_tmpfs(const char *script) {
  char text[4096];
  snprintf(text, sizeof text, "set -e\nmkdir -p m\nmount -t tmpfs -o size=128k tmpfs m\n%s", script);
  kd_test_write("ns.sh", text);
  cr_assert_eq(kd_test_sh("timeout -s KILL 120 unshare -rm sh ns.sh"), 0, "the script failed: %s",
               kd_test_err);
}

/* A sweep on a disk that fills up, with ROOM bytes left of the tmpfs: the write error
 * names the file, one line; the points said to be kept are on disk, whole, the
 * reference's own; nothing temporary is left; once the filler is removed the same
 * command completes the run, byte-identical, resuming the kept points. */
Test(faults, a_full_disk_keeps_the_finished_points) {
  const char *why = no_tmpfs();
  if (why) cr_skip_test("%s", why);
  kd_test_run_ok(LONGER " --csv ref.csv");
  char *ref = kd_test_read("ref.csv", NULL);
  cr_assert_not_null(ref);
  const int room[] = {0, 8192, 16384, 28672}; /* before the first write, ..., after 8 points */
  size_t most = 0;
  for (size_t r = 0; r < sizeof room / sizeof *room; ++r) {
    char script[2048];
    snprintf(script, sizeof script,
             "head -c %d /dev/zero > m/filler\n"
             "$K " LONGER " --csv m/r.csv 2>full.err && echo 0 >full.code || echo $? >full.code\n"
             "ls -A m >full.names\n"
             "rm -f full.csv full.jsonl; for f in csv jsonl; do [ ! -f m/r.$f ] || cp m/r.$f full.$f; done\n"
             "rm m/filler\n"
             "$K " LONGER " --csv m/r.csv 2>again.err && echo 0 >again.code || echo $? >again.code\n"
             "ls -A m >again.names\n"
             "cp m/r.csv m/r.jsonl m/r.meta.json .\n",
             131072 - room[r]);
    in_small_tmpfs(script);
    char *code = kd_test_read("full.code", NULL), *err = kd_test_read("full.err", NULL);
    cr_assert(code && err);
    cr_expect_str_eq(code, "2\n", "room %d: exit status %s (stderr: %s)", room[r], code, err);
    cr_expect(!strncmp(err, "kdbench: ", 9) && kd_test_one_line(err) && strstr(err, "m/r.") &&
              strstr(err, "No space left on device"), "room %d: message: %s", room[r], err);
    const size_t rows = kd_test_exists("full.jsonl") ? kd_test_count_lines("full.jsonl") : 0;
    const size_t kept = rows / 4;
    cr_expect_eq(rows % 4, 0, "room %d: %zu rows: a point is not whole", room[r], rows);
    if (kept) {
      char said[64];
      snprintf(said, sizeof said, "; %zu finished point(s) kept", kept);
      cr_expect(strstr(err, said), "room %d: %zu points on disk, message: %s", room[r], kept, err);
      char *csv = kd_test_read("full.csv", NULL);
      cr_assert_not_null(csv);
      cr_expect_eq(kd_test_count_lines("full.csv"), 1 + rows, "room %d: the CSV and the records disagree", room[r]);
      cr_expect(!strncmp(csv, ref, strlen(csv)), "room %d: the kept rows are not the reference's", room[r]);
      free(csv);
    } else {
      cr_expect(!strstr(err, "finished point(s) kept"), "room %d: no point on disk: %s", room[r], err);
    }
    free(code);
    free(err);
    expect_no_leftovers("full.names");
    code = kd_test_read("again.code", NULL);
    cr_expect(code && !strcmp(code, "0\n"), "room %d: the resume failed: %s", room[r],
              kd_test_read("again.err", NULL));
    free(code);
    kd_test_expect_same_file("r.csv", "ref.csv");
    cr_expect_eq(kd_test_count_lines("r.jsonl"), 48);
    const double resumed = kd_test_json_num("r.meta.json", "points_resumed");
    cr_expect(resumed == (double)kept, "room %d: %zu points kept, points_resumed %g", room[r], kept,
              resumed);
    char *names = kd_test_read("again.names", NULL);
    cr_expect(names && !strcmp(names, "r.csv\nr.jsonl\nr.meta.json\n"), "room %d: left: %s", room[r], names);
    free(names);
    if (kept > most) most = kept;
  }
  cr_expect_geq(most, 1, "no room kept a finished point: nothing was tested of keeping them");
  free(ref);
}

/* A merge onto a disk that fills up: the write error names the file, one line, no
 * temporary file left; once there is room the same merge writes what a merge with
 * room writes (the metadata included: the command is the same). */
Test(faults, a_merge_on_a_full_disk_restarts) {
  const char *why = no_tmpfs();
  if (why) cr_skip_test("%s", why);
  reference_and_shards();
  const int room[] = {0, 4096, 8192};
  for (size_t r = 0; r < sizeof room / sizeof *room; ++r) {
    char script[2048];
    snprintf(script, sizeof script,
             "$K merge --quiet --out m/run run.shards\n"
             "for f in csv jsonl meta.json; do mv m/run.$f ref.$f; done\n"
             "head -c %d /dev/zero > m/filler\n"
             "$K merge --quiet --out m/run run.shards 2>full.err && echo 0 >full.code || echo $? >full.code\n"
             "ls -A m >full.names\n"
             "rm m/filler\n"
             "$K merge --quiet --out m/run run.shards\n"
             "ls -A m >again.names\n"
             "cp m/run.csv m/run.jsonl m/run.meta.json .\n",
             131072 - room[r]);
    in_small_tmpfs(script);
    char *code = kd_test_read("full.code", NULL), *err = kd_test_read("full.err", NULL);
    cr_assert(code && err);
    cr_expect_str_eq(code, "2\n", "room %d: exit status %s (stderr: %s)", room[r], code, err);
    cr_expect(!strncmp(err, "kdbench: ", 9) && kd_test_one_line(err) && strstr(err, "m/run.") &&
              strstr(err, "No space left on device"), "room %d: message: %s", room[r], err);
    free(code);
    free(err);
    expect_no_leftovers("full.names");
    kd_test_expect_same_file("run.csv", "ref.csv");
    kd_test_expect_same_file("run.jsonl", "ref.jsonl");
    kd_test_expect_same_file("run.meta.json", "ref.meta.json");
    char *names = kd_test_read("again.names", NULL);
    cr_expect(names && !strcmp(names, "run.csv\nrun.jsonl\nrun.meta.json\n"), "room %d: left: %s",
              room[r], names);
    free(names);
  }
}
