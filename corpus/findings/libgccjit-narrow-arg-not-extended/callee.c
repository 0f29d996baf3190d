/* callee.c - compiled by clang: relies on the caller extending a char argument to 32 bits (what
 * gcc's and clang's C callers do; clang's callees read EDI whole: llvm #82598). */
int g(signed char c) { return c; }
