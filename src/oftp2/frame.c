/* oftp2/frame.c - Stream Transmission Header framing (ref §1.2). */
#include "oftp2/fields.h"

#include <string.h>

#include "core/err.h"

int
oftp2_frame(const uint8_t *p, size_t len, unsigned tol, struct oftp2_frame *f,
    struct oftp2_err *err)
{
	struct sp_rd rd;
	uint8_t v;
	uint32_t stb;

	memset(f, 0, sizeof(*f));
	sp_rd_init(&rd, p, len);
	if (sp_rd_u8(&rd, &v) != 0) {
		f->needed = OFTP2_STH_LEN;
		return SP_ERR_SHORT;
	}
	if (v != OFTP2_STH_OCTET0 && !(tol & OFTP2_TOL_STH_OCTET0))
		return oftp2_err_set(err, SP_ERR_PROTOCOL, OFTP2_ESID_INVALID_DATA,
		    0, "STH", 0, "octet 0 is 0x%02x, not 0x10 (version 1, "
		    "no flags)", v);
	if (sp_rd_u24be(&rd, &stb) != 0) {
		f->needed = OFTP2_STH_LEN - len;
		return SP_ERR_SHORT;
	}
	if (stb < OFTP2_STB_MIN || stb > OFTP2_STB_MAX)
		return oftp2_err_set(err, SP_ERR_PROTOCOL, OFTP2_ESID_BUFFER_SIZE,
		    0, "STH", 1, "length %u is outside %u..%u", (unsigned)stb,
		    OFTP2_STB_MIN, OFTP2_STB_MAX);
	f->oeb_len = stb - OFTP2_STH_LEN;
	if (sp_rd_bytes(&rd, f->oeb_len, &f->oeb) != 0) {
		f->oeb = NULL;
		f->needed = stb - len;
		return SP_ERR_SHORT;
	}
	f->consumed = stb;
	return SP_OK;
}

int
oftp2_sth_put(struct sp_buf *out, size_t oeb_len)
{
	uint8_t sth[OFTP2_STH_LEN];
	size_t stb = oeb_len + OFTP2_STH_LEN;

	if (oeb_len < 1 || oeb_len > OFTP2_OEB_MAX)
		return SP_ERR_INVALID;
	sth[0] = OFTP2_STH_OCTET0;
	sth[1] = (uint8_t)(stb >> 16);
	sth[2] = (uint8_t)(stb >> 8);
	sth[3] = (uint8_t)stb;
	return sp_buf_put(out, sth, sizeof(sth));
}
