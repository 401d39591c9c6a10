/* o2_host.c - the recording relay core of o2_host.h. */
#include "o2_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct o2h o2h;

/* The module's handle: one session, so any stable address will do. */
static int the_session;
#define MS ((struct sp_msess *)&the_session)

static void
bytes_put(struct o2h_bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
line(char (*lines)[O2H_LINE], size_t *count, const char *prefix,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
line(char (*lines)[O2H_LINE], size_t *count, const char *prefix,
    const char *fmt, va_list ap)
{
	char buf[O2H_LINE];
	size_t len;

	snprintf(buf, sizeof(buf), "%s", prefix);
	len = strlen(buf);
	vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (o2h.verbose)
		fprintf(stderr, "o2h: %s\n", buf);
	if (*count < O2H_LINES)
		memcpy(lines[*count], buf, sizeof(buf));
	(*count)++;
}

static void h_log(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void h_security(struct sp_msess *ms, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
h_log(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
{
	static const char *const names[] = { "DEBUG ", "INFO ", "NOTICE ",
		"WARN ", "ERR ", "CRIT " };
	va_list ap;

	(void)ms;
	va_start(ap, fmt);
	line(o2h.log, &o2h.nlog, names[level <= SP_LEVEL_CRIT ? level : 0], fmt, ap);
	va_end(ap);
}

static void
h_security(struct sp_msess *ms, const char *event, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	(void)ms;
	snprintf(prefix, sizeof(prefix), "%s: ", event);
	va_start(ap, fmt);
	line(o2h.security, &o2h.nsecurity, prefix, fmt, ap);
	va_end(ap);
}

static int
h_forward(struct sp_msess *ms, enum sp_dir dir, const void *p, size_t n)
{
	enum sp_leg leg = dir == SP_TO_INSIDE ? SP_LEG_INSIDE : SP_LEG_OUTSIDE;

	(void)ms;
	if (o2h.ended)
		return -8;   /* SP_ERR_CLOSED, as the relay core after the end */
	o2h.forwards[leg]++;
	bytes_put(&o2h.wire[leg], p, n);
	return 0;
}

static int
h_send(struct sp_msess *ms, enum sp_leg leg, const void *p, size_t n)
{
	(void)ms;
	o2h.sends[leg]++;
	bytes_put(&o2h.wire[leg], p, n);
	return 0;
}

static enum sp_verdict
h_deliver(struct sp_msess *ms, const struct sp_message *msg, uint64_t cookie)
{
	enum sp_verdict v = SP_CONTINUE;

	(void)ms;
	if (o2h.pending != NULL)
		return SP_FAIL;   /* one delivery at a time, as the core */
	if (o2h.ndelivered < O2H_DELIVERED) {
		o2h.delivered[o2h.ndelivered] = msg->type;
		o2h.delivered_dir[o2h.ndelivered] = msg->dir;
	}
	o2h.ndelivered++;
	/* The message must be whole and its parsed form must match it. */
	if (msg->raw == NULL || msg->raw_len < 5 || msg->parsed == NULL ||
	    msg->raw[4] != (uint8_t)msg->type || strcmp(msg->protocol, "oftp2") != 0)
		abort();
	if (o2h.answer_type == 0 || o2h.answer_type == msg->type)
		v = o2h.answer;
	if (v == SP_HOLD) {
		o2h.pending = msg;
		o2h.pending_cookie = cookie;
	}
	return v;
}

static void
h_resume(struct sp_msess *ms, enum sp_verdict v)
{
	(void)ms;
	(void)v;
	o2h.resumes++;
}

static void
h_end(struct sp_msess *ms, const char *reason, const char *text)
{
	(void)ms;
	if (o2h.ended)
		return;
	o2h.ended = true;
	snprintf(o2h.end_reason, sizeof(o2h.end_reason), "%s", reason ? reason : "");
	snprintf(o2h.end_text, sizeof(o2h.end_text), "%s", text ? text : "");
	/* Deferred, as the chain engine: on_close after the hook returns. */
}

/* After a hook returned: run the end a host->end() asked for. */
static enum sp_verdict
after(enum sp_verdict v)
{
	if (o2h.ended && !o2h.closed)
		o2h_close(o2h.end_reason);
	return v;
}

static int
h_timer_set(struct sp_msess *ms, unsigned id, uint64_t delay_ms)
{
	(void)ms;
	if (id >= O2H_TIMERS)
		return -3;
	o2h.timer_armed[id] = true;
	o2h.timer_delay[id] = delay_ms;
	return 0;
}

static void
h_timer_cancel(struct sp_msess *ms, unsigned id)
{
	(void)ms;
	if (id < O2H_TIMERS)
		o2h.timer_armed[id] = false;
}

static const char *
h_fact_get(struct sp_msess *ms, const char *key)
{
	size_t i;

	(void)ms;
	for (i = 0; i < o2h.nfacts; i++)
		if (strcmp(o2h.fact_key[i], key) == 0)
			return o2h.fact_val[i];
	return NULL;
}

int
o2h_fact_set(const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < o2h.nfacts; i++) {
		if (strcmp(o2h.fact_key[i], key) == 0) {
			free(o2h.fact_val[i]);
			o2h.fact_val[i] = strdup(val);
			return 0;
		}
	}
	if (o2h.nfacts == O2H_FACTS)
		return -3;
	o2h.fact_key[o2h.nfacts] = strdup(key);
	o2h.fact_val[o2h.nfacts] = strdup(val);
	o2h.nfacts++;
	return 0;
}

static int
h_fact_set(struct sp_msess *ms, const char *key, const char *value)
{
	(void)ms;
	return o2h_fact_set(key, value);
}

static void *
h_config(struct sp_msess *ms)
{
	(void)ms;
	return o2h.cfg;
}

static void
h_event(struct sp_msess *ms, enum sp_level sev, const char *type, const char *fmt, ...)
{
	(void)ms;
	(void)sev;
	(void)type;
	(void)fmt;
	o2h.nevent++;
}

const struct sp_host o2h_host = {
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
};

void
o2h_free(void)
{
	size_t i;

	if (o2h.opened && !o2h.closed)
		o2h_close("test");
	for (i = 0; i < 2; i++)
		free(o2h.wire[i].p);
	for (i = 0; i < o2h.nfacts; i++) {
		free(o2h.fact_key[i]);
		free(o2h.fact_val[i]);
	}
	free(o2h.sctx);
}

void
o2h_reset(void)
{
	const struct sp_module *mod = o2h.mod;
	void *mctx = o2h.mctx, *cfg = o2h.cfg;
	bool verbose = o2h.verbose;

	o2h_free();
	memset(&o2h, 0, sizeof(o2h));
	o2h.mod = mod;
	o2h.mctx = mctx;
	o2h.cfg = cfg;
	o2h.verbose = verbose;
	o2h.answer = SP_CONTINUE;
}

int
o2h_init(const struct sp_module *mod, enum sp_mode mode)
{
	static const char *const none[] = { NULL };
	struct sp_module_args args = { .name = "oftp2", .mode = mode, .options = none };

	o2h.mod = mod;
	return mod->init(&o2h_host, &args, &o2h.mctx);
}

void
o2h_fini(void)
{
	if (o2h.mod != NULL && o2h.mod->fini != NULL)
		o2h.mod->fini(o2h.mctx);
	o2h.mctx = NULL;
}

enum sp_verdict
o2h_open(int outgoing)
{
	struct sp_peer peer = { .addr = "192.0.2.7", .port = 40000,
		.local_addr = "127.0.0.1", .local_port = 6619, .outgoing = outgoing,
		.route = "test" };

	free(o2h.sctx);
	if ((o2h.sctx = calloc(1, o2h.mod->session_ctx_size)) == NULL)
		abort();
	o2h.opened = true;
	return after(o2h.mod->on_open(o2h.mctx, MS, o2h.sctx, &peer));
}

enum sp_verdict
o2h_tls(void)
{
	struct sp_tls tls = { .version = "TLS1.3", .cipher = "TEST" };

	if (o2h.closed)
		return SP_CONTINUE;
	return after(o2h.mod->on_tls(o2h.mctx, MS, o2h.sctx, &tls));
}

enum sp_verdict
o2h_data(enum sp_dir dir, const void *p, size_t n)
{
	if (o2h.closed)
		return SP_CONTINUE;
	return after(o2h.mod->on_data(o2h.mctx, MS, o2h.sctx, dir, p, n));
}

enum sp_verdict
o2h_timer(unsigned id)
{
	if (o2h.closed || id >= O2H_TIMERS || !o2h.timer_armed[id])
		return SP_CONTINUE;
	o2h.timer_armed[id] = false;
	return after(o2h.mod->on_timer(o2h.mctx, MS, o2h.sctx, id));
}

void
o2h_finish_delivery(enum sp_verdict v)
{
	uint64_t cookie = o2h.pending_cookie;

	if (o2h.pending == NULL || o2h.closed)
		return;
	/* The held message must still be intact when the chain goes on. */
	if (o2h.pending->raw[4] != (uint8_t)o2h.pending->type)
		abort();
	o2h.pending = NULL;
	o2h.mod->on_delivered(o2h.mctx, MS, o2h.sctx, cookie, v);
	(void)after(SP_CONTINUE);
}

void
o2h_close(const char *reason)
{
	struct sp_close info = { .reason = reason, .text = "" };

	if (!o2h.opened || o2h.closed)
		return;
	o2h.closed = true;
	snprintf(o2h.close_reason, sizeof(o2h.close_reason), "%s", reason);
	o2h.mod->on_close(o2h.mctx, MS, o2h.sctx, &info);
}

static int
find(char (*lines)[O2H_LINE], size_t n, const char *needle)
{
	size_t i;

	for (i = 0; i < n && i < O2H_LINES; i++)
		if (strstr(lines[i], needle) != NULL)
			return (int)i;
	return -1;
}

int
o2h_log_find(const char *needle)
{
	return find(o2h.log, o2h.nlog, needle);
}

int
o2h_security_find(const char *needle)
{
	return find(o2h.security, o2h.nsecurity, needle);
}

bool
o2h_wire_has(enum sp_leg leg, const void *p, size_t n)
{
	const struct o2h_bytes *b = &o2h.wire[leg];
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i + n <= b->n; i++)
		if (memcmp(b->p + i, p, n) == 0)
			return true;
	return false;
}

void
o2h_wire_clear(void)
{
	o2h.wire[0].n = o2h.wire[1].n = 0;
}
