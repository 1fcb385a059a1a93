/* The number grammar of include/kdbench/number.h: checked by hand, then converted by
 * strtod / strtoull, which alone would also take hexadecimal, inf, nan and leading
 * spaces (but not trailing ones). */
#include "kdbench/number.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [*b, *e) without the blanks around it. */
static void trim(const char **b, const char **e) {
  while (*b < *e && is_blank(**b)) ++*b;
  while (*e > *b && is_blank((*e)[-1])) --*e;
}

static const char *digits(const char *s, const char *e) {
  while (s < e && is_digit(*s)) ++s;
  return s;
}

/* 1 when [s, e) is exactly a number of the grammar; *digits_only when it is [+]D. */
static int grammatical(const char *s, const char *e, int *digits_only) {
  const char *start = s;
  int plus = s < e && *s == '+';
  if (s < e && (*s == '+' || *s == '-')) ++s;
  const char *d = digits(s, e);
  int whole = d > s;
  s = d;
  *digits_only = whole && s == e && (plus || *start != '-');
  if (s < e && *s == '.') {
    d = digits(s + 1, e);
    if (!whole && d == s + 1) return 0; /* "." or "-." */
    s = d;
  } else if (!whole) {
    return 0;
  }
  if (s < e && (*s == 'e' || *s == 'E')) {
    ++s;
    if (s < e && (*s == '+' || *s == '-')) ++s;
    d = digits(s, e);
    if (d == s) return 0;
    s = d;
  }
  return s == e;
}

/* A NUL-terminated copy of [s, e) for strtod and strtoull; NULL when out of memory. */
static char *copy(const char *s, const char *e) { return strndup(s, (size_t)(e - s)); }

kd_num kd_number_parse_span(const char *s, size_t len, double *x) {
  const char *b = s, *e = s + len;
  trim(&b, &e);
  int digits_only;
  if (!grammatical(b, e, &digits_only)) return KD_NUM_SYNTAX;
  char *text = copy(b, e);
  if (!text) return KD_NUM_SYNTAX;
  errno = 0;
  double v = strtod(text, NULL);
  int range = errno == ERANGE;
  free(text);
  if (isinf(v)) return KD_NUM_TOO_LARGE;
  if (range && v == 0) return KD_NUM_TOO_SMALL; /* a subnormal also sets ERANGE: kept */
  *x = v;
  return KD_NUM_OK;
}

kd_num kd_number_parse(const char *text, double *x) {
  return kd_number_parse_span(text, strlen(text), x);
}

kd_num kd_whole_parse_span(const char *s, size_t len, uint64_t *x) {
  const char *b = s, *e = s + len;
  trim(&b, &e);
  int digits_only;
  if (!grammatical(b, e, &digits_only)) return KD_NUM_SYNTAX;
  if (digits_only) { /* exact beyond 2^53, as a 64-bit seed needs */
    char *text = copy(b, e);
    if (!text) return KD_NUM_SYNTAX;
    errno = 0;
    unsigned long long v = strtoull(text, NULL, 10);
    int range = errno == ERANGE;
    free(text);
    if (range) return KD_NUM_TOO_LARGE;
    *x = v;
    return KD_NUM_OK;
  }
  double v;
  kd_num r = kd_number_parse_span(b, (size_t)(e - b), &v);
  if (r != KD_NUM_OK) return r;
  if (!(v >= 0) || v != floor(v)) return KD_NUM_NOT_WHOLE;
  if (v > 9007199254740992.0) return KD_NUM_TOO_LARGE; /* 2^53: above it a double skips integers */
  *x = (uint64_t)v;
  return KD_NUM_OK;
}

kd_num kd_whole_parse(const char *text, uint64_t *x) {
  return kd_whole_parse_span(text, strlen(text), x);
}

const char *kd_num_why(kd_num r) {
  switch (r) {
    case KD_NUM_TOO_LARGE: return " (too large)";
    case KD_NUM_TOO_SMALL: return " (too small to tell from 0)";
    default: return "";
  }
}

void kd_number_text(double x, char out[KD_NUMBER_TEXT_LEN]) {
  for (int digits = 15; digits <= 17; ++digits) {
    snprintf(out, KD_NUMBER_TEXT_LEN, "%.*g", digits, x);
    if (strtod(out, NULL) == x) break;
  }
}
