/*
 * loop.h - a small epoll event loop with timers and deferred work.
 *
 * One loop per thread; everything registered with a loop runs on that thread.
 * File descriptors are registered with one callback each. Timers are
 * intrusive (struct sp_timer lives inside its owner; the loop keeps only a
 * pointer in a min-heap), so arming a timer never allocates. Deferred work
 * (struct sp_defer, also intrusive) runs before the loop sleeps again: this is
 * where TLS connections drain records GnuTLS already decrypted, which epoll
 * cannot report.
 *
 * Messages (struct sp_msg, intrusive too) are the one thing another thread
 * may hand a loop: sp_loop_post() is safe from any thread, and the message's
 * callback runs later on the loop's own thread, in the order the messages
 * were posted (a FIFO under a mutex, woken through an eventfd the loop
 * watches). This is how several loops (one per thread) talk: state stays
 * with the loop that owns it, and a request or its answer crosses as a
 * message, never as a lock on the data path.
 *
 * Ownership: the loop owns neither fds nor timers nor defers; their owners
 * must stop/remove them before freeing them. A posted message belongs to the
 * loop until its callback runs; the callback owns it again (usually frees
 * it). sp_loop_free() runs the callback of every message still waiting, on
 * the caller's thread, with `cancelled` set, so that nothing leaks (one such
 * callback posting to the same loop gets its message back cancelled too);
 * then it frees the loop. Everything else about a loop is touched only by the thread
 * that runs it (sp_loop_stop() included: from another thread, post a message
 * that calls it).
 */
#ifndef SP_LOOP_H
#define SP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sp_loop;

#define SP_EV_READ  0x1u
#define SP_EV_WRITE 0x2u
#define SP_EV_ERROR 0x4u /* hang-up or error: a read will tell which */

typedef void sp_io_cb(struct sp_loop *loop, int fd, unsigned events, void *arg);

struct sp_timer;
typedef void sp_timer_cb(struct sp_loop *loop, struct sp_timer *t, void *arg);

struct sp_timer {
	uint64_t when;      /* loop clock, ms */
	size_t slot;        /* heap index + 1; 0 when not armed */
	sp_timer_cb *cb;
	void *arg;
};

struct sp_defer;
typedef void sp_defer_cb(struct sp_loop *loop, struct sp_defer *d, void *arg);

struct sp_defer {
	struct sp_defer *next;
	bool queued;
	sp_defer_cb *cb;
	void *arg;
};

struct sp_msg;
typedef void sp_msg_cb(struct sp_loop *loop, struct sp_msg *m, bool cancelled);

/* Embed in the message's own struct; sp_msg_init before each post. */
struct sp_msg {
	struct sp_msg *next;
	sp_msg_cb *cb;
};

int sp_loop_new(struct sp_loop **out);
void sp_loop_free(struct sp_loop *loop);

/* Register fd for `events` (SP_EV_READ|SP_EV_WRITE, may be 0). */
int sp_loop_add(struct sp_loop *loop, int fd, unsigned events, sp_io_cb *cb, void *arg);
int sp_loop_set(struct sp_loop *loop, int fd, unsigned events);
void sp_loop_del(struct sp_loop *loop, int fd);

void sp_timer_init(struct sp_timer *t, sp_timer_cb *cb, void *arg);
/* (Re)arm to fire once after delay_ms. */
int sp_timer_start(struct sp_loop *loop, struct sp_timer *t, uint64_t delay_ms);
void sp_timer_stop(struct sp_loop *loop, struct sp_timer *t);
static inline bool sp_timer_armed(const struct sp_timer *t) { return t->slot != 0; }

void sp_defer_init(struct sp_defer *d, sp_defer_cb *cb, void *arg);
/* Queue once; queuing a queued defer does nothing. */
void sp_defer_queue(struct sp_loop *loop, struct sp_defer *d);
/* Unqueue; also from a defer callback, for a defer waiting in the same pass. */
void sp_defer_cancel(struct sp_loop *loop, struct sp_defer *d);

static inline void sp_msg_init(struct sp_msg *m, sp_msg_cb *cb) { m->next = NULL; m->cb = cb; }
/* Any thread: queue m for loop's thread (it never fails; m must not be
 * queued already). */
void sp_loop_post(struct sp_loop *loop, struct sp_msg *m);
/* The loop this thread runs (the last one it called sp_loop_once on), or
 * NULL on a thread that runs none (a worker of a pool). */
struct sp_loop *sp_loop_current(void);

/* Monotonic milliseconds, updated once per iteration. */
uint64_t sp_loop_now(const struct sp_loop *loop);
/* Wall-clock milliseconds since the epoch, read now: for records (audit,
 * events), never for timers, which use sp_loop_now(). */
int64_t sp_wall_ms(void);

/* Run until sp_loop_stop(); returns 0, or SP_ERR_SYSTEM if epoll fails. */
int sp_loop_run(struct sp_loop *loop);
/* One iteration, waiting at most max_wait_ms (-1: as timers say). */
int sp_loop_once(struct sp_loop *loop, int max_wait_ms);
void sp_loop_stop(struct sp_loop *loop);

#endif
