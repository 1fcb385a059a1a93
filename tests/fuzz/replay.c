/* Runs a fuzz target's LLVMFuzzerTestOneInput once on every file of the folders (or
 * files) given: the committed corpus as a regression test of the ordinary build (GCC,
 * and under ASan + UBSan), where libFuzzer is not there. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kdbench/file_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  size_t len;
  char *buf = kd_file_read(path, &len);
  if (!buf) {
    fprintf(stderr, "replay: %s\n", kd_last_error());
    return 1;
  }
  LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int bad = 0, done = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      fprintf(stderr, "replay: %s: no such file or folder\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(sb.st_mode)) {
      bad |= replay_file(argv[i]);
      ++done;
      continue;
    }
    struct dirent **list;
    int n = scandir(argv[i], &list, NULL, alphasort);
    for (int k = 0; k < n; ++k) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
      if (list[k]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        bad |= replay_file(path);
        ++done;
      }
      free(list[k]);
    }
    free(list);
  }
  printf("replayed %d input(s)\n", done);
  return bad || done == 0;
}
