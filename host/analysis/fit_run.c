/* kdbench fit RUN: reads a stored run (fit_data.c), chooses the window (fit_window.c),
 * fits every pipeline (fit_groups.c, on host/analysis/fit.c), computes the weak-to-strong
 * metrics (fit_w2s.c) and the theory they need from the run's own scenario
 * (NAME.meta.json, fit_problem.c). Output: the tables (kd_fit_print) and NAME.fit.json
 * (host/analysis/fit_json.c); its command line is host/cli/fit_cli.c. */
#include "kdbench/fit_run.h"

#include <math.h>
#include <string.h>

#include "internal.h"
#include "kdbench/run_paths.h"

void kd_fit_options_default(kd_fit_options *o) {
  *o = (kd_fit_options){.x = NULL, .lo = NAN, .hi = NAN, .bootstrap = 2000, .seed = 1};
}

kd_status kd_fit_run(const char *run, const kd_fit_options *o, kd_fit_result *res, FILE *log) {
  memset(res, 0, sizeof *res);
  kd_fit_data d = {0};
  kd_fit_ctx c = {.d = &d, .o = o, .res = res};
  c.ps.d = &d;
  kd_status st = kd_run_stem(run, d.stem, sizeof d.stem);
  if (st == KD_OK) {
    const char *slash = strrchr(d.stem, '/');
    snprintf(res->run, sizeof res->run, "%.255s", slash ? slash + 1 : d.stem);
    st = kd_fit_data_load(&d, log);
  }
  if (st == KD_OK) {
    memcpy(res->scenario_hash, d.hash, 17);
    int x = o->x ? kd_axis_parse(o->x) : (int)d.axes[0], found = 0;
    for (int i = 0; i < d.naxes; ++i) found |= x >= 0 && d.axes[i] == (kd_axis)x;
    if (!found)
      st = kd_fail(KD_EINVAL, "fit: --x %s: not a swept axis of run %s (axes: %s%s%s)", o->x,
                   res->run, kd_axis_name(d.axes[0]), d.naxes > 1 ? ", " : "",
                   d.naxes > 1 ? kd_axis_name(d.axes[1]) : "");
    c.x = (kd_axis)x;
  }
  if (st == KD_OK && (o->bootstrap > 0 && o->bootstrap < 100))
    st = kd_fail(KD_EINVAL, "fit: --bootstrap %zu: use 0 (none) or at least 100", o->bootstrap);
  if (st == KD_OK) {
    snprintf(res->x, sizeof res->x, "%s", kd_axis_name(c.x));
    res->window_lo = o->lo, res->window_hi = o->hi;
    kd_fit_window_text(&c, res->window, sizeof res->window);
    res->bootstrap = o->bootstrap, res->seed = o->seed;
    st = kd_fit_steps_all(&c);
  }
  /* the scaling laws of the pipelines of one row (a run of pipelines with several rows
   * alone has only their slopes) */
  int one_row = 0;
  for (size_t i = 0; i < d.npoints; ++i) one_row |= kd_fit_any_row(&d.points[i]) != NULL;
  if (st == KD_OK && !one_row && !res->nsteps && d.npoints > 0) /* curriculum's checkpoints */
    st = kd_fail(KD_EINVAL, "fit: run %s: nothing to fit (its rows are neither one per "
                 "pipeline and point nor steps 1, 2, ... of a group)", res->run);
  if (st == KD_OK && (one_row || !res->nsteps)) st = kd_fit_all(&c);
  if (st == KD_OK) st = kd_fit_w2s_all(&c);
  if (st == KD_OK) st = kd_fit_crossings(&c);
  if (st == KD_OK) {
    snprintf(res->target, sizeof res->target, "%s",
             res->floor ? "mean excess risk less the label-noise floor sigma^2 (1 - Omega)/Omega "
                          "of the finite-p theory (ridgeless rows with sigma > 0; the weak model "
                          "as is); a noiseless run (--sigma 0) needs no subtraction"
                        : "mean excess risk");
    if (o->no_floor)
      st = kd_fit_note(res,
                "--no-floor: noisy ridgeless risks approach the floor "
                "sigma^2 (alpha - 1), not zero: the exponent is not the "
                "continuum one");
  }
  kd_fit_problems_free(&c.ps);
  kd_fit_data_free(&d);
  if (st != KD_OK) kd_fit_result_free(res);
  return st;
}
