/*
 * chain.h - the chain engine: one session's module chain, the host function
 * table modules call back into, and the session's facts.
 *
 * The engine knows nothing of sockets. It writes bytes and ends sessions
 * through a sink (struct sp_chain_sink): the relay session (session.c)
 * implements it with its two legs, the unit tests with a recorder
 * (tests/unit/check_chain.c).
 *
 * Ending is deferred: every entry into the engine (a hook call from the
 * session, a module timer, a worker's done, a backend answer) counts as one
 * level; host->end(), a refusing verdict, a full leg buffer or
 * sp_chain_end() from the session only mark the session while a level is
 * open. When the outermost level returns, the engine runs every opened
 * module's on_close once, in chain order, and then the sink's end(). A
 * module's own call is therefore never cut short by its on_close.
 *
 * Ownership: struct sp_chain is embedded in its owner (the session) and
 * initialised with sp_chain_init(); it owns the per-module handles and
 * contexts and the facts, released by sp_chain_free(). Module timers are the
 * sink's.
 * The chain entries, the module configurations and the strings given to
 * sp_chain_init() belong to the caller and must outlive the chain.
 */
#ifndef SP_SERVER_CHAIN_H
#define SP_SERVER_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <smartproxy/module.h>


#define SP_CHAIN_FACTS_MAX 32

/* A module in the chain, as the engine calls it. */
struct chain_entry {
	const struct sp_module *m;
	void *mctx;
	enum sp_mode mode;
	const char *name;
};

struct sp_chain;

/* The leg a direction writes to, the leg it reads from, and back. */
static inline enum sp_leg sp_dest_leg(enum sp_dir dir)
{ return dir == SP_TO_INSIDE ? SP_LEG_INSIDE : SP_LEG_OUTSIDE; }
static inline enum sp_leg sp_src_leg(enum sp_dir dir)
{ return dir == SP_TO_INSIDE ? SP_LEG_OUTSIDE : SP_LEG_INSIDE; }
static inline enum sp_dir sp_dir_from_leg(enum sp_leg leg)
{ return leg == SP_LEG_OUTSIDE ? SP_TO_INSIDE : SP_TO_OUTSIDE; }

/*
 * Where the engine's output goes. `arg` is the sink's own pointer given to
 * sp_chain_init(). Optional members may be NULL (the host call then fails
 * or does nothing).
 */
struct sp_chain_sink {
	/*
	 * Write bytes to a leg: the last forward of a direction, or
	 * host->send(). SP_OK; SP_ERR_CLOSED when the leg is gone;
	 * SP_ERR_LIMIT when its buffer is full (the engine ends the session,
	 * "overflow"). It may call sp_chain_end(), which then only marks.
	 */
	int (*write)(void *arg, enum sp_leg leg, const void *p, size_t n);
	/*
	 * The session ended: every opened module's on_close has run. Close
	 * the legs. Called exactly once, never from inside a module's call.
	 */
	void (*end)(void *arg, const char *reason, const char *text);
	/* The holds on `dir` changed: decide again whether to read its source. */
	void (*reading)(void *arg, enum sp_dir dir);
	/*
	 * host->timer_set / timer_cancel: a one-shot timer per (module, id);
	 * when it fires the sink calls sp_chain_timer(). 0, or <0 (too many).
	 */
	int (*timer_set)(void *arg, size_t idx, unsigned id, uint64_t delay_ms);
	void (*timer_cancel)(void *arg, size_t idx, unsigned id);
	/* Bytes written to a leg so far (struct sp_close). Optional. */
	uint64_t (*bytes_out)(void *arg, enum sp_leg leg);
	/* host->tls_alert. Optional. */
	void (*tls_alert)(void *arg, enum sp_leg leg, unsigned alert);
	/* host->run_async: the done side calls sp_chain_enter/leave. Optional. */
	int (*run_async)(void *arg, size_t idx, void (*work)(void *),
	    void (*done)(struct sp_msess *, void *), void *warg);
	/* host->backend_ask: the answer side calls sp_chain_enter/leave. Optional. */
	int (*backend_ask)(void *arg, size_t idx, const char *path, const char *json,
	    unsigned timeout_ms,
	    void (*answer)(struct sp_msess *, void *, int, const char *), void *aarg);
};

enum sp_chain_line { SP_CHAIN_LINE_LOG, SP_CHAIN_LINE_SECURITY, SP_CHAIN_LINE_EVENT };

/* Process-level services of the host table (one per process). */
struct sp_chain_env {
	/* host->backend_post; NULL: posts fail. */
	int (*backend_post)(const char *path, const char *json);
	/*
	 * Optional: sees every line a module logs (host->log, security,
	 * security_from, event) with its level, its event or type token
	 * (`what`, "" for log) and its formatted text; returns true when it
	 * consumed the line (a test's recorder), false to log it as usual.
	 */
	bool (*tap)(enum sp_chain_line kind, struct sp_msess *ms, int level, const char *what,
	    const char *text);
};

/* struct sp_msess: one module's handle on one session. */
struct sp_msess {
	struct sp_chain *c;
	size_t idx;
	void *sctx;
	bool opened;
	bool held[2];             /* on_data HOLD, by direction */
};

struct sp_chain_fact {
	char *key;
	char *value;
};

/* A file as the chain keeps it (struct sp_file_note, copied). */
struct sp_chain_file {
	char name[64];
	enum sp_file_dir dir;
	char format;
	uint64_t size_kib;
	uint64_t restart_offset;
	uint64_t octets;
	char result[64];
};

#define SP_CHAIN_DEVIATIONS_MAX 32

/* The typed facts (module.h, ABI 2.0) of one session. */
struct sp_chain_notes {
	bool has_end;
	struct sp_end_note end;
	unsigned refusal;
	struct sp_limits limits;
	bool has_current;
	struct sp_chain_file current;    /* the file in transfer */
	struct sp_chain_file *files;     /* finished, in order; grows by doubling */
	size_t nfiles, files_cap;
	uint64_t files_dropped;          /* past SP_SESSION_FILES_MAX */
	char *deviations[SP_CHAIN_DEVIATIONS_MAX];
	size_t ndeviations;
};

struct sp_chain {
	const struct chain_entry *entries;
	size_t n;
	void *const *modcfg;            /* by entry, or NULL */
	const struct sp_chain_sink *sink;
	void *sink_arg;
	const char *id;                 /* session id text, for log lines */
	const char *peer;               /* source address text, for log lines */
	struct sp_msess *ms;            /* one per entry */
	struct sp_chain_fact facts[SP_CHAIN_FACTS_MAX];
	size_t nfacts;
	struct sp_chain_notes notes;
	struct {
		bool active;
		size_t origin, holder;
		const struct sp_message *msg;
		uint64_t cookie;
	} delivery;
	unsigned depth;                 /* engine levels open */
	bool relay;                     /* on_tls reached: bytes may flow */
	bool ending;                    /* marked: on_close runs at depth 0 */
	bool closed;                    /* on_close ran, the sink's end() too */
	char reason[32];
	char text[200];
	int64_t started_ms;
};

/* The host table every module gets at init. */
extern const struct sp_host sp_chain_host;

void sp_chain_set_env(const struct sp_chain_env *env);

/* 0, or SP_ERR_NOMEM. The strings id and peer are the caller's. */
int sp_chain_init(struct sp_chain *c, const struct chain_entry *entries, size_t n,
    void *const *modcfg, const struct sp_chain_sink *sink,
    void *sink_arg, const char *id, const char *peer);
void sp_chain_free(struct sp_chain *c);

/* A module sets the inside leg's gate (SP_MODULE_F_GATES_INSIDE). */
bool sp_chain_gated(const struct sp_chain *c);

/*
 * Contexts and on_open for every module, in chain order. false when the
 * session ended (on_close and the sink's end() have run).
 */
bool sp_chain_open(struct sp_chain *c, const struct sp_peer *peer);
/* The outside leg is up: on_tls in chain order, then bytes may flow. */
bool sp_chain_tls(struct sp_chain *c, const struct sp_tls *tls);
/* Bytes read from the source leg of `dir`. */
void sp_chain_data(struct sp_chain *c, enum sp_dir dir, const uint8_t *p, size_t n);
/* A module timer fired: its on_timer, if the session still runs. Returns
 * the hook's verdict (the engine has applied it). */
enum sp_verdict sp_chain_timer(struct sp_chain *c, size_t idx, unsigned id);
/* Is some module holding `dir`? */
bool sp_chain_held(const struct sp_chain *c, enum sp_dir dir);
/* May bytes flow (on_tls passed and not ending)? */
bool sp_chain_live(const struct sp_chain *c);

/*
 * End the session with reason and text (the first reason wins). At once
 * when no engine level is open, else when the outermost one returns.
 */
void sp_chain_end(struct sp_chain *c, const char *reason, const char *text);

/*
 * Brackets for calls into a module from outside a hook (a worker's done, a
 * backend answer): enter returns the module's handle, or NULL when the
 * session is ending or the module was never opened; leave runs a deferred
 * end. Always paired.
 */
struct sp_msess *sp_chain_enter(struct sp_chain *c, size_t idx);
void sp_chain_leave(struct sp_chain *c);

/* The typed facts, for the session's log line, audit record and statistics. */
static inline const struct sp_chain_notes *
sp_chain_notes(const struct sp_chain *c)
{
	return &c->notes;
}
/* The revision's limits modules read with host->limits. */
void sp_chain_set_limits(struct sp_chain *c, uint64_t ssid_ms, uint64_t idle_ms,
    uint64_t session_max_ms);
/* "proxy", "partner" or "inside". */
const char *sp_chain_end_by_name(enum sp_end_by by);

/* Facts (owned by the chain; valid until changed or sp_chain_free). */
const char *sp_chain_fact(const struct sp_chain *c, const char *key);
int sp_chain_fact_set(struct sp_chain *c, const char *key, const char *value);

#endif
