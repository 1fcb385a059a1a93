/* Curricula for a student trained by one pass of SGD (docs/theory.md#curriculum).
 *
 * The student sees `budget` of a pool of n samples, one at a time, from w = 0:
 *   w <- w - eta_t (x_t^T w - y_t) x_t,   x_t ~ N(0, diag lambda),
 * its steps eta_t = (c / tr Sigma) / (1 + t / tau) (constant: tau infinite), and records
 * its risk at K checkpoints, after floor(i B / K) samples, i = 1..K.
 *
 * The samples differ in difficulty (kd_difficulty) and come in an order (kd_order),
 * optionally paced as CLIMB paces its data (Diehl Martinez et al. 2023, its
 * pacing_fn.py): the pace g(t) in [KD_PACE_INITIAL, 1] is the largest difficulty
 * percentile a step may draw from, uniformly below it.
 *   noise     a fraction `easy_fraction` of the pool has label noise easy_sigma, the
 *             rest hard_sigma; the labels are the truth's, x^T beta* + sigma z;
 *   source    the easy samples carry a fixed teacher's labels, KD_CURRICULUM_TEACHER
 *             beta*, noiseless; the hard ones the truth's with the problem's sigma;
 *   features  every sample is alike (truth, the problem's sigma); a paced curriculum
 *             masks the features beyond the pace's top g(t) p (curriculum: the
 *             largest eigenvalues first; anti: the smallest first), as CLIMB's
 *             vocabulary curriculum maps tokens beyond pace(t) V to <unk>.
 * Orders: curriculum (easy first), anti (hard first), random (the pool shuffled, a fresh
 * permutation every trial). Unpaced, a step takes the next sample of the sorted pool;
 * paced, step t draws a fresh sample whose difficulty percentile is uniform below
 * g(t) of the sorted pool (random: the pool unsorted, so each step is easy with the
 * pool's fraction).
 *
 * The pure functions below (the pace, the steps, the checkpoints, what one step sees
 * in expectation) are shared by the exact recursion (kd_curriculum_risk) and the
 * simulation (include/kdbench/sgd.h). */
#ifndef KDBENCH_CURRICULUM_H
#define KDBENCH_CURRICULUM_H

#include <math.h>
#include <stddef.h>

#include "kdbench/status.h"

typedef enum { KD_ORDER_CURRICULUM, KD_ORDER_ANTI, KD_ORDER_RANDOM, KD_NORDERS } kd_order;
typedef enum {
  KD_PACING_NONE,
  KD_PACING_LINEAR,
  KD_PACING_QUAD,
  KD_PACING_ROOT,
  KD_PACING_STEP,
  KD_PACING_EXP,
  KD_PACING_LOG,
  KD_NPACINGS
} kd_pacing;
typedef enum {
  KD_DIFFICULTY_NOISE,
  KD_DIFFICULTY_SOURCE,
  KD_DIFFICULTY_FEATURES,
  KD_NDIFFICULTIES
} kd_difficulty;
typedef enum { KD_STEP_CONSTANT, KD_STEP_DECAY } kd_step_kind;

/* CLIMB's pacing constants: the pace leaves KD_PACE_INITIAL at 6.25 % of the steps and
 * reaches 1 at 87.5 %; exp and log grow at rate c = 10. */
#define KD_PACE_START 0.0625
#define KD_PACE_END 0.875
#define KD_PACE_INITIAL 0.1
#define KD_PACE_GROWTH 10.0
/* The teacher of the source difficulty: its labels are this times beta*. */
#define KD_CURRICULUM_TEACHER 0.6

typedef struct {
  kd_step_kind kind;
  double c;   /* eta_0 tr Sigma, > 0 */
  double tau; /* decay: eta_t = eta_0 / (1 + t / tau), tau > 0 */
} kd_step_rule;

typedef struct {
  kd_difficulty difficulty;
  kd_pacing pacing;
  kd_step_rule step;
  size_t n;             /* the pool */
  size_t budget;        /* samples seen, 1..n */
  size_t checkpoints;   /* K, 1..budget */
  double easy_fraction; /* noise, source: the easy share of the pool, in [0, 1] */
  double easy_sigma, hard_sigma; /* noise: the two noise levels */
  double sigma;         /* source (the truth's labels), features: the problem's noise */
} kd_curriculum;

/* The defaults of a run (kdbench --help): noise 0.1 and 1, half of the pool easy,
 * constant steps 0.5 / tr Sigma over all n samples, 10 checkpoints, unpaced. */
#define KD_CURRICULUM_DEFAULTS                                                               \
  {.difficulty = KD_DIFFICULTY_NOISE, .pacing = KD_PACING_NONE,                              \
   .step = {.kind = KD_STEP_CONSTANT, .c = 0.5, .tau = INFINITY}, .n = 0, .budget = 0,        \
   .checkpoints = 10, .easy_fraction = 0.5, .easy_sigma = 0.1, .hard_sigma = 1.0, .sigma = 0}

/* Names: "curriculum" "anti" "random"; "none" "linear" "quad" "root" "step" "exp" "log";
 * "noise" "source" "features". The parsers take the first len characters and name the
 * word and the choices when it is none of them (KD_EINVAL). */
const char *kd_order_name(kd_order o);
const char *kd_pacing_name(kd_pacing p);
const char *kd_difficulty_name(kd_difficulty d);
kd_status kd_order_parse(const char *s, size_t len, kd_order *o);
kd_status kd_pacing_parse(const char *s, kd_pacing *p);
kd_status kd_difficulty_parse(const char *s, kd_difficulty *d);
/* "constant:C" or "decay:C,TAU", C > 0 and TAU > 0. */
kd_status kd_step_parse(const char *s, kd_step_rule *r);

/* KD_EINVAL, naming the setting, for a budget of 0 or beyond n, checkpoints of 0 or
 * beyond the budget, a step rule with c <= 0 or tau <= 0 (or not finite), an easy
 * fraction outside [0, 1], a negative noise level, and the order random with the
 * features difficulty (its samples are alike: nothing to shuffle). `order` < 0: the
 * settings alone. */
kd_status kd_curriculum_check(const kd_curriculum *c, int order);

/* CLIMB's pace at step t of `steps`: KD_PACE_INITIAL before 6.25 % of them, then
 * growing (linear, quad, root, exp, log; step: jumps at 87.5 %) to 1, which it keeps;
 * 1 throughout for KD_PACING_NONE. */
double kd_pace(kd_pacing p, size_t t, size_t steps);
/* eta_t for a spectrum of trace `trace`. */
double kd_step_size(const kd_step_rule *r, double trace, size_t t);
/* The number of samples seen at checkpoint i (0-based): floor((i + 1) budget / K). */
size_t kd_checkpoint_at(const kd_curriculum *c, size_t i);
/* Easy samples in the pool: round(easy_fraction n), halves away from zero. */
size_t kd_curriculum_easy(const kd_curriculum *c);
/* The features a step sees, [*lo, *hi) of p: all of them, or with a paced features
 * difficulty the pace's top max(1, floor(g p)) (anti: the last that many). */
void kd_curriculum_active(const kd_curriculum *c, kd_order o, size_t p, size_t t, size_t *lo,
                          size_t *hi);
/* The probability that step t (of an unshuffled order, or a paced one) draws an easy
 * sample: 0 or 1 for a sorted pool, min(1, f/g) (curriculum) or max(0, 1 - (1-f)/g)
 * (anti) under a pace g, f for random. */
double kd_curriculum_easy_prob(const kd_curriculum *c, kd_order o, size_t t);

/* The exact expected risk of the one-pass SGD student at the K checkpoints
 * (risk[0..K)), over the designs, the noise and (random) the order: the diagonal
 * second-moment recursion of docs/theory.md#curriculum (B2, with the masked
 * features of B4), O(p) a step. beta: beta*; lambda: the spectrum, both p long.
 * KD_EINVAL as kd_curriculum_check says; KD_ENOMEM. */
kd_status kd_curriculum_risk(const kd_curriculum *c, kd_order o, const double *lambda,
                             const double *beta, size_t p, double *risk);

#endif
