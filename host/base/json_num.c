/* Exact JSON numbers (see include/kdbench/json_num.h). */
#include "kdbench/json_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

cJSON *kd_json_number(double x) {
  if (isnan(x)) return cJSON_CreateNull();
  if (isinf(x)) return cJSON_CreateString(x > 0 ? "inf" : "-inf");
  char text[32];
  for (int digits = 15; digits <= 17; ++digits) {
    snprintf(text, sizeof text, "%.*g", digits, x);
    if (strtod(text, NULL) == x) break;
  }
  return cJSON_CreateRaw(text);
}
