/*
 * purge.c - the purge of expired log-ignore rules in smartproxy-api.
 *
 * A thread with its own store connection deletes every rule whose
 * valid_until has passed, in one transaction that commits one new revision
 * (so long-polling clients get a document without them), and writes one line
 * per purged rule to the system log with syslog(3) — whatever the logging
 * targets of api.yaml are, the removal of a silencing rule is on record — and
 * to the daemon's own log. It runs at start, every PURGE_EVERY_S seconds, and
 * at the earliest valid_until of any rule if that comes sooner; a change of
 * revision (a rule added through the API) wakes it to look again.
 *
 * Ownership: the thread's state lives in this file (one daemon per process);
 * api_purge_stop() joins it. It waits on a->cv under a->mu like the watcher.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

#define PURGE_EVERY_S 60
#define PURGE_LOG_MAX 64   /* lines per purge; the rest are counted */

static struct {
	pthread_t thread;
	bool running;
} purger;

struct purged {
	size_t n;
	int64_t id[PURGE_LOG_MAX];
	char match[PURGE_LOG_MAX][64];
	char until[PURGE_LOG_MAX][21];
};

static void
note(void *arg, int64_t id, const char *match, const char *until)
{
	struct purged *p = arg;
	size_t i;

	if (p->n >= PURGE_LOG_MAX)
		return;
	p->id[p->n] = id;
	/* One line each: no control characters from the match text. */
	snprintf(p->match[p->n], sizeof(p->match[0]), "%s", match ? match : "");
	for (i = 0; p->match[p->n][i] != '\0'; i++)
		if ((unsigned char)p->match[p->n][i] < 0x20 ||
		    p->match[p->n][i] == '"' || p->match[p->n][i] == 0x7f)
			p->match[p->n][i] = '?';
	snprintf(p->until[p->n], sizeof(p->until[0]), "%s", until ? until : "");
	p->n++;
}

static void
utc_text(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
purge_once(struct api *a, struct sp_store *st)
{
	struct purged p;
	char now[21];
	int64_t rev = 0;
	size_t i;
	int n, r;

	memset(&p, 0, sizeof(p));
	utc_text(time(NULL), now);
	if ((r = sp_store_rules_purge(st, now, note, &p, &n, &rev)) != 0) {
		sp_log(SP_LOG_ERR, "config", "purge of expired log-ignore rules "
		    "failed: %s", sp_store_errmsg(st));
		return;
	}
	if (n == 0)
		return;
	for (i = 0; i < p.n; i++) {
		syslog(LOG_NOTICE, "log-ignore rule %" PRId64 " purged: expired "
		    "at %s (match \"%s\"), revision %" PRId64, p.id[i], p.until[i],
		    p.match[i], rev);
		sp_log(SP_LOG_NOTICE, "config", "log-ignore rule %" PRId64
		    " purged: expired at %s, revision %" PRId64, p.id[i],
		    p.until[i], rev);
	}
	if ((size_t)n > p.n)
		syslog(LOG_NOTICE, "%d more expired log-ignore rule(s) purged, "
		    "revision %" PRId64, n - (int)p.n, rev);
	(void)api_refresh(a, st, false);
}

/* Seconds until `when` (a time string), at least 0. */
static long
seconds_until(const char *when)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL ||
	    (t = timegm(&tm)) == (time_t)-1)
		return PURGE_EVERY_S;
	return t > time(NULL) ? (long)(t - time(NULL)) : 0;
}

static void *
purge_thread(void *arg)
{
	struct api *a = arg;
	struct sp_store *st = NULL;
	struct timespec until;
	char err[256], now[21], next[21];
	int64_t seen;
	long wait;

	if (sp_store_open(a->conf->database, &st, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "config", "purge: %s", err);
		return NULL;
	}
	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		pthread_mutex_unlock(&a->mu);
		purge_once(a, st);
		utc_text(time(NULL), now);
		wait = PURGE_EVERY_S;
		if (sp_store_rules_next_expiry(st, now, next) == 0 && next[0] != '\0' &&
		    seconds_until(next) < wait)
			wait = seconds_until(next);
		pthread_mutex_lock(&a->mu);
		seen = a->rev;
		clock_gettime(CLOCK_REALTIME, &until);
		/* valid_until is exclusive: purge just after it, not before. */
		until.tv_sec += wait;
		until.tv_nsec = 500000000L;
		while (!a->stopping && a->rev == seen &&
		    pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&a->mu);
	sp_store_close(st);
	return NULL;
}

int
api_purge_start(struct api *a, char *err, size_t errlen)
{
	int e;

	if ((e = pthread_create(&purger.thread, NULL, purge_thread, a)) != 0) {
		snprintf(err, errlen, "cannot start the rule purge: %s",
		    strerror(e));
		return SP_ERR_SYSTEM;
	}
	purger.running = true;
	return SP_OK;
}

void
api_purge_stop(struct api *a)
{
	if (!purger.running)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(purger.thread, NULL);
	purger.running = false;
}
