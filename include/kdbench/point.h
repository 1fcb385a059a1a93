/* One grid point's trials: the loop over trials, the weak teachers shared across
 * points, and the stop flag that signals set. */
#ifndef KDBENCH_POINT_H
#define KDBENCH_POINT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "kdbench/pipeline.h"

/* The weak teachers of the last point, one per trial: a point with the same
 * (m, k, weak ridge) reuses them instead of refitting (the weak stage's random
 * numbers do not depend on n, so the result is identical, only cheaper). The
 * cache is also keyed by the problem it was fitted on (`problem_id`). */
typedef struct {
  size_t m, k, nrhs; /* the cached fit's samples, features, right-hand sides ... */
  double weak_ridge; /* ... and ridge */
  uint64_t problem_id;
  uint32_t trials;
  int valid;
  double *hat, *risk;
  int *fallback;
} kd_teacher_cache;

void kd_teacher_cache_free(kd_teacher_cache *c);

/* The trial buffers of one batch on the host at most, in bytes (a backend with
 * batches, host/sim/point.c): a point of more trials takes several calls. */
#define KD_BATCH_HOST_BYTES ((size_t)256 << 20)

/* Runs trials 0 .. trials-1 of the planned point. risks[r * trials + t] is the
 * excess risk of the plan's row r in trial t (pl->nrows rows); fallbacks[r] counts
 * the trials where a fit row r depends on took the fallback.
 * `cache` may be NULL. `problem_id` identifies the problem (spectrum, beta*, noise)
 * for the cache. On the CPU backend the trials run side by side (kd_trial_team); a
 * backend with batches (run_batch and batch_size) gets them in near-equal batches,
 * each stage of a batch's trials in one kd_stage_run_batch call, the weak teachers'
 * before the students'. When *stop becomes non-zero (a signal), the point is abandoned
 * between trials (between batches) and KD_ESTOP is returned. `stop` may be NULL. */
kd_status kd_run_point(kd_backend *be, const kd_problem *pr, uint64_t problem_id,
                       const kd_plan *pl, uint64_t seed, uint32_t trials,
                       kd_teacher_cache *cache, volatile sig_atomic_t *stop, double *risks,
                       long *fallbacks);
/* The same for trials first .. trials-1 only (a run extended with more trials): risks
 * still has `trials` per row, the first `first` left as they are; fallbacks counts
 * the trials run. The teacher cache is not used (it holds whole points). */
kd_status kd_run_point_from(kd_backend *be, const kd_problem *pr, uint64_t problem_id,
                            const kd_plan *pl, uint64_t seed, uint32_t first, uint32_t trials,
                            kd_teacher_cache *cache, volatile sig_atomic_t *stop,
                            double *risks, long *fallbacks);

/* Bytes on the host and on the device. */
typedef struct {
  size_t host, device;
} kd_memory;

/* The memory check's model of kd_run_point on a backend of this type: what the
 * process holds while the planned point runs, its plan included, beyond the problem
 * and the caller's own arrays. `caller` is the model of the caller's backend state
 * (grow-only, kept across points): it grows here by this point's stages, and is
 * counted whole. */
kd_memory kd_point_memory(const kd_backend_type *type, kd_workspace *caller,
                          const kd_problem *pr, const kd_plan *pl, uint32_t trials);

#endif
