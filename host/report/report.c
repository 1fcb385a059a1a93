/* kdbench report RUN: load the stored run, lay out its table, write NAME.md and
 * NAME.tex (each through a temporary file renamed into place, so a reader never
 * sees half a table). */
#include "kdbench/report.h"

#include <math.h>
#include <stdio.h>

#include "kdbench/file_io.h"
#include "kdbench/run_paths.h"
#include "internal.h"

typedef struct {
  const kd_report *r;
  const kd_table *t;
  unsigned format; /* KD_TABLE_MD or KD_TABLE_TEX */
} table_job;

static kd_status render_table(FILE *out, const void *ctx) {
  const table_job *job = ctx;
  return kd_report_write(job->r, job->t, job->format, out);
}

static kd_status write_table(const char *stem, const char *ext, const table_job *job, FILE *log) {
  char path[4096];
  kd_status st = kd_run_path(stem, ext, path, sizeof path);
  if (st || (st = kd_file_replace_rendered(path, render_table, job, 0))) return st;
  if (log) fprintf(log, "wrote %s\n", path);
  return KD_OK;
}

kd_status kd_report_run(const char *run, unsigned formats, FILE *log) {
  const unsigned all = KD_REPORT_MD | KD_REPORT_TEX | KD_REPORT_WIDE | KD_REPORT_TEST_RISK;
  if (!(formats & (KD_REPORT_MD | KD_REPORT_TEX)) || (formats & ~all) ||
      ((formats & KD_REPORT_WIDE) && !(formats & KD_REPORT_TEX)))
    return kd_fail(KD_EINVAL,
                   "report: formats 0x%x: not a set of KD_REPORT_MD, KD_REPORT_TEX (and "
                   "KD_REPORT_WIDE with it)",
                   formats);
  char stem[4096];
  kd_report r = {0};
  kd_table t;
  kd_table_init(&t);
  kd_status st = kd_run_stem(run, stem, sizeof stem);
  if (!st) st = kd_report_load(stem, &r, log);
  if (!st) st = kd_report_layout(&r);
  if (!st) st = kd_report_load_fit(stem, &r, log);
  r.wide = (formats & KD_REPORT_WIDE) != 0;
  r.test_risk = (formats & KD_REPORT_TEST_RISK) != 0;
  for (size_t i = 0; !st && r.test_risk && i < r.nrows; ++i)
    if (isnan(r.rows[i].noise))
      st = kd_fail(KD_EINVAL, "%s: --risk test: the %s row of point %ld has no test_risk (a run "
                   "written before kdbench recorded it, or without simulation)", stem,
                   kd_pipeline_name((kd_pipeline)r.rows[i].pipe), r.rows[i].point);
  if (!st) kd_report_table(&r, &t);
  if (!st && (formats & KD_REPORT_MD))
    st = write_table(stem, ".md", &(table_job){&r, &t, KD_TABLE_MD}, log);
  if (!st && (formats & KD_REPORT_TEX))
    st = write_table(stem, ".tex", &(table_job){&r, &t, KD_TABLE_TEX}, log);
  kd_table_free(&t);
  kd_report_free(&r);
  return st;
}
