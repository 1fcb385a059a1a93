/* Pipelines: chains of stages with their theory twins.
 *   strong   beta*                     -> student(n)
 *   optimal  optimal surrogate g.*beta* -> student(n)
 *   mask     optimal 0-1 mask of beta*  -> student(n)
 *   w2s      beta* -> weak(m samples, top-k features) -> student(n)
 *   weak     the weak model of w2s itself (its own risk)
 * All student fits of one trial share one design X and one factorisation. */
#ifndef KDBENCH_PIPELINE_H
#define KDBENCH_PIPELINE_H

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
  uint32_t id;       /* the point's RNG id (student stage) */
  uint32_t weak_id;  /* the weak teacher's RNG id: a hash of (m, k, weak ridge) only, so
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

/* Work buffers of a trial, reused across trials. When weak_ready is set, the
 * trial takes the weak teacher from weak_hat / weak_risk / weak_fallback instead of
 * fitting it (a sweep's cache of teachers shared across student sizes). */
typedef struct {
  double *sources, *sigma, *risk, *weak_hat;
  int weak_ready;
  double weak_risk;
  int weak_fallback;
} kd_trial_ws;
kd_status kd_trial_ws_init(kd_trial_ws *ws, const kd_problem *pr, const kd_plan *pl);
void kd_trial_ws_free(kd_trial_ws *ws);

/* One trial of every selected pipeline: risk[pipeline] (excess risk), and
 * fallback[pipeline] = 1 when a stage of that pipeline took the
 * orthogonal-factorisation fallback. */
kd_status kd_run_trial(kd_backend *be, const kd_problem *pr, const kd_plan *pl,
                       uint64_t seed, uint32_t trial, kd_trial_ws *ws,
                       double risk[KD_NPIPES], int fallback[KD_NPIPES]);

/* Bytes of backend workspace the point's stages need (the memory check). */
size_t kd_plan_bytes(const kd_problem *pr, const kd_plan *pl);

#endif
