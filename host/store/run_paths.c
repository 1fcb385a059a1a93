#include <errno.h>
#include <sys/stat.h>
#include "kdbench/run_paths.h"

#include <string.h>

/* Longest first where one suffix ends another (".meta.json" before any ".json"). */
static const char *const run_suffixes[] = {".meta.json", ".fit.json", ".jsonl", ".csv",
                                           ".md", ".tex", ".png", ".pdf", ".svg"};

static int ends_with(const char *s, size_t len, const char *suffix) {
  size_t n = strlen(suffix);
  return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

kd_status kd_run_stem(const char *run, char *stem, size_t len) {
  if (!run || !*run) return kd_fail(KD_EINVAL, "run: empty name");
  size_t n = strlen(run);
  for (size_t i = 0; i < sizeof run_suffixes / sizeof *run_suffixes; ++i) {
    if (ends_with(run, n, run_suffixes[i])) {
      n -= strlen(run_suffixes[i]);
      break;
    }
  }
  if (n == 0 || run[n - 1] == '/')
    return kd_fail(KD_EINVAL, "run '%s': no name before the suffix", run);
  /* the reason first: the message (512 bytes) may cut the path, never why */
  if (n >= len)
    return kd_fail(KD_EINVAL, "run path too long (%zu bytes, at most %zu): '%s'", n, len - 1, run);
  memcpy(stem, run, n);
  stem[n] = '\0';
  return KD_OK;
}

/* Names a run's CSV may not end in: those of the other files of a run (it would be
 * one of them: `x.jsonl` is both the CSV and the JSON Lines of run x) and of what
 * kdbench puts beside a run (another run's writes would replace or remove it). */
static const struct {
  const char *suffix, *what;
} taken[] = {{".jsonl", "the JSON Lines of run"},      {".meta.json", "the metadata of run"},
             {".fit.json", "the fits of run"},         {".md", "the Markdown tables of run"},
             {".tex", "the LaTeX tables of run"},      {".png", "the figure of run"},
             {".pdf", "the figure of run"},            {".svg", "the figure of run"},
             {".lock", "the lock of run"},
             {".shards", "the shards' folder of run"},
             {".tmp", "the temporary file of the atomic rewrite of"}};

kd_status kd_run_name_check(const char *csv) {
  size_t n = strlen(csv);
  for (size_t i = 0; i < sizeof taken / sizeof *taken; ++i)
    if (ends_with(csv, n, taken[i].suffix))
      return kd_fail(KD_EINVAL, "%s: a run's CSV cannot end in %s: %s %.*s is that file (end the "
                     "name in .csv)", csv, taken[i].suffix, taken[i].what,
                     (int)(n - strlen(taken[i].suffix)), csv);
  const char *base = strrchr(csv, '/');
  base = base ? base + 1 : csv;
  struct stat sb;
  if (!strcmp(base, ".") || !strcmp(base, "..") || (stat(csv, &sb) == 0 && S_ISDIR(sb.st_mode)))
    return kd_fail(KD_EINVAL, "%s: is a directory, not a CSV file (name the run inside it: "
                   "%s/NAME.csv)", csv, csv);
  return KD_OK;
}

kd_status kd_run_path(const char *stem, const char *ext, char *out, size_t len) {
  size_t a = strlen(stem), b = strlen(ext);
  if (a + b >= len)
    return kd_fail(KD_EINVAL, "run path too long (%zu bytes, at most %zu): '%s%s'", a + b, len - 1,
                   stem, ext);
  memcpy(out, stem, a);
  memcpy(out + a, ext, b + 1);
  return KD_OK;
}
