/* Per-feature weights of the optimal surrogate and mask (theory only). */
#include "kdbench/weights.h"

#include <stdlib.h>
#include <unistd.h>

#include "kdbench/file_io.h"
#include "kdbench/theory.h"

typedef struct {
  const kd_problem *pr;
  const double *gain;
  size_t mask_k;
} weights_table;

static kd_status render_weights(FILE *f, const void *ctx) {
  const weights_table *t = ctx;
  fputs("i,lambda,beta_star,gain,beta_optimal,beta_mask\n", f);
  for (size_t i = 0; i < t->pr->p; ++i)
    fprintf(f, "%zu,%.10g,%.10g,%.10g,%.10g,%.10g\n", i + 1, t->pr->lambda[i], t->pr->beta[i],
            t->gain[i], t->gain[i] * t->pr->beta[i], i < t->mask_k ? t->pr->beta[i] : 0.0);
  return KD_OK;
}

kd_status kd_weights_run(const kd_config *cfg, FILE *table) {
  double whole = 0; /* a single n is checked when set to be a positive integer */
  if (!kd_axis_spec_single(&cfg->axis_values[KD_AXIS_N], &whole))
    return kd_fail(KD_EINVAL, "--job weights: give one student size with --n N, got '%s'",
                   cfg->values[KD_AXIS_N]);
  const size_t n = (size_t)whole;
  kd_problem pr;
  kd_status st = kd_config_problem(cfg, cfg->p, cfg->alpha, cfg->sigma, cfg->sigma, &pr);
  if (st != KD_OK) return st;
  size_t p = pr.p;
  kd_de de;
  double *g = malloc(sizeof(double) * p);
  st = g ? kd_de_solve(pr.lambda, p, (double)n, cfg->ridge, &de) : kd_fail(KD_ENOMEM, "out of memory");
  size_t k = 0;
  if (st == KD_OK) st = kd_make_parent_dirs(cfg->run.csv);
  if (st == KD_OK) {
    kd_optimal_gains(pr.lambda, p, &de, g);
    k = kd_optimal_mask_k(pr.lambda, p, &de);
    const weights_table t = {&pr, g, k};
    st = kd_file_replace_rendered(cfg->run.csv, render_weights, &t, 0);
  }
  if (st == KD_OK && table) {
    size_t amplified = 0, best = 0;
    for (size_t i = 0; i < p; ++i) {
      amplified += g[i] > 1;
      if (g[i] > g[best]) best = i;
    }
    fprintf(table,
            "# kdbench weights: p = %zu, n = %zu, ridge = %g: tau = %.6g, Omega = %.6g\n"
            "# optimal surrogate: %zu features amplified (gain > 1), the largest gain %.4f at "
            "i = %zu; the tail shrunk (gain at i = %zu: %.4g)\n"
            "# optimal 0-1 mask: keeps the top %zu features\n# wrote %s\n",
            p, n, cfg->ridge, de.tau, de.omega, amplified, g[best], best + 1, p, g[p - 1], k,
            cfg->run.csv);
  }
  free(g);
  kd_problem_free(&pr);
  return st;
}
