/* The trial loop of one grid point, with the cache of weak teachers. */
#include "kdbench/point.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kd_teacher_cache_free(kd_teacher_cache *c) {
  if (!c) return;
  free(c->hat);
  free(c->risk);
  free(c->fallback);
  *c = (kd_teacher_cache){0};
}

static int cache_hit(const kd_teacher_cache *c, const kd_plan *pl, uint64_t problem_id,
                     uint32_t trials) {
  return c->valid && c->m == pl->pt.m && c->k == pl->pt.k &&
         c->weak_ridge == pl->pt.weak_ridge && c->problem_id == problem_id &&
         c->trials >= trials;
}

static kd_status cache_reset(kd_teacher_cache *c, const kd_plan *pl, uint64_t problem_id,
                             uint32_t trials) {
  kd_teacher_cache_free(c);
  *c = (kd_teacher_cache){.m = pl->pt.m, .k = pl->pt.k, .weak_ridge = pl->pt.weak_ridge,
                          .problem_id = problem_id, .trials = trials};
  c->hat = malloc(sizeof(double) * trials * pl->pt.k);
  c->risk = malloc(sizeof(double) * trials);
  c->fallback = malloc(sizeof(int) * trials);
  if (!c->hat || !c->risk || !c->fallback)
    return kd_fail(KD_ENOMEM, "cannot cache %u weak teachers of %zu features", trials, pl->pt.k);
  return KD_OK;
}

kd_status kd_run_point(kd_backend *be, const kd_problem *pr, uint64_t problem_id,
                       const kd_plan *pl, uint64_t seed, uint32_t trials,
                       kd_teacher_cache *cache, volatile sig_atomic_t *stop, double *risks,
                       long fallbacks[KD_NPIPES]) {
  int weak = (pl->pipes >> KD_PIPE_W2S & 1u) || (pl->pipes >> KD_PIPE_WEAK & 1u);
  int use_cache = weak && cache;
  int hit = use_cache && cache_hit(cache, pl, problem_id, trials);
  kd_trial_ws ws;
  kd_status st = kd_trial_ws_init(&ws, pr, pl);
  if (st == KD_OK && use_cache && !hit) st = cache_reset(cache, pl, problem_id, trials);
  for (int q = 0; q < KD_NPIPES; ++q) fallbacks[q] = 0;
  size_t k = pl->pt.k;
  for (uint32_t t = 0; t < trials && st == KD_OK; ++t) {
    if (stop && *stop) {
      st = kd_fail(KD_ESTOP, "stopped by a signal");
      break;
    }
    double r[KD_NPIPES];
    int fb[KD_NPIPES];
    if (hit) {
      memcpy(ws.weak_hat, cache->hat + (size_t)t * k, sizeof(double) * k);
      ws.weak_risk = cache->risk[t];
      ws.weak_fallback = cache->fallback[t];
      ws.weak_ready = 1;
    }
    st = kd_run_trial(be, pr, pl, seed, t, &ws, r, fb);
    if (st == KD_OK && use_cache && !hit) {
      memcpy(cache->hat + (size_t)t * k, ws.weak_hat, sizeof(double) * k);
      cache->risk[t] = ws.weak_risk;
      cache->fallback[t] = ws.weak_fallback;
    }
    for (int q = 0; q < KD_NPIPES; ++q) {
      risks[(size_t)q * trials + t] = r[q];
      fallbacks[q] += fb[q];
    }
  }
  if (use_cache && !hit) cache->valid = st == KD_OK;
  kd_trial_ws_free(&ws);
  return st;
}
