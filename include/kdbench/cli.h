/* The command line of kdbench. */
#ifndef KDBENCH_CLI_H
#define KDBENCH_CLI_H

#include <stdio.h>

#include "kdbench/sweep.h"

typedef enum { KD_CLI_RUN, KD_CLI_HELP, KD_CLI_VERSION } kd_cli_action;

typedef struct {
  kd_sweep_config cfg;
  kd_cli_action action;
  int sweep;        /* --sweep n given */
  int p_set;        /* --p given */
  size_t *n_owned;  /* the --n list */
} kd_cli;

extern const char *kd_cli_usage;

/* Parses argv into cli (starting from the embedded default). On error the reason
 * (naming the flag and the text) is in kd_last_error(). */
kd_status kd_cli_parse(int argc, char **argv, kd_cli *cli);
void kd_cli_free(kd_cli *cli);
void kd_cli_version(FILE *out);

#endif
