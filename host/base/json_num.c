/* Exact JSON numbers and whole JSON documents (include/kdbench/json_num.h). */
#include "kdbench/json_num.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/file_io.h"
#include "kdbench/number.h"

cJSON *kd_json_number(double x) {
  if (isnan(x)) return cJSON_CreateNull();
  if (isinf(x)) return cJSON_CreateString(x > 0 ? "inf" : "-inf");
  char text[KD_NUMBER_TEXT_LEN];
  kd_number_text(x, text);
  return cJSON_CreateRaw(text);
}

void kd_json_add_number(cJSON *o, const char *key, double x) {
  cJSON_AddItemToObject(o, key, kd_json_number(x));
}

kd_status kd_json_replace(const char *path, const cJSON *o) {
  char *text = o ? cJSON_Print(o) : NULL;
  size_t len = text ? strlen(text) : 0;
  char *line = text ? realloc(text, len + 2) : NULL;
  if (!line) {
    free(text);
    return kd_fail(KD_ENOMEM, "%s: out of memory", path);
  }
  line[len] = '\n';
  kd_status st = kd_file_replace(path, line, len + 1);
  free(line);
  return st;
}
