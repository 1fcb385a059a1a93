/* kdbench: parse, run, and turn a failure into one line and an exit status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kdbench/cli.h"
#include "kdbench/fit_run.h"
#include "kdbench/merge.h"
#include "kdbench/shard.h"
#include "kdbench/report.h"
#include "kdbench/scenario.h"
#include "kdbench/sweep.h"
#include "kdbench/weights.h"

/* Exit 2 for anything the user can fix (input, files, sizes, backend choice);
 * 1 for a numerical failure inside a run; 128 + the signal for a stop on request. */
static int exit_code(kd_status st) {
  if (st == KD_ENUM) return 1;
  if (st == KD_ESTOP) return 128 + (kd_sweep_stop_signal() ? kd_sweep_stop_signal() : SIGINT);
  return 2;
}

static int fail(kd_status st) {
  fprintf(stderr, "kdbench: %s\n", kd_last_error());
  return exit_code(st);
}

static const char *const report_help =
    "usage: kdbench report RUN [--layout table|table*] [--risk excess|test]\n"
    "The tables of a stored run (RUN: its stem or any of its files), made from\n"
    "NAME.jsonl and NAME.meta.json without recomputing anything: NAME.md (Markdown)\n"
    "and NAME.tex (booktabs table floats: \\usepackage{booktabs}, and graphicx to scale\n"
    "a table wider than the column down to it), written beside the run, each replaced\n"
    "whole; 'wrote PATH' for each on standard output. LaTeX captions are words and\n"
    "math; the scenario hash, seed, commit and backend are % comments at the top.\n"
    "With NAME.fit.json (kdbench fit RUN) of the same scenario, also the scaling-law\n"
    "and weak-to-strong tables, and an m x k grid of w2s/strong where k is swept.\n"
    "A pipeline of several rows a point (recursive, curriculum) has its own table, a\n"
    "line per point and step; in LaTeX one of more than 20 steps shows those of rank\n"
    "1..10, 20, 50, 100, 200, ... and the last, listed in its caption (a float is one\n"
    "page); Markdown has every step. The same run gives the same bytes.\n"
    "  --layout table    one-column floats (the default)\n"
    "  --layout table*   table* floats, across both columns of a two-column page\n"
    "  --risk test       the run's table in test risk, excess + sigma^2 (from the rows'\n"
    "                    test_risk; --risk excess, the default, in excess risk)\n"
    "  --help            this text\n"
    "Bad input (a missing, malformed or empty run): a one-line error naming the file\n"
    "(and the line), and exit status 2.\n";

/* kdbench report RUN [--layout table|table*] */
static int report_main(int argc, char **argv) {
  unsigned formats = KD_REPORT_MD | KD_REPORT_TEX;
  const char *run = NULL;
  for (int i = 2; i < argc; ++i)
    if (!strcmp(argv[i], "--help")) {
      fputs(report_help, stdout);
      return 0;
    }
  for (int i = 2; i < argc; ++i) {
    if (!strcmp(argv[i], "--layout")) {
      const char *v = i + 1 < argc ? argv[++i] : "";
      if (strcmp(v, "table") && strcmp(v, "table*"))
        return fail(kd_fail(KD_EINVAL, "--layout '%s': expected table or table*", v));
      formats = v[5] ? formats | KD_REPORT_WIDE : formats & ~(unsigned)KD_REPORT_WIDE;
    } else if (!strcmp(argv[i], "--risk")) {
      const char *v = i + 1 < argc ? argv[++i] : "";
      if (strcmp(v, "excess") && strcmp(v, "test"))
        return fail(kd_fail(KD_EINVAL, "--risk '%s': expected excess or test", v));
      formats = !strcmp(v, "test") ? formats | KD_REPORT_TEST_RISK
                                   : formats & ~(unsigned)KD_REPORT_TEST_RISK;
    } else if (argv[i][0] == '-' || run) {
      return fail(
          kd_fail(KD_EINVAL, "usage: kdbench report RUN [--layout table|table*] (near '%s')",
                  argv[i]));
    } else {
      run = argv[i];
    }
  }
  if (!run)
    return fail(kd_fail(KD_EINVAL, "usage: kdbench report RUN (a run's stem or one of its files)"));
  kd_status st = kd_report_run(run, formats, stdout);
  return st == KD_OK ? 0 : fail(st);
}

/* The command line, for the run's metadata. */
static char *command_line(int argc, char **argv) {
  size_t len = 1;
  for (int i = 0; i < argc; ++i) len += strlen(argv[i]) + 3;
  char *s = malloc(len);
  if (!s) return NULL;
  s[0] = '\0';
  for (int i = 0; i < argc; ++i) {
    if (i) strcat(s, " ");
    int quote = strpbrk(argv[i], " \t'\"") != NULL;
    if (quote) strcat(s, "'");
    strcat(s, argv[i]);
    if (quote) strcat(s, "'");
  }
  return s;
}

/* One part of the command: a sweep, the weights job, or the scenario's text. */
static kd_status run_part(kd_cli *cli, const char *command) {
  if (cli->action == KD_CLI_PRINT) {
    if (cli->parts > 1) printf("# part %d of %d\n", cli->part + 1, cli->parts);
    kd_config_print(&cli->cfg, stdout, 0);
    return KD_OK;
  }
  FILE *table = cli->cfg.run.quiet ? NULL : stdout;
  if (cli->cfg.run.job == KD_JOB_WEIGHTS) return kd_weights_run(&cli->cfg, table);
  kd_status st = kd_sweep_run(&cli->cfg, command, table);
  kd_shard_spec shard = {0}; /* shard: a shard has only part of the run; fit after the merge */
  if (st == KD_OK && cli->cfg.run.fit && kd_shard_resolve(cli->cfg.run.shard, &shard, NULL) == KD_OK && shard.count) {
    fprintf(stderr, "kdbench: --fit: not for one shard; fit the run once merged: kdbench fit %s\n", cli->cfg.run.csv);
    return st;
  }
  if (st == KD_OK && cli->cfg.run.fit && cli->cfg.theory_only) {
    fprintf(stderr, "kdbench: --fit: a theory-only run has no simulation to fit; not fitted\n");
    return st;
  }
  if (st == KD_OK && cli->cfg.run.fit) {
    char *argv[] = {"fit", cli->cfg.run.csv, "--quiet", NULL};
    if (kd_fit_main(cli->cfg.run.quiet ? 3 : 2, argv) != 0) return kd_fail(KD_EINVAL, "the run is complete; its fit failed (above)");
  }
  return st;
}

/* kdbench merge ... | kdbench missing ... (host/cli/merge_cli.c) */
static int shards_main(int argc, char **argv) {
  char *command = command_line(argc, argv);
  kd_status st = !strcmp(argv[1], "merge") ? kd_merge_main(argc, argv, command) : kd_missing_main(argc, argv);
  free(command);
  return st == KD_OK ? 0 : fail(st);
}

static int kdbench_main(int argc, char **argv) {
  /* Past the file-size limit (ulimit -f) a write then fails with EFBIG, a one-line
   * error that keeps what is finished, instead of SIGXFSZ killing kdbench unheard. */
  signal(SIGXFSZ, SIG_IGN);
  if (argc > 1 && strcmp(argv[1], "report") == 0) return report_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "fit") == 0) return kd_fit_main(argc - 1, argv + 1);
  if (argc > 1 && (!strcmp(argv[1], "merge") || !strcmp(argv[1], "missing"))) return shards_main(argc, argv);
  kd_cli cli;
  kd_status st = kd_cli_parse(argc, argv, &cli, 0);
  if (st != KD_OK) return fail(st);
  if (cli.device >= 0) { /* --device K: read by the CUDA backend (cuda/backend_cuda.cu) */
    char k[16];
    snprintf(k, sizeof k, "%d", cli.device);
    setenv("KDBENCH_CUDA_DEVICE", k, 1);
  }
  switch (cli.action) {
    case KD_CLI_HELP: fputs(kd_cli_usage, stdout); return 0;
    case KD_CLI_VERSION: kd_cli_version(stdout); return 0;
    case KD_CLI_LIST: kd_scenario_list_presets(stdout); return 0;
    default: break;
  }
  char *command = command_line(argc, argv);
  int parts = cli.parts;
  for (int part = 0; part < parts && st == KD_OK; ++part) {
    if (part > 0) st = kd_cli_parse(argc, argv, &cli, part);
    cli.part = part;
    if (st == KD_OK) st = run_part(&cli, command);
  }
  free(command);
  return st == KD_OK ? 0 : fail(st);
}

int main(int argc, char **argv) {
  int code = kdbench_main(argc, argv);
  /* OpenBLAS's worker threads, started as it loads, each map a 128 MiB buffer and retry
   * for ever when an address-space limit (ulimit -v) leaves no room; its exit handler
   * then waits for them, and a kdbench that had finished (a merge, --help, a run
   * refused up front) hung at exit. Under such a limit, end without exit handlers:
   * kdbench's own files are closed by then, and stdio is flushed here. */
  struct rlimit as;
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    fflush(NULL);
    _exit(code);
  }
  return code;
}
