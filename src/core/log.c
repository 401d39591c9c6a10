/*
 * log.c - record dispatch, hooks and targets (see log.h for the contract).
 *
 * A record is formatted at most once per format, only if some target wants
 * it, into a stack buffer of SP_LOG_LINE_MAX bytes; nothing is allocated on
 * the logging path. File targets keep a descriptor on their directory, so a
 * process that chroots after configuring can still roll its file at
 * midnight; if that directory vanished, the path is tried again.
 *
 * Threads: every entry point takes one process-wide lock (recursive, since
 * a filter or a burst summary logs from inside a record), so a line is
 * formatted and written whole, the burst limiter and the daily roll see one
 * record at a time, and filters and sinks run one at a time. Logging is off
 * the data path (a few lines per session), so one lock is cheap enough. The
 * level threshold is read without it (an atomic) for the early exit.
 */
#include "config.h"

#include "core/log.h"
#include "core/log_burst.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <smartproxy/module.h>

#include "core/err.h"
#include "core/log_line.h"

/* Modules see the same levels through smartproxy/module.h. */
_Static_assert(SP_LOG_DEBUG == (int)SP_LEVEL_DEBUG &&
    SP_LOG_INFO == (int)SP_LEVEL_INFO && SP_LOG_NOTICE == (int)SP_LEVEL_NOTICE &&
    SP_LOG_WARN == (int)SP_LEVEL_WARN && SP_LOG_ERR == (int)SP_LEVEL_ERR &&
    SP_LOG_CRIT == (int)SP_LEVEL_CRIT, "log levels differ from module.h");

struct target {
	int type;
	int level;
	int format;
	/* file */
	char *dir;
	char *prefix;
	int keep_days;    /* 0: keep every daily file */
	int dirfd;
	int fd;
	char day[11];     /* "YYYY-MM-DD" of fd */
	int link_failing; /* the current-file link could not be made; reported */
	time_t retry_at;  /* after a failed open, not before this second */
	int failing;      /* failure reported, not yet recovered */
	/* syslog */
	char *ident;
	int facility;
};

struct hook {
	void (*fn)(void);
	void *arg;
};

static struct target default_target = {
	.type = SP_LOG_TARGET_STDERR, .level = SP_LOG_INFO,
	.format = SP_LOG_FORMAT_TEXT, .dirfd = -1, .fd = -1,
};

static struct {
	struct target *t;
	size_t n;
	int owned;        /* t was allocated by sp_log_configure */
	int min_level;    /* lowest level any target wants */
	struct hook filters[SP_LOG_HOOKS_MAX];
	size_t nfilters;
	struct hook sinks[SP_LOG_HOOKS_MAX];
	size_t nsinks;
	sp_log_clock_fn clock;
	int in_hook;      /* >0 while a filter or sink runs */
	int in_burst;     /* >0 while a burst summary is written */
} L = { &default_target, 1, 0, SP_LOG_INFO, { { 0, 0 } }, 0,
	{ { 0, 0 } }, 0, NULL, 0, 0 };

static pthread_mutex_t log_mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
#define LOCK() pthread_mutex_lock(&log_mu)
#define UNLOCK() pthread_mutex_unlock(&log_mu)

static int
min_level(void)
{
	return __atomic_load_n(&L.min_level, __ATOMIC_RELAXED);
}

static void
set_min_level(int level)
{
	__atomic_store_n(&L.min_level, level, __ATOMIC_RELAXED);
}

static const char *const level_names[] = {
	"DEBUG", "INFO", "NOTICE", "WARN", "ERR", "CRIT"
};
static const char *const level_conf_names[] = {
	"debug", "info", "notice", "warn", "err", "crit"
};

const char *
sp_log_level_name(int level)
{
	if (level < SP_LOG_DEBUG || level > SP_LOG_CRIT)
		return "?";
	return level_names[level];
}

int
sp_log_level_from_name(const char *name, int *level)
{
	int i;

	for (i = SP_LOG_DEBUG; i <= SP_LOG_CRIT; i++)
		if (strcmp(name, level_conf_names[i]) == 0) {
			*level = i;
			return SP_OK;
		}
	return SP_ERR_NOT_FOUND;
}

static void
sp_log_set_clock_locked(sp_log_clock_fn clock)
{
	L.clock = clock;
}

void
sp_log_set_clock(sp_log_clock_fn clock)
{
	LOCK();
	sp_log_set_clock_locked(clock);
	UNLOCK();
}

static void
now(struct timespec *ts)
{
	if (L.clock != NULL)
		L.clock(ts);
	else if (clock_gettime(CLOCK_REALTIME, ts) != 0)
		ts->tv_sec = ts->tv_nsec = 0;
}

/* ---- security lines of one source, summarised (log_burst.h) ---- */

static void
burst_report(const char *src, const char *event, unsigned suppressed, unsigned window_s,
    void *arg)
{
	char n[16];

	snprintf(n, sizeof(n), "%u", suppressed);
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "suppressed" }, { "src", src },
	    { "of", event }, { "count", n }), "%u more from %s in %u s: %s", suppressed, src,
	    window_s, event[0] != '\0' ? event : "-");
}

/* Write the summaries of windows that ended; false when this record is a
 * security line of a source past its first lines in the window. */
static bool
burst_admit(const struct timespec *ts, const char *category,
    const struct sp_log_field *fields)
{
	int64_t ms = (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
	const char *src = NULL, *event = NULL;
	bool write = true;

	L.in_burst++;
	sp_log_burst_expire(ms, burst_report, NULL);
	if (strcmp(category, "security") == 0) {
		for (; fields != NULL && fields->key != NULL; fields++) {
			if (strcmp(fields->key, "src") == 0)
				src = fields->value;
			else if (strcmp(fields->key, "event") == 0)
				event = fields->value;
		}
		if (src != NULL)
			write = sp_log_burst_admit(src, event, ms);
	}
	L.in_burst--;
	return write;
}

int
sp_log_enabled(int level)
{
	return level >= min_level();
}

/* ---- hooks ---- */

static int
hook_add(struct hook *list, size_t *n, void (*fn)(void), void *arg)
{
	if (*n >= SP_LOG_HOOKS_MAX)
		return SP_ERR_LIMIT;
	list[*n].fn = fn;
	list[*n].arg = arg;
	(*n)++;
	return SP_OK;
}

static int
hook_remove(struct hook *list, size_t *n, void (*fn)(void), void *arg)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (list[i].fn == fn && list[i].arg == arg) {
			memmove(&list[i], &list[i + 1],
			    (*n - i - 1) * sizeof(list[0]));
			(*n)--;
			return SP_OK;
		}
	return SP_ERR_NOT_FOUND;
}

static int
sp_log_filter_add_locked(sp_log_filter_fn fn, void *arg)
{
	return hook_add(L.filters, &L.nfilters, (void (*)(void))fn, arg);
}

int
sp_log_filter_add(sp_log_filter_fn fn, void *arg)
{
	int r;

	LOCK();
	r = sp_log_filter_add_locked(fn, arg);
	UNLOCK();
	return r;
}

static int
sp_log_filter_remove_locked(sp_log_filter_fn fn, void *arg)
{
	return hook_remove(L.filters, &L.nfilters, (void (*)(void))fn, arg);
}

int
sp_log_filter_remove(sp_log_filter_fn fn, void *arg)
{
	int r;

	LOCK();
	r = sp_log_filter_remove_locked(fn, arg);
	UNLOCK();
	return r;
}

static int
sp_log_sink_add_locked(sp_log_sink_fn fn, void *arg)
{
	return hook_add(L.sinks, &L.nsinks, (void (*)(void))fn, arg);
}

int
sp_log_sink_add(sp_log_sink_fn fn, void *arg)
{
	int r;

	LOCK();
	r = sp_log_sink_add_locked(fn, arg);
	UNLOCK();
	return r;
}

static int
sp_log_sink_remove_locked(sp_log_sink_fn fn, void *arg)
{
	return hook_remove(L.sinks, &L.nsinks, (void (*)(void))fn, arg);
}

int
sp_log_sink_remove(sp_log_sink_fn fn, void *arg)
{
	int r;

	LOCK();
	r = sp_log_sink_remove_locked(fn, arg);
	UNLOCK();
	return r;
}

void
sp_log_record_set_tag(struct sp_log_record *rec, const char *tag)
{
	snprintf(rec->tag, sizeof(rec->tag), "%s", tag ? tag : "");
}

/*
 * Filters and sinks run on a copy of the list, so one may remove itself; a
 * record logged from inside them gets no hooks (in_hook), which is what stops
 * a logging filter from recursing.
 */
static void
run_hooks(struct sp_log_record *rec)
{
	struct hook copy[SP_LOG_HOOKS_MAX];
	size_t i, n;
	int before, escalate;

	L.in_hook++;
	if (rec->level >= SP_LOG_WARN) {
		n = L.nfilters;
		memcpy(copy, L.filters, n * sizeof(copy[0]));
		for (i = 0; i < n; i++) {
			before = rec->level;
			escalate = rec->escalate;
			((sp_log_filter_fn)copy[i].fn)(rec, copy[i].arg);
			/* filters only lower and clear */
			if (rec->level > before || rec->level < SP_LOG_DEBUG)
				rec->level = before;
			rec->escalate = escalate && rec->escalate &&
			    rec->level == SP_LOG_CRIT;
		}
	}
	if (rec->escalate) {
		n = L.nsinks;
		memcpy(copy, L.sinks, n * sizeof(copy[0]));
		for (i = 0; i < n; i++)
			((sp_log_sink_fn)copy[i].fn)(rec, copy[i].arg);
	}
	L.in_hook--;
}

/* ---- targets ---- */

/* Straight to fd 2: the failure reports must not go through the logger. */
static void
report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
report(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

static void
file_failed(struct target *t, const char *day, int err)
{
	if (t->failing)
		return;
	t->failing = 1;
	report("smartproxy: log: cannot write %s/%s-%s.log: %s "
	    "(reported once; retrying, other targets go on)\n",
	    t->dir, t->prefix, day, strerror(err));
}

static int
file_open_day(struct target *t, const char *day)
{
	char name[300];
	int i, fd = -1, err = 0;

	if ((size_t)snprintf(name, sizeof(name), "%s-%s.log", t->prefix, day) >=
	    sizeof(name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Second round: the directory may have vanished and come back. */
	for (i = 0; i < 2 && fd < 0; i++) {
		if (t->dirfd < 0 || i == 1) {
			/* Keep the old handle unless the path opens again: in a
			 * chroot the path cannot, and the handle is all we have. */
			int nd = open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

			if (nd < 0) {
				if (err == 0)
					err = errno;
				continue;
			}
			if (t->dirfd >= 0)
				close(t->dirfd);
			t->dirfd = nd;
		}
		fd = openat(t->dirfd, name, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
		if (fd < 0)
			err = errno;
	}
	if (fd < 0)
		errno = err;
	return fd;
}

static void
day_of(time_t sec, char day[11])
{
	struct tm tm;
	char tmp[48];

	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		strcpy(day, "0000-00-00");
		return;
	}
	/* Range checked above; the wide buffer keeps -Wformat-truncation calm. */

	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
	memcpy(day, tmp, 10);
	day[10] = '\0';
}

/*
 * "<prefix>.log" -> "<prefix>-<day>.log", replaced in one rename so a reader
 * of the fixed name never finds it missing. A regular file of that name is
 * the operator's, never replaced.
 */
static void
file_link(struct target *t, const char *day)
{
	char name[300], tmp[310], dest[300];
	struct stat st;

	if ((size_t)snprintf(name, sizeof(name), "%s.log", t->prefix) >= sizeof(name) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.log.new", t->prefix) >= sizeof(tmp) ||
	    (size_t)snprintf(dest, sizeof(dest), "%s-%s.log", t->prefix, day) >= sizeof(dest))
		return;
	if (fstatat(t->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISLNK(st.st_mode)) {
		if (!t->link_failing)
			report("smartproxy: log: %s/%s is not a symbolic link: "
			    "not replaced (the current-file link is off)\n",
			    t->dir, name);
		t->link_failing = 1;
		return;
	}
	(void)unlinkat(t->dirfd, tmp, 0);
	if (symlinkat(dest, t->dirfd, tmp) != 0 ||
	    renameat(t->dirfd, tmp, t->dirfd, name) != 0) {
		if (!t->link_failing)
			report("smartproxy: log: cannot point %s/%s at %s: %s "
			    "(reported once)\n", t->dir, name, dest,
			    strerror(errno));
		t->link_failing = 1;
		(void)unlinkat(t->dirfd, tmp, 0);
		return;
	}
	t->link_failing = 0;
}

/* True for "<prefix>-YYYY-MM-DD.log"; its day into day[11]. */
static int
daily_name(const struct target *t, const char *name, char day[11])
{
	size_t pl = strlen(t->prefix), i;

	if (strncmp(name, t->prefix, pl) != 0 || name[pl] != '-' ||
	    strlen(name + pl + 1) != 14 || strcmp(name + pl + 11, ".log") != 0)
		return 0;
	for (i = 0; i < 10; i++) {
		char c = name[pl + 1 + i];

		if ((i == 4 || i == 7) ? c != '-' : (c < '0' || c > '9'))
			return 0;
	}
	memcpy(day, name + pl + 1, 10);
	day[10] = '\0';
	return 1;
}

/* Retention: remove this target's daily files older than keep_days. */
static void
file_prune(struct target *t, time_t now_sec)
{
	char cutoff[11], day[11];
	struct dirent *de;
	size_t removed = 0;
	DIR *d;
	int fd;

	if (t->keep_days <= 0)
		return;
	day_of(now_sec - (time_t)t->keep_days * 86400, cutoff);
	if ((fd = openat(t->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		/* ISO dates compare as strings. */
		if (daily_name(t, de->d_name, day) && strcmp(day, cutoff) < 0 &&
		    unlinkat(t->dirfd, de->d_name, 0) == 0)
			removed++;
	closedir(d);
	if (removed > 0)
		report("smartproxy: log: removed %zu daily file(s) of %s/%s "
		    "from before %s (keep_days %d)\n", removed, t->dir,
		    t->prefix, cutoff, t->keep_days);
}

/* A day's file was opened: the link follows it, old days go. */
static void
file_opened(struct target *t, const char *day, time_t now_sec)
{
	memcpy(t->day, day, sizeof(t->day));
	file_link(t, day);
	file_prune(t, now_sec);
}

static void
file_write(struct target *t, const struct timespec *ts, const char *line,
    size_t len)
{
	char day[11];
	ssize_t n;

	day_of(ts->tv_sec, day);
	if (t->fd >= 0 && strcmp(day, t->day) != 0) {
		close(t->fd);
		t->fd = -1;
		t->retry_at = 0;
	}
	if (t->fd < 0) {
		if (ts->tv_sec < t->retry_at)
			return;
		if ((t->fd = file_open_day(t, day)) < 0) {
			file_failed(t, day, errno);
			t->retry_at = ts->tv_sec + 1;
			return;
		}
		file_opened(t, day, ts->tv_sec);
	}
	/* One write per line: O_APPEND keeps concurrent writers' lines whole. */
	do
		n = write(t->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		file_failed(t, day, n < 0 ? errno : ENOSPC);
		return;
	}
	if (t->failing) {
		t->failing = 0;
		report("smartproxy: log: writing %s/%s-%s.log again\n",
		    t->dir, t->prefix, day);
	}
}

static int
syslog_priority(int level)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_NOTICE,
		LOG_WARNING, LOG_ERR, LOG_CRIT };

	return prio[level];
}

static void
target_write(struct target *t, const struct sp_log_record *rec,
    const char *line, size_t len)
{
	switch (t->type) {
	case SP_LOG_TARGET_STDERR:
		(void)!write(STDERR_FILENO, line, len);
		break;
	case SP_LOG_TARGET_SYSLOG:
		syslog(syslog_priority(rec->level), "%.*s", (int)(len - 1), line);
		break;
	case SP_LOG_TARGET_FILE:
		file_write(t, &rec->ts, line, len);
		break;
	}
}

/* ---- emission ---- */

static void
format_msg(char *msg, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void
format_msg(char *msg, const char *fmt, va_list ap)
{
	size_t cut, mark = strlen(SP_LOG_TRUNC_MARK);
	int n;

	n = vsnprintf(msg, SP_LOG_MSG_MAX, fmt, ap);
	if (n < 0) {
		strcpy(msg, "(unformattable message)");
		return;
	}
	if ((size_t)n < SP_LOG_MSG_MAX)
		return;
	/* Cut on a character boundary and say so. */
	cut = SP_LOG_MSG_MAX - 1 - mark;
	while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(msg + cut, SP_LOG_TRUNC_MARK, mark + 1);
}

void
sp_log_emitv(int level, const char *category, const char *func,
    const struct sp_log_field *fields, const char *fmt, va_list ap)
{
	/* index: format * 2 + (syslog text has no time) */
	char lines[3][SP_LOG_LINE_MAX];
	size_t lens[3] = { 0, 0, 0 };
	char msg[SP_LOG_MSG_MAX];
	struct sp_log_record rec;
	struct target *t;
	size_t i;
	int k;

	if (level < SP_LOG_DEBUG)
		level = SP_LOG_DEBUG;
	if (level > SP_LOG_CRIT)
		level = SP_LOG_CRIT;
	/* Filters only lower levels, so this early exit is safe. */
	if (level < min_level())
		return;
	LOCK();
	memset(&rec, 0, sizeof(rec));
	now(&rec.ts);
	if (L.in_burst == 0 && !burst_admit(&rec.ts, category, fields)) {
		UNLOCK();
		return;
	}
	format_msg(msg, fmt, ap);
	rec.level = rec.orig_level = level;
	rec.category = category;
	rec.func = func;
	rec.msg = msg;
	rec.fields = fields;
	rec.escalate = level == SP_LOG_CRIT;
	if (L.in_hook == 0)
		run_hooks(&rec);
	for (i = 0; i < L.n; i++) {
		t = &L.t[i];
		if (rec.level < t->level)
			continue;
		k = t->format == SP_LOG_FORMAT_JSON ? 2 :
		    t->type == SP_LOG_TARGET_SYSLOG ? 1 : 0;
		if (lens[k] == 0)
			lens[k] = sp_log_line_format(&rec, t->format,
			    k == 1 ? SP_LOG_LINE_NO_TIME : 0, lines[k],
			    sizeof(lines[k]));
		target_write(t, &rec, lines[k], lens[k]);
	}
	UNLOCK();
}

static void
sp_log_tick_locked(void)
{
	struct timespec ts;

	now(&ts);
	burst_admit(&ts, "", NULL);
}

void
sp_log_tick(void)
{
	LOCK();
	sp_log_tick_locked();
	UNLOCK();
}

void
sp_log_emit(int level, const char *category, const char *func,
    const struct sp_log_field *fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_log_emitv(level, category, func, fields, fmt, ap);
	va_end(ap);
}

/* ---- configuration ---- */

static void
targets_free(struct target *t, size_t n, int owned)
{
	size_t i;

	if (!owned)
		return;
	for (i = 0; i < n; i++) {
		if (t[i].fd >= 0)
			close(t[i].fd);
		if (t[i].dirfd >= 0)
			close(t[i].dirfd);
		free(t[i].dir);
		free(t[i].prefix);
		free(t[i].ident);
	}
	free(t);
}

static int
valid_level(int l)
{
	return l >= SP_LOG_DEBUG && l <= SP_LOG_CRIT;
}

static int
valid_format(int f)
{
	return f == SP_LOG_FORMAT_TEXT || f == SP_LOG_FORMAT_JSON;
}

static int
check_conf(const struct sp_log_conf *conf)
{
	const struct sp_log_target_conf *tc;
	size_t i, nsyslog = 0;

	if (!valid_level(conf->level) || !valid_format(conf->format))
		return SP_ERR_INVALID;
	for (i = 0; i < conf->ntargets; i++) {
		tc = &conf->targets[i];
		if ((tc->level != SP_LOG_INHERIT && !valid_level(tc->level)) ||
		    (tc->format != SP_LOG_INHERIT && !valid_format(tc->format)))
			return SP_ERR_INVALID;
		switch (tc->type) {
		case SP_LOG_TARGET_STDERR:
			break;
		case SP_LOG_TARGET_SYSLOG:
			nsyslog++;
			break;
		case SP_LOG_TARGET_FILE:
			if (tc->dir == NULL || tc->prefix == NULL ||
			    *tc->prefix == '\0' || strchr(tc->prefix, '/'))
				return SP_ERR_INVALID;
			break;
		default:
			return SP_ERR_INVALID;
		}
	}
	/* openlog() is process-wide: one ident, one facility. */
	return nsyslog > 1 ? SP_ERR_INVALID : SP_OK;
}

static char *
dup_or_null(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = 1;
	return d;
}

static int
sp_log_configure_locked(const struct sp_log_conf *conf)
{
	const struct sp_log_target_conf *tc;
	struct target *nt, *t;
	size_t i, n;
	int r, fail = 0, min = SP_LOG_CRIT, had_syslog = 0;
	char day[11];
	struct timespec ts;

	if ((r = check_conf(conf)) != 0)
		return r;
	n = conf->ntargets ? conf->ntargets : 1;
	if ((nt = calloc(n, sizeof(*nt))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		t = &nt[i];
		t->fd = t->dirfd = -1;
		if (conf->ntargets == 0) {
			t->type = SP_LOG_TARGET_STDERR;
			t->level = conf->level;
			t->format = conf->format;
		} else {
			tc = &conf->targets[i];
			t->type = tc->type;
			t->level = tc->level == SP_LOG_INHERIT ? conf->level :
			    tc->level;
			t->format = tc->format == SP_LOG_INHERIT ?
			    conf->format : tc->format;
			t->dir = dup_or_null(tc->dir, &fail);
			t->prefix = dup_or_null(tc->prefix, &fail);
			t->keep_days = tc->keep_days;
			t->facility = tc->facility;
			if (tc->type == SP_LOG_TARGET_SYSLOG)
				t->ident = dup_or_null(tc->ident ? tc->ident :
				    program_invocation_short_name, &fail);
		}
		if (t->level < min)
			min = t->level;
	}
	if (fail) {
		targets_free(nt, n, 1);
		return SP_ERR_NOMEM;
	}
	/* Open files now, so problems show at startup (and before chroot). */
	now(&ts);
	day_of(ts.tv_sec, day);
	for (i = 0; i < n; i++) {
		t = &nt[i];
		if (t->type == SP_LOG_TARGET_FILE) {
			if ((t->fd = file_open_day(t, day)) < 0) {
				file_failed(t, day, errno);
				t->retry_at = ts.tv_sec + 1;
			} else
				file_opened(t, day, ts.tv_sec);
		}
	}
	for (i = 0; i < L.n; i++)
		if (L.t[i].type == SP_LOG_TARGET_SYSLOG)
			had_syslog = 1;
	if (had_syslog)
		closelog();
	for (i = 0; i < n; i++)
		if (nt[i].type == SP_LOG_TARGET_SYSLOG)
			openlog(nt[i].ident, LOG_PID | LOG_NDELAY,
			    nt[i].facility);
	targets_free(L.t, L.n, L.owned);
	L.t = nt;
	L.n = n;
	L.owned = 1;
	set_min_level(min);
	return SP_OK;
}

int
sp_log_configure(const struct sp_log_conf *conf)
{
	int r;

	LOCK();
	r = sp_log_configure_locked(conf);
	UNLOCK();
	return r;
}

static int
sp_log_reopen_locked(void)
{
	struct timespec ts;
	struct target *t;
	char day[11];
	size_t i;
	int nfd, done = 0, failed = 0;

	now(&ts);
	day_of(ts.tv_sec, day);
	for (i = 0; i < L.n; i++) {
		t = &L.t[i];
		if (t->type != SP_LOG_TARGET_FILE)
			continue;
		if ((nfd = file_open_day(t, day)) < 0) {
			t->failing = 0;   /* report this one, even after an earlier */
			file_failed(t, day, errno);
			t->retry_at = ts.tv_sec + 1;
			failed++;
			continue;
		}
		if (t->fd >= 0) {
			(void)dup3(nfd, t->fd, O_CLOEXEC);
			close(nfd);
		} else
			t->fd = nfd;
		t->failing = 0;
		file_opened(t, day, ts.tv_sec);
		done++;
	}
	return failed > 0 ? -failed : done;
}

int
sp_log_reopen(void)
{
	int r;

	LOCK();
	r = sp_log_reopen_locked();
	UNLOCK();
	return r;
}

static void
sp_log_reset_locked(void)
{
	size_t i;

	for (i = 0; i < L.n; i++)
		if (L.t[i].type == SP_LOG_TARGET_SYSLOG)
			closelog();
	targets_free(L.t, L.n, L.owned);
	L.t = &default_target;
	L.n = 1;
	L.owned = 0;
	set_min_level(default_target.level);
	L.nfilters = L.nsinks = 0;
	L.clock = NULL;
	sp_log_burst_reset();
}

void
sp_log_reset(void)
{
	LOCK();
	sp_log_reset_locked();
	UNLOCK();
}
