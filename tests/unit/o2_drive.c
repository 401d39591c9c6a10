/* o2_drive.c - the OFTP2 module on the real chain engine (o2_drive.h). */
#include "o2_drive.h"
#include "core/err.h"

#include <smartproxy/oftp2.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct o2h o2h;

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
line(char (*lines)[O2H_LINE], size_t *count, const char *prefix, const char *text)
{
	char buf[O2H_LINE];

	snprintf(buf, sizeof(buf), "%s%s", prefix, text);
	if (o2h.verbose)
		fprintf(stderr, "o2h: %s\n", buf);
	if (*count < O2H_LINES)
		memcpy(lines[*count], buf, sizeof(buf));
	(*count)++;
}

/* The engine's tap: every line a module logs. */
static bool
tap(enum sp_chain_line kind, struct sp_msess *ms, int level, const char *what,
    const char *text)
{
	static const char *const names[] = { "DEBUG ", "INFO ", "NOTICE ",
		"WARN ", "ERR ", "CRIT " };
	char prefix[80];

	(void)ms;
	switch (kind) {
	case SP_CHAIN_LINE_LOG:
		line(o2h.log, &o2h.nlog, names[level >= 0 && level <= SP_LEVEL_CRIT ? level : 0], text);
		break;
	case SP_CHAIN_LINE_SECURITY:
		snprintf(prefix, sizeof(prefix), "%.60s: ", what);
		line(o2h.security, &o2h.nsecurity, prefix, text);
		break;
	case SP_CHAIN_LINE_EVENT:
		o2h.nevent++;
		break;
	}
	return true;
}

static const struct sp_chain_env env = { .tap = tap };

/* ---- the recording sink ---- */

static int
sink_write(void *arg, enum sp_leg leg, const void *p, size_t n)
{
	(void)arg;
	bytes_put(&o2h.wire[leg], p, n);
	return SP_OK;
}

static void
sink_end(void *arg, const char *reason, const char *text)
{
	(void)arg;
	o2h.ended = true;
	snprintf(o2h.end_reason, sizeof(o2h.end_reason), "%s", reason);
	snprintf(o2h.end_text, sizeof(o2h.end_text), "%s", text);
}

static void
sink_reading(void *arg, enum sp_dir dir)
{
	(void)arg;
	if (!sp_chain_held(&o2h.c, dir))
		o2h.resumes++;
}

static int
sink_timer_set(void *arg, size_t idx, unsigned id, uint64_t delay_ms)
{
	(void)arg;
	if (idx != 0 || id >= O2H_TIMERS)
		return SP_ERR_LIMIT;
	o2h.timer_armed[id] = true;
	o2h.timer_delay[id] = delay_ms;
	return SP_OK;
}

static void
sink_timer_cancel(void *arg, size_t idx, unsigned id)
{
	(void)arg;
	if (idx == 0 && id < O2H_TIMERS)
		o2h.timer_armed[id] = false;
}

static const struct sp_chain_sink sink = {
	.write = sink_write, .end = sink_end, .reading = sink_reading,
	.timer_set = sink_timer_set, .timer_cancel = sink_timer_cancel,
};

/* ---- the module under test, wrapped to see its own verdicts ---- */

static enum sp_verdict last;

static enum sp_verdict
w_open(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_peer *peer)
{
	return last = o2h.mod->on_open(mctx, ms, sctx, peer);
}

static enum sp_verdict
w_tls(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_tls *tls)
{
	return last = o2h.mod->on_tls(mctx, ms, sctx, tls);
}

static enum sp_verdict
w_data(void *mctx, struct sp_msess *ms, void *sctx, enum sp_dir dir, const uint8_t *p, size_t n)
{
	return last = o2h.mod->on_data(mctx, ms, sctx, dir, p, n);
}

static enum sp_verdict
w_timer(void *mctx, struct sp_msess *ms, void *sctx, unsigned id)
{
	return last = o2h.mod->on_timer(mctx, ms, sctx, id);
}

static void
w_close(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_close *info)
{
	o2h.closed = true;
	snprintf(o2h.close_reason, sizeof(o2h.close_reason), "%s", info->reason);
	o2h.mod->on_close(mctx, ms, sctx, info);
}

static struct sp_module wrapped;

/* ---- the tail: deliveries and forwards ---- */

static enum sp_verdict
t_data(void *mctx, struct sp_msess *ms, void *sctx, enum sp_dir dir, const uint8_t *p, size_t n)
{
	(void)mctx;
	(void)sctx;
	o2h.forwards[dir == SP_TO_INSIDE ? SP_LEG_INSIDE : SP_LEG_OUTSIDE]++;
	(void)sp_chain_host.forward(ms, dir, p, n);
	return SP_CONTINUE;
}

static enum sp_verdict
t_message(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_message *msg)
{
	enum sp_verdict v = SP_CONTINUE;

	(void)mctx;
	(void)ms;
	(void)sctx;
	if (o2h.ndelivered < O2H_DELIVERED) {
		o2h.delivered[o2h.ndelivered] = msg->type;
		o2h.delivered_dir[o2h.ndelivered] = msg->dir;
	}
	o2h.ndelivered++;
	/* The message must be whole and its parsed form must match it. */
	if (msg->raw == NULL || msg->raw_len < 5 || msg->parsed == NULL ||
	    msg->raw[4] != (uint8_t)msg->type || strcmp(msg->protocol, "oftp2") != 0 ||
	    msg->parsed_version != SP_OFTP2_H_VERSION)
		abort();
	if (o2h.answer_type == 0 || o2h.answer_type == msg->type)
		v = o2h.answer;
	if (v == SP_HOLD)
		o2h.pending = msg;
	return v;
}

static const struct sp_module tail = {
	SP_MODULE_HEADER,
	.name = "tail",
	.on_data = t_data,
	.on_message = t_message,
};

/* ---- the test's calls ---- */

void
o2h_free(void)
{
	size_t i;

	if (o2h.opened) {
		if (!o2h.closed)
			o2h_close("test");
		sp_chain_free(&o2h.c);
		o2h.opened = false;
	}
	for (i = 0; i < 2; i++)
		free(o2h.wire[i].p);
	for (i = 0; i < o2h.nfacts; i++) {
		free(o2h.fact_key[i]);
		free(o2h.fact_val[i]);
	}
}

void
o2h_reset(void)
{
	const struct sp_module *mod = o2h.mod;
	void *mctx = o2h.mctx, *cfg = o2h.cfg;
	enum sp_mode mode = o2h.mode;
	bool verbose = o2h.verbose;

	o2h_free();
	memset(&o2h, 0, sizeof(o2h));
	o2h.mod = mod;
	o2h.mctx = mctx;
	o2h.mode = mode;
	o2h.cfg = cfg;
	o2h.verbose = verbose;
	o2h.answer = SP_CONTINUE;
}

int
o2h_init(const struct sp_module *mod, enum sp_mode mode)
{
	static const char *const none[] = { NULL };
	struct sp_module_args args = { .name = "oftp2", .mode = mode, .options = none };

	sp_chain_set_env(&env);
	o2h.mod = mod;
	o2h.mode = mode;
	return mod->init(&sp_chain_host, &args, &o2h.mctx);
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
	struct sp_peer peer = { .size = sizeof(peer), .addr = "192.0.2.7", .port = 40000,
		.local_addr = "127.0.0.1", .local_port = 6619, .outgoing = outgoing,
		.route = "test" };
	static struct chain_entry entries[2];
	size_t i;

	if (o2h.opened)
		abort();
	wrapped = *o2h.mod;
	wrapped.on_open = w_open;
	wrapped.on_tls = w_tls;
	wrapped.on_data = w_data;
	wrapped.on_timer = w_timer;
	wrapped.on_close = w_close;
	entries[0] = (struct chain_entry){ &wrapped, o2h.mctx, o2h.mode, "oftp2" };
	entries[1] = (struct chain_entry){ &tail, NULL, SP_MODE_ENFORCE, "tail" };
	o2h.modcfg[0] = o2h.cfg;
	if (sp_chain_init(&o2h.c, entries, 2, o2h.modcfg, &sink, NULL, "1", "192.0.2.7") != 0)
		abort();
	o2h.opened = true;
	for (i = 0; i < o2h.nfacts; i++)
		if (sp_chain_fact_set(&o2h.c, o2h.fact_key[i], o2h.fact_val[i]) != 0)
			abort();
	sp_chain_set_limits(&o2h.c, o2h.limits.ssid_timeout_ms, o2h.limits.idle_timeout_ms,
	    o2h.limits.session_max_ms);
	if (o2h.refusal != 0)
		sp_chain_host.refusal_set(&o2h.c.ms[1], o2h.refusal);
	last = SP_CONTINUE;
	(void)sp_chain_open(&o2h.c, &peer);
	return last;
}

enum sp_verdict
o2h_tls(void)
{
	struct sp_tls tls = { .size = sizeof(tls), .version = "TLS1.3", .cipher = "TEST" };

	if (!o2h.opened || o2h.closed)
		return SP_CONTINUE;
	last = SP_CONTINUE;
	(void)sp_chain_tls(&o2h.c, &tls);
	return last;
}

enum sp_verdict
o2h_data(enum sp_dir dir, const void *p, size_t n)
{
	if (!o2h.opened || o2h.closed)
		return SP_CONTINUE;
	last = SP_CONTINUE;
	sp_chain_data(&o2h.c, dir, p, n);
	return last;
}

enum sp_verdict
o2h_timer(unsigned id)
{
	if (!o2h.opened || o2h.closed || id >= O2H_TIMERS || !o2h.timer_armed[id])
		return SP_CONTINUE;
	o2h.timer_armed[id] = false;
	return sp_chain_timer(&o2h.c, 0, id);
}

void
o2h_finish_delivery(enum sp_verdict v)
{
	if (o2h.pending == NULL || o2h.closed)
		return;
	/* The held message must still be intact when the chain goes on. */
	if (o2h.pending->raw[4] != (uint8_t)o2h.pending->type)
		abort();
	o2h.pending = NULL;
	sp_chain_host.resume(&o2h.c.ms[1], v);
}

void
o2h_close(const char *reason)
{
	if (!o2h.opened || o2h.closed)
		return;
	sp_chain_end(&o2h.c, reason, "");
}

const struct sp_chain_notes *
o2h_notes(void)
{
	return sp_chain_notes(&o2h.c);
}

int
o2h_fact_set(const char *key, const char *val)
{
	size_t i;

	if (o2h.opened)
		return sp_chain_fact_set(&o2h.c, key, val);
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
