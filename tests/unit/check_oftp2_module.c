/*
 * check_oftp2_module.c - the OFTP2 verification module driven through its
 * hooks by a recording relay core (o2_drive.[ch]): greeting, a whole valid
 * session in both roles (also fed one octet at a time), the chain holding and
 * refusing SSIDs, every violation of the bad-input corpus with its ESID,
 * timeouts, detect mode, tolerances and the configuration section.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "oftp2/codec.h"
#include "o2_drive.h"

extern const struct sp_module sp_module_v1;
#define MOD (&sp_module_v1)

#define T_SSRM 1
#define T_SSID 2
#define T_IDLE 3
#define T_SESSION 4

#define P_ID "O0013000000ACME"
#define I_ID "O0013000000INSIDE"

/* ---- frames ---- */

struct fr {
	uint8_t b[2048];
	size_t n;
};

static struct fr
build(const struct oftp2_cmd *c)
{
	struct fr f;
	struct sp_buf b;
	struct oftp2_err e;

	sp_buf_init(&b, sizeof(f.b));
	if (oftp2_build(&b, c, OFTP2_BUILD_STH, &e) != 0) {
		fprintf(stderr, "build: %s\n", e.text);
		abort();
	}
	memcpy(f.b, sp_buf_ptr(&b), sp_buf_len(&b));
	f.n = sp_buf_len(&b);
	sp_buf_free(&b);
	return f;
}

static struct fr
ssid(const char *code, unsigned sdeb, char mode, bool cmpr, unsigned credit,
    bool auth)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SSID;
	c.u.ssid.level = 5;
	snprintf(c.u.ssid.code, sizeof(c.u.ssid.code), "%s", code);
	snprintf(c.u.ssid.password, sizeof(c.u.ssid.password), "SECRET");
	c.u.ssid.sdeb = sdeb;
	c.u.ssid.mode = (enum oftp2_mode)mode;
	c.u.ssid.compression = cmpr;
	c.u.ssid.restart = false;
	c.u.ssid.credit = (uint16_t)credit;
	c.u.ssid.auth = auth;
	return build(&c);
}

static struct fr
simple(enum oftp2_code code)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = code;
	return build(&c);
}

static struct fr
sfid(const char *dsn, char fmt)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SFID;
	snprintf(c.u.sfid.dsn, sizeof(c.u.sfid.dsn), "%s", dsn);
	c.u.sfid.date = 20240315;
	c.u.sfid.time = 1430000001;
	snprintf(c.u.sfid.dest, sizeof(c.u.sfid.dest), "%s", I_ID);
	snprintf(c.u.sfid.orig, sizeof(c.u.sfid.orig), "%s", P_ID);
	c.u.sfid.format = (enum oftp2_format)fmt;
	c.u.sfid.fsiz = 1;
	return build(&c);
}

static struct fr
sfpa(uint64_t acnt)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SFPA;
	c.u.sfpa.acnt = acnt;
	return build(&c);
}

/* DATA of `n` literal octets 'A' in subrecords of up to 63, EoR on the last
 * if `eor`. */
static struct fr
data(size_t n, bool eor)
{
	struct fr f;
	size_t o = 5, left = n;

	f.b[4] = 'D';
	while (left > 0) {
		size_t k = left > 63 ? 63 : left;
		left -= k;
		f.b[o++] = (uint8_t)(k | (left == 0 && eor ? 0x80 : 0));
		memset(f.b + o, 'A', k);
		o += k;
	}
	f.b[0] = 0x10;
	f.b[1] = (uint8_t)(o >> 16);
	f.b[2] = (uint8_t)(o >> 8);
	f.b[3] = (uint8_t)o;
	f.n = o;
	return f;
}

static struct fr
efid(uint64_t rcnt, uint64_t ucnt)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_EFID;
	c.u.efid.rcnt = rcnt;
	c.u.efid.ucnt = ucnt;
	return build(&c);
}

static struct fr
efpa(bool cd)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_EFPA;
	c.u.efpa.cd = cd;
	return build(&c);
}

static struct fr
esid(unsigned reason)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_ESID;
	c.u.esid.reason = (uint8_t)reason;
	return build(&c);
}

static struct fr
eerp(const char *dsn)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_EERP;
	snprintf(c.u.eerp.dsn, sizeof(c.u.eerp.dsn), "%s", dsn);
	c.u.eerp.date = 20240315;
	c.u.eerp.time = 1430000001;
	snprintf(c.u.eerp.dest, sizeof(c.u.eerp.dest), "%s", P_ID);
	snprintf(c.u.eerp.orig, sizeof(c.u.eerp.orig), "%s", I_ID);
	return build(&c);
}

static struct fr
auch(void)
{
	static const uint8_t chal[8] = { 0x30, 1, 2, 3, 4, 5, 6, 7 };
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_AUCH;
	c.u.auch.challenge.ptr = chal;
	c.u.auch.challenge.len = sizeof(chal);
	return build(&c);
}

static struct fr
aurp(void)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_AURP;
	memset(c.u.aurp.response, 7, sizeof(c.u.aurp.response));
	return build(&c);
}

/* ---- driving ---- */

/* Bytes from the partner / the inside. */
static enum sp_verdict
P(struct fr f)
{
	return o2h_data(SP_TO_INSIDE, f.b, f.n);
}

static enum sp_verdict
I(struct fr f)
{
	return o2h_data(SP_TO_OUTSIDE, f.b, f.n);
}

static bool
wire_has(enum sp_leg leg, struct fr f)
{
	return o2h_wire_has(leg, f.b, f.n);
}

/* An ESID with reason r on a leg (any text). */
static bool
esid_on(enum sp_leg leg, unsigned r)
{
	char pat[4];

	snprintf(pat, sizeof(pat), "F%02u", r);
	return o2h_wire_has(leg, pat, 3);
}

/* The ESID the audit record names (host->note_end). */
static void
assert_end_esid(const char *code, const char *from)
{
	const struct sp_chain_notes *nt = o2h_notes();
	char c[4];

	ck_assert_msg(nt->has_end, "no end ESID noted (end: %s)", o2h.end_text);
	snprintf(c, sizeof(c), "%02u", nt->end.code);
	ck_assert_str_eq(c, code);
	ck_assert_str_eq(sp_chain_end_by_name(nt->end.by), from);
}

static void
setup(void)
{
	o2h_reset();
	ck_assert_int_eq(o2h_init(MOD, SP_MODE_ENFORCE), 0);
	o2h.verbose = getenv("O2_VERBOSE") != NULL;
}

static void
teardown(void)
{
	o2h_reset();
	if (o2h.cfg != NULL) {
		MOD->config_free(o2h.mctx, o2h.cfg);
		o2h.cfg = NULL;
	}
	o2h_fini();
	o2h_free();
	memset(&o2h, 0, sizeof(o2h));
}

static void
use_config(const char *json)
{
	char err[256] = "";
	void *cfg = NULL;

	ck_assert_msg(MOD->config_parse(o2h.mctx, json, &cfg, err, sizeof(err)) == 0,
	    "%s", err);
	o2h.cfg = cfg;
}

/* Incoming session up to IDLE: greeting, both SSIDs. */
static void
start_incoming(unsigned sdeb, bool cmpr, unsigned credit)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert(o2h.timer_armed[T_SSRM]);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_OUTSIDE, simple(OFTP2_SSRM)));
	ck_assert(o2h.timer_armed[T_SSID]);
	ck_assert_int_eq(P(ssid(P_ID, sdeb, 'B', cmpr, credit, false)), SP_CONTINUE);
	ck_assert(!o2h.timer_armed[T_SSID] || o2h.timer_delay[T_SSID] > 0);
	ck_assert(wire_has(SP_LEG_INSIDE, ssid(P_ID, sdeb, 'B', cmpr, credit, false)));
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, sdeb, 'B', cmpr, credit, false)), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_OUTSIDE, ssid(I_ID, sdeb, 'B', cmpr, credit, false)));
	ck_assert(!o2h.ended);
}

static void
assert_violation(unsigned reason, bool inside_up)
{
	ck_assert_msg(o2h.ended, "session did not end");
	ck_assert_str_eq(o2h.end_reason, "protocol");
	{
		char code[4];
		snprintf(code, sizeof(code), "%02u", reason);
		assert_end_esid(code, "proxy");
	}
	ck_assert_msg(esid_on(SP_LEG_OUTSIDE, reason), "no ESID %02u to the partner "
	    "(end: %s)", reason, o2h.end_text);
	if (inside_up)
		ck_assert_msg(esid_on(SP_LEG_INSIDE, reason), "no ESID %02u inside",
		    reason);
	ck_assert_int_ge(o2h_security_find("oftp2_violation"), 0);
	ck_assert(o2h.closed);
}

/* ---- tests ---- */

START_TEST(greet_plain_by_timer)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert(o2h.timer_armed[T_SSRM]);
	ck_assert_uint_eq(o2h.timer_delay[T_SSRM], 0);
	ck_assert(o2h.timer_armed[T_SESSION]);
	ck_assert_int_eq(o2h_timer(T_SSRM), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_OUTSIDE, simple(OFTP2_SSRM)));
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 23);
	/* on_tls afterwards does not greet twice. */
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 23);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
}
END_TEST

/* A whole valid session: file partner -> inside, turn, inside ends. */
static void
valid_session(bool bytewise)
{
	struct fr frames[32];
	int from[32];
	size_t n = 0, i, k;

	start_incoming(4096, false, 2);
	o2h_wire_clear();
#define ADD(side, f) do { from[n] = (side); frames[n++] = (f); } while (0)
	ADD(0, sfid("INVOIC.TEST", 'U'));
	ADD(1, sfpa(0));
	ADD(0, data(100, false));
	ADD(0, data(200, false));
	ADD(1, simple(OFTP2_CDT));
	ADD(0, data(50, true));
	ADD(0, efid(0, 350));
	ADD(1, efpa(true));
	ADD(0, simple(OFTP2_CD));
	ADD(1, eerp("INVOIC.TEST"));
	ADD(0, simple(OFTP2_RTR));
	ADD(1, simple(OFTP2_CD));
	ADD(0, esid(0));
#undef ADD
	for (i = 0; i < n; i++) {
		enum sp_dir d = from[i] == 0 ? SP_TO_INSIDE : SP_TO_OUTSIDE;
		if (!bytewise) {
			ck_assert_int_eq(o2h_data(d, frames[i].b, frames[i].n), SP_CONTINUE);
			continue;
		}
		for (k = 0; k < frames[i].n; k++)
			ck_assert_int_eq(o2h_data(d, frames[i].b + k, 1), SP_CONTINUE);
	}
	/* Every frame reached the other side, in order, unchanged. */
	{
		struct o2h_bytes exp[2] = { { 0 }, { 0 } };
		for (i = 0; i < n; i++) {
			struct o2h_bytes *e = &exp[from[i] == 0 ? SP_LEG_INSIDE : SP_LEG_OUTSIDE];
			e->p = realloc(e->p, e->n + frames[i].n);
			memcpy(e->p + e->n, frames[i].b, frames[i].n);
			e->n += frames[i].n;
		}
		for (i = 0; i < 2; i++) {
			ck_assert_uint_eq(o2h.wire[i].n, exp[i].n);
			ck_assert(memcmp(o2h.wire[i].p, exp[i].p, exp[i].n) == 0);
			free(exp[i].p);
		}
	}
	ck_assert(o2h.ended);
	ck_assert_str_eq(o2h.end_reason, "normal");
	assert_end_esid("00", "partner");
	ck_assert_int_ge(o2h_log_find("file 'INVOIC.TEST' partner -> inside, format U, "
	    "350 octets in 3 DATA buffers: EFPA"), 0);
	ck_assert_int_lt(o2h_log_find("SECRET"), 0);
	ck_assert_int_eq(o2h_security_find(""), -1);
	/* SSID both ways, then every command but the swallowed SSRM. */
	ck_assert_uint_eq(o2h.ndelivered, 2 + n);
	ck_assert_int_eq(o2h.delivered[0], 'X');
	ck_assert_int_eq(o2h.delivered_dir[0], SP_TO_INSIDE);
	ck_assert_int_eq(o2h.delivered[1], 'X');
	ck_assert_int_eq(o2h.delivered_dir[1], SP_TO_OUTSIDE);
}

START_TEST(session_whole_frames)
{
	valid_session(false);
	/* Consecutive frames of one read go on in one forward: none here. */
	ck_assert_uint_ge(o2h.forwards[SP_LEG_INSIDE], 7);
}
END_TEST

START_TEST(session_one_octet_at_a_time)
{
	valid_session(true);
}
END_TEST

/* Many frames in one read are checked in place and forwarded together. */
START_TEST(coalesced_forward)
{
	uint8_t buf[4096];
	size_t o = 0;
	struct fr parts[] = { data(60, false), data(61, false), data(7, true) };
	size_t i;

	start_incoming(4096, false, 10);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	o2h_wire_clear();
	o2h.forwards[SP_LEG_INSIDE] = 0;
	for (i = 0; i < 3; i++) {
		memcpy(buf + o, parts[i].b, parts[i].n);
		o += parts[i].n;
	}
	/* and half of an EFID */
	{
		struct fr e = efid(0, 128);
		memcpy(buf + o, e.b, 10);
		ck_assert_int_eq(o2h_data(SP_TO_INSIDE, buf, o + 10), SP_CONTINUE);
		ck_assert_uint_eq(o2h.forwards[SP_LEG_INSIDE], 1);
		ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, o);
		ck_assert_int_eq(o2h_data(SP_TO_INSIDE, e.b + 10, e.n - 10), SP_CONTINUE);
		ck_assert(wire_has(SP_LEG_INSIDE, e));
	}
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(chain_holds_ssid)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	o2h.answer = SP_HOLD;
	o2h.answer_type = 'X';
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(s), SP_HOLD);
	ck_assert_ptr_nonnull(o2h.pending);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	/* The partner may only wait now; what comes meanwhile is kept. */
	ck_assert_int_eq(P(esid(8)), SP_HOLD);
	o2h_finish_delivery(SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, s));
	/* The ESID 08 the partner sent meanwhile follows the SSID and ends it. */
	ck_assert(esid_on(SP_LEG_INSIDE, 8));
	ck_assert(o2h.ended);
	ck_assert_str_eq(o2h.end_reason, "esid");
	ck_assert_str_eq(o2h.end_text, "ESID 08 (resources not available) from the partner");
	assert_end_esid("08", "partner");
}
END_TEST

START_TEST(chain_rejects_ssid)
{
	o2h.answer = SP_REJECT;
	o2h.answer_type = 'X';
	o2h.refusal = OFTP2_ESID_BAD_PASSWORD;   /* as the partner module sets it */
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 64, false)), SP_REJECT);
	ck_assert(esid_on(SP_LEG_OUTSIDE, 4));
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert_str_eq(o2h.end_reason, "rejected");
}
END_TEST

START_TEST(chain_rejects_held_ssid_default_03)
{
	o2h.answer = SP_HOLD;
	o2h.answer_type = 'X';
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 64, false)), SP_HOLD);
	o2h_finish_delivery(SP_REJECT);
	ck_assert(esid_on(SP_LEG_OUTSIDE, 3));
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert_str_eq(o2h.end_reason, "rejected");
}
END_TEST

/* A held DATA buffer keeps everything behind it, in order. */
START_TEST(chain_holds_data)
{
	uint8_t buf[512];
	struct fr a = data(10, false), b = data(20, true);

	start_incoming(4096, false, 10);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	o2h_wire_clear();
	o2h.answer = SP_HOLD;
	o2h.answer_type = 'D';
	memcpy(buf, a.b, a.n);
	memcpy(buf + a.n, b.b, b.n);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, buf, a.n + b.n), SP_HOLD);
	memset(buf, 0, sizeof(buf));   /* the core's read buffer is reused */
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	o2h.answer = SP_CONTINUE;
	o2h_finish_delivery(SP_CONTINUE);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, a.n + b.n);
	ck_assert(memcmp(o2h.wire[SP_LEG_INSIDE].p, a.b, a.n) == 0);
	ck_assert(memcmp(o2h.wire[SP_LEG_INSIDE].p + a.n, b.b, b.n) == 0);
	ck_assert_uint_eq(o2h.resumes, 1);
	ck_assert(!o2h.ended);
}
END_TEST

/* ---- the bad-input corpus ---- */

START_TEST(bad_sth_version)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	s.b[0] = 0x20;
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, s.b, 1), SP_ABORT);
	assert_violation(6, false);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
}
END_TEST

START_TEST(bad_length_zero)
{
	static const uint8_t z[] = { 0x10, 0, 0, 0 };

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, z, 4), SP_ABORT);
	assert_violation(7, false);
}
END_TEST

START_TEST(bad_length_huge)
{
	static const uint8_t z[] = { 0x10, 0x01, 0x86, 0xa4 };   /* 100004 */

	start_incoming(4096, false, 10);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, z, 4), SP_ABORT);
	assert_violation(7, true);
}
END_TEST

START_TEST(bad_truncated_command)
{
	/* An SFID one octet short of its length: ESID 07, nothing forwarded. */
	struct fr f = sfid("A", 'U');

	start_incoming(4096, false, 10);
	o2h_wire_clear();
	f.b[3]--;
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, f.b, f.n - 1), SP_ABORT);
	assert_violation(7, true);
	ck_assert(!o2h_wire_has(SP_LEG_INSIDE, "H", 1));
}
END_TEST

START_TEST(bad_unknown_command)
{
	static const uint8_t z[] = { 0x10, 0, 0, 6, 'Z', 'Z' };

	start_incoming(4096, false, 10);
	/* Refused at the command octet, before the rest arrives. */
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, z, 5), SP_ABORT);
	assert_violation(1, true);
}
END_TEST

START_TEST(bad_wrong_state)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_ABORT);
	assert_violation(2, false);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
}
END_TEST

START_TEST(bad_before_ssrm)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 64, false)), SP_ABORT);
	ck_assert(o2h.ended);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
}
END_TEST

START_TEST(bad_level_4)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	s.b[5] = '4';
	ck_assert_int_eq(P(s), SP_ABORT);
	assert_violation(10, false);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert_uint_eq(o2h.ndelivered, 0);
}
END_TEST

/* OFTP 1.x cannot read the OFTP2 ESID: it gets 'F', reason 10, CR. */
START_TEST(level_1x_refused_in_its_layout)
{
	static const uint8_t legacy[] = { 0x10, 0, 0, 8, 'F', '1', '0', '\r' };
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	o2h_wire_clear();
	s.b[5] = '4';
	s.b[4 + 47] = ' ';   /* 1.x: SSIDRSV1 where OFTP2 has SSIDAUTH */
	ck_assert_int_eq(P(s), SP_ABORT);
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, sizeof(legacy));
	ck_assert(o2h_wire_has(SP_LEG_OUTSIDE, legacy, sizeof(legacy)));
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert_int_ge(o2h_security_find("OFTP 1.x sessions are not relayed"), 0);
}
END_TEST

/* RFC 5024 §5.3.2: a future level from the initiator is valid; the
 * responder answers 5, anything else from it is ESID 10. */
START_TEST(level_future_from_initiator)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false), r;

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	s.b[5] = '7';
	ck_assert_int_eq(P(s), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, s));
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 64, false)), SP_CONTINUE);
	ck_assert(!o2h.ended);
	ck_assert_int_eq(o2h_security_find(""), -1);

	o2h_reset();
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(s), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	r = ssid(I_ID, 4096, 'B', false, 64, false);
	r.b[5] = '7';
	ck_assert_int_eq(I(r), SP_ABORT);
	assert_violation(10, true);
}
END_TEST

/* Reserved fields "should" be spaces: anything else passes, unchanged,
 * and is named once per session in an oftp2_deviation line. */
START_TEST(reserved_fields_admitted)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 1, false), f, c, e;

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	memcpy(s.b + 4 + 48, "0000", 4);
	ck_assert_int_eq(P(s), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, s));
	ck_assert_int_ge(o2h_security_find("oftp2_deviation"), 0);
	ck_assert_int_ge(o2h_security_find("rule=reserved_not_spaces "
	    "field=SSIDRSV1"), 0);
	ck_assert_int_ge(o2h_security_find("code=" P_ID), 0);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 1, false)), SP_CONTINUE);
	f = sfid("A", 'U');
	memcpy(f.b + 4 + 27, "XYZ", 3);
	ck_assert_int_eq(P(f), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, f));
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(3, false)), SP_CONTINUE);
	c = simple(OFTP2_CDT);
	memcpy(c.b + 4 + 1, "00", 2);
	ck_assert_int_eq(o2h_data(SP_TO_OUTSIDE, c.b, c.n), SP_CONTINUE);
	e = efid(0, 3);
	ck_assert_int_eq(P(e), SP_CONTINUE);
	ck_assert(!o2h.ended);
	ck_assert_int_lt(o2h_security_find("oftp2_violation"), 0);
	/* One line per rule and session, not one per frame. */
	ck_assert_uint_eq(o2h.nsecurity, 1);
}
END_TEST

/* SFIDSIGN=Y with suite 00: the receiver answers an unsigned EERP when it
 * cannot sign (RFC 5024 §3.3.5 note 3), so it is valid. */
START_TEST(signed_eerp_request_without_suite)
{
	struct fr f = sfid("A", 'U');

	start_incoming(4096, false, 2);
	f.b[4 + 161] = 'Y';
	ck_assert_int_eq(P(f), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, f));
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(bad_field_characters)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	s.b[4 + 40] = 'Q';   /* SSIDSR */
	ck_assert_int_eq(P(s), SP_ABORT);
	assert_violation(6, false);
}
END_TEST

START_TEST(bad_credit_overrun)
{
	start_incoming(4096, false, 2);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(10, false)), SP_CONTINUE);
	ck_assert_int_eq(P(data(10, false)), SP_CONTINUE);
	o2h_wire_clear();
	ck_assert_int_eq(P(data(10, false)), SP_ABORT);
	assert_violation(2, true);
	ck_assert(!o2h_wire_has(SP_LEG_INSIDE, "D", 1));
}
END_TEST

START_TEST(bad_cdt_with_credit)
{
	start_incoming(4096, false, 2);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_CDT)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(bad_data_too_big)
{
	struct fr d;

	start_incoming(128, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(125, false)), SP_CONTINUE);  /* 1 + 2 + 125 = 128 */
	d = data(126, false);
	ck_assert_uint_eq(d.n - 4, 129);
	o2h_wire_clear();
	/* Refused on the STH alone. */
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, d.b, 5), SP_ABORT);
	assert_violation(7, true);
}
END_TEST

START_TEST(data_exactly_sdeb)
{
	struct fr d = data(125, false);   /* 1 + 2 headers + 125 = 128 */

	start_incoming(128, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_uint_eq(d.n - 4, 128);
	ck_assert_int_eq(P(d), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(bad_subrecord_overrun)
{
	struct fr d = data(10, false);

	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	d.b[5] = 12;   /* says 12 octets, 10 follow */
	o2h_wire_clear();
	ck_assert_int_eq(P(d), SP_ABORT);
	assert_violation(6, true);
	ck_assert(!o2h_wire_has(SP_LEG_INSIDE, "D", 1));
}
END_TEST

START_TEST(bad_compressed_without_agreement)
{
	static const uint8_t d[] = { 0x10, 0, 0, 7, 'D', 0x45, 'x' };

	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, d, sizeof(d)), SP_ABORT);
	assert_violation(6, true);
}
END_TEST

START_TEST(compressed_with_agreement)
{
	static const uint8_t d[] = { 0x10, 0, 0, 7, 'D', 0xc5, 'x' };

	start_incoming(4096, true, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, d, sizeof(d)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 5)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(bad_efid_counts)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(100, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 101)), SP_ABORT);
	assert_violation(6, true);
	ck_assert_int_ge(o2h_log_find("aborted"), 0);
}
END_TEST

static struct fr
sfidx(char fmt, unsigned lrecl, uint64_t rest, unsigned sec, unsigned ciph)
{
	struct oftp2_cmd c;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SFID;
	snprintf(c.u.sfid.dsn, sizeof(c.u.sfid.dsn), "REC");
	c.u.sfid.date = 20240315;
	c.u.sfid.time = 1430000001;
	snprintf(c.u.sfid.dest, sizeof(c.u.sfid.dest), "%s", I_ID);
	snprintf(c.u.sfid.orig, sizeof(c.u.sfid.orig), "%s", P_ID);
	c.u.sfid.format = (enum oftp2_format)fmt;
	c.u.sfid.lrecl = lrecl;
	c.u.sfid.rest = rest;
	c.u.sfid.sec = (uint8_t)sec;
	c.u.sfid.ciph = (uint8_t)ciph;
	c.u.sfid.env = sec ? OFTP2_ENV_CMS : OFTP2_ENV_NONE;
	c.u.sfid.fsiz = 1;
	return build(&c);
}

/* One DATA buffer of records: lens[i] octets each, every one with EoR. */
static struct fr
records(const unsigned *lens, size_t n)
{
	struct fr f;
	size_t o = 5, i;

	f.b[4] = 'D';
	for (i = 0; i < n; i++) {
		f.b[o++] = (uint8_t)(0x80 | lens[i]);
		memset(f.b + o, 'R', lens[i]);
		o += lens[i];
	}
	f.b[0] = 0x10;
	f.b[1] = 0;
	f.b[2] = (uint8_t)(o >> 8);
	f.b[3] = (uint8_t)o;
	f.n = o;
	return f;
}

/* RFC 5024 §5.3.3, §5.3.8: F records are SFIDLRECL long, V records not
 * longer; EFIDRCNT is the exact record count. */
START_TEST(records_checked)
{
	static const unsigned v_ok[] = { 10, 3, 0 }, v_long[] = { 10, 11 },
	    f_ok[] = { 10, 10 }, f_short[] = { 10, 9 };

	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('V', 10, 0, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(records(v_ok, 3)), SP_CONTINUE);
	ck_assert_int_eq(P(data(10, true)), SP_CONTINUE);   /* record 4 */
	ck_assert_int_eq(P(efid(4, 23)), SP_CONTINUE);
	ck_assert(!o2h.ended);

	o2h_reset();
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('V', 10, 0, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(records(v_long, 2)), SP_ABORT);
	assert_violation(6, true);
	ck_assert_int_ge(o2h_security_find("record 2 is longer than SFIDLRECL"),
	    0);
	/* No switch makes a record length tolerable. */
	ck_assert_int_ge(o2h_security_find("admit=-"), 0);

	/* A record across two buffers counts as one, with both parts. */
	o2h_reset();
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('V', 10, 0, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(6, false)), SP_CONTINUE);
	ck_assert_int_eq(P(data(5, true)), SP_ABORT);
	assert_violation(6, true);

	o2h_reset();
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('F', 10, 0, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(records(f_ok, 2)), SP_CONTINUE);
	ck_assert_int_eq(P(records(f_short, 2)), SP_ABORT);
	assert_violation(6, true);
	ck_assert_int_ge(o2h_security_find("needs exactly SFIDLRECL 10"), 0);

	o2h_reset();
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('F', 10, 0, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(records(f_ok, 2)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(3, 20)), SP_ABORT);
	assert_violation(6, true);
	ck_assert_int_ge(o2h_security_find("EFIDRCNT"), 0);

	/* Secured files travel as U: their records are not looked at. */
	o2h_reset();
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('F', 10, 0, 1, 2)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(records(f_short, 2)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(7, 19)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

/* §5.3.8: after a restart the counts are still the file's totals. */
START_TEST(counts_after_restart)
{
	struct fr si = ssid(P_ID, 4096, 'B', false, 5, false);
	struct fr sr = ssid(I_ID, 4096, 'B', false, 5, false);

	si.b[4 + 42] = 'Y';
	sr.b[4 + 42] = 'Y';
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(si), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(sr), SP_CONTINUE);
	ck_assert_int_eq(P(sfidx('U', 0, 2, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(2)), SP_CONTINUE);
	ck_assert_int_eq(P(data(100, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 100)), SP_ABORT);   /* not the total */
	assert_violation(6, true);

	o2h_reset();
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(si), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(sr), SP_CONTINUE);
	ck_assert_int_eq(P(sfidx('U', 0, 2, 0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(2)), SP_CONTINUE);
	ck_assert_int_eq(P(data(100, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 2148)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

/* SFIDCIPH: only the configured suites (default 01-06, RFC and Odette). */
START_TEST(cipher_suites_configured)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('U', 0, 0, 1, 7)), SP_ABORT);
	assert_violation(6, true);
	ck_assert_int_ge(o2h_security_find("cipher suite 07"), 0);

	o2h_reset();
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('U', 0, 0, 1, 6)), SP_CONTINUE);
	ck_assert(!o2h.ended);

	o2h_reset();
	use_config("{\"cipher_suites\": [4, 7]}");
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfidx('U', 0, 0, 1, 7)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

/* A compressed subrecord of count 0 is malformed (ESID 06). */
START_TEST(bad_compressed_count_0)
{
	static const uint8_t d[] = { 0x10, 0, 0, 8, 'D', 0x01, 'A', 0x40 };

	start_incoming(4096, true, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, d, sizeof(d)), SP_ABORT);
	assert_violation(6, true);
}
END_TEST

START_TEST(efid_counts_check_off)
{
	use_config("{\"check_efid_counts\": false}");
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(100, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 101)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(bad_efid_record_count_for_u)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(1, 0)), SP_ABORT);
	assert_violation(6, true);
}
END_TEST

START_TEST(bad_cd_ping_pong)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(simple(OFTP2_CD)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_CD)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(solicited_cd_may_be_answered)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(efpa(true)), SP_CONTINUE);
	/* After EFPA Y only CD may come. */
	ck_assert_int_eq(P(simple(OFTP2_CD)), SP_CONTINUE);
	/* Solicited: the inside may hand the turn straight back ... */
	ck_assert_int_eq(I(simple(OFTP2_CD)), SP_CONTINUE);
	/* ... and the partner, given the turn unsolicited, may end. */
	ck_assert_int_eq(P(esid(0)), SP_CONTINUE);
	ck_assert_str_eq(o2h.end_reason, "normal");
}
END_TEST

START_TEST(bad_esid00_after_solicited_cd)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(efpa(true)), SP_CONTINUE);
	/* After EFPA Y the speaker owes a CD, nothing else. */
	ck_assert_int_eq(P(sfid("B", 'U')), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(bad_esid00_by_solicited_speaker)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 0)), SP_CONTINUE);
	ck_assert_int_eq(I(efpa(true)), SP_CONTINUE);
	ck_assert_int_eq(P(simple(OFTP2_CD)), SP_CONTINUE);
	ck_assert_int_eq(I(esid(0)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(bad_esid00_without_cd)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(esid(0)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(esid_error_passes_and_ends)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(I(esid(99)), SP_CONTINUE);
	ck_assert(esid_on(SP_LEG_OUTSIDE, 99));
	/* Not "normal": the audit says who ended it and why. */
	ck_assert_str_eq(o2h.end_reason, "esid");
	ck_assert_str_eq(o2h.end_text, "ESID 99 (unspecified abort code) from the inside");
	assert_end_esid("99", "inside");
}
END_TEST

/* The inside server refuses the partner's password (changed there): the
 * ESID 04 reaches the partner and the end says so. */
START_TEST(esid_04_from_inside)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 5, false);

	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(s), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(esid(4)), SP_CONTINUE);
	ck_assert(esid_on(SP_LEG_OUTSIDE, 4));
	ck_assert_str_eq(o2h.end_reason, "esid");
	ck_assert_str_eq(o2h.end_text, "ESID 04 (invalid password) from the inside");
	assert_end_esid("04", "inside");
}
END_TEST

/* The core ends the session underneath (a leg lost, the proxy stopping):
 * whoever is left gets an ESID instead of a bare close. */
START_TEST(close_inside_lost_mid_file)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	o2h_wire_clear();
	o2h_close("inside_closed");
	ck_assert(esid_on(SP_LEG_OUTSIDE, 8));
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	assert_end_esid("08", "proxy");
	ck_assert_int_ge(o2h_log_find("session ended by the proxy (inside_closed): "
	    "ESID 08 to the partner"), 0);
	ck_assert_int_ge(o2h_log_find("aborted (session inside_closed)"), 0);
}
END_TEST

START_TEST(close_partner_lost)
{
	start_incoming(4096, false, 5);
	o2h_wire_clear();
	o2h_close("outside_closed");
	ck_assert(esid_on(SP_LEG_INSIDE, 8));
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 0);
	assert_end_esid("08", "proxy");
}
END_TEST

START_TEST(close_proxy_stopping)
{
	start_incoming(4096, false, 5);
	o2h_wire_clear();
	o2h_close("shutdown");
	ck_assert(esid_on(SP_LEG_OUTSIDE, 5));
	ck_assert(esid_on(SP_LEG_INSIDE, 5));
	assert_end_esid("05", "proxy");
}
END_TEST

/* Another module's policy speaks for itself; before the SSID went inside
 * only the partner has heard of the session. */
START_TEST(close_no_last_word)
{
	start_incoming(4096, false, 5);
	o2h_wire_clear();
	o2h_close("rejected");
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 0);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert(!o2h_notes()->has_end);
}
END_TEST

START_TEST(close_before_ssid)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	o2h_wire_clear();
	o2h_close("inside_closed");
	ck_assert(esid_on(SP_LEG_OUTSIDE, 8));
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
}
END_TEST

/* A partner that gives up before its SSID was accepted: the inside leg is
 * not opened for its ESID. */
START_TEST(esid_before_ssid_stays)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(esid(5)), SP_CONTINUE);
	ck_assert(o2h.ended);
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert_uint_eq(o2h.forwards[SP_LEG_INSIDE], 0);
}
END_TEST

START_TEST(bad_sfpa_count)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(5)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(bad_negotiation)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 10, false)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	/* The responder's credit exceeds the offer: ESID 10 to both. */
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 11, false)), SP_ABORT);
	assert_violation(10, true);
	ck_assert(!o2h_wire_has(SP_LEG_OUTSIDE, "X5", 2));
}
END_TEST

START_TEST(bad_auth_mismatch)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 10, true)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 10, false)), SP_ABORT);
	assert_violation(12, true);
}
END_TEST

START_TEST(bad_inside_without_ssrm)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 10, false)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 10, false)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(secure_authentication)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 10, true)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 10, true)), SP_CONTINUE);
	ck_assert_int_eq(P(simple(OFTP2_SECD)), SP_CONTINUE);
	ck_assert_int_eq(I(auch()), SP_CONTINUE);
	ck_assert_int_eq(P(aurp()), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SECD)), SP_CONTINUE);
	ck_assert_int_eq(P(auch()), SP_CONTINUE);
	ck_assert_int_eq(I(aurp()), SP_CONTINUE);
	/* Then the initiator speaks. */
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(bad_auth_order)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'B', false, 10, true)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 10, true)), SP_CONTINUE);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(bad_mode_refuses_file)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(ssid(P_ID, 4096, 'R', false, 10, false)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'S', false, 10, false)), SP_CONTINUE);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(timeouts_follow_revision_limits)
{
	/* Not set in the section: the revision's limits (host->limits) rule. */
	o2h.limits.ssid_timeout_ms = 1500;
	o2h.limits.idle_timeout_ms = 7000;
	o2h.limits.session_max_ms = 90000;
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_uint_eq(o2h.timer_delay[T_SSID], 1500);
	ck_assert_uint_eq(o2h.timer_delay[T_IDLE], 7000);
	ck_assert_uint_eq(o2h.timer_delay[T_SESSION], 90000);
	o2h_reset();
	/* Set in the section: the section wins; a limit below 100 ms is
	 * taken for none. */
	use_config("{\"ssid_timeout_ms\": 1000}");
	o2h.limits.ssid_timeout_ms = 1500;
	o2h.limits.idle_timeout_ms = 50;
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_uint_eq(o2h.timer_delay[T_SSID], 1000);
	ck_assert_uint_eq(o2h.timer_delay[T_IDLE], 300000);
}
END_TEST

START_TEST(timeout_ssid)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	use_config("{\"ssid_timeout_ms\": 1000}");
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_uint_eq(o2h.timer_delay[T_SSID], 1000);
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, s.b, 3), SP_CONTINUE);
	ck_assert_int_eq(o2h_timer(T_SSID), SP_ABORT);
	ck_assert(esid_on(SP_LEG_OUTSIDE, 9));
	ck_assert_uint_eq(o2h.wire[SP_LEG_INSIDE].n, 0);
	ck_assert_str_eq(o2h.end_reason, "timeout");
	ck_assert_int_ge(o2h_security_find("oftp2_timeout"), 0);
}
END_TEST

START_TEST(timeout_idle_both_sides)
{
	start_incoming(4096, false, 5);
	ck_assert(o2h.timer_armed[T_IDLE]);
	ck_assert_int_eq(o2h_timer(T_IDLE), SP_ABORT);
	ck_assert(esid_on(SP_LEG_OUTSIDE, 9));
	ck_assert(esid_on(SP_LEG_INSIDE, 9));
}
END_TEST

START_TEST(timeout_session)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(o2h_timer(T_SESSION), SP_ABORT);
	ck_assert(esid_on(SP_LEG_INSIDE, 9));
}
END_TEST

/* Incoming session up to IDLE with the partner's SSID as given. */
static void
start_with(struct fr pssid, unsigned credit)
{
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(pssid), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 128, 'B', false, credit, false)),
	    SP_CONTINUE);
	ck_assert(!o2h.ended);
}

#define PARTNER_SWITCH(k) "{\"partners\": [{\"odette_id\": \"" P_ID "\", " \
	"\"" k "\": true}]}"

/* tolerate_lf_trailer: an LF where the CR belongs, only when switched on
 * for the partner, and named. */
START_TEST(switch_lf_trailer)
{
	struct fr s = ssid(P_ID, 128, 'B', false, 5, false);

	s.b[s.n - 1] = '\n';
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(s), SP_ABORT);
	assert_violation(6, false);
	/* diagnose reads whose it was and what would admit it */
	ck_assert_int_ge(o2h_security_find("code=" P_ID
	    " admit=tolerate_lf_trailer"), 0);

	o2h_reset();
	use_config(PARTNER_SWITCH("tolerate_lf_trailer"));
	start_with(s, 5);
	/* The inside gets the CR it expects: the quirk stays outside. */
	ck_assert(!wire_has(SP_LEG_INSIDE, s));
	s.b[s.n - 1] = '\r';
	ck_assert(wire_has(SP_LEG_INSIDE, s));
	ck_assert_int_ge(o2h_security_find("code=" P_ID " rule=lf_trailer "
	    "field=SSIDCR"), 0);
}
END_TEST

/* A DATA buffer of 128 + n octets whose excess is zero padding. */
static struct fr
padded_data(size_t over, uint8_t pad)
{
	struct fr f = data(120, true);   /* 4 + 1 + 2 headers + 120 = 127 */
	size_t o = f.n;

	while (o < 4 + 128 + over)
		f.b[o++] = 0;
	f.b[o - 1] = pad;
	f.b[1] = 0;
	f.b[2] = (uint8_t)(o >> 8);
	f.b[3] = (uint8_t)o;
	f.n = o;
	return f;
}

/* tolerate_data_padding: a few zero octets over SSIDSDEB after the last
 * subrecord; never more than OFTP2_DATA_PAD_MAX, never anything but zero. */
START_TEST(switch_data_padding)
{
	struct fr s = ssid(P_ID, 128, 'B', false, 5, false);

	start_with(s, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(padded_data(4, 0)), SP_ABORT);
	assert_violation(7, true);
	ck_assert_int_ge(o2h_security_find("admit=tolerate_data_padding"), 0);

	o2h_reset();
	use_config(PARTNER_SWITCH("tolerate_data_padding"));
	start_with(s, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(padded_data(4, 0)), SP_CONTINUE);
	ck_assert_int_ge(o2h_security_find("rule=data_padding"), 0);
	ck_assert_int_eq(P(padded_data(OFTP2_DATA_PAD_MAX, 0)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 240)), SP_CONTINUE);
	ck_assert(!o2h.ended);

	o2h_reset();
	start_with(s, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(padded_data(OFTP2_DATA_PAD_MAX + 1, 0)), SP_ABORT);
	assert_violation(7, true);

	o2h_reset();
	start_with(s, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(padded_data(4, 0x01)), SP_ABORT);
	assert_violation(7, true);
}
END_TEST

/* tolerate_esid_early: ESID 00 from the speaker right after its EFID. */
START_TEST(switch_esid_early)
{
	struct fr s = ssid(P_ID, 128, 'B', false, 5, false);

	start_with(s, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(3, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 3)), SP_CONTINUE);
	ck_assert_int_eq(P(esid(0)), SP_ABORT);
	assert_violation(2, true);
	ck_assert_int_ge(o2h_security_find("admit=tolerate_esid_early"), 0);

	o2h_reset();
	use_config(PARTNER_SWITCH("tolerate_esid_early"));
	start_with(s, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(3, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 3)), SP_CONTINUE);
	ck_assert_int_eq(P(esid(0)), SP_CONTINUE);
	ck_assert(o2h.ended);
	ck_assert_str_eq(o2h.end_reason, "normal");
	ck_assert(wire_has(SP_LEG_INSIDE, esid(0)));
	ck_assert_int_ge(o2h_security_find("rule=esid_early"), 0);
}
END_TEST

/* Existing switches name what they admit too. */
START_TEST(switches_named)
{
	struct fr s = ssid(P_ID, 128, 'S', false, 5, false), f;

	use_config("{\"partners\": [{\"odette_id\": \"" P_ID "\", "
	    "\"tolerate_sr_any\": true, \"tolerate_time_counter0\": true, "
	    "\"tolerate_lowercase\": true}]}");
	memcpy(s.b + 4 + 52, "user", 4);
	start_with(s, 5);
	ck_assert_int_ge(o2h_security_find("rule=sr_any"), 0);
	ck_assert_int_ge(o2h_security_find("rule=lowercase field=SSIDUSER"), 0);
	f = sfid("A", 'U');
	memcpy(f.b + 4 + 44, "0000", 4);
	ck_assert_int_eq(P(f), SP_CONTINUE);
	ck_assert_int_ge(o2h_security_find("rule=time_counter0 field=SFIDTIME"),
	    0);
	ck_assert(!o2h.ended);
}
END_TEST

/* detect for one partner: what would be refused is logged, not refused;
 * another partner is still enforced. */
START_TEST(detect_per_partner)
{
	struct fr s = ssid(P_ID, 128, 'B', false, 5, false), o;

	use_config("{\"partners\": [{\"odette_id\": \"" P_ID "\", "
	    "\"detect\": true}]}");
	start_with(s, 5);
	ck_assert_int_eq(P(sfpa(0)), SP_CONTINUE);
	ck_assert(!o2h.ended);
	ck_assert_int_ge(o2h_security_find("detect mode: let through"), 0);
	ck_assert(wire_has(SP_LEG_INSIDE, sfpa(0)));

	o2h_reset();
	o = ssid("O0013000000OTHER", 128, 'B', false, 5, false);
	start_with(o, 5);
	ck_assert_int_eq(P(sfpa(0)), SP_ABORT);
	assert_violation(2, true);
}
END_TEST

START_TEST(detect_mode_lets_through)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	o2h_fini();
	ck_assert_int_eq(o2h_init(MOD, SP_MODE_DETECT), 0);
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	s.b[5] = '4';
	ck_assert_int_eq(P(s), SP_CONTINUE);
	ck_assert(!o2h.ended);
	ck_assert(wire_has(SP_LEG_INSIDE, s));
	ck_assert_int_ge(o2h_security_find("detect mode"), 0);
	/* From now on every octet passes as it is. */
	ck_assert_int_eq(o2h_data(SP_TO_INSIDE, "garbage", 7), SP_CONTINUE);
	ck_assert(o2h_wire_has(SP_LEG_INSIDE, "garbage", 7));
	ck_assert_int_eq(o2h_data(SP_TO_OUTSIDE, "back", 4), SP_CONTINUE);
	ck_assert(o2h_wire_has(SP_LEG_OUTSIDE, "back", 4));
	ck_assert_int_eq(o2h_timer(T_IDLE), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(tolerance_missing_cr)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false);

	s.n--;
	s.b[3]--;
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(s), SP_ABORT);
	assert_violation(7, false);
}
END_TEST

START_TEST(tolerance_missing_cr_partner)
{
	struct fr s = ssid(P_ID, 4096, 'B', false, 64, false), o;

	use_config("{\"partners\": [{\"odette_id\": \"" P_ID "\", "
	    "\"tolerate_missing_cr\": true}]}");
	s.n--;
	s.b[3]--;
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(s), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, s));
	/* Another partner's code gets no such tolerance. */
	o2h_reset();
	o = ssid("O0013000000OTHER", 4096, 'B', false, 64, false);
	o.n--;
	o.b[3]--;
	ck_assert_int_eq(o2h_open(0), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(o), SP_ABORT);
}
END_TEST

START_TEST(tolerance_bare_cdt_global)
{
	static const uint8_t cdt[] = { 0x10, 0, 0, 5, 'C' };

	use_config("{\"tolerate_bare_cdt\": true}");
	start_incoming(4096, false, 1);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(3, false)), SP_CONTINUE);
	ck_assert_int_eq(o2h_data(SP_TO_OUTSIDE, cdt, sizeof(cdt)), SP_CONTINUE);
	ck_assert_int_eq(P(data(3, true)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(tolerance_efid_no_credit)
{
	use_config("{\"tolerate_efid_no_credit\": true}");
	start_incoming(4096, false, 1);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	ck_assert_int_eq(I(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(P(data(3, true)), SP_CONTINUE);
	ck_assert_int_eq(P(efid(0, 3)), SP_CONTINUE);
	ck_assert_int_eq(I(simple(OFTP2_CDT)), SP_CONTINUE);   /* crossing */
	ck_assert_int_eq(I(efpa(false)), SP_CONTINUE);
	ck_assert(!o2h.ended);
}
END_TEST

START_TEST(outgoing_role)
{
	struct fr is = ssid(I_ID, 4096, 'B', false, 20, false);
	struct fr ps = ssid(P_ID, 2048, 'B', false, 10, false);

	o2h_fact_set("route.partner", P_ID);
	ck_assert_int_eq(o2h_open(1), SP_CONTINUE);
	ck_assert(!o2h.timer_armed[T_SSRM]);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	/* The inside (initiator) gets the proxy's SSRM. */
	ck_assert(wire_has(SP_LEG_INSIDE, simple(OFTP2_SSRM)));
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 0);
	/* Its SSID waits for the partner's SSRM. */
	ck_assert_int_eq(I(is), SP_CONTINUE);
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 0);
	ck_assert_int_eq(P(simple(OFTP2_SSRM)), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_OUTSIDE, is));
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, is.n);
	ck_assert_int_eq(P(ps), SP_CONTINUE);
	ck_assert(wire_has(SP_LEG_INSIDE, ps));
	/* The inside speaks first: a file to the partner. */
	ck_assert_int_eq(I(sfid("OUT", 'T')), SP_CONTINUE);
	ck_assert_int_eq(P(sfpa(0)), SP_CONTINUE);
	ck_assert_int_eq(I(data(10, true)), SP_CONTINUE);
	ck_assert_int_eq(I(efid(0, 10)), SP_CONTINUE);
	ck_assert_int_eq(P(efpa(false)), SP_CONTINUE);
	ck_assert_int_ge(o2h_log_find("file 'OUT' inside -> partner, format T, 10 octets"), 0);
	ck_assert_int_eq(I(simple(OFTP2_CD)), SP_CONTINUE);
	ck_assert_int_eq(P(esid(0)), SP_CONTINUE);
	ck_assert_str_eq(o2h.end_reason, "normal");
	ck_assert_int_eq(o2h.delivered[0], 'X');
	ck_assert_int_eq(o2h.delivered_dir[0], SP_TO_OUTSIDE);
	ck_assert_int_eq(o2h.delivered_dir[1], SP_TO_INSIDE);
}
END_TEST

START_TEST(outgoing_partner_refused)
{
	o2h.answer = SP_REJECT;
	o2h.answer_type = 'X';
	ck_assert_int_eq(o2h_open(1), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(P(simple(OFTP2_SSRM)), SP_CONTINUE);
	/* Even the inside's own SSID is the chain's to refuse. */
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 20, false)), SP_REJECT);
	ck_assert(esid_on(SP_LEG_INSIDE, 3));
	ck_assert(esid_on(SP_LEG_OUTSIDE, 3));
}
END_TEST

/* Outgoing: the partner never greets; the inside's SSID waits, then ESID 09. */
START_TEST(outgoing_partner_silent)
{
	ck_assert_int_eq(o2h_open(1), SP_CONTINUE);
	ck_assert_int_eq(o2h_tls(), SP_CONTINUE);
	ck_assert_int_eq(I(ssid(I_ID, 4096, 'B', false, 20, false)), SP_CONTINUE);
	ck_assert(o2h.timer_armed[T_SSID]);
	ck_assert_uint_eq(o2h.wire[SP_LEG_OUTSIDE].n, 0);
	ck_assert_int_eq(o2h_timer(T_SSID), SP_ABORT);
	ck_assert(esid_on(SP_LEG_INSIDE, 9));
	ck_assert(esid_on(SP_LEG_OUTSIDE, 9));
	ck_assert(!o2h_wire_has(SP_LEG_OUTSIDE, "X5", 2));
}
END_TEST

START_TEST(config_errors)
{
	static const char *const bad[] = {
		"{\"ssid_timeout_ms\": 5}",
		"{\"ssid_timeout_ms\": \"1000\"}",
		"{\"tolerate_lowercas\": true}",
		"{\"tolerate_lowercase\": 1}",
		"{\"partners\": {}}",
		"{\"partners\": [{\"tolerate_bare_cdt\": true}]}",
		"{\"partners\": [{\"odette_id\": \"acme\"}]}",
		"{\"partners\": [{\"odette_id\": \"A\"}, {\"odette_id\": \"A\"}]}",
		"[1]",
		"{",
		"{\"cipher_suites\": [0]}",
		"{\"cipher_suites\": [100]}",
		"{\"cipher_suites\": 4}",
		"{\"cipher_suites\": [\"04\"]}",
		"{\"tolerate_lf_trailr\": true}",
		"{\"detect\": true}",
		"{\"partners\": [{\"odette_id\": \"A\", \"detect\": 1}]}",
		"{\"partners\": [{\"odette_id\": \"A\", \"cipher_suites\": [1]}]}",
	};
	char err[256];
	void *cfg;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = NULL;
		err[0] = '\0';
		ck_assert_msg(MOD->config_parse(o2h.mctx, bad[i], &cfg, err,
		    sizeof(err)) != 0, "accepted: %s", bad[i]);
		ck_assert_msg(strncmp(err, "modules.oftp2", 13) == 0, "%s", err);
	}
	cfg = NULL;
	ck_assert_int_eq(MOD->config_parse(o2h.mctx, "null", &cfg, err, sizeof(err)), 0);
	MOD->config_free(o2h.mctx, cfg);
	ck_assert_int_eq(MOD->config_parse(o2h.mctx, "{\"idle_timeout_ms\": 2000, "
	    "\"session_max_ms\": 5000, \"tolerate_lowercase\": true, \"partners\": "
	    "[{\"odette_id\": \"O0013\", \"tolerate_lowercase\": false, "
	    "\"check_efid_counts\": false}]}", &cfg, err, sizeof(err)), 0);
	MOD->config_free(o2h.mctx, cfg);
	ck_assert_int_eq(MOD->config_parse(o2h.mctx, "{\"cipher_suites\": [], "
	    "\"tolerate_lf_trailer\": true, \"tolerate_data_padding\": false, "
	    "\"partners\": [{\"odette_id\": \"A\", \"detect\": true, "
	    "\"tolerate_esid_early\": true}]}", &cfg, err, sizeof(err)), 0);
	MOD->config_free(o2h.mctx, cfg);
}
END_TEST

START_TEST(init_refuses_options)
{
	static const char *const opts[] = { "max", "1", NULL };
	struct sp_module_args args = { .name = "oftp2", .mode = SP_MODE_ENFORCE,
		.options = opts };
	void *m = NULL;

	ck_assert_int_ne(MOD->init(&sp_chain_host, &args, &m), 0);
	ck_assert_ptr_null(m);
	ck_assert_uint_eq(MOD->flags & SP_MODULE_F_GATES_INSIDE, SP_MODULE_F_GATES_INSIDE);
}
END_TEST

/* The session may end underneath a host call (the core calls on_close from
 * inside host->end); the module must not touch freed memory after it. */
START_TEST(close_inside_call)
{
	start_incoming(4096, false, 5);
	ck_assert_int_eq(P(sfid("A", 'U')), SP_CONTINUE);
	o2h_close("inside_closed");
	ck_assert_int_ge(o2h_log_find("aborted (session inside_closed)"), 0);
	ck_assert_int_eq(P(sfpa(0)), SP_CONTINUE);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("oftp2_module");
	TCase *t = tcase_create("module");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, greet_plain_by_timer);
	tcase_add_test(t, session_whole_frames);
	tcase_add_test(t, session_one_octet_at_a_time);
	tcase_add_test(t, coalesced_forward);
	tcase_add_test(t, chain_holds_ssid);
	tcase_add_test(t, esid_04_from_inside);
	tcase_add_test(t, close_inside_lost_mid_file);
	tcase_add_test(t, close_partner_lost);
	tcase_add_test(t, close_proxy_stopping);
	tcase_add_test(t, close_no_last_word);
	tcase_add_test(t, close_before_ssid);
	tcase_add_test(t, chain_rejects_ssid);
	tcase_add_test(t, chain_rejects_held_ssid_default_03);
	tcase_add_test(t, chain_holds_data);
	tcase_add_test(t, bad_sth_version);
	tcase_add_test(t, bad_length_zero);
	tcase_add_test(t, bad_length_huge);
	tcase_add_test(t, bad_truncated_command);
	tcase_add_test(t, bad_unknown_command);
	tcase_add_test(t, bad_wrong_state);
	tcase_add_test(t, bad_before_ssrm);
	tcase_add_test(t, bad_level_4);
	tcase_add_test(t, level_1x_refused_in_its_layout);
	tcase_add_test(t, level_future_from_initiator);
	tcase_add_test(t, reserved_fields_admitted);
	tcase_add_test(t, signed_eerp_request_without_suite);
	tcase_add_test(t, bad_field_characters);
	tcase_add_test(t, bad_credit_overrun);
	tcase_add_test(t, bad_cdt_with_credit);
	tcase_add_test(t, bad_data_too_big);
	tcase_add_test(t, data_exactly_sdeb);
	tcase_add_test(t, bad_subrecord_overrun);
	tcase_add_test(t, bad_compressed_without_agreement);
	tcase_add_test(t, compressed_with_agreement);
	tcase_add_test(t, bad_efid_counts);
	tcase_add_test(t, efid_counts_check_off);
	tcase_add_test(t, records_checked);
	tcase_add_test(t, counts_after_restart);
	tcase_add_test(t, cipher_suites_configured);
	tcase_add_test(t, bad_compressed_count_0);
	tcase_add_test(t, bad_efid_record_count_for_u);
	tcase_add_test(t, bad_cd_ping_pong);
	tcase_add_test(t, solicited_cd_may_be_answered);
	tcase_add_test(t, bad_esid00_without_cd);
	tcase_add_test(t, bad_esid00_after_solicited_cd);
	tcase_add_test(t, bad_esid00_by_solicited_speaker);
	tcase_add_test(t, esid_error_passes_and_ends);
	tcase_add_test(t, esid_before_ssid_stays);
	tcase_add_test(t, bad_sfpa_count);
	tcase_add_test(t, bad_negotiation);
	tcase_add_test(t, bad_auth_mismatch);
	tcase_add_test(t, bad_inside_without_ssrm);
	tcase_add_test(t, secure_authentication);
	tcase_add_test(t, bad_auth_order);
	tcase_add_test(t, bad_mode_refuses_file);
	tcase_add_test(t, timeout_ssid);
	tcase_add_test(t, timeouts_follow_revision_limits);
	tcase_add_test(t, timeout_idle_both_sides);
	tcase_add_test(t, timeout_session);
	tcase_add_test(t, detect_mode_lets_through);
	tcase_add_test(t, switch_lf_trailer);
	tcase_add_test(t, switch_data_padding);
	tcase_add_test(t, switch_esid_early);
	tcase_add_test(t, switches_named);
	tcase_add_test(t, detect_per_partner);
	tcase_add_test(t, tolerance_missing_cr);
	tcase_add_test(t, tolerance_missing_cr_partner);
	tcase_add_test(t, tolerance_bare_cdt_global);
	tcase_add_test(t, tolerance_efid_no_credit);
	tcase_add_test(t, outgoing_role);
	tcase_add_test(t, outgoing_partner_refused);
	tcase_add_test(t, outgoing_partner_silent);
	tcase_add_test(t, config_errors);
	tcase_add_test(t, init_refuses_options);
	tcase_add_test(t, close_inside_call);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
