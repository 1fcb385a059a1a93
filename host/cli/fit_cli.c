/* The command line of `kdbench fit RUN`: options -> kd_fit_options, the tables on
 * standard output, the fit written to RUN.fit.json (or --out FILE). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/file_io.h"
#include "kdbench/fit_run.h"
#include "kdbench/number.h"
#include "kdbench/report.h"
#include "kdbench/run_paths.h"

/* in the errors: the synopsis on one line */
static const char *const fit_usage =
    "usage: kdbench fit RUN [--x AXIS] [--window LO:HI] [--bootstrap B] [--seed S] [--no-floor] "
    "[--out FILE] [--quiet]";

static const char *const fit_help =
    "usage: kdbench fit RUN [--x AXIS] [--window LO:HI] [--bootstrap B] [--seed S]\n"
    "                       [--no-floor] [--out FILE] [--quiet]\n"
    "Scaling-law fits and weak-to-strong metrics of a stored run (RUN: its stem or any\n"
    "of its files; it reads NAME.jsonl and NAME.meta.json). For every pipeline (and\n"
    "every value of a second swept axis): risk ~ C x^-exponent by least squares of\n"
    "log risk on log x over the window, the exponent's 95 % CI, R^2, local exponents,\n"
    "the same fit of the theory column and the continuum-limit exponent; where the\n"
    "run has strong and w2s rows, the weak-to-strong table, and, along a swept n or\n"
    "m, where w2s crosses strong (the first sign change of w2s - strong, linear in\n"
    "log x, with a 95 % CI from the paired interval); for the recursive pipeline, the\n"
    "slope of the risk against the generation per schedule and point (95 % CI over\n"
    "trials with --raw, else the t-interval). Rows flagged peak or near-peak\n"
    "never enter a fit. Prints the tables and writes them to NAME.fit.json, which\n"
    "kdbench report RUN turns into more tables.\n"
    "  --x AXIS        the swept axis to fit against (default: the run's first, its\n"
    "                  x axis)\n"
    "  --window LO:HI  only the points with LO <= x <= HI; either end may be left\n"
    "                  empty (25: or :160). Default: n <= p/4 on an n axis, every\n"
    "                  point on another\n"
    "  --bootstrap B   replicates of the bootstrap over trials that gives the exponent's\n"
    "                  CI (default 2000; 0, or at least 100). It needs every trial's risk\n"
    "                  (a run made with --raw); without them, or with 0, the CI is the\n"
    "                  regression's t-interval, and the table says so\n"
    "  --seed S        the bootstrap's seed (default 1)\n"
    "  --no-floor      fit the risk itself. By default a ridgeless student's risk with\n"
    "                  label noise is fitted as its excess over the label-noise term\n"
    "                  sigma^2 (1 - Omega)/Omega (the floor)\n"
    "  --out FILE      write the fit to FILE (a .json name) instead of NAME.fit.json,\n"
    "                  e.g. to keep fits of several windows; kdbench report reads\n"
    "                  NAME.fit.json only\n"
    "  --quiet         no tables and no 'wrote' line on standard output\n"
    "  --help          this text\n"
    "Bad input: a one-line error and exit status 2, nothing written.\n";

static kd_status parse_window(const char *text, kd_fit_options *o) {
  const char *colon = strchr(text, ':');
  o->lo = o->hi = NAN;
  if (!colon)
    return kd_fail(KD_EINVAL, "fit: --window '%s': expected LO:HI (either may be empty)", text);
  if (colon > text && kd_number_parse_span(text, (size_t)(colon - text), &o->lo) != KD_NUM_OK)
    return kd_fail(KD_EINVAL, "fit: --window '%s': LO is not a number", text);
  if (colon[1] && kd_number_parse(colon + 1, &o->hi) != KD_NUM_OK)
    return kd_fail(KD_EINVAL, "fit: --window '%s': HI is not a number", text);
  if (isnan(o->lo) && isnan(o->hi))
    return kd_fail(KD_EINVAL, "fit: --window '%s': give LO, HI or both", text);
  if (o->lo > o->hi) return kd_fail(KD_EINVAL, "fit: --window '%s': LO > HI", text);
  return KD_OK;
}

static kd_status parse_count(const char *flag, const char *text, unsigned long long *out) {
  uint64_t x = 0;
  if (kd_whole_parse(text, &x) != KD_NUM_OK)
    return kd_fail(KD_EINVAL, "fit: %s '%s': not a non-negative integer", flag, text);
  *out = x;
  return KD_OK;
}

/* A .json name, so that --out cannot replace a run's CSV, JSON Lines or metadata. */
static kd_status check_out(const char *path) {
  size_t n = strlen(path);
  int json = n > 5 && !strcmp(path + n - 5, ".json") && path[n - 6] != '/';
  int meta = n >= 10 && !strcmp(path + n - 10, ".meta.json");
  if (!json || meta)
    return kd_fail(KD_EINVAL, "fit: --out '%s': expected a .json file name (not a run's .meta.json)",
                   path);
  return KD_OK;
}

typedef struct {
  const char *run, *out;
  int quiet;
} fit_args;

static kd_status parse_args(int argc, char **argv, fit_args *a, kd_fit_options *o) {
  kd_fit_options_default(o);
  *a = (fit_args){0};
  for (int i = 1; i < argc; ++i) {
    const char *f = argv[i];
    unsigned long long v = 0;
    kd_status st = KD_OK;
    if (!strcmp(f, "--no-floor")) {
      o->no_floor = 1;
      continue;
    }
    if (!strcmp(f, "--quiet")) {
      a->quiet = 1;
      continue;
    }
    if (f[0] != '-') {
      if (a->run) return kd_fail(KD_EINVAL, "fit: a second run '%s' (%s)", f, fit_usage);
      a->run = f;
      continue;
    }
    if (strcmp(f, "--x") && strcmp(f, "--window") && strcmp(f, "--bootstrap") &&
        strcmp(f, "--seed") && strcmp(f, "--out"))
      return kd_fail(KD_EINVAL, "fit: unknown option '%s' (%s)", f, fit_usage);
    if (i + 1 >= argc) return kd_fail(KD_EINVAL, "fit: %s needs a value (%s)", f, fit_usage);
    const char *val = argv[++i];
    if (!strcmp(f, "--x"))
      o->x = val;
    else if (!strcmp(f, "--window"))
      st = parse_window(val, o);
    else if (!strcmp(f, "--bootstrap") && !(st = parse_count(f, val, &v)))
      o->bootstrap = (size_t)v;
    else if (!strcmp(f, "--seed") && !(st = parse_count(f, val, &v)))
      o->seed = v;
    else if (!strcmp(f, "--out") && !(st = check_out(val)))
      a->out = val;
    if (st != KD_OK) return st;
  }
  if (!a->run) return kd_fail(KD_EINVAL, "fit: no run given (%s)", fit_usage);
  return KD_OK;
}

int kd_fit_main(int argc, char **argv) {
  fit_args a;
  kd_fit_options o;
  kd_fit_result res;
  char stem[4096], path[4200];
  for (int i = 1; i < argc; ++i)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(fit_help, stdout);
      return 0;
    }
  kd_status st = parse_args(argc, argv, &a, &o);
  if (st == KD_OK) st = kd_run_stem(a.run, stem, sizeof stem);
  if (st == KD_OK && a.out) st = kd_run_path(a.out, "", path, sizeof path);
  else if (st == KD_OK) st = kd_run_path(stem, ".fit.json", path, sizeof path);
  if (st == KD_OK) st = kd_fit_run(a.run, &o, &res, stderr);
  if (st == KD_OK) {
    if (!a.quiet) kd_fit_print(&res, stdout);
    if (a.out) st = kd_make_parent_dirs(path);
    if (st == KD_OK) st = kd_fit_write_json(&res, path);
    if (st == KD_OK && !a.quiet) printf("wrote %s\n", path);
    kd_fit_result_free(&res);
  }
  if (st == KD_OK) return 0;
  fprintf(stderr, "kdbench: %s\n", kd_last_error());
  return st == KD_ENUM ? 1 : 2;
}
