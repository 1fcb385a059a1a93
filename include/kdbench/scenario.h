/* Scenario files (INI, read with libinih) and the named presets embedded in
 * kdbench. A scenario sets any setting of kd_config by the name of its flag, in the
 * section kd_config_known gives it; kd_config_print writes one back. */
#ifndef KDBENCH_SCENARIO_H
#define KDBENCH_SCENARIO_H

#include <stdio.h>

#include "kdbench/config.h"

/* Applies the settings of the scenario file `path` to c (on top of what c holds).
 * Errors name the file, the line and the key; a key given twice is refused, naming
 * both lines (a key of the file over what c holds is an override). A file without
 * any setting (empty, only comments or sections) is refused. */
kd_status kd_scenario_load(kd_config *c, const char *path);
/* The same for INI text; `origin` names it in errors. */
kd_status kd_scenario_load_text(kd_config *c, const char *text, const char *origin);
/* Presets (host/scenario/presets.c): embedded scenarios, each of one or more parts (a part is
 * one run with its own output under results/<preset>/). */

/* Number of parts of preset `name`; 0 when there is no such preset. */
int kd_scenario_preset_parts(const char *name);
/* Resets c (keeping quiet, verbose, force), then applies part `part` of the preset.
 * With `quick`, the preset's reduced size for CI (few trials, a coarse grid) and
 * outputs under results/quick/ instead of results/. The values it gives an axis it
 * does not sweep are defaults (kd_config_unswept_as_defaults): sweeping that axis
 * later takes its default grid. */
kd_status kd_scenario_preset_part(kd_config *c, const char *name, int part, int quick);
/* Part 0, full size. */
kd_status kd_scenario_preset(kd_config *c, const char *name);
/* The embedded default: the preset fig1 (the paper's Figure 1 setting). With the
 * presets, not the settings (host/scenario/config.c), which know nothing of them. */
void kd_config_default(kd_config *c);
/* One line per preset: name, parts and what it computes. */
void kd_scenario_list_presets(FILE *out);

#endif
