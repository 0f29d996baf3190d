/* worker.h - the supervisor <-> worker protocol: fixed binary records over two pipes. */
#ifndef ABIFUZZ_WORKER_H
#define ABIFUZZ_WORKER_H

#include <stdatomic.h>
#include <stdint.h>

#include "campaign.h"
#include "legs.h"

/* Supervisor -> worker (the command pipe): one camp_cmd at a time. WORK hands out the case
 * indices [start, start + count); FINISH (sent in answer to NEED, or at any time when the
 * campaign ends) makes the worker poll(block=1) its batched legs, send what is left, BYE, and
 * exit. The worker checks for FINISH between cases. */
enum { CMD_WORK = 1, CMD_FINISH = 2 };
typedef struct {
  uint32_t type;
  /* WORK: the first case runs only the legs cfg->legs[first_leg..] (a worker restarted after
   * leg first_leg-1 crashed on it: the other legs still get their verdict on that case) */
  uint32_t first_leg;
  uint64_t start, count;
} camp_cmd;

/* Worker -> supervisor, what runs now: the live slot, one per worker in memory the supervisor
 * maps shared before it forks. The worker writes it when a leg begins and when it ends; the
 * supervisor reads it to time a leg out and, when the worker dies, to blame the (case, leg)
 * that was running. It replaced a BEGIN record per leg on the report pipe: a write(2) and a
 * wake-up of the supervisor per leg (doc/benchmarks.md, Session 6). A seqlock: the worker
 * (one writer at a time, under its lock) makes seq odd, writes, makes it even; a reader that
 * sees it odd or changed reads again, a few times, and then keeps its last consistent copy (a
 * worker preempted or killed mid-write leaves it odd; a torn copy must never be used). Every
 * field is atomic, so no read races a write. */
typedef struct {
  _Atomic uint64_t seq;
  _Atomic uint64_t index;     /* the case */
  _Atomic uint64_t leg[3];    /* the leg's name, NUL-padded (24 bytes) */
  _Atomic uint64_t t_bits;    /* camp_now() when it began, the double's bits */
  _Atomic uint32_t in_flight; /* 1 from the leg's begin to its end */
} camp_live;

/* A plain copy of a live slot. */
typedef struct {
  int in_flight;
  uint64_t index;
  char leg[25];
  double t;
} camp_live_copy;
void camp_live_write(camp_live *l, int in_flight, uint64_t index, const char *leg, double t);
void camp_live_read(camp_live *l, camp_live_copy *out);

/* Worker -> supervisor (the report pipe): a camp_msg_hdr, then `size` bytes of the payload
 * of that type. One writer per pipe, so records never interleave. */
enum {
  MSG_NEED = 1,  /* no payload: give me work (or FINISH) */
  MSG_UNUSED_2,  /* (was BEGIN: now the live slot) */
  MSG_END,       /* msg_end + nf af_finding */
  MSG_CASE_DONE, /* msg_case_done: every leg has had the case (batched ones may be pending) */
  MSG_CRASH,     /* msg_crash: from the signal handler, just before the worker dies */
  MSG_LEG_OFF,   /* msg_leg_off: a leg's init said AF_ERR_UNSUPPORTED */
  MSG_INTERNAL,  /* msg_internal: an error of ours (the campaign goes on) */
  MSG_BYE,       /* no payload: finished cleanly, exiting */
};

typedef struct {
  uint32_t type, size;
} camp_msg_hdr;

typedef struct {
  uint64_t index;
  char leg[24];
  int32_t verdict; /* af_leg_verdict */
  int32_t nf;      /* af_finding records that follow */
  int32_t dropped; /* findings the leg did not send */
  int32_t cc;
  char reason[96];
} msg_end;

#define CAMP_AXES_MAX 64
typedef struct {
  uint64_t index;
  int32_t cc;
  int32_t naxes;
  int32_t submitted; /* 1: the legs had it (0: generator or interpreter failed) */
  int32_t first_leg; /* the legs cfg->legs[first_leg..] had it (camp_cmd.first_leg) */
  double t_gen, t_interp;
  int8_t axes[CAMP_AXES_MAX]; /* value drawn on each axis, -1 not exercised */
} msg_case_done;

typedef struct {
  int32_t sig, code;
  uint64_t addr, rip;
  uint64_t gregs[23];
  int32_t rip_in_jit, addr_in_jit;
  char rip_where[96]; /* RIP outside JIT code: "libc.so.6+0x8c753" (/proc/self/maps), or "" */
} msg_crash;

typedef struct {
  char leg[24];
  char reason[232];
} msg_leg_off;

typedef struct {
  uint64_t index;
  int32_t has_index;
  char msg[324];
} msg_internal;

/* The worker process: runs until FINISH or until its command pipe closes; never returns
 * (_exit). cmd_fd is read, rep_fd written, live its slot (shared with the supervisor). */
void camp_worker_main(const camp_cfg *cfg, int cmd_fd, int rep_fd, camp_live *live)
    __attribute__((noreturn));

/* Which file mapping addr lies in: "NAME+0xOFF" (base name, offset in the file) into out,
 * "" when none (anonymous memory, the stack, unmapped). Async-signal-safe (the crash handler
 * calls it): /proc/self/maps read with open/read/close, no allocation, no stdio. */
void camp_crash_where(uint64_t addr, char *out, size_t cap);

#endif
