/*
 * oftp2/data_enc.c - streaming encoder of DATA exchange buffers (ref §4).
 * The contract is in codec.h (struct oftp2_data_enc). The encoder keeps one
 * OEB under construction in e->cur and edits the header of its last
 * subrecord in place: to grow it, to extend a compressed run, or to set EoR
 * once the end of the record is known.
 */
#include "oftp2/fields.h"

#include <string.h>

#include "core/err.h"

/* Runs this long or longer become CF subrecords: at 3 a CF subrecord is no
 * longer than the literal octets, and it reproduces ref §11's example. */
#define RUN_MIN 3

int
oftp2_data_enc_init(struct oftp2_data_enc *e, enum oftp2_format format,
    bool compression, size_t sdeb)
{
	memset(e, 0, sizeof(*e));
	if (format != OFTP2_FMT_FIXED && format != OFTP2_FMT_VARIABLE &&
	    format != OFTP2_FMT_UNSTRUCTURED && format != OFTP2_FMT_TEXT)
		return SP_ERR_INVALID;
	/* 'D' + header + one octet is the least that makes progress. */
	if (sdeb < 3 || sdeb > OFTP2_OEB_MAX)
		return SP_ERR_INVALID;
	e->format = format;
	e->compression = compression;
	e->sdeb = sdeb;
	sp_buf_init(&e->cur, sdeb);
	return 0;
}

void
oftp2_data_enc_free(struct oftp2_data_enc *e)
{
	sp_buf_free(&e->cur);
	e->ready = false;
	e->last_hdr = 0;
	e->last_open = false;
}

bool
oftp2_data_enc_ready(const struct oftp2_data_enc *e)
{
	return e->ready;
}

/* Our own buffer: the header of the last subrecord. */
static uint8_t *
last_hdr(struct oftp2_data_enc *e)
{
	return e->cur.data + e->cur.off + e->last_hdr;
}

static int
open_buffer(struct oftp2_data_enc *e)
{
	return e->cur.len == 0 ? sp_buf_put_u8(&e->cur, OFTP2_DATA) : 0;
}

static int
new_subrec(struct oftp2_data_enc *e, uint8_t hdr, const uint8_t *p, size_t n)
{
	size_t at = e->cur.len;
	int r;

	if ((r = sp_buf_put_u8(&e->cur, hdr)) != 0 ||
	    (r = sp_buf_put(&e->cur, p, n)) != 0) {
		e->cur.len = at;        /* drop a half-added subrecord */
		return r;
	}
	e->last_hdr = at;
	e->last_open = (hdr & OFTP2_SUBREC_EOR) == 0;
	return 0;
}

static size_t
run_len(const uint8_t *p, size_t n)
{
	size_t k = 1;

	while (k < n && k < OFTP2_SUBREC_MAX && p[k] == p[0])
		k++;
	return k;
}

/* Octets from p that go out literally: up to where a run starts, at most
 * one subrecord's worth. */
static size_t
literal_span(const struct oftp2_data_enc *e, const uint8_t *p, size_t n)
{
	size_t k = 0, lim = n < OFTP2_SUBREC_MAX ? n : OFTP2_SUBREC_MAX;

	if (!e->compression)
		return lim;
	while (k < lim && run_len(p + k, n - k) < RUN_MIN)
		k++;
	return k > 0 ? k : 1;
}

int
oftp2_data_enc_write(struct oftp2_data_enc *e, const void *vp, size_t n,
    size_t *used)
{
	const uint8_t *p = vp;
	size_t i = 0, room, take, run;
	uint8_t *h, hdr;
	int r = 0;

	*used = 0;
	if (e->finished)
		return SP_ERR_INVALID;
	if (e->ready)
		return SP_ERR_AGAIN;
	while (i < n) {
		if ((r = open_buffer(e)) != 0)
			break;
		room = sp_buf_room(&e->cur);
		h = e->last_open ? last_hdr(e) : NULL;
		/* A run continuing the last compressed subrecord costs 0. */
		if (h != NULL && (*h & OFTP2_SUBREC_CF) &&
		    (*h & OFTP2_SUBREC_COUNT) < OFTP2_SUBREC_MAX && h[1] == p[i]) {
			(*h)++;
			i++;
			continue;
		}
		run = e->compression ? run_len(p + i, n - i) : 1;
		if (run >= RUN_MIN) {
			if (room < 2) {
				e->ready = true;
				break;
			}
			if ((r = new_subrec(e, (uint8_t)(OFTP2_SUBREC_CF | run),
			    p + i, 1)) != 0)
				break;
			i += run;
			continue;
		}
		take = literal_span(e, p + i, n - i);
		if (h != NULL && !(*h & OFTP2_SUBREC_CF) &&
		    (*h & OFTP2_SUBREC_COUNT) < OFTP2_SUBREC_MAX && room >= 1) {
			hdr = *h;
			if (take > (size_t)(OFTP2_SUBREC_MAX - (hdr & OFTP2_SUBREC_COUNT)))
				take = OFTP2_SUBREC_MAX - (hdr & OFTP2_SUBREC_COUNT);
			if (take > room)
				take = room;
			if ((r = sp_buf_put(&e->cur, p + i, take)) != 0)
				break;
			*last_hdr(e) = (uint8_t)(hdr + take);
			i += take;
			continue;
		}
		if (room < 2) {
			e->ready = true;
			break;
		}
		if (take > room - 1)
			take = room - 1;
		if ((r = new_subrec(e, (uint8_t)take, p + i, take)) != 0)
			break;
		i += take;
	}
	e->octets += i;
	if (i > 0)
		e->record_open = true;
	*used = i;
	return r;
}

/* Mark the end of the current record on its last subrecord, or with a lone
 * EoR header when none is in this buffer. */
static int
close_record(struct oftp2_data_enc *e)
{
	int r;

	if (e->last_open) {
		*last_hdr(e) |= OFTP2_SUBREC_EOR;
		e->last_open = false;
		return 0;
	}
	if ((r = open_buffer(e)) != 0)
		return r;
	if (sp_buf_room(&e->cur) < 1) {
		e->ready = true;
		return SP_ERR_AGAIN;
	}
	return new_subrec(e, OFTP2_SUBREC_EOR, NULL, 0);
}

int
oftp2_data_enc_end_record(struct oftp2_data_enc *e)
{
	int r;

	if (e->format == OFTP2_FMT_UNSTRUCTURED || e->format == OFTP2_FMT_TEXT ||
	    e->finished)
		return SP_ERR_INVALID;
	if (e->ready)
		return SP_ERR_AGAIN;
	if ((r = close_record(e)) != 0)
		return r;
	e->records++;
	e->record_open = false;
	return 0;
}

int
oftp2_data_enc_finish(struct oftp2_data_enc *e)
{
	int r;

	if (e->finished)
		return 0;
	if (e->ready)
		return SP_ERR_AGAIN;
	if (e->record_open) {
		if ((r = close_record(e)) != 0)
			return r;
		/* U and T are one record, and EFIDRCNT is 0 for them. */
		if (e->format == OFTP2_FMT_FIXED ||
		    e->format == OFTP2_FMT_VARIABLE)
			e->records++;
		e->record_open = false;
	}
	e->finished = true;
	e->ready = e->cur.len > 0;
	return 0;
}

int
oftp2_data_enc_take(struct oftp2_data_enc *e, struct sp_buf *out,
    unsigned flags)
{
	size_t sth = (flags & OFTP2_BUILD_STH) ? OFTP2_STH_LEN : 0;
	size_t total = sth + e->cur.len, got;
	uint8_t *p;
	int r;

	if (!e->ready)
		return SP_ERR_SHORT;
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
	memcpy(p + sth, sp_buf_ptr(&e->cur), e->cur.len);
	sp_buf_commit(out, total);
	sp_buf_reset(&e->cur);
	e->last_hdr = 0;
	e->last_open = false;
	e->ready = false;
	if (e->finished)
		sp_buf_free(&e->cur);
	return 0;
}
