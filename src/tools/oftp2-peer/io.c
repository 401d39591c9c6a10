/* io.c - framing and command I/O of an oftp2-peer session (see session.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "msg.h"
#include "session.h"
#include "trace.h"

static void
report_io_error(struct peer_session *s, int r, const char *what)
{
	if (r == SP_ERR_TIMEOUT) {
		peer_error("timed out after %u s waiting for %s", s->o->timeout_sec, what);
		peer_send_esid(s, OFTP2_ESID_TIMEOUT, "time out");
	} else if (r == SP_ERR_CLOSED)
		peer_error("connection closed by the partner while waiting for %s", what);
	else if (r == SP_ERR_SYSTEM)
		peer_error("network error while waiting for %s: %s", what, strerror(errno));
	else if (r != SP_ERR_TLS)  /* TLS errors are reported where they happen */
		peer_error("error while waiting for %s: %s", what, sp_strerror(r));
	s->ended = 1;
}

/* Read n more octets of the current frame into s->in. */
static int
read_more(struct peer_session *s, size_t n)
{
	uint8_t *p;
	size_t got;
	int r;

	if ((r = sp_buf_reserve(&s->in, n, &p, &got)) != 0)
		return r;
	if (got < n)
		return SP_ERR_LIMIT;
	if ((r = peer_conn_read_full(s->conn, p, n)) != 0)
		return r;
	sp_buf_commit(&s->in, n);
	return 0;
}

int
peer_recv(struct peer_session *s, const char *what)
{
	struct oftp2_frame f;
	struct oftp2_err err;
	int r;

	if (s->ended)
		return SP_ERR_CLOSED;
	memset(&err, 0, sizeof(err));
	sp_buf_reset(&s->in);
	if ((r = read_more(s, OFTP2_STH_LEN)) != 0)
		goto io_fail;
	r = oftp2_frame(sp_buf_ptr(&s->in), sp_buf_len(&s->in), 0, &f, &err);
	if (r == SP_ERR_SHORT) {
		if ((r = read_more(s, f.needed)) != 0)
			goto io_fail;
		r = oftp2_frame(sp_buf_ptr(&s->in), sp_buf_len(&s->in), 0, &f, &err);
	}
	if (r != 0)
		goto bad;
	s->cmd_len = f.oeb_len;
	if ((r = oftp2_parse(f.oeb, f.oeb_len, 0, &s->cmd, &err)) != 0)
		goto bad;
	s->sent_cd_last = s->cmd.code == OFTP2_CD ? s->sent_cd_last : 0;
	peer_trace_cmd('<', &s->cmd, s->cmd_len);
	if (s->cmd.code == OFTP2_DATA && s->cmd_len > s->p.sdeb && s->p.sdeb != 0) {
		peer_error("DATA buffer of %zu octets exceeds the negotiated %u",
		    s->cmd_len, (unsigned)s->p.sdeb);
		peer_send_esid(s, OFTP2_ESID_BUFFER_SIZE, "DATA buffer too large");
		return SP_ERR_PROTOCOL;
	}
	if (s->cmd.code == OFTP2_ESID)
		s->ended = 1;
	return 0;
io_fail:
	report_io_error(s, r, what);
	return r;
bad:
	if (r == SP_ERR_PROTOCOL) {
		peer_error("invalid buffer from the partner while waiting for %s: %s "
		    "(answering ESID %02u)", what, err.text, err.esid);
		peer_send_esid(s, err.esid, err.text);
	} else
		peer_error("while waiting for %s: %s", what, sp_strerror(r));
	return r;
}

int
peer_send_out(struct peer_session *s)
{
	int r;

	r = peer_conn_write_all(s->conn, sp_buf_ptr(&s->out), sp_buf_len(&s->out));
	sp_buf_reset(&s->out);
	if (r != 0) {
		if (r == SP_ERR_TIMEOUT)
			peer_error("timed out after %u s sending to the partner",
			    s->o->timeout_sec);
		else if (r == SP_ERR_SYSTEM)
			peer_error("network error while sending: %s", strerror(errno));
		else if (r != SP_ERR_TLS)
			peer_error("error while sending: %s", sp_strerror(r));
		s->ended = 1;
	}
	return r;
}

int
peer_send(struct peer_session *s, const struct oftp2_cmd *cmd)
{
	struct oftp2_err err;
	int r;

	memset(&err, 0, sizeof(err));
	sp_buf_reset(&s->out);
	if ((r = oftp2_build(&s->out, cmd, OFTP2_BUILD_STH, &err)) != 0) {
		peer_error("cannot build %s: %s", oftp2_cmd_name((uint8_t)cmd->code),
		    err.text[0] != '\0' ? err.text : sp_strerror(r));
		return r;
	}
	peer_trace_cmd('>', cmd, sp_buf_len(&s->out) - OFTP2_STH_LEN);
	s->sent_cd_last = cmd->code == OFTP2_CD;
	if (cmd->code == OFTP2_ESID)
		s->ended = 1;
	return peer_send_out(s);
}

void
peer_send_esid(struct peer_session *s, unsigned reason, const char *text)
{
	struct oftp2_cmd c;

	if (s->ended)
		return;
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_ESID;
	c.u.esid.reason = (uint8_t)reason;
	c.u.esid.text.ptr = (const uint8_t *)text;
	c.u.esid.text.len = text != NULL ? strlen(text) : 0;
	if (c.u.esid.text.len > OFTP2_TEXT_MAX)
		c.u.esid.text.len = OFTP2_TEXT_MAX;
	(void)peer_send(s, &c);
	s->ended = 1;
	s->normal_end = reason == OFTP2_ESID_NORMAL;
}

int
peer_unexpected(struct peer_session *s, const char *state)
{
	const struct oftp2_esid *e = &s->cmd.u.esid;
	char msg[128], text[1024];

	if (s->cmd.code == OFTP2_ESID) {
		peer_text_escape(text, sizeof(text), &e->text);
		peer_error("session ended by the partner %s: ESID %02u %s%s%s%s",
		    state, e->reason, peer_esid_meaning(e->reason),
		    text[0] != '\0' ? " (\"" : "", text, text[0] != '\0' ? "\")" : "");
		return SP_ERR_DENIED;
	}
	snprintf(msg, sizeof(msg), "%s not valid %s",
	    oftp2_cmd_name((uint8_t)s->cmd.code), state);
	peer_error("protocol violation by the partner: %s (answering ESID 02)", msg);
	peer_send_esid(s, OFTP2_ESID_PROTOCOL, msg);
	return SP_ERR_PROTOCOL;
}
