/* Chains of stages, described by data, and the fits one trial of them runs.
 *
 * A pipeline (include/kdbench/pipeline.h) is a chain of stages; a stage is one
 * regression fit on fresh samples, described by
 *   - its streams (which random numbers its design and noise draw),
 *   - its sample count: the point's n (the swept student size), the point's m, a fixed
 *     count, or a schedule of the stage's index in its chain (generations),
 *   - its design spectrum: the problem's (NULL) or another of the plan's, the risk
 *     being measured in the problem's spectrum either way,
 *   - the features it sees: all, the top k (the point's k), a subset, or the point's
 *     student features (the first s of an order: kd_student_features), and optionally
 *     pure-noise features after them; the features it does not see reach its labels as
 *     extra Gaussian noise (a diagonal design makes that exact), and its risk counts
 *     their signal,
 *   - its solver: the direct ridge(less) solve with the point's ridge, the weak
 *     model's, or a fixed one (an iterative solver would add its kind here),
 *   - its labels: the ground truth, a fixed surrogate of the plan, the fitted beta-hat
 *     of an earlier stage of the chain, or a mix of those by row fraction (kd_labels_mix),
 *     each with its own noise level.
 *
 * The chains of a point's selected pipelines are resolved once into a program
 * (kd_program_build): stages that draw the same design (same streams, samples,
 * spectrum, features and ridge) become ONE fit, kd_call, with one right-hand side per
 * distinct label source and noise, so that the student stages of strong, optimal, mask
 * and w2s share one design and one factorisation, and the weak stage of w2s and weak is
 * fitted once; a mixed stage's sources join those right-hand sides as label columns,
 * and its right-hand side takes its rows from them (kd_row_mix). kd_program_run runs a
 * program for a batch of trials. */
#ifndef KDBENCH_CHAIN_H
#define KDBENCH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "kdbench/backend.h"
#include "kdbench/curriculum.h"
#include "kdbench/problem.h"

struct kd_plan; /* pipeline.h: the point's plan, whose surrogates and spectra stages use */

struct kd_pipe_opts; /* pipeline.h: the options of the pipelines that have any */
/* The order in which a student grown feature by feature takes the problem's features:
 * head first (decreasing lambda_i beta*_i^2, ties by index), tail first (the reverse)
 * or a random permutation drawn from the run's seed. */
typedef enum { KD_GROW_HEAD, KD_GROW_TAIL, KD_GROW_RANDOM } kd_feature_order;

/* The features a KD_FEATURES_STUDENT stage sees: the first `count` of `order` (0: all
 * p), then `noise` pure-noise features of variance `level`. */
typedef struct {
  size_t count;
  kd_feature_order order;
  uint64_t seed;     /* the random order's */
  size_t noise;
  double level;
} kd_student_features;

typedef struct {
  size_t n;          /* student samples */
  double ridge;      /* student ridge (0 = ridgeless) */
  size_t m;          /* weak model's samples */
  size_t k;          /* weak model's features; 0 = the theory-optimal k */
  double weak_ridge; /* weak model's ridge; < 0: the theory-optimal one (kd_plan_point) */
  double real_fraction; /* the share of the student's rows with ground-truth labels in a
                           mix that takes it from the point (kd_labels_mix.from_point) */
  const struct kd_pipe_opts *opts; /* NULL: every pipeline's defaults */
  kd_student_features features; /* what a KD_FEATURES_STUDENT stage sees */
} kd_point;

/* The streams of a stage: {seed, id, trial, role | purpose} (include/kdbench/rng.h). */
typedef enum {
  KD_STREAM_STUDENT, /* id a hash of (samples, p) only, role KD_STAGE_STUDENT: points that
                        differ in the teacher, ridge, spectrum or noise draw the same
                        standard normals (common random numbers) */
  KD_STREAM_WEAK,    /* id a hash of (samples, features, p, ridge), role KD_STAGE_WEAK: every
                        student size sees the same teacher in trial t */
  KD_STREAM_STAGE,   /* id a hash of (the stage's index in its chain, samples, features, p,
                        ridge), role KD_STAGE_STUDENT: a fresh design for every stage of a
                        chain (generations), shared by the same stage of other chains */
  KD_STREAM_EXTEND,  /* the streams of the chain's earlier stage `extends`: a stage of more
                        samples whose first rows (design and noise) are that stage's, the
                        rows after them new (data accumulated over generations) */
} kd_stream;

typedef enum { KD_SAMPLES_N, KD_SAMPLES_M, KD_SAMPLES_FIXED, KD_SAMPLES_SCHEDULE } kd_samples_kind;
typedef struct {
  kd_samples_kind kind;
  size_t count;                                      /* KD_SAMPLES_FIXED */
  size_t (*schedule)(const kd_point *pt, int stage); /* KD_SAMPLES_SCHEDULE */
} kd_samples;

typedef enum {
  KD_FEATURES_ALL,
  KD_FEATURES_TOP_K,
  KD_FEATURES_SUBSET,
  KD_FEATURES_STUDENT, /* the point's student features (kd_point.features), in the
                          plan's order (kd_plan.order); noise and noise_var unused */
} kd_features_kind;
typedef struct {
  kd_features_kind kind;
  /* SUBSET: writes the indices of the problem's features the stage sees, distinct and
   * below p, into `index` (room for p) and returns how many */
  size_t (*subset)(const struct kd_plan *pl, size_t p, size_t *index);
  size_t noise;     /* pure-noise features after those: no signal, variance noise_var, in
                       the design and in the risk's metric alike */
  double noise_var;
} kd_features;

typedef enum { KD_RIDGE_STUDENT, KD_RIDGE_WEAK, KD_RIDGE_FIXED } kd_ridge_kind;
typedef struct {
  kd_ridge_kind ridge;
  double value; /* KD_RIDGE_FIXED; 0 = ridgeless */
  /* 1: one pass of SGD (include/kdbench/sgd.h) along the point's curriculum
   * (kd_point.opts) in the order `order`, its risk read at the curriculum's checkpoints,
   * instead of the direct solve; ridge and labels are then the curriculum's (its easy
   * and hard samples' sources and noise), not the fields above */
  int sgd;
  kd_order order;
} kd_solver;

typedef enum { KD_LABELS_TRUTH, KD_LABELS_SURROGATE, KD_LABELS_STAGE, KD_LABELS_MIX } kd_labels_kind;
typedef enum { KD_NOISE_SIGMA, KD_NOISE_TEACHER, KD_NOISE_FIXED } kd_noise_kind;
typedef struct {
  kd_labels_kind kind;
  const double *(*surrogate)(const struct kd_plan *pl); /* SURROGATE: p coefficients */
  int stage;                                            /* STAGE: an earlier stage's index */
  kd_noise_kind noise; /* sigma: the problem's, its teacher sigma, or .sigma */
  double sigma;
  const struct kd_labels_mix *mix; /* MIX: the sources and their fractions */
} kd_labels;

/* Labels mixed by row fraction: with F_b = fraction[0] + ... + fraction[b-1], the rows
 * [round(F_b n), round(F_{b+1} n)) of the stage's n are labelled by part[b] (its own
 * source and noise level), round to nearest, halves away from zero, the last part
 * ending at row n: the parts in the order listed, the first part's rows first. Each
 * fraction is >= 0 and they sum to 1 within 1e-9. A mix whose rows all come from one
 * part is that part's stage exactly (the same right-hand side, bit for bit). With
 * from_point, the fractions are the point's: real_fraction for part 0, the rest for
 * part 1 (two parts). */
typedef struct kd_labels_mix {
  int parts;                       /* 1 .. KD_MIX_BLOCKS */
  kd_labels part[KD_MIX_BLOCKS];   /* none of them a MIX */
  double fraction[KD_MIX_BLOCKS];
  int from_point;
} kd_labels_mix;

/* The rows of n that parts with fractions summing to `cum` take: round(cum n), halves
 * away from zero, at most n. The one rounding of a mix's blocks, for the chains and
 * their theory alike. */
size_t kd_mix_rows(double cum, size_t n);

typedef struct {
  kd_stream stream;
  int extends; /* KD_STREAM_EXTEND: the earlier stage whose streams it draws from */
  kd_samples samples;
  const double *(*spectrum)(const struct kd_plan *pl); /* NULL (or returning NULL): the
                                                          problem's lambda */
  kd_features features;
  kd_solver solver;
  kd_labels labels;
} kd_chain_stage;

#define KD_CHAIN_MAX 256 /* stages of a chain (generations), rows of a group (checkpoints) */
typedef struct {
  int length;
  kd_chain_stage stage[KD_CHAIN_MAX];
} kd_chain;

/* ---- the program: the distinct fits of one trial --------------------------------------- */

#define KD_PROGRAM_CHAINS 16 /* chains in one program */
#define KD_PROGRAM_CALLS 2048 /* distinct fits: 8 schedules of 256 generations */
#define KD_CALL_RHS 8        /* right-hand sides of one fit */

typedef struct {
  kd_labels_kind kind;  /* TRUTH, SURROGATE: `vector`; STAGE: fit `call`, column `rhs` */
  const double *vector; /* the fit's p coefficients (its features') */
  int call, rhs;
  int stage;            /* STAGE: the index in its chain of the stage it reads */
  const long *map;      /* STAGE: the position of each of the fit's features among the source
                           fit's, -1 for none; NULL: the source's features are the first */
} kd_call_source;

typedef struct {
  size_t n, p;                 /* samples, features */
  const size_t *index;         /* the problem's features it sees, in order; NULL: the first */
  size_t seen;                 /* of its p features, the problem's; the rest are pure noise */
  double ridge;
  const double *lambda;        /* the design's spectrum (p) */
  const double *metric;        /* the risk's (NULL: lambda) */
  const double *target;        /* beta* on these features */
  uint32_t id, role;           /* the streams */
  int top_k;                   /* sees the point's top k: the weak model */
  int partial;                 /* does not see every feature of the problem (top k, subset) */
  double dropped;              /* the signal of the features it does not see, added to every
                                  risk: sum over them of lambda_j beta*_j^2 */
  size_t nrhs;                 /* right-hand sides */
  size_t ncols;                /* label columns: src and sigma; nrhs unless mixed */
  kd_call_source src[KD_CALL_RHS];
  double sigma[KD_CALL_RHS];   /* each label column's noise, the unseen signal included */
  int mixed;                   /* right-hand side r takes its rows from the columns as mix[r]
                                  says; else it is column r */
  kd_row_mix mix[KD_CALL_RHS];
  int keep;                    /* its coefficients are kept (a later fit or the cache reads them) */
  int sgd;                     /* one pass of SGD (kd_solver.sgd): label columns 0 and 1 the
                                  curriculum's easy and hard samples', right-hand side r along
                                  order[r], cur.checkpoints risks each */
  kd_curriculum cur;
  kd_order order[KD_CALL_RHS];
} kd_call;

/* The risks a fit gives per right-hand side: its checkpoints (SGD), else 1. */
static inline size_t kd_call_risks(const kd_call *c) { return c->sgd ? c->cur.checkpoints : 1; }

typedef struct {
  int ncalls;
  kd_call *call; /* KD_PROGRAM_CALLS of them, the first ncalls used, in the order they run:
                    a fit after those it reads */
  int chains;
  int out_call[KD_PROGRAM_CHAINS], out_rhs[KD_PROGRAM_CHAINS]; /* a chain's result: its last fit */
  int length[KD_PROGRAM_CHAINS]; /* a chain's stages */
  int stage_call[KD_PROGRAM_CHAINS][KD_CHAIN_MAX]; /* stage s of chain i: fit stage_call[i][s], */
  int stage_rhs[KD_PROGRAM_CHAINS][KD_CHAIN_MAX];  /* its right-hand side stage_rhs[i][s] */
  int cached; /* the fit a teacher cache may hold across points (its stream is the weak
                 model's, its labels the ground truth's, its features the first k), -1: none */
  void **owned; /* the gathered spectra, targets, sources and maps of subset fits */
  size_t n_owned, owned_bytes;
} kd_program;

/* Resolves `count` chains for the point of plan `pl` (its n, m, resolved k, ridges) into
 * a program. KD_EINVAL, naming the chain and stage, for a stage that reads a stage not
 * before it, a mix of bad fractions (negative, not summing to 1) or parts, a stage that learns from a fit on features it does not see (or on pure-noise
 * features), a subset that is not one, fits that share a design in an order that cannot
 * run, or more fits than the limits. Free it with kd_program_free, after a failure too. */
kd_status kd_program_build(kd_program *prog, const kd_problem *pr, const struct kd_plan *pl,
                           const kd_chain *const *chains, int count);
void kd_program_free(kd_program *prog);
/* Whether fit `call` holds one of stages 0 .. `stage` of chain `chain` (what a result
 * read off that stage depends on: its fallbacks, its peaks). */
int kd_program_uses(const kd_program *prog, int chain, int stage, int call);

/* Buffers of `batch` trials of a program, reused across trials. Fit c's label columns
 * (batch x p x ncols) are src[c], its coefficients (batch x p x nrhs, trial by trial,
 * where kept), risks (batch x nrhs) and fallbacks (batch) hat[c], risk[c], fallback[c]. When `given` is a fit's index, that fit is
 * not run: its buffers already hold the trials' results (a sweep's teacher cache). */
typedef struct {
  size_t batch;
  kd_stage *stages; /* batch: one fit of every trial */
  double *block;    /* the doubles below */
  int *flags;       /* the fallbacks */
  double *src[KD_PROGRAM_CALLS], *hat[KD_PROGRAM_CALLS], *risk[KD_PROGRAM_CALLS];
  int *fallback[KD_PROGRAM_CALLS];
  int given;
} kd_trial_ws;
kd_status kd_trial_ws_init(kd_trial_ws *ws, const kd_program *prog, size_t batch);
void kd_trial_ws_free(kd_trial_ws *ws);
/* Host bytes of kd_trial_ws_init's buffers (the memory check). */
size_t kd_trial_ws_bytes(const kd_program *prog, size_t batch);

/* Trials first .. first+count-1 (count <= ws->batch) of the program, fit by fit: each fit
 * handed to the backend for all `count` trials in one kd_stage_run_batch call (count =
 * 1: kd_stage_run), the fits in the program's order (a teacher before the students that
 * learn from it). The results are in ws. */
kd_status kd_program_run(kd_backend *be, const kd_program *prog, uint64_t seed, uint32_t first,
                         uint32_t count, kd_trial_ws *ws);

/* The stream id of stage `stage` of a chain (kd_stream) of `n` samples, `features` of
 * the problem's `p`, and ridge. */
uint32_t kd_stream_id(kd_stream s, int stage, size_t n, size_t features, size_t p, double ridge);

#endif
