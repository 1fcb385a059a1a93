/* curriculum: a student trained by one pass of SGD over the point's n samples along a
 * curriculum (include/kdbench/curriculum.h, docs/theory.md#curriculum): one group per
 * order (--order), one row per checkpoint (--checkpoints), its t the samples seen by
 * then. The orders share one design and one noise vector (one SGD fit, a right-hand side
 * per order); the theory is the exact recursion. */
#include <math.h>
#include <stdio.h>

#include "internal.h"

static const kd_order DEFAULT_ORDERS[] = {KD_ORDER_CURRICULUM, KD_ORDER_ANTI, KD_ORDER_RANDOM};

static kd_status groups(const kd_problem *pr, const kd_plan *pl, kd_pipe_group *group, int max,
                        int *count) {
  const kd_pipe_opts *o = pl->pt.opts && pl->pt.opts->orders ? pl->pt.opts : NULL;
  const int orders = o ? o->orders : KD_NORDERS;
  const kd_curriculum c = kd_plan_curriculum(pr, pl, pl->pt.n);
  if (orders > max)
    return kd_fail(KD_EINVAL, "--order: %d orders, but the point has room for %d chains", orders,
                   max);
  if (c.checkpoints > KD_CHAIN_MAX)
    return kd_fail(KD_EINVAL, "--checkpoints %zu: at most %d", c.checkpoints, KD_CHAIN_MAX);
  for (int g = 0; g < orders; ++g) {
    const kd_order order = o ? o->order[g] : DEFAULT_ORDERS[g];
    kd_status st = kd_curriculum_check(&c, (int)order);
    if (st != KD_OK) return st;
    kd_pipe_group *grp = &group[g];
    snprintf(grp->name, sizeof grp->name, "%s", kd_order_name(order));
    grp->chain.length = 1;
    grp->chain.stage[0] = (kd_chain_stage){
        .stream = KD_STREAM_STUDENT, .samples = {.kind = KD_SAMPLES_N},
        .features = {.kind = KD_FEATURES_ALL},
        .solver = {.ridge = KD_RIDGE_FIXED, .sgd = 1, .order = order},
        .labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}};
    grp->rows = (int)c.checkpoints;
    for (int i = 0; i < grp->rows; ++i) {
      grp->stage[i] = 0;
      grp->checkpoint[i] = i;
      grp->step[i] = (int)kd_checkpoint_at(&c, (size_t)i);
    }
  }
  *count = orders;
  return KD_OK;
}

/* The exact recursion at the checkpoints (B2, B4), for the group's order. */
static void group_theory(const kd_problem *pr, const kd_plan *pl, const kd_pipe_group *g,
                         double *value, kd_theory_kind *kind) {
  const kd_curriculum c = kd_plan_curriculum(pr, pl, pl->pt.n);
  kd_status st = kd_curriculum_risk(&c, g->chain.stage[0].solver.order, pr->lambda, pr->beta,
                                    pr->p, value);
  for (int i = 0; i < g->rows; ++i) {
    if (st != KD_OK) value[i] = NAN;
    kind[i] = KD_THEORY_EXACT;
  }
}

const kd_pipeline_type kd_pipeline_curriculum = {
    .name = "curriculum",
    .groups = groups,
    .group_theory = group_theory,
    .step_column = "t",
    .group_column = "order",
};
