/*
 * stream.c - the OFTP2 module's data path: STH reassembly per direction,
 * one frame at a time through the codec and the state machine, delivery to
 * the later modules, and forwarding of what is complete and valid.
 *
 * Frames that arrive whole inside one on_data call are checked where they
 * lie and forwarded without a copy; consecutive valid frames of one call go
 * on in one host->forward. Only a frame cut by the end of a read is copied
 * into the side's buffer, and only the octets it still needs are added to
 * it, so memory is one frame per direction (bounded early: an unknown
 * command, a length beyond what the command or the negotiated buffer size
 * allows, or a command the state forbids is refused as soon as its first
 * octets are seen, not after it was buffered whole).
 *
 * Delivery: each parsed command goes to the later modules before it is
 * forwarded. When one of them holds (SP_HOLD), the frame is copied into
 * struct o2_held (the message and its parsed form point there until
 * on_delivered) and both directions pause: their bytes are buffered and
 * on_data answers SP_HOLD, which stops the core reading.
 */
#include "o2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

enum h_res { H_OK, H_PAUSED, H_STOP };

/* Valid frames waiting for one host->forward: a contiguous span. */
struct span {
	const uint8_t *p;
	size_t n;
	enum sp_dir dir;
};

struct run {
	struct o2_sess *s;
	enum o2_side side;
	struct span fw;
	enum sp_verdict verdict;     /* what on_data answers after H_STOP */
};

static const struct sp_host *
host(const struct o2_sess *s)
{
	return s->mod->host;
}

static bool
flush_fw(struct run *r)
{
	struct o2_sess *s = r->s;
	int rc;

	if (r->fw.n == 0)
		return !s->dead;
	rc = host(s)->forward(s->ms, r->fw.dir, r->fw.p, r->fw.n);
	r->fw.n = 0;
	if (rc != 0 || s->closed) {
		s->dead = true;
		return false;
	}
	return true;
}

static bool
forward(struct run *r, enum sp_dir dir, const uint8_t *p, size_t n)
{
	if (r->fw.n > 0 && (r->fw.p + r->fw.n != p || r->fw.dir != dir) &&
	    !flush_fw(r))
		return false;
	if (r->fw.n == 0) {
		r->fw.p = p;
		r->fw.dir = dir;
	}
	r->fw.n += n;
	return true;
}

/* Send the held initiator SSID to the responder (its leg opens now). */
static bool
pass_held_ssid(struct run *r)
{
	struct o2_sess *s = r->s;
	int rc;

	if (!flush_fw(r))
		return false;
	s->leg_up[s->rsp] = true;
	s->phase = PH_SSID_R;
	rc = host(s)->forward(s->ms, o2_dir(s->ini), s->held.raw, s->held.raw_len);
	free(s->held.raw);
	s->held.raw = NULL;
	s->have_held = false;
	if (rc != 0 || s->closed) {
		s->dead = true;
		return false;
	}
	host(s)->timer_set(s->ms, O2_T_SSID, s->ssid_ms);
	return true;
}

/* Keep a copy of a frame in s->held, re-parsed so the message points there. */
static int
hold_copy(struct o2_sess *s, enum o2_side from, const uint8_t *fr, size_t len,
    enum o2_act act)
{
	uint8_t *copy;

	if (s->held.raw != NULL && s->held.raw == fr)
		return 0;
	if ((copy = malloc(len)) == NULL)
		return SP_ERR_NOMEM;
	memcpy(copy, fr, len);
	/* An SSID admitted with an LF trailer goes on with the CR the other
	 * side expects: same length, so the STH stays; the quirk is the
	 * partner's, the inside need not share it. */
	if (len == OFTP2_STH_LEN + 61 && copy[OFTP2_STH_LEN] == OFTP2_SSID &&
	    copy[len - 1] == 0x0a && (s->tol & OFTP2_TOL_LF_TRAILER))
		copy[len - 1] = OFTP2_CR;
	free(s->held.raw);
	s->held.raw = copy;
	s->held.raw_len = len;
	s->held.from = from;
	s->held.act = act;
	s->have_held = true;
	/* Same bytes, same tolerances: the parse cannot fail the second time. */
	if (oftp2_parse(copy + OFTP2_STH_LEN, len - OFTP2_STH_LEN, s->tol,
	    &s->held.cmd, NULL) != 0)
		return SP_ERR_INVALID;
	s->held.msg.raw = copy;
	s->held.msg.raw_len = len;
	s->held.msg.parsed = &s->held.cmd;
	return 0;
}

/* A later module refused the message (verdict v). */
static enum sp_verdict
refused(struct o2_sess *s, enum o2_side from, int code, enum sp_verdict v)
{
	unsigned f = host(s)->refusal_get(s->ms);
	unsigned reason = code == OFTP2_SSID ? OFTP2_ESID_USER_UNKNOWN :
	    OFTP2_ESID_UNSPECIFIED;
	char text[160];

	if (v == SP_FAIL)
		reason = OFTP2_ESID_NO_RESOURCES;
	if (f != 0 && oftp2_esid_text(f) != NULL)
		reason = f;
	snprintf(text, sizeof(text), "%s from the %s refused by a later module: "
	    "ESID %02u", oftp2_cmd_name((uint8_t)code), o2_side_name(from), reason);
	host(s)->log(s->ms, SP_LEVEL_INFO, "%s", text);
	if (s->file.active)
		o2_log_file(s, "refused");
	o2_note_end(s, reason, "proxy");
	o2_send_esid(s, from, reason);
	o2_send_esid(s, o2_other(from), reason);
	s->phase = PH_END;
	s->dead = true;
	host(s)->end(s->ms, "rejected", text);
	return v == SP_ABORT ? SP_ABORT : SP_REJECT;
}

/*
 * What to do once the chain accepted a frame (now, or in on_delivered).
 * `fr` is the frame; `in_span` says it may join the forward span.
 */
static enum h_res
accepted(struct run *r, enum o2_side from, const uint8_t *fr, size_t len,
    enum o2_act act)
{
	struct o2_sess *s = r->s;

	switch (act) {
	case A_SWALLOW:
		return H_OK;
	case A_HOLD_SSID:
		if (hold_copy(s, from, fr, len, act) != 0) {
			s->dead = true;
			host(s)->end(s->ms, "module_failure", "oftp2: out of memory");
			r->verdict = SP_FAIL;
			return H_STOP;
		}
		/* Incoming: the inside leg opens with this SSID and its SSRM
		 * follows. Outgoing: the partner's SSRM must be in first. */
		if ((!s->outgoing || s->rsp_ready) && !pass_held_ssid(r))
			return H_STOP;
		return H_OK;
	case A_FORWARD:
		s->leg_up[o2_other(from)] = true;
		return forward(r, o2_dir(from), fr, len) ? H_OK : H_STOP;
	case A_END:
		/* An ESID before the initiator's SSID went on stays here: the
		 * other side never heard of the session (and an incoming
		 * session's inside leg is not opened for it). */
		if (s->leg_up[o2_other(from)] &&
		    (!forward(r, o2_dir(from), fr, len) || !flush_fw(r)))
			return H_STOP;
		s->dead = true;
		/* Say who ended it and why: an ESID 04 from the inside (a password
		 * changed there) is no normal end. */
		o2_note_end(s, s->end_reason, o2_side_who(from));
		if (s->end_reason == OFTP2_ESID_NORMAL) {
			host(s)->end(s->ms, "normal", "ESID exchanged");
		} else {
			char text[160];
			const char *why = oftp2_esid_text(s->end_reason);
			snprintf(text, sizeof(text), "ESID %02u (%s) from the %s",
			    s->end_reason, why != NULL ? why : "unknown reason",
			    o2_side_who(from));
			host(s)->end(s->ms, "esid", text);
		}
		r->verdict = SP_CONTINUE;
		return H_STOP;
	}
	return H_OK;
}

/* The INFO line of a file when its answer passes. */
static void
file_result(struct o2_sess *s, const struct oftp2_cmd *cmd)
{
	char res[16];

	if (!s->file.active)
		return;
	switch (cmd->code) {
	case OFTP2_SFNA:
		snprintf(res, sizeof(res), "SFNA %02u", cmd->u.sfna.reason);
		break;
	case OFTP2_EFNA:
		snprintf(res, sizeof(res), "EFNA %02u", cmd->u.efna.reason);
		break;
	case OFTP2_EFPA:
		snprintf(res, sizeof(res), "EFPA");
		break;
	default:
		return;
	}
	o2_log_file(s, res);
	s->file.active = false;
}

/* Parse, check, deliver and forward one complete frame. */
static enum h_res
handle(struct run *r, const uint8_t *fr, size_t len)
{
	struct o2_sess *s = r->s;
	enum o2_side from = r->side;
	const uint8_t *oeb = fr + OFTP2_STH_LEN;
	size_t oeb_len = len - OFTP2_STH_LEN;
	struct oftp2_cmd cmd, *pc = &cmd;
	struct oftp2_err err;
	struct oftp2_dev dev;
	enum o2_act act;
	enum sp_verdict v;
	bool check;
	int rc;

	memset(&err, 0, sizeof(err));
	/* The partner's SSID names the partner: its tolerances apply from it
	 * on, the SSID included. A lenient parse finds the code first. */
	if (from == O2_OUT && oeb[0] == OFTP2_SSID && !s->tol_final &&
	    s->cfg->npartners > 0 &&
	    oftp2_parse(oeb, oeb_len, ~0u, &cmd, NULL) == 0) {
		s->tol = o2_config_tol(s->cfg, cmd.u.ssid.code, &check,
		    &s->detect);
		s->check_counts = check;
		s->tol_final = true;
	}
	s->state_dev = 0;
	rc = o2_state_legacy(s, from, oeb, oeb_len, &err);
	if (rc == 0)
		rc = oftp2_parse_dev(oeb, oeb_len, s->tol, &cmd, &err, &dev);
	if (rc == 0)
		rc = o2_state_apply(s, from, &cmd, oeb, oeb_len, &act, &err);
	if (rc != 0) {
		if (!flush_fw(r))
			return H_STOP;
		if (err.esid == 0)
			err.esid = OFTP2_ESID_INVALID_DATA;
		s->admit = o2_admit(s, from, oeb, oeb_len, &err);
		/* A refused SSID still names its partner, if a lenient parse
		 * finds the code: diagnose needs to know whose it was. */
		if (from == O2_OUT && oeb[0] == OFTP2_SSID &&
		    !s->ssid_seen[O2_OUT] &&
		    oftp2_parse(oeb, oeb_len, ~0u, &cmd, NULL) == 0)
			host(s)->fact_set(s->ms, "oftp2.partner_code",
			    cmd.u.ssid.code);
		r->verdict = o2_violation(s, (int)from, &err);
		return H_STOP;
	}
	s->frames[from]++;
	dev.bits |= s->state_dev;
	if (fr[0] != OFTP2_STH_OCTET0)
		dev.bits |= OFTP2_TOL_STH_OCTET0;
	if (dev.bits != 0)
		o2_deviations(s, from, &dev);
	if (cmd.code != OFTP2_DATA && cmd.code != OFTP2_CDT)
		o2_log_cmd(s, from, &cmd);
	if (cmd.code == OFTP2_EERP || cmd.code == OFTP2_NERP)
		host(s)->log(s->ms, SP_LEVEL_INFO, "end-to-end response '%s' %s -> %s: "
		    "%s", cmd.code == OFTP2_EERP ? cmd.u.eerp.dsn : cmd.u.nerp.dsn,
		    o2_side_name(from), o2_side_name(o2_other(from)),
		    cmd.code == OFTP2_EERP ? "EERP" : "NERP");
	if (cmd.code == OFTP2_SSID && from == s->ini)   /* now the responder's */
		host(s)->timer_set(s->ms, O2_T_SSID, s->ssid_ms);
	if (cmd.code == OFTP2_SSID && from == s->rsp) {
		host(s)->timer_cancel(s->ms, O2_T_SSID);
		host(s)->log(s->ms, SP_LEVEL_INFO, "session parameters: buffer %u, "
		    "credit %u, compression %c, restart %c, secure authentication "
		    "%c, modes %c/%c", (unsigned)s->params.sdeb,
		    (unsigned)s->params.credit, s->params.compression ? 'Y' : 'N',
		    s->params.restart ? 'Y' : 'N', s->params.auth ? 'Y' : 'N',
		    (char)s->params.initiator_mode, (char)s->params.responder_mode);
	}
	if (cmd.code == OFTP2_SSID && from == O2_OUT)
		host(s)->fact_set(s->ms, "oftp2.partner_code", cmd.u.ssid.code);
	if (cmd.code == OFTP2_ESID)
		s->end_reason = cmd.u.esid.reason;
	if (act == A_SWALLOW) {
		/* The responder's SSRM is answered by the proxy's own: the
		 * initiator's SSID may now go on if it waited for it. */
		if (s->phase == PH_SSID_HELD && s->have_held && !s->paused &&
		    !pass_held_ssid(r))
			return H_STOP;
		return H_OK;
	}

	/* The initiator's SSID always waits in s->held, for the chain and
	 * (outgoing) for the responder's SSRM. */
	if (act == A_HOLD_SSID) {
		if (hold_copy(s, from, fr, len, act) != 0) {
			s->dead = true;
			host(s)->end(s->ms, "module_failure", "oftp2: out of memory");
			r->verdict = SP_FAIL;
			return H_STOP;
		}
		pc = &s->held.cmd;
		fr = s->held.raw;
	}
	s->held.msg.protocol = "oftp2";
	s->held.msg.type = (int)cmd.code;
	s->held.msg.parsed = pc;
	s->held.msg.parsed_version = SP_OFTP2_H_VERSION;
	s->held.msg.raw = fr;
	s->held.msg.raw_len = len;
	s->held.msg.dir = o2_dir(from);
	v = host(s)->deliver(s->ms, &s->held.msg, ++s->cookie);
	if (s->closed) {
		s->dead = true;
		r->verdict = SP_ABORT;
		return H_STOP;
	}
	if (v == SP_HOLD) {
		if (!flush_fw(r))
			return H_STOP;
		if (act != A_HOLD_SSID && hold_copy(s, from, fr, len, act) != 0) {
			s->dead = true;
			host(s)->end(s->ms, "module_failure", "oftp2: out of memory");
			r->verdict = SP_FAIL;
			return H_STOP;
		}
		s->held.act = act;
		s->held.from = from;
		s->paused = true;
		return H_PAUSED;
	}
	if (v != SP_CONTINUE) {
		if (!flush_fw(r))
			return H_STOP;
		r->verdict = refused(s, from, (int)cmd.code, v);
		return H_STOP;
	}
	file_result(s, &cmd);
	if (act == A_HOLD_SSID)
		return accepted(r, from, s->held.raw, s->held.raw_len, act);
	return accepted(r, from, fr, len, act);
}

/*
 * Look at the octets of a frame so far. 1: complete (f filled); 0: more
 * needed (f->needed); -1: refused (r->verdict set).
 */
static int
look(struct run *r, const uint8_t *p, size_t n, struct oftp2_frame *f)
{
	struct o2_sess *s = r->s;
	struct oftp2_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = oftp2_frame(p, n, s->tol, f, &err);
	if (rc == 0 || rc == SP_ERR_SHORT) {
		if (f->oeb_len > 0 && n > OFTP2_STH_LEN &&
		    o2_state_early(s, r->side, p[OFTP2_STH_LEN], f->oeb_len,
		    &err) != 0)
			rc = SP_ERR_PROTOCOL;
		else
			return rc == 0 ? 1 : 0;
	}
	if (!flush_fw(r))
		return -1;
	if (err.esid == 0)
		err.esid = OFTP2_ESID_INVALID_DATA;
	s->admit = o2_admit(s, r->side, NULL, f->oeb_len, &err);
	r->verdict = o2_violation(s, (int)r->side, &err);
	return -1;
}

static bool
buffer_rest(struct run *r, const uint8_t *p, size_t n)
{
	struct o2_sess *s = r->s;

	if (n == 0)
		return true;
	if (!flush_fw(r))
		return false;
	if (sp_buf_put(&s->in[r->side], p, n) != 0) {
		s->dead = true;
		host(s)->end(s->ms, "overflow", "oftp2: input buffer bound reached");
		r->verdict = SP_ABORT;
		return false;
	}
	return true;
}

/* After a stop: in detect mode the octets not yet looked at go on as they
 * are (the buffered ones went first, in o2_stream_passthrough). */
static enum sp_verdict
pass_rest(struct run *r, const uint8_t *p, size_t n)
{
	struct o2_sess *s = r->s;

	if (s->passthrough && !s->dead && !s->closed && n > 0)
		(void)host(s)->forward(s->ms, o2_dir(r->side), p, n);
	return r->verdict;
}

/* Work through buffered octets, then p. */
static enum sp_verdict
run(struct o2_sess *s, enum o2_side side, const uint8_t *p, size_t n)
{
	struct run r = { .s = s, .side = side, .verdict = SP_CONTINUE };
	struct sp_buf *b = &s->in[side];
	struct oftp2_frame f;
	enum h_res h;
	int k;

	/* 1. Finish what the buffer holds, adding only what a frame needs. */
	while (sp_buf_len(b) > 0 && !s->dead && s->phase != PH_END) {
		k = look(&r, sp_buf_ptr(b), sp_buf_len(b), &f);
		if (k < 0)
			return pass_rest(&r, p, n);
		if (k == 0) {
			size_t take = f.needed < n ? f.needed : n;
			if (take == 0)
				break;
			if (!buffer_rest(&r, p, take))
				return r.verdict;
			p += take;
			n -= take;
			continue;
		}
		h = handle(&r, sp_buf_ptr(b), f.consumed);
		if (h == H_STOP)
			return pass_rest(&r, p, n);
		if (!flush_fw(&r))
			return SP_CONTINUE;
		sp_buf_consume(b, f.consumed);
		if (h == H_PAUSED) {
			if (!buffer_rest(&r, p, n))
				return r.verdict;
			return SP_HOLD;
		}
	}
	/* 2. Whole frames straight from the caller's octets. */
	while (n > 0 && !s->dead && s->phase != PH_END) {
		k = look(&r, p, n, &f);
		if (k < 0)
			return pass_rest(&r, p, n);
		if (k == 0) {
			if (!buffer_rest(&r, p, n))
				return r.verdict;
			n = 0;
			break;
		}
		h = handle(&r, p, f.consumed);
		if (h == H_STOP)
			return pass_rest(&r, p, n);
		p += f.consumed;
		n -= f.consumed;
		if (h == H_PAUSED) {
			if (!buffer_rest(&r, p, n))
				return r.verdict;
			return SP_HOLD;
		}
	}
	if (!flush_fw(&r))
		return SP_CONTINUE;
	sp_buf_release_if_empty(b);
	return SP_CONTINUE;
}

enum sp_verdict
o2_stream_feed(struct o2_sess *s, enum o2_side side, const uint8_t *p, size_t n)
{
	if (s->dead || n == 0)
		return SP_CONTINUE;
	if (s->passthrough) {
		(void)host(s)->forward(s->ms, o2_dir(side), p, n);
		return SP_CONTINUE;
	}
	if (s->phase == PH_END)
		return SP_CONTINUE;   /* after ESID: nothing more is passed */
	if (s->paused) {
		if (sp_buf_put(&s->in[side], p, n) != 0) {
			s->dead = true;
			host(s)->end(s->ms, "overflow",
			    "oftp2: input buffer bound reached while holding");
			return SP_ABORT;
		}
		s->data_held[o2_dir(side)] = true;
		return SP_HOLD;
	}
	return run(s, side, p, n);
}

/* The pending delivery ended with verdict v: finish its frame. */
enum sp_verdict
o2_stream_held_done(struct o2_sess *s, enum sp_verdict v)
{
	struct run r = { .s = s, .side = s->held.from, .verdict = SP_CONTINUE };
	enum h_res h;

	s->paused = false;
	if (v != SP_CONTINUE)
		return refused(s, s->held.from, s->held.cmd.code, v);
	file_result(s, &s->held.cmd);
	h = accepted(&r, s->held.from, s->held.raw, s->held.raw_len, s->held.act);
	if (h == H_STOP)
		return r.verdict;
	if (!flush_fw(&r))
		return SP_CONTINUE;
	if (s->held.act != A_HOLD_SSID || !s->have_held) {
		free(s->held.raw);
		s->held.raw = NULL;
		s->have_held = false;
	}
	return SP_CONTINUE;
}

enum sp_verdict
o2_stream_drain(struct o2_sess *s)
{
	enum o2_side first = s->held.from, side;
	enum sp_verdict v;
	int i;

	for (i = 0; i < 2; i++) {
		side = i == 0 ? first : o2_other(first);
		if (s->dead || s->paused)
			break;
		if (s->passthrough) {
			o2_stream_passthrough(s);
			break;
		}
		v = run(s, side, NULL, 0);
		if (v != SP_CONTINUE && v != SP_HOLD)
			return v;
	}
	return SP_CONTINUE;
}

void
o2_stream_passthrough(struct o2_sess *s)
{
	int side;

	s->passthrough = true;
	s->paused = false;
	if (s->have_held && s->held.raw != NULL && s->phase == PH_SSID_HELD) {
		(void)host(s)->forward(s->ms, o2_dir(s->held.from), s->held.raw,
		    s->held.raw_len);
		s->leg_up[o2_other(s->held.from)] = true;
	}
	free(s->held.raw);
	s->held.raw = NULL;
	s->have_held = false;
	for (side = 0; side < 2 && !s->closed; side++) {
		struct sp_buf *b = &s->in[side];

		if (sp_buf_len(b) > 0)
			(void)host(s)->forward(s->ms, o2_dir((enum o2_side)side),
			    sp_buf_ptr(b), sp_buf_len(b));
		if (!s->closed)
			sp_buf_free(b);
	}
}
