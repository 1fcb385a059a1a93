/* kdbench: parse, run, and turn a failure into one line and an exit status. */
#include <stdio.h>

#include "kdbench/cli.h"
#include "kdbench/sweep.h"

/* Exit 2 for anything the user can fix (input, files, sizes, backend choice);
 * 1 for a numerical failure inside a run. */
static int exit_code(kd_status st) { return st == KD_ENUM ? 1 : 2; }

int main(int argc, char **argv) {
  kd_cli cli;
  kd_status st = kd_cli_parse(argc, argv, &cli);
  if (st == KD_OK && cli.action == KD_CLI_HELP) {
    fputs(kd_cli_usage, stdout);
  } else if (st == KD_OK && cli.action == KD_CLI_VERSION) {
    kd_cli_version(stdout);
  } else if (st == KD_OK) {
    st = kd_sweep_run(&cli.cfg, cli.cfg.quiet ? NULL : stdout);
  }
  kd_cli_free(&cli);
  if (st != KD_OK) {
    fprintf(stderr, "kdbench: %s\n", kd_last_error());
    return exit_code(st);
  }
  return 0;
}
