/* NAME.meta.json through cJSON, written to a temporary file and renamed. */
#include "kdbench/run_meta.h"

#include <cJSON.h>
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdbench/json_num.h"
#include "kdbench/pipeline.h"
#include "kdbench/run.h"
#include "kdbench/run_reader.h"
#include "kdbench/version.h"

static void add_time(cJSON *o, const char *key, time_t t) {
  if (!t) {
    cJSON_AddNullToObject(o, key);
    return;
  }
  char buf[32];
  struct tm tm;
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
  cJSON_AddStringToObject(o, key, buf);
}

static cJSON *backend_object(kd_backend *be) {
  cJSON *b = cJSON_CreateObject();
  char desc[1024] = "theory only: no backend opened";
  if (be && be->type) be->type->describe(be->state, desc, sizeof desc);
  cJSON_AddStringToObject(b, "name", be && be->type ? be->type->name : "none");
  cJSON_AddStringToObject(b, "description", desc);
  /* The host's BLAS and LAPACK serve every backend (the CPU stages, the theory). */
  cJSON_AddStringToObject(b, "blas", openblas_get_config());
  lapack_int major = 0, minor = 0, patch = 0;
  LAPACKE_ilaver(&major, &minor, &patch);
  char lapack[32];
  snprintf(lapack, sizeof lapack, "%d.%d.%d", (int)major, (int)minor, (int)patch);
  cJSON_AddStringToObject(b, "lapack", lapack);
  cJSON *facts = cJSON_AddObjectToObject(b, "cuda");
  int any = 0;
  if (be && be->type && be->type->facts) {
    /* Backend facts as "key=value" lines. */
    char text[2048] = "";
    be->type->facts(be->state, text, sizeof text);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      char *eq = strchr(line, '=');
      if (!eq) continue;
      *eq = '\0';
      cJSON_AddStringToObject(facts, line, eq + 1);
      any = 1;
    }
  }
  if (!any) cJSON_ReplaceItemInObject(b, "cuda", cJSON_CreateNull());
  return b;
}

/* shard: "shard": {index, count, from_slurm, grid_points, cost_share, host, pid, points}. */
static void add_shard(cJSON *o, const kd_run_meta_shard *sh) {
  cJSON *s = cJSON_AddObjectToObject(o, "shard");
  cJSON_AddNumberToObject(s, "index", sh->spec.index);
  cJSON_AddNumberToObject(s, "count", sh->spec.count);
  cJSON_AddBoolToObject(s, "from_slurm", sh->from_slurm);
  cJSON_AddNumberToObject(s, "grid_points", (double)sh->grid_points);
  cJSON_AddNumberToObject(s, "cost_share", sh->cost_share);
  char host[256] = "";
  gethostname(host, sizeof host);
  host[sizeof host - 1] = '\0';
  cJSON_AddStringToObject(s, "host", host);
  cJSON_AddNumberToObject(s, "pid", (double)getpid());
  cJSON *pts = cJSON_AddArrayToObject(s, "points");
  for (size_t j = 0; j < sh->n_points; ++j) cJSON_AddItemToArray(pts, cJSON_CreateNumber((double)sh->points[j]));
}

kd_status kd_run_meta_write(const char *path, const kd_run_meta *m) {
  const kd_config *c = m->cfg;
  cJSON *o = cJSON_CreateObject();
  if (!o) return kd_fail(KD_ENOMEM, "out of memory");
  cJSON_AddNumberToObject(o, "schema", KD_RUN_SCHEMA);
  cJSON *v = cJSON_AddObjectToObject(o, "kdbench");
  cJSON_AddStringToObject(v, "version", KDBENCH_VERSION);
  cJSON_AddStringToObject(v, "git_commit", KDBENCH_GIT_COMMIT);
  cJSON_AddStringToObject(o, "command", m->command ? m->command : "");
  cJSON_AddStringToObject(o, "scenario", m->scenario);
  cJSON_AddStringToObject(o, "scenario_hash", m->id->hash);
  kd_scenario_id_to_json(m->id, o);
  cJSON *axes = cJSON_AddArrayToObject(o, "axes");
  for (int i = 0; i < c->n_swept; ++i)
    cJSON_AddItemToArray(axes, cJSON_CreateString(kd_axis_name(c->swept[i])));
  cJSON_AddNumberToObject(o, "seed", (double)c->seed);
  cJSON_AddNumberToObject(o, "trials", c->theory_only ? 0 : c->trials); /* the rows' */
  cJSON *pipes = cJSON_AddArrayToObject(o, "pipelines");
  for (int q = 0; q < KD_NPIPES; ++q)
    if (c->pipelines >> q & 1u) cJSON_AddItemToArray(pipes, cJSON_CreateString(kd_pipeline_name((kd_pipeline)q)));
  if (m->rows_per_point != (size_t)cJSON_GetArraySize(pipes)) /* a pipeline of several rows */
    cJSON_AddNumberToObject(o, "rows_per_point", (double)m->rows_per_point);
  if (m->null_risk) {
    cJSON *null = cJSON_AddArrayToObject(o, "null_risk");
    for (size_t i = 0; i < m->grid_points; ++i)
      cJSON_AddItemToArray(null, kd_json_number(m->null_risk[i]));
  }
  cJSON_AddItemToObject(o, "backend", backend_object(m->backend));
  cJSON *conv = cJSON_AddObjectToObject(o, "conventions");
  cJSON_AddStringToObject(conv, "risk", "excess risk (b - beta*)' Sigma (b - beta*); test risk = risk + sigma^2");
  cJSON_AddStringToObject(conv, "ridge", "minimises (1/n)||y - Xb||^2 + ridge ||b||^2");
  cJSON_AddStringToObject(conv, "ci", "95% t-interval over trials");
  add_time(o, "started", m->started);
  add_time(o, "finished", m->finished);
  cJSON_AddBoolToObject(o, "complete", m->points_done == m->points_total);
  cJSON_AddNumberToObject(o, "points_total", (double)m->points_total);
  cJSON_AddNumberToObject(o, "points_done", (double)m->points_done);
  cJSON_AddNumberToObject(o, "points_resumed", (double)m->points_resumed);
  if (m->resumed_from) cJSON_AddItemToObject(o, "resumed_from", cJSON_Duplicate(m->resumed_from, 1));
  if (m->shard) add_shard(o, m->shard); /* shard */
  cJSON *wall = cJSON_AddArrayToObject(o, "point_wall_s");
  for (size_t i = 0; i < m->points_total; ++i)
    cJSON_AddItemToArray(wall, kd_json_number(m->wall_s[i]));
  kd_status st = kd_json_replace(path, o);
  cJSON_Delete(o);
  return st;
}

/* A copy of o[key] added to e, or null. */
static void copy_key(cJSON *e, const cJSON *o, const char *key) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
  cJSON_AddItemToObject(e, key, x ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
}

cJSON *kd_run_meta_earlier(const char *stem) {
  cJSON *old = NULL, *list = cJSON_CreateArray();
  if (!list) return NULL;
  if (kd_run_read_meta(stem, &old) != KD_OK) { /* rows kept, but not who made them */
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNullToObject(e, "backend");
    cJSON_AddItemToArray(list, e);
    return list;
  }
  const cJSON *before = cJSON_GetObjectItemCaseSensitive(old, "resumed_from");
  const cJSON *x;
  cJSON_ArrayForEach(x, before) cJSON_AddItemToArray(list, cJSON_Duplicate(x, 1));
  const size_t done = kd_run_meta_count(old, "points_done"),
               resumed = kd_run_meta_count(old, "points_resumed");
  if (done > resumed) {
    cJSON *e = cJSON_CreateObject();
    copy_key(e, old, "command");
    copy_key(e, old, "started");
    copy_key(e, old, "finished");
    const cJSON *merged = cJSON_GetObjectItemCaseSensitive(old, "merged");
    /* a merged run's own backend is its first shard's: each shard's says more */
    if (merged) copy_key(e, merged, "shards");
    else copy_key(e, old, "backend");
    cJSON_AddNumberToObject(e, "points_computed", (double)(done - resumed));
    cJSON_AddItemToArray(list, e);
  }
  cJSON_Delete(old);
  if (cJSON_GetArraySize(list) == 0) {
    cJSON_Delete(list);
    return NULL;
  }
  return list;
}
