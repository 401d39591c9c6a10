/*
 * sloop.h - the session loops of smartproxy-server: one event loop per
 * worker thread, each carrying the sessions pinned to it for their whole
 * life (docs/architecture.md, section 7).
 *
 * The main thread keeps the control plane: the tunnel, the configuration
 * revisions, the partner listeners, admission, the backend bridge, keyless
 * signatures, statistics and signals. A session (both legs, its chain, its
 * module timers, its relay) runs on one session loop. Whatever a session and
 * the control plane tell each other crosses as a message (struct xmsg posted
 * with sp_loop_post, core/loop.h), never under a lock: a new session goes to
 * its loop with the accepted fd (or the detached tunnel connection), its end
 * comes back with its counts and audit record, questions to the backend go
 * to main and their answers come back by session id, so an answer for a
 * session that ended meanwhile finds nothing and says so to its module.
 *
 * With `loops: 1` the one session loop is the main loop itself (no thread),
 * and every crossing still goes through the mailbox: one code path.
 *
 * Ownership: struct server owns the array (srv->sloops, sloops_start/stop).
 * A struct sloop's session list, id table and worker pools belong to its
 * thread; `assigned` and `carried` belong to the main thread. A posted xmsg
 * belongs to the receiving loop until its callback runs; xmsg_free()
 * releases whatever it still holds (an fd, a connection, a buffer, strings,
 * a revision reference).
 */
#ifndef SP_SERVER_SLOOP_H
#define SP_SERVER_SLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conn.h"
#include "core/hmap.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/workers.h"

struct server;
struct session;
struct rtconf;
struct sp_msess;

#define SLOOPS_MAX 64

struct sloop {
	struct server *srv;
	unsigned idx;
	struct sp_loop *loop;        /* srv->loop when not threaded */
	bool threaded;
	bool started;                /* its thread runs (join it) */
	pthread_t thread;
	/* The loop's own (its thread only): */
	struct session *sessions;    /* live sessions pinned here */
	struct sp_hmap ids;          /* session id -> struct session */
	unsigned nsessions;
	struct sp_workers *workers;  /* host->run_async; results land here */
	struct sp_workers *hs;       /* keyless handshake steps, or NULL */
	bool hs_owned;
	struct sp_msg stop;          /* sloops_stop's: never allocated */
	/* The main thread's: */
	unsigned assigned;           /* sessions pinned here now */
	uint64_t carried;            /* sessions pinned here since the start */
};

/* A message between the main loop and a session loop (either way). */
struct xmsg {
	struct sp_msg m;
	struct server *srv;
	struct sloop *sl;            /* the session's loop */
	uint64_t sid;                /* the session, by id (never a pointer) */
	struct rtconf *rt;           /* a reference, or NULL */
	size_t idx;                  /* listener, route or module index */
	int fd;                      /* an accepted partner socket, or -1 */
	struct sp_addr addr;         /* its peer */
	struct sp_conn *conn;        /* a detached tunnel connection, or NULL */
	struct sp_buf buf;           /* bytes that came with it */
	char *s1, *s2, *s3;          /* strings, owned */
	int status;
	unsigned n;
	uint64_t u[8];               /* counters (session end) */
	void (*answer)(struct sp_msess *, void *, int, const char *);
	void *arg;
	void *ctx;                   /* the sender's (a live snapshot) */
};

/* Start n session loops (n == 1: the main loop), their threads and pools. */
int sloops_start(struct server *srv, unsigned n);
/*
 * Stop them: each loop ends its sessions ("shutdown"), lets them say
 * goodbye (bounded by their linger time), frees its pools, and its thread
 * is joined; then the loops are freed (a message still waiting is
 * cancelled and released). Main thread, after the main loop stopped.
 */
void sloops_stop(struct server *srv);
/* The loop a new session goes to: the one with the fewest now. */
struct sloop *sloop_pick(struct server *srv);
/* The number `loops: auto | N` stands for (auto: the CPUs this process may use, core/cpus.h; at most 64). */
unsigned sloops_count(const char *conf);

/* A zeroed message with callback cb (fd -1), or NULL. */
struct xmsg *xmsg_new(struct server *srv, sp_msg_cb *cb);
/* Release the message and whatever it still owns. */
void xmsg_free(struct xmsg *x);
/* Post to a session loop, or to the main loop. */
void xmsg_to_loop(struct sloop *sl, struct xmsg *x);
void xmsg_to_main(struct server *srv, struct xmsg *x);
/* Is the calling thread the main loop's? */
bool server_on_main(const struct server *srv);

#endif
