/* Shards, merge and missing: the partition (flop-balanced, disjoint, deterministic),
 * the Slurm array default, shard file names; then through the real kdbench binary:
 * N shards merged equal the unsharded run byte for byte; a shard killed by SIGKILL
 * resumes without recomputing; merge refuses incomplete, running, corrupt and
 * foreign shards, naming them; `kdbench missing` prints what completes the run; a
 * merge killed at any moment (SIGKILL at seeded random moments, or each state a crash
 * leaves) is restarted by the same merge, byte-identical, no temporary file left, and
 * a full merge replaces a partial one; the same for a pipeline of several rows a point
 * (recursive). */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kd_test.h"
#include "kdbench/shard.h"

/* ---- the partition and the names (no binary) ------------------------------------------ */

Test(shard_spec, parse) {
  kd_shard_spec s;
  cr_assert_eq(kd_shard_parse("3/8", &s), KD_OK);
  cr_expect(s.index == 3 && s.count == 8);
  cr_assert_eq(kd_shard_parse("1/1", &s), KD_OK);
  cr_assert_eq(kd_shard_parse("off", &s), KD_OK);
  cr_expect_eq(s.count, 0u);
  cr_assert_eq(kd_shard_parse(" 3 / 8 ", &s), KD_OK, "blanks around a number are ignored"); /* number.h */
  cr_expect(s.index == 3 && s.count == 8);
  const char *bad[] = {"0/8", "9/8", "3/0", "3", "a/b", "3/8x", "-1/8", "/8", "3/", "1/100001", "0x3/8", "3/8.5", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    cr_expect_eq(kd_shard_parse(bad[i], &s), KD_EINVAL, "'%s' accepted", bad[i]);
    cr_expect(strstr(kd_last_error(), "--shard") != NULL, "'%s': %s", bad[i], kd_last_error());
  }
}

static void slurm_env(const char *id, const char *min, const char *max, const char *count,
                      const char *step) {
  const char *names[] = {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                         "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_STEP"};
  const char *values[] = {id, min, max, count, step};
  for (int i = 0; i < 5; ++i) {
    if (values[i]) setenv(names[i], values[i], 1);
    else unsetenv(names[i]);
  }
}

Test(shard_spec, slurm_default) {
  kd_shard_spec s;
  int slurm = -1;
  slurm_env(NULL, NULL, NULL, NULL, NULL);
  cr_assert_eq(kd_shard_resolve("", &s, &slurm), KD_OK);
  cr_expect(s.count == 0 && slurm == 0, "outside Slurm: the whole grid");
  slurm_env("7", "5", "8", "4", "1"); /* --array=5-8: task 7 is the third */
  cr_assert_eq(kd_shard_resolve("", &s, &slurm), KD_OK);
  cr_expect(s.index == 3 && s.count == 4 && slurm == 1, "got %u/%u", s.index, s.count);
  slurm_env("0", "0", "7", "8", NULL); /* --array=0-7, no STEP */
  cr_assert_eq(kd_shard_resolve("", &s, NULL), KD_OK);
  cr_expect(s.index == 1 && s.count == 8);
  slurm_env("5", "1", "9", "5", "2"); /* --array=1-9:2 */
  cr_assert_eq(kd_shard_resolve("", &s, NULL), KD_OK);
  cr_expect(s.index == 3 && s.count == 5, "got %u/%u", s.index, s.count);
  cr_assert_eq(kd_shard_resolve("2/3", &s, &slurm), KD_OK, "--shard wins over Slurm");
  cr_expect(s.index == 2 && s.count == 3 && slurm == 0);
  cr_assert_eq(kd_shard_resolve("off", &s, NULL), KD_OK);
  cr_expect_eq(s.count, 0u);
  slurm_env("5", "3", "5", "2", "1"); /* --array=3,5: not evenly spaced */
  cr_expect_eq(kd_shard_resolve("", &s, NULL), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "--shard") != NULL, "%s", kd_last_error());
  slurm_env("x", "1", "3", "3", "1");
  cr_expect_eq(kd_shard_resolve("", &s, NULL), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "SLURM_ARRAY_TASK_ID") != NULL, "%s", kd_last_error());
  slurm_env("2", NULL, "3", "3", "1");
  cr_expect_eq(kd_shard_resolve("", &s, NULL), KD_EINVAL);
  cr_expect(strstr(kd_last_error(), "SLURM_ARRAY_TASK_MIN") != NULL, "%s", kd_last_error());
}

/* Costs spread over six decades, in a fixed pseudo-random order. */
static void costs(double *c, size_t n) {
  unsigned long long x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c[i] = 1 + (double)(x >> 40) * (double)(x >> 40) / 1e4;
  }
}

Test(shard_partition, disjoint_covering_balanced_deterministic) {
  enum { P = 61 };
  double c[P], total = 0, max = 0;
  costs(c, P);
  for (size_t i = 0; i < P; ++i) {
    total += c[i];
    if (c[i] > max) max = c[i];
  }
  const unsigned counts[] = {1, 2, 3, 7, 16, 61, 100};
  for (size_t t = 0; t < sizeof counts / sizeof *counts; ++t) {
    unsigned n = counts[t];
    int owner[P];
    for (size_t i = 0; i < P; ++i) owner[i] = 0;
    for (unsigned s = 1; s <= n; ++s) {
      size_t *idx = NULL, *again = NULL, m = 0, m2 = 0;
      kd_shard_spec spec = {s, n};
      cr_assert_eq(kd_shard_points(c, P, spec, &idx, &m), KD_OK);
      cr_assert_eq(kd_shard_points(c, P, spec, &again, &m2), KD_OK);
      cr_expect(m == m2 && (m == 0 || memcmp(idx, again, m * sizeof *idx) == 0), "not deterministic");
      double load = 0;
      for (size_t j = 0; j < m; ++j) {
        cr_assert_lt(idx[j], P);
        if (j) cr_expect_gt(idx[j], idx[j - 1], "indices not increasing");
        cr_expect_eq(owner[idx[j]], 0, "point %zu in shards %d and %u of %u", idx[j], owner[idx[j]], s, n);
        owner[idx[j]] = (int)s;
        load += c[idx[j]];
      }
      /* Greedy list scheduling: no shard exceeds the mean by more than one point. */
      cr_expect_leq(load, total / n + max, "shard %u/%u: load %g, mean %g", s, n, load, total / n);
      free(idx);
      free(again);
    }
    for (size_t i = 0; i < P; ++i) cr_expect_neq(owner[i], 0, "point %zu in no shard of %u", i, n);
  }
}

Test(shard_partition, by_cost_not_by_count) {
  double c[11] = {100, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  size_t *idx = NULL, m = 0;
  cr_assert_eq(kd_shard_points(c, 11, (kd_shard_spec){1, 2}, &idx, &m), KD_OK);
  cr_expect(m == 1 && idx[0] == 0, "the costly point alone in shard 1 (got %zu points)", m);
  free(idx);
  cr_assert_eq(kd_shard_points(c, 11, (kd_shard_spec){2, 2}, &idx, &m), KD_OK);
  cr_expect_eq(m, 10u);
  free(idx);
  cr_assert_eq(kd_shard_points(c, 11, (kd_shard_spec){0, 0}, &idx, &m), KD_OK);
  cr_expect_eq(m, 11u, "not sharded: every point");
  free(idx);
}

Test(shard_names, stems_and_parsing) {
  char stem[4096];
  cr_assert_eq(kd_shard_stem("results/sweep-n.csv", (kd_shard_spec){3, 8}, stem, sizeof stem), KD_OK);
  cr_expect_str_eq(stem, "results/sweep-n.shards/shard-003-of-008");
  cr_assert_eq(kd_shard_stem("results/sweep-n", (kd_shard_spec){3, 1200}, stem, sizeof stem), KD_OK);
  cr_expect_str_eq(stem, "results/sweep-n.shards/shard-0003-of-1200");
  kd_shard_spec s;
  cr_expect(kd_shard_name_parse("a/b.shards/shard-003-of-008.meta.json", &s) && s.index == 3 && s.count == 8);
  cr_expect(kd_shard_name_parse("shard-0003-of-1200.csv", &s) && s.index == 3 && s.count == 1200);
  cr_expect(kd_shard_name_parse("shard-001-of-002", &s));
  cr_expect(!kd_shard_name_parse("shard-009-of-008.csv", &s));
  cr_expect(!kd_shard_name_parse("shard-000-of-008.csv", &s));
  cr_expect(!kd_shard_name_parse("shard-003-of-008x.csv", &s));
  cr_expect(!kd_shard_name_parse("sweep-n.csv", &s));
  cr_expect(!kd_shard_name_parse("shard--3-of-008.csv", &s));
}

/* ---- through the binary ------------------------------------------------------------------ */

static void make_dir(void) {
  slurm_env(NULL, NULL, NULL, NULL, NULL); /* even when the tests run in a Slurm array */
  kd_test_dir_make();
}

TestSuite(shards, .init = make_dir, .fini = kd_test_dir_remove, .timeout = 300);

/* Five points, two pipelines, a few trials: milliseconds a run. */
#define GRID "--sweep n --n 10,20,30,40,60 --p 30 --m 100 --trials 4 --pipelines strong,w2s --backend cpu --quiet"

/* What `kdbench missing ARGS` prints (asserting exit status 0); the caller frees. */
static char *missing(const char *args) {
  cr_assert_eq(kd_test_run("missing %s", args), 0, "kdbench missing %s: %s", args, kd_test_err);
  char *out = kd_test_read("stdout.txt", NULL);
  cr_assert_not_null(out);
  return out;
}

/* The unsharded reference full.csv and shards 1..n of run.csv. */
static void run_reference_and_shards(unsigned n) {
  cr_assert_eq(kd_test_run(GRID " --csv full.csv"), 0, "the unsharded run failed");
  for (unsigned i = 1; i <= n; ++i)
    cr_assert_eq(kd_test_run(GRID " --csv run.csv --shard %u/%u", i, n), 0, "shard %u/%u failed", i, n);
}

Test(shards, merged_equals_unsharded) {
  run_reference_and_shards(3);
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "merge failed");
  kd_test_expect_same_file("run.csv", "full.csv");
  /* The same rows in the JSON Lines, in grid order (wall times and checks aside), and every
   * shard of the unsharded run's scenario. */
  kd_test_expect_same_rows("run.jsonl", "full.jsonl");
  cr_expect_eq(kd_test_count_lines("run.jsonl"), 10u, "5 points x 2 pipelines");
  double full = kd_test_json_num("full.meta.json", "points_total");
  cr_expect_eq(full, 5);
  cr_expect_eq(kd_test_json_num("run.meta.json", "complete"), 1);
  cr_expect_eq(kd_test_json_num("run.meta.json", "points_total"), 5);
  char *merged = kd_test_read("run.meta.json", NULL);
  cr_expect(merged && !strstr(merged, "shard = ") && !strstr(merged, "\"shard\": {") &&
            strstr(merged, "\"merged\""), "the merged run's metadata is not a shard's");
  free(merged);
  char *m1 = kd_test_read("full.meta.json", NULL), *m2 = kd_test_read("run.shards/shard-002-of-003.meta.json", NULL);
  cr_assert(m1 && m2);
  cr_expect(strstr(m2, "\"scenario_hash\"") && !strncmp(strstr(m1, "\"scenario_hash\""),
                                                          strstr(m2, "\"scenario_hash\""), 37),
            "a shard has the unsharded run's scenario hash");
  free(m1);
  free(m2);
  cr_expect_eq(kd_test_json_num("run.shards/shard-001-of-003.meta.json", "shard.grid_points"), 5);
  cr_expect_eq(kd_test_json_num("run.shards/shard-001-of-003.meta.json", "shard.from_slurm"), 0);
  /* --print-scenario shows the shard in [run]; the canonical text does not have it. */
  cr_assert_eq(kd_test_run(GRID " --shard 2/3 --print-scenario"), 0);
  char *ini = kd_test_read("stdout.txt", NULL);
  cr_expect(ini && strstr(ini, "[run]") && strstr(ini, "shard = 2/3\n") > strstr(ini, "[run]"), "%s", ini);
  free(ini);
  ini = kd_test_read("run.shards/scenario.ini", NULL);
  cr_expect(ini && !strstr(ini, "shard ="), "scenario.ini is every shard's: no shard in it");
  free(ini);
}

Test(shards, slurm_array_task_by_default) {
  cr_assert_eq(kd_test_run(GRID " --csv full.csv"), 0);
  for (int id = 4; id <= 6; ++id) /* --array=4-6 */
    cr_assert_eq(kd_test_sh("SLURM_ARRAY_TASK_ID=%d SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_MAX=6 "
                            "SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_STEP=1 $K " GRID " --csv run.csv", id),
                 0, "task %d", id);
  cr_expect_eq(kd_test_json_num("run.shards/shard-002-of-003.meta.json", "shard.from_slurm"), 1);
  cr_expect_eq(kd_test_json_num("run.shards/shard-002-of-003.meta.json", "shard.index"), 2);
  cr_assert_eq(kd_test_run("merge run"), 0);
  kd_test_expect_same_file("run.csv", "full.csv");
  /* An array that is not evenly spaced needs --shard. */
  kd_test_expect_refused(kd_test_sh("SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_MAX=5 "
                                    "SLURM_ARRAY_TASK_COUNT=2 $K " GRID " --csv other.csv"), "--shard");
}

Test(shards, bad_flags) {
  static const struct {
    const char *args, *culprit;
  } bad[] = {{GRID " --csv run.csv --shard 0/3", "--shard"}, {GRID " --csv run.csv --shard 4/3", "--shard"},
             {GRID " --csv run.csv --shard 3", "--shard"},   {GRID " --csv run.csv --shard x/y", "--shard"},
             {GRID " --csv run.csv --shard 1/0", "--shard"}, {GRID " --csv run.csv --device x", "--device"},
             {"merge", "usage"},                              {"merge --bogus run", "--bogus"},
             {"merge nowhere", "nowhere"},                    {"missing", "usage"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i)
    kd_test_expect_refused(kd_test_run("%s", bad[i].args), bad[i].culprit);
  cr_expect(!kd_test_exists("run.shards"), "bad flags left run.shards behind");
  cr_expect_eq(kd_test_sh("$K --help | grep -q -- '--shard I/N' && $K --help | grep -q 'kdbench merge'"), 0,
               "--help lists --shard and merge");
}

Test(shards, empty_shards_when_more_shards_than_points) {
  run_reference_and_shards(7); /* 5 points, 7 shards: two shards are empty */
  cr_assert_eq(kd_test_run("merge run.shards"), 0);
  kd_test_expect_same_file("run.csv", "full.csv");
}

Test(shards, sigkill_then_resume_without_recomputing) {
  /* Six points that take a while each (about 1 s in all, one OpenBLAS thread). */
  const char *slow = "--sweep n --n 100:400:log6 --p 200 --trials 40 --pipelines strong --backend cpu --quiet"
                     " --csv";
  const char *meta = "run.shards/shard-001-of-001.meta.json";
  pid_t pid = kd_test_start("%s run.csv --shard 1/1", slow);
  /* SIGKILL as soon as two points are on disk. */
  struct timespec nap = {0, 2000000};
  for (int i = 0; i < 60000 && !(kd_test_json_num(meta, "points_done") >= 2); ++i) nanosleep(&nap, NULL);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  cr_assert(WIFSIGNALED(status), "the shard finished before it could be killed: make it slower");
  size_t before = kd_test_count_lines("run.shards/shard-001-of-001.jsonl"); /* a row a point */
  cr_assert_geq(before, 2u);
  cr_assert_lt(before, 6u);
  char *first = kd_test_read("run.shards/shard-001-of-001.jsonl", NULL);
  /* merge refuses it, naming the shard; --partial merges what is there */
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shard 1/1 stopped after");
  cr_assert_eq(kd_test_run("merge --partial run.shards"), 0);
  cr_expect_eq(kd_test_json_num("run.meta.json", "complete"), 0);
  cr_expect_eq(kd_test_json_num("run.meta.json", "points_done"), (double)before);
  char *out = missing("--array run");
  cr_expect_str_eq(out, "1\n");
  free(out);
  /* The same command again: the finished points are taken as they are. */
  cr_assert_eq(kd_test_run("%s run.csv --shard 1/1", slow), 0, "resume failed");
  cr_expect_eq(kd_test_json_num(meta, "points_resumed"), (double)before);
  cr_expect_eq(kd_test_json_num(meta, "complete"), 1);
  char *after = kd_test_read("run.shards/shard-001-of-001.jsonl", NULL);
  cr_assert(first && after);
  cr_expect(strncmp(first, after, strlen(first)) == 0, "resumed rows were rewritten (recomputed?)");
  free(first);
  free(after);
  cr_assert_eq(kd_test_run("merge run.shards"), 0);
  cr_assert_eq(kd_test_run("%s full.csv --shard off", slow), 0);
  kd_test_expect_same_file("run.csv", "full.csv");
}

/* A shard resumed on another machine: the merge keeps the shard's resumed_from in its
 * entry of merged.shards (not at the top, which was the first shard's); the unsharded
 * command resuming a partial merge names the merged shards as who computed the rest. */
Test(shards, who_computed_a_resumed_shard_survives_the_merge) {
  run_reference_and_shards(2);
  const char *meta = "run.shards/shard-001-of-002.meta.json";
  cJSON *m = kd_test_json(meta);
  cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "backend"), "name",
                                         cJSON_CreateString("cuda"));
  kd_test_write_json(meta, m);
  cJSON_Delete(m);
  kd_test_set_line("run.shards/shard-001-of-002.jsonl", 1, NULL); /* its first point, torn off */
  cr_assert_eq(kd_test_run(GRID " --csv run.csv --shard 1/2"), 0, "%s", kd_test_err);
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "%s", kd_test_err);
  cr_expect_str_eq(kd_test_err, "kdbench: warning: shards ran on different backends (cuda, cpu): their "
                   "last digits may differ from a run on one backend\n");
  kd_test_expect_same_file("run.csv", "full.csv");
  m = kd_test_json("run.meta.json");
  cr_expect_null(kd_test_item(m, "resumed_from"), "the first shard's resumed_from at the top");
  const cJSON *entry = cJSON_GetArrayItem(kd_test_item(m, "merged.shards"), 0);
  const cJSON *earlier = cJSON_GetArrayItem(kd_test_item(entry, "resumed_from"), 0);
  cr_assert_not_null(earlier, "shard 1/2 lost its resumed_from");
  cr_expect_str_eq(kd_test_str(earlier, "backend.name"), "cuda");
  cr_expect_null(kd_test_item(cJSON_GetArrayItem(kd_test_item(m, "merged.shards"), 1), "resumed_from"));
  cJSON_Delete(m);
  /* a partial merge resumed by the unsharded command */
  cr_assert_eq(kd_test_sh("rm -r run.csv run.jsonl run.meta.json run.shards/shard-002-of-002.*"), 0);
  cr_assert_eq(kd_test_run("merge --partial run.shards"), 0, "%s", kd_test_err);
  cr_assert_eq(kd_test_run(GRID " --csv run.csv"), 0, "%s", kd_test_err);
  kd_test_expect_same_file("run.csv", "full.csv");
  m = kd_test_json("run.meta.json");
  earlier = cJSON_GetArrayItem(kd_test_item(m, "resumed_from"), 0);
  cr_assert_not_null(earlier, "the partial merge's points lost who computed them");
  cr_expect_eq(kd_test_num(earlier, "points_computed"), 1, "shard 1/2's resume computed one point");
  const cJSON *shard = cJSON_GetArrayItem(kd_test_item(earlier, "shards"), 0);
  cr_expect_str_eq(kd_test_str(shard, "backend"), "cpu", "shard 1/2's resume ran here");
  cr_expect_str_eq(kd_test_str(cJSON_GetArrayItem(kd_test_item(shard, "resumed_from"), 0), "backend.name"),
                   "cuda");
  cJSON_Delete(m);
  cr_assert_eq(kd_test_run("report run"), 0, "%s", kd_test_err);
  char *md = kd_test_read("run.md", NULL);
  cr_expect(strstr(md, "Computed earlier and resumed: 1 point by a merge of 1 shard (cuda, cpu).") != NULL,
            "%s", md);
  free(md);
}

Test(shards, merge_refuses_a_running_shard) {
  run_reference_and_shards(2);
  /* What a shard being computed holds: the flock of its .lock (host/store/run_store.c). */
  const char *path = kd_test_path("run.shards/shard-002-of-002.lock");
  int fd = open(path, O_RDWR | O_CREAT, 0666);
  cr_assert_geq(fd, 0);
  cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shard 2/2 still running");
  char *out = missing("run");
  cr_expect(strstr(out, "still running"), "%s", out);
  free(out);
  close(fd);
  unlink(path);
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "once it has ended");
  kd_test_expect_same_file("run.csv", "full.csv");
}

Test(shards, missing_prints_the_commands_that_complete_the_run) {
  run_reference_and_shards(3);
  cr_assert_eq(kd_test_sh("rm run.shards/shard-002-of-003.*"), 0);
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shard 2/3 not started");
  char *out = missing("--array run.csv");
  cr_expect_str_eq(out, "2\n");
  free(out);
  out = missing("run");
  cr_expect(strstr(out, "--scenario run.shards/scenario.ini --shard 2/3\n"), "%s", out);
  cr_expect(strstr(out, "KDBENCH_ARRAY=2 scripts/slurm/submit.sh"), "%s", out);
  free(out);
  /* Run exactly the printed commands, then merge. */
  cr_assert_eq(kd_test_sh("$K missing run | grep -v '^#' > todo.sh && sh todo.sh"), 0);
  cr_assert_eq(kd_test_run("merge run.shards"), 0);
  kd_test_expect_same_file("run.csv", "full.csv");
  out = missing("run");
  cr_expect(strstr(out, "0 of 5 points missing") && strstr(out, "nothing to compute"), "%s", out);
  free(out);
  /* A run that is not sharded: the command that resumes it. */
  out = missing("full");
  cr_expect(strstr(out, "complete (5 points)"), "%s", out);
  free(out);
}

Test(shards, corrupt_shard_files_are_named) {
  run_reference_and_shards(3);
  /* A line in the middle of a shard's JSON Lines */
  char *text = kd_test_read("run.shards/shard-002-of-003.jsonl", NULL);
  cr_assert_not_null(text);
  char *second = strchr(text, '\n') + 1;
  second[5] = '#';
  kd_test_write("run.shards/shard-002-of-003.jsonl", text);
  free(text);
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shard-002-of-003.jsonl:2");
  /* A shard's metadata */
  kd_test_write("run.shards/shard-001-of-003.meta.json", "{\"schema\": 1, \"scenario_hash\": ");
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shard-001-of-003.meta.json");
  kd_test_expect_refused(kd_test_run("missing run"), "shard-001-of-003.meta.json");
  cr_expect(!kd_test_exists("run.csv"), "a refused merge wrote run.csv");
}

Test(shards, torn_last_line_is_a_missing_point) {
  run_reference_and_shards(2);
  char *text = kd_test_read("run.shards/shard-001-of-002.jsonl", NULL);
  cr_assert_not_null(text);
  text[strlen(text) - 7] = '\0'; /* the end of the last line cut off */
  kd_test_write("run.shards/shard-001-of-002.jsonl", text);
  free(text);
  cr_expect_eq(kd_test_run("merge run.shards"), 2);
  const char *err = kd_test_err; /* a warning, then the error */
  cr_expect(strstr(err, "shard-001-of-002.jsonl:") && strstr(err, "torn last line") &&
            strstr(err, "\nkdbench: cannot merge run yet: shard 1/2 stopped") &&
            strstr(err, "1 of 5 points missing"), "%s", err);
  cr_assert_eq(kd_test_run(GRID " --csv run.csv --shard 1/2"), 0, "resuming the shard");
  cr_assert_eq(kd_test_run("merge run.shards"), 0);
  kd_test_expect_same_file("run.csv", "full.csv");
}

Test(shards, shards_of_another_scenario_are_refused) {
  run_reference_and_shards(2);
  cr_assert_eq(kd_test_run(GRID " --seed 2 --csv other.csv --shard 2/2"), 0);
  cr_assert_eq(kd_test_sh("for f in other.shards/shard-002-of-002.*; do cp $f run.shards/; done"), 0);
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shards of different scenarios");
  /* and an output of another scenario is not overwritten */
  cr_assert_eq(kd_test_run(GRID " --seed 3 --csv third.csv"), 0);
  cr_assert_eq(kd_test_sh("rm run.shards/shard-002-of-002.* && $K " GRID " --csv run.csv --shard 2/2"), 0);
  kd_test_expect_refused(kd_test_run("merge --out third run.shards"), "another scenario");
  cr_assert_eq(kd_test_run("merge --force --out third run.shards"), 0);
  kd_test_expect_same_file("third.csv", "full.csv");
}

Test(shards, a_changed_beta_file_makes_another_scenario) {
  /* GRID has p = 30: a beta* file of 30 values, edited between the two shards. */
  const char *beta = "--beta file:b.txt";
  cr_assert_eq(kd_test_sh("for i in $(seq 30); do echo 0.1; done > b.txt && $K " GRID " %s --csv run.csv "
                          "--shard 1/2", beta), 0, "shard 1/2 failed");
  cr_assert_eq(kd_test_sh("for i in $(seq 30); do echo 0.3; done > b.txt"), 0);
  /* Its own resume is refused, and so is a merge with a shard of the new values. */
  kd_test_expect_refused(kd_test_run(GRID " %s --csv run.csv --shard 1/2", beta),
                         "the values in the --beta file b.txt differ");
  cr_assert_eq(kd_test_run(GRID " %s --csv run.csv --shard 2/2", beta), 0, "shard 2/2 failed");
  kd_test_expect_refused(kd_test_run("merge run.shards"), "shards of different scenarios");
  cr_expect(strstr(kd_test_err, "the values in the --beta file b.txt differ"), "%s", kd_test_err);
  kd_test_expect_refused(kd_test_run("missing run"), "the values in the --beta file b.txt differ");
  /* Shard 1 again with --force: the merge equals an unsharded run with the new file. */
  cr_assert_eq(kd_test_run(GRID " %s --csv run.csv --shard 1/2 --force", beta), 0);
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "merge failed");
  cr_assert_eq(kd_test_run(GRID " %s --csv full.csv", beta), 0);
  kd_test_expect_same_file("run.csv", "full.csv");
  /* A merge onto an output of the old values is refused, naming the file. */
  cr_assert_eq(kd_test_sh("for i in $(seq 30); do echo 0.1; done > b.txt && $K " GRID " %s --csv old.csv",
                          beta), 0);
  kd_test_expect_refused(kd_test_run("merge --out old run.shards"), "another scenario");
  cr_expect(strstr(kd_test_err, "the values in the --beta file b.txt differ"), "%s", kd_test_err);
}

/* ---- a pipeline of several rows at a point (recursive) ------------------------------------- */

/* strong and recursive's G = 3 generations of fixed, linear and accumulate: 10 rows a
 * point (point x pipeline x group x step), 5 points. */
#define GENS_GRID "--sweep n --n 30,40,50,60,80 --p 20 --trials 4 --pipelines strong,recursive " \
                  "--backend cpu --quiet"
#define GENS GENS_GRID " --generations 3 --schedule fixed,linear,accumulate"

/* The shards of GENS merged are the unsharded run byte for byte, with its rows a point
 * in every shard's metadata; a shard that lost the rows of its last point's last group
 * has that point missing (merge refuses, `missing` names the shard, its resume computes
 * the point again), and shards or resumes of other generations or schedules are
 * refused. */
Test(shards, recursive_several_rows_a_point_merged_equals_unsharded) {
  cr_assert_eq(kd_test_run(GENS " --csv full.csv"), 0, "%s", kd_test_err);
  for (unsigned i = 1; i <= 3; ++i)
    cr_assert_eq(kd_test_run(GENS " --csv run.csv --shard %u/3", i), 0, "shard %u/3: %s", i, kd_test_err);
  unsigned index = 0; /* the shard with the most rows */
  size_t most = 0;
  for (unsigned i = 1; i <= 3; ++i) {
    cr_expect_eq(kd_test_json_num(kd_test_pathf("run.shards/shard-%03u-of-003.meta.json", i),
                                  "rows_per_point"), 10, "shard %u/3", i);
    const size_t lines = kd_test_count_lines(kd_test_pathf("run.shards/shard-%03u-of-003.jsonl", i));
    cr_expect_eq(lines % 10, 0, "shard %u/3 has %zu rows", i, lines);
    if (lines > most) most = lines, index = i;
  }
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "%s", kd_test_err);
  kd_test_expect_same_file("run.csv", "full.csv");
  kd_test_expect_same_rows("run.jsonl", "full.jsonl");
  cr_expect_eq(kd_test_count_lines("run.jsonl"), 50u, "5 points x 10 rows");
  cr_expect_eq(kd_test_json_num("run.meta.json", "rows_per_point"), 10);

  /* That shard loses its last 3 lines: its last point's accumulate generations. */
  cr_assert_geq(most, 20u, "a shard of two points or more");
  char shard[64];
  snprintf(shard, sizeof shard, "run.shards/shard-%03u-of-003.jsonl", index);
  for (size_t k = 0; k < 3; ++k) kd_test_set_line(shard, most - k, NULL);
  cr_assert_eq(kd_test_sh("rm run.csv run.jsonl run.meta.json"), 0);
  cr_expect_eq(kd_test_run("merge run.shards"), 2);
  cr_expect(strstr(kd_test_err, "1 of 5 points missing"), "%s", kd_test_err);
  cr_expect(!kd_test_exists("run.csv"), "a refused merge wrote run.csv");
  char *out = missing("--array run");
  char want[16];
  snprintf(want, sizeof want, "%u\n", index);
  cr_expect_str_eq(out, want);
  free(out);

  /* Resuming the shard with other generations or schedules is refused; as it was, it
   * computes that point again, whole. */
  kd_test_expect_refused(kd_test_run(GENS_GRID " --generations 3 --schedule fixed,accumulate,linear "
                                     "--csv run.csv --shard %u/3", index), "--force");
  kd_test_expect_refused(kd_test_run(GENS_GRID " --generations 4 --schedule fixed,linear,accumulate "
                                     "--csv run.csv --shard %u/3", index), "--force");
  cr_assert_eq(kd_test_run(GENS " --csv run.csv --shard %u/3", index), 0, "%s", kd_test_err);
  cr_expect_eq(kd_test_json_num(kd_test_pathf("run.shards/shard-%03u-of-003.meta.json", index),
                                "points_resumed"), (double)(most / 10 - 1));
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "%s", kd_test_err);
  kd_test_expect_same_file("run.csv", "full.csv");
  kd_test_expect_same_rows("run.jsonl", "full.jsonl");

  /* A shard of another number of generations is another scenario's. */
  cr_assert_eq(kd_test_run(GENS_GRID " --generations 4 --schedule fixed,linear,accumulate --csv "
                           "other.csv --shard 2/3"), 0, "%s", kd_test_err);
  cr_assert_eq(kd_test_sh("cp other.shards/shard-002-of-003.* run.shards/"), 0);
  kd_test_expect_refused(kd_test_run("merge --force run.shards"), "shards of different scenarios");
}

/* ---- a merge that is interrupted ------------------------------------------------------------ */

/* The test folder's files whose name ends in .tmp, comma-separated ("" when none). */
static char *temp_files(void) {
  cr_assert_eq(kd_test_sh("find . -name '*.tmp' | sort | tr '\\n' ,"), 0);
  char *list = kd_test_read("stdout.txt", NULL);
  cr_assert_not_null(list);
  return list;
}

/* Does what `kdbench missing run` advises: the lines that are not comments, as
 * commands (none when it says there is nothing to do); fails if it refuses. */
static void follow_missing_advice(const char *when) {
  cr_assert_eq(kd_test_sh("$K missing run > advice.txt"), 0, "%s: kdbench missing refused", when);
  cr_assert_eq(kd_test_sh("{ grep -v '^#' advice.txt || true; } > todo.sh && sh todo.sh"), 0,
               "%s: its advice failed (%s)", when, kd_test_read("advice.txt", NULL));
}

static void expect_merged_like_ref(const char *when) {
  const char *ext[] = {"csv", "jsonl", "meta.json"};
  for (int i = 0; i < 3; ++i) {
    char a[32], b[32];
    snprintf(a, sizeof a, "run.%s", ext[i]);
    snprintf(b, sizeof b, "ref.%s", ext[i]);
    cr_expect(kd_test_expect_same_file(a, b), "%s", when);
  }
  char *tmp = temp_files();
  cr_expect_str_eq(tmp, "", "%s: temporary files left: %s", when, tmp);
  free(tmp);
}

/* A merge killed at any point of its writes left a state that the same merge,
 * without --force, restarts (each state made here as a crash leaves it: the
 * in-progress metadata first, then the files it vouches for, a NAME.tmp at each
 * step), and `kdbench missing` says which state it is. */
Test(shards, an_interrupted_merge_restarts_without_force) {
  run_reference_and_shards(3);
  cr_assert_eq(kd_test_sh("$K merge run.shards && for f in csv jsonl meta.json; do cp run.$f ref.$f; done"), 0);
  cJSON *m = kd_test_json("run.meta.json");
  cr_expect(cJSON_IsFalse(kd_test_item(m, "merged.in_progress")));
  cJSON_Delete(m);
  /* Killed in its first write: only the metadata's temporary file. */
  cr_assert_eq(kd_test_sh("rm run.csv run.jsonl run.meta.json && echo '{\"sch' > run.meta.json.tmp"), 0);
  follow_missing_advice("after a kill in the first write");
  expect_merged_like_ref("after a kill in the first write");
  /* Killed after the in-progress metadata, in each later step. */
  const char *after[] = {"head -c 100 ref.jsonl > run.jsonl.tmp && rm run.jsonl run.csv",
                         "head -c 100 ref.csv > run.csv.tmp && rm run.csv",
                         "head -c 100 ref.csv > run.csv && echo '{' > run.meta.json.tmp"};
  for (int k = 0; k < 3; ++k) {
    m = kd_test_json("run.meta.json");
    cJSON *merged = cJSON_GetObjectItemCaseSensitive(m, "merged");
    cJSON_ReplaceItemInObjectCaseSensitive(merged, "in_progress", cJSON_CreateTrue());
    cJSON_ReplaceItemInObjectCaseSensitive(m, "complete", cJSON_CreateFalse());
    cJSON_ReplaceItemInObjectCaseSensitive(m, "points_done", cJSON_CreateNumber(0));
    kd_test_write_json("run.meta.json", m);
    cJSON_Delete(m);
    cr_assert_eq(kd_test_sh("%s", after[k]), 0);
    char *out = missing("run");
    cr_expect(strstr(out, "a merge into run.csv was interrupted: run it again:\n") &&
              strstr(out, " merge run.shards\n"), "step %d: %s", k, out);
    free(out);
    if (k == 0) { /* the shards moved away: the metadata alone says it, with the merge's command */
      cr_assert_eq(kd_test_sh("mv run.shards aside && $K missing run; s=$?; mv aside run.shards; exit $s"), 0);
      out = kd_test_read("stdout.txt", NULL);
      cr_expect(out && strstr(out, "# run: a merge into it was interrupted; run it again:\n") &&
                strstr(out, " merge run.shards\n"), "%s", out);
      free(out);
    }
    cr_assert_eq(kd_test_run("merge run.shards"), 0, "step %d: the restart failed: %s", k, kd_test_err);
    expect_merged_like_ref("after the restart");
  }
  char *out = missing("run");
  cr_expect(strstr(out, "nothing to compute: merged into run.csv, complete\n") &&
            !strstr(out, " merge "), "%s", out);
  free(out);
  /* A merge over the complete run killed in its first write: the complete run stands,
   * beside the metadata's temporary file, which the merge advised clears. */
  cr_assert_eq(kd_test_sh("echo '{\"sch' > run.meta.json.tmp"), 0);
  out = missing("run");
  cr_expect(strstr(out, "# nothing to compute: merged into run.csv, complete; a merge over it was "
                        "interrupted and left run.meta.json.tmp: run it again to clear it:\n") &&
            strstr(out, " merge run.shards\n"), "%s", out);
  free(out);
  follow_missing_advice("after a kill in the first write of a merge over the complete run");
  expect_merged_like_ref("after a kill in the first write of a merge over the complete run");
  /* What a merge would refuse is said as the merge would say it. */
  kd_test_write("run.meta.json", "not JSON\n");
  out = missing("run");
  cr_expect(strstr(out, "a merge would be refused: run.csv exists and is not a kdbench run"), "%s", out);
  free(out);
}

/* After a --partial merge, the shards completed and merged again: the full merge
 * replaces the partial metadata (no --force), and its CSV is the unsharded run's. */
Test(shards, a_full_merge_replaces_a_partial_one) {
  run_reference_and_shards(3);
  cr_assert_eq(kd_test_sh("rm run.shards/shard-002-of-003.* && $K merge --partial run.shards"), 0);
  cr_expect_eq(kd_test_json_num("run.meta.json", "merged.partial"), 1);
  cr_expect_eq(kd_test_json_num("run.meta.json", "complete"), 0);
  char *out = missing("run");
  cr_expect(strstr(out, "shard 2/3 not started") && strstr(out, " --shard 2/3\n"), "%s", out);
  free(out);
  cr_assert_eq(kd_test_sh("$K missing run | grep -v '^#' > todo.sh && sh todo.sh"), 0);
  out = missing("run");
  cr_expect(strstr(out, "run.csv is a partial merge: merge them again for the whole run:\n") &&
            strstr(out, " merge run.shards\n"), "%s", out);
  free(out);
  cr_assert_eq(kd_test_run("merge run.shards"), 0, "%s", kd_test_err);
  kd_test_expect_same_file("run.csv", "full.csv");
  cJSON *m = kd_test_json("run.meta.json");
  const cJSON *merged = cJSON_GetObjectItemCaseSensitive(m, "merged");
  cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "complete")));
  cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "finished")));
  cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(merged, "partial")));
  cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(merged, "missing_points")), 0);
  cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(merged, "shards")), 3);
  cr_expect_eq(kd_test_json_num("run.meta.json", "points_done"), 5);
  cJSON_Delete(m);
  char *tmp = temp_files();
  cr_expect_str_eq(tmp, "", "temporary files left: %s", tmp);
  free(tmp);
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Polls (every 0.1 ms) until the merge `pid` has begun writing (run.meta.json.tmp or
 * run.meta.json exists) or has ended (not reaped). */
static void wait_for_a_write(pid_t pid) {
  siginfo_t info;
  while (!kd_test_exists("run.meta.json.tmp") && !kd_test_exists("run.meta.json")) {
    info.si_pid = 0;
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return;
    nanosleep(&(struct timespec){0, 100000}, NULL);
  }
}

/* An uninterrupted merge: its seconds from start to exit, and in *writing to its
 * first write. */
static double timed_merge(double *writing) {
  const double t0 = seconds();
  pid_t pid = kd_test_start("merge run.shards");
  wait_for_a_write(pid);
  *writing = seconds() - t0;
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the merge failed: %s", kd_test_read("bg.err", NULL));
  return seconds() - t0;
}

/* SIGKILL of a merge at seeded random moments, then of its restart, until 12 kills
 * of a fresh merge have landed (the merge was still running); each time, what
 * `kdbench missing` advises is done, and the merged CSV, JSON Lines and metadata are
 * byte-identical to an uninterrupted merge's (the metadata's times are the shards'),
 * with no temporary file left. 20 cheap shards of large rows (2000 per-trial risks):
 * a merge of some 0.1 s, its last third or so its four writes and their fsyncs. In
 * even rounds the kill falls anywhere in the merge; in odd rounds, anywhere in its
 * writes (a random time after its first write began), and a third of the kills at
 * least must land there. */
Test(shards, sigkill_of_a_merge_at_random_moments_restarts_byte_identical) {
  cr_assert_eq(kd_test_sh("for i in $(seq 20); do $K --sweep n --n 10:300:lin60 --p 5 --trials 2000 --raw "
                          "--pipelines strong --backend cpu --quiet --csv run.csv --shard $i/20 || exit 1; done"),
               0, "the shards failed");
  double writing;
  timed_merge(&writing); /* the caches warmed */
  cr_assert_eq(kd_test_sh("rm run.csv run.jsonl run.meta.json"), 0);
  const double whole = timed_merge(&writing);
  cr_assert_eq(kd_test_sh("for f in csv jsonl meta.json; do mv run.$f ref.$f; done"), 0);
  uint64_t rng = 7; /* xorshift64: the same moments on every run of the test */
  const int want = 12;
  int landed = 0, in_writes = 0, round = 0;
  double shrink[2] = {1, 1}; /* narrowed each time a kill came after the end */
  for (; landed < want && round < 3 * want; ++round) {
    cr_assert_eq(kd_test_sh("rm -f run.csv run.jsonl run.meta.json"), 0);
    double at[2];
    for (int k = 0; k < 2; ++k) {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      const double u = (double)(rng >> 11) / 9007199254740992.0;
      const int in_the_writes = k == 0 && round % 2;
      /* into the merge, into its writes, or into the first half of the restart */
      at[k] = k ? 0.5 * whole * u : in_the_writes ? shrink[1] * (whole - writing) * u : shrink[0] * whole * u;
      pid_t pid = kd_test_start("merge run.shards");
      if (in_the_writes) wait_for_a_write(pid);
      nanosleep(&(struct timespec){(time_t)at[k], (long)((at[k] - (double)(time_t)at[k]) * 1e9)}, NULL);
      kill(pid, SIGKILL);
      int status = 0;
      cr_assert_eq(waitpid(pid, &status, 0), pid);
      int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      cr_assert(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "round %d, start %d: status %d (%s)", round, k, status, kd_test_read("bg.err", NULL));
      if (k == 0 && killed) {
        ++landed;
        in_writes += kd_test_exists("run.meta.json") || kd_test_exists("run.meta.json.tmp");
      } else if (k == 0) {
        shrink[in_the_writes] *= 0.8;
      }
    }
    char when[160];
    snprintf(when, sizeof when, "round %d (kills at %.4f s%s and %.4f s of %.4f s, writes from %.4f s)",
             round, at[0], round % 2 ? " after the first write" : "", at[1], whole, writing);
    follow_missing_advice(when);
    expect_merged_like_ref(when);
  }
  cr_expect_eq(landed, want, "only %d kills landed in %d rounds (a merge of %.4f s)", landed, round, whole);
  cr_expect_geq(in_writes, want / 3, "only %d of %d kills landed after the merge began writing", in_writes,
                landed);
}
