/* Unit tests of calc_apply: each case prints its result; any failure exits 1. */
#include <limits.h>
#include <stdio.h>

#include "calc.h"

static int failures = 0;

static void expect(long a, char op, long b, int want_rc, long want) {
  long got = 0;
  int rc = calc_apply(a, op, b, &got);
  int ok = rc == want_rc && (rc != 0 || got == want);
  printf("%s %ld %c %ld\n", ok ? "ok  " : "FAIL", a, op, b);
  if (!ok) failures++;
}

int main(void) {
  expect(2, '+', 3, 0, 5);
  expect(2, '-', 3, 0, -1);
  expect(6, '*', 7, 0, 42);
  expect(7, '/', 2, 0, 3);
  expect(1, '/', 0, -1, 0);
  expect(LONG_MAX, '+', 1, -1, 0);
  expect(LONG_MIN, '/', -1, -1, 0);
  expect(1, '%', 1, -1, 0);
  printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
