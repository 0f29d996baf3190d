/* check.h - the tiny assertion kit every test uses: CHECK prints the failing expression. */
#ifndef ABIFUZZ_CHECK_H
#define ABIFUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failed, check_passed;

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (cond) {                                                                    \
      check_passed++;                                                              \
    } else {                                                                       \
      check_failed++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
    }                                                                              \
  } while (0)

/* CHECKF(cond, fmt, ...): CHECK with a message formatted on failure. */
#define CHECKF(cond, ...)                                                          \
  do {                                                                             \
    if (cond) {                                                                    \
      check_passed++;                                                              \
    } else {                                                                       \
      check_failed++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);     \
      fprintf(stderr, __VA_ARGS__);                                                \
      fputc('\n', stderr);                                                         \
    }                                                                              \
  } while (0)

/* Ends main: prints the plain closing line and returns the exit status. */
static inline int check_done(void) {
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
