/*
 * check_chain.c - the chain engine (src/server/chain.c) driven directly with
 * two scripted modules and a recording sink: hook order in both directions,
 * deferred ending (on_close only after the ending call returned, exactly
 * once, in chain order), holds, and facts.
 *
 * Every hook and sink call appends a token to one trace string, so a test
 * states the whole expected sequence at once.
 */
#include "server/chain.h"
#include "core/err.h"
#include "core/loop.h"

#include <check.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char trace[4096];
static const struct sp_host *H = &sp_chain_host;

__attribute__((format(printf, 1, 2)))
static void
tr(const char *fmt, ...)
{
	size_t len = strlen(trace);
	va_list ap;

	if (len > 0 && len < sizeof(trace) - 1)
		trace[len++] = ' ';
	va_start(ap, fmt);
	vsnprintf(trace + len, sizeof(trace) - len, fmt, ap);
	va_end(ap);
}

/* ---- the recording sink ---- */

struct rec {
	struct sp_chain c;
	size_t written[2];
	int write_result;        /* what write() returns (SP_OK normally) */
	bool end_from_write;     /* write() calls sp_chain_end (the session's own end) */
	int nend;
	char reason[32], text[200];
	int nreading;
};

static int
rs_write(void *arg, enum sp_leg leg, const void *p, size_t n)
{
	struct rec *r = arg;

	tr("W%s:%.*s", leg == SP_LEG_INSIDE ? "in" : "out", (int)n, (const char *)p);
	if (r->end_from_write)
		sp_chain_end(&r->c, "no_client", "the session's own end");
	if (r->write_result == SP_OK)
		r->written[leg] += n;
	return r->write_result;
}

static void
rs_end(void *arg, const char *reason, const char *text)
{
	struct rec *r = arg;

	tr("END(%s)", reason);
	r->nend++;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

static void
rs_reading(void *arg, enum sp_dir dir)
{
	struct rec *r = arg;

	r->nreading++;
	tr("R%s", dir == SP_TO_INSIDE ? "in" : "out");
}

static uint64_t
rs_bytes(void *arg, enum sp_leg leg)
{
	return ((struct rec *)arg)->written[leg];
}

static int
rs_timer_set(void *arg, size_t idx, unsigned id, uint64_t delay_ms)
{
	(void)arg;
	tr("T%c%u=%llu", 'A' + (int)idx, id, (unsigned long long)delay_ms);
	return 0;
}

static void
rs_timer_cancel(void *arg, size_t idx, unsigned id)
{
	(void)arg;
	tr("T%c%u off", 'A' + (int)idx, id);
}

static const struct sp_chain_sink rec_sink = {
	.write = rs_write, .end = rs_end, .reading = rs_reading, .bytes_out = rs_bytes,
	.timer_set = rs_timer_set, .timer_cancel = rs_timer_cancel,
};

/* ---- scripted modules: A and B, told what to do by struct script ---- */

struct script {
	enum sp_verdict open, data;
	bool end_in_open;
	bool end_in_data;        /* host->end() in on_data (before forwarding) */
	bool end_in_close;       /* host->end() again in on_close */
	bool send_in_close;      /* a last word in on_close */
	bool reply_outside;      /* on_data to inside also forwards "r" to outside */
	bool consume;            /* on_data forwards nothing */
	enum sp_verdict msg;     /* what on_message says */
	int nclose;
	int fwd;                 /* last forward's result */
};

static struct script sc[2];

static int
who(void *mctx)
{
	return (int)(intptr_t)mctx;
}

static enum sp_verdict
m_open(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_peer *peer)
{
	struct script *s = &sc[who(mctx)];

	(void)sctx;
	(void)peer;
	tr("%c.open", 'A' + who(mctx));
	if (s->end_in_open)
		H->end(ms, "m_open", "ended in on_open");
	tr("%c.open.ret", 'A' + who(mctx));
	return s->open;
}

static enum sp_verdict
m_tls(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_tls *tls)
{
	(void)ms;
	(void)sctx;
	(void)tls;
	tr("%c.tls", 'A' + who(mctx));
	return SP_CONTINUE;
}

static enum sp_verdict
m_data(void *mctx, struct sp_msess *ms, void *sctx, enum sp_dir dir, const uint8_t *p, size_t n)
{
	struct script *s = &sc[who(mctx)];
	char c = 'A' + who(mctx);
	int *alive = sctx;

	tr("%c.data%s", c, dir == SP_TO_INSIDE ? ">in" : ">out");
	if (s->end_in_data)
		H->end(ms, c == 'A' ? "a_end" : "b_end", "ended in on_data");
	if (s->reply_outside && dir == SP_TO_INSIDE) {
		s->fwd = H->forward(ms, SP_TO_OUTSIDE, "r", 1);
		tr("%c.reply=%d", c, s->fwd);
	}
	if (!s->consume) {
		s->fwd = H->forward(ms, dir, p, n);
		tr("%c.fwd=%d", c, s->fwd);
	}
	/* The context is still ours: on_close has not run. */
	ck_assert_int_eq(*alive, 0x5a);
	tr("%c.ret", c);
	return s->data;
}

static enum sp_verdict
m_timer(void *mctx, struct sp_msess *ms, void *sctx, unsigned id)
{
	(void)sctx;
	tr("%c.timer%u", 'A' + who(mctx), id);
	H->timer_set(ms, id + 1, 50);
	tr("%c.timer.ret", 'A' + who(mctx));
	return sc[who(mctx)].data;
}

static void
m_close(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_close *info)
{
	struct script *s = &sc[who(mctx)];
	int *alive = sctx;

	tr("%c.close(%s)", 'A' + who(mctx), info->reason);
	s->nclose++;
	*alive = 0;
	if (s->send_in_close)
		tr("%c.last=%d", 'A' + who(mctx), H->send(ms, SP_LEG_OUTSIDE, "bye", 3));
	if (s->end_in_close)
		H->end(ms, "again", "");
}

static enum sp_verdict
m_message(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_message *msg)
{
	(void)ms;
	(void)sctx;
	(void)msg;
	tr("%c.msg", 'A' + who(mctx));
	return sc[who(mctx)].msg;
}

static void
m_delivered(void *mctx, struct sp_msess *ms, void *sctx, uint64_t cookie, enum sp_verdict v)
{
	(void)ms;
	(void)sctx;
	tr("%c.delivered(%llu,%d)", 'A' + who(mctx), (unsigned long long)cookie, (int)v);
}

/* on_open marks the context so on_data can tell it is still alive. */
static enum sp_verdict
m_open_mark(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_peer *peer)
{
	*(int *)sctx = 0x5a;
	return m_open(mctx, ms, sctx, peer);
}

static const struct sp_module mod = {
	SP_MODULE_HEADER,
	.name = "scripted",
	.session_ctx_size = sizeof(int),
	.on_open = m_open_mark,
	.on_tls = m_tls,
	.on_data = m_data,
	.on_timer = m_timer,
	.on_message = m_message,
	.on_delivered = m_delivered,
	.on_close = m_close,
};

static struct chain_entry entries[2] = {
	{ &mod, (void *)(intptr_t)0, SP_MODE_ENFORCE, "A" },
	{ &mod, (void *)(intptr_t)1, SP_MODE_ENFORCE, "B" },
};

static struct rec R;

static void
setup(void)
{
	trace[0] = '\0';
	memset(sc, 0, sizeof(sc));
	memset(&R, 0, sizeof(R));
	entries[0].mode = entries[1].mode = SP_MODE_ENFORCE;
	ck_assert_int_eq(sp_chain_init(&R.c, entries, 2, NULL, &rec_sink, &R, "7",
	    "192.0.2.7"), SP_OK);
}

static void
teardown(void)
{
	sp_chain_free(&R.c);
}

/* Open and on_tls; the trace starts empty afterwards. */
static void
up(void)
{
	struct sp_peer peer = { .addr = "192.0.2.7" };
	struct sp_tls tls = { .version = "none", .cipher = "none" };

	ck_assert(sp_chain_open(&R.c, &peer));
	ck_assert(sp_chain_tls(&R.c, &tls));
	trace[0] = '\0';
}

#define TRACE_IS(want) ck_assert_str_eq(trace, want)

START_TEST(hook_order_both_directions)
{
	struct sp_peer peer = { .addr = "192.0.2.7" };
	struct sp_tls tls = { .version = "none", .cipher = "none" };

	ck_assert(sp_chain_open(&R.c, &peer));
	ck_assert(sp_chain_tls(&R.c, &tls));
	TRACE_IS("A.open A.open.ret B.open B.open.ret A.tls B.tls");
	trace[0] = '\0';
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in B.data>in Win:x B.fwd=0 B.ret A.fwd=0 A.ret");
	trace[0] = '\0';
	sp_chain_data(&R.c, SP_TO_OUTSIDE, (const uint8_t *)"y", 1);
	TRACE_IS("A.data>out B.data>out Wout:y B.fwd=0 B.ret A.fwd=0 A.ret");
	ck_assert_int_eq(R.nend, 0);
	trace[0] = '\0';
	sp_chain_end(&R.c, "normal", "done");
	TRACE_IS("A.close(normal) B.close(normal) END(normal)");
	ck_assert_int_eq(R.nend, 1);
	ck_assert_str_eq(R.text, "done");
}
END_TEST

START_TEST(end_inside_forward_runs_close_after_return)
{
	up();
	sc[1].end_in_data = true;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	/* B ends inside A's forward: B's own forward is refused, A's forward
	 * says closed, and the closes come only after A returned. */
	TRACE_IS("A.data>in B.data>in B.fwd=-8 B.ret A.fwd=-8 A.ret "
	    "A.close(b_end) B.close(b_end) END(b_end)");
	ck_assert_int_eq(sc[0].nclose, 1);
	ck_assert_int_eq(sc[1].nclose, 1);
	ck_assert_int_eq(R.nend, 1);
	ck_assert(!sp_chain_live(&R.c));
	/* Nothing more reaches the modules. */
	trace[0] = '\0';
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"z", 1);
	sp_chain_end(&R.c, "again", "");
	TRACE_IS("");
}
END_TEST

START_TEST(end_from_on_open)
{
	struct sp_peer peer = { .addr = "192.0.2.7" };

	sc[0].end_in_open = true;
	ck_assert(!sp_chain_open(&R.c, &peer));
	/* B is never opened, so it is never closed either. */
	TRACE_IS("A.open A.open.ret A.close(m_open) END(m_open)");
	ck_assert_int_eq(sc[1].nclose, 0);
	ck_assert_int_eq(R.nend, 1);
}
END_TEST

START_TEST(reject_in_on_open)
{
	struct sp_peer peer = { .addr = "192.0.2.7" };

	sc[1].open = SP_REJECT;
	ck_assert(!sp_chain_open(&R.c, &peer));
	TRACE_IS("A.open A.open.ret B.open B.open.ret A.close(rejected) B.close(rejected) END(rejected)");
	ck_assert_str_eq(R.text, "by module B in on_open");
}
END_TEST

START_TEST(two_modules_end_first_reason_wins)
{
	up();
	sc[0].end_in_data = true;
	sc[1].end_in_data = true;
	sc[1].data = SP_REJECT;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	/* A's end comes first: its forward is refused, B never sees the bytes. */
	TRACE_IS("A.data>in A.fwd=-8 A.ret A.close(a_end) B.close(a_end) END(a_end)");
	ck_assert_int_eq(sc[0].nclose + sc[1].nclose, 2);
	ck_assert_int_eq(R.nend, 1);
}
END_TEST

START_TEST(both_end_in_one_pass)
{
	up();
	sc[1].end_in_data = true;
	sc[1].data = SP_ABORT;
	sc[0].data = SP_REJECT;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in B.data>in B.fwd=-8 B.ret A.fwd=-8 A.ret "
	    "A.close(b_end) B.close(b_end) END(b_end)");
	ck_assert_int_eq(R.nend, 1);
}
END_TEST

START_TEST(end_during_other_direction)
{
	up();
	/* A answers the partner itself while passing bytes inside; B ends
	 * the session while that reply goes outside. */
	sc[0].reply_outside = true;
	sc[1].end_in_data = true;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in B.data>out B.fwd=-8 B.ret A.reply=-8 A.fwd=-8 A.ret "
	    "A.close(b_end) B.close(b_end) END(b_end)");
	ck_assert_int_eq(R.nend, 1);
}
END_TEST

START_TEST(full_leg_ends_after_return)
{
	up();
	R.write_result = SP_ERR_LIMIT;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in B.data>in Win:x B.fwd=-8 B.ret A.fwd=-8 A.ret "
	    "A.close(overflow) B.close(overflow) END(overflow)");
}
END_TEST

START_TEST(session_end_from_sink_is_deferred)
{
	up();
	R.end_from_write = true;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in B.data>in Win:x B.fwd=-8 B.ret A.fwd=-8 A.ret "
	    "A.close(no_client) B.close(no_client) END(no_client)");
	ck_assert_int_eq(R.nend, 1);
}
END_TEST

START_TEST(close_may_send_last_word_not_end_again)
{
	up();
	sc[0].send_in_close = true;
	sc[0].end_in_close = true;
	sc[1].end_in_close = true;
	sp_chain_end(&R.c, "timeout", "idle");
	TRACE_IS("A.close(timeout) Wout:bye A.last=0 B.close(timeout) END(timeout)");
	ck_assert_int_eq(R.nend, 1);
	ck_assert_int_eq(sc[0].nclose, 1);
	ck_assert_int_eq(sc[1].nclose, 1);
}
END_TEST

START_TEST(detect_mode_lets_pass)
{
	entries[1].mode = SP_MODE_DETECT;
	up();
	sc[1].data = SP_REJECT;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in B.data>in Win:x B.fwd=0 B.ret A.fwd=0 A.ret");
	ck_assert_int_eq(R.nend, 0);
	ck_assert(sp_chain_live(&R.c));
}
END_TEST

START_TEST(hold_and_resume)
{
	up();
	sc[0].consume = true;
	sc[0].data = SP_HOLD;
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	TRACE_IS("A.data>in A.ret Rin");
	ck_assert(sp_chain_held(&R.c, SP_TO_INSIDE));
	ck_assert(!sp_chain_held(&R.c, SP_TO_OUTSIDE));
	trace[0] = '\0';
	H->resume(&R.c.ms[0], SP_CONTINUE);
	TRACE_IS("Rin");
	ck_assert(!sp_chain_held(&R.c, SP_TO_INSIDE));
	/* A resume that refuses ends the session, after the resume returned. */
	sp_chain_data(&R.c, SP_TO_INSIDE, (const uint8_t *)"x", 1);
	trace[0] = '\0';
	H->resume(&R.c.ms[0], SP_REJECT);
	TRACE_IS("A.close(rejected) B.close(rejected) END(rejected)");
}
END_TEST

/*
 * A module in detect mode never refuses: not when it answers a delivery at
 * once, and not when it held the delivery and resumes it with a refusal.
 * The delivering module hears SP_CONTINUE either way, and the session goes
 * on.
 */
START_TEST(detect_mode_holder_does_not_refuse_a_delivery)
{
	struct sp_message msg;

	memset(&msg, 0, sizeof(msg));
	entries[1].mode = SP_MODE_DETECT;
	up();
	sc[1].msg = SP_REJECT;
	ck_assert_int_eq(H->deliver(&R.c.ms[0], &msg, 41), SP_CONTINUE);
	TRACE_IS("B.msg");
	trace[0] = '\0';
	sc[1].msg = SP_HOLD;
	ck_assert_int_eq(H->deliver(&R.c.ms[0], &msg, 42), SP_HOLD);
	TRACE_IS("B.msg");
	trace[0] = '\0';
	H->resume(&R.c.ms[1], SP_REJECT);
	TRACE_IS("A.delivered(42,0)");
	ck_assert_int_eq(R.nend, 0);
	ck_assert(sp_chain_live(&R.c));
	/* In enforce mode the same resume refuses the message. */
	entries[1].mode = SP_MODE_ENFORCE;
	trace[0] = '\0';
	ck_assert_int_eq(H->deliver(&R.c.ms[0], &msg, 43), SP_HOLD);
	H->resume(&R.c.ms[1], SP_REJECT);
	TRACE_IS("B.msg A.delivered(43,2)");
}
END_TEST

START_TEST(outside_entry_brackets)
{
	struct sp_msess *ms;

	/* Before on_tls a worker's done gets no handle. */
	ck_assert_ptr_null(sp_chain_enter(&R.c, 0));
	sp_chain_leave(&R.c);
	up();
	ms = sp_chain_enter(&R.c, 1);
	ck_assert_ptr_nonnull(ms);
	H->end(ms, "late", "ended from a worker's done");
	TRACE_IS("");                 /* still inside the bracket */
	sp_chain_leave(&R.c);
	TRACE_IS("A.close(late) B.close(late) END(late)");
	ck_assert_ptr_null(sp_chain_enter(&R.c, 1));
	sp_chain_leave(&R.c);
	ck_assert_int_eq(R.nend, 1);
}
END_TEST

START_TEST(timer_through_sink)
{
	up();
	ck_assert_int_eq(H->timer_set(&R.c.ms[1], 3, 1000), 0);
	TRACE_IS("TB3=1000");
	trace[0] = '\0';
	sc[1].data = SP_REJECT;
	ck_assert_int_eq(sp_chain_timer(&R.c, 1, 3), SP_REJECT);
	TRACE_IS("B.timer3 TB4=50 B.timer.ret A.close(rejected) B.close(rejected) END(rejected)");
	trace[0] = '\0';
	ck_assert_int_eq(sp_chain_timer(&R.c, 1, 4), SP_CONTINUE);   /* ended: not called */
	TRACE_IS("");
}
END_TEST

START_TEST(typed_facts)
{
	const struct sp_chain_notes *nt = sp_chain_notes(&R.c);
	struct sp_end_note e = { .size = sizeof(e), .code = 4, .by = SP_END_BY_PROXY };
	struct sp_file_note f = { .size = sizeof(f), .name = "FILE.A", .dir = SP_FILE_TO_PARTNER,
		.format = 'U', .size_kib = 2, .octets = 100 };
	size_t i;

	up();
	sp_chain_set_limits(&R.c, 1500, 7000, 90000);
	ck_assert_uint_eq(H->limits(&R.c.ms[0])->idle_timeout_ms, 7000);
	ck_assert_uint_eq(H->limits(&R.c.ms[0])->size, sizeof(struct sp_limits));
	/* The first end note counts. */
	ck_assert_int_eq(H->note_end(&R.c.ms[0], &e), 0);
	e.code = 9;
	e.by = SP_END_BY_PARTNER;
	ck_assert_int_eq(H->note_end(&R.c.ms[1], &e), 1);
	e.code = 100;
	ck_assert_int_lt(H->note_end(&R.c.ms[1], &e), 0);
	ck_assert(nt->has_end);
	ck_assert_uint_eq(nt->end.code, 4);
	ck_assert_int_eq(nt->end.by, SP_END_BY_PROXY);
	ck_assert_str_eq(sp_chain_end_by_name(nt->end.by), "proxy");
	/* A refusal code from a policy module to the protocol module. */
	ck_assert_uint_eq(H->refusal_get(&R.c.ms[0]), 0);
	H->refusal_set(&R.c.ms[1], 4);
	ck_assert_uint_eq(H->refusal_get(&R.c.ms[0]), 4);
	/* In transfer, then finished; a small (older) note is refused. */
	ck_assert_int_eq(H->note_file(&R.c.ms[0], &f), 0);
	ck_assert(nt->has_current);
	ck_assert_uint_eq(nt->current.octets, 100);
	f.result = "EFPA";
	ck_assert_int_eq(H->note_file(&R.c.ms[0], &f), 0);
	ck_assert(!nt->has_current);
	ck_assert_uint_eq(nt->nfiles, 1);
	ck_assert_str_eq(nt->files[0].result, "EFPA");
	ck_assert_str_eq(nt->files[0].name, "FILE.A");
	f.size = offsetof(struct sp_file_note, result);
	ck_assert_int_lt(H->note_file(&R.c.ms[0], &f), 0);
	/* Bounded: past SP_SESSION_FILES_MAX only counted, in constant time each. */
	f.size = sizeof(f);
	for (i = 1; i < SP_SESSION_FILES_MAX + 5; i++)
		ck_assert_int_eq(H->note_file(&R.c.ms[0], &f), 0);
	ck_assert_uint_eq(nt->nfiles, SP_SESSION_FILES_MAX);
	ck_assert_uint_eq(nt->files_dropped, 5);
	/* Deviations: kept once each. */
	ck_assert_int_eq(H->note_deviation(&R.c.ms[0], "sfid_date"), 0);
	ck_assert_int_eq(H->note_deviation(&R.c.ms[0], "sfid_date"), 0);
	ck_assert_int_eq(H->note_deviation(&R.c.ms[0], "sth_octet0"), 0);
	ck_assert_uint_eq(nt->ndeviations, 2);
}
END_TEST

START_TEST(facts_shared)
{
	up();
	ck_assert_int_eq(H->fact_set(&R.c.ms[0], "partner", "O0055PARTNER"), 0);
	ck_assert_str_eq(H->fact_get(&R.c.ms[1], "partner"), "O0055PARTNER");
	ck_assert_int_eq(H->fact_set(&R.c.ms[1], "partner", "O0055OTHER"), 0);
	ck_assert_str_eq(sp_chain_fact(&R.c, "partner"), "O0055OTHER");
	ck_assert_ptr_null(H->fact_get(&R.c.ms[0], "nope"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hook_order_both_directions);
	tcase_add_test(tc, end_inside_forward_runs_close_after_return);
	tcase_add_test(tc, end_from_on_open);
	tcase_add_test(tc, reject_in_on_open);
	tcase_add_test(tc, two_modules_end_first_reason_wins);
	tcase_add_test(tc, both_end_in_one_pass);
	tcase_add_test(tc, end_during_other_direction);
	tcase_add_test(tc, full_leg_ends_after_return);
	tcase_add_test(tc, session_end_from_sink_is_deferred);
	tcase_add_test(tc, close_may_send_last_word_not_end_again);
	tcase_add_test(tc, detect_mode_lets_pass);
	tcase_add_test(tc, hold_and_resume);
	tcase_add_test(tc, detect_mode_holder_does_not_refuse_a_delivery);
	tcase_add_test(tc, outside_entry_brackets);
	tcase_add_test(tc, facts_shared);
	tcase_add_test(tc, timer_through_sink);
	tcase_add_test(tc, typed_facts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
