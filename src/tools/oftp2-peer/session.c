/* session.c - start, turns and EERPs of an oftp2-peer session (see session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "msg.h"
#include "session.h"
#include "trace.h"

static void
own_ssid(const struct peer_opts *o, struct oftp2_ssid *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->level = OFTP2_LEVEL_OFTP2;
	snprintf(ss->code, sizeof(ss->code), "%s", o->id);
	snprintf(ss->password, sizeof(ss->password), "%s", o->password);
	ss->sdeb = o->buffer_size;
	ss->mode = OFTP2_MODE_BOTH;
	ss->compression = o->compress;
	ss->credit = (uint16_t)o->credit;
}

static const struct peer_partner *
find_partner(const struct peer_opts *o, const char *code)
{
	size_t i;

	for (i = 0; i < o->npartners; i++)
		if (strcmp(o->partners[i].id, code) == 0)
			return &o->partners[i];
	return NULL;
}

/* Check the code and password in the partner's SSID: ESID 03 / 04 if wrong. */
static int
check_partner(struct peer_session *s, const struct oftp2_ssid *theirs)
{
	const struct peer_partner *pt = find_partner(s->o, theirs->code);

	if (pt == NULL) {
		peer_error("partner '%s' is not known (answering ESID 03)", theirs->code);
		peer_send_esid(s, OFTP2_ESID_USER_UNKNOWN, "user code not known");
		return SP_ERR_DENIED;
	}
	if (strcmp(pt->password, theirs->password) != 0) {
		peer_error("partner '%s' sent a wrong password (answering ESID 04)",
		    theirs->code);
		peer_send_esid(s, OFTP2_ESID_BAD_PASSWORD, "invalid password");
		return SP_ERR_DENIED;
	}
	s->partner = pt;
	return 0;
}

static int
negotiate(struct peer_session *s, const struct oftp2_ssid *ini,
    const struct oftp2_ssid *resp)
{
	struct oftp2_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = oftp2_negotiate(ini, resp, 0, &s->p, &err)) != 0) {
		peer_error("SSID negotiation failed: %s (answering ESID %02u)",
		    err.text, err.esid);
		peer_send_esid(s, err.esid, err.text);
		return r;
	}
	peer_trace("negotiated: buffer %u, credit %u, compression %s, restart %s",
	    (unsigned)s->p.sdeb, s->p.credit, s->p.compression ? "Y" : "N",
	    s->p.restart ? "Y" : "N");
	return 0;
}

static int
start_responder(struct peer_session *s)
{
	struct oftp2_ssid ini;
	struct oftp2_cmd c;
	int r;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SSRM;
	if ((r = peer_send(s, &c)) != 0)
		return r;
	if ((r = peer_recv(s, "SSID")) != 0)
		return r;
	if (s->cmd.code != OFTP2_SSID)
		return peer_unexpected(s, "before SSID");
	ini = s->cmd.u.ssid;
	if ((r = check_partner(s, &ini)) != 0)
		return r;

	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SSID;
	own_ssid(s->o, &c.u.ssid);
	/* The Responder answers with the smaller buffer and credit (ref §5.2). */
	if (c.u.ssid.sdeb > ini.sdeb)
		c.u.ssid.sdeb = ini.sdeb;
	if (c.u.ssid.credit > ini.credit)
		c.u.ssid.credit = ini.credit;
	c.u.ssid.compression = c.u.ssid.compression && ini.compression;
	if ((r = negotiate(s, &ini, &c.u.ssid)) != 0)
		return r;
	return peer_send(s, &c);
}

static int
start_initiator(struct peer_session *s)
{
	struct oftp2_cmd c;
	int r;

	if ((r = peer_recv(s, "SSRM")) != 0)
		return r;
	if (s->cmd.code != OFTP2_SSRM)
		return peer_unexpected(s, "before SSRM");
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SSID;
	own_ssid(s->o, &c.u.ssid);
	if ((r = peer_send(s, &c)) != 0)
		return r;
	if ((r = peer_recv(s, "the responder's SSID")) != 0)
		return r;
	if (s->cmd.code != OFTP2_SSID)
		return peer_unexpected(s, "in answer to our SSID");
	/* send mode has exactly one partner: the responder we called. */
	if ((r = check_partner(s, &s->cmd.u.ssid)) != 0)
		return r;
	return negotiate(s, &c.u.ssid, &s->cmd.u.ssid);
}

/* Listener got an EERP or NERP: match it to a file we sent, answer RTR. */
static int
recv_end_response(struct peer_session *s)
{
	const char *dsn = s->cmd.code == OFTP2_EERP ? s->cmd.u.eerp.dsn : s->cmd.u.nerp.dsn;
	uint32_t date = s->cmd.code == OFTP2_EERP ? s->cmd.u.eerp.date : s->cmd.u.nerp.date;
	uint32_t time = s->cmd.code == OFTP2_EERP ? s->cmd.u.eerp.time : s->cmd.u.nerp.time;
	struct oftp2_cmd c;
	char text[1024];
	size_t i;

	for (i = 0; i < s->nsent; i++)
		if (strcmp(s->sent[i].dsn, dsn) == 0 && s->sent[i].date == date &&
		    s->sent[i].time == time)
			break;
	if (s->cmd.code == OFTP2_NERP) {
		peer_text_escape(text, sizeof(text), &s->cmd.u.nerp.text);
		peer_error("NERP for '%s': reason %02u %s%s%s", dsn,
		    s->cmd.u.nerp.reason, oftp2_nerp_text(s->cmd.u.nerp.reason) ?
		    oftp2_nerp_text(s->cmd.u.nerp.reason) : "unknown reason code",
		    text[0] != '\0' ? ": " : "", text);
		s->failures++;
	} else if (i == s->nsent)
		peer_trace("EERP for '%s' of an earlier session", dsn);
	else {
		s->sent[i].eerp = 1;
		peer_trace("EERP: '%s' delivered", dsn);
	}
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_RTR;
	return peer_send(s, &c);
}

/* As listener: answer commands until we get the turn (1) or the end (0). */
static int
listener_turn(struct peer_session *s, int *speak)
{
	int r;

	*speak = 0;
	for (;;) {
		if ((r = peer_recv(s, "the partner's next command")) != 0)
			return r;
		if (s->awaiting_cd && s->cmd.code != OFTP2_CD)
			return peer_unexpected(s, "after EFPA asking for CD");
		switch (s->cmd.code) {
		case OFTP2_SFID:
			if ((r = peer_recv_file(s)) != 0)
				return r;
			break;
		case OFTP2_EERP:
		case OFTP2_NERP:
			if ((r = recv_end_response(s)) != 0)
				return r;
			break;
		case OFTP2_CD:
			if (s->sent_cd_last)
				return peer_unexpected(s, "right after our own CD");
			/* Solicited by our EFPA Y: we may not end the session at once. */
			s->cdind = !s->awaiting_cd;
			s->awaiting_cd = 0;
			*speak = 1;
			return 0;
		case OFTP2_ESID:
			if (s->cmd.u.esid.reason != OFTP2_ESID_NORMAL)
				return peer_unexpected(s, "while we are listener");
			s->normal_end = 1;
			return 0;
		default:
			return peer_unexpected(s, "while we are listener");
		}
	}
}

static int
send_eerps(struct peer_session *s)
{
	struct oftp2_cmd c;
	size_t i;
	int r;

	for (i = 0; i < s->nrecvd && s->o->eerp; i++) {
		struct peer_recvd *f = &s->recvd[i];

		if (f->eerp_sent)
			continue;
		memset(&c, 0, sizeof(c));
		c.code = OFTP2_EERP;
		memcpy(c.u.eerp.dsn, f->dsn, sizeof(f->dsn));
		c.u.eerp.date = f->date;
		c.u.eerp.time = f->time;
		memcpy(c.u.eerp.user, f->user, sizeof(f->user));
		memcpy(c.u.eerp.dest, f->orig, sizeof(f->orig));  /* back to the originator */
		memcpy(c.u.eerp.orig, f->dest, sizeof(f->dest));
		if ((r = peer_send(s, &c)) != 0)
			return r;
		f->eerp_sent = 1;
		s->cdind = 0;
		if ((r = peer_recv(s, "RTR")) != 0)
			return r;
		if (s->cmd.code != OFTP2_RTR)
			return peer_unexpected(s, "in answer to EERP");
	}
	return 0;
}

/* As speaker: EERPs, files, then CD (turn over) or ESID 00 (end). */
static int
speaker_turn(struct peer_session *s, int *listen)
{
	struct oftp2_cmd c;
	int r, solicited;

	*listen = 0;
	if ((r = send_eerps(s)) != 0)
		return r;
	solicited = 0;
	while (s->next_file < s->o->nsend_files) {
		size_t i = s->next_file++;

		if ((r = peer_send_file(s, s->o->send_files[i], s->o->send_names[i])) != 0)
			return r;
		s->cdind = 0;
		if (s->cmd.code == OFTP2_EFPA && s->cmd.u.efpa.cd) {
			/* The listener asked for the turn: CD is mandatory now. */
			solicited = 1;
			break;
		}
	}
	memset(&c, 0, sizeof(c));
	if (s->cdind) {
		c.code = OFTP2_ESID;
		c.u.esid.reason = OFTP2_ESID_NORMAL;
		if ((r = peer_send(s, &c)) != 0)
			return r;
		s->normal_end = 1;
		return 0;
	}
	c.code = OFTP2_CD;
	if ((r = peer_send(s, &c)) != 0)
		return r;
	/* After a solicited CD the new speaker may hand the turn straight back. */
	if (solicited)
		s->sent_cd_last = 0;
	*listen = 1;
	return 0;
}

static int
run(struct peer_session *s)
{
	int r, speaker = s->initiator, turn;

	if ((r = s->initiator ? start_initiator(s) : start_responder(s)) != 0)
		return r;
	peer_trace("session with '%s' started", s->partner->id);
	s->cdind = 0;
	while (!s->ended) {
		if (speaker)
			r = speaker_turn(s, &turn);
		else
			r = listener_turn(s, &turn);
		if (r != 0)
			return r;
		if (turn)
			speaker = !speaker;
		else
			break;
	}
	return s->normal_end ? 0 : SP_ERR_PROTOCOL;
}

/* Did every file reach the partner as asked? Report what did not. */
static int
check_outcome(struct peer_session *s)
{
	size_t i;
	int bad = s->failures > 0;

	if (s->next_file < s->o->nsend_files) {
		peer_error("%zu file(s) not sent: the session ended first",
		    s->o->nsend_files - s->next_file);
		bad = 1;
	}
	for (i = 0; i < s->nsent; i++) {
		if (!s->sent[i].accepted)
			bad = 1;
		else if (s->o->wait_eerp && !s->sent[i].eerp) {
			peer_error("no EERP received for '%s'", s->sent[i].dsn);
			bad = 1;
		}
	}
	return bad ? SP_ERR_DENIED : 0;
}

int
peer_session_run(struct peer_conn *conn, const struct peer_opts *o,
    int initiator, int dirfd)
{
	struct peer_session s;
	int r;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.conn = conn;
	s.initiator = initiator;
	s.dirfd = dirfd;
	sp_buf_init(&s.in, OFTP2_STB_MAX);
	sp_buf_init(&s.out, OFTP2_STB_MAX);

	r = run(&s);
	if (r == 0)
		r = check_outcome(&s);
	else if (!s.ended)
		peer_send_esid(&s, OFTP2_ESID_UNSPECIFIED, "unspecified abort");
	if (r == 0)
		peer_trace("session ended normally: %zu file(s) sent, %zu received",
		    s.nsent, s.nrecvd);

	sp_buf_free(&s.in);
	sp_buf_free(&s.out);
	free(s.sent);
	free(s.recvd);
	return r;
}
