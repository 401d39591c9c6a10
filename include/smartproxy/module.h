/*
 * smartproxy/module.h - the inspection module ABI (installed; the whole
 * contract between the relay core and a module).
 *
 * A module is a shared object that exports one data symbol, SP_MODULE_SYMBOL,
 * of type `const struct sp_module`. The core dlopen()s every module named in
 * the bootstrap file at start (before privileges are dropped), checks the
 * descriptor's magic, ABI major (exact match) and minor (the module's minor
 * must not exceed the host's), and refuses the module otherwise. Modules link
 * against nothing of the daemon: everything they may call is in the function
 * table `struct sp_host` handed to init().
 *
 * Versioning: SP_MODULE_ABI_MAJOR changes when anything here changes
 * incompatibly. SP_MODULE_ABI_MINOR grows when members are appended to
 * struct sp_module, struct sp_host or a struct the core hands to a hook
 * (sp_peer, sp_tls, sp_close, and the typed facts); each carries its size
 * (struct_size, or `size` as its first member) so either side can tell which
 * members the other knows: a member is there only if it ends within that
 * size. Never reorder or remove members.
 *
 * ABI 2.0 (no release had 1.x): ending is deferred (below); sp_peer, sp_tls
 * and sp_close begin with `size`; what modules tell the core and each other
 * about a session's end, its files, its protocol deviations, a policy
 * refusal and the revision's limits are typed host calls (note_end,
 * note_file, note_deviation, refusal_set/refusal_get, limits) instead of
 * string facts. The descriptor symbol keeps its name, sp_module_v1: a 1.x
 * module is refused by its abi_major.
 *
 * A session has two legs: OUTSIDE (the partner, over TLS) and INSIDE (the
 * inside OFTP2 server, reached through the tunnel). Bytes flow in two
 * directions; for each direction the chain is the bootstrap order. Each hook
 * gets `ms`, this module's handle on this session, and `sctx`, the module's
 * per-session context (session_ctx_size bytes, zeroed, owned by the core,
 * valid from on_open until on_close returns).
 *
 * Ending is deferred: host->end(), a hook's SP_REJECT/SP_ABORT/SP_FAIL, a
 * full leg buffer, a lost leg or a timeout only mark the session while any
 * module's call is running. on_close runs once every call into the chain
 * has returned: never inside a module's own hook or host call. After the
 * mark, host->forward() returns an error and nothing more reaches later
 * modules; host->send() still writes to a leg that is up.
 *
 * Ownership: every pointer the core passes into a hook is valid only during
 * that call; copy what you keep. Strings and structs returned by host
 * functions are owned by the core: a fact's value until that fact is set
 * again or the session ends, the rest until the session ends. What a module
 * hands to a host function is copied if the core keeps it (note_file,
 * note_deviation, fact_set). Memory a module allocates is
 * the module's to free (in on_close, config_free or fini).
 *
 * Threading: all hooks of one session run on one thread; different sessions
 * may run on different threads. Hooks must never block. smartproxy-server
 * runs one session loop per CPU by default (bootstrap key `loops`), so
 * state a module shares between sessions (its mctx) needs its own lock or
 * atomics. Process-level hooks: init, config_parse, config_apply,
 * config_free and fini run on the main thread; on_log runs on whichever
 * thread logs, one call at a time (under the logger's lock: it must not
 * wait for another thread). A `done` or `answer` whose session ended (ms
 * NULL) may exceptionally run on the main thread while the server stops.
 */
#ifndef SMARTPROXY_MODULE_H
#define SMARTPROXY_MODULE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_MODULE_MAGIC     0x53504d31u /* "SPM1" */
#define SP_MODULE_ABI_MAJOR 2
#define SP_MODULE_ABI_MINOR 0
#define SP_MODULE_SYMBOL    "sp_module_v1"

/* Fill the ABI header of a descriptor: `SP_MODULE_HEADER, .name = "x", ...` */
#define SP_MODULE_HEADER \
	.magic = SP_MODULE_MAGIC, .abi_major = SP_MODULE_ABI_MAJOR, \
	.abi_minor = SP_MODULE_ABI_MINOR, .struct_size = sizeof(struct sp_module)

/* What a hook decides. */
enum sp_verdict {
	SP_CONTINUE = 0, /* go on: next module, or the wire */
	SP_HOLD = 1,     /* asynchronous work pending: call host->resume() later */
	SP_REJECT = 2,   /* policy refusal: clean end of the session */
	SP_ABORT = 3,    /* hostile input: end now, flush nothing more inside */
	SP_FAIL = 4      /* the module itself failed: its failure policy decides */
};

enum sp_leg { SP_LEG_OUTSIDE = 0, SP_LEG_INSIDE = 1 };

/* Direction of a byte flow, named by where the bytes go. */
enum sp_dir { SP_TO_INSIDE = 0, SP_TO_OUTSIDE = 1 };

/* Log levels, shared with the core's logger. */
enum sp_level {
	SP_LEVEL_DEBUG = 0, SP_LEVEL_INFO, SP_LEVEL_NOTICE, SP_LEVEL_WARN,
	SP_LEVEL_ERR, SP_LEVEL_CRIT
};

/* How the module was configured in the bootstrap file. */
enum sp_mode {
	SP_MODE_ENFORCE = 0, /* verdicts take effect */
	SP_MODE_DETECT = 1   /* log what would have been rejected, let it pass */
};

/* Descriptor flags. */
#define SP_MODULE_F_GATES_INSIDE 0x1u /* the inside leg opens only when this
                                         module first forwards bytes inside */

struct sp_msess;   /* opaque: one module's handle on one session */

/* The session's far end, known at TCP accept (on_open). */
struct sp_peer {
	size_t size;         /* sizeof(struct sp_peer) as the core knows it */
	const char *addr;    /* numeric address, "192.0.2.7" or "2001:db8::1" */
	uint16_t port;
	const char *local_addr;
	uint16_t local_port;
	int outgoing;        /* 0: partner called us; 1: we called the partner */
	const char *route;   /* outgoing: route name; incoming: listener name */
};

/*
 * TLS facts once the outside leg is established (on_tls): after the TLS
 * handshake, or at once for a plain TCP leg, where version and cipher are
 * "none" and there is no certificate.
 */
struct sp_tls {
	size_t size;                  /* sizeof(struct sp_tls) as the core knows it */
	const char *version;          /* "TLS1.3", or "none" */
	const char *cipher;           /* GnuTLS cipher suite name */
	const uint8_t *peer_cert_der; /* leaf certificate or NULL */
	size_t peer_cert_len;
	const char *peer_cert_sha256; /* 64 lowercase hex digits or NULL */
	const char *peer_subject;     /* RFC 4514 DN or NULL */
	int peer_verified;            /* chain verified against the configured CA */
};

/* A framed protocol message handed down the chain (on_message). */
struct sp_message {
	const char *protocol;   /* "oftp2" */
	int type;               /* protocol-specific: OFTP2 command code octet */
	const void *parsed;     /* protocol-specific typed struct, e.g. struct oftp2_cmd */
	const uint8_t *raw;     /* the message's bytes as seen on the wire */
	size_t raw_len;
	enum sp_dir dir;
	/* The version of the header that defines `parsed`: for "oftp2",
	 * SP_OFTP2_H_VERSION of <smartproxy/oftp2.h>. A reader built against
	 * another major must not read `parsed`. */
	uint32_t parsed_version;
};

/* ---- typed session facts (ABI 2.0) ---- */

/* Who said a protocol's last word. */
enum sp_end_by {
	SP_END_BY_PROXY = 0,    /* a module of the chain, on the proxy's behalf */
	SP_END_BY_PARTNER = 1,
	SP_END_BY_INSIDE = 2
};

/* How the protocol ended the session (host->note_end). */
struct sp_end_note {
	size_t size;            /* sizeof(struct sp_end_note) */
	unsigned code;          /* OFTP2: the ESID reason code, 0..99 */
	enum sp_end_by by;
};

enum sp_file_dir { SP_FILE_FROM_PARTNER = 0, SP_FILE_TO_PARTNER = 1 };

/* A file the session carries or carried (host->note_file). */
struct sp_file_note {
	size_t size;            /* sizeof(struct sp_file_note) */
	const char *name;       /* OFTP2: the virtual file's dataset name */
	enum sp_file_dir dir;
	char format;            /* OFTP2: 'U', 'T', 'F' or 'V'; 0 unknown */
	uint64_t size_kib;      /* announced size, 0 unknown */
	uint64_t restart_offset;
	uint64_t octets;        /* carried so far */
	/* NULL: the file in transfer now (replaces the one noted before);
	 * else how it ended ("EFPA", "refused", "aborted (...)"): the file
	 * joins the session's files and none is in transfer any more. */
	const char *result;
};

/* The limits of the session's configuration revision (host->limits). */
struct sp_limits {
	size_t size;            /* sizeof(struct sp_limits) as the core knows it */
	uint64_t ssid_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t session_max_ms;
};

/* The most files one session's audit record lists; later ones are counted. */
#define SP_SESSION_FILES_MAX 1000

/* Why a session ended (on_close). */
struct sp_close {
	size_t size;            /* sizeof(struct sp_close) as the core knows it */
	const char *reason;     /* short stable token: "normal", "rejected", "protocol", "timeout",
	                           "shutdown" (the server stops and does not wait for the
	                           session: a protocol module says so, e.g. ESID 05), ... */
	const char *text;       /* human words or "" */
	uint64_t bytes_to_inside;
	uint64_t bytes_to_outside;
	int64_t started_ms;     /* wall clock, ms since the epoch */
	int64_t ended_ms;
};

/* A log record offered to on_log before it is written (WARN and above). */
struct sp_log_entry {
	enum sp_level level;    /* a filter may lower it */
	const char *category;
	const char *function;
	const char *message;
	char tag[64];           /* a filter may set it, e.g. "ignore-rule=12" */
	int escalate;           /* 1: becomes an event; a filter may clear it */
	/* The record's key/value fields ("src", "partner", "session", ...):
	 * NULL-terminated key, value pairs, or NULL. */
	const char *const *fields;
	int64_t time_ms;        /* wall clock, ms since the epoch */
};

/* Arguments from the module's bootstrap entry. */
struct sp_module_args {
	const char *name;
	enum sp_mode mode;
	/* options: NULL-terminated key, value pairs from the entry's `options` map */
	const char *const *options;
};

/*
 * The host's function table. `ms` may be NULL where noted (process-level).
 */
struct sp_host {
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t struct_size;

	/* Log a line in the module's name; ms may be NULL. */
	void (*log)(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/*
	 * One stable security event line (docs/logging.md): `event` is a short
	 * token ("bad_password"), the core adds source address, partner and
	 * session; `fmt` adds detail.
	 */
	void (*security)(struct sp_msess *ms, const char *event, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/*
	 * Pass bytes on in direction `dir`: to the next module's on_data, or
	 * the wire. 0, or <0 when the session is ending (it may have ended
	 * during this call; on_close has not run yet, see above).
	 */
	int (*forward)(struct sp_msess *ms, enum sp_dir dir, const void *p, size_t n);
	/* Write bytes straight to a leg, past every later module (ESID, SSRM...). */
	int (*send)(struct sp_msess *ms, enum sp_leg leg, const void *p, size_t n);
	/*
	 * Hand a parsed message to the later modules' on_message hooks, in chain
	 * order. Returns the first verdict that is not SP_CONTINUE, or
	 * SP_CONTINUE. On SP_HOLD the delivery goes on when the holding module
	 * resumes, and this module's on_delivered() gets the final verdict with
	 * `cookie`; until then the caller keeps `msg` and all it points to valid
	 * and delivers nothing else. One delivery at a time per session.
	 */
	enum sp_verdict (*deliver)(struct sp_msess *ms, const struct sp_message *msg,
	    uint64_t cookie);
	/* End a hold this module started (from on_data or on_message). */
	void (*resume)(struct sp_msess *ms, enum sp_verdict verdict);
	/*
	 * End the session: flush what was sent, close both legs. Only marks:
	 * every module's on_close runs after the current call into the chain
	 * returned. The first reason of a session counts.
	 */
	void (*end)(struct sp_msess *ms, const char *reason, const char *text);

	/* One-shot timers per module and session, `id` chosen by the module. */
	int (*timer_set)(struct sp_msess *ms, unsigned id, uint64_t delay_ms);
	void (*timer_cancel)(struct sp_msess *ms, unsigned id);

	/*
	 * Session facts shared by all modules, string key/value: names and
	 * identities ("partner", "route", "route.partner", "peer.addr",
	 * "session.id", "tls.version", "tls.cipher", "tls.peer_subject",
	 * "tls.peer_cert_sha256", "listener"). get returns NULL if unset.
	 * Anything with structure crosses as a typed fact (ABI 2.0, below).
	 */
	const char *(*fact_get)(struct sp_msess *ms, const char *key);
	int (*fact_set)(struct sp_msess *ms, const char *key, const char *value);

	/* This module's runtime configuration for the session's revision (or NULL). */
	void *(*config)(struct sp_msess *ms);

	/* Raise an event for the event-script bridge; ms may be NULL. */
	void (*event)(struct sp_msess *ms, enum sp_level severity, const char *type,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

	/*
	 * Run `work(arg)` on a worker thread, then `done(ms, arg)` back on the
	 * session's thread: for CPU-heavy steps (password hashing) that must not
	 * stall every other session. `done` is always called exactly once; `ms`
	 * is NULL there if the session ended meanwhile (free `arg` anyway). A
	 * module typically returns SP_HOLD and calls host->resume() from done.
	 * `work` must not call the host. Returns 0, or <0 if it could not be
	 * queued (then neither function runs).
	 */
	int (*run_async)(struct sp_msess *ms, void (*work)(void *arg),
	    void (*done)(struct sp_msess *ms, void *arg), void *arg);

	/*
	 * POST a JSON document to the backend through the tunnel and the
	 * client: `path` is relative to the API root ("v1/events"). Fire and
	 * forget; while the tunnel is down the core keeps up to a bound of such
	 * documents and reports how many it had to drop when it is back. ms may
	 * be NULL. Returns 0 when queued.
	 */
	int (*backend_post)(struct sp_msess *ms, const char *path, const char *json);

	/*
	 * Ask the backend (POST <path> with `json`, through the tunnel and the
	 * client) and get its answer: `answer(ms, arg, status, body)` runs on
	 * the session's thread exactly once, with the HTTP status and the
	 * response body, or status < 0 and body NULL when there is no answer in
	 * timeout_ms or no tunnel (fail closed: treat it as a refusal). `ms` is
	 * NULL there if the session ended meanwhile (free `arg` anyway). Returns
	 * 0, or <0 if it could not be sent (then `answer` does not run). The
	 * question leaves from the main thread: "no tunnel" is an answer with
	 * status < 0, never a synchronous error.
	 */
	int (*backend_ask)(struct sp_msess *ms, const char *path, const char *json,
	    unsigned timeout_ms,
	    void (*answer)(struct sp_msess *ms, void *arg, int status, const char *body),
	    void *arg);

	/*
	 * A security event line like host->security, for when there is no
	 * session any more (e.g. after run_async found it gone): `src` is the
	 * source address the module remembered.
	 */
	void (*security_from)(const char *src, const char *event, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* ---- ABI 1.1 ---- */

	/*
	 * Close the leg's TLS with this fatal alert (a TLS AlertDescription,
	 * e.g. 44 certificate_revoked) instead of close_notify when the session
	 * ends: the peer learns why. Only marks the leg; the module still
	 * returns SP_REJECT (or calls end). No effect on a plain leg.
	 */
	void (*tls_alert)(struct sp_msess *ms, enum sp_leg leg, unsigned alert);

	/* ---- ABI 2.0: typed facts ---- */

	/*
	 * The protocol's last word of this session (who ended it, with which
	 * code): the session's log line, audit record and statistics carry
	 * it. The first note of a session counts: returns 0 when this one
	 * did, 1 when one was noted before, <0 on a bad argument.
	 */
	int (*note_end)(struct sp_msess *ms, const struct sp_end_note *end);
	/*
	 * A file of this session, copied: in transfer (result NULL, the live
	 * view shows it) or finished (appended to the session's files for the
	 * audit record, O(1); past SP_SESSION_FILES_MAX only counted).
	 * 0, or <0 (out of memory, bad argument).
	 */
	int (*note_file)(struct sp_msess *ms, const struct sp_file_note *file);
	/* A protocol deviation admitted (a rule token, copied) for the audit
	 * record; repeats are kept once. 0, or <0. */
	int (*note_deviation)(struct sp_msess *ms, const char *rule);
	/*
	 * A policy module refuses with a protocol end code (OFTP2: an ESID
	 * reason, e.g. 4 user code not known) and returns SP_REJECT; the
	 * protocol module that delivered the message reads it with
	 * refusal_get to say it on the wire. 0: none set.
	 */
	void (*refusal_set)(struct sp_msess *ms, unsigned code);
	unsigned (*refusal_get)(struct sp_msess *ms);
	/* The limits of the session's revision (never NULL; members 0: none). */
	const struct sp_limits *(*limits)(struct sp_msess *ms);
};

/*
 * The descriptor. Every callback is optional (NULL = not interested; a NULL
 * on_data passes bytes through unchanged).
 */
struct sp_module {
	uint32_t magic;
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t struct_size;
	const char *name;
	const char *version;
	uint32_t flags;             /* SP_MODULE_F_* */
	size_t session_ctx_size;

	/* Process level. init runs before privileges are dropped. */
	int (*init)(const struct sp_host *host, const struct sp_module_args *args,
	    void **mctx);
	void (*fini)(void *mctx);

	/*
	 * Runtime configuration: `json` is this module's section of the
	 * configuration revision (a JSON document, "null" if absent). Return 0 and
	 * a new config object in *cfg, or a negative value and one line in err:
	 * the whole revision is then refused. The core frees the object with
	 * config_free when no session uses that revision any more.
	 */
	int (*config_parse)(void *mctx, const char *json, void **cfg, char *err,
	    size_t errlen);
	void (*config_free)(void *mctx, void *cfg);
	/*
	 * Process level: `cfg` (from config_parse, or NULL when no revision is
	 * active any more) is now the current revision's. For modules whose
	 * process-level hooks (on_log) need configuration: keep the pointer until
	 * the next config_apply; it stays valid until then.
	 */
	void (*config_apply)(void *mctx, void *cfg);

	/*
	 * Session level. on_close runs exactly once for every on_open, in chain
	 * order, after the call that ended the session returned and before the
	 * legs are flushed and closed: a module may still host->send() a last
	 * message to a leg that is up. host->end() there does nothing.
	 */
	enum sp_verdict (*on_open)(void *mctx, struct sp_msess *ms, void *sctx,
	    const struct sp_peer *peer);
	enum sp_verdict (*on_tls)(void *mctx, struct sp_msess *ms, void *sctx,
	    const struct sp_tls *tls);
	/*
	 * Bytes in direction `dir`. The module takes them all (buffering what it
	 * must, bounded) and forwards what it wants with host->forward. SP_HOLD
	 * stops reading the source leg of `dir` until host->resume().
	 */
	enum sp_verdict (*on_data)(void *mctx, struct sp_msess *ms, void *sctx,
	    enum sp_dir dir, const uint8_t *p, size_t n);
	enum sp_verdict (*on_message)(void *mctx, struct sp_msess *ms, void *sctx,
	    const struct sp_message *msg);
	void (*on_delivered)(void *mctx, struct sp_msess *ms, void *sctx,
	    uint64_t cookie, enum sp_verdict verdict);
	enum sp_verdict (*on_timer)(void *mctx, struct sp_msess *ms, void *sctx,
	    unsigned id);
	void (*on_close)(void *mctx, struct sp_msess *ms, void *sctx,
	    const struct sp_close *info);

	/* Process-level log filter for records of WARN and above. */
	void (*on_log)(void *mctx, struct sp_log_entry *rec);
};

#ifdef __cplusplus
}
#endif

#endif /* SMARTPROXY_MODULE_H */
