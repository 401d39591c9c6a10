/*
 * check_oftp2_data.c - OFTP2 DATA exchange buffers: the reference example,
 * malformed subrecords, and streaming encode -> decode round trips for
 * formats U/T/F/V, with and without compression, at buffer sizes 128 and
 * 99999, empty files and exact multiples of the buffer payload.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "oftp2/codec.h"

/* Reference §11 DATA example, STH included. */
static const uint8_t ex_data[] = { 0x10, 0x00, 0x00, 0x13, 0x44, 0x05, 'H',
	'E', 'L', 'L', 'O', 0x43, 0x20, 0x85, 'W', 'O', 'R', 'L', 'D' };

START_TEST(example_decode)
{
	struct oftp2_frame f;
	struct oftp2_cmd c;
	struct oftp2_data_info info;
	struct oftp2_err e;
	struct sp_buf out;
	struct sp_rd rd;
	bool eor;

	ck_assert_int_eq(oftp2_frame(ex_data, sizeof(ex_data), 0, &f, &e), 0);
	ck_assert_int_eq(oftp2_parse(f.oeb, f.oeb_len, 0, &c, &e), 0);
	ck_assert_int_eq(c.code, OFTP2_DATA);
	ck_assert_uint_eq(c.u.data.buf.len, 14);
	ck_assert_int_eq(oftp2_data_check(c.u.data.buf.ptr, c.u.data.buf.len,
	    true, &info, &e), 0);
	ck_assert_uint_eq(info.octets, 13);
	ck_assert_uint_eq(info.records, 1);
	ck_assert_uint_eq(info.subrecords, 3);
	ck_assert(info.ends_record);
	/* Without negotiated compression the CF subrecord is invalid data. */
	ck_assert_int_eq(oftp2_data_check(c.u.data.buf.ptr, c.u.data.buf.len,
	    false, &info, &e), SP_ERR_PROTOCOL);
	ck_assert_uint_eq(e.esid, OFTP2_ESID_INVALID_DATA);
	ck_assert_uint_eq(e.offset, 7);

	sp_buf_init(&out, 1000);
	sp_rd_init(&rd, c.u.data.buf.ptr, c.u.data.buf.len);
	ck_assert_int_eq(oftp2_data_decode(&rd, true, &out, &eor, &e), 0);
	ck_assert(eor);
	ck_assert_uint_eq(sp_rd_left(&rd), 0);
	ck_assert_uint_eq(sp_buf_len(&out), 13);
	ck_assert_mem_eq(sp_buf_ptr(&out), "HELLO   WORLD", 13);
	sp_buf_free(&out);
}
END_TEST

/* Encoding the example's record reproduces its octets exactly. */
START_TEST(example_encode)
{
	struct oftp2_data_enc enc;
	struct sp_buf out;
	size_t used;

	sp_buf_init(&out, 1000);
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_UNSTRUCTURED, true,
	    128), 0);
	ck_assert_int_eq(oftp2_data_enc_write(&enc, "HELLO   WORLD", 13, &used),
	    0);
	ck_assert_uint_eq(used, 13);
	ck_assert(!oftp2_data_enc_ready(&enc));
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), SP_ERR_SHORT);
	ck_assert_int_eq(oftp2_data_enc_end_record(&enc), SP_ERR_INVALID);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), 0);
	ck_assert(oftp2_data_enc_ready(&enc));
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, OFTP2_BUILD_STH), 0);
	ck_assert_uint_eq(sp_buf_len(&out), sizeof(ex_data));
	ck_assert_mem_eq(sp_buf_ptr(&out), ex_data, sizeof(ex_data));
	ck_assert_uint_eq(enc.octets, 13);
	ck_assert_uint_eq(enc.records, 0);
	ck_assert(!oftp2_data_enc_ready(&enc));
	ck_assert_int_eq(oftp2_data_enc_write(&enc, "X", 1, &used),
	    SP_ERR_INVALID);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), 0);
	oftp2_data_enc_free(&enc);
	sp_buf_free(&out);
}
END_TEST

/* Malformed and edge-case payloads. */
struct dcase {
	const char *p;
	size_t n;
	bool compression;
	int rc;
	uint64_t octets, records;
};

static const struct dcase dcases[] = {
	{ "", 0, false, 0, 0, 0 },                         /* bare 'D' */
	{ "\x00", 1, false, 0, 0, 0 },                     /* empty subrecord */
	{ "\x80", 1, false, 0, 0, 1 },                     /* empty record */
	{ "\x80\x80\x01" "A\x80", 5, false, 0, 1, 3 },
	{ "\x03" "AB", 3, false, SP_ERR_PROTOCOL, 0, 0 },  /* runs past end */
	{ "\x02" "AB\x01", 4, false, SP_ERR_PROTOCOL, 0, 0 },
	{ "\x3f", 1, false, SP_ERR_PROTOCOL, 0, 0 },
	{ "\x43", 1, true, SP_ERR_PROTOCOL, 0, 0 },        /* CF without octet */
	{ "\x43" "A", 2, false, SP_ERR_PROTOCOL, 0, 0 },   /* CF not agreed */
	{ "\x43" "A", 2, true, 0, 3, 0 },
	{ "\xff" "A", 2, true, 0, 63, 1 },
	{ "\x40" "A", 2, true, SP_ERR_PROTOCOL, 0, 0 },   /* CF count 0 */
	{ "\xc0" "A", 2, true, SP_ERR_PROTOCOL, 0, 0 },
	{ "\x01" "A\x40", 3, true, SP_ERR_PROTOCOL, 0, 0 },
};

START_TEST(data_cases)
{
	const struct dcase *d = &dcases[_i];
	struct oftp2_data_info info;
	struct oftp2_err e;
	int r;

	r = oftp2_data_check((const uint8_t *)d->p, d->n, d->compression,
	    &info, &e);
	ck_assert_msg(r == d->rc, "case %d: %d (%s)", _i, r,
	    r ? e.text : "");
	if (r == 0) {
		ck_assert_uint_eq(info.octets, d->octets);
		ck_assert_uint_eq(info.records, d->records);
	} else {
		ck_assert_uint_eq(e.esid, OFTP2_ESID_INVALID_DATA);
		ck_assert_str_eq(e.field, "DATABUF");
	}
}
END_TEST

/* Decoding into a small `out` stops with SP_ERR_LIMIT without losing
 * octets; after draining, the call resumes. */
START_TEST(decode_limit)
{
	static const uint8_t p[] = { 0x05, '1', '2', '3', '4', '5', 0xc3, 'z',
		0x02, 'a', 'b' };
	struct sp_buf out;
	struct sp_rd rd;
	struct oftp2_err e;
	char got[32];
	size_t gl = 0;
	bool eor;
	int r;

	sp_buf_init(&out, 4);
	sp_rd_init(&rd, p, sizeof(p));
	ck_assert_int_eq(oftp2_data_decode(&rd, true, &out, &eor, &e),
	    SP_ERR_LIMIT);
	ck_assert_uint_eq(sp_rd_pos(&rd), 0);
	sp_buf_free(&out);
	sp_buf_init(&out, 5);
	for (int k = 0; k < 10 && sp_rd_left(&rd) > 0; k++) {
		r = oftp2_data_decode(&rd, true, &out, &eor, &e);
		ck_assert(r == 0 || r == SP_ERR_LIMIT);
		memcpy(got + gl, sp_buf_ptr(&out), sp_buf_len(&out));
		gl += sp_buf_len(&out);
		sp_buf_reset(&out);
	}
	ck_assert_uint_eq(sp_rd_left(&rd), 0);
	ck_assert_uint_eq(gl, 10);
	ck_assert_mem_eq(got, "12345zzzab", 10);
	sp_buf_free(&out);
}
END_TEST

/* ---- Round trips ---- */

/* A file as records (U/T: exactly one). */
struct file {
	uint8_t *data;
	size_t len;
	size_t *rec;          /* record lengths */
	size_t nrec;
};

static uint32_t rng_state;

static uint32_t
rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* Content mixing random octets and runs of assorted lengths. */
static void
fill(uint8_t *p, size_t n, int kind)
{
	size_t i = 0, run;

	while (i < n) {
		if (kind == 0) {
			p[i++] = (uint8_t)rnd();
			continue;
		}
		if (kind == 2) {   /* all one octet */
			p[i++] = 'A';
			continue;
		}
		run = rnd() % 8 == 0 ? rnd() % 200 : 1 + rnd() % 3;
		memset(p + i, (int)(rnd() % 4), run > n - i ? n - i : run);
		i += run > n - i ? n - i : run;
	}
}

static void
file_make(struct file *f, enum oftp2_format fmt, size_t len, int kind,
    size_t reclen)
{
	size_t left;

	f->len = len;
	f->data = malloc(len + 1);
	f->rec = malloc((len + 2) * sizeof(size_t) + 16 * sizeof(size_t));
	ck_assert(f->data != NULL && f->rec != NULL);
	fill(f->data, len, kind);
	f->nrec = 0;
	if (fmt == OFTP2_FMT_UNSTRUCTURED || fmt == OFTP2_FMT_TEXT) {
		if (len > 0)
			f->rec[f->nrec++] = len;
		return;
	}
	for (left = len; left > 0;) {
		size_t r = fmt == OFTP2_FMT_FIXED ? reclen :
		    (rnd() % 5 == 0 ? 0 : rnd() % (2 * reclen + 1));
		if (r > left)
			r = left;
		f->rec[f->nrec++] = r;
		left -= r;
	}
	if (fmt == OFTP2_FMT_VARIABLE) {   /* empty records at the end too */
		f->rec[f->nrec++] = 0;
	}
}

static void
file_free(struct file *f)
{
	free(f->data);
	free(f->rec);
}

/*
 * Encode f in chunks of random size, decode every buffer as a receiver
 * would, compare octets and record boundaries. Returns the buffer count.
 */
static size_t
round_trip(const struct file *f, enum oftp2_format fmt, bool cmpr,
    size_t sdeb, size_t max_chunk)
{
	struct oftp2_data_enc enc;
	struct sp_buf wire, got;
	struct oftp2_frame fr;
	struct oftp2_cmd c;
	struct oftp2_data_info info;
	struct oftp2_err e;
	struct sp_rd rd;
	size_t *ends, nends = 0, nbufs = 0, off = 0, ri, used, chunk, k;
	uint64_t recs = 0;
	bool eor;
	int r;

	ck_assert_int_eq(oftp2_data_enc_init(&enc, fmt, cmpr, sdeb), 0);
	sp_buf_init(&wire, 2 * OFTP2_STB_MAX);
	sp_buf_init(&got, f->len + 1);
	ends = malloc((f->nrec + 2) * sizeof(*ends));
	ck_assert_ptr_nonnull(ends);

	/* Receiver: takes each buffer as it is produced. */
#define RECEIVE() do { \
		ck_assert_int_eq(oftp2_data_enc_take(&enc, &wire, \
		    OFTP2_BUILD_STH), 0); \
		ck_assert_int_eq(oftp2_frame(sp_buf_ptr(&wire), \
		    sp_buf_len(&wire), 0, &fr, &e), 0); \
		ck_assert_uint_le(fr.oeb_len, sdeb); \
		ck_assert_int_eq(oftp2_parse(fr.oeb, fr.oeb_len, 0, &c, &e), 0); \
		ck_assert_int_eq(c.code, OFTP2_DATA); \
		r = oftp2_data_check(c.u.data.buf.ptr, c.u.data.buf.len, cmpr, \
		    &info, &e); \
		ck_assert_msg(r == 0, "%s", e.text); \
		ck_assert_uint_gt(info.subrecords, 0); \
		recs += info.records; \
		sp_rd_init(&rd, c.u.data.buf.ptr, c.u.data.buf.len); \
		while (sp_rd_left(&rd) > 0) { \
			ck_assert_int_eq(oftp2_data_decode(&rd, cmpr, &got, \
			    &eor, &e), 0); \
			if (eor) \
				ends[nends++] = sp_buf_len(&got); \
		} \
		sp_buf_consume(&wire, fr.consumed); \
		nbufs++; \
	} while (0)

	for (ri = 0; ri < f->nrec; ri++) {
		size_t left = f->rec[ri];

		while (left > 0) {
			chunk = 1 + rnd() % max_chunk;
			if (chunk > left)
				chunk = left;
			while (chunk > 0) {
				r = oftp2_data_enc_write(&enc, f->data + off,
				    chunk, &used);
				ck_assert_int_eq(r, 0);
				off += used;
				left -= used;
				chunk -= used;
				if (oftp2_data_enc_ready(&enc))
					RECEIVE();
				else
					ck_assert_uint_eq(chunk, 0);
			}
		}
		if (fmt == OFTP2_FMT_FIXED || fmt == OFTP2_FMT_VARIABLE) {
			while ((r = oftp2_data_enc_end_record(&enc)) ==
			    SP_ERR_AGAIN)
				RECEIVE();
			ck_assert_int_eq(r, 0);
		}
	}
	while ((r = oftp2_data_enc_finish(&enc)) == SP_ERR_AGAIN)
		RECEIVE();
	ck_assert_int_eq(r, 0);
	if (oftp2_data_enc_ready(&enc))
		RECEIVE();
	ck_assert(!oftp2_data_enc_ready(&enc));

	ck_assert_uint_eq(off, f->len);
	ck_assert_uint_eq(enc.octets, f->len);
	ck_assert_uint_eq(sp_buf_len(&got), f->len);
	if (f->len > 0)
		ck_assert_mem_eq(sp_buf_ptr(&got), f->data, f->len);
	/* Record boundaries as sent. */
	ck_assert_uint_eq(nends, f->nrec);
	for (k = 0, off = 0; k < f->nrec; k++) {
		off += f->rec[k];
		ck_assert_uint_eq(ends[k], off);
	}
	ck_assert_uint_eq(recs, f->nrec);
	if (fmt == OFTP2_FMT_FIXED || fmt == OFTP2_FMT_VARIABLE)
		ck_assert_uint_eq(enc.records, f->nrec);
	else
		ck_assert_uint_eq(enc.records, 0);
	if (f->len == 0 && f->nrec == 0)
		ck_assert_uint_eq(nbufs, 0);
	oftp2_data_enc_free(&enc);
	sp_buf_free(&wire);
	sp_buf_free(&got);
	free(ends);
#undef RECEIVE
	return nbufs;
}

static const enum oftp2_format fmts[] = { OFTP2_FMT_UNSTRUCTURED,
	OFTP2_FMT_TEXT, OFTP2_FMT_FIXED, OFTP2_FMT_VARIABLE };
static const size_t sizes[] = { 128, 99999 };

/* _i enumerates format x compression x buffer size. */
START_TEST(round_trips)
{
	enum oftp2_format fmt = fmts[_i % 4];
	bool cmpr = (_i / 4) % 2;
	size_t sdeb = sizes[_i / 8];
	static const size_t lens[] = { 0, 1, 2, 3, 62, 63, 64, 125, 126, 127,
		1000, 4096, 200000 };
	struct file f;

	rng_state = (uint32_t)_i * 7919u + 1;
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
		for (int kind = 0; kind < 3; kind++) {
			file_make(&f, fmt, lens[li], kind, 80);
			round_trip(&f, fmt, cmpr, sdeb, 1 + rnd() % 3000);
			file_free(&f);
			if (lens[li] > 5000)
				continue;
			file_make(&f, fmt, lens[li], kind, 63);
			round_trip(&f, fmt, cmpr, sdeb, 7);
			file_free(&f);
		}
}
END_TEST

/* A file of exactly k full buffers' worth needs exactly k buffers (no
 * trailing buffer for the EoR alone), one octet more needs k + 1. */
START_TEST(exact_multiples)
{
	struct file f;
	/* 128: 'D' + (1+63) + (1+62) = 128 -> 125 octets per buffer. */
	size_t per128 = 125;

	for (size_t k = 1; k <= 4; k++) {
		rng_state = 99;
		file_make(&f, OFTP2_FMT_UNSTRUCTURED, k * per128, 0, 0);
		ck_assert_uint_eq(round_trip(&f, OFTP2_FMT_UNSTRUCTURED, false,
		    128, k * per128), k);
		ck_assert_uint_eq(round_trip(&f, OFTP2_FMT_UNSTRUCTURED, false,
		    128, 1), k);
		file_free(&f);
		file_make(&f, OFTP2_FMT_UNSTRUCTURED, k * per128 + 1, 0, 0);
		ck_assert_uint_eq(round_trip(&f, OFTP2_FMT_UNSTRUCTURED, false,
		    128, 50), k + 1);
		file_free(&f);
	}
	/* 99999: 'D' + 1562 x 64 = 99969, + (1+29) = 99999. */
	{
		size_t per = 1562 * 63 + 29;

		rng_state = 5;
		file_make(&f, OFTP2_FMT_TEXT, 3 * per, 0, 0);
		ck_assert_uint_eq(round_trip(&f, OFTP2_FMT_TEXT, false, 99999,
		    5000), 3);
		file_free(&f);
	}
	/* F records of 63 fill subrecords exactly: two per 128 buffer would
	 * need 129, so one record and a part of the next per buffer. */
	rng_state = 7;
	file_make(&f, OFTP2_FMT_FIXED, 63 * 10, 0, 63);
	round_trip(&f, OFTP2_FMT_FIXED, false, 128, 63);
	round_trip(&f, OFTP2_FMT_FIXED, true, 128, 63);
	file_free(&f);
	/* Compressed: one octet repeated -> 63 per 2 octets. */
	rng_state = 8;
	file_make(&f, OFTP2_FMT_UNSTRUCTURED, 63 * 63 * 4, 2, 0);
	ck_assert_uint_eq(round_trip(&f, OFTP2_FMT_UNSTRUCTURED, true, 128,
	    1000), 4);
	file_free(&f);
}
END_TEST

/* Empty files and records. */
START_TEST(empty)
{
	struct oftp2_data_enc enc;
	struct sp_buf out;
	size_t used;

	sp_buf_init(&out, 1000);
	/* U: no buffer at all. */
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_UNSTRUCTURED,
	    false, 128), 0);
	ck_assert_int_eq(oftp2_data_enc_write(&enc, "", 0, &used), 0);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), 0);
	ck_assert(!oftp2_data_enc_ready(&enc));
	oftp2_data_enc_free(&enc);
	/* V: three empty records -> one buffer of three EoR headers. */
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_VARIABLE, false,
	    128), 0);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(oftp2_data_enc_end_record(&enc), 0);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), 0);
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), 0);
	ck_assert_uint_eq(sp_buf_len(&out), 4);
	ck_assert_mem_eq(sp_buf_ptr(&out), "D\x80\x80\x80", 4);
	ck_assert_uint_eq(enc.records, 3);
	oftp2_data_enc_free(&enc);
	/* F: finish ends an open record. */
	sp_buf_reset(&out);
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_FIXED, false,
	    128), 0);
	ck_assert_int_eq(oftp2_data_enc_write(&enc, "AB", 2, &used), 0);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), 0);
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), 0);
	ck_assert_mem_eq(sp_buf_ptr(&out), "D\x82" "AB", 4);
	ck_assert_uint_eq(enc.records, 1);
	oftp2_data_enc_free(&enc);
	/* Bad arguments. */
	ck_assert_int_eq(oftp2_data_enc_init(&enc, (enum oftp2_format)'X',
	    false, 128), SP_ERR_INVALID);
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_TEXT, false, 2),
	    SP_ERR_INVALID);
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_TEXT, false,
	    100000), SP_ERR_INVALID);
	sp_buf_free(&out);
}
END_TEST

/* A ready buffer blocks until taken; take fails cleanly on a full out. */
START_TEST(backpressure)
{
	struct oftp2_data_enc enc;
	struct sp_buf out;
	uint8_t blob[300];
	size_t used;

	memset(blob, 'x', sizeof(blob));
	for (size_t k = 0; k < sizeof(blob); k++)
		blob[k] = (uint8_t)k;
	sp_buf_init(&out, 100);
	ck_assert_int_eq(oftp2_data_enc_init(&enc, OFTP2_FMT_VARIABLE, false,
	    128), 0);
	ck_assert_int_eq(oftp2_data_enc_write(&enc, blob, sizeof(blob), &used),
	    0);
	ck_assert_uint_eq(used, 125);
	ck_assert(oftp2_data_enc_ready(&enc));
	ck_assert_int_eq(oftp2_data_enc_write(&enc, blob, 1, &used),
	    SP_ERR_AGAIN);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(oftp2_data_enc_end_record(&enc), SP_ERR_AGAIN);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), SP_ERR_AGAIN);
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), SP_ERR_LIMIT);
	ck_assert_uint_eq(sp_buf_len(&out), 0);
	ck_assert(oftp2_data_enc_ready(&enc));
	sp_buf_free(&out);
	sp_buf_init(&out, 1000);
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), 0);
	ck_assert_uint_eq(sp_buf_len(&out), 128);
	/* A full buffer is held back: the EoR of a record that ends exactly
	 * at the buffer's end goes on its last subrecord. */
	ck_assert_int_eq(oftp2_data_enc_write(&enc, blob, 125, &used), 0);
	ck_assert_uint_eq(used, 125);
	ck_assert(!oftp2_data_enc_ready(&enc));
	ck_assert_int_eq(oftp2_data_enc_end_record(&enc), 0);
	/* ... and an empty record after it needs a new buffer. */
	ck_assert_int_eq(oftp2_data_enc_end_record(&enc), SP_ERR_AGAIN);
	sp_buf_reset(&out);
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), 0);
	ck_assert_uint_eq(sp_buf_len(&out), 128);
	ck_assert_uint_eq(sp_buf_ptr(&out)[65], 0x80 | 62);
	ck_assert_int_eq(oftp2_data_enc_end_record(&enc), 0);
	ck_assert_int_eq(oftp2_data_enc_finish(&enc), 0);
	sp_buf_reset(&out);
	ck_assert_int_eq(oftp2_data_enc_take(&enc, &out, 0), 0);
	ck_assert_mem_eq(sp_buf_ptr(&out), "D\x80", 2);
	ck_assert_uint_eq(enc.records, 2);
	oftp2_data_enc_free(&enc);
	sp_buf_free(&out);
}
END_TEST

static Suite *
oftp2_data_suite(void)
{
	Suite *s = suite_create("oftp2_data");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, example_decode);
	tcase_add_test(tc, example_encode);
	tcase_add_loop_test(tc, data_cases, 0,
	    (int)(sizeof(dcases) / sizeof(dcases[0])));
	tcase_add_test(tc, decode_limit);
	tcase_add_loop_test(tc, round_trips, 0, 16);
	tcase_add_test(tc, exact_multiples);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, backpressure);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(oftp2_data_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
