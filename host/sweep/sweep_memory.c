/* The memory check: what each point of the grid needs beside what is available or free
 * on the device (a point that does not fit refused before any output exists), and the
 * progress line's cost of each point, from one plan of each. */
#include "kdbench/sweep.h"

#include <stdint.h>

#include "kdbench/memory_limit.h"
#include "kdbench/size_sat.h"
#include "internal.h"

/* Whether a selected pipeline has a stage of the point's m samples (a weak teacher's):
 * then m and k are part of what names the point. */
static int fits_m(unsigned pipes) {
  for (int q = 0; q < KD_NPIPES; ++q)
    for (int s = 0; (pipes >> q & 1u) && s < kd_pipelines[q]->chain.length; ++s)
      if (kd_pipelines[q]->chain.stage[s].samples.kind == KD_SAMPLES_M) return 1;
  return 0;
}

static kd_status refuse(const kd_config *c, const kd_grid_point *gp, size_t k, size_t need,
                        size_t have, int device, int at_least) {
  char weak[64] = "";
  if (fits_m(c->pipelines) && !at_least) /* a bound before k is resolved: n and p's */
    snprintf(weak, sizeof weak, ", m = %zu, k = %zu", gp->m, k);
  const char *why = ""; /* the limit that binds (ulimit -v, the cgroup's) */
  if (!device) kd_available_memory_why(&why);
  return kd_fail(KD_ENOMEM, "point n = %zu, p = %zu%s needs %s%.2f GiB of %smemory but only "
                 "%.2f GiB is %s%s%s", gp->n, gp->p, weak, at_least ? "at least " : "",
                 need / 1073741824.0,
                 device ? "device " : "", have / 1073741824.0,
                 device ? "free on the device" : "available", *why ? " " : "", why);
}

/* A lower bound of a point's need known before its problem is built: the backend's
 * workspace for the student's stage (n samples, all p features, one right-hand side),
 * which the point fits when a selected pipeline does (kd_pipeline_fits_student); 0
 * when none does. Building an absurd p's problem and plan would take minutes and
 * gigabytes before the plan's own model refused it. */
static int student_bound(const kd_config *c, const kd_backend *be, const kd_grid_point *gp,
                         kd_memory *least) {
  int fits = 0;
  for (int q = 0; q < KD_NPIPES; ++q)
    fits |= (c->pipelines >> q & 1u) && kd_pipeline_fits_student(kd_pipelines[q]);
  if (!fits || !be->type->workspace) return 0;
  kd_workspace w = {0};
  be->type->workspace(&w, gp->n, gp->p, 1, gp->ridge);
  *least = (kd_memory){.host = kd_workspace_total(w.host), .device = kd_workspace_total(w.device)};
  return 1;
}

kd_status kd_sweep_bound_memory(const kd_config *c, const kd_grid *g, const kd_backend *be) {
  const size_t avail = kd_available_memory();
  const size_t dev_free = be->type->device_free ? be->type->device_free(be->state) : 0;
  for (size_t i = 0; i < g->count; ++i) {
    const kd_grid_point *gp = &g->pt[i];
    kd_memory least;
    if (!student_bound(c, be, gp, &least)) return KD_OK; /* the same pipelines everywhere */
    /* the problem's lambda and beta* beside the design */
    const size_t host = kd_add_sat(least.host, sizeof(double) * 2 * gp->p);
    if (avail && host > avail) return refuse(c, gp, gp->k, host, avail, 0, 1);
    if (dev_free && least.device > dev_free)
      return refuse(c, gp, gp->k, least.device, dev_free, 1, 1);
  }
  return KD_OK;
}

/* Plans every point once, in the order they run, for two models of the run.
 * Memory (kd_point_memory, host/sim/point.c), plus what the sweep holds beside a point:
 * the problem's lambda and beta*, the risks of its trials, the wall times; the largest
 * need goes into *peak. With `check`, the first point whose need exceeds what is
 * available (host) or free (the device) is refused in one line naming it, the need and
 * what is free; a point's p-vectors are checked before it is planned, so that an absurd
 * p is refused rather than allocated.
 * Cost (the progress line's, when `cost` is not NULL): cost[i] is point i's
 * kd_point_cost, plus its weak teachers' stages where the teacher cache (host/sim/point.c)
 * cannot serve them from the point before. */
kd_status kd_sweep_model_memory(const kd_config *c, const kd_grid *g, const kd_backend *be,
                                int check, kd_memory *peak, double *cost, size_t *rows) {
  const size_t avail = check ? kd_available_memory() : 0;
  const size_t dev_free = check && be->type->device_free ? be->type->device_free(be->state) : 0;
  kd_sweep_problem ps = {0};
  kd_workspace grown = {0};
  kd_status st = KD_OK;
  *peak = (kd_memory){0};
  kd_point teacher = {0}; /* the cached teachers' (m, k, weak ridge) */
  uint64_t teacher_problem = 0;
  for (size_t i = 0; i < g->count && st == KD_OK; ++i) {
    const kd_grid_point *gp = &g->pt[i];
    size_t beside = sizeof(double) * (2 * gp->p + g->count);
    /* the problem, the plan's and one worker's p-vectors (kd_plan_bytes, kd_trial_ws_bytes) */
    const size_t vectors = kd_add_sat(beside, sizeof(double) * 8 * gp->p);
    if (avail && vectors > avail) {
      st = refuse(c, gp, gp->k, vectors, avail, 0, 1);
      break; /* and free the problem the points before held */
    }
    kd_point pt = kd_sweep_point_of(c, gp);
    kd_plan pl;
    st = kd_sweep_problem_for(c, gp, &ps);
    if (st == KD_OK) st = kd_plan_point(&ps.pr, &pt, c->pipelines, &pl);
    if (st != KD_OK) break;
    if (i == 0) *rows = (size_t)pl.nrows;
    beside = kd_add_sat(beside, sizeof(double) * (size_t)pl.nrows * c->trials); /* its risks */
    kd_memory m = kd_point_memory(be->type, &grown, &ps.pr, &pl, c->trials);
    if (cost) {
      cost[i] = kd_point_cost(gp->n, gp->p, c->trials);
      int fitted = teacher_problem != ps.id || teacher.m != pl.pt.m || teacher.k != pl.pt.k ||
                   teacher.weak_ridge != pl.pt.weak_ridge;
      if (pl.prog.cached >= 0 && fitted) { /* the program's teacher, the fit the cache holds */
        const kd_call *t = &pl.prog.call[pl.prog.cached];
        cost[i] += c->trials * kd_stage_cost(t->n, t->p);
        teacher = pl.pt;
        teacher_problem = ps.id;
      }
    }
    m.host = kd_add_sat(m.host, beside);
    if (avail && m.host > avail) st = refuse(c, gp, pl.pt.k, m.host, avail, 0, 0);
    else if (dev_free && m.device > dev_free) st = refuse(c, gp, pl.pt.k, m.device, dev_free, 1, 0);
    kd_plan_free(&pl);
    if (m.host > peak->host) peak->host = m.host;
    if (m.device > peak->device) peak->device = m.device;
  }
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

kd_status kd_sweep_memory(const kd_config *cfg, kd_memory *peak) {
  kd_config c = *cfg;
  kd_grid g = {0};
  kd_backend be = {0};
  kd_status st = kd_config_check(&c);
  if (st == KD_OK) st = kd_config_resolve_p(&c);
  if (st == KD_OK) st = kd_grid_build(&c, &g);
  if (st == KD_OK) st = kd_backend_open(c.run.backend, &be);
  size_t rows = 0;
  if (st == KD_OK) st = kd_sweep_model_memory(&c, &g, &be, 0, peak, NULL, &rows);
  kd_backend_close(&be);
  kd_grid_free(&g);
  return st;
}
