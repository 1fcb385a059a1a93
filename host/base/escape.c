/* Escapes for Markdown and LaTeX, and the number formatting of the tables. */
#include "kdbench/escape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kd_md_escape(FILE *out, const char *text) {
  for (const unsigned char *s = (const unsigned char *)text; *s; ++s) {
    if (*s < 0x20 || *s == 0x7f)
      fputc(' ', out); /* a line break would end the cell */
    else if (strchr("\\`*_[]<>|~&$", *s))
      fprintf(out, "\\%c", *s);
    else
      fputc(*s, out);
  }
}

void kd_tex_escape(FILE *out, const char *text) {
  for (const unsigned char *s = (const unsigned char *)text; *s; ++s) {
    switch (*s) {
      case '\\': fputs("\\textbackslash{}", out); break;
      case '~': fputs("\\textasciitilde{}", out); break;
      case '^': fputs("\\textasciicircum{}", out); break;
      /* OT1 fonts print these three as other glyphs (¡ ¿ —) in text mode */
      case '<': fputs("\\textless{}", out); break;
      case '>': fputs("\\textgreater{}", out); break;
      case '|': fputs("\\textbar{}", out); break;
      case '#':
      case '$':
      case '%':
      case '&':
      case '_':
      case '{':
      case '}': fprintf(out, "\\%c", *s); break;
      case '-': fputs(s[1] == '-' ? "-{}" : "-", out); break; /* no -- or --- dash */
      default:
        /* a blank line inside a caption would end the paragraph: control characters
         * become spaces; UTF-8 sequences become one '?' (LaTeX may not know them) */
        if (*s < 0x20 || *s == 0x7f)
          fputc(' ', out);
        else if (*s < 0x80)
          fputc(*s, out);
        else if ((*s & 0xc0) != 0x80)
          fputc('?', out);
    }
  }
}

void kd_fmt_digits(double x, int digits, char *out, size_t len) {
  if (isnan(x)) {
    snprintf(out, len, "nan");
    return;
  }
  if (isinf(x)) {
    snprintf(out, len, x > 0 ? "inf" : "-inf");
    return;
  }
  if (x == 0) {
    snprintf(out, len, "0");
    return;
  }
  /* the decimal exponent after rounding to `digits` (9.9996 -> 1.000e+01) */
  char e[64];
  snprintf(e, sizeof e, "%.*e", digits - 1, x);
  char *mark = strchr(e, 'e');
  int exp10 = atoi(mark + 1);
  if (exp10 < -4 || exp10 >= 6) {
    *mark = '\0';
    snprintf(out, len, "%se%d", e, exp10);
  } else {
    int decimals = digits - 1 - exp10;
    snprintf(out, len, "%.*f", decimals > 0 ? decimals : 0, x);
  }
}

void kd_tex_number(FILE *out, const char *s) {
  if (!strcmp(s, "inf"))
    fputs("\\infty", out);
  else if (!strcmp(s, "-inf"))
    fputs("-\\infty", out);
  else if (!strcmp(s, "nan"))
    fputs("\\mathrm{nan}", out);
  else if (strchr(s, 'e')) {
    int mantissa = (int)(strchr(s, 'e') - s);
    if (!(mantissa == 1 && s[0] == '1')) /* 1e-05 as 10^{-5} */
      fprintf(out, "%.*s\\times", mantissa, s);
    fprintf(out, "10^{%d}", atoi(s + mantissa + 1));
  } else {
    fputs(s, out);
  }
}
