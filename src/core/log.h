/*
 * log.h - the one logging call of smartproxy, its targets and record hooks.
 *
 * Every record carries a level, a short category ("core", "tunnel", "tls",
 * "oftp2", "partner", "config", "module", "security", ...), the calling
 * function (filled in by the sp_log macros) and optional key/value fields
 * (session id, peer address, partner) that JSON lines carry as members and
 * text lines as key=value. The line formats are documented in docs/logging.md
 * and are stable: intrusion detection reads them.
 *
 * Targets (several at once, each with its own minimum level and format):
 * stderr, syslog, and daily files "<dir>/<prefix>-YYYY-MM-DD.log" (UTC date)
 * that roll by themselves at midnight UTC, checked against the clock at each
 * write. "<dir>/<prefix>.log" is kept as a symbolic link to the current
 * day's file, so a reader with a fixed path (fail2ban, tail -F) follows the
 * roll; at each roll, daily files older than keep_days are removed. Files are opened O_APPEND|O_CLOEXEC, mode 0640, and every line is one
 * write(2), so several processes may append to the same file without lines
 * interleaving. A failing target (full disk, vanished directory) is reported
 * once on stderr and logging goes on.
 *
 * Hooks: before a record of WARN or above is written, registered filters may
 * lower its level, attach a tag and clear its escalation (the log-ignore
 * module; struct sp_log_entry of smartproxy/module.h maps onto the record);
 * records that are still CRIT and escalated are then handed to registered
 * sinks (the event-script bridge). A filter
 * or sink that logs does not recurse: records logged from inside a hook skip
 * the hooks and are written directly.
 *
 * Threads: any thread may log (smartproxy-server runs one loop per core).
 * Every call takes one process-wide recursive lock, so a line is written
 * whole and the burst limiter, the daily roll, filters and sinks see one
 * record at a time; hooks therefore run on whichever thread logged, under
 * that lock, and must not wait for another thread that logs.
 *
 * Ownership: the logger copies everything it keeps from a struct sp_log_conf;
 * the caller keeps owning the conf (the bootstrap reader frees it). Records
 * passed to hooks live only for the duration of the call.
 */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

enum sp_log_level {
	SP_LOG_DEBUG = 0,
	SP_LOG_INFO,
	SP_LOG_NOTICE,
	SP_LOG_WARN,
	SP_LOG_ERR,
	SP_LOG_CRIT
};
/* In a target conf: use the section's level / format. */
#define SP_LOG_INHERIT (-1)

enum sp_log_format { SP_LOG_FORMAT_TEXT = 0, SP_LOG_FORMAT_JSON };
enum sp_log_target_type {
	SP_LOG_TARGET_STDERR = 0,
	SP_LOG_TARGET_SYSLOG,
	SP_LOG_TARGET_FILE
};

/* Bounds: a whole line (newline included), the formatted message, a tag. */
#define SP_LOG_LINE_MAX 4096
#define SP_LOG_MSG_MAX 2048
#define SP_LOG_TAG_MAX 64
#define SP_LOG_TRUNC_MARK "[truncated]"

struct sp_log_field {
	const char *key;   /* [a-z0-9_]; others are written as '_' */
	const char *value; /* NULL is written as an empty value */
};

/*
 * A NULL-terminated field list for sp_logkv():
 *   sp_logkv(SP_LOG_WARN, "partner", SP_LOG_KV({"peer", addr}, {"partner", id}),
 *            "bad password");
 */
#define SP_LOG_KV(...) \
	((const struct sp_log_field[]){ __VA_ARGS__, { NULL, NULL } })

#define sp_log(level, category, ...) \
	sp_log_emit((level), (category), __func__, NULL, __VA_ARGS__)
#define sp_logkv(level, category, fields, ...) \
	sp_log_emit((level), (category), __func__, (fields), __VA_ARGS__)

void sp_log_emit(int level, const char *category, const char *func,
    const struct sp_log_field *fields, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sp_log_emitv(int level, const char *category, const char *func,
    const struct sp_log_field *fields, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* True when a record of this level would reach at least one target. */
int sp_log_enabled(int level);

/* ---- configuration ---- */

struct sp_log_target_conf {
	int type;     /* enum sp_log_target_type */
	int level;    /* minimum level, or SP_LOG_INHERIT */
	int format;   /* enum sp_log_format, or SP_LOG_INHERIT */
	char *dir;    /* file: directory */
	char *prefix; /* file: file name before "-YYYY-MM-DD.log" */
	int keep_days; /* file: remove daily files older than this; 0 keeps all */
	char *ident;  /* syslog: ident; NULL = program name */
	int facility; /* syslog: LOG_DAEMON, LOG_LOCAL0, ... */
};

struct sp_log_conf {
	int level;    /* default minimum level of the targets */
	int format;   /* default format of the targets */
	struct sp_log_target_conf *targets;
	size_t ntargets; /* 0: one stderr target */
};

/*
 * Replace all targets. Files are opened now (an unwritable one is reported on
 * stderr, not fatal: it is retried at later writes). SP_ERR_INVALID for a bad
 * conf (unknown type or level, more than one syslog target, file target
 * without dir or prefix), SP_ERR_NOMEM; on error the old targets stay.
 */
int sp_log_configure(const struct sp_log_conf *conf);

/*
 * Reopen every file target's current file by its name, for SIGHUP after a
 * logrotate moved it away: a new file of that name is created through the
 * directory handle kept since start (so it works in a chroot). The new
 * descriptor replaces the old one with dup3(), so another thread writing at
 * that moment writes to one file or the other, never to a closed or reused
 * descriptor. Returns how many files were reopened, or the negative count of
 * those that could not be (reported on stderr; retried at the next write).
 */
int sp_log_reopen(void);

/* Back to the initial state: stderr, text, INFO; no filters, sinks or clock. */
void sp_log_reset(void);

/*
 * Security lines (category "security" with a "src" field) are summarised per
 * source and event after the first SP_LOG_BURST_FIRST in a window of 10 s
 * (core/log_burst.h): the rest are counted, and when the window has ended
 * one line "N more from ADDR in 10 s: EVENT" (event=suppressed) is written, at the
 * next record or at the next sp_log_tick(). smartproxy-server calls
 * sp_log_tick() once a second so a summary never waits for the next record
 * (the other programs write no security lines with a source).
 */
void sp_log_tick(void);

/* Names used in configuration and in lines: "debug".."crit" / "DEBUG".."CRIT". */
int sp_log_level_from_name(const char *name, int *level);
const char *sp_log_level_name(int level);

/* Test hook: where "now" comes from (NULL: clock_gettime(CLOCK_REALTIME)). */
typedef void (*sp_log_clock_fn)(struct timespec *now);
void sp_log_set_clock(sp_log_clock_fn clock);

/* ---- record hooks ---- */

struct sp_log_record {
	struct timespec ts;
	int level;          /* filters may lower it, never raise it */
	int orig_level;     /* the level the caller asked for */
	const char *category;
	const char *func;
	const char *msg;    /* formatted, at most SP_LOG_MSG_MAX bytes */
	const struct sp_log_field *fields; /* NULL-terminated, or NULL */
	char tag[SP_LOG_TAG_MAX];          /* set by a filter; "" = none */
	int escalate;       /* 1 for CRIT: goes to the sinks (an event); a
	                       filter may clear it, lowering the level clears it */
};

/* Called for records of WARN and above, in registration order. */
typedef void (*sp_log_filter_fn)(struct sp_log_record *rec, void *arg);
/* Called for records still CRIT and escalated after the filters ran. */
typedef void (*sp_log_sink_fn)(const struct sp_log_record *rec, void *arg);

#define SP_LOG_HOOKS_MAX 16
/* SP_ERR_LIMIT when SP_LOG_HOOKS_MAX are registered; remove: SP_ERR_NOT_FOUND. */
int sp_log_filter_add(sp_log_filter_fn fn, void *arg);
int sp_log_filter_remove(sp_log_filter_fn fn, void *arg);
int sp_log_sink_add(sp_log_sink_fn fn, void *arg);
int sp_log_sink_remove(sp_log_sink_fn fn, void *arg);

/* For filters: tag the record (copied, truncated to SP_LOG_TAG_MAX - 1). */
void sp_log_record_set_tag(struct sp_log_record *rec, const char *tag);

#endif
