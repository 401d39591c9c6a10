/* mod_drive.c - a module on the real chain engine (mod_drive.h). */
#include "mod_drive.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct md_record md_rec;

static void
record(char lines[][MD_LINE_MAX], size_t *n, const char *prefix, const char *text)
{
	if (*n >= MD_LINES_MAX)
		return;
	snprintf(lines[(*n)++], MD_LINE_MAX, "%s%s", prefix, text);
}

static int
sess_id(struct sp_msess *ms)
{
	return ms != NULL ? (int)strtol(ms->c->id, NULL, 10) : -1;
}

static bool
tap(enum sp_chain_line kind, struct sp_msess *ms, int level, const char *what, const char *text)
{
	char prefix[96];

	switch (kind) {
	case SP_CHAIN_LINE_LOG:
		snprintf(prefix, sizeof(prefix), "%d ", level);
		record(md_rec.log, &md_rec.nlog, prefix, text);
		break;
	case SP_CHAIN_LINE_SECURITY:
		snprintf(prefix, sizeof(prefix), "%d %.64s: ", sess_id(ms), what);
		record(md_rec.security, &md_rec.nsecurity, prefix, text);
		break;
	case SP_CHAIN_LINE_EVENT:
		break;
	}
	return true;
}

static const struct sp_chain_env env = { .tap = tap };

void
md_reset(void)
{
	memset(&md_rec, 0, sizeof(md_rec));
	sp_chain_set_env(&env);
}

int
md_log_find(const char *needle)
{
	size_t i;

	for (i = 0; i < md_rec.nlog; i++)
		if (strstr(md_rec.log[i], needle) != NULL)
			return (int)i;
	return -1;
}

/* ---- the recording sink ---- */

static int
sink_write(void *arg, enum sp_leg leg, const void *p, size_t n)
{
	(void)arg;
	if (n >= sizeof(md_rec.forwarded))
		return SP_ERR_LIMIT;
	md_rec.nforward++;
	md_rec.forward_dir = leg == SP_LEG_INSIDE ? SP_TO_INSIDE : SP_TO_OUTSIDE;
	memcpy(md_rec.forwarded, p, n);
	md_rec.forwarded[n] = '\0';
	return SP_OK;
}

static void
sink_end(void *arg, const char *reason, const char *text)
{
	(void)arg;
	(void)reason;
	(void)text;
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

static const struct sp_chain_sink sink = {
	.write = sink_write, .end = sink_end, .reading = sink_reading,
	.timer_set = sink_timer_set, .timer_cancel = sink_timer_cancel,
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
w_data(void *mctx, struct sp_msess *ms, void *sctx, enum sp_dir dir, const uint8_t *p, size_t n)
{
	return last = under_test->on_data(mctx, ms, sctx, dir, p, n);
}

enum sp_verdict
md_open(struct md_sess *s, int id, const struct sp_module *desc, void *mctx,
    enum sp_mode mode, const struct sp_peer *peer)
{
	struct sp_tls tls = { .size = sizeof(tls), .version = "none", .cipher = "none" };

	memset(s, 0, sizeof(*s));
	s->id = id;
	snprintf(s->idtext, sizeof(s->idtext), "%d", id);
	under_test = desc;
	wrapped = *desc;
	wrapped.on_open = desc->on_open != NULL ? w_open : NULL;
	wrapped.on_data = desc->on_data != NULL ? w_data : NULL;
	s->entry = (struct chain_entry){ &wrapped, mctx, mode, desc->name };
	if (sp_chain_init(&s->c, &s->entry, 1, NULL, &sink, s, s->idtext, peer->addr) != 0)
		abort();
	s->open = true;
	last = SP_CONTINUE;
	if (sp_chain_open(&s->c, peer))
		(void)sp_chain_tls(&s->c, &tls);
	return last;
}

enum sp_verdict
md_data(struct md_sess *s, enum sp_dir dir, const void *p, size_t n)
{
	last = SP_CONTINUE;
	sp_chain_data(&s->c, dir, p, n);
	return last;
}

void
md_close(struct md_sess *s, const char *reason)
{
	if (!s->open)
		return;
	sp_chain_end(&s->c, reason, "");
	sp_chain_free(&s->c);
	s->open = false;
}
