/* The sweep runner: the n axis, point by point, theory beside simulation, written
 * to a tidy CSV and a readable table. */
#include "kdbench/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kdbench/backend.h"
#include "kdbench/point.h"
#include "kdbench/stats.h"

void kd_sweep_default(kd_sweep_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->spectrum = (kd_spectrum_spec){.kind = KD_SPEC_POWERLAW, .alpha = 2.0};
  cfg->beta = (kd_beta_spec){.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  cfg->p = 500;
  cfg->sigma = 0.5;
  cfg->teacher_sigma = -1;
  cfg->ridge = 0;
  cfg->m = 5000;
  cfg->k = 0;
  cfg->pipelines = KD_PIPES_DEFAULT;
  cfg->trials = 200;
  cfg->seed = 1;
  cfg->backend = "auto";
  cfg->csv_path = "results/sweep-n.csv";
}

/* Geometric segments between the anchors 20, p and 2000, about 8 points a decade. */
kd_status kd_default_n_grid(size_t p, size_t **n, size_t *count) {
  double anchors[3] = {20, 2000, 0};
  size_t na = 2;
  if (p > 20 && p < 2000) {
    anchors[1] = (double)p;
    anchors[2] = 2000;
    na = 3;
  }
  size_t cap = 64, len = 0;
  size_t *v = malloc(sizeof(size_t) * cap);
  if (!v) return kd_fail(KD_ENOMEM, "out of memory");
  v[len++] = 20;
  for (size_t s = 0; s + 1 < na; ++s) {
    double a = anchors[s], b = anchors[s + 1];
    int steps = (int)lround(8 * log10(b / a));
    if (steps < 1) steps = 1;
    for (int i = 1; i <= steps; ++i) {
      size_t x = (size_t)llround(a * pow(b / a, (double)i / steps));
      if (x != v[len - 1] && len < cap) v[len++] = x;
    }
  }
  *n = v;
  *count = len;
  return KD_OK;
}

size_t kd_available_memory(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    unsigned long long kb;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
        fclose(f);
        return (size_t)kb * 1024;
      }
    fclose(f);
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
}

/* ---- validation before any work ----------------------------------------------------- */

static kd_status check_memory(const kd_sweep_config *cfg, const size_t *n, size_t n_count,
                              size_t p) {
  size_t avail = kd_available_memory();
  if (avail == 0) return KD_OK;
  for (size_t i = 0; i < n_count; ++i) {
    size_t need = kd_stage_bytes(n[i], p, 4);
    size_t weak = kd_stage_bytes(cfg->m, cfg->k ? cfg->k : p, 1);
    if (weak > need) need = weak;
    if (need > avail)
      return kd_fail(KD_ENOMEM,
                     "point n = %zu, p = %zu (m = %zu) needs %.2f GiB but only %.2f GiB "
                     "of memory is available",
                     n[i], p, cfg->m, need / 1073741824.0, avail / 1073741824.0);
  }
  return KD_OK;
}

static kd_status validate(const kd_sweep_config *cfg) {
  if (cfg->n && cfg->n_count == 0) return kd_fail(KD_EINVAL, "the n axis is empty");
  for (size_t i = 0; cfg->n && i < cfg->n_count; ++i)
    if (cfg->n[i] == 0) return kd_fail(KD_EINVAL, "n must be a positive integer, got 0");
  if (cfg->trials == 0 || cfg->trials >= KD_MAX_TRIALS)
    return kd_fail(KD_EINVAL, "trials must be between 1 and %u", KD_MAX_TRIALS - 1);
  if (!(cfg->ridge >= 0) || !isfinite(cfg->ridge))
    return kd_fail(KD_EINVAL, "ridge must be >= 0, got %g", cfg->ridge);
  if (cfg->m == 0) return kd_fail(KD_EINVAL, "m must be a positive integer");
  return KD_OK;
}

/* ---- writers ---------------------------------------------------------------------------- */

static const char *CSV_HEADER =
    "pipeline,n,p,m,k,ridge,alpha,signal_exp,sigma,trials,sim_mean,sim_se,sim_ci_low,"
    "sim_ci_high,sim_median,theory,ratio,fallbacks,theory_kind,flag\n";

static void put_num(FILE *f, double x) {
  if (isnan(x)) return; /* empty cell */
  if (isinf(x))
    fputs(x > 0 ? "inf" : "-inf", f);
  else
    fprintf(f, "%.10g", x);
}

static void put_sep_num(FILE *f, double x) {
  fputc(',', f);
  put_num(f, x);
}

/* "peak": ridgeless at |n - p| <= 1, the mean is meaningless (use the median);
 * "near-peak": |n - p| < p/10 where the deterministic equivalent has a finite-size
 * error growing like 1/|n - p| (kd-theory.md section 12). */
static const char *flag_of(const kd_plan *pl, int q, size_t p) {
  if (pl->peak[q]) return "peak";
  if (pl->pt.ridge == 0 && q != KD_PIPE_WEAK && pl->kind[q] == KD_THEORY_DE &&
      (double)labs((long)pl->pt.n - (long)p) < p / 10.0)
    return "near-peak";
  return "";
}

static void write_csv_row(FILE *f, const kd_sweep_config *cfg, const kd_problem *pr,
                          const kd_plan *pl, int q, const kd_summary *s, long fallbacks) {
  int uses_weak = q == KD_PIPE_W2S || q == KD_PIPE_WEAK;
  int powerlaw = cfg->spectrum.kind == KD_SPEC_POWERLAW;
  int signal = cfg->beta.kind == KD_BETA_POWERLAW;
  double ratio = isfinite(pl->theory[q]) && pl->theory[q] > 0 ? s->mean / pl->theory[q] : NAN;
  fprintf(f, "%s,%zu,%zu,", kd_pipeline_name((kd_pipeline)q), pl->pt.n, pr->p);
  if (uses_weak) fprintf(f, "%zu,%zu", pl->pt.m, pl->pt.k);
  else fputc(',', f);
  put_sep_num(f, pl->pt.ridge);
  put_sep_num(f, powerlaw ? cfg->spectrum.alpha : NAN);
  put_sep_num(f, signal ? cfg->beta.signal_exp : NAN);
  put_sep_num(f, q == KD_PIPE_STRONG || q == KD_PIPE_WEAK ? pr->sigma : pr->teacher_sigma);
  fprintf(f, ",%zu", s->count);
  put_sep_num(f, s->mean);
  put_sep_num(f, s->se);
  put_sep_num(f, s->ci_low);
  put_sep_num(f, s->ci_high);
  put_sep_num(f, s->median);
  put_sep_num(f, pl->theory[q]);
  put_sep_num(f, ratio);
  fprintf(f, ",%ld,%s,%s\n", fallbacks, pl->kind[q] == KD_THEORY_EXACT ? "exact" : "de",
          flag_of(pl, q, pr->p));
}

static void write_table_header(FILE *t, const kd_sweep_config *cfg, const kd_problem *pr,
                               const char *backend) {
  fprintf(t, "# kdbench sweep over n: p = %zu, ", pr->p);
  if (cfg->spectrum.kind == KD_SPEC_POWERLAW) fprintf(t, "lambda_i = i^-%g, ", cfg->spectrum.alpha);
  if (cfg->beta.kind == KD_BETA_POWERLAW)
    fprintf(t, "lambda_i beta_i^2 = i^-%g, ", cfg->beta.signal_exp);
  fprintf(t, "sigma = %g, teacher sigma = %g, ridge = %g, m = %zu, %u trials, seed %llu\n",
          pr->sigma, pr->teacher_sigma, cfg->ridge, cfg->m, cfg->trials,
          (unsigned long long)cfg->seed);
  fprintf(t, "# backend: %s\n", backend);
  fprintf(t, "# risk = excess risk (b - beta*)' Sigma (b - beta*); CI = 95%% t-interval\n");
  fprintf(t, "%6s  %-8s %5s  %11s  %9s  %11s  %6s  %-5s  %s\n", "n", "pipeline", "k",
          "sim_mean", "+-CI95", "theory", "ratio", "kind", "flag");
}

static void write_table_row(FILE *t, const kd_plan *pl, int q, const kd_summary *s, size_t p,
                            long fallbacks) {
  char k[24] = "-";
  if (q == KD_PIPE_W2S || q == KD_PIPE_WEAK) snprintf(k, sizeof k, "%zu", pl->pt.k);
  if (q == KD_PIPE_MASK) snprintf(k, sizeof k, "%zu", pl->k_mask);
  double half = s->ci_high - s->mean;
  fprintf(t, "%6zu  %-8s %5s  %11.5g  %9.2g  %11.5g  %6.3f  %-5s  %s", pl->pt.n,
          kd_pipeline_name((kd_pipeline)q), k, s->mean, half, pl->theory[q],
          isfinite(pl->theory[q]) ? s->mean / pl->theory[q] : NAN,
          pl->kind[q] == KD_THEORY_EXACT ? "exact" : "de", flag_of(pl, q, p));
  if (pl->peak[q]) fprintf(t, " (median %.4g)", s->median);
  if (fallbacks) fprintf(t, " [%ld fallbacks]", fallbacks);
  fputc('\n', t);
}

/* ---- the run ------------------------------------------------------------------------------ */

static kd_status make_parent_dirs(const char *path) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) return kd_fail(KD_EIO, "%s: path too long", path);
  strcpy(buf, path);
  for (char *s = buf + 1; *s; ++s) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return kd_fail(KD_EIO, "%s: cannot create directory %s: %s", path, buf, strerror(errno));
    *s = '/';
  }
  return KD_OK;
}

kd_status kd_sweep_run(const kd_sweep_config *cfg, FILE *table) {
  kd_status st = validate(cfg);
  if (st != KD_OK) return st;
  kd_problem pr;
  double tsig = cfg->teacher_sigma < 0 ? cfg->sigma : cfg->teacher_sigma;
  st = kd_problem_init(&pr, &cfg->spectrum, &cfg->beta, cfg->p, cfg->sigma, tsig, cfg->seed);
  if (st != KD_OK) return st;
  if (cfg->k > pr.p) {
    kd_problem_free(&pr);
    return kd_fail(KD_EINVAL, "k = %zu exceeds p = %zu", cfg->k, pr.p);
  }
  size_t *grid = NULL, n_count = cfg->n_count;
  const size_t *n = cfg->n;
  if (!n) {
    st = kd_default_n_grid(pr.p, &grid, &n_count);
    n = grid;
  }
  if (st == KD_OK) st = check_memory(cfg, n, n_count, pr.p);
  kd_backend be = {0};
  if (st == KD_OK) st = kd_backend_open(cfg->backend, &be);
  if (st != KD_OK) {
    free(grid);
    kd_problem_free(&pr);
    return st;
  }

  char partial[4096];
  snprintf(partial, sizeof partial, "%s.partial", cfg->csv_path);
  FILE *csv = NULL;
  st = make_parent_dirs(cfg->csv_path);
  if (st == KD_OK && !(csv = fopen(partial, "w")))
    st = kd_fail(KD_EIO, "%s: cannot write: %s", cfg->csv_path, strerror(errno));
  double *risks = malloc(sizeof(double) * KD_NPIPES * cfg->trials);
  if (st == KD_OK && !risks) st = kd_fail(KD_ENOMEM, "cannot allocate %u trials", cfg->trials);

  char desc[512] = "";
  be.type->describe(be.state, desc, sizeof desc);
  if (st == KD_OK) {
    fputs(CSV_HEADER, csv);
    if (table) write_table_header(table, cfg, &pr, desc);
  }
  size_t done = 0;
  kd_teacher_cache cache = {0};
  for (size_t i = 0; i < n_count && st == KD_OK; ++i) {
    kd_point pt = {.n = n[i], .ridge = cfg->ridge, .m = cfg->m, .k = cfg->k};
    kd_plan pl;
    st = kd_plan_point(&pr, &pt, cfg->pipelines, &pl);
    if (st != KD_OK) break;
    long fallbacks[KD_NPIPES];
    st = kd_run_point(&be, &pr, 0, &pl, cfg->seed, cfg->trials, &cache, NULL, risks, fallbacks);
    for (int q = 0; q < KD_NPIPES && st == KD_OK; ++q) {
      if (!((cfg->pipelines >> q) & 1u)) continue;
      kd_summary s;
      kd_summarize(risks + (size_t)q * cfg->trials, cfg->trials, &s);
      write_csv_row(csv, cfg, &pr, &pl, q, &s, fallbacks[q]);
      if (table) write_table_row(table, &pl, q, &s, pr.p, fallbacks[q]);
    }
    if (table) fflush(table);
    kd_plan_free(&pl);
    if (st == KD_OK) ++done;
  }

  free(risks);
  kd_teacher_cache_free(&cache);
  if (csv && fclose(csv) != 0 && st == KD_OK)
    st = kd_fail(KD_EIO, "%s: write failed: %s", partial, strerror(errno));
  if (csv && st == KD_OK && rename(partial, cfg->csv_path) != 0)
    st = kd_fail(KD_EIO, "%s: cannot rename from %s: %s", cfg->csv_path, partial, strerror(errno));
  /* Finished points are never thrown away: a run that fails after some points
   * keeps them in the .partial file and says so. */
  if (csv && st != KD_OK && done == 0) unlink(partial);
  if (csv && st != KD_OK && done > 0)
    fprintf(stderr, "kdbench: %zu finished point(s) kept in %s\n", done, partial);
  kd_backend_close(&be);
  kd_problem_free(&pr);
  free(grid);
  return st;
}
