/* Scenario files and presets: INI text through libinih into kd_config_set. */
#include "kdbench/scenario.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/input_file.h"

/* inih reads lines through this source, which counts them: a handler error then
 * names its own line (inih only returns the line of its first error, which may be
 * a syntax error before it). A line longer than KD_LINE_MAX ends the reading there
 * (inih sees the end of the file) and is the error. */
typedef struct {
  FILE *f;         /* a file, or */
  const char *s;   /* the rest of a text */
  int lines, open; /* lines read to their newline; the last read ended mid-line */
  int too_long;    /* the line longer than KD_LINE_MAX, or 0 */
} line_source;

static char *read_line(char *buf, int num, void *stream) {
  line_source *src = stream;
  int got = 0;
  if (num < KD_LINE_MAX + 2) abort(); /* configure_inih sizes inih's buffer for the longest line */
  if (src->f) {
    got = kd_input_line(src->f, buf);
  } else if (*src->s) {
    size_t n = strcspn(src->s, "\n");
    got = n > KD_LINE_MAX ? -1 : 1;
    if (got > 0) {
      n += src->s[n] == '\n';
      memcpy(buf, src->s, n);
      buf[n] = '\0';
      src->s += n;
    }
  }
  if (got < 0) src->too_long = src->lines + 1;
  if (got <= 0) return NULL;
  size_t n = strlen(buf);
  src->open = !(n && buf[n - 1] == '\n');
  src->lines += !src->open;
  return buf;
}

#define MAX_KEYS 64 /* more than kd_config has settings */

typedef struct {
  kd_config *cfg;
  line_source *src;
  const char *origin;
  kd_status st;     /* the first error; inih goes on after a failed line */
  int line;         /* its line */
  char reason[512]; /* its reason, without the origin */
  /* The keys set so far and their lines: a key given twice is refused, not the last
   * taken. Names are those of kd_config_known: short. */
  char key[MAX_KEYS][32];
  int key_line[MAX_KEYS], n_keys;
} load_state;

/* 1 (and the reason) when `name` was set before in this text. */
static int given_before(load_state *s, const char *name) {
  for (int i = 0; i < s->n_keys; ++i)
    if (!strcmp(s->key[i], name)) {
      snprintf(s->reason, sizeof s->reason, "key '%s' given twice, first at %s:%d", name,
               s->origin, s->key_line[i]);
      return 1;
    }
  if (s->n_keys < MAX_KEYS && strlen(name) < sizeof s->key[0]) {
    strcpy(s->key[s->n_keys], name);
    s->key_line[s->n_keys++] = s->line;
  }
  return 0;
}

static int on_setting(void *user, const char *section, const char *name, const char *value) {
  load_state *s = user;
  if (s->st != KD_OK) return 1;
  s->line = s->src->lines + s->src->open;
  const char *home = NULL;
  if (!kd_config_known(name, &home)) {
    s->st = KD_EINVAL;
    snprintf(s->reason, sizeof s->reason, "unknown key '%s' in [%s]", name, section);
    return 0;
  }
  if (strcmp(section, home) != 0) {
    s->st = KD_EINVAL;
    snprintf(s->reason, sizeof s->reason, "key '%s' belongs in [%s], found in [%s]", name, home,
             section);
    return 0;
  }
  if (given_before(s, name)) {
    s->st = KD_EINVAL;
    return 0;
  }
  kd_status st = kd_config_set(s->cfg, name, value);
  if (st != KD_OK) {
    s->st = st;
    snprintf(s->reason, sizeof s->reason, "%s", kd_last_error());
    return 0;
  }
  return 1;
}

/* A line buffer for the longest line read_line passes (with its "\r\n" and NUL), and
 * no continuation lines: with them (libinih's default) an indented "p = 20" was read
 * as more of the value of the key before it. Indented lines are lines like others. */
static void configure_inih(void) {
  ini_use_stack = 0;
  ini_allow_realloc = 0;
  ini_initial_alloc = ini_max_line = KD_LINE_MAX + 3; /* a heap buffer has the initial size */
  ini_allow_multiline = 0;
}

/* The first error in line order: the handler's (s.line) or inih's own (rc: its line).
 * *settings: how many were applied. */
static kd_status parse(kd_config *c, line_source *src, const char *origin, int *settings) {
  configure_inih();
  load_state s = {.cfg = c, .src = src, .origin = origin};
  int rc = ini_parse_stream(read_line, src, on_setting, &s);
  if (s.st != KD_OK && (rc <= 0 || s.line <= rc))
    return kd_fail(s.st, "%s:%d: %s", origin, s.line, s.reason);
  if (rc < 0) return kd_fail(KD_ENOMEM, "%s: out of memory", origin);
  if (rc > 0)
    return kd_fail(KD_EINVAL, "%s:%d: not an INI line (expected [section] or key = value)", origin, rc);
  if (src->too_long) return kd_input_line_too_long(origin, (size_t)src->too_long);
  *settings = s.n_keys;
  return KD_OK;
}

kd_status kd_scenario_load(kd_config *c, const char *path) {
  FILE *f;
  if (kd_input_open(path, &f) != KD_OK) return kd_fail(KD_EIO, "--scenario: %s", kd_last_error());
  line_source src = {.f = f};
  int settings = 0;
  kd_status st = parse(c, &src, path, &settings);
  if (st == KD_OK && ferror(f)) st = kd_fail(KD_EIO, "%s: cannot read", path);
  /* An empty file (or only comments) would run the embedded default job, into
   * results/, without a word. */
  if (st == KD_OK && settings == 0)
    st = kd_fail(KD_EINVAL, "%s: no setting in it (expected key = value lines under [section]s; "
                 "to run the default job, give no --scenario)", path);
  fclose(f);
  return st;
}

kd_status kd_scenario_load_text(kd_config *c, const char *text, const char *origin) {
  line_source src = {.s = text};
  int settings = 0; /* a preset part may be empty: it changes nothing */
  return parse(c, &src, origin, &settings);
}
