/* The command lines of `kdbench merge` and `kdbench missing`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/merge.h"

static const char *const merge_usage =
    "usage: kdbench merge [--partial] [--force] [--quiet] [--out RUN] SHARDS...\n"
    "Joins the shards of a run (--shard I/N) into RUN.csv, .jsonl and .meta.json. SHARDS:\n"
    "NAME.shards directories, runs NAME with NAME.shards/ beside them, or single shards.\n"
    "  --out RUN   the run to write (default NAME, for shards all in NAME.shards/)\n"
    "  --partial   merge what is there even if points are missing (complete: false)\n"
    "  --force     overwrite an output of another scenario\n"
    "  --quiet     no summary line\n"
    "A merge that was killed is restarted by the same command. See docs/cluster.md.\n";

static const char *const missing_usage =
    "usage: kdbench missing [--array] RUN\n"
    "What a sharded run (RUN.shards/) still lacks, as the commands that compute only\n"
    "that; with --array, as a Slurm array index list of shard numbers. For a run that\n"
    "is not sharded, the command that resumes it. See docs/cluster.md.\n";

kd_status kd_merge_main(int argc, char **argv, const char *command) {
  const char *out = NULL;
  int partial = 0, force = 0, quiet = 0;
  char **sources = malloc(sizeof *sources * (size_t)(argc > 0 ? argc : 1));
  size_t n = 0;
  if (!sources) return kd_fail(KD_ENOMEM, "out of memory");
  kd_status st = KD_OK;
  for (int i = 2, flags = 1; i < argc && st == KD_OK; ++i) {
    const char *a = argv[i];
    if (flags && !strcmp(a, "--help")) {
      fputs(merge_usage, stdout);
      free(sources);
      return KD_OK;
    }
    if (flags && !strcmp(a, "--")) flags = 0;
    else if (flags && !strcmp(a, "--partial")) partial = 1;
    else if (flags && !strcmp(a, "--force")) force = 1;
    else if (flags && !strcmp(a, "--quiet")) quiet = 1;
    else if (flags && (!strcmp(a, "--out") || !strcmp(a, "-o"))) {
      if (i + 1 == argc) st = kd_fail(KD_EINVAL, "merge: flag '%s' needs a value", a);
      else out = argv[++i];
    } else if (flags && !strncmp(a, "--out=", 6)) out = a + 6;
    else if (flags && a[0] == '-' && a[1])
      st = kd_fail(KD_EINVAL, "merge: unknown flag '%s' (usage: kdbench merge [--partial] [--force] "
                   "[--out RUN] SHARDS...)", a);
    else sources[n++] = argv[i];
  }
  if (st == KD_OK && !n)
    st = kd_fail(KD_EINVAL, "usage: kdbench merge [--partial] [--force] [--out RUN] SHARDS... (a "
                 "NAME.shards directory, a run NAME, or shard files)");
  kd_shard_set *set = NULL;
  if (st == KD_OK) st = kd_shard_set_load(sources, n, stderr, &set);
  if (st == KD_OK) st = kd_merge(set, out, partial, force, command, stderr, quiet ? NULL : stdout);
  kd_shard_set_free(set);
  free(sources);
  return st;
}

kd_status kd_missing_main(int argc, char **argv) {
  const char *run = NULL;
  int array = 0;
  for (int i = 2; i < argc; ++i) {
    if (!strcmp(argv[i], "--help")) {
      fputs(missing_usage, stdout);
      return KD_OK;
    }
    if (!strcmp(argv[i], "--array")) array = 1;
    else if (argv[i][0] == '-' || run)
      return kd_fail(KD_EINVAL, "missing: unexpected '%s' (usage: kdbench missing [--array] RUN)", argv[i]);
    else run = argv[i];
  }
  if (!run) return kd_fail(KD_EINVAL, "usage: kdbench missing [--array] RUN (a run, or its NAME.shards directory)");
  return kd_missing_run(run, argv[0], array, stdout);
}
