/* The problem of a row, rebuilt from the run's scenario, for the theory a fit needs
 * (the noise floor, the weak-to-strong theory). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kdbench/scenario.h"

void kd_fit_problems_free(kd_fit_problems *ps) {
  for (size_t i = 0; i < ps->n; ++i) kd_problem_free(&ps->e[i].pr);
  free(ps->e);
}

/* Prefixes the last error with the context of the rebuild. */
static kd_status rebuild_error(kd_status st, const kd_fit_data *d) {
  char why[512];
  snprintf(why, sizeof why, "%s", kd_last_error());
  return kd_fail(st, "fit: rebuilding the problem of run %s from its scenario: %s", d->stem, why);
}

/* The spectrum and beta* files the run read must hold the same values now, or the
 * theory would be of other values than the rows (runs that record no hash parts
 * cannot be checked). */
static kd_status same_files(const kd_fit_problems *ps) {
  const kd_scenario_id *was = &ps->d->id;
  if (was->numerics < 0 || (!was->spectrum[0] && !was->beta[0])) return KD_OK;
  kd_scenario_id now, then;
  kd_status st = kd_scenario_hash(&ps->cfg, &now);
  if (st != KD_OK) return st;
  then = now; /* now, with the files' values of the run: only they can differ below */
  memcpy(then.spectrum, was->spectrum, sizeof then.spectrum);
  memcpy(then.beta, was->beta, sizeof then.beta);
  if (!strcmp(then.spectrum, now.spectrum) && !strcmp(then.beta, now.beta)) return KD_OK;
  char why[1024];
  kd_scenario_id_diff(&then, &now, why, sizeof why);
  return kd_fail(KD_EINVAL, "fit: run %s: %s from those it was run with: restore the file, or "
                 "run the sweep again", ps->d->stem, why);
}

kd_status kd_fit_problem_of(kd_fit_problems *ps, size_t p, double alpha, const kd_problem **out) {
  for (size_t i = 0; i < ps->n; ++i)
    if (ps->e[i].p == p && (ps->e[i].alpha == alpha || (isnan(alpha) && isnan(ps->e[i].alpha)))) {
      *out = &ps->e[i].pr;
      return KD_OK;
    }
  kd_status st = KD_OK;
  if (!ps->loaded) {
    kd_config_default(&ps->cfg);
    st = kd_scenario_load_text(&ps->cfg, ps->d->scenario, "scenario of the metadata");
    if (st != KD_OK) return rebuild_error(st, ps->d);
    if ((st = same_files(ps)) != KD_OK) return st;
    ps->loaded = 1;
  }
  kd_fit_problem_entry e = {.p = p, .alpha = alpha};
  st = kd_config_problem(&ps->cfg, p, isnan(alpha) ? ps->cfg.alpha : alpha, 0.0, 0.0, &e.pr);
  if (st != KD_OK) return rebuild_error(st, ps->d);
  e.isotropic = e.pr.lambda[0] == e.pr.lambda[p - 1];
  kd_fit_problem_entry *bigger = realloc(ps->e, (ps->n + 1) * sizeof *bigger);
  if (!bigger) {
    kd_problem_free(&e.pr);
    return kd_fail(KD_ENOMEM, "fit: out of memory");
  }
  ps->e = bigger;
  ps->e[ps->n] = e;
  *out = &ps->e[ps->n++].pr;
  return KD_OK;
}

double kd_noise_floor(const kd_de *de, size_t p, int isotropic, double sigma) {
  double s2 = sigma * sigma, n = de->n, P = (double)p;
  if (s2 == 0) return 0.0;
  if (de->ridge == 0 && n > P + 1.0) return s2 * P / (n - P - 1.0);
  if (de->ridge == 0 && isotropic && P > n + 1.0) return s2 * n / (P - n - 1.0);
  return de->omega > 0 ? s2 * (de->df2 / n) / de->omega : INFINITY;
}

kd_status kd_fit_row_floor(kd_fit_problems *ps, const kd_row *r, double *floor) {
  *floor = 0.0;
  if (r->pipeline == KD_PIPE_WEAK || r->ridge != 0 || !(r->sigma > 0)) return KD_OK;
  const kd_problem *pr;
  kd_de de;
  kd_status st = kd_fit_problem_of(ps, r->p, r->alpha, &pr);
  if (st == KD_OK) st = kd_de_solve(pr->lambda, pr->p, (double)r->n, r->ridge, &de);
  if (st != KD_OK) return st;
  *floor = kd_noise_floor(&de, pr->p, pr->lambda[0] == pr->lambda[pr->p - 1], r->sigma);
  return KD_OK;
}
