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

/* ---- presets -------------------------------------------------------------------------- */

typedef struct {
  const char *name, *about, *text;
} preset;

/* Every preset starts from BASE: a preset only says what differs. */
static const char *BASE =
    "[problem]\np = 500\nspectrum = powerlaw\nalpha = 2\nbeta = powerlaw\nsignal-exp = 1.5\n"
    "sigma = 0.5\nteacher-sigma = same\n"
    "[student]\nridge = 0\n"
    "[teacher]\nm = 5000\nk = auto\n"
    "[sweep]\nsweep = n\nn = default\npipelines = strong,optimal,mask,w2s\ntrials = 200\nseed = 1\n"
    "[run]\njob = sweep\nbackend = auto\n"
    "[output]\ncsv = results/sweep-n.csv\nraw = false\n";

static const preset PRESETS[] = {
    {"fig1", "the paper's Figure 1 setting: risk against n at p = 500 (the default)", ""},
};

kd_status kd_scenario_preset(kd_config *c, const char *name) {
  for (size_t i = 0; i < sizeof PRESETS / sizeof *PRESETS; ++i) {
    if (strcmp(name, PRESETS[i].name) != 0) continue;
    int quiet = c->quiet, verbose = c->verbose, force = c->force;
    memset(c, 0, sizeof *c);
    c->quiet = quiet, c->verbose = verbose, c->force = force;
    char origin[64];
    snprintf(origin, sizeof origin, "preset %s", name);
    kd_status st = kd_scenario_load_text(c, BASE, origin);
    return st == KD_OK ? kd_scenario_load_text(c, PRESETS[i].text, origin) : st;
  }
  return kd_fail(KD_EINVAL, "--preset: unknown '%s' (see kdbench --list-presets)", name);
}

void kd_scenario_list_presets(FILE *out) {
  for (size_t i = 0; i < sizeof PRESETS / sizeof *PRESETS; ++i)
    fprintf(out, "%-10s %s\n", PRESETS[i].name, PRESETS[i].about);
}
