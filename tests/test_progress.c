/* The progress line on a terminal: kdbench run under a pseudo-terminal (forkpty), so
 * that the table (standard output) and the progress line (standard error) go to the
 * same terminal, as in a shell. What the terminal shows is replayed from the bytes
 * (carriage return, erase to the end of the line, newline): no line that stays on the
 * screen may hold progress text, every table row must be whole; and the time left the
 * line announces halfway through the computed points is compared with the time the
 * run really took from there. Points resumed from the output enter neither the pace
 * nor the time left. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kd_test.h"

TestSuite(terminal, .init = kd_test_dir_make, .fini = kd_test_dir_remove, .timeout = 600);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One drawing of the progress line: when it reached the terminal, and its text. */
typedef struct {
  double t;
  char text[160];
} drawing;

typedef struct {
  char *bytes; /* everything the terminal received */
  size_t len;
  double *at;  /* at[i]: when byte i arrived */
  double end;  /* when the output ended */
  int status;
} session;

/* Runs kdbench `args` (split at spaces) on a new pseudo-terminal of 160 columns. */
static session run_on_terminal(const char *args) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", args);
  char *argv[64];
  int argc = 0;
  argv[argc++] = "kdbench";
  for (char *w = strtok(buf, " "); w && argc < 63; w = strtok(NULL, " ")) argv[argc++] = w;
  argv[argc] = NULL;
  struct winsize ws = {.ws_row = 50, .ws_col = 160};
  int fd = -1;
  pid_t pid = forkpty(&fd, NULL, NULL, &ws);
  cr_assert_neq(pid, -1, "forkpty: %s", strerror(errno));
  if (pid == 0) {
    execv(KDBENCH_BIN, argv);
    _exit(127);
  }
  session s = {0};
  size_t cap = 0;
  for (;;) {
    char chunk[4096];
    ssize_t got = read(fd, chunk, sizeof chunk);
    if (got <= 0) break; /* EIO once the child has closed the terminal */
    double t = now();
    if (s.len + (size_t)got > cap) {
      cap = 2 * (s.len + (size_t)got);
      s.bytes = realloc(s.bytes, cap);
      s.at = realloc(s.at, cap * sizeof *s.at);
      cr_assert(s.bytes && s.at);
    }
    memcpy(s.bytes + s.len, chunk, (size_t)got);
    for (ssize_t i = 0; i < got; ++i) s.at[s.len + (size_t)i] = t;
    s.len += (size_t)got;
  }
  s.end = now();
  close(fd);
  cr_assert_eq(waitpid(pid, &s.status, 0), pid);
  return s;
}

static void session_free(session *s) {
  free(s->bytes);
  free(s->at);
}

/* The lines that stay on the screen: each byte written at the cursor, '\r' back to
 * column 0, ESC [ K erasing to the end of the line, '\n' ending it. */
static size_t screen_lines(const session *s, char lines[][256], size_t max) {
  char cur[256] = "";
  size_t col = 0, count = 0;
  for (size_t i = 0; i < s->len; ++i) {
    char ch = s->bytes[i];
    if (ch == '\r') {
      col = 0;
    } else if (ch == '\n') {
      if (count < max) snprintf(lines[count++], 256, "%s", cur);
      cur[0] = '\0';
      col = 0;
    } else if (ch == '\033' && i + 2 < s->len && s->bytes[i + 1] == '[' && s->bytes[i + 2] == 'K') {
      cur[col] = '\0';
      i += 2;
    } else if (col < sizeof cur - 1) {
      size_t len = strlen(cur);
      cur[col] = ch;
      if (col >= len) cur[col + 1] = '\0';
      ++col;
    }
  }
  if (cur[0] && count < max) snprintf(lines[count++], 256, "%s", cur);
  return count;
}

/* Every drawing of the progress line, in order. */
static size_t drawings(const session *s, drawing *d, size_t max) {
  static const char mark[] = "\r\033[Kkdbench: ";
  size_t count = 0;
  for (size_t i = 0; i + sizeof mark - 1 <= s->len && count < max; ++i) {
    if (memcmp(s->bytes + i, mark, sizeof mark - 1) != 0) continue;
    size_t j = i + 4, k = 0;
    while (j < s->len && s->bytes[j] != '\r' && s->bytes[j] != '\n' && k < sizeof d->text - 1)
      d[count].text[k++] = s->bytes[j++];
    d[count].text[k] = '\0';
    d[count].t = s->at[j - 1];
    ++count;
  }
  return count;
}

/* The seconds of "about M:SS left" in a drawing; -1 when it announces none. */
static double time_left(const drawing *d) {
  const char *a = strstr(d->text, "about ");
  unsigned m = 0, sec = 0;
  if (!a || sscanf(a, "about %u:%u left", &m, &sec) != 2) return -1;
  return 60.0 * m + sec;
}

/* What every run on the terminal must show: exit 0; on the screen the table's comment
 * lines and `rows` whole rows (n, pipeline, ...), nothing of the progress line. */
static void expect_clean_screen(const session *s, size_t rows) {
  cr_assert(WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0, "kdbench failed: %.*s",
            (int)s->len, s->bytes);
  static char lines[512][256];
  size_t count = screen_lines(s, lines, 512), seen = 0;
  for (size_t i = 0; i < count; ++i) {
    cr_expect(strstr(lines[i], "kdbench:") == NULL, "screen line %zu holds progress text: '%s'", i,
              lines[i]);
    unsigned n;
    char pipeline[16], kind[16];
    if (lines[i][0] == '#' || strncmp(lines[i], "     n  pipeline", 16) == 0) continue;
    int fields = sscanf(lines[i], "%u %15s %*s %*g %*g %*g %*g %15s", &n, pipeline, kind);
    cr_expect(fields == 3 && (!strcmp(kind, "de") || !strcmp(kind, "exact")),
              "screen line %zu is not a whole table row: '%s'", i, lines[i]);
    ++seen;
  }
  cr_expect_eq(seen, rows, "%zu table rows on the screen, want %zu", seen, rows);
}

/* The drawing halfway through the computed points (done >= first + (total - first)/2)
 * announces a time left within a factor of 2 of the time the run really took from
 * there: the cost model weights the points, calibrated on those computed so far. */
static void expect_eta_halfway(const session *s, const drawing *d, size_t count, unsigned first,
                               unsigned total) {
  for (size_t i = 0; i < count; ++i) {
    unsigned done = 0, all = 0;
    cr_assert_eq(sscanf(d[i].text, "kdbench: %u/%u points", &done, &all), 2, "'%s'", d[i].text);
    if (done < first || 2 * (done - first) < total - first) continue;
    double left = time_left(&d[i]), real = s->end - d[i].t;
    cr_assert_geq(left, 0, "no time left at the halfway point: '%s'", d[i].text);
    cr_expect(left <= 2 * real + 1 && real <= 2 * left + 1,
              "halfway ('%s'): about %.0f s left announced, %.1f s really", d[i].text, left, real);
    return;
  }
  cr_assert_fail("no drawing past the halfway point");
}

#define SWEEP "--sweep n --trials 30"

Test(terminal, rows_never_share_the_progress_line_and_the_time_left_holds) {
  char args[512];
  snprintf(args, sizeof args, SWEEP " --csv %s", kd_test_path("r.csv"));
  session s = run_on_terminal(args);
  expect_clean_screen(&s, 17 * 4);
  drawing d[64];
  size_t count = drawings(&s, d, 64);
  cr_expect_eq(count, 17, "%zu drawings of the progress line, want one per point", count);
  for (size_t i = 0; i < count; ++i) {
    cr_expect(strstr(d[i].text, " trials/s, about ") != NULL, "drawing %zu: '%s'", i, d[i].text);
    cr_expect(strstr(d[i].text, "already done") == NULL, "drawing %zu: '%s'", i, d[i].text);
  }
  expect_eta_halfway(&s, d, count, 0, 17);
  session_free(&s);
}

/* 8 of the 17 points are taken from the output: their drawings say so and announce no
 * pace (none was measured), later ones count only the computed points' trials. */
Test(terminal, resumed_points_stay_out_of_the_pace) {
  char args[512];
  snprintf(args, sizeof args, SWEEP " --quiet --csv %s", kd_test_path("r.csv"));
  session first = run_on_terminal(args);
  cr_assert(WIFEXITED(first.status) && WEXITSTATUS(first.status) == 0);
  session_free(&first);
  /* keep the first 8 points (4 rows each) of the JSON Lines */
  cr_assert_eq(kd_test_count_lines("r.jsonl"), 17 * 4);
  for (int i = 17 * 4; i > 32; --i) kd_test_set_line("r.jsonl", (size_t)i, NULL);

  snprintf(args, sizeof args, SWEEP " --csv %s", kd_test_path("r.csv"));
  session s = run_on_terminal(args);
  expect_clean_screen(&s, 17 * 4);
  drawing d[64];
  size_t count = drawings(&s, d, 64);
  cr_assert_eq(count, 17, "%zu drawings of the progress line, want one per point", count);
  for (size_t i = 0; i < count; ++i) {
    char want[64];
    snprintf(want, sizeof want, "kdbench: %zu/17 points (%zu already done)", i + 1, i + 1);
    if (i < 8) cr_expect_str_eq(d[i].text, want, "drawing %zu", i);
    else cr_expect(strstr(d[i].text, " points (8 already done), ") && strstr(d[i].text, " trials/s, about "),
                   "drawing %zu: '%s'", i, d[i].text);
    cr_expect(strstr(d[i].text, " 0 trials/s") == NULL && strstr(d[i].text, "?") == NULL,
              "drawing %zu: '%s'", i, d[i].text);
  }
  expect_eta_halfway(&s, d, count, 8, 17);
  session_free(&s);
}
