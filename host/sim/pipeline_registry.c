/* The registry of pipelines (include/kdbench/pipeline_list.h: one line each) and the
 * parsing of their names. Above the descriptors it lists; below the plan and the
 * trials, which look pipelines up in it. */
#include "kdbench/pipeline.h"

#include <stdio.h>
#include <string.h>

const kd_pipeline_type *const kd_pipelines[KD_NPIPES] = {
#define KD_PIPELINE(ID, name) &kd_pipeline_##name,
#include "kdbench/pipeline_list.h"
#undef KD_PIPELINE
};

const char *kd_pipeline_name(kd_pipeline p) { return kd_pipelines[p]->name; }

kd_status kd_pipeline_parse(const char *name, size_t len, kd_pipeline *q) {
  for (int i = 0; i < KD_NPIPES; ++i)
    if (strlen(kd_pipelines[i]->name) == len && strncmp(name, kd_pipelines[i]->name, len) == 0) {
      *q = (kd_pipeline)i;
      return KD_OK;
    }
  char expected[256] = "";
  size_t used = 0;
  for (int i = 0; i < KD_NPIPES && used < sizeof expected; ++i)
    used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s",
                             i == 0 ? "" : i == KD_NPIPES - 1 ? " or " : ", ",
                             kd_pipelines[i]->name);
  return kd_fail(KD_EINVAL, "unknown pipeline '%.*s' (expected %s)", (int)len, name, expected);
}

kd_status kd_pipelines_parse(const char *list, unsigned *mask) {
  unsigned m = 0;
  const char *s = list;
  while (*s) {
    size_t len = strcspn(s, ",");
    kd_pipeline q;
    kd_status st = kd_pipeline_parse(s, len, &q);
    if (st) return st;
    m |= 1u << q;
    s += len;
    if (*s == ',') ++s;
  }
  if (!m) return kd_fail(KD_EINVAL, "no pipeline named in '%s'", list);
  *mask = m;
  return KD_OK;
}
