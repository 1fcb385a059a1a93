/* Pipelines: chains of stages with their theory twins.
 *   strong   beta*                     -> student(n)
 *   optimal  optimal surrogate g.*beta* -> student(n)
 *   mask     optimal 0-1 mask of beta*  -> student(n)
 *   w2s      beta* -> weak(m samples, top-k features) -> student(n)
 *   weak     the weak model of w2s itself (its own risk)
 * All student fits of one trial share one design X and one factorisation. */
#ifndef KDBENCH_PIPELINE_H
#define KDBENCH_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "kdbench/backend.h"
#include "kdbench/problem.h"
#include "kdbench/theory.h"

typedef enum {
  KD_PIPE_STRONG,
  KD_PIPE_OPTIMAL,
  KD_PIPE_MASK,
  KD_PIPE_W2S,
  KD_PIPE_WEAK,
  KD_NPIPES
} kd_pipeline;

#define KD_PIPES_DEFAULT \
  ((1u << KD_PIPE_STRONG) | (1u << KD_PIPE_OPTIMAL) | (1u << KD_PIPE_MASK) | (1u << KD_PIPE_W2S))

const char *kd_pipeline_name(kd_pipeline p);
/* "strong,w2s" -> bit mask; unknown names -> KD_EINVAL naming the word. */
kd_status kd_pipelines_parse(const char *list, unsigned *mask);

typedef struct {
  size_t n;          /* student samples */
  double ridge;      /* student ridge (0 = ridgeless) */
  size_t m;          /* weak model's samples */
  size_t k;          /* weak model's features; 0 = the theory-optimal k */
  double weak_ridge; /* weak model's ridge */
} kd_point;

typedef enum { KD_THEORY_DE, KD_THEORY_EXACT } kd_theory_kind;

/* Everything a grid point needs before its trials: theory and the surrogates. */
typedef struct {
  kd_point pt;       /* with k resolved */
  unsigned pipes;
  uint32_t id;       /* the student stage's RNG id: a hash of (n, p) only */
  uint32_t weak_id;  /* the weak teacher's RNG id: a hash of (m, k, p, weak ridge) only, so
                        every student size n sees the same teacher in trial t */
  kd_de de;          /* the student's DE */
  double *beta_opt;  /* optimal surrogate */
  double *beta_mask; /* optimal 0-1 mask of beta* */
  size_t k_mask;
  double *mu, *v;    /* weak model's coordinate moments */
  kd_weak_info weak;
  double dropped;    /* signal outside the weak model's top k: sum_{i>=k} lambda_i beta_i^2 */
  double theory[KD_NPIPES];
  kd_theory_kind kind[KD_NPIPES];
  int peak[KD_NPIPES]; /* ridgeless at the interpolation peak: expected risk infinite */
} kd_plan;

kd_status kd_plan_point(const kd_problem *pr, const kd_point *pt, unsigned pipes, kd_plan *pl);
void kd_plan_free(kd_plan *pl);

/* Work buffers of `batch` trials, reused across trials. When weak_ready is set, the
 * trials take their weak teachers from weak_hat / weak_risk / weak_fallback (trial
 * first + i at i) instead of fitting them (a sweep's cache of teachers shared across
 * student sizes). */
typedef struct {
  size_t batch;        /* trials the buffers hold */
  kd_stage *stages;    /* batch: one stage of every trial */
  double *sources;     /* batch x p x 4: the student's right-hand sides, trial by trial */
  double *sigma;       /* 4: their noise levels, the same for every trial */
  double *risk;        /* batch x 4 */
  double weak_sigma;
  double *weak_hat;    /* batch x k */
  double *weak_risk;   /* batch */
  int *weak_fallback;  /* batch */
  int weak_ready;
} kd_trial_ws;
kd_status kd_trial_ws_init(kd_trial_ws *ws, const kd_problem *pr, const kd_plan *pl,
                           size_t batch);
void kd_trial_ws_free(kd_trial_ws *ws);

/* One trial of every selected pipeline: risk[pipeline] (excess risk), and
 * fallback[pipeline] = 1 when a stage of that pipeline took the
 * orthogonal-factorisation fallback. */
kd_status kd_run_trial(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                       uint64_t seed, uint32_t trial, kd_trial_ws *ws,
                       double risk[KD_NPIPES], int fallback[KD_NPIPES]);
/* Trials first .. first+count-1 (count <= ws->batch) of every selected pipeline, stage
 * by stage: each stage of the chain handed to the backend for all `count` trials in one
 * kd_stage_run_batch call (the weak teachers before the students that learn from them;
 * count = 1: kd_stage_run). risk[q * count + i] and fallback[q * count + i] are trial
 * first + i's, as kd_run_trial gives them. */
kd_status kd_run_trials(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                        uint64_t seed, uint32_t first, uint32_t count, kd_trial_ws *ws,
                        double *risk, int *fallback);

/* Host bytes of the plan's own arrays and of one worker's trial buffers (the memory
 * check, host/point.c's kd_point_memory). */
size_t kd_plan_bytes(const kd_problem *pr, const kd_plan *pl);
size_t kd_trial_ws_bytes(const kd_problem *pr, const kd_plan *pl, size_t batch);

/* ---- trials side by side (host/point.c) ------------------------------------------ */

/* How the trials of a point share the cores, decided by the shape alone:
 *   small stages (every design of the point has at most KD_TEAM_MAX_ELEMS entries) on
 *     the CPU backend: one trial per thread, side by side (OpenMP, as many threads as
 *     omp_get_max_threads()), each with its own backend workspace, and BLAS on ONE
 *     thread inside every trial, whatever the team's size. A trial's numbers are then
 *     bit-identical for any number of threads, and no BLAS thread pool competes with
 *     the team for the cores.
 *   large stages, or another backend: one trial at a time, BLAS on every core (a
 *     backend with batches gets the trials in batches instead: kd_run_point, point.h).
 * Either way trial t draws from its own streams, so the results do not depend on
 * which thread ran it. */
#define KD_TEAM_MAX_ELEMS ((size_t)1 << 22) /* 4 Mi entries: a 32 MiB design */

typedef struct {
  int workers;     /* trials side by side (1: one at a time) */
  int single_blas; /* BLAS on one thread inside every trial */
  kd_backend *be;  /* worker 0's backend: the caller's */
  kd_backend *own; /* workers 1 .. workers-1: instances of the same backend type */
} kd_trial_team;

/* The size of the team below: the number of trials that run side by side. */
int kd_trial_team_size(const kd_backend_type *type, size_t max_elems, uint32_t trials,
                       int max_workers);

/* A team for trials whose largest design has `max_elems` entries; at most `trials`
 * workers (0 = no limit) and at most `max_workers` (0 = omp_get_max_threads()). */
kd_status kd_trial_team_open(kd_trial_team *team, kd_backend *be, size_t max_elems,
                             uint32_t trials, int max_workers);
void kd_trial_team_close(kd_trial_team *team);

/* One trial on worker `worker`'s backend `be`. */
typedef kd_status (*kd_trial_fn)(void *ctx, kd_backend *be, int worker, uint32_t trial);

/* Runs fn for trials first .. first+count-1 on the team (worker 0 is the calling
 * thread). A non-zero *stop (`stop` may be NULL) is honoured between trials with
 * KD_ESTOP. After a failure no later trial starts; every earlier one still runs, and
 * the status of the lowest-numbered failed trial is returned with its reason in the
 * calling thread's kd_last_error(): the same error a one-at-a-time loop would stop at.
 * The BLAS thread count is restored on return. */
kd_status kd_trial_team_run(kd_trial_team *team, uint32_t first, uint32_t count,
                            kd_trial_fn fn, void *ctx, volatile sig_atomic_t *stop);

#endif
