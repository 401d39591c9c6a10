/*
 * state.c - the OFTP2 session state machine as the proxy sees it (wire
 * reference §5.2-5.5), for both roles: which command each side may send in
 * each phase, the SSID rules and negotiation, secure authentication, turns
 * (CD, CDIND), credit, DATA size and structure, and the EFID cross-check.
 *
 * Pure logic over struct o2_sess: no host calls, no allocation. stream.c
 * calls o2_state_early() as soon as a frame's command octet and length are
 * known (so a bad frame is refused before it is buffered whole) and
 * o2_state_apply() once the frame was parsed by the codec.
 */
#include "o2.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

/* Longest OEB of each command (ref §0); DATA is bounded by the session. */
static size_t
max_oeb(const struct o2_sess *s, uint8_t code)
{
	switch (code) {
	case OFTP2_SSRM: return 19;
	case OFTP2_SSID: return 61;
	case OFTP2_SECD: case OFTP2_CD: case OFTP2_RTR: return 1;
	case OFTP2_AURP: return 21;
	case OFTP2_SFPA: return 18;
	case OFTP2_CDT: return 3;
	case OFTP2_EFID: return 35;
	case OFTP2_EFPA: return 2;
	case OFTP2_SFID: return 165 + OFTP2_TEXT_MAX;
	case OFTP2_SFNA: return 7 + OFTP2_TEXT_MAX;
	case OFTP2_EFNA: return 6 + OFTP2_TEXT_MAX;
	case OFTP2_ESID: return 7 + OFTP2_TEXT_MAX;
	case OFTP2_DATA:
		if (!s->negotiated)
			return OFTP2_SDEB_MAX;
		return s->params.sdeb + ((s->tol & OFTP2_TOL_DATA_PAD) ?
		    OFTP2_DATA_PAD_MAX : 0);
	default: return OFTP2_OEB_MAX;   /* AUCH, EERP, NERP: STH-bounded */
	}
}

static int
fail(struct oftp2_err *err, uint8_t esid, uint8_t cmd, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct oftp2_err *err, uint8_t esid, uint8_t cmd, const char *field,
    const char *fmt, ...)
{
	va_list ap;
	const char *name = oftp2_cmd_name(cmd);
	int n;

	memset(err, 0, sizeof(*err));
	err->esid = esid;
	err->cmd = cmd;
	err->field = field;
	if (name != NULL && field != NULL)
		n = snprintf(err->text, sizeof(err->text), "%s.%s: ", name, field);
	else if (name != NULL)
		n = snprintf(err->text, sizeof(err->text), "%s: ", name);
	else
		n = 0;
	if (n < 0 || (size_t)n >= sizeof(err->text))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err->text + n, sizeof(err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return esid;
}

const char *
o2_phase_name(enum o2_phase ph)
{
	static const char *const names[] = {
		"GREET", "WAIT_SSID_I", "SSID_HELD", "WAIT_SSID_R", "AUTH",
		"IDLE", "WF_SFANS", "DATA", "WF_EFANS", "WF_CD", "WF_RTR", "END"
	};

	return (size_t)ph < sizeof(names) / sizeof(names[0]) ? names[ph] : "?";
}

const char *
o2_side_name(enum o2_side side)
{
	return side == O2_OUT ? "partner" : "inside";
}

/* Secure authentication (ref §5.3): step -> (sender is initiator?, code). */
static bool
auth_expect(unsigned step, bool *from_ini, uint8_t *code)
{
	static const struct { bool ini; uint8_t code; } steps[6] = {
		{ true, OFTP2_SECD }, { false, OFTP2_AUCH }, { true, OFTP2_AURP },
		{ false, OFTP2_SECD }, { true, OFTP2_AUCH }, { false, OFTP2_AURP }
	};

	if (step < 1 || step > 6)
		return false;
	*from_ini = steps[step - 1].ini;
	*code = steps[step - 1].code;
	return true;
}

/* May `from` send `code` now? Only what the command octet tells. */
static int
allowed(const struct o2_sess *s, enum o2_side from, uint8_t code,
    struct oftp2_err *err)
{
	bool is_sp = s->negotiated && from == s->speaker;
	bool ini = from == s->ini, auth_ini;
	uint8_t auth_code;

	if (from == s->rsp && !s->rsp_ready) {
		if (code == OFTP2_SSRM)
			return 0;
		return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
		    "the responder must start with SSRM");
	}
	if (code == OFTP2_SSRM)
		return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
		    "SSRM only as the responder's first buffer");
	if (s->phase == PH_GREET)
		return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
		    "the initiator spoke before the SSRM");
	if (code == OFTP2_ESID)
		return 0;
	switch (s->phase) {
	case PH_SSID_I:
		if (ini && code == OFTP2_SSID)
			return 0;
		break;
	case PH_SSID_R:
		if (!ini && code == OFTP2_SSID)
			return 0;
		break;
	case PH_AUTH:
		if (auth_expect(s->auth_step, &auth_ini, &auth_code) &&
		    auth_ini == ini && auth_code == code)
			return 0;
		break;
	case PH_IDLE:
		if (is_sp && (code == OFTP2_SFID || code == OFTP2_EERP ||
		    code == OFTP2_NERP))
			return 0;
		if (is_sp && code == OFTP2_CD) {
			if (!s->cdind)
				return 0;
			return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
			    "CD right after an unsolicited CD (ping-pong)");
		}
		break;
	case PH_WF_SFANS:
		if (!is_sp && (code == OFTP2_SFPA || code == OFTP2_SFNA))
			return 0;
		break;
	case PH_DATA:
		if (is_sp && code == OFTP2_DATA) {
			if (s->credit > 0)
				return 0;
			return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
			    "DATA without credit (window %u used up)",
			    s->params.credit);
		}
		if (is_sp && code == OFTP2_EFID) {
			if (s->credit > 0 || (s->tol & OFTP2_TOL_EFID_NO_CREDIT))
				return 0;
			return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
			    "EFID while waiting for credit");
		}
		if (!is_sp && code == OFTP2_CDT) {
			if (s->credit == 0)
				return 0;
			return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
			    "CDT while the speaker still has credit %u", s->credit);
		}
		break;
	case PH_WF_EFANS:
		if (!is_sp && (code == OFTP2_EFPA || code == OFTP2_EFNA))
			return 0;
		if (!is_sp && code == OFTP2_CDT && s->cdt_crossing)
			return 0;
		break;
	case PH_WF_CD:
		if (is_sp && code == OFTP2_CD)
			return 0;
		break;
	case PH_WF_RTR:
		if (!is_sp && code == OFTP2_RTR)
			return 0;
		break;
	case PH_GREET:
	case PH_SSID_HELD:
	case PH_END:
		break;
	}
	return fail(err, OFTP2_ESID_PROTOCOL, code, NULL,
	    "not valid from the %s (%s) in state %s",
	    o2_side_name(from), ini ? "initiator" : "responder",
	    o2_phase_name(s->phase));
}

int
o2_state_early(struct o2_sess *s, enum o2_side from, uint8_t code,
    size_t oeb_len, struct oftp2_err *err)
{
	size_t max;

	if (oftp2_cmd_name(code) == NULL)
		return fail(err, OFTP2_ESID_CMD_UNKNOWN, 0, NULL,
		    "command octet 0x%02x is not an OFTP2 command", code);
	max = max_oeb(s, code);
	if (oeb_len > max)
		return fail(err, OFTP2_ESID_BUFFER_SIZE, code, NULL,
		    "buffer of %zu octets, at most %zu allowed%s", oeb_len, max,
		    code == OFTP2_DATA ? " (negotiated SSIDSDEB)" : "");
	return allowed(s, from, code, err);
}

static enum oftp2_mode
mode_of(const struct o2_sess *s, enum o2_side side)
{
	return side == s->ini ? s->params.initiator_mode : s->params.responder_mode;
}

static int
apply_ssid(struct o2_sess *s, enum o2_side from, const struct oftp2_ssid *id,
    enum o2_act *act, struct oftp2_err *err)
{
	struct oftp2_session_params tmp;
	int r;

	/* RFC 5024 §5.3.2: levels above 5 are future revisions and the
	 * lowest level is selected, so an initiator may offer more; the
	 * responder's answer is the session's level and must be 5. */
	if (id->level < OFTP2_LEVEL_OFTP2 ||
	    (from == s->rsp && id->level != OFTP2_LEVEL_OFTP2))
		return fail(err, OFTP2_ESID_MODE, OFTP2_SSID, "SSIDLEV",
		    "level %u; only OFTP 2.0 (5) crosses this proxy%s",
		    id->level, from == s->rsp ? " (the responder answers 5)" :
		    "");
	s->ssid[from] = *id;
	s->ssid_seen[from] = true;
	if (from == s->ini) {
		s->phase = PH_SSID_HELD;
		*act = A_HOLD_SSID;
		return 0;
	}
	r = oftp2_negotiate(&s->ssid[s->ini], id, s->tol, &s->params, err);
	if (r != 0) {
		if (err->esid == 0)
			err->esid = OFTP2_ESID_MODE;
		return err->esid;
	}
	/* Name the tolerance that made the negotiation pass, if one did. */
	if (oftp2_negotiate(&s->ssid[s->ini], id, s->tol & ~OFTP2_TOL_SR_ANY,
	    &tmp, NULL) != 0)
		s->state_dev |= OFTP2_TOL_SR_ANY;
	if (oftp2_negotiate(&s->ssid[s->ini], id, s->tol & ~OFTP2_TOL_REST_AND,
	    &tmp, NULL) != 0)
		s->state_dev |= OFTP2_TOL_REST_AND;
	s->negotiated = true;
	s->speaker = s->ini;
	s->cdind = false;
	if (s->params.auth) {
		s->phase = PH_AUTH;
		s->auth_step = 1;
	} else {
		s->phase = PH_IDLE;
	}
	*act = A_FORWARD;
	return 0;
}

static int
apply_sfid(struct o2_sess *s, enum o2_side from, const struct oftp2_sfid *f,
    struct oftp2_err *err)
{
	enum oftp2_mode sm = mode_of(s, from), lm = mode_of(s, o2_other(from));

	if (sm == OFTP2_MODE_RECEIVE || lm == OFTP2_MODE_SEND)
		return fail(err, OFTP2_ESID_PROTOCOL, OFTP2_SFID, NULL,
		    "the %s may not send files in this session (modes %c/%c)",
		    o2_side_name(from), (char)sm, (char)lm);
	if (f->ciph >= sizeof(s->cfg->cipher_ok) || !s->cfg->cipher_ok[f->ciph])
		return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_SFID, "SFIDCIPH",
		    "cipher suite %02u is not one this proxy accepts "
		    "(modules.oftp2.cipher_suites)", f->ciph);
	if (f->rest != 0 && !s->params.restart)
		return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_SFID, "SFIDREST",
		    "restart position %llu but restart was not agreed",
		    (unsigned long long)f->rest);
	memset(&s->file, 0, sizeof(s->file));
	s->file.active = true;
	s->file.from = from;
	snprintf(s->file.dsn, sizeof(s->file.dsn), "%s", f->dsn);
	s->file.format = f->format;
	s->file.rest = f->rest;
	s->file.secured = f->sec != OFTP2_SEC_NONE || f->comp != OFTP2_COMP_NONE;
	/* Secured or compressed files travel as U (RFC 5024 §5.3.3 SFIDFMT):
	 * their record boundaries are not visible here. */
	s->file.records_checked = !s->file.secured &&
	    (f->format == OFTP2_FMT_FIXED || f->format == OFTP2_FMT_VARIABLE);
	s->file.lrecl = f->lrecl;
	s->phase = PH_WF_SFANS;
	s->cdind = false;
	/* For the live list: the announced size, and the file from now on. */
	s->file.size_kib = f->osiz != 0 ? f->osiz : f->fsiz;
	o2_file_progress(s);
	return 0;
}

/*
 * F and V records (RFC 5024 §5.3.3 SFIDLRECL, §7.2): a record may span
 * buffers, so its length so far is carried in s->file.rec_len. V: no
 * record longer than SFIDLRECL; F: every record exactly SFIDLRECL.
 */
static int
check_records(struct o2_sess *s, const uint8_t *oeb, size_t oeb_len,
    struct oftp2_err *err)
{
	struct oftp2_subrec sr;
	struct sp_rd rd;
	uint64_t nrec = s->file.records;
	bool fixed = s->file.format == OFTP2_FMT_FIXED;

	sp_rd_init(&rd, oeb + 1, oeb_len - 1);
	/* oftp2_data_check() already passed: only SP_ERR_SHORT ends this. */
	while (oftp2_data_next(&rd, s->params.compression, &sr, NULL) == 0) {
		s->file.rec_len += sr.count;
		if (s->file.rec_len > s->file.lrecl)
			return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_DATA,
			    "DATABUF", "record %llu is longer than SFIDLRECL %u "
			    "(format %c)", (unsigned long long)nrec + 1,
			    (unsigned)s->file.lrecl, (char)s->file.format);
		if (!sr.eor)
			continue;
		if (fixed && s->file.rec_len != s->file.lrecl)
			return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_DATA,
			    "DATABUF", "record %llu has %llu octets; format F "
			    "needs exactly SFIDLRECL %u",
			    (unsigned long long)nrec + 1,
			    (unsigned long long)s->file.rec_len,
			    (unsigned)s->file.lrecl);
		s->file.rec_len = 0;
		nrec++;
	}
	return 0;
}

/*
 * OFTP2_TOL_DATA_PAD: a buffer at most OFTP2_DATA_PAD_MAX octets over the
 * negotiated size, where every octet past it is a zero after the last
 * subrecord that carries anything (zero octets read as empty subrecords,
 * so the file's content is unchanged). Nothing else over the size passes.
 */
static bool
padded(const struct o2_sess *s, const uint8_t *oeb, size_t oeb_len)
{
	struct oftp2_subrec sr;
	struct sp_rd rd;
	size_t end = 1, i;

	if (!(s->tol & OFTP2_TOL_DATA_PAD) ||
	    oeb_len > (size_t)s->params.sdeb + OFTP2_DATA_PAD_MAX)
		return false;
	for (i = s->params.sdeb; i < oeb_len; i++)
		if (oeb[i] != 0)
			return false;
	sp_rd_init(&rd, oeb + 1, oeb_len - 1);
	while (oftp2_data_next(&rd, s->params.compression, &sr, NULL) == 0)
		if (sr.count > 0 || sr.eor || sr.cf)
			end = 1 + sp_rd_pos(&rd);
	return end <= s->params.sdeb;
}

static int
apply_data(struct o2_sess *s, const uint8_t *oeb, size_t oeb_len,
    struct oftp2_err *err)
{
	struct oftp2_data_info info;
	int r;

	if (oeb_len > s->params.sdeb && !padded(s, oeb, oeb_len))
		return fail(err, OFTP2_ESID_BUFFER_SIZE, OFTP2_DATA, NULL,
		    "buffer of %zu octets exceeds the negotiated %u", oeb_len,
		    (unsigned)s->params.sdeb);
	r = oftp2_data_check(oeb + 1, oeb_len - 1, s->params.compression, &info,
	    err);
	if (r != 0) {
		if (err->esid == 0)
			err->esid = OFTP2_ESID_INVALID_DATA;
		return err->esid;
	}
	if (oeb_len > s->params.sdeb)
		s->state_dev |= OFTP2_TOL_DATA_PAD;
	if (s->file.records_checked &&
	    (r = check_records(s, oeb, oeb_len, err)) != 0)
		return r;
	s->credit--;
	if ((s->file.octets + info.octets) / O2_PROGRESS_STEP != s->file.octets / O2_PROGRESS_STEP) {
		s->file.octets += info.octets;
		o2_file_progress(s);
	} else
		s->file.octets += info.octets;
	s->file.records += info.records;
	s->file.buffers++;
	return 0;
}

static int
apply_efid(struct o2_sess *s, const struct oftp2_efid *e, struct oftp2_err *err)
{
	bool ut = s->file.format == OFTP2_FMT_UNSTRUCTURED ||
	    s->file.format == OFTP2_FMT_TEXT;

	if (ut && e->rcnt != 0)
		return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_EFID, "EFIDRCNT",
		    "record count %llu for a %c file (must be 0)",
		    (unsigned long long)e->rcnt, (char)s->file.format);
	/* RFC 5024 §5.3.8: both counts are totals, even after a restart.
	 * SFPAACNT is where the transfer resumed: KiB for U/T (and for
	 * secured files), records for F/V. */
	if (ut && s->check_counts) {
		uint64_t before = s->file.acnt <= UINT64_MAX / 1024 ?
		    s->file.acnt * 1024 : UINT64_MAX;
		if (before > UINT64_MAX - s->file.octets ||
		    e->ucnt != before + s->file.octets)
			return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_EFID,
			    "EFIDUCNT", "octet count %llu, but the DATA buffers "
			    "carried %llu after a restart at %llu KiB",
			    (unsigned long long)e->ucnt,
			    (unsigned long long)s->file.octets,
			    (unsigned long long)s->file.acnt);
	}
	if (s->file.records_checked && s->check_counts) {
		if (e->rcnt != s->file.acnt + s->file.records)
			return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_EFID,
			    "EFIDRCNT", "record count %llu, but %llu records "
			    "were sent after a restart at record %llu",
			    (unsigned long long)e->rcnt,
			    (unsigned long long)s->file.records,
			    (unsigned long long)s->file.acnt);
		if (s->file.acnt == 0 ? e->ucnt != s->file.octets :
		    e->ucnt < s->file.octets)
			return fail(err, OFTP2_ESID_INVALID_DATA, OFTP2_EFID,
			    "EFIDUCNT", "octet count %llu, but the DATA buffers "
			    "carried %llu", (unsigned long long)e->ucnt,
			    (unsigned long long)s->file.octets);
	}
	s->efid_at_zero = s->credit == 0;
	if (s->efid_at_zero)
		s->state_dev |= OFTP2_TOL_EFID_NO_CREDIT;
	s->cdt_crossing = s->efid_at_zero;
	s->credit = 0;
	s->phase = PH_WF_EFANS;
	return 0;
}

/* OFTP2_TOL_ESID_EARLY: the speaker ends the session normally right after
 * its EFID, before the EFPA or the CD the RFC waits for. */
static bool
esid_early(struct o2_sess *s, enum o2_side from)
{
	if (!(s->tol & OFTP2_TOL_ESID_EARLY) || from != s->speaker ||
	    (s->phase != PH_WF_EFANS && s->phase != PH_WF_CD))
		return false;
	s->state_dev |= OFTP2_TOL_ESID_EARLY;
	return true;
}

int
o2_state_legacy(struct o2_sess *s, enum o2_side from, const uint8_t *oeb,
    size_t oeb_len, struct oftp2_err *err)
{
	if (oeb_len < 2 || oeb[0] != OFTP2_SSID || oeb[1] < '0' ||
	    oeb[1] >= '0' + OFTP2_LEVEL_OFTP2)
		return 0;
	/* Its layout is not OFTP2's (no SSIDAUTH, shorter file commands),
	 * so it is refused before the OFTP2 parser could misread it, and
	 * answered in the layout it can read. */
	s->legacy[from] = true;
	return fail(err, OFTP2_ESID_MODE, OFTP2_SSID, "SSIDLEV",
	    "level %c (OFTP 1.x); OFTP 1.x sessions are not relayed",
	    (char)oeb[1]);
}

int
o2_state_apply(struct o2_sess *s, enum o2_side from, const struct oftp2_cmd *cmd,
    const uint8_t *oeb, size_t oeb_len, enum o2_act *act, struct oftp2_err *err)
{
	int r;

	*act = A_FORWARD;
	if ((r = allowed(s, from, (uint8_t)cmd->code, err)) != 0)
		return r;
	switch (cmd->code) {
	case OFTP2_SSRM:
		s->rsp_ready = true;
		*act = A_SWALLOW;
		return 0;
	case OFTP2_SSID:
		return apply_ssid(s, from, &cmd->u.ssid, act, err);
	case OFTP2_ESID:
		if (cmd->u.esid.reason == OFTP2_ESID_NORMAL &&
		    !(s->phase == PH_IDLE && from == s->speaker && s->cdind) &&
		    !esid_early(s, from))
			return fail(err, OFTP2_ESID_PROTOCOL, OFTP2_ESID, "ESIDREAS",
			    "normal end (00) only from the speaker right after an "
			    "unsolicited CD");
		s->phase = PH_END;
		*act = A_END;
		return 0;
	case OFTP2_SECD:
	case OFTP2_AUCH:
	case OFTP2_AURP:
		if (++s->auth_step > 6) {
			s->phase = PH_IDLE;
			s->speaker = s->ini;
			s->cdind = false;
		}
		return 0;
	case OFTP2_SFID:
		return apply_sfid(s, from, &cmd->u.sfid, err);
	case OFTP2_SFPA:
		if (cmd->u.sfpa.acnt > s->file.rest)
			return fail(err, OFTP2_ESID_PROTOCOL, OFTP2_SFPA, "SFPAACNT",
			    "restart count %llu exceeds the SFID's %llu",
			    (unsigned long long)cmd->u.sfpa.acnt,
			    (unsigned long long)s->file.rest);
		s->file.acnt = cmd->u.sfpa.acnt;
		s->credit = s->params.credit;
		s->phase = PH_DATA;
		return 0;
	case OFTP2_SFNA:
	case OFTP2_EFNA:
		s->phase = PH_IDLE;
		s->cdind = false;
		s->cdt_crossing = false;
		return 0;
	case OFTP2_DATA:
		return apply_data(s, oeb, oeb_len, err);
	case OFTP2_CDT:
		if (s->phase == PH_WF_EFANS)
			s->cdt_crossing = false;   /* tolerated once, ignored */
		else
			s->credit = s->params.credit;
		return 0;
	case OFTP2_EFID:
		return apply_efid(s, &cmd->u.efid, err);
	case OFTP2_EFPA:
		s->phase = cmd->u.efpa.cd ? PH_WF_CD : PH_IDLE;
		s->cdind = false;
		s->cdt_crossing = false;
		return 0;
	case OFTP2_CD:
		s->cdind = s->phase == PH_IDLE;   /* unsolicited */
		s->speaker = o2_other(s->speaker);
		s->phase = PH_IDLE;
		return 0;
	case OFTP2_EERP:
	case OFTP2_NERP:
		s->phase = PH_WF_RTR;
		s->cdind = false;
		return 0;
	case OFTP2_RTR:
		s->phase = PH_IDLE;
		s->cdind = false;
		return 0;
	}
	return fail(err, OFTP2_ESID_CMD_UNKNOWN, 0, NULL, "unknown command");
}
