/* partner_drive.c - the partner module on the real chain engine (partner_drive.h). */
#include "partner_drive.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pmh_record pmh_rec;
bool pmh_async_refuse;
bool pmh_ask_refuse;
struct sp_host pmh_host;
struct sp_host pmh_host_sync;

#define PMH_ASKS_MAX 16

static struct pmh_ask asks[PMH_ASKS_MAX];
static size_t nasks;

#define PMH_JOBS_MAX 64

static struct pmh_job {
	struct pmh_sess *s;
	unsigned gen;
	size_t idx;
	void (*work)(void *);
	void (*done)(struct sp_msess *, void *);
	void *arg;
} jobs[PMH_JOBS_MAX];
static size_t njobs;
static unsigned generation;

static struct pmh_sess *
sess_of(struct sp_chain *c)
{
	return (struct pmh_sess *)(void *)((char *)c - offsetof(struct pmh_sess, c));
}

static void
record(char lines[][PMH_LINE_MAX], size_t *n, const char *prefix, const char *text)
{
	if (*n >= PMH_LINES_MAX)
		return;
	snprintf(lines[(*n)++], PMH_LINE_MAX, "%s%s", prefix, text);
}

/* The engine's tap: log lines "<level> <text>", security lines
 * "<session> <event>: <text>" (session -1 without one). */
static bool
tap(enum sp_chain_line kind, struct sp_msess *ms, int level, const char *what, const char *text)
{
	char prefix[96];

	switch (kind) {
	case SP_CHAIN_LINE_LOG:
		snprintf(prefix, sizeof(prefix), "%d ", level);
		record(pmh_rec.log, &pmh_rec.nlog, prefix, text);
		break;
	case SP_CHAIN_LINE_SECURITY:
		snprintf(prefix, sizeof(prefix), "%d %.64s: ", ms ? sess_of(ms->c)->id : -1, what);
		record(pmh_rec.security, &pmh_rec.nsecurity, prefix, text);
		break;
	case SP_CHAIN_LINE_EVENT:
		break;
	}
	return true;
}

static int
post(const char *path, const char *json)
{
	if (pmh_rec.nposts < PMH_LINES_MAX)
		snprintf(pmh_rec.post[pmh_rec.nposts], PMH_LINE_MAX, "%s %s", path, json);
	pmh_rec.nposts++;
	return 0;
}

static const struct sp_chain_env env = { .backend_post = post, .tap = tap };

/* ---- the recording sink ---- */

static int
sink_write(void *arg, enum sp_leg leg, const void *p, size_t n)
{
	(void)arg;
	(void)leg;
	(void)p;
	(void)n;
	return SP_OK;
}

static void
sink_end(void *arg, const char *reason, const char *text)
{
	(void)reason;
	(void)text;
	((struct pmh_sess *)arg)->ended = true;
}

static void
sink_reading(void *arg, enum sp_dir dir)
{
	(void)arg;
	(void)dir;
}

static int
sink_timer_set(void *arg, size_t idx, unsigned id, uint64_t delay_ms)
{
	(void)arg;
	(void)idx;
	(void)id;
	(void)delay_ms;
	return SP_OK;
}

static void
sink_timer_cancel(void *arg, size_t idx, unsigned id)
{
	(void)arg;
	(void)idx;
	(void)id;
}

static void
sink_tls_alert(void *arg, enum sp_leg leg, unsigned alert)
{
	(void)arg;
	if (leg == SP_LEG_OUTSIDE)
		pmh_rec.tls_alert = alert;
}

static int
sink_run_async(void *arg, size_t idx, void (*work)(void *), void (*done)(struct sp_msess *, void *),
    void *warg)
{
	struct pmh_sess *s = arg;

	if (pmh_async_refuse || njobs == PMH_JOBS_MAX)
		return -1;
	jobs[njobs] = (struct pmh_job){ s, s->gen, idx, work, done, warg };
	njobs++;
	pmh_rec.njobs_queued++;
	return 0;
}

static int
sink_backend_ask(void *arg, size_t idx, const char *path, const char *json, unsigned timeout_ms,
    void (*answer)(struct sp_msess *, void *, int, const char *), void *aarg)
{
	struct pmh_sess *s = arg;
	struct pmh_ask *a;

	if (pmh_ask_refuse || nasks == PMH_ASKS_MAX)
		return -1;
	a = &asks[nasks++];
	a->s = s;
	a->gen = s->gen;
	a->idx = idx;
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(a->json, sizeof(a->json), "%s", json);
	a->timeout_ms = timeout_ms;
	a->answer = answer;
	a->arg = aarg;
	return 0;
}

static const struct sp_chain_sink sink = {
	.write = sink_write, .end = sink_end, .reading = sink_reading,
	.timer_set = sink_timer_set, .timer_cancel = sink_timer_cancel,
	.tls_alert = sink_tls_alert, .run_async = sink_run_async,
	.backend_ask = sink_backend_ask,
};

/* ---- the module under test, wrapped to see its own verdicts ---- */

static const struct sp_module *under_test;
static struct sp_module wrapped;
static enum sp_verdict last;

static enum sp_verdict
w_open(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_peer *peer)
{
	return last = under_test->on_open(mctx, ms, sctx, peer);
}

static enum sp_verdict
w_tls(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_tls *tls)
{
	return last = under_test->on_tls(mctx, ms, sctx, tls);
}

/* ---- the head: stands for the OFTP2 module ---- */

static void
h_delivered(void *mctx, struct sp_msess *ms, void *sctx, uint64_t cookie, enum sp_verdict v)
{
	struct pmh_sess *s = sess_of(ms->c);

	(void)mctx;
	(void)sctx;
	(void)cookie;
	s->nresume++;
	s->resumed = v;
}

static const struct sp_module head = {
	SP_MODULE_HEADER,
	.name = "head",
	.on_delivered = h_delivered,
};

/* ---- the test's calls ---- */

void
pmh_reset(void)
{
	memset(&pmh_rec, 0, sizeof(pmh_rec));
	pmh_async_refuse = false;
	pmh_ask_refuse = false;
	njobs = 0;
	nasks = 0;
	sp_chain_set_env(&env);
	pmh_host = sp_chain_host;
	pmh_host_sync = sp_chain_host;
	pmh_host_sync.run_async = NULL;
}

enum sp_verdict
pmh_open(struct pmh_sess *s, int id, const struct sp_module *mod, void *mctx,
    enum sp_mode mode, void *config, const struct sp_peer *peer)
{
	static struct chain_entry entries[2];

	memset(s, 0, sizeof(*s));
	s->id = id;
	s->gen = ++generation;
	snprintf(s->idtext, sizeof(s->idtext), "%d", id);
	under_test = mod;
	wrapped = *mod;
	wrapped.on_open = mod->on_open != NULL ? w_open : NULL;
	wrapped.on_tls = mod->on_tls != NULL ? w_tls : NULL;
	entries[0] = (struct chain_entry){ &head, NULL, SP_MODE_ENFORCE, "oftp2" };
	entries[1] = (struct chain_entry){ &wrapped, mctx, mode, mod->name };
	s->modcfg[1] = config;
	if (sp_chain_init(&s->c, entries, 2, s->modcfg, &sink, s, s->idtext, peer->addr) != 0)
		abort();
	s->open = true;
	last = SP_CONTINUE;
	(void)sp_chain_open(&s->c, peer);
	return last;
}

enum sp_verdict
pmh_tls(struct pmh_sess *s, const struct sp_tls *tls)
{
	last = SP_CONTINUE;
	(void)sp_chain_tls(&s->c, tls);
	return last;
}

enum sp_verdict
pmh_message(struct pmh_sess *s, const struct sp_message *msg)
{
	static uint64_t cookie;
	enum sp_verdict v;

	(void)sp_chain_enter(&s->c, 0);
	v = sp_chain_host.deliver(&s->c.ms[0], msg, ++cookie);
	sp_chain_leave(&s->c);
	return v;
}

void
pmh_close(struct pmh_sess *s, const char *reason)
{
	if (!s->open)
		return;
	sp_chain_end(&s->c, reason, "");
	sp_chain_free(&s->c);
	s->open = false;
	s->ended = true;
}

const char *
pmh_fact(struct pmh_sess *s, const char *key)
{
	return sp_chain_fact(&s->c, key);
}

void
pmh_fact_put(struct pmh_sess *s, const char *key, const char *value)
{
	if (sp_chain_fact_set(&s->c, key, value) != 0)
		abort();
}

unsigned
pmh_refusal(struct pmh_sess *s)
{
	return sp_chain_notes(&s->c)->refusal;
}

/* A job's or an answer's way back: through the engine, NULL if it ended. */
static void
back(struct pmh_sess *s, unsigned gen, size_t idx,
    void (*call)(struct sp_msess *, void *, int, const char *),
    void (*done)(struct sp_msess *, void *), void *arg, int status, const char *body)
{
	struct sp_msess *ms;

	if (s->gen != gen || s->ended || !s->open) {
		if (done != NULL)
			done(NULL, arg);
		else
			call(NULL, arg, status, body);
		return;
	}
	ms = sp_chain_enter(&s->c, idx);
	if (done != NULL)
		done(ms, arg);
	else
		call(ms, arg, status, body);
	sp_chain_leave(&s->c);
}

size_t
pmh_run_jobs(void)
{
	struct pmh_job now[PMH_JOBS_MAX];
	size_t i, n = njobs;

	memcpy(now, jobs, n * sizeof(now[0]));
	njobs = 0;
	for (i = 0; i < n; i++) {
		now[i].work(now[i].arg);
		back(now[i].s, now[i].gen, now[i].idx, NULL, now[i].done, now[i].arg, 0, NULL);
	}
	return n;
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
		back(now[i].s, now[i].gen, now[i].idx, now[i].answer, NULL, now[i].arg, status, body);
	return n;
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
