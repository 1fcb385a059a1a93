/* Where a shard writes (DIR/NAME.shards/shard-003-of-008.*), whether it is being
 * written, its scenario.ini, and the sweep's view of a shard (kd_shard_open). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "kdbench/file_io.h"
#include "kdbench/progress.h"
#include "kdbench/run_paths.h"
#include "kdbench/shard.h"

/* ---- names ------------------------------------------------------------------------ */

kd_status kd_shard_dir(const char *run, char *out, size_t len) {
  char stem[4096];
  kd_status st = kd_run_stem(run, stem, sizeof stem);
  return st == KD_OK ? kd_run_path(stem, ".shards", out, len) : st;
}

kd_status kd_shard_stem(const char *run, kd_shard_spec s, char *out, size_t len) {
  char dir[4096], name[64];
  kd_status st = kd_shard_dir(run, dir, sizeof dir);
  if (st != KD_OK) return st;
  int width = 3;
  for (unsigned n = s.count; n >= 1000; n /= 10) ++width;
  snprintf(name, sizeof name, "/shard-%0*u-of-%0*u", width, s.index, width, s.count);
  return kd_run_path(dir, name, out, len);
}

int kd_shard_name_parse(const char *path, kd_shard_spec *s) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char stem[256];
  if (!*base || kd_run_stem(base, stem, sizeof stem) != KD_OK) return 0;
  unsigned i = 0, n = 0;
  int used = -1;
  if (sscanf(stem, "shard-%u-of-%u%n", &i, &n, &used) != 2 || used < 0 || stem[used] ||
      strncmp(stem, "shard-", 6) || stem[6] < '0' || stem[6] > '9' || i < 1 || i > n ||
      n > KD_MAX_SHARDS)
    return 0;
  *s = (kd_shard_spec){.index = i, .count = n};
  return 1;
}

/* ---- is it running? ----------------------------------------------------------------- */

int kd_shard_running(const char *stem) {
  char path[4200];
  if (kd_run_path(stem, ".lock", path, sizeof path) != KD_OK) return 0;
  int f = open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return 0; /* the writer removes its lock as it ends */
  int held = flock(f, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(f); /* releases a shared lock taken just now */
  return held;
}

/* ---- the sweep's shard -------------------------------------------------------------- */

kd_status kd_shard_open(kd_shard *sh, const kd_config *c, const kd_grid *g) {
  memset(sh, 0, sizeof *sh);
  sh->grid_points = g->count;
  kd_status st = kd_shard_resolve(c->run.shard, &sh->spec, &sh->from_slurm);
  if (st != KD_OK) return st;
  double *cost = malloc(sizeof(double) * (g->count ? g->count : 1)), total = 0, mine = 0;
  if (!cost) return kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; i < g->count; ++i) total += cost[i] = kd_point_cost(g->pt[i].n, g->pt[i].p, c->trials);
  st = kd_shard_points(cost, g->count, sh->spec, &sh->points, &sh->n_points);
  for (size_t j = 0; st == KD_OK && j < sh->n_points; ++j) mine += cost[sh->points[j]];
  free(cost);
  if (st != KD_OK) return st;
  sh->cost_share = total > 0 ? mine / total : 0;
  if (!sh->spec.count) {
    snprintf(sh->csv, sizeof sh->csv, "%s", c->run.csv);
    return KD_OK;
  }
  st = kd_shard_stem(c->run.csv, sh->spec, sh->stem, sizeof sh->stem);
  if (st == KD_OK) st = kd_run_path(sh->stem, ".csv", sh->csv, sizeof sh->csv);
  if (st != KD_OK) kd_shard_close(sh);
  return st;
}

static kd_status render_scenario(FILE *out, const void *config) {
  kd_config_print(config, out, 0);
  return KD_OK;
}

kd_status kd_shard_save_scenario(const kd_shard *sh, const kd_config *c) {
  if (!sh->spec.count) return KD_OK;
  char dir[4096], path[4200];
  kd_status st = kd_shard_dir(c->run.csv, dir, sizeof dir);
  if (st != KD_OK) return st;
  snprintf(path, sizeof path, "%s/scenario.ini", dir);
  kd_config plain = *c;
  plain.run.shard[0] = '\0'; /* every shard writes the same file */
  return kd_file_replace_rendered(path, render_scenario, &plain, 1);
}

/* 1 when `dir` holds nothing but scenario.ini. */
static int only_scenario_left(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int other = 0;
  for (struct dirent *e; (e = readdir(d));)
    other |= strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "scenario.ini");
  closedir(d);
  return !other;
}

void kd_shard_close(kd_shard *sh) {
  if (sh->stem[0]) { /* a shard that wrote nothing leaves no .shards directory behind */
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", sh->stem);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    if (slash && only_scenario_left(dir)) {
      snprintf(path, sizeof path, "%s/scenario.ini", dir);
      unlink(path);
      rmdir(dir);
    }
  }
  free(sh->points);
  sh->points = NULL;
  sh->n_points = 0;
}
