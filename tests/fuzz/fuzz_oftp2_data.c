/*
 * fuzz_oftp2_data.c - decoding of OFTP2 DATA buffers, with and without
 * negotiated compression.
 *
 * Input: [flags, 1 octet: bit 0 compression, bits 1-2 format][payload...].
 * Oracles: check and decode agree on octets and records; a valid payload's
 * content, re-encoded with the streaming encoder and decoded again, gives the
 * same octets and record boundaries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "oftp2/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OUT (64u * OFTP2_OEB_MAX)

/* Decode a payload; record ends appended to ends[]. */
static int
decode(const uint8_t *p, size_t n, bool cmpr, struct sp_buf *out,
    size_t *ends, size_t *nends, size_t max_ends)
{
	struct sp_rd rd;
	bool eor;
	int r;

	sp_rd_init(&rd, p, n);
	while (sp_rd_left(&rd) > 0) {
		if ((r = oftp2_data_decode(&rd, cmpr, out, &eor, NULL)) != 0)
			return r;
		if (eor) {
			if (*nends == max_ends)
				abort();
			ends[(*nends)++] = sp_buf_len(out);
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum oftp2_format fmts[] = { OFTP2_FMT_FIXED,
		OFTP2_FMT_VARIABLE, OFTP2_FMT_UNSTRUCTURED, OFTP2_FMT_TEXT };
	struct oftp2_data_info info;
	struct oftp2_data_enc enc;
	struct sp_buf out, wire, again;
	size_t *ends = NULL, *ends2 = NULL, nends = 0, nends2 = 0, k, start,
	    used, max_ends, recs, total;
	enum oftp2_format fmt;
	const uint8_t *p;
	bool cmpr;
	int r;

	if (size < 1 || size - 1 > OFTP2_OEB_MAX - 1)
		return 0;
	cmpr = data[0] & 1;
	fmt = fmts[(data[0] >> 1) & 3];
	p = data + 1;
	size--;
	r = oftp2_data_check(p, size, cmpr, &info, NULL);
	sp_buf_init(&out, MAX_OUT);
	max_ends = size + 2;
	ends = malloc(max_ends * sizeof(*ends));
	ends2 = malloc(max_ends * sizeof(*ends2));
	if (ends == NULL || ends2 == NULL)
		abort();
	if (decode(p, size, cmpr, &out, ends, &nends, max_ends) != 0) {
		if (r == 0)
			abort();    /* check accepted what decode refused */
		goto done;
	}
	if (r != 0 || sp_buf_len(&out) != info.octets || nends != info.records)
		abort();

	/* Re-encode: F/V keep the record boundaries (and finish ends a
	 * trailing open record), U/T are one record of all the octets. */
	recs = fmt == OFTP2_FMT_FIXED || fmt == OFTP2_FMT_VARIABLE ? nends : 0;
	total = sp_buf_len(&out);
	if (recs == 0)
		nends = 0;
	if (total > (nends > 0 ? ends[nends - 1] : 0))
		ends[nends++] = total;      /* expected after finish */
	if (oftp2_data_enc_init(&enc, fmt, cmpr, 128 + data[0] % 97) != 0)
		abort();
	sp_buf_init(&wire, 2 * OFTP2_STB_MAX);
	sp_buf_init(&again, MAX_OUT);
	start = 0;
	for (k = 0; k <= recs; k++) {
		size_t end = k < recs ? ends[k] : total;

		while (start < end) {
			if (oftp2_data_enc_write(&enc, sp_buf_ptr(&out) + start,
			    end - start, &used) != 0)
				abort();
			start += used;
			if (oftp2_data_enc_ready(&enc)) {
				if (oftp2_data_enc_take(&enc, &wire, 0) != 0)
					abort();
				if (decode(sp_buf_ptr(&wire) + 1,
				    sp_buf_len(&wire) - 1, cmpr, &again, ends2,
				    &nends2, max_ends) != 0)
					abort();
				sp_buf_reset(&wire);
			}
		}
		if (k == recs)
			break;
		while ((r = oftp2_data_enc_end_record(&enc)) != 0) {
			if (r != SP_ERR_AGAIN ||
			    oftp2_data_enc_take(&enc, &wire, 0) != 0 ||
			    decode(sp_buf_ptr(&wire) + 1, sp_buf_len(&wire) - 1,
			    cmpr, &again, ends2, &nends2, max_ends) != 0)
				abort();
			sp_buf_reset(&wire);
		}
	}
	while ((r = oftp2_data_enc_finish(&enc)) != 0 ||
	    oftp2_data_enc_ready(&enc)) {
		if ((r != 0 && r != SP_ERR_AGAIN) ||
		    oftp2_data_enc_take(&enc, &wire, 0) != 0 ||
		    sp_buf_len(&wire) > enc.sdeb ||
		    decode(sp_buf_ptr(&wire) + 1, sp_buf_len(&wire) - 1, cmpr,
		    &again, ends2, &nends2, max_ends) != 0)
			abort();
		sp_buf_reset(&wire);
	}
	if (sp_buf_len(&again) != sp_buf_len(&out) ||
	    memcmp(sp_buf_ptr(&again), sp_buf_ptr(&out), sp_buf_len(&out)) != 0
	    || nends2 != nends)
		abort();
	for (k = 0; k < nends; k++)
		if (ends[k] != ends2[k])
			abort();
	oftp2_data_enc_free(&enc);
	sp_buf_free(&wire);
	sp_buf_free(&again);
done:
	free(ends);
	free(ends2);
	sp_buf_free(&out);
	return 0;
}
