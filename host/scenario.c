/* Scenario files and presets: INI text through libinih into kd_config_set. */
#include "kdbench/scenario.h"

#include <ini.h>
#include <string.h>

typedef struct {
  kd_config *cfg;
  const char *origin;
  kd_status st; /* the first error; inih goes on after a failed line */
} load_state;

static int on_setting(void *user, const char *section, const char *name, const char *value) {
  load_state *s = user;
  if (s->st != KD_OK) return 1;
  const char *home = NULL;
  if (!kd_config_known(name, &home)) {
    s->st = kd_fail(KD_EINVAL, "%s: unknown key '%s' in [%s]", s->origin, name, section);
    return 0;
  }
  if (strcmp(section, home) != 0) {
    s->st = kd_fail(KD_EINVAL, "%s: key '%s' belongs in [%s], found in [%s]", s->origin, name,
                    home, section);
    return 0;
  }
  kd_status st = kd_config_set(s->cfg, name, value);
  if (st != KD_OK) {
    /* Prefix the setter's reason with where it came from. */
    char reason[400];
    snprintf(reason, sizeof reason, "%s", kd_last_error());
    s->st = kd_fail(st, "%s: %s", s->origin, reason);
    return 0;
  }
  return 1;
}

/* Long axis lists make long lines: let inih grow its line buffer. */
static void configure_inih(void) {
  ini_use_stack = 0;
  ini_allow_realloc = 1;
  ini_max_line = 1 << 20;
}

static kd_status finish(load_state *s, int rc, const char *origin) {
  if (s->st != KD_OK) return s->st;
  if (rc < 0) return kd_fail(KD_EIO, "%s: cannot read: %m", origin);
  if (rc > 0) return kd_fail(KD_EINVAL, "%s:%d: not an INI line (expected [section] or key = value)", origin, rc);
  return KD_OK;
}

kd_status kd_scenario_load(kd_config *c, const char *path) {
  configure_inih();
  FILE *f = fopen(path, "r");
  if (!f) return kd_fail(KD_EIO, "--scenario: cannot open %s: %m", path);
  load_state s = {.cfg = c, .origin = path};
  int rc = ini_parse_file(f, on_setting, &s);
  fclose(f);
  return finish(&s, rc, path);
}

kd_status kd_scenario_load_text(kd_config *c, const char *text, const char *origin) {
  configure_inih();
  load_state s = {.cfg = c, .origin = origin};
  return finish(&s, ini_parse_string(text, on_setting, &s), origin);
}
