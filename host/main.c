/* kdbench: parse, run, and turn a failure into one line and an exit status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/cli.h"
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

/* kdbench report RUN */
static int report_main(int argc, char **argv) {
  if (argc != 3 || argv[2][0] == '-')
    return fail(kd_fail(KD_EINVAL, "usage: kdbench report RUN (a run's stem or one of its files)"));
  kd_status st = kd_report_run(argv[2], KD_REPORT_MD | KD_REPORT_TEX, stdout);
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
  FILE *table = cli->cfg.quiet ? NULL : stdout;
  if (!strcmp(cli->cfg.job, "weights")) return kd_weights_run(&cli->cfg, table);
  return kd_sweep_run(&cli->cfg, command, table);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) return report_main(argc, argv);
  kd_cli cli;
  kd_status st = kd_cli_parse(argc, argv, &cli, 0);
  if (st != KD_OK) return fail(st);
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
