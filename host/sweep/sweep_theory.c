/* The walk over the shard's points, --theory-only: each point on disk resumed as it is,
 * the others planned side by side in blocks of one problem, their rows (theory alone)
 * appended a block at a time. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/clock.h"
#include "kdbench/stop.h"
#include "internal.h"

/* --theory-only: up to this many consecutive points not on disk that share a problem
 * are planned side by side (OpenMP) and written in one append and one metadata write
 * (per point, the metadata's rewrite alone would make 10^4 points quadratic). */
#define THEORY_BLOCK 256

/* Shard points j0 .. j0+count-1 (none on disk, one problem): their rows, in order. */
static kd_status theory_block(kd_sweep *s, kd_sweep_ctx *x, size_t j0, size_t count) {
  const kd_config *c = &s->c;
  kd_status st = kd_sweep_problem_for(c, &s->g.pt[s->sh.points[j0]], &s->ps);
  if (st != KD_OK) return st;
  const size_t per = s->rows;
  kd_row *rows = calloc(count * per, sizeof *rows);
  kd_status *sts = calloc(count, sizeof *sts);
  char(*why)[512] = calloc(count, sizeof *why);
  if (!rows || !sts || !why) st = kd_fail(KD_ENOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic, 1) if (st == KD_OK && count > 1)
  for (size_t b = 0; b < count; ++b) {
    if (st != KD_OK) continue;
    const size_t i = s->sh.points[j0 + b];
    const kd_grid_point *gp = &s->g.pt[i];
    double t0 = kd_clock_s();
    kd_point pt = kd_sweep_point_of(c, gp);
    kd_plan pl;
    sts[b] = kd_plan_point(&s->ps.pr, &pt, c->pipelines, &pl);
    if (sts[b] != KD_OK) {
      snprintf(why[b], sizeof why[b], "%s", kd_last_error());
      continue;
    }
    char key[17];
    kd_point_key(s->id.hash, gp, key);
    kd_row *r = rows + b * per;
    for (int q = 0; q < pl.nrows && (size_t)q < per; ++q, ++r) {
      *r = kd_sweep_make_row(c, &s->ps.pr, &pl, gp, q, NULL, 0, NULL, 0);
      r->point = i;
      memcpy(r->key, key, sizeof r->key);
    }
    kd_plan_free(&pl);
    const double wall = kd_clock_s() - t0;
    for (size_t q = 0; q < per; ++q) rows[b * per + q].wall_s = wall;
  }
  size_t good = 0; /* the points before the first failure are kept */
  while (st == KD_OK && good < count && sts[good] == KD_OK) ++good;
  if (st == KD_OK && good < count) st = kd_fail(sts[good], "%s", why[good]);
  kd_stop_hold(); /* a stop forced by the watchdog waits for the whole block */
  kd_status wst = good ? kd_run_append(x->rs, rows, good * per) : KD_OK;
  for (size_t b = 0; wst == KD_OK && b < good; ++b) {
    const size_t i = s->sh.points[j0 + b];
    x->wall[j0 + b] = rows[b * per].wall_s;
    ++x->meta->points_done;
    kd_sweep_table_rows(x->table, x->pg, c, rows + b * per, per, &s->g.pt[i]);
    char label[128];
    kd_sweep_point_label(c, &s->g.pt[i], label, sizeof label);
    kd_progress_point(x->pg, label, x->wall[j0 + b], 1, 0, 0);
  }
  if (wst == KD_OK && good) wst = kd_run_meta_write(s->rs.meta_path, x->meta);
  kd_stop_unhold();
  free(rows);
  free(sts);
  free(why);
  return wst != KD_OK ? wst : st;
}

kd_status kd_sweep_walk_theory(kd_sweep *s, kd_sweep_ctx *x) {
  /* Each plan allocates and frees a few p-vectors; glibc's default trimming hands that
   * memory back to the kernel every time and faults it in again (a third of the CPU
   * time at p = 10^5): keep it. */
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  kd_status st = kd_run_meta_write(s->rs.meta_path, x->meta);
  for (size_t j = 0; j < s->sh.n_points && st == KD_OK;) {
    char key[17];
    size_t count = 0, b = 0;
    kd_point_key(s->id.hash, &s->g.pt[s->sh.points[j]], key);
    const kd_row *done = kd_run_find(&s->rs, key, &count);
    if (done) {
      kd_sweep_resume_point(x, s->sh.points[j], j, done, count);
      ++j;
      continue;
    }
    if (*kd_stop_flag()) return kd_fail(KD_ESTOP, "stopped");
    for (b = 1; b < THEORY_BLOCK && j + b < s->sh.n_points; ++b) {
      const kd_grid_point *next = &s->g.pt[s->sh.points[j + b]];
      kd_point_key(s->id.hash, next, key);
      if (!kd_sweep_same_problem(&s->g.pt[s->sh.points[j]], next) || kd_run_find(&s->rs, key, &count)) break;
    }
    st = theory_block(s, x, j, b);
    j += b;
  }
  return st;
}
