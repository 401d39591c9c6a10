/*
 * watch.c - the cached configuration document and the watcher thread that
 * notices revisions committed by other processes (see api.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/err.h"
#include "core/log.h"

#define WATCH_INTERVAL_MS 250
/* PostgreSQL: notifications wake the watcher; this poll is the net under
 * a lost connection (reconnecting is the next open). */
#define WATCH_SAFETY_MS 5000

/* Wait up to ms, or until the stop pipe is readable. */
static void
watch_pause(int wake_fd, int ms)
{
	struct pollfd p = { .fd = wake_fd, .events = POLLIN };

	(void)poll(&p, 1, ms);
}

int
api_refresh(struct api *a, struct sp_store *st, bool force)
{
	json_object *doc;
	int64_t rev;
	char *text;
	int r;

	if (!force) {
		if ((r = sp_store_revision(st, &rev)) != 0)
			return r;
		pthread_mutex_lock(&a->mu);
		r = a->doc != NULL && rev == a->rev;
		pthread_mutex_unlock(&a->mu);
		if (r)
			return SP_OK;
	}
	if ((r = sp_store_render(st, &doc, &rev)) != 0)
		return r;
	text = strdup(json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	if (text == NULL)
		return SP_ERR_NOMEM;
	pthread_mutex_lock(&a->mu);
	if (a->doc == NULL || rev > a->rev) {
		/* The document holds private keys: wipe the old copy. */
		if (a->doc != NULL) {
			explicit_bzero(a->doc, strlen(a->doc));
			free(a->doc);
		}
		a->doc = text;
		a->rev = rev;
		snprintf(a->etag, sizeof(a->etag), "\"rev-%lld\"", (long long)rev);
		text = NULL;
		pthread_cond_broadcast(&a->cv);
		sp_log(SP_LOG_INFO, "config", "serving revision %lld",
		    (long long)rev);
	}
	pthread_mutex_unlock(&a->mu);
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	return SP_OK;
}

static bool
is_stopping(struct api *a)
{
	bool s;

	pthread_mutex_lock(&a->mu);
	s = a->stopping;
	pthread_mutex_unlock(&a->mu);
	return s;
}

/*
 * PostgreSQL: LISTEN on the watcher's own connection and refresh when a
 * revision is committed anywhere. A broken connection is opened again
 * (the server restarted, a failover); until then the cache stays.
 */
static void
watch_pg(struct api *a, struct sp_store **stp)
{
	struct sp_store *st = *stp;
	char err[256];
	int r, failing = 0;
	bool listening = false;

	while (!is_stopping(a)) {
		if (st == NULL && sp_store_open(a->conf->database, &st, err,
		    sizeof(err)) != 0) {
			if (!failing++)
				sp_log(SP_LOG_ERR, "config", "watcher: %s", err);
			st = NULL;
			watch_pause(a->watch_wake[0], WATCH_SAFETY_MS);
			continue;
		}
		if (!listening) {
			if (sp_store_listen(st) != 0)
				goto lost;
			listening = true;
			sp_log(SP_LOG_INFO, "config", "listening for revisions "
			    "committed by other instances (PostgreSQL)");
		}
		/* After LISTEN: a commit from now on is not missed. */
		if (api_refresh(a, st, false) != 0)
			goto lost;
		failing = 0;
		r = sp_store_wait_change(st, a->watch_wake[0], WATCH_SAFETY_MS);
		if (r < 0)
			goto lost;
		if (r > 0)
			sp_log(SP_LOG_DEBUG, "config", "revision notified by "
			    "PostgreSQL");
		continue;
lost:
		if (!failing++)
			sp_log(SP_LOG_ERR, "config", "cannot read the database: "
			    "%s", sp_store_errmsg(st));
		sp_store_close(st);
		st = NULL;
		listening = false;
		watch_pause(a->watch_wake[0], WATCH_SAFETY_MS / 5);
	}
	*stp = st;
}

static void *
watcher(void *arg)
{
	struct api *a = arg;
	struct sp_store *st = NULL;
	struct timespec until;
	char err[256];
	int failing = 0;

	if (sp_store_open(a->conf->database, &st, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "config", "watcher: %s", err);
		return NULL;
	}
	if (sp_store_notifies(st)) {
		watch_pg(a, &st);
		sp_store_close(st);
		return NULL;
	}
	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		pthread_mutex_unlock(&a->mu);
		if (api_refresh(a, st, false) != 0) {
			if (!failing++)
				sp_log(SP_LOG_ERR, "config", "cannot read the "
				    "database: %s", sp_store_errmsg(st));
		} else
			failing = 0;
		pthread_mutex_lock(&a->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!a->stopping &&
		    pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&a->mu);
	sp_store_close(st);
	return NULL;
}

int
api_watcher_start(struct api *a, char *err, size_t errlen)
{
	int e;

	if (pipe2(a->watch_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot start the watcher: %s",
		    strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if ((e = pthread_create(&a->watcher, NULL, watcher, a)) != 0) {
		close(a->watch_wake[0]);
		close(a->watch_wake[1]);
		snprintf(err, errlen, "cannot start the watcher: %s", strerror(e));
		return SP_ERR_SYSTEM;
	}
	a->watcher_running = true;
	return SP_OK;
}

void
api_watcher_stop(struct api *a)
{
	if (!a->watcher_running)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (write(a->watch_wake[1], "", 1) < 0) {
		/* full pipe: a wake-up is already pending */
	}
	pthread_join(a->watcher, NULL);
	close(a->watch_wake[0]);
	close(a->watch_wake[1]);
	a->watcher_running = false;
}
