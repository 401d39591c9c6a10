/* xfer_recv.c - the listener's side of one file (see session.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "msg.h"
#include "session.h"
#include "store.h"
#include "trace.h"

struct rx {
	struct peer_session *s;
	struct peer_rx_file file;
	struct peer_recvd info;     /* kept for the EERP once accepted */
	enum oftp2_format format;
	uint32_t lrecl;
	uint64_t records;
	uint64_t record_len;        /* octets of the record being received */
	unsigned bad_reason;        /* EFNA reason found during DATA, 0 if none */
	char bad_text[160];
};

static int
send_sfna(struct peer_session *s, unsigned reason, const char *text)
{
	struct oftp2_cmd c;

	peer_error("refusing file '%s': SFNA %02u %s", s->cmd.u.sfid.dsn, reason, text);
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SFNA;
	c.u.sfna.reason = (uint8_t)reason;
	c.u.sfna.retry = false;
	c.u.sfna.text.ptr = (const uint8_t *)text;
	c.u.sfna.text.len = strlen(text);
	s->failures++;
	return peer_send(s, &c);
}

/* What this endpoint can store: plain F, U and T files for us. */
static int
check_sfid(struct peer_session *s, char *name)
{
	const struct oftp2_sfid *sf = &s->cmd.u.sfid;

	if (sf->rest != 0 && !s->p.restart) {
		peer_error("SFID restart position %" PRIu64 " without restart "
		    "negotiated (answering ESID 02)", sf->rest);
		peer_send_esid(s, OFTP2_ESID_PROTOCOL, "restart was not negotiated");
		return SP_ERR_PROTOCOL;
	}
	if (strcmp(sf->dest, s->o->id) != 0)
		return send_sfna(s, OFTP2_SFNA_INVALID_DEST, "destination is not this site");
	if (sf->format == OFTP2_FMT_VARIABLE)
		return send_sfna(s, OFTP2_SFNA_FORMAT_UNSUPPORTED, "V format not supported");
	if (sf->format == OFTP2_FMT_FIXED && sf->lrecl == 0)
		return send_sfna(s, OFTP2_SFNA_LRECL_UNSUPPORTED, "F format needs a record length");
	if (sf->env != OFTP2_ENV_NONE || sf->sec != OFTP2_SEC_NONE)
		return send_sfna(s, OFTP2_SFNA_ENCRYPTED_REFUSED, "file services not supported");
	if (sf->comp != OFTP2_COMP_NONE)
		return send_sfna(s, OFTP2_SFNA_COMPRESSION_REFUSED, "file compression not supported");
	if (sf->sign)
		return send_sfna(s, OFTP2_SFNA_SIGNED_REFUSED, "signed EERP not supported");
	if (peer_store_name((const uint8_t *)sf->dsn, strlen(sf->dsn), name) != 0)
		return send_sfna(s, OFTP2_SFNA_INVALID_FILENAME, "no usable file name");
	return 1;
}

static void
mark_bad(struct rx *x, unsigned reason, const char *text)
{
	if (x->bad_reason == 0) {
		x->bad_reason = reason;
		snprintf(x->bad_text, sizeof(x->bad_text), "%s", text);
	}
}

/* Write the file octets of one DATA buffer; records ended are counted. */
static int
store_data(struct rx *x)
{
	struct peer_session *s = x->s;
	struct oftp2_subrec sr;
	struct oftp2_err err;
	struct sp_rd rd;
	uint8_t run[OFTP2_SUBREC_MAX];
	int r;

	memset(&err, 0, sizeof(err));
	sp_rd_init(&rd, s->cmd.u.data.buf.ptr, s->cmd.u.data.buf.len);
	while ((r = oftp2_data_next(&rd, s->p.compression, &sr, &err)) == 0) {
		if (sr.cf) {
			memset(run, sr.ptr[0], sr.count);
			r = peer_rx_write(&x->file, run, sr.count);
		} else
			r = peer_rx_write(&x->file, sr.ptr, sr.count);
		if (r != 0) {
			mark_bad(x, OFTP2_SFNA_ACCESS_FAILURE, "cannot write the file");
			return 0;
		}
		x->record_len += sr.count;
		if (sr.eor) {
			if (x->format == OFTP2_FMT_FIXED && x->record_len != x->lrecl)
				mark_bad(x, OFTP2_SFNA_INVALID_RECORD_COUNT,
				    "record length differs from SFIDLRECL");
			x->records++;
			x->record_len = 0;
		}
	}
	if (r == SP_ERR_SHORT)
		return 0;
	peer_error("invalid DATA buffer: %s (answering ESID %02u)", err.text, err.esid);
	peer_send_esid(s, err.esid, err.text);
	return r;
}

static int
end_file(struct rx *x)
{
	struct peer_session *s = x->s;
	const struct oftp2_efid *e = &s->cmd.u.efid;
	uint64_t octets = x->file.bytes;
	struct oftp2_cmd c;
	struct peer_recvd *n;
	char msg[160];

	if (x->bad_reason == 0 && e->ucnt != octets) {
		snprintf(msg, sizeof(msg), "EFIDUCNT %" PRIu64 " but %" PRIu64
		    " octets received", e->ucnt, octets);
		mark_bad(x, OFTP2_SFNA_INVALID_BYTE_COUNT, msg);
	}
	if (x->bad_reason == 0 && x->format == OFTP2_FMT_FIXED && e->rcnt != x->records) {
		snprintf(msg, sizeof(msg), "EFIDRCNT %" PRIu64 " but %" PRIu64
		    " records received", e->rcnt, x->records);
		mark_bad(x, OFTP2_SFNA_INVALID_RECORD_COUNT, msg);
	}
	if (x->bad_reason == 0 && peer_rx_commit(&x->file) != 0)
		mark_bad(x, OFTP2_SFNA_ACCESS_FAILURE, "cannot store the file");
	memset(&c, 0, sizeof(c));
	if (x->bad_reason != 0) {
		peer_rx_abort(&x->file);
		peer_error("refusing file '%s': EFNA %02u %s", x->info.dsn,
		    x->bad_reason, x->bad_text);
		s->failures++;
		c.code = OFTP2_EFNA;
		c.u.efna.reason = (uint8_t)x->bad_reason;
		c.u.efna.text.ptr = (const uint8_t *)x->bad_text;
		c.u.efna.text.len = strlen(x->bad_text);
		return peer_send(s, &c);
	}
	peer_trace("received '%s' into %s: %" PRIu64 " octets", x->info.dsn,
	    x->file.name, octets);
	n = realloc(s->recvd, (s->nrecvd + 1) * sizeof(*n));
	if (n == NULL)
		return SP_ERR_NOMEM;
	s->recvd = n;
	s->recvd[s->nrecvd++] = x->info;
	c.code = OFTP2_EFPA;
	c.u.efpa.cd = s->o->efpa_cd;
	s->awaiting_cd = s->o->efpa_cd;
	return peer_send(s, &c);
}

int
peer_recv_file(struct peer_session *s)
{
	const struct oftp2_sfid *sf = &s->cmd.u.sfid;
	char name[PEER_NAME_MAX];
	unsigned credit;
	struct oftp2_cmd c;
	struct rx x;
	int r;

	memset(&x, 0, sizeof(x));
	x.file.fd = -1;
	x.s = s;
	if ((r = check_sfid(s, name)) != 1)
		return r;
	memcpy(x.info.dsn, sf->dsn, sizeof(x.info.dsn));
	x.info.date = sf->date;
	x.info.time = sf->time;
	memcpy(x.info.user, sf->user, sizeof(x.info.user));
	memcpy(x.info.orig, sf->orig, sizeof(x.info.orig));
	memcpy(x.info.dest, sf->dest, sizeof(x.info.dest));
	x.format = sf->format;
	x.lrecl = sf->lrecl;
	if (peer_rx_begin(&x.file, s->dirfd, name) != 0) {
		peer_rx_abort(&x.file);
		return send_sfna(s, OFTP2_SFNA_ACCESS_FAILURE, "cannot create the file");
	}
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_SFPA;
	if ((r = peer_send(s, &c)) != 0)
		goto out;
	credit = s->p.credit;
	for (;;) {
		if ((r = peer_recv(s, "DATA or EFID")) != 0)
			goto out;
		if (s->cmd.code == OFTP2_EFID) {
			r = end_file(&x);
			goto out;
		}
		if (s->cmd.code != OFTP2_DATA) {
			r = peer_unexpected(s, "during a file transfer");
			goto out;
		}
		if (credit == 0) {
			r = peer_unexpected(s, "without credit");
			goto out;
		}
		if ((r = store_data(&x)) != 0)
			goto out;
		/* Give new credit as soon as the window is used up (ref §5.5). */
		if (--credit == 0) {
			memset(&c, 0, sizeof(c));
			c.code = OFTP2_CDT;
			if ((r = peer_send(s, &c)) != 0)
				goto out;
			credit = s->p.credit;
		}
	}
out:
	peer_rx_abort(&x.file);
	return r;
}
