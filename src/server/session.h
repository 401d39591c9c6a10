/*
 * session.h - one partner session in the server: two legs, the module chain
 * and the relay between them.
 *
 * A session owns both of its connections (allocated separately so that a
 * tunnel data connection can be handed over to it), its chain engine (the
 * module handles and contexts and its facts, chain.h), and one reference to the configuration revision it
 * started under. It is freed from deferred work after both legs are closed,
 * never inside a callback of its own connections.
 */
#ifndef SP_SERVER_SESSION_H
#define SP_SERVER_SESSION_H

#include "server/server.h"
#include "server/chain.h"

#define SESSION_OUT_MAX (512u * 1024)   /* per leg output buffer bound */

struct mtimer;

enum session_state { S_TLS, S_RELAY, S_ENDING, S_DEAD };
enum session_timer { T_NONE, T_HANDSHAKE, T_INSIDE, T_LINGER };

struct session {
	struct session *next, *prev;
	struct server *srv;
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
	bool unverified;                 /* counted in srv->nunverified */
	bool addr_counted;               /* counted for its peer address (admit.c) */
	size_t ridx;                     /* route index in rt, when outgoing */
	const char *via;                 /* listener or route name */
	struct sp_buf from_inside;       /* outgoing: inside bytes before the partner is up */
};

#endif
