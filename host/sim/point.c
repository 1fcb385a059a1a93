/* The trial loop of one grid point, with the cache of weak teachers, and the team
 * that runs small trials side by side (pipeline.h). */
#include "kdbench/point.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/size_sat.h"

/* ---- the team ---------------------------------------------------------------------- */

/* Trials side by side, BLAS on one thread: small stages on the CPU backend only (a
 * device backend serialises on its device anyway). */
static int side_by_side(const kd_backend_type *type, size_t max_elems) {
  return type == &kd_backend_cpu && max_elems <= KD_TEAM_MAX_ELEMS;
}

int kd_trial_team_size(const kd_backend_type *type, size_t max_elems, uint32_t trials,
                       int max_workers) {
  if (!side_by_side(type, max_elems)) return 1;
  int workers = max_workers > 0 ? max_workers : omp_get_max_threads();
  if (trials > 0 && (uint32_t)workers > trials) workers = (int)trials;
  return workers > 1 ? workers : 1;
}

kd_status kd_trial_team_open(kd_trial_team *team, kd_backend *be, size_t max_elems,
                             uint32_t trials, int max_workers) {
  *team = (kd_trial_team){.workers = 1, .be = be};
  if (!be || !be->type) return kd_fail(KD_EINVAL, "trial team: no backend");
  if (!side_by_side(be->type, max_elems)) return KD_OK;
  team->single_blas = 1;
  int workers = kd_trial_team_size(be->type, max_elems, trials, max_workers);
  if (workers <= 1) return KD_OK;
  team->own = calloc((size_t)workers - 1, sizeof *team->own);
  if (!team->own)
    return kd_fail(KD_ENOMEM, "trial team: cannot allocate %d backend handles", workers - 1);
  for (int w = 1; w < workers; ++w) {
    const kd_backend_type *type = be->type;
    void *state = calloc(1, type->state_size ? type->state_size : 1);
    kd_status rc = state ? type->init(state)
                         : kd_fail(KD_ENOMEM, "trial team: cannot allocate %zu bytes of "
                                              "backend state", type->state_size);
    if (rc != KD_OK) {
      free(state);
      kd_trial_team_close(team);
      return rc;
    }
    team->own[w - 1] = (kd_backend){.type = type, .state = state};
    team->workers = w + 1;
  }
  return KD_OK;
}

void kd_trial_team_close(kd_trial_team *team) {
  if (!team) return;
  for (int w = 1; w < team->workers && team->own; ++w) {
    kd_backend *b = &team->own[w - 1];
    if (!b->type) continue;
    b->type->release(b->state);
    free(b->state);
  }
  free(team->own);
  *team = (kd_trial_team){0};
}

/* The lowest-numbered failure so far, shared by the workers. */
typedef struct {
  uint32_t trial; /* UINT32_MAX: none (trials are < KD_MAX_TRIALS) */
  kd_status status;
  char reason[512];
} first_failure;

static void record_failure(first_failure *f, uint32_t trial, kd_status status,
                           const char *reason) {
#pragma omp critical(kd_trial_team_failure)
  {
    if (trial < f->trial) {
#pragma omp atomic write
      f->trial = trial;
      f->status = status;
      snprintf(f->reason, sizeof f->reason, "%s", reason);
    }
  }
}

static uint32_t failed_before(first_failure *f) {
  uint32_t t;
#pragma omp atomic read
  t = f->trial;
  return t;
}

kd_status kd_trial_team_run(kd_trial_team *team, uint32_t first, uint32_t count,
                            kd_trial_fn fn, void *ctx, volatile sig_atomic_t *stop) {
  if (count == 0) return KD_OK;
  const int blas_before = openblas_get_num_threads();
  const int set_blas = team->single_blas && blas_before != 1;
  if (set_blas) openblas_set_num_threads(1);
  first_failure fail = {.trial = UINT32_MAX, .status = KD_OK};
  const int workers = team->workers > 1 ? team->workers : 1;
  const long last = (long)first + (long)count;
#pragma omp parallel num_threads(workers) if (workers > 1)
  {
    const int w = omp_get_thread_num();
    kd_backend *be = w == 0 ? team->be : &team->own[w - 1];
    /* Trials are handed out in order; a trial after a known failure is skipped, one
     * before it still runs, so that the lowest failing trial is always found. */
#pragma omp for schedule(dynamic, 1)
    for (long tt = first; tt < last; ++tt) {
      const uint32_t t = (uint32_t)tt;
      if (t > failed_before(&fail)) continue;
      if (stop && *stop) {
        record_failure(&fail, t, KD_ESTOP, "stopped by a signal");
        continue;
      }
      kd_status st = fn(ctx, be, w, t);
      if (st != KD_OK) record_failure(&fail, t, st, kd_last_error());
    }
  }
  if (set_blas) openblas_set_num_threads(blas_before);
  if (fail.status != KD_OK) return kd_fail(fail.status, "%s", fail.reason);
  return KD_OK;
}

/* ---- the teacher cache ------------------------------------------------------------- */

void kd_teacher_cache_free(kd_teacher_cache *c) {
  if (!c) return;
  free(c->hat);
  free(c->risk);
  free(c->fallback);
  *c = (kd_teacher_cache){0};
}

/* The fit the cache holds: the plan's cached fit (kd_program). */
static const kd_call *cached_call(const kd_plan *pl) {
  return &pl->prog.call[pl->prog.cached];
}

static int cache_hit(const kd_teacher_cache *c, const kd_plan *pl, uint64_t problem_id,
                     uint32_t trials) {
  const kd_call *t = cached_call(pl);
  return c->valid && c->m == t->n && c->k == t->p && c->nrhs == t->nrhs &&
         c->weak_ridge == t->ridge && c->problem_id == problem_id && c->trials >= trials;
}

static kd_status cache_reset(kd_teacher_cache *c, const kd_plan *pl, uint64_t problem_id,
                             uint32_t trials) {
  const kd_call *t = cached_call(pl);
  kd_teacher_cache_free(c);
  *c = (kd_teacher_cache){.m = t->n, .k = t->p, .nrhs = t->nrhs, .weak_ridge = t->ridge,
                          .problem_id = problem_id, .trials = trials};
  c->hat = malloc(sizeof(double) * trials * t->p * t->nrhs);
  c->risk = malloc(sizeof(double) * trials * t->nrhs);
  c->fallback = malloc(sizeof(int) * trials);
  if (!c->hat || !c->risk || !c->fallback)
    return kd_fail(KD_ENOMEM, "cannot cache %u weak teachers of %zu features", trials, t->p);
  return KD_OK;
}

/* ---- the point ------------------------------------------------------------------------ */

typedef struct {
  const kd_problem *pr;
  const kd_plan *pl;
  uint64_t seed;
  uint32_t first, trials; /* trials first .. trials-1 are run */
  kd_teacher_cache *cache;
  int use_cache, hit;
  kd_trial_ws *ws; /* one per worker */
  double *risks;   /* risks[r * trials + t], r a row of the plan */
  int *fallback;   /* fallback[r * trials + t] */
  double *r;       /* rows x ws[0].batch: one call's risks ... */
  int *fb;         /* ... and fallbacks (the batched loop's) */
} point_ctx;

/* Trials first .. first+count-1 on `be`, through worker `worker`'s buffers, into r and
 * fb (rows x count), then into the point's arrays and the teacher cache. */
static kd_status point_trials(point_ctx *c, kd_backend *be, int worker, uint32_t first,
                              uint32_t count, double *r, int *fb) {
  kd_trial_ws *ws = &c->ws[worker];
  const int t = c->pl->prog.cached;
  /* a trial's cached fit: its coefficients and its risks */
  const size_t hat = t >= 0 ? cached_call(c->pl)->p * cached_call(c->pl)->nrhs : 0,
               risks = t >= 0 ? cached_call(c->pl)->nrhs : 0;
  if (c->hit) {
    memcpy(ws->hat[t], c->cache->hat + first * hat, sizeof(double) * hat * count);
    memcpy(ws->risk[t], c->cache->risk + first * risks, sizeof(double) * risks * count);
    memcpy(ws->fallback[t], c->cache->fallback + first, sizeof(int) * count);
    ws->given = t;
  }
  kd_status st = kd_run_trials(be, c->pl, c->seed, first, count, ws, r, fb);
  if (st != KD_OK) return st;
  if (c->use_cache && !c->hit) { /* these trials' own slots: no other worker writes them */
    memcpy(c->cache->hat + first * hat, ws->hat[t], sizeof(double) * hat * count);
    memcpy(c->cache->risk + first * risks, ws->risk[t], sizeof(double) * risks * count);
    memcpy(c->cache->fallback + first, ws->fallback[t], sizeof(int) * count);
  }
  for (int q = 0; q < c->pl->nrows; ++q) {
    memcpy(c->risks + (size_t)q * c->trials + first, r + (size_t)q * count,
           sizeof(double) * count);
    memcpy(c->fallback + (size_t)q * c->trials + first, fb + (size_t)q * count,
           sizeof(int) * count);
  }
  return KD_OK;
}

static kd_status point_trial(void *vctx, kd_backend *be, int worker, uint32_t t) {
  double r[KD_PLAN_ROWS];
  int fb[KD_PLAN_ROWS];
  return point_trials(vctx, be, worker, t, 1, r, fb);
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* The trials a batch holds at most on the host: KD_BATCH_HOST_BYTES of trial buffers
 * (at least one trial). */
static size_t host_batch(const kd_plan *pl, uint32_t trials) {
  const size_t one = kd_trial_ws_bytes(&pl->prog, 1);
  const size_t per_trial = kd_trial_ws_bytes(&pl->prog, 2) - one;
  const size_t fit = KD_BATCH_HOST_BYTES > one ? 1 + (KD_BATCH_HOST_BYTES - one) / per_trial : 1;
  return min_sz(fit, trials ? trials : 1);
}

/* The trials of the point handed to the backend per kd_stage_run_batch call: what its
 * batch_size hook takes of every fit the trials run (the cached one aside, on a hit),
 * within host_batch; 1 for a backend without batches. */
static size_t trials_per_call(const kd_backend *be, const kd_plan *pl, uint32_t trials,
                              int teachers_cached) {
  const kd_backend_type *type = be->type;
  if (!type->run_batch || !type->batch_size || trials < 2) return 1;
  size_t b = host_batch(pl, trials);
  for (int i = 0; i < pl->prog.ncalls; ++i) {
    const kd_call *c = &pl->prog.call[i];
    if (!(teachers_cached && i == pl->prog.cached))
      b = min_sz(b, type->batch_size(be->state, c->n, c->p, c->nrhs, c->ridge, trials));
  }
  return b ? b : 1;
}

/* The point's trials in near-equal batches of at most `batch` trials, one
 * kd_run_trials call (one kd_stage_run_batch per stage) each; a stop is honoured
 * between batches. */
static kd_status run_batches(point_ctx *c, kd_backend *be, size_t batch,
                             volatile sig_atomic_t *stop) {
  const uint32_t todo = c->trials - c->first, batches = (uint32_t)((todo + batch - 1) / batch);
  for (uint32_t i = 0; i < batches; ++i) {
    uint32_t first, count;
    kd_batch_range(todo, batches, i, &first, &count);
    first += c->first;
    if (stop && *stop) return kd_fail(KD_ESTOP, "stopped by a signal");
    kd_status st = point_trials(c, be, 0, first, count, c->r, c->fb);
    if (st != KD_OK) return st;
  }
  return KD_OK;
}

/* Entries of the largest design a trial of the point draws. */
static size_t point_max_elems(const kd_plan *pl) {
  size_t most = 0;
  for (int i = 0; i < pl->prog.ncalls; ++i) {
    const kd_call *c = &pl->prog.call[i];
    if (c->n * c->p > most) most = c->n * c->p;
  }
  return most;
}

/* ---- the memory check's model of a point ---------------------------------------------- */


kd_memory kd_point_memory(const kd_backend_type *type, kd_workspace *caller,
                          const kd_problem *pr, const kd_plan *pl, uint32_t trials) {
  kd_workspace one = {0}; /* a state that has run this point's fits */
  for (int i = 0; i < pl->prog.ncalls && type->workspace; ++i) {
    const kd_call *c = &pl->prog.call[i];
    const size_t k = c->mixed ? (c->ncols > c->nrhs ? c->ncols : c->nrhs) + 1 : c->nrhs;
    type->workspace(&one, c->n, c->p, k, c->ridge); /* a mixed fit's bound (backend.h) */
  }
  kd_workspace_grow(caller->host, one.host, KD_WORKSPACE_SLOTS);
  kd_workspace_grow(caller->device, one.device, KD_WORKSPACE_SLOTS);
  const size_t workers = (size_t)kd_trial_team_size(type, point_max_elems(pl), trials, 0);
  kd_memory m = {.host = kd_workspace_total(caller->host),
                 .device = kd_workspace_total(caller->device)};
  /* workers 1 .. workers-1 open their own states for this point alone */
  m.host = kd_add_sat(m.host, kd_mul_sat(workers - 1, kd_workspace_total(one.host)));
  m.device = kd_add_sat(m.device, kd_mul_sat(workers - 1, kd_workspace_total(one.device)));
  /* a backend with batches: at most host_batch trials per call, and their results */
  const size_t batch = type->run_batch && type->batch_size ? host_batch(pl, trials) : 1;
  m.host = kd_add_sat(m.host, kd_mul_sat(workers, kd_trial_ws_bytes(&pl->prog, batch)));
  const size_t rows = (size_t)pl->nrows;
  if (batch > 1) m.host = kd_add_sat(m.host, kd_mul_sat(batch, rows * (sizeof(double) + sizeof(int))));
  m.host = kd_add_sat(m.host, kd_plan_bytes(pr, pl));
  m.host = kd_add_sat(m.host, kd_mul_sat(trials, rows * sizeof(int))); /* c.fallback */
  if (pl->prog.cached >= 0) { /* the teacher cache: per trial, the fit, its risks, its flag */
    const kd_call *t = cached_call(pl);
    m.host = kd_add_sat(m.host, kd_mul_sat(trials, sizeof(double) * (t->p + 1) * t->nrhs + sizeof(int)));
  }
  return m;
}

kd_status kd_run_point_from(kd_backend *be, const kd_problem *pr, uint64_t problem_id,
                            const kd_plan *pl, uint64_t seed, uint32_t first, uint32_t trials,
                            kd_teacher_cache *cache, volatile sig_atomic_t *stop,
                            double *risks, long *fallbacks) {
  if (first > trials) return kd_fail(KD_EINVAL, "trials %u .. %u: none", first, trials);
  point_ctx c = {.pr = pr, .pl = pl, .seed = seed, .first = first, .trials = trials,
                 .cache = cache, .use_cache = pl->prog.cached >= 0 && cache && first == 0,
                 .risks = risks};
  c.hit = c.use_cache && cache_hit(cache, pl, problem_id, trials);
  /* a backend with batches takes many trials per call, one after the other; the CPU
   * backend runs them one per worker of the team */
  const size_t batch = trials_per_call(be, pl, trials - first, c.hit);
  const size_t rows = (size_t)pl->nrows;
  for (size_t q = 0; q < rows; ++q) fallbacks[q] = 0;
  kd_trial_team team;
  kd_status st = kd_trial_team_open(&team, be, point_max_elems(pl), trials - first, 0);
  if (st != KD_OK) return st;
  c.ws = calloc((size_t)team.workers, sizeof *c.ws);
  c.fallback = calloc((rows ? rows : 1) * (trials ? trials : 1), sizeof *c.fallback);
  if (batch > 1) {
    c.r = malloc(sizeof(double) * (rows ? rows : 1) * batch);
    c.fb = malloc(sizeof(int) * (rows ? rows : 1) * batch);
  }
  if (!c.ws || !c.fallback || (batch > 1 && (!c.r || !c.fb)))
    st = kd_fail(KD_ENOMEM, "cannot allocate the trial buffers of %u trials", trials);
  int ws_ready = 0;
  for (; st == KD_OK && ws_ready < team.workers; ++ws_ready)
    st = kd_trial_ws_init(&c.ws[ws_ready], &pl->prog, batch);
  if (st == KD_OK && c.use_cache && !c.hit) st = cache_reset(cache, pl, problem_id, trials);
  if (st == KD_OK && batch > 1) st = run_batches(&c, be, batch, stop);
  else if (st == KD_OK)
    st = kd_trial_team_run(&team, first, trials - first, point_trial, &c, stop);
  if (st == KD_OK)
    for (size_t q = 0; q < rows; ++q)
      for (uint32_t t = first; t < trials; ++t) fallbacks[q] += c.fallback[q * trials + t];
  if (c.use_cache && !c.hit) cache->valid = st == KD_OK;
  for (int w = 0; w < ws_ready; ++w) kd_trial_ws_free(&c.ws[w]);
  free(c.ws);
  free(c.fallback);
  free(c.r);
  free(c.fb);
  kd_trial_team_close(&team);
  return st;
}

kd_status kd_run_point(kd_backend *be, const kd_problem *pr, uint64_t problem_id,
                       const kd_plan *pl, uint64_t seed, uint32_t trials,
                       kd_teacher_cache *cache, volatile sig_atomic_t *stop, double *risks,
                       long *fallbacks) {
  return kd_run_point_from(be, pr, problem_id, pl, seed, 0, trials, cache, stop, risks,
                           fallbacks);
}
