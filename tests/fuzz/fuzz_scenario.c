/* libFuzzer target: the scenario loader (kd_scenario_load_text), then the checks and
 * the printer of what it accepted. tests/fuzz/README.md says how it is built and run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/config.h"
#include "kdbench/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1); /* the loader reads a NUL-terminated text */
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  kd_config c;
  kd_config_default(&c);
  if (kd_scenario_load_text(&c, text, "fuzz") == KD_OK && kd_config_check(&c) == KD_OK) {
    FILE *out = fopen("/dev/null", "w");
    if (out) {
      kd_config_print(&c, out, 0);
      kd_config_print(&c, out, 1);
      fclose(out);
    }
  }
  free(text);
  return 0;
}
