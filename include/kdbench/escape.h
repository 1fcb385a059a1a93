/* Text made safe for a Markdown table cell or for LaTeX, and numbers formatted for
 * the tables of kdbench (the run report, the fit tables). Below every table writer:
 * it knows no table. */
#ifndef KDBENCH_ESCAPE_H
#define KDBENCH_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* `text` as LaTeX text-mode source that typesets it literally: the ten specials
 * (# $ % & _ { } ~ ^ \) and < > | escaped, control characters as spaces, and
 * non-ASCII characters (which LaTeX may not know) as '?'. */
void kd_tex_escape(FILE *out, const char *text);

/* `text` as GFM inline text, safe in a table cell: Markdown punctuation and '|'
 * backslash-escaped, control characters (line breaks) as spaces. */
void kd_md_escape(FILE *out, const char *text);

/* x to `digits` significant digits: "0.9916", "12535", "0.00086", "1.234e-5", "inf", "nan". */
void kd_fmt_digits(double x, int digits, char *out, size_t len);

/* A number from kd_fmt_digits or %g, in LaTeX math mode (without the $): 1.2e-05 as
 * 1.2\times10^{-5}, inf as \infty, nan as \mathrm{nan}. */
void kd_tex_number(FILE *out, const char *s);

#endif
