/* Numbers in kdbench's JSON files: exact round trip, NaN as null, infinities as the
 * strings "inf" / "-inf" (JSON has neither). */
#ifndef KDBENCH_JSON_NUM_H
#define KDBENCH_JSON_NUM_H

#include <cJSON.h>

/* The shortest of %.15g, %.16g, %.17g that reads back as x: cJSON's own printer
 * accepts a 15-digit form within an epsilon of x, which is not exact. */
cJSON *kd_json_number(double x);

#endif
