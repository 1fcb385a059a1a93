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

#endif
