/* User-named inputs: regular files only, lines of a bounded length
 * (include/kdbench/input_file.h). */
#include "kdbench/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

kd_status kd_input_open(const char *path, FILE **f) {
  *f = NULL;
  /* O_NONBLOCK: opening a FIFO that no one writes would wait for a writer. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return kd_fail(KD_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return kd_fail(KD_EIO, "%s: cannot open: %s", path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
    return kd_fail(KD_EIO, "%s: is %s, not a regular file", path, kind_of(sb.st_mode));
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags != -1) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  *f = fdopen(fd, "r");
  if (!*f) {
    int e = errno;
    close(fd);
    errno = e;
    return kd_fail(KD_ENOMEM, "%s: cannot open: %s", path, strerror(e));
  }
  return KD_OK;
}

int kd_input_line(FILE *f, char *buf) {
  if (!fgets(buf, KD_LINE_MAX + 2, f)) return 0;
  size_t n = strlen(buf);
  int newline = n && buf[n - 1] == '\n';
  return n - newline > KD_LINE_MAX ? -1 : 1;
}

kd_status kd_input_line_too_long(const char *origin, size_t line) {
  return kd_fail(KD_EINVAL, "%s:%zu: line longer than %d bytes", origin, line, KD_LINE_MAX);
}
