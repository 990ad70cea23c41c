/* calc A OP B: prints the result, or an error and exit 1. */
#include <stdio.h>
#include <stdlib.h>

#include "calc.h"

int main(int argc, char **argv) {
  if (argc != 4 || argv[2][0] == '\0' || argv[2][1] != '\0') {
    fprintf(stderr, "usage: calc A OP B   (OP: + - * /)\n");
    return 2;
  }
  long result;
  if (calc_apply(strtol(argv[1], NULL, 10), argv[2][0], strtol(argv[3], NULL, 10), &result)) {
    fprintf(stderr, "calc: cannot compute %s %s %s\n", argv[1], argv[2], argv[3]);
    return 1;
  }
  printf("%ld\n", result);
  return 0;
}
