/* recursive: G generations, generation 1 the strong student (n samples of the ground
 * truth), generation g fitted on T_g fresh samples labelled by generation g - 1's
 * beta-hat plus noise (--synthetic-sigma), under each schedule of --schedule: one
 * group of G rows per schedule (docs/architecture.md, a pipeline with several rows).
 * accumulate fits generation g on all g blocks of n samples so far, each keeping the
 * labels it was born with: its stage g extends generation 1's streams by rows, so its
 * first (g - 1) n rows are the earlier generations' own. */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "kdbench/theory_generations.h"

static const kd_recursive_opts DEFAULTS = KD_RECURSIVE_DEFAULTS;

static const kd_recursive_opts *opts_of(const kd_plan *pl) {
  return pl->pt.opts ? &pl->pt.opts->recursive : &DEFAULTS;
}
static int generations(const kd_recursive_opts *o) {
  return o->generations ? o->generations : KD_GENERATIONS_DEFAULT;
}
static kd_schedule schedule_of(const kd_recursive_opts *o, int i) {
  return o->n_schedules ? o->schedule[i] : (kd_schedule){.kind = KD_SCHEDULE_FIXED};
}
static double synthetic(const kd_problem *pr, const kd_recursive_opts *o) {
  return o->synthetic_sigma < 0 ? pr->sigma : o->synthetic_sigma;
}

/* The labels of a generation after the first: generation `from`'s fit plus noise. */
static kd_labels synthetic_labels(const kd_problem *pr, const kd_recursive_opts *o, int from) {
  return (kd_labels){.kind = KD_LABELS_STAGE, .stage = from, .noise = KD_NOISE_FIXED,
                     .sigma = synthetic(pr, o)};
}

static kd_status one_group(const kd_problem *pr, const kd_plan *pl, const kd_recursive_opts *o,
                           kd_schedule sc, kd_pipe_group *g) {
  const int G = generations(o);
  const int acc = sc.kind == KD_SCHEDULE_ACCUMULATE;
  kd_schedule_name(&sc, g->name, sizeof g->name);
  if (acc && G > KD_MIX_BLOCKS)
    return kd_fail(KD_EINVAL, "--schedule accumulate: at most %d generations (its last fits on "
                   "%d blocks), got %d: give --generations %d or fewer", KD_MIX_BLOCKS,
                   KD_MIX_BLOCKS, G, KD_MIX_BLOCKS);
  g->chain.length = g->rows = G;
  g->chain.stage[0] = (kd_chain_stage)KD_STUDENT_STAGE(.kind = KD_LABELS_TRUTH,
                                                       .noise = KD_NOISE_SIGMA);
  for (int s = 0; s < G; ++s) {
    g->stage[s] = s;
    g->step[s] = s + 1;
    if (s == 0) continue;
    size_t t = 0;
    kd_status st = kd_schedule_samples(&sc, pl->pt.n, s + 1, &t);
    if (st != KD_OK) return st;
    kd_chain_stage *c = &g->chain.stage[s];
    *c = (kd_chain_stage){
        .stream = acc ? KD_STREAM_EXTEND : KD_STREAM_STAGE,
        .samples = {.kind = KD_SAMPLES_FIXED, .count = t},
        .features = {.kind = KD_FEATURES_ALL},
        .solver = {.ridge = KD_RIDGE_FIXED,
                   .value = kd_generation_ridge(o, pl->pt.ridge, s + 1)},
        .labels = synthetic_labels(pr, o, s - 1)};
    if (!acc) continue;
    kd_labels_mix *m = &g->mix[s]; /* block i: generation i + 1's rows and labels */
    *m = (kd_labels_mix){.parts = s + 1};
    m->part[0] = (kd_labels){.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA};
    for (int i = 1; i <= s; ++i) m->part[i] = synthetic_labels(pr, o, i - 1);
    for (int i = 0; i <= s; ++i) m->fraction[i] = 1.0 / (s + 1);
    c->labels = (kd_labels){.kind = KD_LABELS_MIX, .mix = m, .noise = KD_NOISE_FIXED,
                            .sigma = synthetic(pr, o)};
  }
  return KD_OK;
}

static kd_status groups(const kd_problem *pr, const kd_plan *pl, kd_pipe_group *group, int max,
                        int *count) {
  const kd_recursive_opts *o = opts_of(pl);
  const int S = o->n_schedules ? o->n_schedules : 1;
  if (S > max)
    return kd_fail(KD_EINVAL, "--schedule: %d schedules, but the point has room for %d chains",
                   S, max);
  for (int i = 0; i < S; ++i) {
    kd_status st = one_group(pr, pl, o, schedule_of(o, i), &group[i]);
    if (st != KD_OK) return st;
  }
  *count = S;
  return KD_OK;
}

/* Generation 1 is the strong student: its theory is strong's. Later ones: exact where
 * the prefix of generations up to them has an exact risk (A1, A3), else the
 * deterministic-equivalent recursion; accumulate, ridgeless throughout: generation 1's
 * risk plus each block's noise through the Gram of the blocks so far (exact where
 * generation 1's and every block's term are); with a ridge in any generation: the DE of
 * the errors' linear pencil, its ridgeless generations taken as ridge -> 0 (NaN only if
 * that solve fails). */
static void group_theory(const kd_problem *pr, const kd_plan *pl, const kd_pipe_group *g,
                         double *value, kd_theory_kind *kind) {
  const kd_recursive_opts *o = opts_of(pl);
  const int G = g->rows, acc = g->chain.stage[G - 1].stream == KD_STREAM_EXTEND;
  kd_generation gen[KD_CHAIN_MAX] = {{0}};
  double sigma[KD_CHAIN_MAX] = {0}, de[KD_CHAIN_MAX], ex[KD_CHAIN_MAX];
  int ridgeless = 1, exact[KD_CHAIN_MAX];
  for (int s = 0; s < G; ++s) {
    const kd_chain_stage *c = &g->chain.stage[s];
    gen[s] = (kd_generation){.t = s ? (double)c->samples.count : (double)pl->pt.n,
                             .ridge = s ? c->solver.value : pl->pt.ridge,
                             .sigma = s ? synthetic(pr, o) : pr->sigma};
    sigma[s] = gen[s].sigma;
    ridgeless &= gen[s].ridge == 0;
  }
  kd_pipeline_truth_theory(pr, pl, &value[0], &kind[0]);
  if (acc && ridgeless) {
    const int ok = kd_generations_accumulate(pr->lambda, pr->p, (double)pl->pt.n, sigma, G,
                                             value[0], value, exact) == KD_OK;
    for (int s = 1; s < G; ++s) {
      if (!ok) value[s] = NAN;
      kind[s] = ok && exact[s] && kind[0] == KD_THEORY_EXACT ? KD_THEORY_EXACT : KD_THEORY_DE;
    }
    return;
  }
  if (acc) { /* the pencil's DE, with a ridge in some generations at least */
    double ridge[KD_CHAIN_MAX];
    for (int s = 0; s < G; ++s) ridge[s] = gen[s].ridge;
    const int ok = kd_generations_accumulate_de(pr->lambda, pr->beta, pr->p, (double)pl->pt.n,
                                                ridge, sigma, G, de) == KD_OK;
    for (int s = 1; s < G; ++s) value[s] = ok ? de[s] : NAN, kind[s] = KD_THEORY_DE;
    return;
  }
  if (kd_generations_de(pr->lambda, pr->beta, pr->p, gen, G, de) != KD_OK)
    for (int s = 0; s < G; ++s) de[s] = NAN;
  for (int s = 1; s < G; ++s) {
    const int exact_prefix = kd_generations_exact(pr->lambda, pr->beta, pr->p, gen, s + 1, ex);
    value[s] = exact_prefix ? ex[s] : de[s];
    kind[s] = exact_prefix ? KD_THEORY_EXACT : KD_THEORY_DE;
  }
}

const kd_pipeline_type kd_pipeline_recursive = {
    .name = "recursive",
    .groups = groups,
    .group_theory = group_theory,
    .step_column = "generation",
    .group_column = "schedule",
    .student_groups = 1, /* generation 1 */
};
