/* libFuzzer target: the axis-range parser (kd_axis_values): the first byte picks the
 * axis, the rest is the text of --n, --p, ... (lists, A:B:logN, A:B:linN, A:B:pow2);
 * what it accepts must keep the promises of an axis (a crash here is a finding). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/config.h"
#include "kdbench/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char *text = malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  double *v = NULL;
  size_t count = 0;
  const kd_axis a = (kd_axis)(data[0] % KD_NAXES);
  if (kd_axis_values(a, text, &v, &count) == KD_OK) {
    /* What an accepted axis promises (include/kdbench/config.h): values, all finite,
     * none twice; an integer axis's whole and >= 1; alpha > 0; ridge, sigma >= 0 and
     * within the range kdbench computes with (include/kdbench/problem.h). */
    for (size_t i = 0; i < count; ++i) {
      int bad = !isfinite(v[i]) || (kd_axis_is_integer(a) && (v[i] < 1 || v[i] != floor(v[i]))) ||
                (a == KD_AXIS_ALPHA && !(v[i] > 0)) || (!kd_axis_is_integer(a) && v[i] < 0 && a != KD_AXIS_ALPHA) ||
                (a == KD_AXIS_RIDGE && v[i] > KD_SCALE_MAX) || (a == KD_AXIS_SIGMA && v[i] > KD_SIGMA_MAX) ||
                (a == KD_AXIS_ALPHA && v[i] > KD_ALPHA_MAX);
      for (size_t j = 0; j < i && !bad; ++j) bad = v[j] == v[i];
      if (bad) {
        fprintf(stderr, "fuzz_axis: --%s '%s' accepted with value %zu = %g\n", kd_axis_name(a), text,
                i, v[i]);
        abort();
      }
    }
    free(v);
  }
  free(text);
  return 0;
}
