/*
 * chain.c - the chain engine (chain.h): hook dispatch in chain order, the
 * host function table, module timers, facts, and deferred ending.
 *
 * Module timers belong to the sink (the session's loop, or a test's hand):
 * it calls sp_chain_timer() when one fires.
 *
 * Data path: bytes enter the chain at the first module with an on_data
 * hook; each module forwards what it accepts (host->forward) to the next
 * one, and the last forward goes to the sink's write() for the destination
 * leg.
 *
 * Why deferred ending: a module's host->forward() may reach a later module
 * that refuses, or a full leg. Ending there and then would run every
 * on_close, the caller's included, before the caller's own call returned;
 * the caller would come back to freed state. So ending only marks
 * (c->ending) while any engine level is open (c->depth), and leave() runs
 * the on_close hooks once the outermost call has returned.
 */
#include "server/chain.h"
#include "core/loop.h"
#include "core/err.h"
#include "core/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert((int)SP_LEVEL_CRIT == (int)SP_LOG_CRIT && (int)SP_LEVEL_DEBUG == (int)SP_LOG_DEBUG,
    "module.h and log.h levels must agree");

static const struct sp_chain_env *chain_env;

static void chain_from(struct sp_chain *c, enum sp_dir dir, size_t from,
    const uint8_t *p, size_t n);

void
sp_chain_set_env(const struct sp_chain_env *env)
{
	chain_env = env;
}

int
sp_chain_init(struct sp_chain *c, const struct chain_entry *entries, size_t n,
    void *const *modcfg, const struct sp_chain_sink *sink,
    void *sink_arg, const char *id, const char *peer)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	if ((c->ms = calloc(n ? n : 1, sizeof(*c->ms))) == NULL)
		return SP_ERR_NOMEM;
	c->entries = entries;
	c->n = n;
	c->modcfg = modcfg;
	c->sink = sink;
	c->sink_arg = sink_arg;
	c->id = id;
	c->peer = peer;
	c->started_ms = sp_wall_ms();
	c->notes.limits.size = sizeof(c->notes.limits);
	for (i = 0; i < n; i++) {
		c->ms[i].c = c;
		c->ms[i].idx = i;
	}
	return SP_OK;
}

void
sp_chain_free(struct sp_chain *c)
{
	size_t i;

	for (i = 0; i < c->n && c->ms != NULL; i++)
		free(c->ms[i].sctx);
	free(c->ms);
	c->ms = NULL;
	for (i = 0; i < c->nfacts; i++) {
		free(c->facts[i].key);
		free(c->facts[i].value);
	}
	c->nfacts = 0;
	free(c->notes.files);
	c->notes.files = NULL;
	for (i = 0; i < c->notes.ndeviations; i++)
		free(c->notes.deviations[i]);
	c->notes.ndeviations = 0;
}

bool
sp_chain_gated(const struct sp_chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->entries[i].m->flags & SP_MODULE_F_GATES_INSIDE)
			return true;
	return false;
}

bool
sp_chain_live(const struct sp_chain *c)
{
	return c->relay && !c->ending && !c->closed;
}

/* ---- facts ---- */

const char *
sp_chain_fact(const struct sp_chain *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nfacts; i++)
		if (strcmp(c->facts[i].key, key) == 0)
			return c->facts[i].value;
	return NULL;
}

int
sp_chain_fact_set(struct sp_chain *c, const char *key, const char *value)
{
	size_t i;
	char *v;

	if ((v = strdup(value)) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < c->nfacts; i++) {
		if (strcmp(c->facts[i].key, key) == 0) {
			free(c->facts[i].value);
			c->facts[i].value = v;
			return SP_OK;
		}
	}
	if (c->nfacts == SP_CHAIN_FACTS_MAX || (c->facts[i].key = strdup(key)) == NULL) {
		free(v);
		return SP_ERR_LIMIT;
	}
	c->facts[i].value = v;
	c->nfacts++;
	return SP_OK;
}

/* ---- typed facts (module.h, ABI 2.0) ---- */

void
sp_chain_set_limits(struct sp_chain *c, uint64_t ssid_ms, uint64_t idle_ms,
    uint64_t session_max_ms)
{
	c->notes.limits.ssid_timeout_ms = ssid_ms;
	c->notes.limits.idle_timeout_ms = idle_ms;
	c->notes.limits.session_max_ms = session_max_ms;
}

const char *
sp_chain_end_by_name(enum sp_end_by by)
{
	switch (by) {
	case SP_END_BY_PARTNER: return "partner";
	case SP_END_BY_INSIDE: return "inside";
	case SP_END_BY_PROXY:
	default: return "proxy";
	}
}

/* A member of a note the module knows (within its `size`). */
#define NOTE_HAS(n, type, member) \
	((n)->size >= offsetof(type, member) + sizeof((n)->member))

static int
h_note_end(struct sp_msess *ms, const struct sp_end_note *e)
{
	struct sp_chain_notes *nt = &ms->c->notes;

	if (e == NULL || !NOTE_HAS(e, struct sp_end_note, by) || e->code > 99 || (unsigned)e->by > SP_END_BY_INSIDE)
		return SP_ERR_INVALID;
	if (nt->has_end)
		return 1;
	nt->has_end = true;
	nt->end.size = sizeof(nt->end);
	nt->end.code = e->code;
	nt->end.by = e->by;
	return SP_OK;
}

static int
h_note_file(struct sp_msess *ms, const struct sp_file_note *f)
{
	struct sp_chain_notes *nt = &ms->c->notes;
	struct sp_chain_file k;

	if (f == NULL || !NOTE_HAS(f, struct sp_file_note, result) || f->name == NULL)
		return SP_ERR_INVALID;
	memset(&k, 0, sizeof(k));
	snprintf(k.name, sizeof(k.name), "%s", f->name);
	k.dir = f->dir == SP_FILE_TO_PARTNER ? SP_FILE_TO_PARTNER : SP_FILE_FROM_PARTNER;
	k.format = f->format;
	k.size_kib = f->size_kib;
	k.restart_offset = f->restart_offset;
	k.octets = f->octets;
	if (f->result == NULL) {
		nt->current = k;
		nt->has_current = true;
		return SP_OK;
	}
	snprintf(k.result, sizeof(k.result), "%s", f->result);
	nt->has_current = false;
	if (nt->nfiles >= SP_SESSION_FILES_MAX) {
		nt->files_dropped++;
		return SP_OK;
	}
	if (nt->nfiles == nt->files_cap) {
		size_t cap = nt->files_cap ? nt->files_cap * 2 : 4;
		struct sp_chain_file *p = realloc(nt->files, cap * sizeof(*p));

		if (p == NULL)
			return SP_ERR_NOMEM;
		nt->files = p;
		nt->files_cap = cap;
	}
	nt->files[nt->nfiles++] = k;
	return SP_OK;
}

static int
h_note_deviation(struct sp_msess *ms, const char *rule)
{
	struct sp_chain_notes *nt = &ms->c->notes;
	size_t i;

	if (rule == NULL || rule[0] == '\0')
		return SP_ERR_INVALID;
	for (i = 0; i < nt->ndeviations; i++)
		if (strcmp(nt->deviations[i], rule) == 0)
			return SP_OK;
	if (nt->ndeviations == SP_CHAIN_DEVIATIONS_MAX)
		return SP_ERR_LIMIT;
	if ((nt->deviations[nt->ndeviations] = strdup(rule)) == NULL)
		return SP_ERR_NOMEM;
	nt->ndeviations++;
	return SP_OK;
}

static void
h_refusal_set(struct sp_msess *ms, unsigned code)
{
	ms->c->notes.refusal = code;
}

static unsigned
h_refusal_get(struct sp_msess *ms)
{
	return ms->c->notes.refusal;
}

static const struct sp_limits *
h_limits(struct sp_msess *ms)
{
	return &ms->c->notes.limits;
}

/* ---- levels and ending ---- */

static void
enter(struct sp_chain *c)
{
	c->depth++;
}

/* Every opened module's on_close in chain order, then the sink's end(). */
static void
finish(struct sp_chain *c)
{
	struct sp_close info;
	size_t i;

	c->closed = true;
	c->depth++;     /* host->end() inside on_close is a no-op, not a re-entry */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.reason = c->reason;
	info.text = c->text;
	if (c->sink->bytes_out != NULL) {
		info.bytes_to_inside = c->sink->bytes_out(c->sink_arg, SP_LEG_INSIDE);
		info.bytes_to_outside = c->sink->bytes_out(c->sink_arg, SP_LEG_OUTSIDE);
	}
	info.started_ms = c->started_ms;
	info.ended_ms = sp_wall_ms();
	/* Modules may still send a last word (ESID) here: legs are up. */
	for (i = 0; i < c->n; i++) {
		const struct chain_entry *ce = &c->entries[i];

		if (c->ms[i].opened && ce->m->on_close != NULL)
			ce->m->on_close(ce->mctx, &c->ms[i], c->ms[i].sctx, &info);
		c->ms[i].opened = false;
	}
	c->depth--;
	c->sink->end(c->sink_arg, c->reason, c->text);
}

static void
leave(struct sp_chain *c)
{
	if (--c->depth == 0 && c->ending && !c->closed)
		finish(c);
}

static void
mark(struct sp_chain *c, const char *reason, const char *text)
{
	if (c->ending || c->closed)
		return;
	c->ending = true;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	snprintf(c->text, sizeof(c->text), "%s", text != NULL ? text : "");
}

__attribute__((format(printf, 3, 4)))
static void
markf(struct sp_chain *c, const char *reason, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mark(c, reason, text);
}

void
sp_chain_end(struct sp_chain *c, const char *reason, const char *text)
{
	enter(c);
	mark(c, reason, text);
	leave(c);
}

struct sp_msess *
sp_chain_enter(struct sp_chain *c, size_t idx)
{
	enter(c);
	return !c->ending && !c->closed && idx < c->n && c->ms[idx].opened ? &c->ms[idx] : NULL;
}

void
sp_chain_leave(struct sp_chain *c)
{
	leave(c);
}

/* ---- verdicts ---- */

/* Apply a hook's verdict; returns true when the session goes on. */
static bool
verdict(struct sp_chain *c, size_t idx, const char *hook, enum sp_verdict v)
{
	const struct chain_entry *ce = &c->entries[idx];

	switch (v) {
	case SP_CONTINUE:
	case SP_HOLD:
		return !c->ending;
	case SP_REJECT:
	case SP_ABORT:
		if (ce->mode == SP_MODE_DETECT) {
			sp_log(SP_LOG_WARN, ce->name, "session %s: detect mode: %s would have %s the session",
			    c->id, hook, v == SP_REJECT ? "rejected" : "aborted");
			return !c->ending;
		}
		markf(c, v == SP_REJECT ? "rejected" : "aborted", "by module %s in %s", ce->name, hook);
		return false;
	case SP_FAIL:
	default:
		markf(c, "module_failure", "module %s failed in %s", ce->name, hook);
		return false;
	}
}

/* ---- session entry points ---- */

bool
sp_chain_open(struct sp_chain *c, const struct sp_peer *peer)
{
	size_t i;

	enter(c);
	for (i = 0; i < c->n; i++) {
		const struct chain_entry *ce = &c->entries[i];

		if (ce->m->session_ctx_size > 0 &&
		    (c->ms[i].sctx = calloc(1, ce->m->session_ctx_size)) == NULL) {
			mark(c, "internal", "out of memory");
			goto out;
		}
	}
	for (i = 0; i < c->n && !c->ending; i++) {
		const struct chain_entry *ce = &c->entries[i];
		enum sp_verdict v = SP_CONTINUE;

		if (ce->m->on_open != NULL)
			v = ce->m->on_open(ce->mctx, &c->ms[i], c->ms[i].sctx, peer);
		c->ms[i].opened = true;
		if (!verdict(c, i, "on_open", v))
			break;
	}
out:
	leave(c);
	return !c->ending && !c->closed;
}

bool
sp_chain_tls(struct sp_chain *c, const struct sp_tls *tls)
{
	size_t i;

	enter(c);
	c->relay = !c->ending;
	for (i = 0; i < c->n && !c->ending; i++) {
		const struct chain_entry *ce = &c->entries[i];

		if (ce->m->on_tls == NULL)
			continue;
		if (!verdict(c, i, "on_tls", ce->m->on_tls(ce->mctx, &c->ms[i], c->ms[i].sctx, tls)))
			break;
	}
	leave(c);
	return sp_chain_live(c);
}

/* Write to a leg through the sink; a full leg ends the session. */
static int
sink_write(struct sp_chain *c, enum sp_leg leg, const void *p, size_t n)
{
	int r;

	if (c->closed && c->depth == 0)
		return SP_ERR_CLOSED;
	r = c->sink->write(c->sink_arg, leg, p, n);
	if (r == SP_ERR_LIMIT)
		markf(c, "overflow", "a module sent more than the %s leg buffers",
		    leg == SP_LEG_INSIDE ? "inside" : "outside");
	return r;
}

static void
chain_from(struct sp_chain *c, enum sp_dir dir, size_t from, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = from; i < c->n; i++) {
		const struct chain_entry *ce = &c->entries[i];
		enum sp_verdict v;

		if (ce->m->on_data == NULL)
			continue;
		v = ce->m->on_data(ce->mctx, &c->ms[i], c->ms[i].sctx, dir, p, n);
		if (v == SP_HOLD && sp_chain_live(c)) {
			c->ms[i].held[dir] = true;
			c->sink->reading(c->sink_arg, dir);
		}
		verdict(c, i, "on_data", v);
		return;
	}
	if (!c->ending)
		(void)sink_write(c, sp_dest_leg(dir), p, n);
}

void
sp_chain_data(struct sp_chain *c, enum sp_dir dir, const uint8_t *p, size_t n)
{
	enter(c);
	if (!c->ending)
		chain_from(c, dir, 0, p, n);
	leave(c);
}

bool
sp_chain_held(const struct sp_chain *c, enum sp_dir dir)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->ms[i].held[dir])
			return true;
	return false;
}

/* ---- the host function table ---- */

/* The env's tap, if any: true when it consumed the line. */
__attribute__((format(printf, 5, 0)))
static bool
tapped(enum sp_chain_line kind, struct sp_msess *ms, int level, const char *what,
    const char *fmt, va_list ap)
{
	char text[1024];
	va_list cp;

	if (chain_env == NULL || chain_env->tap == NULL)
		return false;
	va_copy(cp, ap);
	vsnprintf(text, sizeof(text), fmt, cp);
	va_end(cp);
	return chain_env->tap(kind, ms, level, what, text);
}

static void
h_log(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
{
	va_list ap;
	const char *cat = "module";

	va_start(ap, fmt);
	if (tapped(SP_CHAIN_LINE_LOG, ms, (int)level, "", fmt, ap)) {
		va_end(ap);
		return;
	}
	if (ms != NULL) {
		cat = ms->c->entries[ms->idx].name;
		sp_log_emitv((int)level, cat, cat,
		    SP_LOG_KV({ "session", ms->c->id }, { "src", ms->c->peer }), fmt, ap);
	} else {
		sp_log_emitv((int)level, cat, cat, NULL, fmt, ap);
	}
	va_end(ap);
}

static void
h_security_from(const char *src, const char *event, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	if (tapped(SP_CHAIN_LINE_SECURITY, NULL, SP_LEVEL_WARN, event, fmt, ap)) {
		va_end(ap);
		return;
	}
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", event }, { "src", src ? src : "" }),
	    "%s from %s: %s", event, src ? src : "?", detail);
}

static void
h_security(struct sp_msess *ms, const char *event, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	const char *partner;

	va_start(ap, fmt);
	if (tapped(SP_CHAIN_LINE_SECURITY, ms, SP_LEVEL_WARN, event, fmt, ap)) {
		va_end(ap);
		return;
	}
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (ms == NULL) {
		h_security_from(NULL, event, "%s", detail);
		return;
	}
	partner = sp_chain_fact(ms->c, "partner");
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", event }, { "src", ms->c->peer },
	    { "partner", partner ? partner : "" }, { "session", ms->c->id },
	    { "module", ms->c->entries[ms->idx].name }),
	    "%s from %s: %s", event, ms->c->peer, detail);
}

static int
h_forward(struct sp_msess *ms, enum sp_dir dir, const void *p, size_t n)
{
	struct sp_chain *c = ms->c;

	if (!sp_chain_live(c))
		return SP_ERR_CLOSED;
	enter(c);
	chain_from(c, dir, ms->idx + 1, p, n);
	leave(c);
	return sp_chain_live(c) ? SP_OK : SP_ERR_CLOSED;
}

static int
h_send(struct sp_msess *ms, enum sp_leg leg, const void *p, size_t n)
{
	struct sp_chain *c = ms->c;
	int r;

	enter(c);
	r = sink_write(c, leg, p, n);
	leave(c);
	return r;
}

static enum sp_verdict
deliver_from(struct sp_chain *c, size_t start, const struct sp_message *msg, uint64_t cookie,
    size_t origin)
{
	size_t j;

	for (j = start; j < c->n; j++) {
		const struct chain_entry *ce = &c->entries[j];
		enum sp_verdict v;

		if (ce->m->on_message == NULL)
			continue;
		v = ce->m->on_message(ce->mctx, &c->ms[j], c->ms[j].sctx, msg);
		if (c->ending)
			return SP_ABORT;
		if ((v == SP_REJECT || v == SP_ABORT) && ce->mode == SP_MODE_DETECT) {
			sp_log(SP_LOG_WARN, ce->name, "session %s: detect mode: would have refused a message",
			    c->id);
			continue;
		}
		if (v == SP_HOLD) {
			c->delivery.active = true;
			c->delivery.origin = origin;
			c->delivery.holder = j;
			c->delivery.msg = msg;
			c->delivery.cookie = cookie;
			return SP_HOLD;
		}
		if (v != SP_CONTINUE)
			return v;
	}
	return SP_CONTINUE;
}

static enum sp_verdict
h_deliver(struct sp_msess *ms, const struct sp_message *msg, uint64_t cookie)
{
	struct sp_chain *c = ms->c;
	enum sp_verdict v;

	if (c->delivery.active)
		return SP_FAIL;
	if (c->ending || c->closed)
		return SP_ABORT;
	enter(c);
	v = deliver_from(c, ms->idx + 1, msg, cookie, ms->idx);
	leave(c);
	return v;
}

static void
resume(struct sp_chain *c, struct sp_msess *ms, enum sp_verdict v)
{
	int d;

	if (c->delivery.active && c->delivery.holder == ms->idx) {
		size_t origin = c->delivery.origin;
		const struct chain_entry *oe = &c->entries[origin];
		uint64_t cookie = c->delivery.cookie;

		c->delivery.active = false;
		/* A holder in detect mode only says what it would have done,
		 * as deliver_from() treats its immediate answer. */
		if ((v == SP_REJECT || v == SP_ABORT) &&
		    c->entries[ms->idx].mode == SP_MODE_DETECT) {
			sp_log(SP_LOG_WARN, c->entries[ms->idx].name, "session %s: detect mode: "
			    "would have refused a message", c->id);
			v = SP_CONTINUE;
		}
		if (v == SP_CONTINUE)
			v = deliver_from(c, ms->idx + 1, c->delivery.msg, cookie, origin);
		if (v == SP_HOLD || c->ending)
			return;
		if (oe->m->on_delivered != NULL)
			oe->m->on_delivered(oe->mctx, &c->ms[origin], c->ms[origin].sctx, cookie, v);
		return;
	}
	for (d = 0; d < 2; d++) {
		if (!ms->held[d])
			continue;
		ms->held[d] = false;
		if (!verdict(c, ms->idx, "resume", v))
			return;
		c->sink->reading(c->sink_arg, (enum sp_dir)d);
	}
}

static void
h_resume(struct sp_msess *ms, enum sp_verdict v)
{
	struct sp_chain *c = ms->c;

	if (c->ending || c->closed)
		return;
	enter(c);
	resume(c, ms, v);
	leave(c);
}

static void
h_end(struct sp_msess *ms, const char *reason, const char *text)
{
	struct sp_chain *c = ms->c;

	enter(c);
	mark(c, reason ? reason : "module", text);
	leave(c);
}

enum sp_verdict
sp_chain_timer(struct sp_chain *c, size_t idx, unsigned id)
{
	const struct chain_entry *ce;
	enum sp_verdict v;

	if (c->ending || c->closed || idx >= c->n || !c->ms[idx].opened ||
	    (ce = &c->entries[idx])->m->on_timer == NULL)
		return SP_CONTINUE;
	enter(c);
	v = ce->m->on_timer(ce->mctx, &c->ms[idx], c->ms[idx].sctx, id);
	verdict(c, idx, "on_timer", v);
	leave(c);
	return v;
}

static int
h_timer_set(struct sp_msess *ms, unsigned id, uint64_t delay_ms)
{
	return ms->c->sink->timer_set(ms->c->sink_arg, ms->idx, id, delay_ms);
}

static void
h_timer_cancel(struct sp_msess *ms, unsigned id)
{
	ms->c->sink->timer_cancel(ms->c->sink_arg, ms->idx, id);
}

static const char *
h_fact_get(struct sp_msess *ms, const char *key)
{
	return sp_chain_fact(ms->c, key);
}

static int
h_fact_set(struct sp_msess *ms, const char *key, const char *value)
{
	return sp_chain_fact_set(ms->c, key, value);
}

static void *
h_config(struct sp_msess *ms)
{
	return ms->c->modcfg ? ms->c->modcfg[ms->idx] : NULL;
}

static void
h_event(struct sp_msess *ms, enum sp_level sev, const char *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tapped(SP_CHAIN_LINE_EVENT, ms, (int)sev, type, fmt, ap)) {
		va_end(ap);
		return;
	}
	sp_log_emitv((int)sev, "event", type,
	    ms ? SP_LOG_KV({ "event", type }, { "session", ms->c->id }, { "src", ms->c->peer })
	       : SP_LOG_KV({ "event", type }), fmt, ap);
	va_end(ap);
}

static int
h_run_async(struct sp_msess *ms, void (*work)(void *), void (*done)(struct sp_msess *, void *),
    void *arg)
{
	struct sp_chain *c = ms->c;

	if (c->sink->run_async == NULL)
		return SP_ERR_NOMEM;
	return c->sink->run_async(c->sink_arg, ms->idx, work, done, arg);
}

static int
h_backend_post(struct sp_msess *ms, const char *path, const char *json)
{
	(void)ms;
	if (chain_env == NULL || chain_env->backend_post == NULL)
		return SP_ERR_INVALID;
	return chain_env->backend_post(path, json);
}

static int
h_backend_ask(struct sp_msess *ms, const char *path, const char *json, unsigned timeout_ms,
    void (*answer)(struct sp_msess *, void *, int, const char *), void *arg)
{
	if (ms == NULL || ms->c->sink->backend_ask == NULL)
		return SP_ERR_INVALID;
	return ms->c->sink->backend_ask(ms->c->sink_arg, ms->idx, path, json, timeout_ms, answer, arg);
}

static void
h_tls_alert(struct sp_msess *ms, enum sp_leg leg, unsigned alert)
{
	if (ms == NULL || (leg != SP_LEG_OUTSIDE && leg != SP_LEG_INSIDE) || alert > 255 ||
	    ms->c->sink->tls_alert == NULL)
		return;
	ms->c->sink->tls_alert(ms->c->sink_arg, leg, alert);
}

const struct sp_host sp_chain_host = {
	.abi_major = SP_MODULE_ABI_MAJOR,
	.abi_minor = SP_MODULE_ABI_MINOR,
	.struct_size = sizeof(struct sp_host),
	.log = h_log,
	.security = h_security,
	.forward = h_forward,
	.send = h_send,
	.deliver = h_deliver,
	.resume = h_resume,
	.end = h_end,
	.timer_set = h_timer_set,
	.timer_cancel = h_timer_cancel,
	.fact_get = h_fact_get,
	.fact_set = h_fact_set,
	.config = h_config,
	.event = h_event,
	.run_async = h_run_async,
	.backend_post = h_backend_post,
	.backend_ask = h_backend_ask,
	.security_from = h_security_from,
	.tls_alert = h_tls_alert,
	.note_end = h_note_end,
	.note_file = h_note_file,
	.note_deviation = h_note_deviation,
	.refusal_set = h_refusal_set,
	.refusal_get = h_refusal_get,
	.limits = h_limits,
};
