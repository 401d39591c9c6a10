/* partner_host.c - the recording host of partner_host.h. */
#include "partner_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pmh_record pmh_rec;
bool pmh_async_refuse;
bool pmh_ask_refuse;

#define PMH_ASKS_MAX 16

static struct pmh_ask asks[PMH_ASKS_MAX];
static size_t nasks;

#define PMH_JOBS_MAX 64

static struct pmh_job {
	struct pmh_sess *s;
	void (*work)(void *);
	void (*done)(struct sp_msess *, void *);
	void *arg;
} jobs[PMH_JOBS_MAX];
static size_t njobs;

static struct pmh_sess *
sess(struct sp_msess *ms)
{
	return (struct pmh_sess *)(void *)ms;
}

__attribute__((format(printf, 4, 0)))
static void
record(char lines[][PMH_LINE_MAX], size_t *n, const char *prefix, const char *fmt,
    va_list ap)
{
	char *line;
	size_t len;

	if (*n >= PMH_LINES_MAX)
		return;
	line = lines[(*n)++];
	len = strlen(prefix) < PMH_LINE_MAX - 1 ? strlen(prefix) : PMH_LINE_MAX - 1;
	memcpy(line, prefix, len);
	vsnprintf(line + len, PMH_LINE_MAX - len, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static void
h_log(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%d ", (int)level);
	va_start(ap, fmt);
	record(pmh_rec.log, &pmh_rec.nlog, prefix, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void
h_security(struct sp_msess *ms, const char *event, const char *fmt, ...)
{
	char prefix[96];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%d %.64s: ", ms ? sess(ms)->id : -1, event);
	va_start(ap, fmt);
	record(pmh_rec.security, &pmh_rec.nsecurity, prefix, fmt, ap);
	va_end(ap);
}

static int
h_forward(struct sp_msess *ms, enum sp_dir dir, const void *p, size_t n)
{
	return 0;
}

static int
h_send(struct sp_msess *ms, enum sp_leg leg, const void *p, size_t n)
{
	return 0;
}

static enum sp_verdict
h_deliver(struct sp_msess *ms, const struct sp_message *msg, uint64_t cookie)
{
	return SP_CONTINUE;
}

static void
h_resume(struct sp_msess *ms, enum sp_verdict v)
{
	sess(ms)->nresume++;
	sess(ms)->resumed = v;
}

static void
h_end(struct sp_msess *ms, const char *reason, const char *text)
{
}

static int
h_timer_set(struct sp_msess *ms, unsigned id, uint64_t delay_ms)
{
	return 0;
}

static void
h_timer_cancel(struct sp_msess *ms, unsigned id)
{
}

const char *
pmh_fact(struct pmh_sess *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nfacts; i++)
		if (strcmp(s->facts[i].key, key) == 0)
			return s->facts[i].value;
	return NULL;
}

void
pmh_fact_put(struct pmh_sess *s, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < s->nfacts; i++)
		if (strcmp(s->facts[i].key, key) == 0)
			break;
	if (i == PMH_FACTS_MAX)
		return;
	snprintf(s->facts[i].key, sizeof(s->facts[i].key), "%s", key);
	snprintf(s->facts[i].value, sizeof(s->facts[i].value), "%s", value);
	if (i == s->nfacts)
		s->nfacts++;
}

static const char *
h_fact_get(struct sp_msess *ms, const char *key)
{
	return pmh_fact(sess(ms), key);
}

static int
h_fact_set(struct sp_msess *ms, const char *key, const char *value)
{
	pmh_fact_put(sess(ms), key, value);
	return 0;
}

static void *
h_config(struct sp_msess *ms)
{
	return sess(ms)->config;
}

__attribute__((format(printf, 4, 5)))
static void
h_event(struct sp_msess *ms, enum sp_level severity, const char *type,
    const char *fmt, ...)
{
}

static int
h_run_async(struct sp_msess *ms, void (*work)(void *), void (*done)(struct sp_msess *, void *),
    void *arg)
{
	if (pmh_async_refuse || njobs == PMH_JOBS_MAX)
		return -1;
	jobs[njobs].s = sess(ms);
	jobs[njobs].work = work;
	jobs[njobs].done = done;
	jobs[njobs].arg = arg;
	njobs++;
	pmh_rec.njobs_queued++;
	return 0;
}

size_t
pmh_run_jobs(void)
{
	size_t i, n = njobs;

	njobs = 0;
	for (i = 0; i < n; i++) {
		jobs[i].work(jobs[i].arg);
		jobs[i].done(jobs[i].s->ended ? NULL : pmh_ms(jobs[i].s), jobs[i].arg);
	}
	return n;
}

static int
h_backend_ask(struct sp_msess *ms, const char *path, const char *json,
    unsigned timeout_ms, void (*answer)(struct sp_msess *, void *, int, const char *),
    void *arg)
{
	struct pmh_ask *a;

	if (pmh_ask_refuse || ms == NULL || nasks == PMH_ASKS_MAX)
		return -1;
	a = &asks[nasks++];
	a->s = sess(ms);
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(a->json, sizeof(a->json), "%s", json);
	a->timeout_ms = timeout_ms;
	a->answer = answer;
	a->arg = arg;
	return 0;
}

size_t
pmh_asks_pending(void)
{
	return nasks;
}

const struct pmh_ask *
pmh_ask_get(size_t i)
{
	return i < nasks ? &asks[i] : NULL;
}

size_t
pmh_answer_asks(int status, const char *body)
{
	struct pmh_ask now[PMH_ASKS_MAX];
	size_t i, n = nasks;

	/* Answers may ask again: take the list first. */
	memcpy(now, asks, n * sizeof(now[0]));
	nasks = 0;
	for (i = 0; i < n; i++)
		now[i].answer(now[i].s->ended ? NULL : pmh_ms(now[i].s), now[i].arg,
		    status, body);
	return n;
}

static void
h_tls_alert(struct sp_msess *ms, enum sp_leg leg, unsigned alert)
{
	(void)ms;
	if (leg == SP_LEG_OUTSIDE)
		pmh_rec.tls_alert = alert;
}

static int
h_backend_post(struct sp_msess *ms, const char *path, const char *json)
{
	(void)ms;
	if (pmh_rec.nposts < PMH_LINES_MAX)
		snprintf(pmh_rec.post[pmh_rec.nposts], PMH_LINE_MAX, "%s %s", path,
		    json);
	pmh_rec.nposts++;
	return 0;
}

#define PMH_TABLE(async) { \
	.abi_major = SP_MODULE_ABI_MAJOR, .abi_minor = SP_MODULE_ABI_MINOR, \
	.struct_size = sizeof(struct sp_host), .log = h_log, .security = h_security, \
	.forward = h_forward, .send = h_send, .deliver = h_deliver, \
	.resume = h_resume, .end = h_end, .timer_set = h_timer_set, \
	.timer_cancel = h_timer_cancel, .fact_get = h_fact_get, \
	.fact_set = h_fact_set, .config = h_config, .event = h_event, \
	.run_async = async, .backend_post = h_backend_post, \
	.backend_ask = h_backend_ask, .tls_alert = h_tls_alert }

const struct sp_host pmh_host = PMH_TABLE(h_run_async);
const struct sp_host pmh_host_sync = PMH_TABLE(NULL);

void
pmh_reset(void)
{
	memset(&pmh_rec, 0, sizeof(pmh_rec));
	pmh_async_refuse = false;
	pmh_ask_refuse = false;
	njobs = 0;
	nasks = 0;
}

int
pmh_sess_init(struct pmh_sess *s, int id, size_t ctx_size, void *config)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->config = config;
	s->sctx = calloc(1, ctx_size > 0 ? ctx_size : 1);
	return s->sctx != NULL ? 0 : -1;
}

void
pmh_sess_free(struct pmh_sess *s)
{
	free(s->sctx);
	s->sctx = NULL;
}

int
pmh_security_find(const char *needle)
{
	size_t i;

	for (i = 0; i < pmh_rec.nsecurity; i++)
		if (strstr(pmh_rec.security[i], needle) != NULL)
			return (int)i;
	return -1;
}

int
pmh_log_find(const char *needle)
{
	size_t i;

	for (i = 0; i < pmh_rec.nlog; i++)
		if (strstr(pmh_rec.log[i], needle) != NULL)
			return (int)i;
	return -1;
}
