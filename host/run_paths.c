#include <errno.h>
#include <sys/stat.h>
#include "kdbench/run_paths.h"

#include <string.h>

/* Longest first where one suffix ends another (".meta.json" before any ".json"). */
static const char *const run_suffixes[] = {".meta.json", ".fit.json", ".jsonl", ".csv",
                                           ".md", ".tex", ".png", ".pdf"};

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
  if (n >= len) return kd_fail(KD_EINVAL, "run '%s': path too long (%zu bytes)", run, n);
  memcpy(stem, run, n);
  stem[n] = '\0';
  return KD_OK;
}

kd_status kd_run_path(const char *stem, const char *ext, char *out, size_t len) {
  size_t a = strlen(stem), b = strlen(ext);
  if (a + b >= len)
    return kd_fail(KD_EINVAL, "run '%s': path '%s%s' too long (%zu bytes)", stem, stem, ext, a + b);
  memcpy(out, stem, a);
  memcpy(out + a, ext, b + 1);
  return KD_OK;
}

kd_status kd_make_parent_dirs(const char *path) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) return kd_fail(KD_EIO, "%s: path too long", path);
  strcpy(buf, path);
  for (char *s = buf + 1; *s; ++s) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return kd_fail(KD_EIO, "%s: cannot create directory %s: %s", path, buf, strerror(errno));
    *s = '/';
  }
  return KD_OK;
}
