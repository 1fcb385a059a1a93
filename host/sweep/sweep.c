/* The sweep runner: the grid, point by point, theory beside simulation, each
 * finished point on disk before the next starts; points already in the output are
 * skipped; a signal stops between trials. This file is the run's life: everything
 * checked and opened before the first point, the walk (sweep_walk.c, sweep_theory.c),
 * the last word and the cleanup. */
#include "kdbench/sweep.h"

#include <cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kdbench/run_paths.h"
#include "kdbench/stop.h"
#include "internal.h"

/* SIGINT / SIGTERM: host/base/stop.c */
int kd_sweep_stop_signal(void) { return *kd_stop_flag(); }

/* Everything before the first point: checks, the grid, the shard, the backend, the
 * memory check and the run's files. */
static kd_status sweep_open(kd_sweep *s, const kd_config *cfg) {
  kd_config *c = &s->c;
  *c = *cfg;
  kd_status st = kd_config_check(c);
  if (st == KD_OK) st = kd_config_resolve_p(c);
  if (st == KD_OK) st = kd_grid_build(c, &s->g);
  /* --theory-only opens no backend and runs no trials: no memory check, one unit of cost
   * a point */
  if (st == KD_OK && !c->theory_only) st = kd_backend_open(c->run.backend, &s->be);
  if (st == KD_OK && !c->theory_only) st = kd_sweep_bound_memory(c, &s->g, &s->be);
  if (st == KD_OK) st = kd_sweep_check_problems(c, &s->g);
  if (st == KD_OK) st = kd_scenario_id_make(c, &s->g, &s->id);
  size_t scenario_len = 0;
  FILE *sf = open_memstream(&s->scenario, &scenario_len);
  if (sf) {
    kd_config_print(c, sf, 0);
    fclose(sf);
  }
  if (st == KD_OK) st = kd_shard_open(&s->sh, c, &s->g);
  kd_memory peak;
  s->cost = malloc(sizeof(double) * (s->g.count ? s->g.count : 1));
  if (st == KD_OK && !s->cost) st = kd_fail(KD_ENOMEM, "out of memory");
  for (size_t i = 0; st == KD_OK && c->theory_only && i < s->g.count; ++i) s->cost[i] = 1;
  if (st == KD_OK && !c->theory_only)
    st = kd_sweep_model_memory(c, &s->g, &s->be, 1, &peak, s->cost, &s->rows);
  if (st == KD_OK && c->theory_only) st = kd_sweep_point_rows(c, &s->g, &s->rows);
  if (st == KD_OK) st = kd_sweep_null_risks(c, &s->g, &s->null_risk);
  if (st == KD_OK && c->run.extend) {
    st = kd_sweep_open_extended(s);
    s->store_open = st == KD_OK;
  } else if (st == KD_OK) {
    st = kd_run_open(&s->rs, s->sh.csv, &s->id, &s->g, s->rows, c->run.force, stderr);
    s->store_open = st == KD_OK;
    if (s->store_open) st = kd_shard_save_scenario(&s->sh, c); /* shard */
  }
  /* before this process first writes the metadata, which then says who made the rest */
  char stem[4096];
  if (st == KD_OK && (s->rs.n_rows || s->n_part) && kd_run_stem(s->sh.csv, stem, sizeof stem) == KD_OK)
    s->earlier = kd_run_meta_earlier(stem);
  s->risks = malloc(sizeof(double) * (s->rows ? s->rows : 1) * c->trials);
  s->wall = malloc(sizeof(double) * (s->sh.n_points ? s->sh.n_points : 1));
  if (st == KD_OK && (!s->risks || !s->wall))
    st = kd_fail(KD_ENOMEM, "cannot allocate %u trials", c->trials);
  return st;
}

static void sweep_close(kd_sweep *s) {
  for (size_t i = 0; i < s->n_part; ++i) kd_row_free(&s->part[i]);
  free(s->part);
  kd_teacher_cache_free(&s->cache);
  if (s->ps.valid) kd_problem_free(&s->ps.pr);
  if (s->store_open) kd_run_close(&s->rs);
  kd_shard_close(&s->sh); /* shard */
  kd_backend_close(&s->be);
  kd_grid_free(&s->g);
  free(s->scenario);
  free(s->risks);
  free(s->wall);
  free(s->cost);
  free(s->null_risk);
  cJSON_Delete(s->earlier);
}

/* The shard's line (when sharded) and the live table's caption and header. */
static void sweep_announce(const kd_sweep *s, FILE *table) {
  if (!table) return;
  char desc[512] = "none (theory only)";
  if (s->be.type) s->be.type->describe(s->be.state, desc, sizeof desc);
  if (s->sh.spec.count) /* shard */
    fprintf(table, "# shard %u/%u%s: %zu of %zu points (%.1f %% of the flop-model cost), in %s\n",
            s->sh.spec.index, s->sh.spec.count, s->sh.from_slurm ? " (the Slurm array task)" : "",
            s->sh.n_points, s->g.count, 100 * s->sh.cost_share, s->sh.csv);
  kd_sweep_table_header(table, &s->c, desc);
}

/* The run's last word: a stop or an error says what was kept (or, when nothing finished,
 * removes the files, so that nothing looks like a run); a resumed run says so. */
static kd_status sweep_verdict(const kd_sweep *s, const kd_run_meta *meta, kd_status st, FILE *table) {
  if (st == KD_ESTOP)
    return kd_fail(KD_ESTOP, "stopped by %s after %zu of %zu points; they are in %s: run the same "
                   "command again to resume", *kd_stop_flag() == SIGTERM ? "SIGTERM" : "SIGINT",
                   meta->points_done, s->sh.n_points, s->sh.csv);
  if (st != KD_OK && meta->points_done == 0 && s->rs.n_rows == 0) {
    unlink(s->rs.csv_path);
    unlink(s->rs.jsonl_path);
    unlink(s->rs.meta_path);
  } else if (st != KD_OK && meta->points_done > 0) /* one line: the error, then what was kept */
    return kd_fail(st, "%s; %zu finished point(s) kept in %s: run the same command again to resume",
                   kd_last_error(), meta->points_done, s->sh.csv);
  else if (st == KD_OK && meta->points_resumed && table)
    fprintf(table, "# %zu of %zu points were already in %s (same scenario) and were not recomputed\n",
            meta->points_resumed, s->sh.n_points, s->sh.csv);
  return st;
}

/* The run proper, on a sweep that sweep_open opened. */
static kd_status sweep_points(kd_sweep *s, const char *command, FILE *table) {
  const kd_config *c = &s->c;
  sweep_announce(s, table);
  const kd_run_meta_shard shard_meta = {s->sh.spec, s->sh.from_slurm, s->sh.grid_points,
                                        s->sh.cost_share, s->sh.points, s->sh.n_points};
  kd_run_meta meta = {.cfg = c, .command = command, .scenario = s->scenario ? s->scenario : "",
                      .id = &s->id, .backend = &s->be, .started = time(NULL),
                      .points_total = s->sh.n_points, .rows_per_point = s->rows,
                      .null_risk = s->null_risk, .grid_points = s->g.count,
                      .wall_s = s->wall, .resumed_from = s->earlier,
                      .shard = s->sh.spec.count ? &shard_meta : NULL};
  double cost_total = 0;
  for (size_t j = 0; j < s->sh.n_points; ++j) {
    s->wall[j] = NAN;
    cost_total += s->cost[s->sh.points[j]];
  }
  kd_progress pg;
  kd_progress_start(&pg, stderr, !c->run.quiet && isatty(STDERR_FILENO), c->run.verbose,
                    s->sh.n_points, cost_total);
  kd_sweep_ctx x = {.c = c, .g = &s->g, .be = &s->be, .rs = &s->rs, .meta = &meta, .wall = s->wall,
                    .cost = s->cost, .table = table, .pg = &pg};
  kd_stop_arm(s->sh.csv);
  kd_status st = c->theory_only ? kd_sweep_walk_theory(s, &x) : kd_sweep_walk(s, &x);
  kd_progress_end(&pg);
  kd_stop_disarm();
  if (st == KD_OK) {
    meta.finished = time(NULL);
    st = kd_run_meta_write(s->rs.meta_path, &meta);
  }
  return sweep_verdict(s, &meta, st, table);
}

kd_status kd_sweep_run(const kd_config *cfg, const char *command, FILE *table) {
  kd_sweep s = {0};
  kd_status st = sweep_open(&s, cfg);
  if (st == KD_OK) st = sweep_points(&s, command, table);
  sweep_close(&s);
  return st;
}
