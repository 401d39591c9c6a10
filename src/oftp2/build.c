/*
 * oftp2/build.c - serialise struct oftp2_cmd into an exchange buffer.
 *
 * One serialiser runs twice: first measuring (and catching values that do not
 * fit their field width), then writing into space reserved in the caller's
 * sp_buf. The written octets are then parsed back with the strict parser, so
 * the builder accepts exactly what the parser accepts; only then are they
 * committed. On any failure the caller's buffer is unchanged.
 */
#include "oftp2/fields.h"

#include <string.h>

#include "core/err.h"

/* Writer: p == NULL measures only. `bad` names the first field that does not
 * fit, with `why`. */
struct bw {
	uint8_t *p;
	size_t pos;
	const char *bad;
	const char *why;
	size_t bad_off;
};

static void
w_fail(struct bw *w, const char *field, const char *why)
{
	if (w->bad == NULL) {
		w->bad = field;
		w->why = why;
		w->bad_off = w->pos;
	}
}

static void
w_bytes(struct bw *w, const void *s, size_t n)
{
	if (w->p != NULL && n > 0)
		memcpy(w->p + w->pos, s, n);
	w->pos += n;
}

static void
w_u8(struct bw *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

/* One-octet enum stored as its ASCII letter. */
static void
w_letter(struct bw *w, const char *field, unsigned v)
{
	if (v > 0xff)
		w_fail(w, field, "is not a letter code");
	w_u8(w, (uint8_t)v);
}

static void
w_yn(struct bw *w, bool v)
{
	w_u8(w, v ? 'Y' : 'N');
}

/* X(n): the string, space-padded. */
static void
w_x(struct bw *w, const char *field, const char *s, size_t n)
{
	size_t sl = strnlen(s, n + 1);

	if (sl > n) {
		w_fail(w, field, "is longer than the field");
		sl = n;
	}
	if (w->p != NULL) {
		memcpy(w->p + w->pos, s, sl);
		memset(w->p + w->pos + sl, ' ', n - sl);
	}
	w->pos += n;
}

/* 9(n): right-justified, zero-padded digits. */
static void
w_num(struct bw *w, const char *field, uint64_t v, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--) {
		if (w->p != NULL)
			w->p[w->pos + i - 1] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
	if (v != 0)
		w_fail(w, field, "does not fit its digits");
	w->pos += n;
}

static void
w_u16(struct bw *w, const char *field, size_t v)
{
	if (v > 0xffff)
		w_fail(w, field, "exceeds 65535");
	w_u8(w, (uint8_t)(v >> 8));
	w_u8(w, (uint8_t)v);
}

static void
w_var(struct bw *w, const char *field, const struct oftp2_bytes *b)
{
	if (b->len > 0 && b->ptr == NULL) {
		w_fail(w, field, "has a length but no data");
		w->pos += b->len;
		return;
	}
	w_bytes(w, b->ptr, b->len);
}

/* T(n) with its 9(3) length field first. */
static void
w_text(struct bw *w, const char *lfield, const char *field,
    const struct oftp2_bytes *b)
{
	if (b->len > OFTP2_TEXT_MAX) {
		w_fail(w, lfield, "text is longer than 999 octets");
		w_num(w, lfield, 0, 3);
		return;
	}
	w_num(w, lfield, b->len, 3);
	w_var(w, field, b);
}

static void
w_cr(struct bw *w, const char *field, uint8_t cr)
{
	if (cr != 0 && cr != OFTP2_CR && cr != OFTP2_CR_HIGH)
		w_fail(w, field, "is not 0, 0x0d or 0x8d");
	w_u8(w, cr == OFTP2_CR_HIGH ? OFTP2_CR_HIGH : OFTP2_CR);
}

static void
w_hash_sig(struct bw *w, const char *hshl, const char *hsh, const char *sigl,
    const char *sig, const struct oftp2_bytes *h, const struct oftp2_bytes *s)
{
	w_u16(w, hshl, h->len);
	w_var(w, hsh, h);
	w_u16(w, sigl, s->len);
	w_var(w, sig, s);
}

static void
serialise(struct bw *w, const struct oftp2_cmd *cmd)
{
	const struct oftp2_ssid *ss = &cmd->u.ssid;
	const struct oftp2_sfid *sf = &cmd->u.sfid;
	const struct oftp2_eerp *ee = &cmd->u.eerp;
	const struct oftp2_nerp *ne = &cmd->u.nerp;

	w_letter(w, "CMD", cmd->code);
	switch (cmd->code) {
	case OFTP2_SSRM:
		w_bytes(w, "ODETTE FTP READY ", 17);
		w_cr(w, "SSRMCR", cmd->u.ssrm.cr);
		break;
	case OFTP2_SSID:
		w_num(w, "SSIDLEV", ss->level, 1);
		w_x(w, "SSIDCODE", ss->code, OFTP2_SIO_LEN);
		w_x(w, "SSIDPSWD", ss->password, OFTP2_PSWD_LEN);
		w_num(w, "SSIDSDEB", ss->sdeb, 5);
		w_letter(w, "SSIDSR", ss->mode);
		w_yn(w, ss->compression);
		w_yn(w, ss->restart);
		w_yn(w, ss->special);
		w_num(w, "SSIDCRED", ss->credit, 3);
		w_yn(w, ss->auth);
		w_bytes(w, "    ", 4);
		w_x(w, "SSIDUSER", ss->user, OFTP2_USER_LEN);
		w_cr(w, "SSIDCR", ss->cr);
		break;
	case OFTP2_SFID:
		w_x(w, "SFIDDSN", sf->dsn, OFTP2_DSN_LEN);
		w_bytes(w, "   ", 3);
		w_num(w, "SFIDDATE", sf->date, 8);
		w_num(w, "SFIDTIME", sf->time, 10);
		w_x(w, "SFIDUSER", sf->user, OFTP2_USER_LEN);
		w_x(w, "SFIDDEST", sf->dest, OFTP2_SIO_LEN);
		w_x(w, "SFIDORIG", sf->orig, OFTP2_SIO_LEN);
		w_letter(w, "SFIDFMT", sf->format);
		w_num(w, "SFIDLRECL", sf->lrecl, 5);
		w_num(w, "SFIDFSIZ", sf->fsiz, 13);
		w_num(w, "SFIDOSIZ", sf->osiz, 13);
		w_num(w, "SFIDREST", sf->rest, 17);
		w_num(w, "SFIDSEC", sf->sec, 2);
		w_num(w, "SFIDCIPH", sf->ciph, 2);
		w_num(w, "SFIDCOMP", sf->comp, 1);
		w_num(w, "SFIDENV", sf->env, 1);
		w_yn(w, sf->sign);
		w_text(w, "SFIDDESCL", "SFIDDESC", &sf->desc);
		break;
	case OFTP2_SFPA:
		w_num(w, "SFPAACNT", cmd->u.sfpa.acnt, 17);
		break;
	case OFTP2_SFNA:
		w_num(w, "SFNAREAS", cmd->u.sfna.reason, 2);
		w_yn(w, cmd->u.sfna.retry);
		w_text(w, "SFNAREASL", "SFNAREAST", &cmd->u.sfna.text);
		break;
	case OFTP2_DATA:
		w_var(w, "DATABUF", &cmd->u.data.buf);
		break;
	case OFTP2_CDT:
		w_bytes(w, "  ", 2);
		break;
	case OFTP2_EFID:
		w_num(w, "EFIDRCNT", cmd->u.efid.rcnt, 17);
		w_num(w, "EFIDUCNT", cmd->u.efid.ucnt, 17);
		break;
	case OFTP2_EFPA:
		w_yn(w, cmd->u.efpa.cd);
		break;
	case OFTP2_EFNA:
		w_num(w, "EFNAREAS", cmd->u.efna.reason, 2);
		w_text(w, "EFNAREASL", "EFNAREAST", &cmd->u.efna.text);
		break;
	case OFTP2_ESID:
		w_num(w, "ESIDREAS", cmd->u.esid.reason, 2);
		w_text(w, "ESIDREASL", "ESIDREAST", &cmd->u.esid.text);
		w_cr(w, "ESIDCR", cmd->u.esid.cr);
		break;
	case OFTP2_EERP:
		w_x(w, "EERPDSN", ee->dsn, OFTP2_DSN_LEN);
		w_bytes(w, "   ", 3);
		w_num(w, "EERPDATE", ee->date, 8);
		w_num(w, "EERPTIME", ee->time, 10);
		w_x(w, "EERPUSER", ee->user, OFTP2_USER_LEN);
		w_x(w, "EERPDEST", ee->dest, OFTP2_SIO_LEN);
		w_x(w, "EERPORIG", ee->orig, OFTP2_SIO_LEN);
		w_hash_sig(w, "EERPHSHL", "EERPHSH", "EERPSIGL", "EERPSIG",
		    &ee->hash, &ee->sig);
		break;
	case OFTP2_NERP:
		w_x(w, "NERPDSN", ne->dsn, OFTP2_DSN_LEN);
		w_bytes(w, "      ", 6);
		w_num(w, "NERPDATE", ne->date, 8);
		w_num(w, "NERPTIME", ne->time, 10);
		w_x(w, "NERPDEST", ne->dest, OFTP2_SIO_LEN);
		w_x(w, "NERPORIG", ne->orig, OFTP2_SIO_LEN);
		w_x(w, "NERPCREA", ne->crea, OFTP2_SIO_LEN);
		w_num(w, "NERPREAS", ne->reason, 2);
		w_text(w, "NERPREASL", "NERPREAST", &ne->text);
		w_hash_sig(w, "NERPHSHL", "NERPHSH", "NERPSIGL", "NERPSIG",
		    &ne->hash, &ne->sig);
		break;
	case OFTP2_AUCH:
		w_u16(w, "AUCHCHLL", cmd->u.auch.challenge.len);
		w_var(w, "AUCHCHAL", &cmd->u.auch.challenge);
		break;
	case OFTP2_AURP:
		w_bytes(w, cmd->u.aurp.response, OFTP2_AURP_LEN);
		break;
	case OFTP2_SECD:
	case OFTP2_CD:
	case OFTP2_RTR:
		break;
	default:
		w_fail(w, NULL, "is not an OFTP2 command code");
		break;
	}
}

/* Strict re-parse of what was written: the single source of field rules. */
static int
verify(const uint8_t *oeb, size_t len, struct oftp2_err *err)
{
	struct oftp2_cmd back;
	int r;

	if ((r = oftp2_parse(oeb, len, 0, &back, err)) != 0)
		return SP_ERR_INVALID;
	if (back.code == OFTP2_DATA &&
	    oftp2_data_check(back.u.data.buf.ptr, back.u.data.buf.len, true,
	    NULL, err) != 0)
		return SP_ERR_INVALID;
	return 0;
}

int
oftp2_build(struct sp_buf *out, const struct oftp2_cmd *cmd, unsigned flags,
    struct oftp2_err *err)
{
	struct bw w = { 0 };
	size_t sth = (flags & OFTP2_BUILD_STH) ? OFTP2_STH_LEN : 0;
	size_t oeb_len, total, got;
	uint8_t *p;
	int r;

	serialise(&w, cmd);
	oeb_len = w.pos;
	if (w.bad != NULL)
		return oftp2_err_set(err, SP_ERR_INVALID, OFTP2_ESID_INVALID_DATA,
		    (uint8_t)cmd->code, w.bad, w.bad_off, "%s", w.why);
	if (oeb_len > OFTP2_OEB_MAX)
		return oftp2_err_set(err, SP_ERR_INVALID, OFTP2_ESID_BUFFER_SIZE,
		    (uint8_t)cmd->code, NULL, 0,
		    "%zu octets exceed the 99999 maximum", oeb_len);
	total = sth + oeb_len;
	if (total > sp_buf_room(out))
		return SP_ERR_LIMIT;
	if ((r = sp_buf_reserve(out, total, &p, &got)) != 0)
		return r;
	if (got < total)
		return SP_ERR_LIMIT;
	if (sth > 0) {
		p[0] = OFTP2_STH_OCTET0;
		p[1] = (uint8_t)((total >> 16) & 0xff);
		p[2] = (uint8_t)((total >> 8) & 0xff);
		p[3] = (uint8_t)(total & 0xff);
	}
	memset(&w, 0, sizeof(w));
	w.p = p + sth;
	serialise(&w, cmd);
	if ((r = verify(p + sth, oeb_len, err)) != 0)
		return r;
	sp_buf_commit(out, total);
	return 0;
}

int
oftp2_check(const struct oftp2_cmd *cmd, struct oftp2_err *err)
{
	struct sp_buf b;
	int r;

	sp_buf_init(&b, OFTP2_OEB_MAX);
	r = oftp2_build(&b, cmd, 0, err);
	sp_buf_free(&b);
	return r;
}
