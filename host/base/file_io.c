/* The one file helper (include/kdbench/file_io.h). */
#include "kdbench/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdbench/input_file.h"

char *kd_file_read(const char *path, size_t *len) {
  FILE *f;
  if (kd_input_open(path, &f) != KD_OK) return NULL;
  char *buf = NULL;
  size_t cap = 0;
  FILE *mem = open_memstream(&buf, &cap);
  char chunk[65536];
  size_t got;
  while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, mem);
  const int bad = ferror(f);
  const int e = errno;
  fclose(f);
  if (mem) fclose(mem);
  if (!mem || bad) {
    free(buf);
    kd_fail(KD_EIO, "%s: cannot read: %s", path, strerror(mem ? e : ENOMEM));
    errno = mem ? e : ENOMEM;
    return NULL;
  }
  if (len) *len = cap;
  return buf;
}

kd_status kd_file_write_all(int fd, const char *buf, size_t len, const char *path) {
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return kd_fail(KD_EIO, "%s: write failed: %s", path, strerror(errno));
    buf += w;
    len -= (size_t)w;
  }
  return KD_OK;
}

static kd_status replace(const char *path, const char *text, size_t len, int shared) {
  const size_t tlen = strlen(path) + 32;
  char *tmp = malloc(tlen);
  if (!tmp) return kd_fail(KD_ENOMEM, "%s: out of memory", path);
  if (shared)
    snprintf(tmp, tlen, "%s.%ld.tmp", path, (long)getpid());
  else
    snprintf(tmp, tlen, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  kd_status st = fd < 0 ? kd_fail(KD_EIO, "%s: cannot write: %s", tmp, strerror(errno))
                        : kd_file_write_all(fd, text, len, tmp);
  if (st == KD_OK && fsync(fd) != 0) st = kd_fail(KD_EIO, "%s: fsync failed: %s", tmp, strerror(errno));
  if (fd >= 0 && close(fd) != 0 && st == KD_OK)
    st = kd_fail(KD_EIO, "%s: write failed: %s", tmp, strerror(errno));
  if (st == KD_OK && rename(tmp, path) != 0)
    st = kd_fail(KD_EIO, "%s: cannot rename from %s: %s", path, tmp, strerror(errno));
  if (st != KD_OK && fd >= 0) unlink(tmp);
  free(tmp);
  return st;
}

kd_status kd_file_replace(const char *path, const char *text, size_t len) {
  return replace(path, text, len, 0);
}

kd_status kd_file_replace_shared(const char *path, const char *text, size_t len) {
  return replace(path, text, len, 1);
}

kd_status kd_file_replace_rendered(const char *path, kd_file_render render, const void *ctx,
                                   int shared) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) return kd_fail(KD_ENOMEM, "%s: out of memory", path);
  kd_status st = render(mem, ctx);
  if (fclose(mem) != 0 && st == KD_OK) st = kd_fail(KD_ENOMEM, "%s: out of memory", path);
  if (st == KD_OK) st = replace(path, text, len, shared);
  free(text);
  return st;
}

kd_status kd_make_parent_dirs(const char *path) {
  char *buf = strdup(path);
  if (!buf) return kd_fail(KD_ENOMEM, "%s: out of memory", path);
  kd_status st = KD_OK;
  for (char *s = buf + 1; *s && st == KD_OK; ++s) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      st = kd_fail(KD_EIO, "%s: cannot create directory %s: %s", path, buf, strerror(errno));
    *s = '/';
  }
  free(buf);
  return st;
}
