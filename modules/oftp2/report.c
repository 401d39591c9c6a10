/*
 * report.c - what the OFTP2 module says: the proxy's own SSRM and ESIDs
 * (built with the codec), violations and timeouts (one security line, one
 * event, ESID to both sides whose legs are up, end of the session), the
 * per-command dialogue at DEBUG and one INFO line per file.
 *
 * Passwords never reach a log line: the SSID line names every field but
 * SSIDPSWD.
 */
#include "o2.h"


#include <stdio.h>
#include <string.h>

#include "core/err.h"

static const struct sp_host *
host(const struct o2_sess *s)
{
	return s->mod->host;
}

static int
send_cmd(struct o2_sess *s, enum o2_side to, const struct oftp2_cmd *cmd)
{
	struct sp_buf b;
	int r;

	sp_buf_init(&b, OFTP2_STH_LEN + 7 + OFTP2_TEXT_MAX + 64);
	r = oftp2_build(&b, cmd, OFTP2_BUILD_STH, NULL);
	if (r == 0)
		r = host(s)->send(s->ms, (enum sp_leg)to, sp_buf_ptr(&b), sp_buf_len(&b));
	sp_buf_free(&b);
	return r;
}

int
o2_send_esid(struct o2_sess *s, enum o2_side to, unsigned reason)
{
	struct oftp2_cmd c;
	const char *text = oftp2_esid_text(reason);
	int r;

	if (!s->leg_up[to] || s->closed)
		return SP_ERR_CLOSED;
	if (s->legacy[to]) {
		/* OFTP 1.x layout: 'F', the reason, CR; no text (RFC 2204). */
		uint8_t old[8] = { OFTP2_STH_OCTET0, 0, 0, 8, 'F',
		    (uint8_t)('0' + reason / 10 % 10), (uint8_t)('0' + reason % 10),
		    OFTP2_CR };
		if ((r = host(s)->send(s->ms, (enum sp_leg)to, old, sizeof(old))) == 0)
			host(s)->log(s->ms, SP_LEVEL_DEBUG, "proxy -> %s: ESID "
			    "%02u in the OFTP 1.x layout", o2_side_name(to), reason);
		return r;
	}
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_ESID;
	c.u.esid.reason = (uint8_t)reason;
	c.u.esid.text.ptr = (const uint8_t *)(text != NULL ? text : "");
	c.u.esid.text.len = text != NULL ? strlen(text) : 0;
	if ((r = send_cmd(s, to, &c)) == 0)
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "proxy -> %s: ESID %02u %s",
		    o2_side_name(to), reason, text != NULL ? text : "");
	return r;
}

const char *
o2_side_who(enum o2_side side)
{
	return side == O2_OUT ? "partner" : "inside";
}

void
o2_note_end(struct o2_sess *s, unsigned reason, const char *from)
{
	struct sp_end_note e = { .size = sizeof(e), .code = reason % 100 };

	/* The first note counts (the core keeps it): later ones are no-ops. */
	e.by = strcmp(from, "partner") == 0 ? SP_END_BY_PARTNER :
	    strcmp(from, "inside") == 0 ? SP_END_BY_INSIDE : SP_END_BY_PROXY;
	(void)host(s)->note_end(s->ms, &e);
}

int
o2_send_ssrm(struct o2_sess *s, enum o2_side to)
{
	struct oftp2_cmd c;
	int r;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SSRM;
	if ((r = send_cmd(s, to, &c)) == 0) {
		s->leg_up[to] = true;
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "proxy -> %s: SSRM",
		    o2_side_name(to));
	}
	return r;
}

enum sp_verdict
o2_violation(struct o2_sess *s, int from, const struct oftp2_err *err)
{
	const char *name = err->cmd ? oftp2_cmd_name(err->cmd) : NULL;
	char detail[400];
	enum o2_side side = from == O2_IN ? O2_IN : O2_OUT;
	bool detect = s->mod->mode == SP_MODE_DETECT || s->detect;

	const char *sw = o2_config_switch_name(s->admit);
	const char *code = s->ssid_seen[O2_OUT] ? s->ssid[O2_OUT].code :
	    host(s)->fact_get(s->ms, "oftp2.partner_code");

	/* code= and admit= are for `partners diagnose`: which partner, and
	 * the switch that would have let this through (none: not tolerable). */
	snprintf(detail, sizeof(detail), "%s %s from the %s in state %s: %s "
	    "(ESID %02u) code=%s admit=%s%s", name != NULL ? name : "buffer",
	    err->field != NULL ? err->field : "-", o2_side_name(side),
	    o2_phase_name(s->phase), err->text, err->esid,
	    code != NULL && code[0] != '\0' ? code : "-", sw != NULL ? sw : "-",
	    detect ? " (detect mode: let through)" : "");
	s->admit = 0;
	host(s)->security(s->ms, "oftp2_violation", "%s", detail);
	host(s)->event(s->ms, SP_LEVEL_WARN, "oftp2_violation", "%s", detail);
	if (detect) {
		o2_stream_passthrough(s);
		return SP_CONTINUE;
	}
	if (s->file.active)
		o2_log_file(s, "aborted (protocol violation)");
	/* The side that kept the rules first, then the offender. */
	o2_note_end(s, err->esid, "proxy");
	o2_send_esid(s, o2_other(side), err->esid);
	o2_send_esid(s, side, err->esid);
	s->phase = PH_END;
	s->dead = true;
	host(s)->end(s->ms, "protocol", detail);
	return SP_ABORT;
}

/* The session's audit record lists the rules admitted (host->note_deviation):
 * partners diagnose reads it. */
static void
audit_dev(struct o2_sess *s, const char *rule)
{
	(void)host(s)->note_deviation(s->ms, rule);
}

void
o2_deviations(struct o2_sess *s, enum o2_side from, const struct oftp2_dev *dev)
{
	unsigned bit, fresh = dev->bits & ~s->dev_seen;
	const char *rule, *sw, *code = s->ssid_seen[O2_OUT] ?
	    s->ssid[O2_OUT].code : "";

	s->dev_seen |= dev->bits;
	/* One line per rule and session: a partner that pads every DATA
	 * buffer is named once, not once a buffer. */
	for (bit = 1; bit != 0 && fresh != 0; bit <<= 1) {
		if (!(fresh & bit))
			continue;
		fresh &= ~bit;
		if ((rule = oftp2_dev_rule(bit)) == NULL)
			continue;
		sw = o2_config_switch_name(bit);
		host(s)->security(s->ms, "oftp2_deviation", "%s code=%s rule=%s "
		    "field=%s admitted (%s%s)", o2_side_name(from), code, rule,
		    oftp2_dev_field(dev, bit), sw != NULL ? "switch " :
		    "the RFC says should, not must", sw != NULL ? sw : "");
		host(s)->event(s->ms, SP_LEVEL_INFO, "oftp2_deviation",
		    "%s code=%s rule=%s field=%s", o2_side_name(from), code, rule,
		    oftp2_dev_field(dev, bit));
		audit_dev(s, rule);
	}
}

enum sp_verdict
o2_timeout(struct o2_sess *s, const char *what)
{
	bool detect = s->mod->mode == SP_MODE_DETECT || s->detect;
	char detail[200];

	snprintf(detail, sizeof(detail), "%s in state %s (ESID 09)%s", what,
	    o2_phase_name(s->phase), detect ? " (detect mode: let run)" : "");
	host(s)->security(s->ms, "oftp2_timeout", "%s", detail);
	host(s)->event(s->ms, SP_LEVEL_WARN, "oftp2_timeout", "%s", detail);
	if (detect)
		return SP_CONTINUE;
	if (s->file.active)
		o2_log_file(s, "aborted (timeout)");
	o2_note_end(s, OFTP2_ESID_TIMEOUT, "proxy");
	o2_send_esid(s, s->ini, OFTP2_ESID_TIMEOUT);
	o2_send_esid(s, s->rsp, OFTP2_ESID_TIMEOUT);
	s->phase = PH_END;
	s->dead = true;
	host(s)->end(s->ms, "timeout", detail);
	return SP_ABORT;
}

static void
quote_text(char *dst, size_t cap, const struct oftp2_bytes *b)
{
	size_t i, o = 0;

	for (i = 0; i < b->len && o + 2 < cap; i++) {
		uint8_t c = b->ptr[i];
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

void
o2_log_cmd(struct o2_sess *s, enum o2_side from, const struct oftp2_cmd *cmd)
{
	const char *side = o2_side_name(from);
	const char *name = oftp2_cmd_name((uint8_t)cmd->code);
	char t[96];

	switch (cmd->code) {
	case OFTP2_SSID: {
		const struct oftp2_ssid *x = &cmd->u.ssid;
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> SSID level %u code '%s' "
		    "buffer %u mode %c compression %c restart %c special %c "
		    "credit %u auth %c user '%s'", side, x->level, x->code,
		    (unsigned)x->sdeb, (char)x->mode, x->compression ? 'Y' : 'N',
		    x->restart ? 'Y' : 'N', x->special ? 'Y' : 'N',
		    (unsigned)x->credit, x->auth ? 'Y' : 'N', x->user);
		return;
	}
	case OFTP2_SFID: {
		const struct oftp2_sfid *f = &cmd->u.sfid;
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> SFID '%s' %08u %010u "
		    "from '%s' to '%s' format %c lrecl %u size %llu KiB restart "
		    "%llu security %02u cipher %02u compression %u envelope %u",
		    side, f->dsn, (unsigned)f->date, (unsigned)f->time, f->orig,
		    f->dest, (char)f->format, (unsigned)f->lrecl,
		    (unsigned long long)f->fsiz, (unsigned long long)f->rest,
		    f->sec, f->ciph, f->comp, f->env);
		return;
	}
	case OFTP2_SFPA:
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> SFPA restart at %llu",
		    side, (unsigned long long)cmd->u.sfpa.acnt);
		return;
	case OFTP2_SFNA:
		quote_text(t, sizeof(t), &cmd->u.sfna.text);
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> SFNA %02u retry %c '%s'",
		    side, cmd->u.sfna.reason, cmd->u.sfna.retry ? 'Y' : 'N', t);
		return;
	case OFTP2_EFID:
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> EFID records %llu octets "
		    "%llu (after %llu DATA buffers, %llu octets seen)", side,
		    (unsigned long long)cmd->u.efid.rcnt,
		    (unsigned long long)cmd->u.efid.ucnt,
		    (unsigned long long)s->file.buffers,
		    (unsigned long long)s->file.octets);
		return;
	case OFTP2_EFPA:
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> EFPA change direction %c",
		    side, cmd->u.efpa.cd ? 'Y' : 'N');
		return;
	case OFTP2_EFNA:
		quote_text(t, sizeof(t), &cmd->u.efna.text);
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> EFNA %02u '%s'", side,
		    cmd->u.efna.reason, t);
		return;
	case OFTP2_ESID:
		quote_text(t, sizeof(t), &cmd->u.esid.text);
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> ESID %02u '%s'", side,
		    cmd->u.esid.reason, t);
		return;
	case OFTP2_EERP:
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> EERP '%s' %08u %010u "
		    "from '%s' to '%s' signed %c", side, cmd->u.eerp.dsn,
		    (unsigned)cmd->u.eerp.date, (unsigned)cmd->u.eerp.time,
		    cmd->u.eerp.orig, cmd->u.eerp.dest,
		    cmd->u.eerp.sig.len > 0 ? 'Y' : 'N');
		return;
	case OFTP2_NERP:
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> NERP '%s' %08u %010u "
		    "reason %02u from '%s' to '%s'", side, cmd->u.nerp.dsn,
		    (unsigned)cmd->u.nerp.date, (unsigned)cmd->u.nerp.time,
		    cmd->u.nerp.reason, cmd->u.nerp.crea, cmd->u.nerp.dest);
		return;
	case OFTP2_AUCH:
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> AUCH challenge of %zu "
		    "octets", side, cmd->u.auch.challenge.len);
		return;
	default:
		/* SSRM, SECD, CDT, CD, RTR, AURP: nothing worth more. */
		host(s)->log(s->ms, SP_LEVEL_DEBUG, "%s -> %s", side,
		    name != NULL ? name : "?");
		return;
	}
}

void
o2_log_file(struct o2_sess *s, const char *result)
{
	const struct o2_file *f = &s->file;

	host(s)->log(s->ms, SP_LEVEL_INFO, "file '%s' %s -> %s, format %c, "
	    "%llu octets in %llu DATA buffers%s: %s", f->dsn,
	    o2_side_name(f->from), o2_side_name(o2_other(f->from)),
	    (char)f->format, (unsigned long long)f->octets,
	    (unsigned long long)f->buffers, f->acnt ? " (restarted)" : "", result);
	o2_audit_file(s, result);
	s->file.active = false;
}

/* The file as the core's typed fact (host->note_file). */
static void
note_file(struct o2_sess *s, const char *result)
{
	const struct o2_file *f = &s->file;
	struct sp_file_note n = { .size = sizeof(n), .name = f->dsn,
		.dir = f->from == O2_OUT ? SP_FILE_FROM_PARTNER : SP_FILE_TO_PARTNER,
		.format = (char)f->format, .size_kib = f->size_kib,
		.restart_offset = f->rest, .octets = f->octets, .result = result };

	(void)host(s)->note_file(s->ms, &n);
}

/* The file in transfer, for the live view. */
void
o2_file_progress(struct o2_sess *s)
{
	note_file(s, NULL);
}

/*
 * A finished file joins the session's files: the core puts them into the
 * session's audit record (docs/api.md, v1/sessions), bounded by
 * SP_SESSION_FILES_MAX.
 */
void
o2_audit_file(struct o2_sess *s, const char *result)
{
	note_file(s, result);
}
