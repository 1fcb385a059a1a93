/* The suites' shared support (tests/support/kd_test.h) checked on its own: the line,
 * row and JSON helpers against texts written out by hand, the row check against the
 * FNV-1a 64 test vector, the shell and background runs against known exit statuses.
 * Every other suite trusts these to edit and compare runs. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kd_test.h"

TestSuite(support, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

Test(support, lines_read_replaced_deleted_and_counted) {
  kd_test_write("t.txt", "a\nbb\nc\n");
  cr_expect_eq(kd_test_count_lines("t.txt"), 3);
  cr_expect_eq(kd_test_count_lines("none.txt"), 0);
  char *l = kd_test_line("t.txt", 2);
  cr_expect_str_eq(l, "bb");
  free(l);
  kd_test_set_line("t.txt", 2, "B");
  kd_test_set_line("t.txt", 1, NULL);
  char *text = kd_test_read("t.txt", NULL);
  cr_expect_str_eq(text, "B\nc\n");
  free(text);
  kd_test_write("u.txt", "B\nc\n");
  cr_expect(kd_test_expect_same_file("t.txt", "u.txt"));
}

Test(support, json_at_dotted_keys) {
  kd_test_write("m.json", "{\"a\": {\"b\": 2, \"t\": true}, \"s\": \"x\"}");
  cr_expect_eq(kd_test_json_num("m.json", "a.b"), 2);
  cr_expect_eq(kd_test_json_num("m.json", "a.t"), 1);
  cr_expect(isnan(kd_test_json_num("m.json", "a.c")), "an absent key");
  cr_expect(isnan(kd_test_json_num("m.json", "s")), "a string is no number");
  cr_expect(isnan(kd_test_json_num("none.json", "a")), "no file");
  kd_test_write("half.json", "{\"a\": ");
  cr_expect(isnan(kd_test_json_num("half.json", "a")), "a file half written");
  cJSON *o = kd_test_json("m.json");
  cr_expect_str_eq(kd_test_str(o, "s"), "x");
  cr_expect_eq(kd_test_num(o, "a.b"), 2);
  cr_expect_null(kd_test_item(o, "a.b.c"));
  cJSON_Delete(o);
}

Test(support, rows_resealed_and_compared_apart_from_wall_and_check) {
  /* the FNV-1a 64 of "a" is af63dc4c8601ec8c */
  char row[] = "a,\"check\":\"0000000000000000\"}\nnext";
  kd_test_reseal(row);
  cr_expect_str_eq(row, "a,\"check\":\"af63dc4c8601ec8c\"}\nnext");
  kd_test_write("r.jsonl", "{\"point\":0,\"wall_s\":0.25,\"x\":1,\"check\":\"0123456789abcdef\"}\n"
                           "{\"point\":1,\"wall_s\":3,\"check\":\"fedcba9876543210\"}\n");
  kd_test_write("s.jsonl", "{\"point\":0,\"wall_s\":9,\"x\":1,\"check\":\"ffffffffffffffff\"}\n"
                           "{\"point\":1,\"wall_s\":0.5,\"check\":\"0000000000000000\"}\n");
  char *stable = kd_test_stable_rows("r.jsonl");
  cr_expect_str_eq(stable, "{\"point\":0,\"x\":1}\n{\"point\":1}\n");
  free(stable);
  kd_test_expect_same_rows("r.jsonl", "s.jsonl");
  cJSON *rows = kd_test_rows("r.jsonl");
  cr_expect_eq(cJSON_GetArraySize(rows), 2);
  cr_expect_eq(kd_test_num(cJSON_GetArrayItem(rows, 1), "point"), 1);
  cJSON_Delete(rows);
}

Test(support, shell_and_background_runs) {
  cr_expect_eq(kd_test_sh("echo out; echo said >&2; exit 3"), 3);
  cr_expect_str_eq(kd_test_err, "said\n");
  char *out = kd_test_read("stdout.txt", NULL);
  cr_expect_str_eq(out, "out\n");
  free(out);
  cr_expect_eq(kd_test_sh("test -x \"$K\" && test \"$(pwd)\" = '%s'", kd_test_dir), 0,
               "$K the binary, the test folder the working directory");
  pid_t pid = kd_test_start("--bogus-flag @");
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
  char *err = kd_test_read("bg.err", NULL);
  cr_expect(err && strstr(err, "--bogus-flag"), "bg.err: %s", err);
  free(err);
}
