/* kdbench missing: what a sharded (or interrupted) run still lacks, as the commands
 * (or the Slurm array indices) that compute only that. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kdbench/run_paths.h"
#include "kdbench/run_reader.h"
#include "kdbench/scenario.h"
#include "kdbench/scenario_id.h"
#include "internal.h"

static int is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* `s` as one shell word. */
static void put_word(FILE *out, const char *s) {
  if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%") == strlen(s)) {
    fputs(s, out);
    return;
  }
  fputc('\'', out);
  for (; *s; ++s) {
    if (*s == '\'') fputs("'\\''", out);
    else fputc(*s, out);
  }
  fputc('\'', out);
}

/* 1, 3, 4, 5 -> "1,3-5". */
static void put_ranges(FILE *out, const unsigned *v, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && v[j + 1] == v[j] + 1) ++j;
    fprintf(out, "%s%u", i ? "," : "", v[i]);
    if (j > i) fprintf(out, "-%u", v[j]);
    i = j + 1;
  }
}

/* The shards to run: not started, or stopped before their end (not running). */
static unsigned *to_run(const kd_shard_set *set, size_t *n) {
  unsigned *v = malloc(sizeof *v * (set->count ? set->count : 1));
  *n = 0;
  for (unsigned i = 1, k = 0; v && i <= set->count; ++i) {
    const kd_shard_out *s = k < set->n_shards && set->shard[k].spec.index == i ? &set->shard[k++] : NULL;
    if (!s || (!s->running && s->done < s->n_points)) v[(*n)++] = i;
  }
  return v;
}

/* The first of the temporary files a merge into `stem` writes (kd_merge: the metadata,
 * the JSON Lines, the CSV) that is on disk, into `name`; 0 when none is. A merge over a
 * complete run killed inside a write leaves one beside the complete run. */
static int merge_leftover(const char *stem, char *name, size_t len) {
  static const char *const ext[] = {".meta.json.tmp", ".jsonl.tmp", ".csv.tmp"};
  struct stat sb;
  for (size_t i = 0; i < sizeof ext / sizeof *ext; ++i)
    if (kd_run_path(stem, ext[i], name, len) == KD_OK && stat(name, &sb) == 0) return 1;
  return 0;
}

/* The command that merges the shards in `where`. */
static void print_merge(FILE *out, const char *argv0, const char *where) {
  put_word(out, argv0);
  fputs(" merge ", out);
  put_word(out, where);
  fputc('\n', out);
}

/* DIR/scenario.ini, checked to be the shards' scenario. */
static kd_status scenario_file(const kd_shard_set *set, char *path, size_t len) {
  if (!set->dir[0])
    return kd_fail(KD_EINVAL, "missing: the shards are not all in one directory: name one NAME.shards");
  snprintf(path, len, "%s/scenario.ini", set->dir);
  kd_config c;
  kd_config_default(&c);
  kd_scenario_id now, was;
  kd_status st = kd_scenario_load(&c, path);
  if (st == KD_OK) st = kd_scenario_hash(&c, &now);
  if (st != KD_OK) return st;
  if (strcmp(now.hash, set->hash)) {
    kd_scenario_id_from_json(set->shard[0].meta, &was);
    char why[1024];
    kd_scenario_id_diff(&was, &now, why, sizeof why);
    return kd_fail(KD_EINVAL, "%s describes scenario %s, the shards are of %s (%s): run the shards' "
                   "own command with --shard I/%u", path, now.hash, set->hash, why, set->count);
  }
  return KD_OK;
}

kd_status kd_missing_print(const kd_shard_set *set, const char *argv0, int array_only, FILE *out) {
  size_t n = 0;
  unsigned *todo = to_run(set, &n);
  if (!todo) return kd_fail(KD_ENOMEM, "out of memory");
  kd_status st = KD_OK;
  if (array_only) {
    put_ranges(out, todo, n);
    if (n) fputc('\n', out);
    free(todo);
    return KD_OK;
  }
  size_t missing = kd_shard_set_missing(set);
  const char *where = set->dir[0] ? set->dir : "the shards";
  fprintf(out, "# %s: %zu of %zu points missing, %u shards, scenario %s\n", where, missing,
          set->grid_points, set->count, set->hash);
  char *gaps = kd_shard_set_gaps(set);
  if (gaps && *gaps) fprintf(out, "# %s\n", gaps);
  free(gaps);
  if (kd_shard_set_running(set))
    fputs("# a shard still running is not listed below: ask again when it has ended\n", out);
  char ini[4200];
  if (!n && !missing && !kd_shard_set_running(set)) {
    char stem[4096];
    switch (kd_merged_state(set, stem, sizeof stem)) {
      case KD_MERGED_COMPLETE: {
        char left[4200];
        if (merge_leftover(stem, left, sizeof left)) {
          fprintf(out, "# nothing to compute: merged into %s.csv, complete; a merge over it was "
                  "interrupted and left %s: run it again to clear it:\n", stem, left);
          print_merge(out, argv0, where);
        } else {
          fprintf(out, "# nothing to compute: merged into %s.csv, complete\n", stem);
        }
        break;
      }
      case KD_MERGED_REFUSED: /* what the merge would say */
        fprintf(out, "# nothing to compute, but a merge would be refused: %s\n", kd_last_error());
        break;
      case KD_MERGED_INTERRUPTED:
        fprintf(out, "# nothing to compute; a merge into %s.csv was interrupted: run it again:\n", stem);
        print_merge(out, argv0, where);
        break;
      case KD_MERGED_PARTIAL:
        fprintf(out, "# nothing to compute; %s.csv is a partial merge: merge them again for the "
                "whole run:\n", stem);
        print_merge(out, argv0, where);
        break;
      case KD_MERGED_NONE:
        fputs("# nothing to compute; merge them with:\n", out);
        print_merge(out, argv0, where);
        break;
    }
  } else if (n && (st = scenario_file(set, ini, sizeof ini)) == KD_OK) {
    for (size_t i = 0; i < n; ++i) {
      put_word(out, argv0);
      fputs(" --scenario ", out);
      put_word(out, ini);
      fprintf(out, " --shard %u/%u\n", todo[i], set->count);
    }
    fputs("# or as a Slurm array, whose indices are the shard numbers:\n# KDBENCH_ARRAY=", out);
    put_ranges(out, todo, n);
    fputs(" scripts/slurm/submit.sh ", out);
    put_word(out, ini);
    fprintf(out, " %u\n", set->count);
  }
  free(todo);
  return st;
}

/* A run that is not sharded: its state, and the command that resumes it. */
static kd_status plain_run(const char *stem, int array_only, FILE *out) {
  char path[4200];
  snprintf(path, sizeof path, "%s.meta.json", stem);
  cJSON *m = NULL;
  errno = 0;
  kd_status st = kd_run_read_meta(stem, &m);
  if (st == KD_EIO && errno == ENOENT)
    return kd_fail(KD_EINVAL, "%s: no run (no %s) and no shards (no %s.shards/)", stem, path, stem);
  if (st != KD_OK) return st; /* the reason names the file */
  const cJSON *merged = cJSON_GetObjectItemCaseSensitive(m, "merged");
  const cJSON *total = cJSON_GetObjectItemCaseSensitive(m, "points_total");
  const cJSON *done = cJSON_GetObjectItemCaseSensitive(m, "points_done");
  const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
  if (!cJSON_IsNumber(total) || !cJSON_IsNumber(done) || !cJSON_IsString(cmd))
    st = kd_fail(KD_EINVAL, "%s: not a run's metadata (points_total, points_done, command)", path);
  else if (array_only)
    st = kd_fail(KD_EINVAL, "%s is not sharded (no %s.shards/): no array indices", stem, stem);
  else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "in_progress")))
    fprintf(out, "# %s: a merge into it was interrupted; run it again:\n%s\n", stem, cmd->valuestring);
  else if (done->valuedouble >= total->valuedouble)
    fprintf(out, "# %s: complete (%.0f points)\n", stem, total->valuedouble);
  else
    fprintf(out, "# %s: %.0f of %.0f points missing; the same command resumes it:\n%s\n", stem,
            total->valuedouble - done->valuedouble, total->valuedouble, cmd->valuestring);
  cJSON_Delete(m);
  return st;
}

kd_status kd_missing_run(const char *run, const char *argv0, int array_only, FILE *out) {
  char stem[4096], source[4200];
  kd_shard_spec s;
  if (is_dir(run)) snprintf(source, sizeof source, "%s", run);
  else {
    kd_status st = kd_run_stem(run, stem, sizeof stem);
    if (st != KD_OK) return st;
    snprintf(source, sizeof source, "%s.shards", stem);
    if (!is_dir(source) && kd_shard_name_parse(stem, &s)) { /* a shard: its whole set */
      char *slash = strrchr(stem, '/');
      snprintf(source, sizeof source, "%.*s", slash ? (int)(slash - stem) : 1, slash ? stem : ".");
    } else if (!is_dir(source))
      return plain_run(stem, array_only, out);
  }
  char *sources[1] = {source};
  kd_shard_set *set = NULL;
  kd_status st = kd_shard_set_load(sources, 1, stderr, &set);
  if (st == KD_OK) st = kd_missing_print(set, argv0, array_only, out);
  kd_shard_set_free(set);
  return st;
}
