/* Opening a file the user named as an input: a scenario, a spectrum or beta* file, a
 * run's records. Only a regular file is read: a FIFO would block (in open, or in
 * the first read), a device such as /dev/zero never ends, a directory has no lines. */
#ifndef KDBENCH_INPUT_FILE_H
#define KDBENCH_INPUT_FILE_H

#include <stdio.h>

#include "kdbench/status.h"

/* *f = path opened for reading, or NULL and KD_EIO with the reason, naming the path:
 * "PATH: cannot open: No such file or directory", "PATH: is a directory, not a
 * regular file" (errno as open's, or EISDIR for a directory, EINVAL for any other
 * file that is not regular). Opening never blocks. */
kd_status kd_input_open(const char *path, FILE **f);

/* The longest line kdbench reads from a user's file (a scenario, a spectrum or beta*
 * file), its newline not counted. A longer line is refused once KD_LINE_MAX + 1 of its
 * bytes are read: a file of one huge line fails at once, not after it is parsed. */
#define KD_LINE_MAX 4096

/* The next line of f into buf (KD_LINE_MAX + 2 bytes at least), its newline kept when
 * it has one: 1 when a line was read, 0 at the end of the file or on a read error
 * (ferror(f) tells), -1 when the line is longer than KD_LINE_MAX. */
int kd_input_line(FILE *f, char *buf);
/* KD_EINVAL, "ORIGIN:LINE: line longer than 4096 bytes". */
kd_status kd_input_line_too_long(const char *origin, size_t line);

#endif
