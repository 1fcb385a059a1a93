/* kdbench report RUN: load the stored run, lay out its table, write NAME.md and
 * NAME.tex (each through a temporary file renamed into place, so a reader never
 * sees half a table). */
#include "kdbench/report.h"

#include <stdio.h>
#include <string.h>

#include "kdbench/file_io.h"
#include "kdbench/run_paths.h"
#include "report_internal.h"

typedef kd_status (*table_writer)(const kd_report *, FILE *);

typedef struct {
  table_writer write;
  const kd_report *r;
} table_job;

static kd_status render_table(FILE *out, const void *ctx) {
  const table_job *job = ctx;
  return job->write(job->r, out);
}

static kd_status write_table(const char *stem, const char *ext, table_writer write,
                             const kd_report *r, FILE *log) {
  char path[4096];
  kd_status st = kd_run_path(stem, ext, path, sizeof path);
  const table_job job = {write, r};
  if (st || (st = kd_file_replace_rendered(path, render_table, &job, 0))) return st;
  if (log) fprintf(log, "wrote %s\n", path);
  return KD_OK;
}

kd_status kd_report_run(const char *run, unsigned formats, FILE *log) {
  if (formats == 0 || (formats & ~(unsigned)(KD_REPORT_MD | KD_REPORT_TEX)))
    return kd_fail(KD_EINVAL, "report: formats 0x%x: not a set of KD_REPORT_MD, KD_REPORT_TEX",
                   formats);
  char stem[4096];
  kd_report r = {0};
  kd_status st = kd_run_stem(run, stem, sizeof stem);
  if (!st) st = kd_report_load(stem, &r, log);
  if (!st) st = kd_report_layout(&r);
  if (!st) st = kd_report_load_fit(stem, &r, log);
  if (!st && (formats & KD_REPORT_MD)) st = write_table(stem, ".md", kd_report_write_md, &r, log);
  if (!st && (formats & KD_REPORT_TEX))
    st = write_table(stem, ".tex", kd_report_write_tex, &r, log);
  kd_report_free(&r);
  return st;
}
