/*
 * events.c - POST/GET /v1/events and the event-script runner of
 * smartproxy-api (docs/api.md 5, docs/operations.md "Event script").
 *
 * A request never waits for a script: the handler validates the event and
 * hands it to the runner in memory, under a mutex, and answers 202. The
 * runner thread decides what runs and when:
 *
 *  - de-duplication: the first event of a kind (type + message) runs the
 *    script at once; identical events in the next EV_WINDOW_MS are only
 *    counted, and when the window closes one more run reports their number
 *    (SP_EVENT_COUNT);
 *  - rate limit: runs start from a token bucket (EV_BURST at once,
 *    then one per EV_REFILL_MS), at most EV_CHILDREN scripts run at a time
 *    and at most EV_QUEUE_MAX runs wait; what does not fit is counted and
 *    reported by one run of type "events_suppressed" when there is room;
 *  - each run: posix_spawn (no shell) in its own process group, stdin closed,
 *    stdout and stderr into one pipe of which EV_OUTPUT_MAX bytes are kept,
 *    killed (the whole group) after the configured timeout; exit status and
 *    output are logged, and the run is recorded in the events table.
 *
 * Ownership: struct api_ops and everything queued in it belong to the
 * runner (a->ops); runs move from the queue to a child slot and are freed
 * when the child is reaped. The runner has its own store connection.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "api/bodies.h"
#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/log.h"

#define EV_WINDOW_MS 10000
#define EV_KEYS_MAX 256
#define EV_QUEUE_MAX 64
#define EV_CHILDREN 4
#define EV_BURST 10
#define EV_REFILL_MS 2000
#define EV_OUTPUT_MAX 4096
#define EV_LOG_OUTPUT 1024
#define EV_TICK_MS 100
#define EV_LIST_MAX 1000

/* One event's strings (all owned; NULL where absent). `node` is the DMZ
 * node it came from (the posting token's name), NULL for the api's own. */
struct ev_fields {
	char *type, *severity, *time, *partner, *source, *session, *message;
	char *node;
};

struct ev_key {
	bool used;
	char *type, *message;     /* owned */
	char *node;               /* owned; NULL: the api's own */
	struct ev_fields first;   /* for the summary run */
	int64_t window_end;
	int64_t repeats;
};

struct ev_run {
	struct ev_run *next;
	struct ev_fields f;
	int64_t count;
	int64_t row;
};

struct ev_child {
	pid_t pid;                /* 0: free slot */
	int fd;                   /* output pipe, -1 once at EOF */
	struct ev_run *run;
	int64_t started, deadline;
	bool killed;
	char out[EV_OUTPUT_MAX];
	size_t outlen, dropped;
};

struct api_ops {
	struct api *a;
	pthread_mutex_t mu;
	bool stop;
	int wake[2];              /* handler -> runner: something to do */

	struct ev_key keys[EV_KEYS_MAX];
	struct ev_run *head, *tail;
	size_t nqueue;
	int64_t suppressed;
	bool suppressed_queued;

	/* finished runs by outcome class (metrics), under mu */
	uint64_t runs[API_RUN_OUTCOMES];

	/* runner thread only */
	double tokens;
	int64_t refilled;
	struct ev_child child[EV_CHILDREN];
	struct sp_store *st;
	pthread_t thread;
	bool running;
	/* Several instances on one (PostgreSQL) database: each window of a
	 * kind of event is claimed in it first (claim_window). */
	bool shared;
	char instance[128];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fields_free(struct ev_fields *f)
{
	free(f->type);
	free(f->severity);
	free(f->time);
	free(f->partner);
	free(f->source);
	free(f->session);
	free(f->message);
	free(f->node);
	memset(f, 0, sizeof(*f));
}

static int
fields_copy(struct ev_fields *dst, const struct ev_fields *src)
{
	memset(dst, 0, sizeof(*dst));
	if ((dst->type = strdup(src->type)) == NULL ||
	    (dst->severity = strdup(src->severity)) == NULL ||
	    (dst->time = strdup(src->time)) == NULL ||
	    (dst->message = strdup(src->message)) == NULL ||
	    (src->partner && (dst->partner = strdup(src->partner)) == NULL) ||
	    (src->source && (dst->source = strdup(src->source)) == NULL) ||
	    (src->session && (dst->session = strdup(src->session)) == NULL) ||
	    (src->node && (dst->node = strdup(src->node)) == NULL)) {
		fields_free(dst);
		return SP_ERR_NOMEM;
	}
	return SP_OK;
}

static void
run_free(struct ev_run *r)
{
	if (r != NULL) {
		fields_free(&r->f);
		free(r);
	}
}

/* Under mu: queue a run (takes `f`); false when the queue is full. */
static bool
enqueue(struct api_ops *o, struct ev_fields *f, int64_t count)
{
	struct ev_run *r;

	if (o->nqueue >= EV_QUEUE_MAX || (r = calloc(1, sizeof(*r))) == NULL)
		return false;
	r->f = *f;
	memset(f, 0, sizeof(*f));
	r->count = count;
	if (o->tail != NULL)
		o->tail->next = r;
	else
		o->head = r;
	o->tail = r;
	o->nqueue++;
	return true;
}

static void
wake(struct api_ops *o)
{
	char b = 1;

	/* A full pipe already means "wake up". */
	(void)!write(o->wake[1], &b, 1);
}

/*
 * The handler's side: account for one event. Returns the outcome word for
 * the answer: "queued", "deduplicated" or "rate_limited".
 */
static const char *
submit(struct api_ops *o, const struct ev_fields *f)
{
	struct ev_key *k, *free_slot = NULL;
	struct ev_fields copy;
	const char *outcome = "rate_limited";
	int64_t now = mono_ms();
	size_t i;

	pthread_mutex_lock(&o->mu);
	for (i = 0; i < EV_KEYS_MAX; i++) {
		k = &o->keys[i];
		if (!k->used) {
			if (free_slot == NULL)
				free_slot = k;
			continue;
		}
		/* Two nodes' identical events are two events. */
		if (strcmp(k->type, f->type) == 0 &&
		    strcmp(k->message, f->message) == 0 &&
		    (k->node == NULL) == (f->node == NULL) &&
		    (k->node == NULL || strcmp(k->node, f->node) == 0)) {
			k->repeats++;
			outcome = "deduplicated";
			goto out;
		}
	}
	if (free_slot == NULL || fields_copy(&copy, f) != 0) {
		o->suppressed++;
		goto out;
	}
	k = free_slot;
	if (fields_copy(&k->first, f) != 0 || (k->type = strdup(f->type)) == NULL ||
	    (k->message = strdup(f->message)) == NULL ||
	    (f->node != NULL && (k->node = strdup(f->node)) == NULL)) {
		fields_free(&k->first);
		free(k->type);
		free(k->message);
		k->type = k->message = NULL;
		fields_free(&copy);
		o->suppressed++;
		goto out;
	}
	k->used = true;
	k->window_end = now + EV_WINDOW_MS;
	k->repeats = 0;
	if (enqueue(o, &copy, 1))
		outcome = "queued";
	else {
		fields_free(&copy);
		o->suppressed++;
	}
out:
	pthread_mutex_unlock(&o->mu);
	wake(o);
	return outcome;
}

/* ---- the runner ---- */

/* Under mu: close windows whose time is up; queue their summaries. */
static void
close_windows(struct api_ops *o, int64_t now, bool all)
{
	size_t i;

	for (i = 0; i < EV_KEYS_MAX; i++) {
		struct ev_key *k = &o->keys[i];

		if (!k->used || (!all && k->window_end > now))
			continue;
		if (k->repeats > 0 && (all || !enqueue(o, &k->first, k->repeats)))
			o->suppressed += k->repeats;
		fields_free(&k->first);
		free(k->type);
		free(k->message);
		free(k->node);
		memset(k, 0, sizeof(*k));
	}
}

static void
time_now(char out[21])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Under mu: what was dropped becomes one run of its own, once at a time. */
static void
report_suppressed(struct api_ops *o)
{
	struct ev_fields f;
	char msg[160], t[21];

	if (o->suppressed == 0 || o->suppressed_queued || o->nqueue >= EV_QUEUE_MAX)
		return;
	time_now(t);
	snprintf(msg, sizeof(msg), "%" PRId64 " event(s) were not passed to the "
	    "event script (rate limit)", o->suppressed);
	memset(&f, 0, sizeof(f));
	if ((f.type = strdup("events_suppressed")) == NULL ||
	    (f.severity = strdup("crit")) == NULL || (f.time = strdup(t)) == NULL ||
	    (f.message = strdup(msg)) == NULL || !enqueue(o, &f, o->suppressed)) {
		fields_free(&f);
		return;
	}
	o->suppressed = 0;
	o->suppressed_queued = true;
}

static char *
env_kv(const char *key, const char *value)
{
	char *s;

	return asprintf(&s, "%s=%s", key, value ? value : "") < 0 ? NULL : s;
}

/* Script arguments carry no control characters (one line each). */
static char *
arg_clean(const char *v)
{
	char *s = strdup(v ? v : ""), *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

/* Start the script for `r` in child slot `ch`; 0 or an errno value. */
static int
spawn(struct api_ops *o, struct ev_child *ch, struct ev_run *r)
{
	const char *path = o->a->conf->event_script.path;
	char count[24], row[24], *argv[11] = { NULL }, *envp[12] = { NULL };
	const char *vals[] = { r->f.type, r->f.severity, r->f.time, r->f.partner,
	    r->f.source, r->f.session, r->f.message, count, r->f.node };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, deflt;
	int p[2] = { -1, -1 }, e;
	size_t i;

	snprintf(count, sizeof(count), "%" PRId64, r->count);
	snprintf(row, sizeof(row), "%" PRId64, r->row);
	argv[0] = strdup(path);
	for (i = 0; i < 9; i++)
		argv[i + 1] = arg_clean(vals[i]);
	envp[0] = strdup("PATH=/usr/local/bin:/usr/bin:/bin");
	envp[1] = env_kv("SP_EVENT_TYPE", argv[1]);
	envp[2] = env_kv("SP_EVENT_SEVERITY", argv[2]);
	envp[3] = env_kv("SP_EVENT_TIME", argv[3]);
	envp[4] = env_kv("SP_EVENT_PARTNER", argv[4]);
	envp[5] = env_kv("SP_EVENT_SOURCE_ADDRESS", argv[5]);
	envp[6] = env_kv("SP_EVENT_SESSION", argv[6]);
	envp[7] = env_kv("SP_EVENT_MESSAGE", argv[7]);
	envp[8] = env_kv("SP_EVENT_COUNT", count);
	envp[9] = env_kv("SP_EVENT_ID", row);
	envp[10] = env_kv("SP_EVENT_NODE", argv[9]);
	for (i = 0; i < 11; i++)
		if ((i < 10 && argv[i] == NULL) || envp[i] == NULL) {
			e = ENOMEM;
			goto out_strv;
		}
	if (pipe2(p, O_CLOEXEC) != 0) {
		e = errno;
		goto out_strv;
	}
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addclose(&fa, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &deflt);
	e = posix_spawn(&ch->pid, path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (e != 0) {
		ch->pid = 0;
		close(p[0]);
		goto out_strv;
	}
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	ch->fd = p[0];
	ch->run = r;
	ch->started = mono_ms();
	ch->deadline = ch->started + (int64_t)o->a->conf->event_script.timeout * 1000;
	ch->killed = false;
	ch->outlen = ch->dropped = 0;
out_strv:
	for (i = 0; i < 11; i++) {
		free(argv[i]);
		free(envp[i]);
	}
	return e;
}

static enum api_run_outcome
outcome_class(const char *outcome)
{
	if (strcmp(outcome, "exit 0") == 0)
		return API_RUN_OK;
	if (strncmp(outcome, "exit ", 5) == 0)
		return API_RUN_FAILED;
	if (strncmp(outcome, "signal ", 7) == 0)
		return API_RUN_SIGNAL;
	if (strcmp(outcome, "timeout") == 0)
		return API_RUN_TIMEOUT;
	if (strcmp(outcome, "spawn_failed") == 0)
		return API_RUN_SPAWN_FAILED;
	return API_RUN_NO_SCRIPT;
}

static void
record(struct api_ops *o, struct ev_run *r, const char *outcome)
{
	if (strcmp(outcome, "running") != 0 &&
	    strcmp(outcome, "claimed_by_peer") != 0) {
		pthread_mutex_lock(&o->mu);
		o->runs[outcome_class(outcome)]++;
		pthread_mutex_unlock(&o->mu);
	}

	struct sp_store_event ev = {
		r->f.time, r->f.type, r->f.severity, r->f.partner, r->f.source,
		r->f.session, r->f.message, outcome, r->f.node, r->count
	};

	if (o->st == NULL)
		return;
	if (r->row == 0 ? sp_store_event_add(o->st, &ev, &r->row) != 0 :
	    sp_store_event_set_outcome(o->st, r->row, outcome) != 0)
		sp_log(SP_LOG_ERR, "event", "cannot record event: %s",
		    sp_store_errmsg(o->st));
}

/*
 * Several instances on one database each see an event posted to each (a
 * client reporting to every backend): the instance that claims the window
 * of its kind first runs the script, the others record the event as
 * "claimed_by_peer". The first run and the summary run of a window are
 * claimed apart. Fails open (runs) when the database cannot answer: a
 * script run twice beats an alarm lost.
 */
static bool
claim_window(struct api_ops *o, const struct ev_run *r)
{
	gnutls_hash_hd_t h;
	unsigned char md[32];
	char kind[65];
	int64_t now;
	bool won = true;
	size_t i;

	if (!o->shared || strcmp(r->f.type, "events_suppressed") == 0)
		return true;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) != 0)
		return true;
	gnutls_hash(h, r->f.type, strlen(r->f.type) + 1);
	gnutls_hash(h, r->f.message, strlen(r->f.message) + 1);
	/* Two nodes' identical events are two events here too. */
	if (r->f.node != NULL)
		gnutls_hash(h, r->f.node, strlen(r->f.node) + 1);
	gnutls_hash(h, r->count == 1 ? "first" : "summary", r->count == 1 ?
	    5 : 7);
	gnutls_hash_deinit(h, md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(kind + 2 * i, 3, "%02x", md[i]);
	now = sp_wall_ms();
	if (sp_store_event_claim(o->st, kind, o->instance, now,
	    now + EV_WINDOW_MS, &won) != 0) {
		sp_log(SP_LOG_ERR, "event", "cannot claim the event's window, "
		    "running the script here: %s", sp_store_errmsg(o->st));
		return true;
	}
	return won;
}

static void
start_run(struct api_ops *o, struct ev_run *r)
{
	struct ev_child *ch = NULL;
	size_t i;
	int e;

	if (!claim_window(o, r)) {
		record(o, r, "claimed_by_peer");
		sp_log(SP_LOG_INFO, "event", "event %" PRId64 " (%s, count %"
		    PRId64 "): claimed by another instance, not run here",
		    r->row, r->f.type, r->count);
		run_free(r);
		return;
	}
	if (o->a->conf->event_script.path == NULL) {
		record(o, r, "no_script");
		run_free(r);
		return;
	}
	record(o, r, "running");
	for (i = 0; i < EV_CHILDREN && ch == NULL; i++)
		if (o->child[i].pid == 0)
			ch = &o->child[i];
	if (ch == NULL || (e = spawn(o, ch, r)) != 0) {
		sp_log(SP_LOG_ERR, "event", "cannot run event script %s for event "
		    "%" PRId64 ": %s", o->a->conf->event_script.path, r->row,
		    ch == NULL ? "no free slot" : strerror(e));
		record(o, r, "spawn_failed");
		run_free(r);
		return;
	}
	sp_log(SP_LOG_INFO, "event", "event %" PRId64 " (%s, count %" PRId64
	    "): started event script, pid %ld", r->row, r->f.type, r->count,
	    (long)ch->pid);
}

static void
drain(struct ev_child *ch)
{
	char buf[4096];
	ssize_t n;
	size_t room, take;

	while (ch->fd >= 0) {
		n = read(ch->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(ch->fd);
			ch->fd = -1;
			return;
		}
		room = sizeof(ch->out) - ch->outlen;
		take = (size_t)n < room ? (size_t)n : room;
		memcpy(ch->out + ch->outlen, buf, take);
		ch->outlen += take;
		ch->dropped += (size_t)n - take;
	}
}

static void
finish(struct api_ops *o, struct ev_child *ch, int status)
{
	struct ev_run *r = ch->run;
	char outcome[48], out[EV_LOG_OUTPUT + 1];
	size_t n = ch->outlen < EV_LOG_OUTPUT ? ch->outlen : EV_LOG_OUTPUT;
	int level = SP_LOG_NOTICE;
	bool cut = ch->dropped > 0 || ch->outlen > n;

	memcpy(out, ch->out, n);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	if (ch->killed) {
		snprintf(outcome, sizeof(outcome), "timeout");
		level = SP_LOG_ERR;
	} else if (WIFEXITED(status)) {
		snprintf(outcome, sizeof(outcome), "exit %d", WEXITSTATUS(status));
		if (WEXITSTATUS(status) != 0)
			level = SP_LOG_ERR;
	} else {
		snprintf(outcome, sizeof(outcome), "signal %d", WTERMSIG(status));
		level = SP_LOG_ERR;
	}
	sp_log(level, "event", "event %" PRId64 " (%s, count %" PRId64 "): event "
	    "script pid %ld: %s%s after %" PRId64 " ms; output (%zu bytes%s): %s",
	    r->row, r->f.type, r->count, (long)ch->pid, outcome,
	    ch->killed ? " (killed)" : "", mono_ms() - ch->started,
	    ch->outlen + ch->dropped, cut ? ", cut" : "",
	    out);
	record(o, r, outcome);
	if (strcmp(r->f.type, "events_suppressed") == 0) {
		pthread_mutex_lock(&o->mu);
		o->suppressed_queued = false;
		pthread_mutex_unlock(&o->mu);
	}
	run_free(r);
	if (ch->fd >= 0)
		close(ch->fd);
	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
}

/* Reap, kill what is late; true while any child is still running. */
static bool
tend_children(struct api_ops *o, bool kill_all)
{
	int64_t now = mono_ms();
	bool busy = false;
	size_t i;
	int status;
	pid_t w;

	for (i = 0; i < EV_CHILDREN; i++) {
		struct ev_child *ch = &o->child[i];

		if (ch->pid == 0)
			continue;
		drain(ch);
		if (!ch->killed && (kill_all || now >= ch->deadline)) {
			(void)kill(-ch->pid, SIGKILL);
			ch->killed = true;
		}
		w = waitpid(ch->pid, &status, WNOHANG);
		if (w == ch->pid || (w < 0 && errno == ECHILD)) {
			if (w < 0)
				status = 0;
			drain(ch);
			finish(o, ch, status);
		} else
			busy = true;
	}
	return busy;
}

static void
refill(struct api_ops *o, int64_t now)
{
	o->tokens += (double)(now - o->refilled) / EV_REFILL_MS;
	if (o->tokens > EV_BURST)
		o->tokens = EV_BURST;
	o->refilled = now;
}

static void *
runner(void *arg)
{
	struct api_ops *o = arg;
	struct pollfd pf[EV_CHILDREN + 1];
	struct ev_run *todo[EV_CHILDREN];
	size_t i, n, nfree;
	char buf[64];
	int64_t now;
	bool stop;

	o->tokens = EV_BURST;
	o->refilled = mono_ms();
	for (;;) {
		now = mono_ms();
		refill(o, now);
		nfree = 0;
		for (i = 0; i < EV_CHILDREN; i++)
			nfree += o->child[i].pid == 0;
		n = 0;
		pthread_mutex_lock(&o->mu);
		stop = o->stop;
		close_windows(o, now, false);
		report_suppressed(o);
		while (!stop && o->head != NULL && n < nfree && o->tokens >= 1.0) {
			todo[n] = o->head;
			o->head = o->head->next;
			if (o->head == NULL)
				o->tail = NULL;
			o->nqueue--;
			todo[n++]->next = NULL;
			o->tokens -= 1.0;
		}
		pthread_mutex_unlock(&o->mu);
		if (stop)
			break;
		for (i = 0; i < n; i++)
			start_run(o, todo[i]);
		pf[0].fd = o->wake[0];
		pf[0].events = POLLIN;
		for (i = 0, n = 1; i < EV_CHILDREN; i++)
			if (o->child[i].pid != 0 && o->child[i].fd >= 0) {
				pf[n].fd = o->child[i].fd;
				pf[n++].events = POLLIN;
			}
		if (poll(pf, n, EV_TICK_MS) > 0 && (pf[0].revents & POLLIN))
			while (read(o->wake[0], buf, sizeof(buf)) > 0)
				;
		tend_children(o, false);
	}
	/* Stopping: scripts are killed and reaped, the queue is dropped. */
	while (tend_children(o, true))
		usleep(10000);
	return NULL;
}

int
api_ops_start(struct api *a, char *err, size_t errlen)
{
	struct api_ops *o;
	int e;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SP_ERR_NOMEM;
	}
	o->a = a;
	o->wake[0] = o->wake[1] = -1;
	pthread_mutex_init(&o->mu, NULL);
	a->ops = o;
	for (e = 0; e < EV_CHILDREN; e++)
		o->child[e].fd = -1;
	if (pipe2(o->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (sp_store_open(a->conf->database, &o->st, err, errlen) != 0)
		return SP_ERR_SYSTEM;
	if ((o->shared = sp_store_notifies(o->st))) {
		char host[64] = "";

		(void)gethostname(host, sizeof(host) - 1);
		snprintf(o->instance, sizeof(o->instance), "%s/%ld/%lld", host,
		    (long)getpid(), (long long)time(NULL));
	}
	if ((e = pthread_create(&o->thread, NULL, runner, o)) != 0) {
		snprintf(err, errlen, "cannot start the event runner: %s",
		    strerror(e));
		return SP_ERR_SYSTEM;
	}
	o->running = true;
	if (a->conf->event_script.path == NULL)
		sp_log(SP_LOG_NOTICE, "event", "no event_script configured: events "
		    "are recorded only");
	if (api_purge_start(a, err, errlen) != 0)
		return SP_ERR_SYSTEM;
	return api_live_start(a, err, errlen);
}

void
api_ops_stop(struct api *a)
{
	struct api_ops *o = a->ops;
	struct ev_run *r;
	size_t dropped = 0;

	api_purge_stop(a);
	api_live_stop(a);
	if (o == NULL)
		return;
	if (o->running) {
		pthread_mutex_lock(&o->mu);
		o->stop = true;
		pthread_mutex_unlock(&o->mu);
		wake(o);
		pthread_join(o->thread, NULL);
	}
	while ((r = o->head) != NULL) {
		o->head = r->next;
		run_free(r);
		dropped++;
	}
	close_windows(o, 0, true);
	if (dropped > 0 || o->suppressed > 0)
		sp_log(SP_LOG_WARN, "event", "stopping: %zu queued script run(s) "
		    "and %" PRId64 " counted event(s) not passed to the script",
		    dropped, o->suppressed);
	sp_store_close(o->st);
	if (o->wake[0] >= 0)
		close(o->wake[0]);
	if (o->wake[1] >= 0)
		close(o->wake[1]);
	pthread_mutex_destroy(&o->mu);
	free(o);
	a->ops = NULL;
}

const char *const api_run_outcome_names[API_RUN_OUTCOMES] = {
	"ok", "failed", "signal", "timeout", "spawn_failed", "no_script"
};

void
api_ops_runs(struct api *a, uint64_t out[API_RUN_OUTCOMES])
{
	struct api_ops *o = a->ops;

	memset(out, 0, sizeof(uint64_t) * API_RUN_OUTCOMES);
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	memcpy(out, o->runs, sizeof(o->runs));
	pthread_mutex_unlock(&o->mu);
}

const char *
api_event_raise(struct api *a, const char *type, const char *severity,
    const char *message, const char *node)
{
	struct ev_fields f;
	char now[21];

	if (a->ops == NULL)
		return "rate_limited";
	memset(&f, 0, sizeof(f));
	time_now(now);
	f.type = (char *)type;
	f.severity = (char *)severity;
	f.time = now;
	f.message = (char *)message;
	f.node = (char *)node;
	return submit(a->ops, &f);
}

/* ---- the endpoints ---- */

void
api_h_events_post(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct ev_fields f;
	struct sp_body_event ev;
	json_object *o, *res;
	const char *outcome;
	char now[21], err[160];

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_body_event(o, &ev, err, sizeof(err)), err, out) != 0)
		goto done;
	time_now(now);
	/* The strings stay owned by `o` during submit(), which copies them. */
	f.type = (char *)ev.type;
	f.severity = (char *)(ev.severity ? ev.severity : "crit");
	f.time = (char *)(ev.time ? ev.time : now);
	f.message = (char *)ev.message;
	f.partner = (char *)ev.partner;
	f.source = (char *)ev.source_address;
	f.session = (char *)ev.session;
	/* The node is the token the client posted with (one client, one token
	 * per DMZ node: docs/deployment.md), as for audit records: a DMZ
	 * cannot speak for another node. */
	f.node = (char *)rq->token;
	outcome = submit(a->ops, &f);
	sp_log(SP_LOG_INFO, "event", "event %s from %s: %s", ev.type, rq->token,
	    outcome);
	res = json_object_new_object();
	json_object_object_add(res, "script", json_object_new_string(outcome));
	out->status = 202;
	out->body = res;
done:
	json_object_put(o);
}

int
api_query_time(struct MHD_Connection *c, const char *key, char out[21],
    const char **val, struct api_reply *rp)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

	*val = NULL;
	if (v == NULL)
		return 0;
	if (sp_site_time_normalise(v, out) != 0) {
		api_error(rp, 400, "bad_request", "'%s' must be a time "
		    "YYYY-MM-DDTHH:MM:SSZ", key);
		return -1;
	}
	*val = out;
	return 0;
}

int
api_query_limit(struct MHD_Connection *c, int def, int max, int *out,
    struct api_reply *rp)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "limit");
	char *end;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 1 || n > max) {
		api_error(rp, 400, "bad_request", "'limit' must be 1 to %d", max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

void
api_h_events_list(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *arr = NULL, *o;
	const char *since;
	char sbuf[21];
	int limit, r;

	if (api_query_time(c, "since", sbuf, &since, out) != 0 ||
	    api_query_limit(c, 100, EV_LIST_MAX, &limit, out) != 0)
		return;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_events(a->st, since, limit, &arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "events", r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "events", arr);
	out->status = 200;
	out->body = o;
}
