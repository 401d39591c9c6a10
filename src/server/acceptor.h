/*
 * acceptor.h - a listening socket in the event loop that backs off when the
 * process runs out of descriptors or memory.
 *
 * With level-triggered epoll, a failing accept() (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) leaves the connection in the backlog and the listener readable:
 * the loop would call accept again at once, forever, writing a line each
 * time. Instead the acceptor stops watching the socket for ACCEPTOR_PAUSE_MS
 * and tries again then; waiting connections stay in the kernel's backlog
 * until descriptors are free. One line when a shortage starts (ERR), one
 * when accepting works again (NOTICE, with how many pauses it took); a
 * shortage that comes back within ACCEPTOR_QUIET_MS of the last failure is
 * the same one and writes nothing (a backlog drained at the edge of the
 * limit runs out again and again).
 *
 * Ownership: the caller owns the socket and struct acceptor (which must not
 * move while started); acceptor_stop() before closing the socket or freeing
 * the struct.
 */
#ifndef SP_SERVER_ACCEPTOR_H
#define SP_SERVER_ACCEPTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

#define ACCEPTOR_PAUSE_MS 250
#define ACCEPTOR_QUIET_MS 10000

struct acceptor {
	struct sp_loop *loop;       /* NULL: not started */
	int fd;
	sp_io_cb *cb;
	void *arg;
	char what[128];             /* "partner listener NAME on ADDR" */
	bool watching;
	struct sp_timer timer;
	bool shortage;              /* one is going on (or ended < QUIET_MS ago) */
	bool told_ok;               /* its "accepting again" line was written */
	unsigned pauses;            /* in the current shortage */
	uint64_t since;             /* loop clock when it began */
	uint64_t last_fail;         /* loop clock of its last failure */
};

/* Watch fd for connections: cb(loop, fd, events, arg) when readable. */
int acceptor_start(struct acceptor *a, struct sp_loop *loop, int fd, sp_io_cb *cb,
    void *arg, const char *what);
void acceptor_stop(struct acceptor *a);
/* accept() failed with errno `err`: true when the acceptor paused (a
 * shortage; the caller returns and must not accept again now). */
bool acceptor_failed(struct acceptor *a, int err);
/* accept() worked: a shortage, if any, is over. */
void acceptor_ok(struct acceptor *a);

#endif
