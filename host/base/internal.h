/* Private to the table model and its emitters (host/table*.c). */
#ifndef KDBENCH_TABLE_INTERNAL_H
#define KDBENCH_TABLE_INTERNAL_H

#include "kdbench/table.h"

/* x (ci: the ± part) as column c prints it: printf's fmt, else its significant digits. */
void kd_table_number(const kd_column *c, double x, int ci, char *out, size_t len);

#endif
