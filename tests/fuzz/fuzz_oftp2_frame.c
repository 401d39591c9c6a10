/*
 * fuzz_oftp2_frame.c - OFTP2 STH framer and command parser over a byte
 * stream delivered in fuzzer-chosen pieces.
 *
 * Input: [tolerance flags, 2 octets][split seed, 1 octet][stream...].
 * Oracles: the frames (and the first error) must not depend on how the stream
 * is split; every command that parses strictly must rebuild to the very same
 * octets; parsing with tolerances must accept whatever strict parsing does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "oftp2/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A running digest of what the framer and parser produced. */
struct trace {
	uint64_t h;
	size_t frames;
	int last_rc;
};

static void
mix(struct trace *t, uint64_t v)
{
	t->h = (t->h ^ v) * 1099511628211ull;
}

static void
check_command(const uint8_t *oeb, size_t len, unsigned tol, struct trace *t)
{
	struct oftp2_cmd c, strict;
	struct oftp2_err e;
	struct oftp2_dev dev;
	struct sp_buf b;
	int r, rs;

	r = oftp2_parse(oeb, len, tol, &c, &e);
	mix(t, (uint64_t)(r == 0 ? 0x100 + c.code : e.esid));
	rs = oftp2_parse_dev(oeb, len, 0, &strict, &e, &dev);
	if (rs != 0)
		return;
	if (r != 0)
		abort();        /* a tolerance refused what strict accepts */
	if (dev.bits & ~OFTP2_DEV_RESERVED)
		abort();        /* strict parsing used a tolerance */
	if (dev.bits != 0)
		return;         /* reserved octets are not represented, the
		                   builder writes spaces there */
	if (strict.code == OFTP2_DATA &&
	    oftp2_data_check(strict.u.data.buf.ptr, strict.u.data.buf.len,
	    true, NULL, NULL) != 0)
		return;         /* the builder insists on valid subrecords */
	sp_buf_init(&b, OFTP2_STB_MAX);
	if (oftp2_build(&b, &strict, 0, &e) != 0 || sp_buf_len(&b) != len ||
	    memcmp(sp_buf_ptr(&b), oeb, len) != 0)
		abort();        /* strict parse -> build is not byte-exact */
	sp_buf_free(&b);
}

/* Frame the stream, `piece` octets more each time the framer asks for
 * more (0: everything at once). */
static void
run(const uint8_t *p, size_t n, unsigned tol, uint8_t seed,
    struct trace *t)
{
	struct sp_buf in;
	struct oftp2_frame f;
	struct oftp2_err e;
	size_t fed = 0, piece;
	uint32_t s = seed;
	int r;

	memset(t, 0, sizeof(*t));
	sp_buf_init(&in, 2 * OFTP2_STB_MAX);
	for (;;) {
		r = oftp2_frame(sp_buf_ptr(&in), sp_buf_len(&in), tol, &f, &e);
		if (r == 0) {
			if (f.consumed != f.oeb_len + OFTP2_STH_LEN ||
			    f.consumed > sp_buf_len(&in))
				abort();
			t->frames++;
			mix(t, f.oeb_len);
			check_command(f.oeb, f.oeb_len, tol, t);
			sp_buf_consume(&in, f.consumed);
			continue;
		}
		if (r != SP_ERR_SHORT) {
			t->last_rc = e.esid + 1000;
			break;
		}
		if (f.needed == 0)
			abort();
		if (fed == n)
			break;
		if (seed == 0) {
			piece = n - fed;
		} else {
			s = s * 1103515245u + 12345u;
			piece = 1 + (s >> 16) % (2u * seed);
		}
		if (piece > n - fed)
			piece = n - fed;
		if (sp_buf_put(&in, p + fed, piece) != 0)
			abort();
		fed += piece;
	}
	sp_buf_free(&in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole, split;
	unsigned tol;

	if (size < 3)
		return 0;
	tol = (unsigned)data[0] << 8 | data[1];
	run(data + 3, size - 3, tol, 0, &whole);
	run(data + 3, size - 3, tol, data[2], &split);
	if (whole.h != split.h || whole.frames != split.frames ||
	    whole.last_rc != split.last_rc)
		abort();
	return 0;
}
