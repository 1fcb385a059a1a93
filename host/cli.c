/* Command-line parsing: flags -> kd_sweep_config, with one-line errors that name
 * the flag and the offending text. */
#include "kdbench/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/version.h"

const char *kd_cli_usage =
    "usage: kdbench --sweep n [options]\n"
    "\n"
    "Knowledge-distillation benchmark: Monte Carlo risk of ridge(less) students trained\n"
    "on ground-truth, surrogate or weak-teacher labels, beside its deterministic-\n"
    "equivalent (or exact) theory, for x ~ N(0, Sigma), Sigma diagonal.\n"
    "\n"
    "With no other flag, --sweep n runs the embedded default, the Figure 1 setting of\n"
    "Ildiz et al. (ICLR 2025): p = 500, lambda_i = i^-2, lambda_i beta*_i^2 = i^-1.5,\n"
    "sigma = 0.5, n on a log grid from 20 to 2000 through n = p, pipelines\n"
    "strong,optimal,mask,w2s, 200 trials, seed 1.\n"
    "\n"
    "Problem\n"
    "  --p N               features (default 500)\n"
    "  --spectrum KIND     powerlaw (lambda_i = i^-alpha, default) | isotropic[:LEVEL]\n"
    "                      | twolevel:K,A,B (K features at A, the rest at B)\n"
    "                      | file:PATH (one eigenvalue per line, non-increasing)\n"
    "  --alpha A           power-law exponent of the spectrum (default 2)\n"
    "  --beta KIND         powerlaw (lambda_i beta_i^2 = i^-b, default) | gauss\n"
    "                      (beta_i ~ N(0, 1/p) from the seed) | file:PATH (p values)\n"
    "  --signal-exp B      the b above (default 1.5)\n"
    "  --sigma S           noise of ground-truth labels (default 0.5)\n"
    "  --teacher-sigma S   noise of surrogate/teacher labels (default: --sigma)\n"
    "Student and teacher\n"
    "  --ridge L           student ridge; 0 = ridgeless (default 0). Ridge minimises\n"
    "                      (1/n)||y - Xb||^2 + L ||b||^2\n"
    "  --m M               weak teacher's sample size (default 5000)\n"
    "  --k K               weak teacher's features, the top K (default: the k that\n"
    "                      minimises the theoretical w2s risk for that m and n)\n"
    "  --pipelines LIST    comma list of strong, optimal, mask, w2s, weak\n"
    "                      (default strong,optimal,mask,w2s; weak = the teacher itself)\n"
    "Sweep\n"
    "  --sweep n           sweep the sample size n\n"
    "  --n LIST            comma list of n replacing the default grid\n"
    "  --trials T          Monte Carlo trials per point (default 200)\n"
    "  --seed S            64-bit seed (default 1); any point or trial can be\n"
    "                      regenerated alone from (seed, point, trial)\n"
    "  --backend B         cpu | cuda | auto (default auto: cuda when a GPU answers)\n"
    "Output\n"
    "  --csv FILE          tidy CSV, one row per n x pipeline (default results/sweep-n.csv)\n"
    "  --quiet             no table on standard output\n"
    "  --help, --version\n"
    "\n"
    "CSV columns: pipeline,n,p,m,k,ridge,alpha,signal_exp,sigma,trials,sim_mean,sim_se,\n"
    "sim_ci_low,sim_ci_high,sim_median,theory,ratio,fallbacks,theory_kind,flag.\n"
    "Risks are excess risks (b - beta*)' Sigma (b - beta*) (test risk = risk + sigma^2);\n"
    "ratio = sim_mean / theory; theory_kind is 'exact' where a finite-sample formula\n"
    "exists (ridgeless n > p + 1; isotropic p > n + 1) and 'de' (deterministic\n"
    "equivalent) elsewhere; flag is 'peak' at ridgeless |n - p| <= 1 (infinite expected\n"
    "risk: read the median) and 'near-peak' where |n - p| < p/10 and theory is 'de'.\n"
    "Bad input: a one-line error and exit status 2.\n";

enum {
  OPT_SWEEP = 256, OPT_N, OPT_P, OPT_ALPHA, OPT_SIGNAL, OPT_SIGMA, OPT_TSIGMA, OPT_RIDGE,
  OPT_M, OPT_K, OPT_PIPES, OPT_TRIALS, OPT_SEED, OPT_BACKEND, OPT_CSV, OPT_QUIET,
  OPT_HELP, OPT_VERSION, OPT_SPECTRUM, OPT_BETA,
};

static const struct option options[] = {
    {"sweep", required_argument, 0, OPT_SWEEP},
    {"n", required_argument, 0, OPT_N},
    {"p", required_argument, 0, OPT_P},
    {"alpha", required_argument, 0, OPT_ALPHA},
    {"signal-exp", required_argument, 0, OPT_SIGNAL},
    {"sigma", required_argument, 0, OPT_SIGMA},
    {"teacher-sigma", required_argument, 0, OPT_TSIGMA},
    {"ridge", required_argument, 0, OPT_RIDGE},
    {"m", required_argument, 0, OPT_M},
    {"k", required_argument, 0, OPT_K},
    {"pipelines", required_argument, 0, OPT_PIPES},
    {"trials", required_argument, 0, OPT_TRIALS},
    {"seed", required_argument, 0, OPT_SEED},
    {"backend", required_argument, 0, OPT_BACKEND},
    {"csv", required_argument, 0, OPT_CSV},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, OPT_HELP},
    {"version", no_argument, 0, OPT_VERSION},
    {"spectrum", required_argument, 0, OPT_SPECTRUM},
    {"beta", required_argument, 0, OPT_BETA},
    {0, 0, 0, 0},
};

/* ---- strict number parsing -------------------------------------------------------- */

static kd_status parse_double(const char *flag, const char *text, double *out) {
  char *end;
  errno = 0;
  double x = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(x))
    return kd_fail(KD_EINVAL, "--%s: not a number: '%s'", flag, text);
  *out = x;
  return KD_OK;
}

/* A positive integer (1e4 is accepted when it is an exact integer). */
static kd_status parse_count(const char *flag, const char *text, size_t *out) {
  double x = 0;
  if (parse_double(flag, text, &x) != KD_OK || x != floor(x) || x > 9007199254740992.0)
    return kd_fail(KD_EINVAL, "--%s: not an integer: '%s'", flag, text);
  if (x < 1) return kd_fail(KD_EINVAL, "--%s: must be a positive integer, got '%s'", flag, text);
  *out = (size_t)x;
  return KD_OK;
}

static kd_status parse_nonneg(const char *flag, const char *text, double *out) {
  kd_status st = parse_double(flag, text, out);
  if (st == KD_OK && *out < 0) return kd_fail(KD_EINVAL, "--%s: must be >= 0, got '%s'", flag, text);
  return st;
}

static kd_status parse_positive(const char *flag, const char *text, double *out) {
  kd_status st = parse_double(flag, text, out);
  if (st == KD_OK && !(*out > 0)) return kd_fail(KD_EINVAL, "--%s: must be positive, got '%s'", flag, text);
  return st;
}

static kd_status parse_seed(const char *text, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(text, &end, 0);
  if (end == text || *end != '\0' || errno == ERANGE || text[0] == '-')
    return kd_fail(KD_EINVAL, "--seed: not a non-negative 64-bit integer: '%s'", text);
  *out = x;
  return KD_OK;
}

static kd_status parse_n_list(const char *text, kd_cli *cli) {
  size_t count = 1;
  for (const char *s = text; *s; ++s) count += *s == ',';
  size_t *v = malloc(sizeof(size_t) * count);
  if (!v) return kd_fail(KD_ENOMEM, "out of memory");
  char *copy = strdup(text), *save = NULL, *tok;
  size_t len = 0;
  kd_status st = copy ? KD_OK : kd_fail(KD_ENOMEM, "out of memory");
  for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && st == KD_OK;
       tok = strtok_r(NULL, ",", &save))
    st = parse_count("n", tok, &v[len++]);
  if (st == KD_OK && len != count) st = kd_fail(KD_EINVAL, "--n: empty entry in '%s'", text);
  free(copy);
  if (st != KD_OK) {
    free(v);
    return st;
  }
  free(cli->n_owned);
  cli->n_owned = v;
  cli->cfg.n = v;
  cli->cfg.n_count = len;
  return KD_OK;
}

static kd_status parse_spectrum(const char *text, kd_spectrum_spec *s) {
  double a, b;
  size_t k;
  if (strcmp(text, "powerlaw") == 0) {
    s->kind = KD_SPEC_POWERLAW;
  } else if (strcmp(text, "isotropic") == 0) {
    s->kind = KD_SPEC_ISOTROPIC;
    s->level_a = 1.0;
  } else if (strncmp(text, "isotropic:", 10) == 0) {
    s->kind = KD_SPEC_ISOTROPIC;
    return parse_positive("spectrum", text + 10, &s->level_a);
  } else if (strncmp(text, "twolevel:", 9) == 0) {
    char tail;
    if (sscanf(text + 9, "%zu,%lf,%lf%c", &k, &a, &b, &tail) != 3 || !(a > 0) || !(b > 0))
      return kd_fail(KD_EINVAL, "--spectrum: expected twolevel:K,A,B with A, B > 0, got '%s'", text);
    *s = (kd_spectrum_spec){.kind = KD_SPEC_TWOLEVEL, .strong = k, .level_a = a, .level_b = b};
  } else if (strncmp(text, "file:", 5) == 0 && text[5]) {
    s->kind = KD_SPEC_FILE;
    s->path = text + 5;
  } else {
    return kd_fail(KD_EINVAL,
                   "--spectrum: unknown '%s' (expected powerlaw, isotropic[:LEVEL], "
                   "twolevel:K,A,B or file:PATH)", text);
  }
  return KD_OK;
}

static kd_status parse_beta(const char *text, kd_beta_spec *b) {
  if (strcmp(text, "powerlaw") == 0) b->kind = KD_BETA_POWERLAW;
  else if (strcmp(text, "gauss") == 0) b->kind = KD_BETA_GAUSS;
  else if (strncmp(text, "file:", 5) == 0 && text[5]) {
    b->kind = KD_BETA_FILE;
    b->path = text + 5;
  } else
    return kd_fail(KD_EINVAL, "--beta: unknown '%s' (expected powerlaw, gauss or file:PATH)", text);
  return KD_OK;
}

static kd_status apply(kd_cli *cli, int opt, const char *arg) {
  kd_sweep_config *c = &cli->cfg;
  size_t z;
  switch (opt) {
    case OPT_SWEEP:
      if (strcmp(arg, "n") != 0)
        return kd_fail(KD_EINVAL, "--sweep: unknown axis '%s' (this version sweeps n)", arg);
      cli->sweep = 1;
      return KD_OK;
    case OPT_N: return parse_n_list(arg, cli);
    case OPT_P: cli->p_set = 1; return parse_count("p", arg, &c->p);
    case OPT_ALPHA: return parse_positive("alpha", arg, &c->spectrum.alpha);
    case OPT_SIGNAL: return parse_positive("signal-exp", arg, &c->beta.signal_exp);
    case OPT_SIGMA: return parse_nonneg("sigma", arg, &c->sigma);
    case OPT_TSIGMA: return parse_nonneg("teacher-sigma", arg, &c->teacher_sigma);
    case OPT_RIDGE: return parse_nonneg("ridge", arg, &c->ridge);
    case OPT_M: return parse_count("m", arg, &c->m);
    case OPT_K: return parse_count("k", arg, &c->k);
    case OPT_PIPES: return kd_pipelines_parse(arg, &c->pipelines);
    case OPT_TRIALS: {
      kd_status st = parse_count("trials", arg, &z);
      if (st == KD_OK && z >= KD_MAX_TRIALS)
        return kd_fail(KD_EINVAL, "--trials: at most %u, got '%s'", KD_MAX_TRIALS - 1, arg);
      c->trials = (uint32_t)z;
      return st;
    }
    case OPT_SEED: return parse_seed(arg, &c->seed);
    case OPT_BACKEND:
      if (strcmp(arg, "cpu") && strcmp(arg, "cuda") && strcmp(arg, "auto"))
        return kd_fail(KD_EINVAL, "--backend: unknown '%s' (expected cpu, cuda or auto)", arg);
      c->backend = arg;
      return KD_OK;
    case OPT_CSV: c->csv_path = arg; return KD_OK;
    case OPT_QUIET: c->quiet = 1; return KD_OK;
    case OPT_HELP: cli->action = KD_CLI_HELP; return KD_OK;
    case OPT_VERSION: cli->action = KD_CLI_VERSION; return KD_OK;
    case OPT_SPECTRUM: return parse_spectrum(arg, &c->spectrum);
    case OPT_BETA: return parse_beta(arg, &c->beta);
  }
  return kd_fail(KD_EINVAL, "internal: unhandled option %d", opt);
}

kd_status kd_cli_parse(int argc, char **argv, kd_cli *cli) {
  memset(cli, 0, sizeof *cli);
  kd_sweep_default(&cli->cfg);
  cli->action = KD_CLI_RUN;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    if (opt == '?')
      return kd_fail(KD_EINVAL, "unknown flag '%s' (see kdbench --help)", argv[optind - 1]);
    if (opt == ':')
      return kd_fail(KD_EINVAL, "flag '%s' needs a value", argv[optind - 1]);
    kd_status st = apply(cli, opt, optarg);
    if (st != KD_OK) return st;
  }
  if (optind < argc)
    return kd_fail(KD_EINVAL, "unexpected argument '%s' (see kdbench --help)", argv[optind]);
  if (cli->action != KD_CLI_RUN) return KD_OK;
  if (!cli->sweep) {
    cli->action = KD_CLI_HELP;
    return kd_fail(KD_EINVAL, "nothing to do: give --sweep n (see kdbench --help)");
  }
  /* A spectrum file fixes p itself unless --p says what it must be. */
  if (cli->cfg.spectrum.kind == KD_SPEC_FILE && !cli->p_set) cli->cfg.p = 0;
  return KD_OK;
}

void kd_cli_free(kd_cli *cli) {
  free(cli->n_owned);
  cli->n_owned = NULL;
}

void kd_cli_version(FILE *out) {
  fprintf(out, "kdbench %s (commit %s)\n", KDBENCH_VERSION, KDBENCH_GIT_COMMIT);
}
