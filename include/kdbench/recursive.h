/* The options of the `recursive` pipeline (host/sim/pipeline_recursive.c): G
 * generations, each fitted on the labels of the one before, with fresh samples, under
 * one or several sample-size schedules (the rows' groups). */
#ifndef KDBENCH_RECURSIVE_H
#define KDBENCH_RECURSIVE_H

#include <stddef.h>

#include "kdbench/status.h"

#define KD_GENERATIONS_MAX 256 /* = KD_CHAIN_MAX: one stage per generation */
#define KD_SCHEDULES_MAX 8
#define KD_SCHEDULE_SAMPLES_MAX ((size_t)1 << 31) /* T_g above this: refused */

/* T_g, the samples of generation g = 1, 2, ... for T_1 = n: n (fixed), n g (linear),
 * n g^2 (quadratic), n R^(g-1) rounded (geometric:R); accumulate: generation g is
 * fitted on all g blocks of n samples so far, each keeping the labels it was born with. */
typedef enum {
  KD_SCHEDULE_FIXED,
  KD_SCHEDULE_LINEAR,
  KD_SCHEDULE_QUADRATIC,
  KD_SCHEDULE_GEOMETRIC,
  KD_SCHEDULE_ACCUMULATE,
} kd_schedule_kind;

typedef struct {
  kd_schedule_kind kind;
  double ratio; /* geometric: R > 0 */
} kd_schedule;

typedef enum { KD_DECAY_NONE, KD_DECAY_INVERSE_SQUARE } kd_ridge_decay;

typedef struct {
  int generations;           /* G: 1 .. KD_GENERATIONS_MAX; 0 = the default, 10 */
  int n_schedules;           /* 0 = the default, fixed */
  kd_schedule schedule[KD_SCHEDULES_MAX];
  double synthetic_sigma;    /* the noise of generation g >= 2's labels; < 0: sigma */
  double gen_ridge;          /* generation g >= 2's ridge before decay; < 0: the point's */
  kd_ridge_decay decay;      /* lambda_g = gen_ridge (none) or gen_ridge / g^2 */
} kd_recursive_opts;

#define KD_RECURSIVE_DEFAULTS {.synthetic_sigma = -1, .gen_ridge = -1}
#define KD_GENERATIONS_DEFAULT 10

/* "fixed,linear,geometric:2,accumulate" -> o->schedule (a name twice is refused);
 * KD_EINVAL naming the word. o is unchanged on an error. */
kd_status kd_schedules_parse(const char *text, kd_recursive_opts *o);
/* "geometric:2": the schedule's name as the rows' group column writes it. */
void kd_schedule_name(const kd_schedule *s, char *buf, size_t len);
/* T_g of schedule s for T_1 = n (accumulate: the g blocks' n g); KD_EINVAL, naming the
 * schedule and g, above KD_SCHEDULE_SAMPLES_MAX. */
kd_status kd_schedule_samples(const kd_schedule *s, size_t n, int g, size_t *t);
/* generation g's ridge at a point of ridge `ridge` (generation 1: the point's). */
double kd_generation_ridge(const kd_recursive_opts *o, double ridge, int g);

#endif
