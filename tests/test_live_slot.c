/* test_live_slot.c - the worker's live slot (worker.h): a torn read is never used. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"
#include "worker.h"

/* The seqlock's writer as a preempted worker leaves it: seq odd, some fields of the new write
 * stored, the rest still the old ones. */
static void begin_torn_end(camp_live *l) {
  uint64_t q = atomic_load(&l->seq);
  atomic_store(&l->seq, q + 1);
  uint64_t zero = 0;
  atomic_store(&l->t_bits, zero); /* the end's t = 0 written, its in_flight = 0 not yet */
}

static void test_consistent(void) {
  static camp_live l; /* zeroed, as the supervisor's shared mapping */
  camp_live_copy c;
  memset(&c, 0, sizeof c);
  camp_live_read(&l, &c);
  CHECK(c.in_flight == 0);
  camp_live_write(&l, 1, 42, "native", 123.5);
  camp_live_read(&l, &c);
  CHECK(c.in_flight == 1 && c.index == 42 && c.t == 123.5 && !strcmp(c.leg, "native"));
  camp_live_write(&l, 0, 42, "native", 0);
  camp_live_read(&l, &c);
  CHECK(c.in_flight == 0 && c.index == 42);
  /* a leg name of 24 bytes fills the slot and still ends in NUL in the copy */
  camp_live_write(&l, 1, 7, "abcdefghijklmnopqrstuvwxyz", 1.0);
  camp_live_read(&l, &c);
  CHECK(strlen(c.leg) == 24 && !strncmp(c.leg, "abcdefghijklmnopqrstuvwx", 24));
}

/* A worker preempted in the middle of a leg's end: the copy must stay the last consistent one,
 * never pair the old in_flight = 1 with the new t = 0 (which the supervisor would take as a
 * leg running since boot, and time out). */
static void test_torn(void) {
  static camp_live l;
  camp_live_copy c;
  memset(&c, 0, sizeof c);
  camp_live_write(&l, 1, 9, "runner", 500.25);
  camp_live_read(&l, &c);
  CHECK(c.in_flight == 1 && c.t == 500.25);
  begin_torn_end(&l);
  camp_live_read(&l, &c);
  CHECKF(c.in_flight == 1 && c.t == 500.25 && c.index == 9 && !strcmp(c.leg, "runner"),
         "torn read used: in_flight %d t %g", c.in_flight, c.t);
  /* a reader that never saw a consistent copy keeps its zeroed one: nothing in flight */
  camp_live_copy fresh;
  memset(&fresh, 0, sizeof fresh);
  camp_live_read(&l, &fresh);
  CHECK(fresh.in_flight == 0 && fresh.t == 0);
  /* the writer finishes (seq even again): the next read sees the end */
  atomic_store(&l.in_flight, 0u);
  atomic_store(&l.seq, atomic_load(&l.seq) + 1);
  camp_live_read(&l, &c);
  CHECK(c.in_flight == 0 && c.t == 0);
}

int main(void) {
  test_consistent();
  test_torn();
  return check_done();
}
