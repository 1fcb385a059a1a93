/* libFuzzer target: the reader of a run's rows. Every line through kd_row_check and
 * kd_row_from_json and back out as CSV and JSON; the whole input as the NAME.jsonl of
 * a stored run beside the metadata of tests/data/fig1-mini through kd_run_read (the
 * one reader of resume, fit, report, merge and missing: host/store/run_reader.c), by way of
 * kdbench report's loader, layout and table (host/report/report_load.c, report_layout.c,
 * report_table.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../host/report/internal.h"
#include "kdbench/run.h"

static void through_the_row_reader(const char *text) {
  FILE *out = fopen("/dev/null", "w");
  for (const char *line = text; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char *one = strndup(line, len);
    kd_row r;
    char hash[17];
    if (one) (void)kd_row_check(one, len);
    if (one && kd_row_from_json(one, "fuzz:1", &r, hash) == KD_OK) {
      if (out) kd_row_write_csv(out, &r);
      free(kd_row_to_json(&r, hash));
      kd_row_free(&r);
    }
    free(one);
    line += len + (nl != NULL);
  }
  if (out) fclose(out);
}

static char dir[] = "/tmp/kdbench-fuzz-rows-XXXXXX";
static int jsonl_fd = -1; /* a memfd: run.jsonl links to it (no disk write per input) */

static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "fuzz_rows: %s left behind\n", dir);
}

/* A folder of this process with the fixture's metadata as run.meta.json and
 * run.jsonl a link to jsonl_fd. */
static const char *run_stem(void) {
  static char stem[256];
  if (stem[0]) return stem;
  if (!mkdtemp(dir)) return NULL;
  atexit(remove_dir);
  char cmd[1024], fd_path[64], link[300];
  snprintf(cmd, sizeof cmd, "cp '%s/tests/data/fig1-mini.meta.json' '%s/run.meta.json'",
           KDBENCH_SOURCE_DIR, dir);
  if (system(cmd) != 0 || (jsonl_fd = memfd_create("run.jsonl", MFD_CLOEXEC)) < 0) return NULL;
  snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", jsonl_fd);
  snprintf(link, sizeof link, "%s/run.jsonl", dir);
  if (symlink(fd_path, link) != 0) return NULL;
  snprintf(stem, sizeof stem, "%s/run", dir);
  return stem;
}

static void through_the_report_loader(const uint8_t *data, size_t size) {
  const char *stem = run_stem();
  if (!stem || ftruncate(jsonl_fd, 0) != 0 || pwrite(jsonl_fd, data, size, 0) != (ssize_t)size)
    return;
  kd_report r;
  memset(&r, 0, sizeof r);
  kd_table t;
  kd_table_init(&t);
  FILE *log = fopen("/dev/null", "w");
  if (kd_report_load(stem, &r, log) == KD_OK && kd_report_layout(&r) == KD_OK && log) {
    kd_report_table(&r, &t);
    kd_report_write(&r, &t, KD_TABLE_MD, log);
    kd_report_write(&r, &t, KD_TABLE_TEX, log);
  }
  kd_table_free(&t);
  kd_report_free(&r);
  if (log) fclose(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  through_the_row_reader(text);
  free(text);
  through_the_report_loader(data, size);
  return 0;
}
