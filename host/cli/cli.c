/* The command line: flags -> kd_config through the same setter that scenario files
 * use, with one-line errors that name the flag and the offending text. */
#include "kdbench/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/number.h"
#include "kdbench/run_paths.h"
#include "kdbench/scenario.h"
#include "kdbench/version.h"

const char *kd_cli_usage =
    "usage: kdbench --sweep AXIS[,AXIS] [options]     run a sweep\n"
    "       kdbench --scenario FILE | --preset NAME [options]\n"
    "       kdbench --print-scenario [options]         the effective scenario, as a file\n"
    "       kdbench --list-presets\n"
    "       kdbench report RUN                         Markdown + LaTeX tables of a run\n"
    "       kdbench fit RUN [options]                  scaling-law fits, w2s metrics\n"
    "                                                  (kdbench fit --help)\n"
    "       kdbench merge [--partial] [--force] [--out RUN] SHARDS...\n"
    "                                                  one run from shard outputs\n"
    "       kdbench missing [--array] RUN              what is left to compute, as commands\n"
    "\n"
    "Knowledge-distillation benchmark: Monte Carlo risk of ridge(less) students trained\n"
    "on ground-truth, surrogate or weak-teacher labels, beside its deterministic-\n"
    "equivalent (or exact) theory, for x ~ N(0, Sigma), Sigma diagonal.\n"
    "\n"
    "With no other flag, --sweep n runs the embedded default (the preset fig1), the\n"
    "Figure 1 setting of Ildiz et al. (ICLR 2025): p = 500, lambda_i = i^-2,\n"
    "lambda_i beta*_i^2 = i^-1.5, sigma = 0.5, n on a log grid from 20 to 2000 through\n"
    "n = p, pipelines strong,optimal,mask,w2s, 200 trials, seed 1.\n"
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
    "  --teacher-sigma S   noise of surrogate/teacher labels (default: same as --sigma)\n"
    "  Limits: eigenvalues (p^-alpha included) in [1e-100, 1e100], sigma and\n"
    "  teacher-sigma <= 1e50, ridge <= 1e100, lambda_i beta_i^2 <= 1e100 (README)\n"
    "Student and teacher\n"
    "  --ridge L           student ridge; 0 = ridgeless (default 0). Ridge minimises\n"
    "                      (1/n)||y - Xb||^2 + L ||b||^2\n"
    "  --m M               weak teacher's sample size (default 5000)\n"
    "  --k K               weak teacher's features, the top K (default auto: the k that\n"
    "                      minimises the theoretical w2s risk for that m and n; all:\n"
    "                      every feature, k = p at each point)\n"
    "  --weak-ridge L      weak teacher's own ridge (default 0); auto: the ridge that\n"
    "                      minimises its theoretical risk (needs --k N or --k all)\n"
    "  --weak-spectrum KIND  the weak teacher's own design spectrum Sigma_s (covariance\n"
    "                      shift; the kinds of --spectrum, jointly diagonal with the\n"
    "                      student's; default: the student's); risks stay under Sigma_t\n"
    "  --weak-alpha A      its power-law exponent (default: the student's alpha; alone,\n"
    "                      it means --weak-spectrum powerlaw)\n"
    "  --real-fraction F   mix: the share of the student's n rows with ground-truth\n"
    "                      labels (noise --sigma), in [0, 1] (default 0); the rest carry\n"
    "                      the weak teacher's labels (noise --teacher-sigma; 0 =\n"
    "                      noiseless synthetic labels)\n"
    "  --student-features S  features: the student sees S of the p features (default\n"
    "                      all; also an axis: --sweep student-features)\n"
    "  --feature-order O   features: which S, in order: head (decreasing\n"
    "                      lambda_i beta*_i^2, default) | tail (the reverse) | random\n"
    "                      (a permutation drawn from --seed)\n"
    "  --noise-features Q  features: Q pure-noise features beside them (default 0)\n"
    "  --noise-level RHO   features: their variance, > 0 (default 1); they act like a\n"
    "                      ridge of Q RHO / n (docs/theory.md#features)\n"
    "  --pipelines LIST    comma list of strong, optimal, mask, w2s, weak, mix,\n"
    "                      recursive, curriculum, features (default\n"
    "                      strong,optimal,mask,w2s; weak = the teacher itself; mix = the\n"
    "                      student on real and teacher-labelled rows; recursive:\n"
    "                      generations, curriculum: one pass of SGD along a curriculum,\n"
    "                      below; features = the student on S features and Q noise ones)\n"
    "Generations (the recursive pipeline: generation g learns from generation g-1)\n"
    "  --generations G     generations, one row each (default 10, at most 256)\n"
    "  --schedule LIST     comma list of fixed (T_g = n), linear (n g), quadratic\n"
    "                      (n g^2), geometric:R (n R^(g-1)), accumulate (all g blocks of\n"
    "                      n rows so far, each with its own labels; G <= 8); default fixed\n"
    "  --synthetic-sigma S noise of generation g >= 2's labels (default: --sigma;\n"
    "                      0 = noiseless)\n"
    "  --gen-ridge L       ridge of generations g >= 2 (default: --ridge, generation 1's)\n"
    "  --gen-ridge-decay D none (lambda_g = L) | inverse-square (lambda_g = L / g^2)\n"
    "Curriculum (the curriculum pipeline: one pass of SGD over the n samples, from\n"
    "w = 0, w <- w - eta_t (x_t'w - y_t) x_t; theory: the exact recursion)\n"
    "  --difficulty D      noise (a fraction of the samples with noise --easy-sigma, the\n"
    "                      rest --hard-sigma; default) | source (easy: a teacher's labels\n"
    "                      0.6 beta*, noiseless; hard: the truth's, noise --sigma) |\n"
    "                      features (alike samples; a paced curriculum masks the features\n"
    "                      beyond the pace's top fraction)\n"
    "  --order LIST        comma list of curriculum (easy first), anti (hard first),\n"
    "                      random (shuffled each trial): one group of rows each, column\n"
    "                      order (default all three; features: not random)\n"
    "  --pacing P          none (a plain sort, default) | linear | quad | root | step |\n"
    "                      exp | log: CLIMB's pacing (start at 6.25 % of the steps, full\n"
    "                      at 87.5 %, initial 0.1); a paced step draws its sample\n"
    "                      uniformly below the pace's difficulty percentile\n"
    "  --step S            constant:C (eta = C / tr Sigma; default constant:0.5) |\n"
    "                      decay:C,TAU (eta_t = (C / tr Sigma) / (1 + t/TAU)); C, TAU > 0\n"
    "  --budget B          samples seen, at most n (default all)\n"
    "  --checkpoints K     rows per order: the risk after floor(i B / K) samples,\n"
    "                      i = 1..K, in column t (default 10, at most 256)\n"
    "  --easy-fraction F   the easy share of the samples (default 0.5)\n"
    "  --easy-sigma S, --hard-sigma S\n"
    "                      noise of the easy and hard samples (default 0.1 and 1)\n"
    "Sweep\n"
    "  --sweep AXES        the swept axis, or two (n,p: the grid; the first is the x\n"
    "                      axis): n, p, m, k, ridge, alpha, sigma, real-fraction,\n"
    "                      student-features\n"
    "  --n, --p, --m, --k, --ridge, --alpha, --sigma, --real-fraction,\n"
    "  --student-features VALUES\n"
    "                      a swept axis's values: a comma list whose items are numbers\n"
    "                      or ranges A:B:logN (N log-spaced), A:B:linN (N evenly\n"
    "                      spaced) or A:B:pow2 (powers of two); n, p, m, k are rounded\n"
    "                      and de-duplicated. Defaults: n: log grid 20..2000 through\n"
    "                      n = p (about 8 a decade); p: 100,200,500,1000,2000;\n"
    "                      m: 500,...,20000; k and student-features: 10:p:log8;\n"
    "                      ridge: 1e-4:1:log9; alpha: 1.25,1.5,2,3,4;\n"
    "                      sigma: 0,0.1,0.25,0.5,1; real-fraction: 0:1:lin5, unless\n"
    "                      values are given here or in the scenario file (the value\n"
    "                      a preset gives an axis it does not sweep, as m = 5000 in\n"
    "                      fig1, is a default, not a sweep value)\n"
    "  --trials T          Monte Carlo trials per point (default 200)\n"
    "  --seed S            64-bit seed (default 1); any point or trial can be\n"
    "                      regenerated alone from (seed, point, trial)\n"
    "  --backend B         cpu | cuda | auto (default auto: cuda when a GPU answers)\n"
    "  --device K          the CUDA device to use (default 0, the first visible one)\n"
    "  --shard I/N         compute only part I of N of the grid (1 <= I <= N; parts\n"
    "                      balanced by flops), into NAME.shards/shard-00I-of-00N.csv\n"
    "                      beside NAME.csv; in a Slurm array task the default is the\n"
    "                      task's part; off: the whole grid. See docs/cluster.md\n"
    "  --job J             sweep (default) | weights: beta*, the optimal surrogate and\n"
    "                      the optimal mask feature by feature at one --n (theory only;\n"
    "                      CSV i,lambda,beta_star,gain,beta_optimal,beta_mask)\n"
    "Scenarios\n"
    "  --scenario FILE     run the scenario file (INI; keys are these flags without\n"
    "                      dashes); flags given as well override it. A key given\n"
    "                      twice in a file, or a flag with a value given twice, is\n"
    "                      refused\n"
    "  --preset NAME       an embedded scenario (--list-presets); the default is fig1;\n"
    "                      a preset of several runs runs them in turn, flags apply to each\n"
    "                      (--csv: see below)\n"
    "  --quick             with --preset: the reduced size CI runs (few trials, a coarse\n"
    "                      grid), written under results/quick/ instead of results/\n"
    "  --print-scenario    print the effective scenario in that format and exit\n"
    "Output\n"
    "  --csv FILE          the run's tidy CSV (default results/sweep-n.csv); beside it\n"
    "                      FILE.jsonl (the rows as JSON Lines) and FILE.meta.json\n"
    "                      (scenario, versions, backend, times); see docs/run-format.md.\n"
    "                      With --preset, --csv DIR/ puts each run in DIR under its\n"
    "                      preset name (DIR/alpha2-b1.5.csv); with a preset of several\n"
    "                      runs --csv NAME.csv is a prefix (NAME-alpha2-b1.5.csv, ...)\n"
    "  --raw               also store every trial's risk in the JSON Lines (the fits'\n"
    "                      bootstrap needs them)\n"
    "  --theory-only       the same rows with the theory alone: no trials, no backend\n"
    "                      opened, simulation columns empty, trials 0; points side by\n"
    "                      side on the cores (dense curves: about 3 ms of CPU a point\n"
    "                      at p = 10^5, bench/theory_only.sh)\n"
    "  --fit               fit the finished run (as kdbench fit RUN does)\n"
    "  --force             overwrite an output made by another scenario\n"
    "  --extend            extend the run at --csv: a scenario that differs from its\n"
    "                      only in the swept axes' values or in more --trials (the run\n"
    "                      made with --raw) keeps its points and their trials and\n"
    "                      computes only the new ones; the files end as the run made\n"
    "                      whole at once would write them\n"
    "  --risk R            excess (default) | test: the table shows the test risk, excess\n"
    "                      + sigma^2 (the CSV has both: test_risk is its last column)\n"
    "  --quiet             nothing on standard output (no table, no --fit tables), no\n"
    "                      progress line\n"
    "  --verbose           a timing line per point on standard error\n"
    "  --help, --version\n"
    "\n"
    "Resume: every finished point is on disk (fsynced) before the next starts; the\n"
    "same command run again skips the points already done. SIGINT/SIGTERM stop\n"
    "between trials (exit status 130/143) and lose only the point in flight. An\n"
    "output of another scenario is refused (--force overwrites it), saying what\n"
    "differs; the scenario's hash covers the values read from --spectrum and --beta\n"
    "files and the version of kdbench's numerics (docs/run-format.md).\n"
    "\n"
    "CSV columns: pipeline,n,p,m,k,ridge,alpha,signal_exp,sigma,trials,sim_mean,sim_se,\n"
    "sim_ci_low,sim_ci_high,sim_median,theory,ratio,fallbacks,theory_kind,flag,\n"
    "real_fraction (the mix's rows, and every row where it is swept), test_risk,\n"
    "generation,schedule,beats_first (recursive's rows), t,order (curriculum's rows),\n"
    "student_features (the features rows' S; empty in the others).\n"
    "Risks are excess risks (b - beta*)' Sigma (b - beta*); test_risk = sim_mean + sigma^2,\n"
    "sigma the ground-truth labels' noise (empty where sim_mean is);\n"
    "ratio = sim_mean / theory; m, k are the weak model's (k is the mask's size for\n"
    "mask); theory_kind is 'exact' where a finite-sample formula exists (ridgeless\n"
    "n > p + 1; isotropic p > n + 1) and 'de' (deterministic equivalent) elsewhere;\n"
    "flag is 'peak' at a ridgeless fit's interpolation peak, where the expected risk is\n"
    "infinite (read the median): the student's |n - p| <= 1 and, in w2s and weak rows,\n"
    "the weak teacher's |m - k| <= 1; 'near-peak' where theory is 'de' for a ridgeless\n"
    "fit within a tenth of its peak (its finite-size error grows like 1/distance): the\n"
    "student's |n - p| < p/10 (not in weak rows) and, in w2s and weak rows, the\n"
    "teacher's |m - k| < k/10 with k > m + 1 (for k < m - 1 its moments are exact).\n"
    "Numbers are decimal ([sign]digits[.digits][e[sign]digits]; no hexadecimal, inf\n"
    "or nan; blanks around them ignored); file lines hold at most 4096 bytes (README,\n"
    "Numbers). Bad input: a one-line error and exit status 2.\n";

enum {
  OPT_SETTING = 256, /* every setting of kd_config: the flag's name is the setting's */
  OPT_SCENARIO, OPT_PRESET, OPT_PRINT, OPT_LIST, OPT_QUIET, OPT_VERBOSE, OPT_FORCE, OPT_EXTEND,
  OPT_RAW, OPT_THEORY_ONLY, OPT_RISK, OPT_FIT, OPT_HELP, OPT_VERSION, OPT_QUICK, OPT_DEVICE,
};

static const struct option options[] = {
    {"sweep", required_argument, 0, OPT_SETTING},
    {"n", required_argument, 0, OPT_SETTING},
    {"p", required_argument, 0, OPT_SETTING},
    {"m", required_argument, 0, OPT_SETTING},
    {"k", required_argument, 0, OPT_SETTING},
    {"ridge", required_argument, 0, OPT_SETTING},
    {"alpha", required_argument, 0, OPT_SETTING},
    {"sigma", required_argument, 0, OPT_SETTING},
    {"spectrum", required_argument, 0, OPT_SETTING},
    {"beta", required_argument, 0, OPT_SETTING},
    {"signal-exp", required_argument, 0, OPT_SETTING},
    {"teacher-sigma", required_argument, 0, OPT_SETTING},
    {"weak-ridge", required_argument, 0, OPT_SETTING},
    {"real-fraction", required_argument, 0, OPT_SETTING},
    {"weak-spectrum", required_argument, 0, OPT_SETTING},
    {"weak-alpha", required_argument, 0, OPT_SETTING},
    {"generations", required_argument, 0, OPT_SETTING},
    {"schedule", required_argument, 0, OPT_SETTING},
    {"synthetic-sigma", required_argument, 0, OPT_SETTING},
    {"gen-ridge", required_argument, 0, OPT_SETTING},
    {"gen-ridge-decay", required_argument, 0, OPT_SETTING},
    {"student-features", required_argument, 0, OPT_SETTING},
    {"feature-order", required_argument, 0, OPT_SETTING},
    {"noise-features", required_argument, 0, OPT_SETTING},
    {"noise-level", required_argument, 0, OPT_SETTING},
    {"pipelines", required_argument, 0, OPT_SETTING},
    {"trials", required_argument, 0, OPT_SETTING},
    {"seed", required_argument, 0, OPT_SETTING},
    {"backend", required_argument, 0, OPT_SETTING},
    {"csv", required_argument, 0, OPT_SETTING},
    {"job", required_argument, 0, OPT_SETTING},
    {"difficulty", required_argument, 0, OPT_SETTING},
    {"order", required_argument, 0, OPT_SETTING},
    {"pacing", required_argument, 0, OPT_SETTING},
    {"step", required_argument, 0, OPT_SETTING},
    {"budget", required_argument, 0, OPT_SETTING},
    {"checkpoints", required_argument, 0, OPT_SETTING},
    {"easy-fraction", required_argument, 0, OPT_SETTING},
    {"easy-sigma", required_argument, 0, OPT_SETTING},
    {"hard-sigma", required_argument, 0, OPT_SETTING},
    {"scenario", required_argument, 0, OPT_SCENARIO},
    {"preset", required_argument, 0, OPT_PRESET},
    {"print-scenario", no_argument, 0, OPT_PRINT},
    {"list-presets", no_argument, 0, OPT_LIST},
    {"raw", no_argument, 0, OPT_RAW},
    {"theory-only", no_argument, 0, OPT_THEORY_ONLY},
    {"risk", required_argument, 0, OPT_RISK},
    {"fit", no_argument, 0, OPT_FIT},
    {"quick", no_argument, 0, OPT_QUICK},
    {"shard", required_argument, 0, OPT_SETTING},
    {"device", required_argument, 0, OPT_DEVICE},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"verbose", no_argument, 0, OPT_VERBOSE},
    {"force", no_argument, 0, OPT_FORCE},
    {"extend", no_argument, 0, OPT_EXTEND},
    {"help", no_argument, 0, OPT_HELP},
    {"version", no_argument, 0, OPT_VERSION},
    {0, 0, 0, 0},
};

/* getopt over argv; `pass` 0 handles the scenario source and the actions, pass 1
 * --spectrum (a spectrum file resets p, which a --p anywhere then overrides), pass 2
 * the other settings: flags override the scenario, wherever they stand. */
static kd_status scan(int argc, char **argv, kd_cli *cli, int pass) {
  opterr = 0;
  optind = 1;
  int opt, index = -1;
  const char *given[sizeof options / sizeof *options] = {0}; /* pass 0: each flag's value */
  while ((opt = getopt_long(argc, argv, ":", options, &index)) != -1) {
    if (opt == '?')
      return kd_fail(KD_EINVAL, "unknown flag '%s' (see kdbench --help)", argv[optind - 1]);
    if (opt == ':') return kd_fail(KD_EINVAL, "flag '%s' needs a value", argv[optind - 1]);
    kd_status st = KD_OK;
    /* A flag with a value is given once: twice, one of the two would be dropped
     * without a word (a switch given twice means what it means once). */
    if (pass == 0 && options[index].has_arg == required_argument) {
      const char *name = options[index].name;
      if (given[index])
        return kd_fail(KD_EINVAL, "--%s given twice (--%s %s and --%s %s)", name, name,
                       given[index], name, optarg);
      given[index] = optarg;
    }
    if (pass == 0) {
      switch (opt) {
        case OPT_SCENARIO:
        case OPT_PRESET:
          if (cli->source)
            return kd_fail(KD_EINVAL, "give one of --scenario and --preset, once");
          cli->source = opt == OPT_SCENARIO ? "scenario" : "preset";
          cli->source_arg = optarg;
          break;
        case OPT_PRINT: cli->action = KD_CLI_PRINT; break;
        case OPT_QUICK: cli->quick = 1; break;
        case OPT_DEVICE: { /* --device K: a CUDA device number */
          uint64_t k = 0;
          if (kd_whole_parse(optarg, &k) != KD_NUM_OK || k > 4095)
            return kd_fail(KD_EINVAL, "--device: expected a CUDA device number (0, 1, ...), got '%s'", optarg);
          cli->device = (int)k;
          break;
        }
        case OPT_LIST: cli->action = KD_CLI_LIST; break;
        case OPT_HELP: cli->action = KD_CLI_HELP; break;
        case OPT_VERSION: cli->action = KD_CLI_VERSION; break;
        default: break;
      }
    } else {
      kd_config *c = &cli->cfg;
      switch (pass == 1 && opt != OPT_SETTING ? 0 : opt) {
        case OPT_SETTING:
          if ((pass == 1) == !strcmp(options[index].name, "spectrum"))
            st = kd_config_set(c, options[index].name, optarg);
          break;
        case OPT_RAW: c->raw = 1; break;
        case OPT_THEORY_ONLY: c->theory_only = 1; break;
        case OPT_RISK:
          if (strcmp(optarg, "excess") && strcmp(optarg, "test"))
            st = kd_fail(KD_EINVAL, "--risk: unknown '%s' (expected excess or test)", optarg);
          c->run.test_risk = !strcmp(optarg, "test");
          break;
        case OPT_FIT: c->run.fit = 1; break;
        case OPT_QUIET: c->run.quiet = 1; break;
        case OPT_VERBOSE: c->run.verbose = 1; break;
        case OPT_FORCE: c->run.force = 1; break;
        case OPT_EXTEND: c->run.extend = 1; break;
        default: break;
      }
    }
    if (st != KD_OK) return st;
  }
  if (optind < argc)
    return kd_fail(KD_EINVAL, "unexpected argument '%s' (see kdbench --help)", argv[optind]);
  return KD_OK;
}

/* --csv with a preset, whose runs have their own file names (`own`, this part's):
 * DIR/ puts each in DIR under its own name; with several runs, NAME.csv is a prefix,
 * NAME-<own name>. Otherwise --csv names the run. */
static kd_status preset_csv(kd_config *c, const char *own, int parts) {
  const char *base = strrchr(own, '/');
  base = base ? base + 1 : own;
  size_t n = strlen(c->run.csv);
  char path[2 * KD_TEXT_LEN + 2], stem[KD_TEXT_LEN];
  if (c->run.csv[n - 1] == '/') {
    snprintf(path, sizeof path, "%s%s", c->run.csv, base);
  } else if (parts > 1) {
    kd_status st = kd_run_stem(c->run.csv, stem, sizeof stem);
    if (st != KD_OK) return kd_fail(st, "--csv: %s", kd_last_error());
    snprintf(path, sizeof path, "%s-%s", stem, base);
  } else {
    return KD_OK;
  }
  return kd_config_set(c, "csv", path);
}

kd_status kd_cli_parse(int argc, char **argv, kd_cli *cli, int part) {
  memset(cli, 0, sizeof *cli);
  cli->action = KD_CLI_RUN;
  cli->device = -1;
  kd_config_default(&cli->cfg);
  kd_status st = scan(argc, argv, cli, 0);
  if (st != KD_OK || cli->action == KD_CLI_HELP || cli->action == KD_CLI_VERSION ||
      cli->action == KD_CLI_LIST)
    return st;
  int preset = cli->source && !strcmp(cli->source, "preset");
  if (cli->quick && !preset) return kd_fail(KD_EINVAL, "--quick: only with --preset NAME");
  if (preset) {
    cli->parts = kd_scenario_preset_parts(cli->source_arg);
    st = kd_scenario_preset_part(&cli->cfg, cli->source_arg, part, cli->quick);
  } else {
    cli->parts = 1;
  }
  if (cli->source && !strcmp(cli->source, "scenario")) {
    /* A file states what differs from the embedded default, like a preset. */
    st = kd_scenario_load(&cli->cfg, cli->source_arg);
  }
  if (st != KD_OK) return st;
  /* A preset's csv stays empty until a --csv sets it (an empty --csv is refused), so
   * that preset_csv knows whether one was given. */
  char own_csv[KD_TEXT_LEN];
  snprintf(own_csv, sizeof own_csv, "%s", cli->cfg.run.csv);
  if (preset) cli->cfg.run.csv[0] = '\0';
  int swept_before = cli->cfg.n_swept;
  /* The embedded default names its axis; on the command line nothing runs without
   * --sweep, a scenario or a preset. */
  if (!cli->source) cli->cfg.n_swept = 0;
  st = scan(argc, argv, cli, 1);
  if (st == KD_OK) st = scan(argc, argv, cli, 2);
  if (st == KD_OK && preset)
    st = cli->cfg.run.csv[0] ? preset_csv(&cli->cfg, own_csv, cli->parts)
                         : kd_config_set(&cli->cfg, "csv", own_csv);
  if (st != KD_OK) return st;
  if (cli->action == KD_CLI_PRINT && cli->cfg.n_swept == 0) cli->cfg.n_swept = swept_before;
  if (cli->action == KD_CLI_RUN && cli->cfg.n_swept == 0 && cli->cfg.run.job != KD_JOB_WEIGHTS) {
    cli->action = KD_CLI_HELP;
    return kd_fail(KD_EINVAL, "nothing to do: give --sweep n, --scenario FILE or --preset NAME (see kdbench --help)");
  }
  return kd_config_check(&cli->cfg);
}

void kd_cli_version(FILE *out) {
  fprintf(out, "kdbench %s (commit %s)\n", KDBENCH_VERSION, KDBENCH_GIT_COMMIT);
}
