/* Finding the outputs of a run's shards (for merge and missing): every shard's
 * metadata, checked against the others; their rows (shard_rows.c) by grid point. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kdbench/run_paths.h"
#include "kdbench/run_reader.h"
#include "kdbench/scenario_id.h"
#include "internal.h"

static int is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* ---- which shards ------------------------------------------------------------------- */

typedef struct {
  char **v;
  size_t n, cap;
} strlist;

static kd_status push(strlist *l, const char *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **v = realloc(l->v, sizeof *v * cap);
    if (!v) return kd_fail(KD_ENOMEM, "out of memory");
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(s))) return kd_fail(KD_ENOMEM, "out of memory");
  ++l->n;
  return KD_OK;
}

static void strlist_free(strlist *l) {
  for (size_t i = 0; i < l->n; ++i) free(l->v[i]);
  free(l->v);
}

/* The stems of the shards (their .meta.json) in `dir`. */
static kd_status scan_dir(const char *dir, strlist *out) {
  DIR *d = opendir(dir);
  if (!d) return kd_fail(KD_EIO, "%s: cannot read the directory: %s", dir, strerror(errno));
  kd_status st = KD_OK;
  kd_shard_spec s;
  for (struct dirent *e; st == KD_OK && (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 10 || strcmp(e->d_name + len - 10, ".meta.json") || !kd_shard_name_parse(e->d_name, &s))
      continue;
    char stem[4096];
    int used = snprintf(stem, sizeof stem, "%s/%.*s", dir, (int)(len - 10), e->d_name);
    if (used < 0 || (size_t)used >= sizeof stem) /* refused, not cut into another name */
      st = kd_fail(KD_EINVAL, "shard path too long (%d bytes, at most %zu): '%s/%s'", used,
                   sizeof stem - 1, dir, e->d_name);
    else
      st = push(out, stem);
  }
  closedir(d);
  return st;
}

/* The stems `src` names; *dir gets the directory they are in. */
static kd_status resolve(const char *src, strlist *out, char *dir, size_t dirlen) {
  char stem[4096], sdir[4096];
  if (is_dir(src)) {
    snprintf(dir, dirlen, "%s", src);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; --n) dir[n - 1] = '\0';
    return scan_dir(dir, out);
  }
  kd_status st = kd_run_stem(src, stem, sizeof stem);
  if (st == KD_OK) st = kd_run_path(stem, ".shards", sdir, sizeof sdir);
  if (st != KD_OK) return st;
  if (is_dir(sdir)) {
    snprintf(dir, dirlen, "%s", sdir);
    return scan_dir(sdir, out);
  }
  kd_shard_spec s;
  char meta[4200];
  snprintf(meta, sizeof meta, "%s.meta.json", stem);
  if (!kd_shard_name_parse(stem, &s))
    return kd_fail(KD_EINVAL, "%s: not a shard, a directory of shards, nor a run with %s beside it",
                   src, sdir);
  struct stat sb;
  if (stat(meta, &sb) != 0) return kd_fail(KD_EINVAL, "%s: no such shard (%s is missing)", src, meta);
  const char *slash = strrchr(stem, '/');
  snprintf(dir, dirlen, "%.*s", slash ? (int)(slash - stem) : 1, slash ? stem : ".");
  return push(out, stem);
}

/* ---- one shard's metadata ------------------------------------------------------------ */

static kd_status bad_key(const char *path, const char *key, const char *what) {
  return kd_fail(KD_EINVAL, "%s: key \"%s\" %s (a corrupt shard)", path, key, what);
}

/* A non-negative integer key of `o`. */
static kd_status get_count(const cJSON *o, const char *key, const char *path, size_t *out) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!x) return bad_key(path, key, "is missing");
  if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0) || x->valuedouble != floor(x->valuedouble) ||
      x->valuedouble > 9007199254740992.0)
    return bad_key(path, key, "is not a count");
  *out = (size_t)x->valuedouble;
  return KD_OK;
}

static kd_status load_meta(kd_shard_out *s, size_t *grid_points, size_t *rows_per_point) {
  char path[4200];
  snprintf(path, sizeof path, "%s.meta.json", s->stem);
  kd_status st = kd_run_read_meta(s->stem, &s->meta);
  if (st == KD_EINVAL) return kd_fail(st, "%s (a corrupt shard)", kd_last_error());
  if (st != KD_OK) return st;
  const cJSON *hash = cJSON_GetObjectItemCaseSensitive(s->meta, "scenario_hash");
  if (!cJSON_IsString(hash) || strlen(hash->valuestring) != 16)
    return bad_key(path, "scenario_hash", "is missing or not 16 hex digits");
  memcpy(s->hash, hash->valuestring, 17);
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(s->meta, "shard");
  if (!cJSON_IsObject(sh))
    return kd_fail(KD_EINVAL, "%s: no \"shard\" object: not the metadata of a shard", path);
  size_t index = 0, count = 0;
  st = get_count(sh, "index", path, &index);
  if (st == KD_OK) st = get_count(sh, "count", path, &count);
  if (st == KD_OK) st = get_count(sh, "grid_points", path, grid_points);
  if (st != KD_OK) return st;
  kd_shard_spec named;
  kd_shard_name_parse(s->stem, &named);
  if (named.index != index || named.count != count)
    return kd_fail(KD_EINVAL, "%s: named shard %u/%u but its metadata says %zu/%zu", path,
                   named.index, named.count, index, count);
  s->spec = named;
  const cJSON *pts = cJSON_GetObjectItemCaseSensitive(sh, "points");
  if (!cJSON_IsArray(pts)) return bad_key(path, "shard.points", "is missing or not an array");
  s->points = malloc(sizeof(size_t) * ((size_t)cJSON_GetArraySize(pts) + 1));
  if (!s->points) return kd_fail(KD_ENOMEM, "out of memory");
  const cJSON *x;
  cJSON_ArrayForEach(x, pts) {
    double v = cJSON_IsNumber(x) ? x->valuedouble : -1;
    if (!(v >= 0 && v < (double)*grid_points && v == floor(v)) ||
        (s->n_points && (size_t)v <= s->points[s->n_points - 1]))
      return bad_key(path, "shard.points", "is not an increasing list of grid points");
    s->points[s->n_points++] = (size_t)v;
  }
  const cJSON *pipes = cJSON_GetObjectItemCaseSensitive(s->meta, "pipelines");
  if (!cJSON_IsArray(pipes) || cJSON_GetArraySize(pipes) < 1)
    return bad_key(path, "pipelines", "is missing or empty");
  *rows_per_point = (size_t)cJSON_GetArraySize(pipes); /* a run older than rows_per_point */
  if (cJSON_GetObjectItemCaseSensitive(s->meta, "rows_per_point"))
    st = get_count(s->meta, "rows_per_point", path, rows_per_point);
  if (st != KD_OK) return st;
  const cJSON *host = cJSON_GetObjectItemCaseSensitive(sh, "host");
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(sh, "pid");
  snprintf(s->who, sizeof s->who, "pid %.0f on %s", cJSON_IsNumber(pid) ? pid->valuedouble : -1.0,
           cJSON_IsString(host) ? host->valuestring : "?");
  s->running = kd_shard_running(s->stem);
  return KD_OK;
}

/* ---- the set ---------------------------------------------------------------------------- */

static int by_number(const void *a, const void *b) {
  const kd_shard_out *x = a, *y = b;
  return (x->spec.index > y->spec.index) - (x->spec.index < y->spec.index);
}

/* One scenario, one N, each shard once. */
static kd_status check_agree(kd_shard_set *set, size_t grid, size_t rpp, size_t k) {
  kd_shard_out *a = &set->shard[0], *b = &set->shard[k];
  if (strcmp(a->hash, b->hash)) {
    kd_scenario_id ia, ib;
    kd_scenario_id_from_json(a->meta, &ia);
    kd_scenario_id_from_json(b->meta, &ib);
    char why[1024];
    kd_scenario_id_diff(&ia, &ib, why, sizeof why);
    return kd_fail(KD_EINVAL, "shards of different scenarios: %s (scenario %s) and %s (scenario %s): %s",
                   a->stem, a->hash, b->stem, b->hash, why);
  }
  if (a->spec.count != b->spec.count)
    return kd_fail(KD_EINVAL, "shards of different counts: %s is %u/%u, %s is %u/%u", a->stem,
                   a->spec.index, a->spec.count, b->stem, b->spec.index, b->spec.count);
  if (grid != set->grid_points || rpp != set->rows_per_point)
    return kd_fail(KD_EINVAL, "%s.meta.json: %zu grid points of %zu rows, %s.meta.json %zu of %zu",
                   b->stem, grid, rpp, a->stem, set->grid_points, set->rows_per_point);
  return KD_OK;
}

kd_status kd_shard_set_load(char *const *sources, size_t n_sources, FILE *log, kd_shard_set **out) {
  *out = NULL;
  kd_shard_set *set = calloc(1, sizeof *set);
  if (!set) return kd_fail(KD_ENOMEM, "out of memory");
  strlist stems = {0};
  kd_status st = n_sources ? KD_OK : kd_fail(KD_EINVAL, "no shards given");
  for (size_t i = 0; i < n_sources && st == KD_OK; ++i) {
    char dir[4096];
    size_t before = stems.n;
    st = resolve(sources[i], &stems, dir, sizeof dir);
    if (st == KD_OK && stems.n == before)
      st = kd_fail(KD_EINVAL, "%s: no shard in it (no shard-I-of-N.meta.json)", dir);
    if (i == 0) snprintf(set->dir, sizeof set->dir, "%s", dir);
    else if (strcmp(set->dir, dir)) set->dir[0] = '\0';
  }
  if (st == KD_OK && !(set->shard = calloc(stems.n, sizeof *set->shard)))
    st = kd_fail(KD_ENOMEM, "out of memory");
  for (size_t k = 0; k < stems.n && st == KD_OK; ++k) {
    kd_shard_out *s = &set->shard[set->n_shards++];
    snprintf(s->stem, sizeof s->stem, "%s", stems.v[k]);
    size_t grid = 0, rpp = 0;
    st = load_meta(s, &grid, &rpp);
    if (st == KD_OK && k == 0) {
      set->grid_points = grid;
      set->rows_per_point = rpp;
      set->count = s->spec.count;
      memcpy(set->hash, s->hash, sizeof set->hash);
    }
    if (st == KD_OK) st = check_agree(set, grid, rpp, k);
  }
  strlist_free(&stems);
  if (st == KD_OK) qsort(set->shard, set->n_shards, sizeof *set->shard, by_number);
  for (size_t k = 1; k < set->n_shards && st == KD_OK; ++k)
    if (set->shard[k].spec.index == set->shard[k - 1].spec.index)
      st = kd_fail(KD_EINVAL, "shard %u/%u given twice: %s and %s", set->shard[k].spec.index,
                   set->count, set->shard[k - 1].stem, set->shard[k].stem);
  if (st == KD_OK && !(set->point = calloc(set->grid_points ? set->grid_points : 1, sizeof *set->point)))
    st = kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; st == KD_OK && i < set->grid_points; ++i) set->point[i].shard = -1;
  for (size_t k = 0; k < set->n_shards && st == KD_OK; ++k) st = kd_shard_read_rows(set, k, log);
  if (st != KD_OK) {
    kd_shard_set_free(set);
    return st;
  }
  *out = set;
  return KD_OK;
}

void kd_shard_set_free(kd_shard_set *set) {
  if (!set) return;
  for (size_t k = 0; k < set->n_shards; ++k) {
    cJSON_Delete(set->shard[k].meta);
    free(set->shard[k].points);
    free(set->shard[k].jsonl);
    free(set->shard[k].csv);
  }
  for (size_t i = 0; set->point && i < set->grid_points; ++i) free(set->point[i].rows);
  free(set->shard);
  free(set->point);
  free(set);
}

/* ---- what is missing ----------------------------------------------------------------------- */

size_t kd_shard_set_missing(const kd_shard_set *set) {
  size_t n = 0;
  for (size_t i = 0; i < set->grid_points; ++i) n += set->point[i].shard < 0;
  return n;
}

size_t kd_shard_set_running(const kd_shard_set *set) {
  size_t n = 0;
  for (size_t k = 0; k < set->n_shards; ++k) n += set->shard[k].running != 0;
  return n;
}

char *kd_shard_set_gaps(const kd_shard_set *set) {
  char *text = NULL;
  size_t len = 0, listed = 0, more = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  const char *sep = "";
  for (unsigned i = 1, k = 0; i <= set->count; ++i) {
    const kd_shard_out *s = k < set->n_shards && set->shard[k].spec.index == i ? &set->shard[k++] : NULL;
    int gap = !s || s->running || s->done < s->n_points;
    if (gap && listed == 8) ++more;
    if (!gap || listed == 8) continue;
    ++listed;
    if (!s) fprintf(f, "%sshard %u/%u not started", sep, i, set->count);
    else if (s->running)
      fprintf(f, "%sshard %u/%u still running (%s), %zu of %zu points done", sep, i, set->count,
              s->who, s->done, s->n_points);
    else fprintf(f, "%sshard %u/%u stopped after %zu of %zu points", sep, i, set->count, s->done,
                 s->n_points);
    sep = "; ";
  }
  if (more) fprintf(f, "; and %zu more shards", more);
  size_t missing = kd_shard_set_missing(set), shown = 0;
  if (missing) {
    fprintf(f, "%s%zu of %zu points missing (", sep, missing, set->grid_points);
    for (size_t i = 0; i < set->grid_points && shown < 12; ++i)
      if (set->point[i].shard < 0) fprintf(f, "%s%zu", shown++ ? ", " : missing > 1 ? "points " : "point ", i);
    fputs(missing > shown ? ", ...)" : ")", f);
  }
  fclose(f);
  return text;
}
