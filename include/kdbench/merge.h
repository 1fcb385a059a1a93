/* One run from the outputs of its shards (kdbench merge), and what they still lack
 * (kdbench missing). See docs/cluster.md and docs/run-format.md. */
#ifndef KDBENCH_MERGE_H
#define KDBENCH_MERGE_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/status.h"

/* The shards found on disk, checked: one scenario (hash), one count N, every file
 * readable. Opaque; host/cluster/internal.h has the layout. */
typedef struct kd_shard_set kd_shard_set;

/* Loads the shards named by `sources`, each one of:
 *   a directory (every shard-I-of-N.meta.json in it; typically DIR/NAME.shards),
 *   a run RUN whose RUN.shards/ exists (its stem or any of its files),
 *   one shard (its stem or any of its files).
 * Errors name the file (and line) at fault; a torn last JSON Lines line is dropped
 * with a warning on `log`, as resume does. */
kd_status kd_shard_set_load(char *const *sources, size_t n_sources, FILE *log, kd_shard_set **set);
void kd_shard_set_free(kd_shard_set *set);

/* Writes the merged run OUT (a stem or OUT.csv; NULL: NAME for shards in
 * NAME.shards/): OUT.csv with the rows in grid order (the shards' own CSV lines),
 * OUT.jsonl (their JSON Lines, verbatim, in grid order) and OUT.meta.json.
 * Refused, listing what is missing, while a point is missing or a shard is being
 * written, unless `partial` (then what is there is merged, complete = false, and the
 * same is said on `log`). An OUT of another scenario is refused unless `force`.
 * `command` goes into the metadata; a one-line summary to `msg` (NULL: none). */
kd_status kd_merge(const kd_shard_set *set, const char *out, int partial, int force,
                   const char *command, FILE *log, FILE *msg);

/* What the merged run of a set of shards (NAME, for shards in NAME.shards/) holds,
 * for kdbench missing's advice. */
typedef enum {
  KD_MERGED_NONE,        /* nothing yet (or the shards are not in one NAME.shards/) */
  KD_MERGED_INTERRUPTED, /* a merge began and did not end: its metadata says in_progress */
  KD_MERGED_PARTIAL,     /* a --partial merge (complete: false) */
  KD_MERGED_COMPLETE,    /* the whole run, merged */
  KD_MERGED_REFUSED      /* what a merge would refuse to overwrite: the reason in kd_last_error() */
} kd_merged;
/* The state, and NAME in `stem` ("" for KD_MERGED_NONE without one). */
kd_merged kd_merged_state(const kd_shard_set *set, char *stem, size_t len);

/* Prints what is left to compute: with `array_only`, the shard numbers (= Slurm
 * array indices of an array 1-N) as a Slurm index list ("3,5-7"), nothing when none;
 * otherwise a summary as # comments and one command per shard to run, made of
 * `argv0` and the shards' scenario.ini. */
kd_status kd_missing_print(const kd_shard_set *set, const char *argv0, int array_only, FILE *out);

/* kdbench missing RUN: RUN's shards (RUN.shards/, or RUN a .shards directory) as
 * above, or, for a run that is not sharded, its state and the command that resumes
 * it. */
kd_status kd_missing_run(const char *run, const char *argv0, int array_only, FILE *out);

/* The subcommands (argv[1] is "merge" / "missing"), for main.c. `command` (the
 * whole command line) goes into the merged run's metadata. */
kd_status kd_merge_main(int argc, char **argv, const char *command);
kd_status kd_missing_main(int argc, char **argv);

#endif
