/* kdbench's JSON files: numbers with an exact round trip, NaN as null, infinities as
 * the strings "inf" / "-inf" (JSON has neither); a document written whole. */
#ifndef KDBENCH_JSON_NUM_H
#define KDBENCH_JSON_NUM_H

#include <cJSON.h>

#include "kdbench/status.h"

/* The shortest of %.15g, %.16g, %.17g that reads back as x: cJSON's own printer
 * accepts a 15-digit form within an epsilon of x, which is not exact. */
cJSON *kd_json_number(double x);
/* o[key] = kd_json_number(x). */
void kd_json_add_number(cJSON *o, const char *key, double x);

/* path's content becomes o as cJSON prints it, with a final newline, replaced
 * atomically (kd_file_replace): the metadata and NAME.fit.json. */
kd_status kd_json_replace(const char *path, const cJSON *o);

#endif
