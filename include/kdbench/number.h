/* The one grammar of the numbers kdbench reads from its user: flags, scenario values,
 * axis lists and ranges, the numbers inside --spectrum, --shard and fit's options, and
 * the lines of spectrum and beta* files (README.md, "Numbers"):
 *
 *     [+|-] (D [. [D]] | . D) [(e|E) [+|-] D]        D: one or more digits 0-9
 *
 * Decimal only: no hexadecimal (0x10, 0x1p-3), no inf or nan, no space inside a
 * number; spaces and tabs around it are ignored (in a flag as in a file, before a list's
 * comma as after it). The value is the nearest double; a number beyond the largest
 * double (1.8e308), or one that is not 0 but rounds to it (below 4.9e-324), is refused.
 * Subnormals (1e-320) are numbers. Ranges of each setting are the callers'. */
#ifndef KDBENCH_NUMBER_H
#define KDBENCH_NUMBER_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  KD_NUM_OK,
  KD_NUM_SYNTAX,    /* not a number of the grammar */
  KD_NUM_TOO_LARGE, /* beyond the largest double (or, whole, beyond 2^64 - 1) */
  KD_NUM_TOO_SMALL, /* not 0, but rounds to 0 */
  KD_NUM_NOT_WHOLE, /* kd_whole_parse: a number, but not a whole one >= 0 */
} kd_num;

/* The number in text (all of it but the spaces around) into *x. */
kd_num kd_number_parse(const char *text, double *x);
/* The same for the len bytes at s (an item of a list, a part of a spec). */
kd_num kd_number_parse_span(const char *s, size_t len, double *x);
/* A whole number >= 0 written in the grammar: exact up to 2^64 - 1 when written with
 * digits only, else (1e3, 200.0) exact up to 2^53. */
kd_num kd_whole_parse(const char *text, uint64_t *x);
kd_num kd_whole_parse_span(const char *s, size_t len, uint64_t *x);

/* The reason as the end of a message: "" for KD_NUM_SYNTAX and KD_NUM_NOT_WHOLE (the
 * message's "expected ..., got '...'" says it), " (too large)", " (too small to tell
 * from 0)". */
const char *kd_num_why(kd_num r);

/* x as the shortest of %.15g, %.16g, %.17g that reads back as x (at most 24 bytes with
 * the '\0'): one text for every spelling of a number (2, 2.0, 2e0 -> "2"), exact. */
#define KD_NUMBER_TEXT_LEN 32
void kd_number_text(double x, char out[KD_NUMBER_TEXT_LEN]);

#endif
