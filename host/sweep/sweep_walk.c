/* The walk over the shard's points, simulated: each point on disk resumed as it is,
 * each other one planned, its trials run (an extended run's kept trials completed), its
 * rows appended and shown, until the last point, the first error or a stop. */
#include <stdlib.h>
#include <string.h>

#include "kdbench/clock.h"
#include "kdbench/stop.h"
#include "internal.h"

void kd_sweep_resume_point(kd_sweep_ctx *x, size_t i, size_t j, const kd_row *done, size_t count) {
  x->wall[j] = done->wall_s;
  ++x->meta->points_done;
  ++x->meta->points_resumed;
  kd_sweep_table_rows(x->table, x->pg, x->c, done, count, &x->g->pt[i]);
  char label[128];
  kd_sweep_point_label(x->c, &x->g->pt[i], label, sizeof label);
  kd_progress_point(x->pg, label, 0, x->cost[i], x->c->trials, 1);
}

/* Computes point i (the j-th of this process: shard) and appends its rows; prior[0 ..
 * nprior): its rows in the run extended (--extend), whose trials are kept (their risks)
 * and completed with the rest. */
static kd_status compute_point(kd_sweep_ctx *x, size_t i, size_t j, const char *key,
                               const kd_row *prior, size_t nprior, kd_sweep_problem *ps,
                               kd_teacher_cache *cache, double *risks) {
  const kd_config *c = x->c;
  const kd_grid_point *gp = &x->g->pt[i];
  double t0 = kd_clock_s();
  kd_status st = kd_sweep_problem_for(c, gp, ps);
  if (st != KD_OK) return st;
  kd_point pt = kd_sweep_point_of(c, gp);
  kd_plan pl;
  st = kd_plan_point(&ps->pr, &pt, c->pipelines, &pl);
  if (st != KD_OK) return st;
  long fallbacks[KD_PLAN_ROWS], before[KD_PLAN_ROWS] = {0};
  const uint32_t first = nprior ? (uint32_t)prior->n_risks : 0;
  for (size_t r = 0; r < nprior; ++r) { /* an extended run's trials so far, row by row */
    const kd_row *o = &prior[r];
    for (int q = 0; q < pl.nrows; ++q)
      if (pl.row[q].pipe == o->pipeline && pl.row[q].step == o->step &&
          !strcmp(pl.row[q].group, o->group)) {
        memcpy(risks + (size_t)q * c->trials, o->risks, sizeof(double) * first);
        before[q] = o->fallbacks;
      }
  }
  st = kd_run_point_from(x->be, &ps->pr, ps->id, &pl, c->seed, first, c->trials, cache,
                         kd_stop_flag(), risks, fallbacks);
  for (int q = 0; q < pl.nrows; ++q) fallbacks[q] += before[q];
  kd_row *rows = st == KD_OK ? malloc(sizeof *rows * (size_t)pl.nrows) : NULL;
  if (st == KD_OK && !rows) st = kd_fail(KD_ENOMEM, "cannot allocate %d rows", pl.nrows);
  size_t count = 0;
  double wall = kd_clock_s() - t0;
  for (int q = 0; q < pl.nrows && st == KD_OK; ++q) {
    kd_row r = kd_sweep_make_row(c, &ps->pr, &pl, gp, q, risks + (size_t)q * c->trials,
                                 c->trials, kd_sweep_first_of(&pl, q, risks, c->trials),
                                 fallbacks[q]);
    r.point = i;
    memcpy(r.key, key, sizeof r.key);
    r.wall_s = wall;
    if (c->raw) {
      r.risks = risks + (size_t)q * c->trials; /* borrowed: not freed */
      r.n_risks = c->trials;
    }
    rows[count++] = r;
  }
  kd_stop_hold(); /* a stop forced by the watchdog waits for the whole point */
  if (st == KD_OK) st = kd_run_append(x->rs, rows, count);
  if (st == KD_OK) {
    x->wall[j] = wall;
    ++x->meta->points_done;
    st = kd_run_meta_write(x->rs->meta_path, x->meta);
  }
  kd_stop_unhold();
  if (st == KD_OK) kd_sweep_table_rows(x->table, x->pg, c, rows, count, gp);
  char label[128];
  kd_sweep_point_label(c, gp, label, sizeof label);
  if (st == KD_OK)
    kd_progress_point(x->pg, label, wall, x->cost[i], c->trials, 0);
  free(rows);
  kd_plan_free(&pl);
  return st;
}

kd_status kd_sweep_walk(kd_sweep *s, kd_sweep_ctx *x) {
  kd_status st = kd_run_meta_write(s->rs.meta_path, x->meta);
  for (size_t j = 0; j < s->sh.n_points && st == KD_OK; ++j) {
    size_t i = s->sh.points[j]; /* shard: the global index */
    char key[17];
    kd_point_key(s->id.hash, &s->g.pt[i], key);
    size_t count = 0;
    const kd_row *done = kd_run_find(&s->rs, key, &count);
    size_t nprior = 0;
    const kd_row *prior = NULL;
    for (size_t r = 0; !done && r < s->n_part && !prior; ++r) /* --extend: to complete */
      if (!strcmp(s->part[r].key, key)) prior = &s->part[r];
    while (prior && prior + nprior < s->part + s->n_part && !strcmp(prior[nprior].key, key)) ++nprior;
    if (done) kd_sweep_resume_point(x, i, j, done, count);
    else if (*kd_stop_flag()) st = kd_fail(KD_ESTOP, "stopped");
    else st = compute_point(x, i, j, key, prior, nprior, &s->ps, &s->cache, s->risks);
  }
  return st;
}
