/* The problem of a grid point (spectrum and beta* built, kept while the next point has
 * the same one), and what the sweep derives from the grid's problems before any work:
 * their check, the plan's point and the null risks. */
#include <stdlib.h>

#include "internal.h"

int kd_sweep_same_problem(const kd_grid_point *a, const kd_grid_point *b) {
  return a->p == b->p && a->alpha == b->alpha && a->sigma == b->sigma;
}

kd_status kd_sweep_problem_for(const kd_config *c, const kd_grid_point *gp, kd_sweep_problem *ps) {
  if (ps->valid && kd_sweep_same_problem(&ps->at, gp)) return KD_OK;
  if (ps->valid) kd_problem_free(&ps->pr);
  ps->valid = 0;
  double tsig = c->teacher_sigma < 0 ? gp->sigma : c->teacher_sigma;
  kd_status st = kd_config_problem(c, gp->p, gp->alpha, gp->sigma, tsig, &ps->pr);
  if (st != KD_OK) return st;
  ps->valid = 1;
  ps->at = *gp;
  ++ps->id;
  return KD_OK;
}

kd_status kd_sweep_check_problems(const kd_config *c, const kd_grid *g) {
  kd_sweep_problem ps = {0};
  kd_status st = KD_OK;
  for (size_t i = 0; i < g->count && st == KD_OK; ++i) st = kd_sweep_problem_for(c, &g->pt[i], &ps);
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}

kd_point kd_sweep_point_of(const kd_config *c, const kd_grid_point *gp) {
  return (kd_point){.n = gp->n, .ridge = gp->ridge, .m = gp->m, .k = gp->k,
                    .weak_ridge = c->weak_ridge, .real_fraction = gp->real_fraction, .opts = &c->pipe_opts,
                    .features = {.count = gp->student_features, .order = c->feature_order,
                                 .seed = c->seed, .noise = c->noise_features,
                                 .level = c->noise_level}};
}

kd_status kd_sweep_null_risks(const kd_config *c, const kd_grid *g, double **out) {
  *out = NULL;
  if (!(c->pipelines >> KD_PIPE_RECURSIVE & 1u)) return KD_OK;
  if (!(*out = malloc(sizeof(double) * (g->count ? g->count : 1))))
    return kd_fail(KD_ENOMEM, "out of memory");
  kd_sweep_problem ps = {0};
  kd_status st = KD_OK;
  for (size_t i = 0; i < g->count && st == KD_OK; ++i) {
    st = kd_sweep_problem_for(c, &g->pt[i], &ps);
    double sum = 0;
    for (size_t j = 0; st == KD_OK && j < ps.pr.p; ++j)
      sum += ps.pr.lambda[j] * ps.pr.beta[j] * ps.pr.beta[j];
    (*out)[i] = sum;
  }
  if (ps.valid) kd_problem_free(&ps.pr);
  return st;
}
