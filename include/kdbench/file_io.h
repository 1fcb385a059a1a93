/* The project's one file helper: read a whole file, replace a file atomically, make
 * a path's parent folders. Every writer of kdbench goes through kd_file_replace, so
 * every file it writes whole has one durability rule: a temporary file beside the
 * target (NAME.tmp), written, fsynced, renamed over the target, and removed on any
 * failure: a reader sees the old file or the new one, never half. A process killed
 * between the write and the rename leaves NAME.tmp, which the next writer of NAME
 * truncates and renames away: the name is fixed so that no crash leaves a temporary
 * file for good. */
#ifndef KDBENCH_FILE_IO_H
#define KDBENCH_FILE_IO_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/status.h"

/* The whole of a regular file (kd_input_open: a FIFO or device is refused), NUL
 * terminated, its length in *len (when len is not NULL); NULL with the reason (naming the path) in
 * kd_last_error() and errno set. The caller frees it. */
char *kd_file_read(const char *path, size_t *len);

/* path's content becomes text[0..len) atomically (see above). One writer of path at a
 * time (the run's lock sees to it). */
kd_status kd_file_replace(const char *path, const char *text, size_t len);

/* The same for a file several processes may write at once with the same content (the
 * shards' scenario.ini): the temporary file is NAME.PID.tmp, each its own. */
kd_status kd_file_replace_shared(const char *path, const char *text, size_t len);

/* Renders a file with `render` (into memory) and replaces path by it, as above
 * (shared: as kd_file_replace_shared): for writers that print with stdio. A failure
 * of `render` is returned as it is. */
typedef kd_status (*kd_file_render)(FILE *out, const void *ctx);
kd_status kd_file_replace_rendered(const char *path, kd_file_render render, const void *ctx,
                                   int shared);

/* Writes all of buf to fd, retrying on EINTR; the reason names `path`. */
kd_status kd_file_write_all(int fd, const char *buf, size_t len, const char *path);

/* Creates every missing folder above the last '/' of path (mkdir -p of its parent). */
kd_status kd_make_parent_dirs(const char *path);

#endif
