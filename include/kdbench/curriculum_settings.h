/* The settings of the curriculum pipeline's SGD student (include/kdbench/curriculum.h),
 * in the [curriculum] section of a scenario and as flags of the same names: difficulty,
 * order (a list: the rows' groups), pacing, step, budget, checkpoints, easy-fraction,
 * easy-sigma, hard-sigma, held in the config's pipe_opts (include/kdbench/pipeline.h).
 * Set through kd_config_set like every setting; printed, hence hashed, only in a
 * scenario that selects the curriculum pipeline, so that no other scenario's text or
 * hash changes. */
#ifndef KDBENCH_CURRICULUM_SETTINGS_H
#define KDBENCH_CURRICULUM_SETTINGS_H

#include <stdio.h>

#include "kdbench/config.h"

/* 1 when `name` is one of the settings above. */
int kd_curriculum_setting(const char *name);
/* Sets one of them from text; the error names the flag and the text (a step of
 * eta <= 0, an unknown order or pacing, a budget or checkpoints that are not positive
 * integers). A refused value leaves the config as it was. */
kd_status kd_curriculum_set(kd_config *c, const char *name, const char *text);
/* The [curriculum] section, from the typed values (one text for every spelling). */
void kd_curriculum_print(const kd_config *c, FILE *out);
#endif
