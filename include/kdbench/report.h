/* `kdbench report RUN`: the Markdown and LaTeX tables of a stored run, made from
 * NAME.jsonl and NAME.meta.json (docs/run-format.md) without recomputing anything.
 * The same run gives byte-identical tables. */
#ifndef KDBENCH_REPORT_H
#define KDBENCH_REPORT_H

#include <stdio.h>

#include "kdbench/fit_run.h"
#include "kdbench/status.h"

enum {
  KD_REPORT_MD = 1u << 0,  /* NAME.md: a GitHub-flavoured Markdown table */
  KD_REPORT_TEX = 1u << 1, /* NAME.tex: booktabs table floats (booktabs; graphicx scales a
                              table wider than the column down to it) */
  KD_REPORT_WIDE = 1u << 2, /* with KD_REPORT_TEX: table* floats, across both columns of a
                               two-column page (--layout table*) */
  KD_REPORT_TEST_RISK = 1u << 3, /* the test risk, excess + sigma^2, in the run's table
                                    (--risk test; from the rows' test_risk) */
};

/* Writes NAME.md and/or NAME.tex beside the run (RUN: its stem or any of its files;
 * each file replaced atomically) and prints "wrote PATH" for each to `log` (which may
 * be NULL), with a warning there for a torn last JSONL line, which is skipped.
 * KD_EIO: a file cannot be read or written; KD_EINVAL: a line that is not JSON, a
 * missing or mistyped key (file, line and key named), an empty run, bad `formats`
 * (KD_REPORT_WIDE without KD_REPORT_TEX among them). */
kd_status kd_report_run(const char *run, unsigned formats, FILE *log);

/* The tables of a fit as text, what `kdbench fit` prints (host/report/report_fit_text.c). */
void kd_fit_print(const kd_fit_result *res, FILE *out);

#endif
