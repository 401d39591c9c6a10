/*
 * session.h - one partner session in the server: two legs, the module chain
 * and the relay between them.
 *
 * A session owns both of its connections (allocated separately so that a
 * tunnel data connection can be handed over to it), the module handles and
 * contexts, its facts, and one reference to the configuration revision it
 * started under. It is freed from deferred work after both legs are closed,
 * never inside a callback of its own connections.
 */
#ifndef SP_SERVER_SESSION_H
#define SP_SERVER_SESSION_H

#include "server/server.h"

#define SESSION_FACTS_MAX 32
#define SESSION_OUT_MAX (512u * 1024)   /* per leg output buffer bound */
#define SESSION_READ_CHUNK (16u * 1024)

struct mtimer;

/* struct sp_msess: one module's handle on one session. */
struct sp_msess {
	struct session *s;
	size_t idx;
	void *sctx;
	struct mtimer *timers;
	bool opened;
	bool held[2];             /* on_data HOLD, by direction */
};

struct fact {
	char *key;
	char *value;
};

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
	struct sp_msess *ms;             /* one per chain entry */
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
	struct fact facts[SESSION_FACTS_MAX];
	size_t nfacts;
	struct {
		bool active;
		size_t origin, holder;
		const struct sp_message *msg;
		uint64_t cookie;
	} delivery;
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
