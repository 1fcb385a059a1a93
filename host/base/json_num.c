/* Exact JSON numbers (see include/kdbench/json_num.h). */
#include "kdbench/json_num.h"

#include <math.h>

#include "kdbench/number.h"

cJSON *kd_json_number(double x) {
  if (isnan(x)) return cJSON_CreateNull();
  if (isinf(x)) return cJSON_CreateString(x > 0 ? "inf" : "-inf");
  char text[KD_NUMBER_TEXT_LEN];
  kd_number_text(x, text);
  return cJSON_CreateRaw(text);
}
