/* kdbench merge: the shards' rows in grid order as one run (CSV, JSON Lines,
 * metadata), refused while anything is missing unless asked for a partial merge. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kdbench/file_io.h"
#include "kdbench/json_num.h"
#include "kdbench/run_paths.h"
#include "kdbench/run_reader.h"
#include "kdbench/scenario_id.h"
#include "internal.h"

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* OUT's metadata, parsed; NULL when absent, unreadable or not a JSON object. */
static cJSON *out_meta(const char *stem) {
  cJSON *o = NULL;
  kd_run_read_meta(stem, &o);
  return o;
}

/* OUT may be overwritten: not being written, and of the scenario of the shards (their
 * first: `shards`), or `force`. A merge that was interrupted left its metadata first
 * (in_progress, of the shards' scenario): it passes, so the same merge restarts it. */
static kd_status check_target(const char *stem, const kd_shard_out *shards, int force) {
  char meta[4200], jsonl[4200], csv[4200];
  snprintf(meta, sizeof meta, "%s.meta.json", stem);
  snprintf(jsonl, sizeof jsonl, "%s.jsonl", stem);
  snprintf(csv, sizeof csv, "%s.csv", stem);
  if (kd_shard_running(stem))
    return kd_fail(KD_EINVAL, "%s is being written by a kdbench (%s.lock is held): merge elsewhere "
                   "with --out", csv, stem);
  if (force || (!exists(meta) && !exists(jsonl) && !exists(csv))) return KD_OK;
  cJSON *o = out_meta(stem);
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "scenario_hash");
  kd_status st = KD_OK;
  if (!cJSON_IsString(h))
    st = kd_fail(KD_EINVAL, "%s exists and is not a kdbench run (no readable %s): use --force to "
                 "overwrite it, or merge elsewhere with --out", csv, meta);
  else if (strcmp(h->valuestring, shards->hash)) {
    kd_scenario_id was, now;
    kd_scenario_id_from_json(o, &was);
    kd_scenario_id_from_json(shards->meta, &now);
    char why[1024];
    kd_scenario_id_diff(&was, &now, why, sizeof why);
    st = kd_fail(KD_EINVAL, "%s holds a run of another scenario (hash %s, the shards' %s: %s): use "
                 "--force to overwrite it, or merge elsewhere with --out", csv, h->valuestring,
                 shards->hash, why);
  }
  cJSON_Delete(o);
  return st;
}

/* ---- the metadata ----------------------------------------------------------------------- */

static const char *meta_text(const cJSON *meta, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(meta, key);
  return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void set_item(cJSON *o, const char *key, cJSON *value) {
  if (cJSON_GetObjectItemCaseSensitive(o, key)) cJSON_ReplaceItemInObjectCaseSensitive(o, key, value);
  else cJSON_AddItemToObject(o, key, value);
}

/* The warning that the shards' points were computed on different backends, once:
 * `name` against the first named (*first). */
static void differ_once(FILE *log, const char **first, int *warned, const char *name) {
  if (!name) return;
  if (!*first) *first = name;
  else if (strcmp(name, *first) && !*warned && log) {
    fprintf(log, "kdbench: warning: shards ran on different backends (%s, %s): their last digits "
            "may differ from a run on one backend\n", *first, name);
    *warned = 1;
  }
}

/* The first shard's metadata made the run's: command, times, counts, wall times,
 * and "merged" (where each shard ran) in place of "shard". */
static cJSON *merged_meta(const kd_shard_set *set, const char *command, int partial, FILE *log) {
  cJSON *m = cJSON_Duplicate(set->shard[0].meta, 1);
  if (!m) return NULL;
  size_t missing = kd_shard_set_missing(set), resumed = 0;
  int complete = missing == 0 && set->n_shards == set->count;
  const char *started = NULL, *finished = NULL;
  cJSON *merged = cJSON_CreateObject(), *from = cJSON_AddArrayToObject(merged, "shards");
  const char *backend0 = NULL;
  int warned = 0;
  for (size_t k = 0; k < set->n_shards; ++k) {
    const kd_shard_out *s = &set->shard[k];
    const char *a = meta_text(s->meta, "started"), *b = meta_text(s->meta, "finished");
    if (a && (!started || strcmp(a, started) < 0)) started = a;
    if (!b) complete = 0;
    else if (!finished || strcmp(b, finished) > 0) finished = b;
    resumed += kd_run_meta_count(s->meta, "points_resumed");
    const cJSON *be = cJSON_GetObjectItemCaseSensitive(s->meta, "backend");
    const char *name = meta_text(be, "name");
    const cJSON *earlier = cJSON_GetObjectItemCaseSensitive(s->meta, "resumed_from"), *x;
    cJSON_ArrayForEach(x, earlier) /* the points it resumed were computed there */
      differ_once(log, &backend0, &warned, meta_text(cJSON_GetObjectItemCaseSensitive(x, "backend"), "name"));
    differ_once(log, &backend0, &warned, name);
    cJSON *e = cJSON_CreateObject();
    char id[48];
    snprintf(id, sizeof id, "%u/%u", s->spec.index, s->spec.count);
    cJSON_AddStringToObject(e, "shard", id);
    cJSON_AddStringToObject(e, "stem", s->stem);
    cJSON_AddStringToObject(e, "ran", s->who);
    cJSON_AddStringToObject(e, "backend", name ? name : "");
    cJSON_AddNumberToObject(e, "points", (double)s->n_points);
    cJSON_AddNumberToObject(e, "points_done", (double)s->done);
    if (earlier) cJSON_AddItemToObject(e, "resumed_from", cJSON_Duplicate(earlier, 1));
    cJSON_AddItemToArray(from, e);
  }
  cJSON *gone = cJSON_AddArrayToObject(merged, "missing_points");
  cJSON *wall = cJSON_CreateArray();
  for (size_t i = 0; i < set->grid_points; ++i) {
    const kd_point_rows *pt = &set->point[i];
    if (pt->shard < 0) cJSON_AddItemToArray(gone, cJSON_CreateNumber((double)i));
    cJSON_AddItemToArray(wall, pt->shard < 0 || pt->wall_s != pt->wall_s ? cJSON_CreateNull()
                                                                         : cJSON_CreateNumber(pt->wall_s));
  }
  cJSON_AddNumberToObject(merged, "count", set->count);
  cJSON_AddBoolToObject(merged, "partial", partial && !complete);
  cJSON_AddBoolToObject(merged, "in_progress", 0);
  set_item(m, "command", cJSON_CreateString(command ? command : ""));
  const char *scenario = meta_text(m, "scenario"); /* without the first shard's "shard = I/N" */
  char *plain = scenario ? strdup(scenario) : NULL;
  char *at = plain ? strstr(plain, "\nshard = ") : NULL;
  if (at) {
    char *end = strchr(at + 1, '\n');
    if (end) memmove(at, end, strlen(end) + 1);
    else at[1] = '\0';
    set_item(m, "scenario", cJSON_CreateString(plain));
  }
  free(plain);
  set_item(m, "started", started ? cJSON_CreateString(started) : cJSON_CreateNull());
  set_item(m, "finished", complete && finished ? cJSON_CreateString(finished) : cJSON_CreateNull());
  set_item(m, "complete", cJSON_CreateBool(complete));
  set_item(m, "points_total", cJSON_CreateNumber((double)set->grid_points));
  set_item(m, "points_done", cJSON_CreateNumber((double)(set->grid_points - missing)));
  set_item(m, "points_resumed", cJSON_CreateNumber((double)resumed));
  cJSON_DeleteItemFromObjectCaseSensitive(m, "shard");
  cJSON_DeleteItemFromObjectCaseSensitive(m, "resumed_from"); /* the first shard's: in merged */
  set_item(m, "point_wall_s", wall);
  set_item(m, "merged", merged);
  return m;
}

/* The metadata as run_meta.c writes it: cJSON's text ending in a newline. */
static kd_status write_meta(const char *stem, const cJSON *m) {
  char path[4200];
  kd_status st = kd_run_path(stem, ".meta.json", path, sizeof path);
  if (st != KD_OK) return st;
  return kd_json_replace(path, m);
}

/* The metadata a merge writes before the files it vouches for: of the shards'
 * scenario (so that the same merge, run again after a crash, may overwrite what it
 * left), vouching for nothing yet (points_done 0, complete false). */
static cJSON *in_progress_meta(const cJSON *final) {
  cJSON *m = cJSON_Duplicate(final, 1);
  if (!m) return NULL;
  set_item(m, "finished", cJSON_CreateNull());
  set_item(m, "complete", cJSON_CreateBool(0));
  set_item(m, "points_done", cJSON_CreateNumber(0));
  set_item(cJSON_GetObjectItemCaseSensitive(m, "merged"), "in_progress", cJSON_CreateBool(1));
  return m;
}

/* ---- the run -------------------------------------------------------------------------------- */

/* OUT's stem: `out`, or NAME for shards that all come from NAME.shards/. */
static kd_status out_stem(const kd_shard_set *set, const char *out, char *stem, size_t len) {
  if (out) return kd_run_stem(out, stem, len);
  size_t n = strlen(set->dir);
  if (n > 7 && !strcmp(set->dir + n - 7, ".shards")) {
    snprintf(stem, len, "%.*s", (int)(n - 7), set->dir);
    return KD_OK;
  }
  return kd_fail(KD_EINVAL, "merge: give the run to write with --out RUN (the shards are not all "
                 "in one NAME.shards directory)");
}

kd_status kd_merge(const kd_shard_set *set, const char *out, int partial, int force,
                   const char *command, FILE *log, FILE *msg) {
  char stem[4096];
  kd_status st = out_stem(set, out, stem, sizeof stem);
  if (st != KD_OK) return st;
  size_t missing = kd_shard_set_missing(set), running = kd_shard_set_running(set);
  if (missing || running) {
    char *gaps = kd_shard_set_gaps(set);
    if (!partial)
      st = kd_fail(KD_EINVAL, "cannot merge %s yet: %s; see kdbench missing %s, or merge what is "
                   "there with --partial", stem, gaps ? gaps : "shards missing", stem);
    else if (log)
      fprintf(log, "kdbench: warning: a partial merge into %s: %s\n", stem, gaps ? gaps : "");
    free(gaps);
    if (st != KD_OK) return st;
  }
  st = check_target(stem, &set->shard[0], force);
  if (st != KD_OK) return st;
  char *csv = NULL, *jsonl = NULL;
  size_t csv_len = 0, jsonl_len = 0;
  FILE *c = open_memstream(&csv, &csv_len), *j = open_memstream(&jsonl, &jsonl_len);
  if (!c || !j) st = kd_fail(KD_ENOMEM, "out of memory");
  if (c) fputs(kd_csv_header, c);
  for (size_t i = 0; i < set->grid_points && st == KD_OK; ++i) {
    const kd_point_rows *pt = &set->point[i];
    if (pt->shard < 0) continue;
    fwrite(pt->json, 1, pt->json_len, j);
    if (pt->csv) fwrite(pt->csv, 1, pt->csv_len, c);
    else
      for (size_t r = 0; r < set->rows_per_point; ++r) kd_row_write_csv(c, &pt->rows[r]);
  }
  if (c) fclose(c);
  if (j) fclose(j);
  /* The order makes every crash restartable: the metadata saying "in progress" first,
   * then the files it vouches for, each whole (temporary file, fsync, rename), then the
   * final metadata. Each of the four replaces a fixed NAME.tmp that a crash may have
   * left, so a finished merge (or restart) leaves none. */
  cJSON *meta = st == KD_OK ? merged_meta(set, command, partial, log) : NULL;
  cJSON *writing = meta ? in_progress_meta(meta) : NULL;
  if (st == KD_OK && !writing) st = kd_fail(KD_ENOMEM, "out of memory");
  char path[4200];
  if (st == KD_OK) st = kd_make_parent_dirs(stem);
  if (st == KD_OK) st = write_meta(stem, writing);
  if (st == KD_OK && (st = kd_run_path(stem, ".jsonl", path, sizeof path)) == KD_OK)
    st = kd_file_replace(path, jsonl, jsonl_len);
  if (st == KD_OK && (st = kd_run_path(stem, ".csv", path, sizeof path)) == KD_OK)
    st = kd_file_replace(path, csv, csv_len);
  if (st == KD_OK) st = write_meta(stem, meta);
  if (st == KD_OK && msg)
    fprintf(msg, "kdbench: merged %zu of %u shards (%zu of %zu points) into %s.csv%s\n",
            set->n_shards, set->count, set->grid_points - missing, set->grid_points, stem,
            missing ? " (partial)" : "");
  free(csv);
  free(jsonl);
  cJSON_Delete(meta);
  cJSON_Delete(writing);
  return st;
}

kd_merged kd_merged_state(const kd_shard_set *set, char *stem, size_t len) {
  if (out_stem(set, NULL, stem, len) != KD_OK) {
    stem[0] = '\0';
    return KD_MERGED_NONE;
  }
  /* what check_target lets through: nothing there, or a run of the shards' scenario */
  if (check_target(stem, &set->shard[0], 0) != KD_OK) return KD_MERGED_REFUSED;
  cJSON *o = out_meta(stem);
  const cJSON *merged = cJSON_GetObjectItemCaseSensitive(o, "merged");
  kd_merged state = KD_MERGED_NONE;
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "in_progress"))) state = KD_MERGED_INTERRUPTED;
  else if (o) state = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "complete")) ? KD_MERGED_COMPLETE
                                                                                    : KD_MERGED_PARTIAL;
  cJSON_Delete(o);
  return state;
}
