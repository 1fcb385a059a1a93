/* The embedded presets: the default (fig1) and the paper's reproductions (issue 5),
 * each written to its own folder under results/. A preset says only what differs
 * from BASE; a part is one run; `quick` is the reduced size CI runs. */
#include <stdlib.h>
#include <string.h>

#include "kdbench/scenario.h"

static const char *BASE =
    "[problem]\np = 500\nspectrum = powerlaw\nalpha = 2\nbeta = powerlaw\nsignal-exp = 1.5\n"
    "sigma = 0.5\nteacher-sigma = same\n"
    "[student]\nridge = 0\nstudent-features = all\nfeature-order = head\nnoise-features = 0\n"
    "noise-level = 1\n"
    "[teacher]\nm = 5000\nk = auto\n"
    "[sweep]\nsweep = n\nn = default\npipelines = strong,optimal,mask,w2s\ntrials = 200\nseed = 1\n"
    "[generations]\ngenerations = 10\nschedule = fixed\nsynthetic-sigma = same\ngen-ridge = same\n"
    "gen-ridge-decay = none\n"
    "[run]\njob = sweep\nbackend = auto\n"
    "[output]\ncsv = results/sweep-n.csv\nraw = false\nfit = false\n";

#define MAX_PARTS 12

typedef struct {
  const char *name, *about;
  const char *parts[MAX_PARTS];
  const char *quick;
} preset;

/* scaling: noiseless (the floor sigma^2 (alpha - 1) would bend the curve), p = 4000
 * so that n <= p/4 leaves a decade and a half to fit; (alpha, b) with b < 2 alpha + 1. */
#define SCALING(alpha, b)                                                                  \
  "[problem]\np = 4000\nalpha = " #alpha "\nsignal-exp = " #b "\nsigma = 0\n"               \
  "[sweep]\nn = 25:1000:log11\npipelines = strong,optimal,mask\ntrials = 100\n"             \
  "[output]\ncsv = results/scaling/alpha" #alpha "-b" #b ".csv\nraw = true\nfit = true\n"

/* synthetic (issue 13): a teacher on m = 100 real samples labels the student's rows. */
#define SYNTHETIC_ISOTROPIC                                                                \
  "[problem]\nspectrum = isotropic\nbeta = gauss\nsigma = 0.5\nteacher-sigma = 0\n"        \
  "[teacher]\nm = 100\nk = all\nweak-ridge = auto\n"
/* curriculum: one pass of SGD at n = 3000, p = 100, lambda_j = 1/j, beta*_j = j^-1/2
 * (lambda_j beta*_j^2 = j^-2), the three orders, 10 checkpoints; NAME the run, SET what
 * differs (docs/theory.md#curriculum). */
#define CURRICULUM(NAME, SET)                                                               \
  "[problem]\np = 100\nalpha = 1\nsignal-exp = 2\nsigma = 0.5\n"                          \
  "[sweep]\nn = 3000\npipelines = curriculum\ntrials = 300\n"                               \
  "[curriculum]\ncheckpoints = 10\n" SET "[output]\ncsv = results/curriculum/" NAME ".csv\n"
/* features: the student grown feature by feature at n = 200 (p = 500) along one order,
 * padded with q pure-noise features of level rho, an implicit ridge q rho / n of 1e-3,
 * 0.03 and 1 (docs/theory.md#features). */
#define FEATURES(order, q, rho)                                                            \
  "[student]\nstudent-features = 10:500:log12\nfeature-order = " #order "\n"                \
  "noise-features = " #q "\nnoise-level = " #rho "\n"                                        \
  "[sweep]\nsweep = student-features\nn = 200\npipelines = features\ntrials = 100\n"        \
  "[output]\ncsv = results/features/" #order "-q" #q ".csv\n"
#define FEATURES_ORDER(order)                                                              \
  FEATURES(order, 0, 1), FEATURES(order, 100, 0.002), FEATURES(order, 1000, 0.006),         \
      FEATURES(order, 10000, 0.02)

/* collapse: the recursive pipeline alone (the power-law parts are p = 500, lambda_i =
 * i^-2, lambda_i beta_i^2 = i^-1.5, sigma = 0.5: BASE's); isotropic's signal-exp 50 puts
 * all of beta* on feature 1, ||beta*|| = 1 to 1e-15 (the isotropic risks depend on beta*
 * through its norm only). */
#define COLLAPSE(name, trials, settings)                                                   \
  settings "[sweep]\npipelines = recursive\ntrials = " #trials "\n"                          \
  "[output]\ncsv = results/collapse/" name ".csv\nraw = true\n"
/* the ridge-bias pair: simulated to g = 10 (T_10 = 100 n), theory alone to g = 200 */
#define RIDGE_BIAS(decay) "[problem]\nsigma = 0.1\n[student]\nridge = 0.01\n[sweep]\nn = 200\n"  \
  "[generations]\nschedule = quadratic\ngen-ridge-decay = " decay "\n"
#define COLLAPSE_LONG(name, settings)                                                      \
  settings "generations = 200\n[sweep]\npipelines = recursive\n"                              \
  "[output]\ncsv = results/collapse/" name ".csv\ntheory-only = true\n"

static const preset PRESETS[] = {
    {"fig1", "the paper's Figure 1 setting: risk against n at p = 500, four pipelines (the default)",
     {""}, "[sweep]\nn = 20,100,1000\ntrials = 4\n"},
    {"fig1a", "Figure 1a: beta*, the optimal surrogate and the optimal mask by feature, p = 500, n = 200",
     {"[sweep]\nn = 200\n[run]\njob = weights\n[output]\ncsv = results/fig1a/weights.csv\n"}, ""},
    {"fig1b", "Figure 1b: risk against n for strong, optimal, mask; theory through simulation",
     {"[sweep]\npipelines = strong,optimal,mask\n[output]\ncsv = results/fig1b/sweep-n.csv\nraw = true\nfit = true\n"},
     "[sweep]\nn = 20,50,100,1000\ntrials = 4\n"},
    {"scaling", "scaling laws: exponents and constants of strong, optimal, mask for four (alpha, b), noiseless",
     {SCALING(2, 1.5), SCALING(1.5, 2), SCALING(2, 2), SCALING(3, 2)},
     "[problem]\np = 400\n[sweep]\nn = 20:100:log4\ntrials = 4\n"},
    {"w2s", "weak-to-strong: an m x k grid of weak teachers for a student at n = 200, p = 500",
     {"[teacher]\nm = 1000,2000,5000,20000\nk = 50,100,150,200,300,400\n"
      "[sweep]\nsweep = k,m\nn = 200\npipelines = strong,w2s,weak\ntrials = 100\n"
      "[output]\ncsv = results/w2s/grid.csv\nraw = true\nfit = true\n"},
     "[teacher]\nm = 1000,2000\nk = 50,200\n[sweep]\ntrials = 4\n"},
    {"synthetic", "synthetic data: a student on a ridge teacher's labels (K = n/m), mixed with real labels, and where mixing loses",
     {SYNTHETIC_ISOTROPIC
      "[problem]\np = 50,90,100,110,200,400\n"
      "[sweep]\nsweep = n,p\nn = 100,200,500,1000,2000\npipelines = strong,weak,mix\ntrials = 100\n"
      "[output]\ncsv = results/synthetic/table.csv\n",
      SYNTHETIC_ISOTROPIC
      "[problem]\np = 50,90,100,110,200,400\n[student]\nreal-fraction = 0.0909090909090909\n"
      "[sweep]\nsweep = p\nn = 1100\npipelines = mix\ntrials = 100\n"
      "[output]\ncsv = results/synthetic/real-and-synthetic.csv\n",
      "[problem]\nspectrum = isotropic\nbeta = gauss\np = 100\nsigma = 0.5\nteacher-sigma = 0\n"
      "[teacher]\nm = 137\nk = all\n"
      "[student]\nreal-fraction = 0:1:lin5\n[sweep]\nsweep = real-fraction\nn = 300\n"
      "pipelines = strong,w2s,weak,mix\ntrials = 400\n"
      "[output]\ncsv = results/synthetic/mixing.csv\n",
      "[problem]\np = 400\nsigma = 0.2\n"
      "[teacher]\nm = 1000\nk = 200\n"
      "[student]\nreal-fraction = 0:1:lin9\n[sweep]\nsweep = real-fraction\nn = 200\n"
      "pipelines = strong,w2s,weak,mix\ntrials = 200\n"
      "[output]\ncsv = results/synthetic/overparameterised.csv\n"},
     "[sweep]\ntrials = 4\n"},
    {"collapse", "generations (model collapse): risk against generation by schedule, exact and DE theory",
     {COLLAPSE("ols", 1000, "[problem]\np = 20\nalpha = 1\nsigma = 1\n[sweep]\nn = 60\n"
                      "[generations]\ngenerations = 8\nschedule = fixed,linear,quadratic,accumulate\n"),
      COLLAPSE("power-fixed", 100, "[sweep]\nn = 200,1000\n[generations]\ngenerations = 20\n"),
      COLLAPSE("power-growing", 100, "[sweep]\nn = 200\n[generations]\ngenerations = 10\n"
                                "schedule = linear,quadratic\n"),
      COLLAPSE("ridge-fixed", 60, RIDGE_BIAS("none") "generations = 10\n"),
      COLLAPSE("ridge-decay", 60, RIDGE_BIAS("inverse-square") "generations = 10\n"),
      COLLAPSE("isotropic", 400, "[problem]\np = 200\nspectrum = isotropic\nsignal-exp = 50\n[sweep]\n"
                            "n = 100\n[generations]\ngenerations = 6\n"),
      COLLAPSE_LONG("ridge-fixed-long", RIDGE_BIAS("none")),
      COLLAPSE_LONG("ridge-decay-long", RIDGE_BIAS("inverse-square"))},
     "[sweep]\ntrials = 4\n[generations]\ngenerations = 3\n"},
    {"curriculum", "curricula for a one-pass SGD student: orders, steps, a budget, label sources, features",
     {CURRICULUM("noise-constant", "step = constant:0.5\n"),
      CURRICULUM("noise-decay", "step = decay:0.5,100\n"),
      CURRICULUM("noise-budget", "step = constant:0.5\nbudget = 1500\n"),
      CURRICULUM("source", "difficulty = source\norder = curriculum,anti\n"),
      CURRICULUM("features-none", "difficulty = features\norder = curriculum\n"),
      CURRICULUM("features-log", "difficulty = features\norder = curriculum,anti\npacing = log\n"),
      CURRICULUM("features-none-small-steps",
                 "difficulty = features\norder = curriculum\nstep = constant:0.05\n"),
      CURRICULUM("features-linear-small-steps",
                 "difficulty = features\norder = curriculum,anti\npacing = linear\nstep = constant:0.05\n")},
     "[sweep]\ntrials = 4\n"},
    {"features", "feature growth: risk against the student's features s at n = 200, p = 500, "
                 "head, tail or random first, with 0, 100, 1000, 10000 noise features",
     {FEATURES_ORDER(head), FEATURES_ORDER(tail), FEATURES_ORDER(random)},
     "[student]\nstudent-features = 10,100,300\n[sweep]\ntrials = 4\n"},
};

static const preset *find(const char *name) {
  for (size_t i = 0; i < sizeof PRESETS / sizeof *PRESETS; ++i)
    if (!strcmp(name, PRESETS[i].name)) return &PRESETS[i];
  return NULL;
}

int kd_scenario_preset_parts(const char *name) {
  const preset *p = find(name);
  int n = 0;
  while (p && n < MAX_PARTS && p->parts[n]) ++n;
  return n;
}

kd_status kd_scenario_preset_part(kd_config *c, const char *name, int part, int quick) {
  const preset *p = find(name);
  if (!p) return kd_fail(KD_EINVAL, "--preset: unknown '%s' (see kdbench --list-presets)", name);
  if (part < 0 || part >= kd_scenario_preset_parts(name))
    return kd_fail(KD_EINVAL, "--preset %s: no part %d", name, part);
  int quiet = c->run.quiet, verbose = c->run.verbose, force = c->run.force;
  memset(c, 0, sizeof *c);
  c->run.quiet = quiet, c->run.verbose = verbose, c->run.force = force;
  char origin[64];
  snprintf(origin, sizeof origin, "preset %s", name);
  kd_status st = kd_scenario_load_text(c, BASE, origin);
  if (st == KD_OK) st = kd_scenario_load_text(c, p->parts[part], origin);
  if (st == KD_OK && quick) st = kd_scenario_load_text(c, p->quick, origin);
  /* p = 500 in BASE is the default p of a run, not the one value of a --sweep p. */
  if (st == KD_OK) kd_config_unswept_as_defaults(c);
  if (st == KD_OK && quick && !strncmp(c->run.csv, "results/", 8)) {
    char path[KD_TEXT_LEN];
    snprintf(path, sizeof path, "results/quick/%s", c->run.csv + 8);
    st = kd_config_set(c, "csv", path);
  }
  return st;
}

kd_status kd_scenario_preset(kd_config *c, const char *name) {
  return kd_scenario_preset_part(c, name, 0, 0);
}

void kd_config_default(kd_config *c) {
  /* The preset is embedded and tested; it cannot fail. */
  memset(c, 0, sizeof *c);
  if (kd_scenario_preset(c, "fig1") != KD_OK) abort();
}

void kd_scenario_list_presets(FILE *out) {
  for (size_t i = 0; i < sizeof PRESETS / sizeof *PRESETS; ++i) {
    int parts = kd_scenario_preset_parts(PRESETS[i].name);
    fprintf(out, "%-8s %s", PRESETS[i].name, PRESETS[i].about);
    if (parts > 1) fprintf(out, " (%d runs)", parts);
    fputc('\n', out);
  }
}
