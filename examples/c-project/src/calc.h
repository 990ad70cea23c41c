/* calc: integer arithmetic with overflow and division checks. */
#ifndef CALC_H
#define CALC_H

/* Applies op (one of + - * /) to a and b. Returns 0 and sets *out, or -1 for an unknown
   operator, a division by zero or an overflow. */
int calc_apply(long a, char op, long b, long *out);

#endif
