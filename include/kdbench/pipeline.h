/* Pipelines: chains of stages (include/kdbench/chain.h) with their theory twins, one
 * descriptor per file (host/sim/pipeline_NAME.c), registered in one list
 * (include/kdbench/pipeline_list.h), whose order is the order of the rows:
 *   strong   beta*                      -> student(n)
 *   optimal  optimal surrogate g.*beta* -> student(n)
 *   mask     optimal 0-1 mask of beta*  -> student(n)
 *   w2s      beta* -> weak(m samples, top-k features) -> student(n)
 *   weak     the weak model of w2s itself (its own risk)
 *   mix      beta* -> weak(m, k) -> student(n) on a fraction f of ground-truth rows and
 *            1 - f of the weak model's
 *   features beta*                      -> student(n) on s of the features (an order's
 *                                          first), plus q pure-noise features
 * All student fits of one trial share one design X and one factorisation.
 *
 * Adding a pipeline: a file host/sim/pipeline_NAME.c defining `const kd_pipeline_type
 * kd_pipeline_NAME` (its chain, its theory, its columns) and one line in
 * pipeline_list.h. */
#ifndef KDBENCH_PIPELINE_H
#define KDBENCH_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "kdbench/backend.h"
#include "kdbench/chain.h"
#include "kdbench/problem.h"
#include "kdbench/recursive.h"
#include "kdbench/theory.h"

typedef enum {
#define KD_PIPELINE(ID, name) KD_PIPE_##ID,
#include "kdbench/pipeline_list.h"
#undef KD_PIPELINE
  KD_NPIPES
} kd_pipeline;

#define KD_PIPES_DEFAULT \
  ((1u << KD_PIPE_STRONG) | (1u << KD_PIPE_OPTIMAL) | (1u << KD_PIPE_MASK) | (1u << KD_PIPE_W2S))

const char *kd_pipeline_name(kd_pipeline p);
/* The name's first len characters -> *q; not a pipeline's name -> KD_EINVAL naming it
 * and the registry's names. */
kd_status kd_pipeline_parse(const char *name, size_t len, kd_pipeline *q);
/* "strong,w2s" -> bit mask; unknown names -> KD_EINVAL naming the word. */
kd_status kd_pipelines_parse(const char *list, unsigned *mask);

typedef enum { KD_THEORY_DE, KD_THEORY_EXACT } kd_theory_kind;

/* The options of the pipelines that have any, set by the scenario (scenario/config.c)
 * and read by their descriptors through kd_point.opts. */
typedef struct kd_pipe_opts {
  kd_recursive_opts recursive;
  /* curriculum (include/kdbench/curriculum_settings.h): its SGD student's settings (n:
   * the point's; budget 0: all of it; sigma: the problem's) and its orders, the groups;
   * orders 0: the defaults of pipeline_curriculum.c */
  kd_curriculum curriculum;
  int orders;
  kd_order order[KD_NORDERS];
} kd_pipe_opts;

/* One row of a point: which pipeline, which of its groups and steps, the fit whose
 * risk it reports and the theory beside it. A pipeline of one row has group "" and
 * step 0; a pipeline with several rows (docs/architecture.md) labels each by a group
 * (a schedule, an order) and a step in it (a generation, a checkpoint), 1, 2, ... */
#define KD_GROUP_LEN 24
#define KD_PLAN_ROWS 2048 /* rows of one point, all pipelines together */
typedef struct {
  kd_pipeline pipe;
  char group[KD_GROUP_LEN];
  int step;
  int chain, stage;    /* the program's chain and the stage of it whose risk the row is */
  int checkpoint;      /* an SGD stage's (kd_solver.sgd): which of its checkpoints */
  double sigma;        /* the noise level of the labels that stage learns from */
  double theory;
  kd_theory_kind kind;
  int peak;            /* ridgeless at the interpolation peak: expected risk infinite */
} kd_plan_row;

/* Everything a grid point needs before its trials: theory, the surrogates and the
 * program of fits its trials run. */
typedef struct kd_plan {
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
  const double *weak_lambda; /* the weak model's design spectrum: the problem's lambda_w
                                (covariance shift), NULL: its lambda */
  kd_weak_info weak;
  double dropped;    /* signal outside the weak model's top k: sum_{i>=k} lambda_i beta_i^2 */
  int nrows;         /* the point's rows, pipeline by pipeline in the registry's order */
  kd_plan_row row[KD_PLAN_ROWS];
  int first_row[KD_NPIPES]; /* pipeline q's first row, -1 when not selected */
  int rows_of[KD_NPIPES];   /* and how many */
  size_t *order;       /* the student's feature order (kd_feature_order_build), p entries,
                          when a selected chain has a KD_FEATURES_STUDENT stage; else NULL */
  kd_program prog;     /* the selected pipelines' chains, as fits */
  int chain_of[KD_NPIPES]; /* pipeline q's first chain in prog, -1 when not selected */
} kd_plan;

/* A group of rows of a pipeline with several rows at a point: its name (the group
 * column), its chain, and its rows: row i is stage stage[i] of the chain, step step[i]. */
typedef struct {
  char name[KD_GROUP_LEN];
  kd_chain chain;
  int rows;
  int stage[KD_CHAIN_MAX], step[KD_CHAIN_MAX];
  int checkpoint[KD_CHAIN_MAX]; /* row i of an SGD stage: its checkpoint (else 0) */
  kd_labels_mix mix[KD_MIX_BLOCKS]; /* what the chain's mixed stages point to (stage s:
                                      mix[s]; a mix has at most KD_MIX_BLOCKS parts, so
                                      its stage is among the first KD_MIX_BLOCKS) */
} kd_pipe_group;

/* A pipeline: its name (the rows' `pipeline`), its chain, its theory and the columns
 * its rows fill beside the risk. */
typedef struct {
  const char *name;
  kd_chain chain;
  /* The expected risk of the point's pipeline: an exact finite-sample value where one
   * exists (*kind = KD_THEORY_EXACT), else the deterministic equivalent. Called after
   * the plan's surrogates, weak moments and resolved k are in. */
  void (*theory)(const kd_problem *pr, const kd_plan *pl, double *value, kd_theory_kind *kind);
  /* The rows' k column (NULL: empty) and whether their m column holds the point's m. */
  size_t (*k_column)(const kd_plan *pl);
  int m_column;
  /* A pipeline with several rows at a point (NULL: one row, `chain` and `theory`):
   * `groups` writes its groups at the point (at most `max`) and their count, or fails
   * naming the setting; `group_theory` gives the theory of group g's rows, in order
   * (value[i], kind[i]). Its rows fill the columns named here with their step and
   * group (run_rows.c). */
  kd_status (*groups)(const kd_problem *pr, const kd_plan *pl, kd_pipe_group *group, int max,
                      int *count);
  void (*group_theory)(const kd_problem *pr, const kd_plan *pl, const kd_pipe_group *g,
                       double *value, kd_theory_kind *kind);
  const char *step_column, *group_column;
  int features_column; /* its rows' student_features column holds the features it sees */
  int student_groups;  /* a pipeline with groups each of which starts with the student's
                          stage (n samples, all p features): kd_pipeline_fits_student */
} kd_pipeline_type;

#define KD_PIPELINE(ID, name) extern const kd_pipeline_type kd_pipeline_##name;
#include "kdbench/pipeline_list.h"
#undef KD_PIPELINE
/* The registry: kd_pipelines[q] describes pipeline q. */
extern const kd_pipeline_type *const kd_pipelines[KD_NPIPES];

kd_status kd_plan_point(const kd_problem *pr, const kd_point *pt, unsigned pipes, kd_plan *pl);
/* Whether every point of pipeline t fits the student's stage: n samples of all p
 * features (a stage of its chain, or its groups' first: student_groups). The memory
 * check bounds a point's need by that design before building anything of size p. */
int kd_pipeline_fits_student(const kd_pipeline_type *t);
/* The problem's p features in the order a student grown feature by feature takes them
 * (kd_feature_order): index[0..p), a permutation (host/sim/feature_order.c). The random
 * order depends on the seed and p only. */
kd_status kd_feature_order_build(const kd_problem *pr, kd_feature_order order, uint64_t seed,
                                 size_t *index);
void kd_plan_free(kd_plan *pl);

/* The columns of row r of the point: m and k (0: empty). */
void kd_plan_columns(const kd_plan *pl, int r, size_t *m, size_t *k);
/* Whether row r is within a tenth of an interpolation peak of one of its ridgeless
 * fits, where a deterministic equivalent's finite-size error grows like 1/distance
 * (docs/theory.md#near-peak): |n - p| < p/10 for a fit on every feature, |m - k| < k/10
 * for the weak model unless its moments are exact. */
int kd_plan_near_peak(const kd_plan *pl, int r);

/* One trial of every row of the point: risk[r] (excess risk) and fallback[r] = 1 when a
 * fit row r depends on took the orthogonal-factorisation fallback (arrays of
 * pl->nrows). ws: kd_trial_ws_init(ws, &pl->prog, batch). */
kd_status kd_run_trial(kd_backend *be, const kd_plan *pl, uint64_t seed, uint32_t trial,
                       kd_trial_ws *ws, double *risk, int *fallback);
/* Trials first .. first+count-1 (count <= ws->batch) of every row, fit by fit
 * (kd_program_run: the weak teachers' fits before the students' that learn from
 * them, each in one kd_stage_run_batch call for the `count` trials). risk[r * count + i]
 * and fallback[r * count + i] are trial first + i's, as kd_run_trial gives them. */
kd_status kd_run_trials(kd_backend *be, const kd_plan *pl, uint64_t seed, uint32_t first,
                        uint32_t count, kd_trial_ws *ws, double *risk, int *fallback);

/* Host bytes of the plan's own arrays (the memory check, host/sim/point.c's
 * kd_point_memory). */
size_t kd_plan_bytes(const kd_problem *pr, const kd_plan *pl);

/* ---- trials side by side (host/sim/point.c) ------------------------------------------ */

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
