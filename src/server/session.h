/*
 * session.h - one partner session in the server: two legs, the module chain
 * and the relay between them.
 *
 * A session owns both of its connections (allocated separately so that a
 * tunnel data connection can be handed over to it), its chain engine (the
 * module handles and contexts and its facts, chain.h), and one reference to the configuration revision it
 * started under. It is freed from deferred work after both legs are closed,
 * never inside a callback of its own connections.
 *
 * A session lives on one session loop (sloop.h) for its whole life; the
 * main loop knows it only by id (handoff.c). The session_msg_* callbacks
 * below are the messages the main loop sends it (session.c, on its loop);
 * the handoff_msg_* ones are what it sends back (handoff.c, on main).
 */
#ifndef SP_SERVER_SESSION_H
#define SP_SERVER_SESSION_H

#include "server/server.h"
#include "server/chain.h"
#include "server/sloop.h"

#define SESSION_OUT_MAX (512u * 1024)   /* per leg output buffer bound */

struct mtimer;

enum session_state { S_TLS, S_RELAY, S_ENDING, S_DEAD };
enum session_timer { T_NONE, T_HANDSHAKE, T_INSIDE, T_LINGER };

struct session {
	struct session *next, *prev;    /* its loop's list */
	struct server *srv;             /* read-only here: chain, modules */
	struct sloop *sl;               /* the loop it is pinned to */
	struct sp_loop *loop;           /* sl->loop */
	struct rtconf *rt;
	size_t lidx;                     /* listener index in rt */
	uint64_t id;
	char idtext[24];
	enum session_state state;
	struct sp_conn *leg[2];
	bool leg_done[2];
	bool inside_requested;
	struct sp_buf early_inside;      /* bytes for inside before its leg exists */
	struct sp_chain chain;           /* the modules, their contexts, the facts */
	struct mtimer *mtimers;          /* the modules' timers (session.c) */
	struct sp_timer timer;
	enum session_timer timer_what;
	struct sp_timer limit_timer;     /* idle and whole-session backstop */
	uint64_t last_active;            /* loop clock of the last byte read */
	uint64_t started_mono;           /* loop clock at the start */
	struct sp_defer reap;
	char peer[SP_ADDR_TEXT];
	uint16_t peer_port;
	char local[SP_ADDR_TEXT];
	uint16_t local_port;
	char reason[32];
	char reason_text[200];
	int64_t started_ms;
	bool gated;                      /* a module gates the inside leg */
	bool outgoing;                   /* we called the partner (route) */
	size_t ridx;                     /* route index in rt, when outgoing */
	const char *via;                 /* listener or route name */
	struct sp_buf from_inside;       /* outgoing: inside bytes before the partner is up */
};

/* What an ended session's message counts (xmsg u[], handoff.c). */
enum session_sum {
	SUM_BYTES_FROM, SUM_BYTES_TO, SUM_ESID /* code + 1 the proxy sent, 0: none */,
	SUM_FILES_FROM, SUM_FILES_TO, SUM_FAILED_FROM, SUM_FAILED_TO
};

/* session.c, on the session's loop: what main sends a session. */
sp_msg_cb session_msg_incoming;
sp_msg_cb session_msg_outgoing;
sp_msg_cb session_msg_attach;
sp_msg_cb session_msg_inside_failed;
sp_msg_cb session_msg_answer;
sp_msg_cb session_msg_end_all;
sp_msg_cb session_msg_live;
/* End every session of this loop (its thread). */
void sessions_end_loop(struct sloop *sl, const char *reason, const char *text);

/* handoff.c, on the main loop: what a session sends main. */
sp_msg_cb handoff_msg_ended;          /* gone: counts, audit (s2), revision */
sp_msg_cb handoff_msg_request_inside; /* verified; ask the client for a leg */
sp_msg_cb handoff_msg_ask;            /* host->backend_ask */
sp_msg_cb handoff_msg_post;           /* host->backend_post off the main thread */
sp_msg_cb handoff_msg_live_done;      /* a loop's part of a live snapshot */

/* stats.c: one entry of the live list, on the session's loop. */
json_object *stats_live_session(struct session *s);

#endif
