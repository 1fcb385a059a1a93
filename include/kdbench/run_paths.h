/* The files of a run share a stem: DIR/NAME.csv, .jsonl, .meta.json, .md, .tex,
 * .png, .pdf, .svg (docs/run-format.md). A RUN argument may be the stem or any of them. */
#ifndef KDBENCH_RUN_PATHS_H
#define KDBENCH_RUN_PATHS_H

#include <stddef.h>

#include "kdbench/status.h"

/* The stem of `run`: `run` itself less one known suffix, if it ends in one.
 * KD_EINVAL for an empty run or stem, or one that does not fit in `len` bytes. */
kd_status kd_run_stem(const char *run, char *stem, size_t len);

/* KD_EINVAL, naming `csv`, when it cannot name a run's CSV: it ends in the suffix of
 * another file of a run (.jsonl, .meta.json, .fit.json, .md, .tex, .png, .pdf, .svg) or of
 * what kdbench keeps beside one (.lock, .shards, .tmp), so that it would be, or be
 * overwritten as, that file; or it is a directory ("." included). */
kd_status kd_run_name_check(const char *csv);

/* out = stem + ext (ext like ".jsonl"); KD_EINVAL if it does not fit in `len`. */
kd_status kd_run_path(const char *stem, const char *ext, char *out, size_t len);

#endif
