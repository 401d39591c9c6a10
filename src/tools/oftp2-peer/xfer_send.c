/* xfer_send.c - the speaker's side of one file (see session.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "msg.h"
#include "session.h"
#include "store.h"
#include "trace.h"

#define PEER_TX_CHUNK (64 * 1024)

struct tx {
	struct peer_session *s;
	struct oftp2_data_enc enc;
	unsigned credit;       /* DATA buffers we may still send */
	uint64_t buffers;
	uint64_t cdts;         /* credit windows granted by CDT */
};

/* SFIDDATE / SFIDTIME: now, with a per-session counter so two files sent in
 * the same second still differ (EERPs are matched on DSN, date and time). */
static void
stamp(struct peer_session *s, uint32_t *date, uint32_t *tim)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	s->counter = s->counter % 9999 + 1;
	*date = (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
	*tim = (uint32_t)(tm.tm_hour * 10000 + tm.tm_min * 100 + tm.tm_sec) * 10000u +
	    s->counter;
}

/* Credit is gone: the listener owes us a CDT before anything else. */
static int
wait_credit(struct tx *t)
{
	int r;

	if ((r = peer_recv(t->s, "CDT (credit)")) != 0)
		return r;
	if (t->s->cmd.code != OFTP2_CDT)
		return peer_unexpected(t->s, "while we wait for credit");
	t->credit = t->s->p.credit;
	t->cdts++;
	return 0;
}

static int
send_ready(struct tx *t)
{
	struct oftp2_cmd c;
	int r;

	if (t->credit == 0 && (r = wait_credit(t)) != 0)
		return r;
	sp_buf_reset(&t->s->out);
	if ((r = oftp2_data_enc_take(&t->enc, &t->s->out, OFTP2_BUILD_STH)) != 0) {
		peer_error("DATA encoder: %s", sp_strerror(r));
		return r;
	}
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_DATA;
	peer_trace_cmd('>', &c, sp_buf_len(&t->s->out) - OFTP2_STH_LEN);
	t->credit--;
	t->buffers++;
	return peer_send_out(t->s);
}

/* Run one encoder step that may return SP_ERR_AGAIN until it is done. */
static int
drain(struct tx *t, int (*step)(struct oftp2_data_enc *))
{
	int r;

	while ((r = step(&t->enc)) == SP_ERR_AGAIN) {
		if (!oftp2_data_enc_ready(&t->enc))
			return SP_ERR_INVALID;
		if ((r = send_ready(t)) != 0)
			return r;
	}
	return r;
}

static int
feed(struct tx *t, const uint8_t *p, size_t n)
{
	size_t used;
	int r;

	while (n > 0) {
		used = 0;
		r = oftp2_data_enc_write(&t->enc, p, n, &used);
		if (r != 0 && r != SP_ERR_AGAIN)
			return r;
		if (used > n)
			return SP_ERR_INVALID;
		p += used;
		n -= used;
		if (oftp2_data_enc_ready(&t->enc)) {
			if ((r = send_ready(t)) != 0)
				return r;
		} else if (used == 0)
			return SP_ERR_INVALID;  /* no progress: encoder bug */
	}
	return 0;
}

/* Stream the file through the encoder: never more than one chunk in memory. */
static int
send_data(struct tx *t, struct peer_tx_file *f, unsigned reclen)
{
	uint8_t *chunk;
	size_t got, off, take, in_record = 0;
	int r = 0;

	if ((chunk = malloc(PEER_TX_CHUNK)) == NULL)
		return SP_ERR_NOMEM;
	for (;;) {
		if ((r = peer_tx_read(f, chunk, PEER_TX_CHUNK, &got)) != 0 || got == 0)
			break;
		for (off = 0; off < got && r == 0; off += take) {
			take = got - off;
			if (reclen != 0 && take > reclen - in_record)
				take = reclen - in_record;
			if ((r = feed(t, chunk + off, take)) != 0)
				break;
			if (reclen != 0 && (in_record += take) == reclen) {
				in_record = 0;
				r = drain(t, oftp2_data_enc_end_record);
			}
		}
		if (r != 0)
			break;
	}
	free(chunk);
	if (r == 0)
		r = drain(t, oftp2_data_enc_finish);
	if (r == 0 && oftp2_data_enc_ready(&t->enc))
		r = send_ready(t);
	if (r == SP_ERR_INVALID)
		peer_error("DATA encoder failed on %s", f->path);
	return r;
}

static int
build_sfid(struct peer_session *s, struct peer_tx_file *f, struct oftp2_cmd *c)
{
	struct oftp2_sfid *sf = &c->u.sfid;
	uint64_t kib = (f->size + 1023) / 1024;

	memset(c, 0, sizeof(*c));
	c->code = OFTP2_SFID;
	memcpy(sf->dsn, f->vfn, sizeof(sf->dsn));
	stamp(s, &sf->date, &sf->time);
	snprintf(sf->dest, sizeof(sf->dest), "%s", s->partner->id);
	snprintf(sf->orig, sizeof(sf->orig), "%s", s->o->id);
	sf->format = (enum oftp2_format)s->o->format;
	sf->lrecl = s->o->format == 'F' ? s->o->record_length : 0;
	sf->fsiz = kib;
	sf->osiz = kib;
	return 0;
}

static int
add_sent(struct peer_session *s, const struct oftp2_sfid *sf)
{
	struct peer_sent *n = realloc(s->sent, (s->nsent + 1) * sizeof(*n));

	if (n == NULL)
		return SP_ERR_NOMEM;
	s->sent = n;
	n = &s->sent[s->nsent++];
	memset(n, 0, sizeof(*n));
	memcpy(n->dsn, sf->dsn, sizeof(n->dsn));
	n->date = sf->date;
	n->time = sf->time;
	return 0;
}

static void
report_refusal(struct peer_session *s, const char *path)
{
	char text[1024];

	if (s->cmd.code == OFTP2_SFNA) {
		peer_text_escape(text, sizeof(text), &s->cmd.u.sfna.text);
		peer_error("%s refused by the partner: SFNA %02u %s%s%s", path,
		    s->cmd.u.sfna.reason, oftp2_sfna_text(s->cmd.u.sfna.reason) ?
		    oftp2_sfna_text(s->cmd.u.sfna.reason) : "unknown reason code",
		    text[0] != '\0' ? ": " : "", text);
	} else {
		peer_text_escape(text, sizeof(text), &s->cmd.u.efna.text);
		peer_error("%s refused by the partner: EFNA %02u %s%s%s", path,
		    s->cmd.u.efna.reason, oftp2_efna_text(s->cmd.u.efna.reason) ?
		    oftp2_efna_text(s->cmd.u.efna.reason) : "unknown reason code",
		    text[0] != '\0' ? ": " : "", text);
	}
	s->failures++;
}

int
peer_send_file(struct peer_session *s, const char *path, const char *vfn)
{
	struct peer_tx_file f;
	struct oftp2_cmd c;
	struct tx t;
	unsigned reclen = s->o->format == 'F' ? s->o->record_length : 0;
	int r;

	memset(&t, 0, sizeof(t));
	t.s = s;
	if ((r = peer_tx_open(&f, path)) != 0) {
		s->failures++;
		return 0;  /* a local problem with one file: go on with the others */
	}
	if (vfn != NULL)
		snprintf(f.vfn, sizeof(f.vfn), "%s", vfn);
	if (reclen != 0 && f.size % reclen != 0) {
		peer_error("%s: size %" PRIu64 " is not a multiple of the record "
		    "length %u", path, f.size, reclen);
		s->failures++;
		peer_tx_close(&f);
		return 0;
	}
	build_sfid(s, &f, &c);
	if ((r = add_sent(s, &c.u.sfid)) != 0 || (r = peer_send(s, &c)) != 0)
		goto out;
	if ((r = peer_recv(s, "SFPA/SFNA")) != 0)
		goto out;
	if (s->cmd.code == OFTP2_SFNA) {
		report_refusal(s, path);
		goto out;
	}
	if (s->cmd.code != OFTP2_SFPA) {
		r = peer_unexpected(s, "in answer to SFID");
		goto out;
	}
	/* SFPA arms the credit window (ref §5.5). */
	t.credit = s->p.credit;
	if ((r = oftp2_data_enc_init(&t.enc, c.u.sfid.format, s->p.compression,
	    s->p.sdeb)) != 0)
		goto out;
	if ((r = send_data(&t, &f, reclen)) != 0)
		goto out;
	/* EFID needs credit left (ref §5.4, DATA state). */
	if (t.credit == 0 && (r = wait_credit(&t)) != 0)
		goto out;
	memset(&c, 0, sizeof(c));
	c.code = OFTP2_EFID;
	c.u.efid.ucnt = t.enc.octets;
	c.u.efid.rcnt = reclen != 0 ? t.enc.records : 0;
	if ((r = peer_send(s, &c)) != 0)
		goto out;
	if ((r = peer_recv(s, "EFPA/EFNA")) != 0)
		goto out;
	if (s->cmd.code == OFTP2_EFNA)
		report_refusal(s, path);
	else if (s->cmd.code == OFTP2_EFPA) {
		s->sent[s->nsent - 1].accepted = 1;
		peer_trace("sent %s as '%s': %" PRIu64 " octets in %" PRIu64
		    " DATA buffers, %" PRIu64 " CDT, accepted", path, f.vfn,
		    t.enc.octets, t.buffers, t.cdts);
	} else
		r = peer_unexpected(s, "in answer to EFID");
out:
	oftp2_data_enc_free(&t.enc);
	peer_tx_close(&f);
	return r;
}
