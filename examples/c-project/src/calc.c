#include "calc.h"

int calc_apply(long a, char op, long b, long *out) {
  switch (op) {
    case '+': return __builtin_add_overflow(a, b, out) ? -1 : 0;
    case '-': return __builtin_sub_overflow(a, b, out) ? -1 : 0;
    case '*': return __builtin_mul_overflow(a, b, out) ? -1 : 0;
    case '/':
      if (b == 0 || (a == -__LONG_MAX__ - 1 && b == -1)) return -1;
      *out = a / b;
      return 0;
    default: return -1;
  }
}
