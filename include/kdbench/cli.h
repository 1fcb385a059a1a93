/* The command line of kdbench (the report subcommand is dispatched in main.c). */
#ifndef KDBENCH_CLI_H
#define KDBENCH_CLI_H

#include <stdio.h>

#include "kdbench/config.h"

typedef enum { KD_CLI_RUN, KD_CLI_HELP, KD_CLI_VERSION, KD_CLI_PRINT, KD_CLI_LIST } kd_cli_action;

typedef struct {
  kd_config cfg;
  kd_cli_action action;
  const char *source;     /* "scenario", "preset" or NULL */
  const char *source_arg; /* its file or name */
  int parts;              /* runs of the scenario (a preset may have several) */
  int quick;              /* --quick */
  int part;               /* the part being run */
  int device;             /* --device K (the CUDA device); -1 when not given */
} kd_cli;

extern const char *kd_cli_usage;

/* Parses argv into cli: the embedded default, then the scenario or part `part` of
 * the preset, then the flags. cli->parts tells how many parts there are. On error
 * the reason (naming the flag and the text) is in kd_last_error(). */
kd_status kd_cli_parse(int argc, char **argv, kd_cli *cli, int part);
void kd_cli_version(FILE *out);

#endif
