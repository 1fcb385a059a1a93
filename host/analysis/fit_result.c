/* The fit's result: its notes, and freeing it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

kd_status kd_fit_note(kd_fit_result *res, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  for (size_t i = 0; i < res->nnotes; ++i)
    if (!strcmp(res->notes[i], text)) return KD_OK; /* once */
  char **bigger = realloc(res->notes, (res->nnotes + 1) * sizeof *bigger);
  if (!bigger) return kd_fail(KD_ENOMEM, "fit: out of memory");
  res->notes = bigger;
  if (!(res->notes[res->nnotes] = strdup(text))) return kd_fail(KD_ENOMEM, "fit: out of memory");
  res->nnotes++;
  return KD_OK;
}

void kd_fit_result_free(kd_fit_result *res) {
  for (size_t i = 0; i < res->nnotes; ++i) free(res->notes[i]);
  for (size_t g = 0; g < res->ngroups; ++g) free(res->groups[g].x);
  free(res->notes);
  free(res->groups);
  free(res->w2s);
  free(res->cross);
  free(res->steps);
  memset(res, 0, sizeof *res);
}
