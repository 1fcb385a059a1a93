/* The table model (include/kdbench/table.h) through its three emitters: one table
 * with a column of each kind (text, a printf number, a number to significant digits,
 * value ± interval, a range, a Markdown-only column), marks, cells not available, a
 * group, a caption and a note, compared byte for byte with what each format must be;
 * the LaTeX compiles with booktabs alone (where pdflatex is installed); bold cells; a
 * table far wider than a column, as table and as table*, fits the line in one- and
 * two-column documents (graphicx loaded: no overfull line). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"
#include "kdbench/table.h"

TestSuite(table);
TestSuite(table_latex, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

static const kd_mark star = {" s", "*", "^{*}"};

static void sample(kd_table *t) {
  kd_table_init(t);
  kd_table_column(t, &(kd_column){.head = "name", .align = KD_LEFT, .width = 6});
  kd_table_column(t, &(kd_column){.head = "n", .fmt = "%.0f", .width = 4, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "risk", .tex_head = "$R$", .group = "sim",
                                  .digits = 3, .md_infinity = 1, .width = 8});
  kd_table_column(t, &(kd_column){.head = "mean", .group = "sim", .pair = 1, .digits = 4,
                                  .ci_digits = 2, .width = 16});
  kd_table_column(t, &(kd_column){.head = "CI", .pair = 1, .fmt = "%.2f", .width = 13});
  kd_table_column(t, &(kd_column){.head = "note", .align = KD_LEFT, .formats = KD_TABLE_MD});
  kd_table_text(t, "a_b", NULL);
  kd_table_num(t, 20, NULL);
  kd_table_num(t, 0.123456, &kd_mark_ddagger);
  kd_table_pm(t, 1.23456, 0.0123, NULL);
  kd_table_range(t, 0.5, 0.75, &star);
  kd_table_text(t, "x|y", NULL);
  kd_table_none(t);
  kd_table_num(t, 2000, NULL);
  kd_table_num(t, INFINITY, &kd_mark_dagger);
  kd_table_pm(t, 2.5e-7, NAN, &star); /* no interval: Markdown and LaTeX leave ± out */
  kd_table_none(t);
  kd_table_text(t, "gap~0", "gap${}\\approx 0$");
  kd_table_caption(t, KD_TABLE_TEXT, "# table of %s, %zu rows\n", "a_b", kd_table_rows(t));
  kd_table_caption(t, KD_TABLE_MD, "Run %s: 100 %% of %d.\n\n", "a_b&c", 7);
  kd_table_caption(t, KD_TABLE_TEX, "Run %s: 100\\,\\%% of %d.", "a_b&c", 7);
  kd_table_note(t, KD_TABLE_TEXT | KD_TABLE_MD | KD_TABLE_TEX, "note on %s", "50% <x>");
  kd_table_label(t, "tab:test");
}

typedef kd_status (*emitter)(const kd_table *, FILE *);

static char *emit(const kd_table *t, emitter e) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_not_null(f);
  cr_assert_eq(e(t, f), KD_OK, "%s", kd_last_error());
  cr_assert_eq(fclose(f), 0);
  return text;
}

static const char *const want_tex =
    "\\begin{table}[htbp]\n\\centering\n\\small\n"
    "\\caption{Run a\\_b\\&c: 100\\,\\% of 7.}\n"
    "\\label{tab:test}\n"
    "\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n"
    "\\ifdefined\\kdbenchtablebox\\else\\newsavebox{\\kdbenchtablebox}\\fi\n"
    "\\sbox{\\kdbenchtablebox}{%\n"
    "\\begin{tabular}{lrrr@{\\,}lr@{\\,}l}\n\\toprule\n"
    " & & \\multicolumn{3}{c}{sim} & & \\\\\n"
    "\\cmidrule(lr){3-5}\n"
    "name & n & $R$ & \\multicolumn{2}{c}{mean} & \\multicolumn{2}{c}{CI} \\\\\n\\midrule\n"
    "a\\_b & $20$ & $0.123^{\\ddagger}$ & $1.235$ & ${}\\pm 0.012$ & $[0.50,$ & $0.75]^{*}$ \\\\\n"
    "--- & $2000$ & $\\infty^{\\dagger}$ & $2.500\\times10^{-7}$ & & --- & \\\\\n"
    "\\bottomrule\n\\end{tabular}}%\n"
    "\\ifdim\\wd\\kdbenchtablebox>\\linewidth\n"
    "\\ifdefined\\resizebox\\resizebox{\\linewidth}{!}{\\usebox{\\kdbenchtablebox}}"
    "\\else\\usebox{\\kdbenchtablebox}\\fi\n"
    "\\else\\usebox{\\kdbenchtablebox}\\fi\n"
    "\\par\\smallskip\n\\begin{minipage}{\\linewidth}\n"
    "note on 50\\% \\textless{}x\\textgreater{}\\par\n"
    "\\end{minipage}\n\\end{table}\n";

Test(table, text_aligns_every_column_and_skips_markdown_only_ones) {
  kd_table t;
  sample(&t);
  char *got = emit(&t, kd_table_write_text);
  cr_expect_str_eq(got,
                   "# table of a_b, 2 rows\n"
                   "name       n     risk             mean            CI\n"
                   "a_b       20    0.123   1.235 +- 0.012 [0.50, 0.75] s\n"
                   "-       2000      inf 2.500e-7 +- nan s             -\n"
                   "note on 50% <x>\n");
  free(got);
  kd_table_free(&t);
}

Test(table, markdown_escapes_marks_and_alignment) {
  kd_table t;
  sample(&t);
  char *got = emit(&t, kd_table_write_md);
  cr_expect_str_eq(got,
                   "Run a\\_b\\&c: 100 % of 7.\n\n"
                   "| name | n | risk | mean | CI | note |\n"
                   "|:---|---:|---:|---:|---:|:---|\n"
                   "| a\\_b | 20 | 0.123‡ | 1.235 ± 0.012 | [0.50, 0.75]* | x\\|y |\n"
                   "| — | 2000 | ∞† | 2.500e-7* | — | gap\\~0 |\n"
                   "\n- note on 50% \\<x\\>\n");
  free(got);
  kd_table_free(&t);
}

Test(table, latex_pairs_groups_and_math) {
  kd_table t;
  sample(&t);
  char *got = emit(&t, kd_table_write_tex);
  cr_expect_str_eq(got, want_tex);
  free(got);
  kd_table_free(&t);
}

/* The live table prints its header once and its rows point by point. */
Test(table, text_in_pieces_is_the_whole_table) {
  kd_table t;
  sample(&t);
  char *whole = emit(&t, kd_table_write_text), *pieces = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&pieces, &len);
  kd_table_text_head(&t, f);
  kd_table_text_rows(&t, f);
  kd_table_clear_rows(&t);
  cr_expect_eq(kd_table_rows(&t), 0);
  kd_table_text_rows(&t, f); /* nothing left to print */
  kd_table_text_notes(&t, f);
  fclose(f);
  cr_expect_str_eq(pieces, whole);
  free(whole), free(pieces);
  kd_table_free(&t);
}

Test(table, nan_none_makes_nan_values_not_available) {
  kd_table t;
  kd_table_init(&t);
  t.nan_none = 1;
  kd_table_column(&t, &(kd_column){.head = "a", .digits = 2});
  kd_table_column(&t, &(kd_column){.head = "b", .pair = 1, .digits = 2, .ci_digits = 1});
  kd_table_column(&t, &(kd_column){.head = "c", .pair = 1, .digits = 2});
  kd_table_num(&t, NAN, &kd_mark_dagger);
  kd_table_pm(&t, NAN, 1, NULL);
  kd_table_range(&t, NAN, 1, NULL);
  kd_table_num(&t, 1.0 / 3, NULL);
  kd_table_pm(&t, 2, NAN, NULL); /* a value without its interval is still a value */
  kd_table_range(&t, 1, NAN, NULL);
  char *got = emit(&t, kd_table_write_md);
  cr_expect_str_eq(got,
                   "| a | b | c |\n|---:|---:|---:|\n| — | — | — |\n| 0.33 | 2.0 | [1.0, nan] |\n");
  free(got);
  kd_table_free(&t);
}

/* Captions and notes take printf's conversions; %s arguments are escaped in Markdown
 * and LaTeX (and padded in text only). */
Test(table, captions_format_numbers_and_escape_strings) {
  kd_table t;
  kd_table_init(&t);
  kd_table_column(&t, &(kd_column){.head = "x"});
  kd_table_caption(&t, KD_TABLE_TEXT | KD_TABLE_MD | KD_TABLE_TEX,
                   "%zu|%ld|%u|%llu|%5.2f|%g|%-4s|%%|%s", (size_t)3, -4L, 5u, 6ull, 3.14159,
                   1e-5, "a", "#_");
  cr_expect_str_eq(t.caption[0], "3|-4|5|6| 3.14|1e-05|a   |%|#_");
  cr_expect_str_eq(t.caption[1], "3|-4|5|6| 3.14|1e-05|a|%|#\\_");
  cr_expect_str_eq(t.caption[2], "3|-4|5|6| 3.14|1e-05|a|%|\\#\\_");
  kd_table_free(&t);
}

Test(table_latex, compiles_with_booktabs_only) {
  kd_test_need_latex();
  kd_test_write("table.tex", want_tex);
  free(kd_test_latex((const char *[]){"table", NULL}));
}

/* Bold cells: ** in Markdown, \\mathbf in LaTeX, on both parts of a ± value; not on a
 * cell that is not available. */
Test(table, bold_cells_in_markdown_and_latex) {
  kd_table t;
  kd_table_init(&t);
  t.nan_none = 1;
  kd_table_column(&t, &(kd_column){.head = "a", .pair = 1, .digits = 3, .ci_digits = 2});
  kd_table_column(&t, &(kd_column){.head = "b", .digits = 3});
  kd_table_pm(&t, 1.25, 0.125, NULL);
  kd_table_bold(&t);
  kd_table_num(&t, NAN, NULL);
  kd_table_bold(&t);
  char *md = emit(&t, kd_table_write_md), *tex = emit(&t, kd_table_write_tex);
  cr_expect_not_null(strstr(md, "| **1.25 ± 0.12** | — |"), "%s", md);
  cr_expect_not_null(strstr(tex, "$\\mathbf{1.25}$ & ${}\\pm \\mathbf{0.12}$ & --- \\\\"), "%s",
                     tex);
  free(md), free(tex);
  kd_table_free(&t);
}

/* 24 columns of 7-digit numbers: some 40 cm of tabular. */
static char *wide_table(int wide) {
  kd_table t;
  kd_table_init(&t);
  t.tex_wide = wide;
  for (int i = 0; i < 24; ++i) kd_table_column(&t, &(kd_column){.head = "column", .digits = 7});
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 24; ++i) kd_table_num(&t, 1234567.0 + r + i, NULL);
  kd_table_caption(&t, KD_TABLE_TEX, "A wide table.");
  kd_table_note(&t, KD_TABLE_TEX, "A note under it.");
  char *tex = emit(&t, kd_table_write_tex);
  kd_table_free(&t);
  return tex;
}

Test(table_latex, a_wide_table_fits_one_and_two_column_pages) {
  kd_test_need_latex();
  char *one = wide_table(0), *two = wide_table(1);
  cr_expect_not_null(strstr(one, "\\begin{table}[htbp]"));
  cr_expect_not_null(strstr(two, "\\begin{table*}[tbp]"));
  cr_expect_not_null(strstr(two, "\\end{table*}\n"));
  kd_test_write("one.tex", one);
  kd_test_write("two.tex", two);
  free(one), free(two);
  free(kd_test_latex_in("", "graphicx", (const char *[]){"one", "two", NULL}));
  free(kd_test_latex_in("twocolumn", "graphicx", (const char *[]){"one", "two", NULL}));
  /* without graphicx the table is set as it is: it compiles, overfull (so the check
   * above can fail) */
  char *log = kd_test_latex((const char *[]){"one", NULL});
  cr_expect_not_null(strstr(log, "Overfull \\hbox"), "the tabular was not scaled without graphicx");
  free(log);
}
