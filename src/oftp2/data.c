/*
 * oftp2/data.c - reading DATA exchange buffers (ref §4): subrecord iteration,
 * whole-buffer validation and decoding into file octets. Writing is in
 * data_enc.c.
 */
#include "oftp2/fields.h"

#include <string.h>

#include "core/err.h"

int
oftp2_data_next(struct sp_rd *rd, bool compression, struct oftp2_subrec *sr,
    struct oftp2_err *err)
{
	struct sp_rd at = *rd;
	uint8_t h;
	size_t n;

	if (sp_rd_u8(&at, &h) != 0)
		return SP_ERR_SHORT;
	sr->count = h & OFTP2_SUBREC_COUNT;
	sr->cf = (h & OFTP2_SUBREC_CF) != 0;
	sr->eor = (h & OFTP2_SUBREC_EOR) != 0;
	/* +1: offsets are reported in the OEB, whose octet 0 is 'D'. */
	if (sr->cf && !compression)
		return oftp2_err_set(err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, OFTP2_DATA, "DATABUF",
		    1 + sp_rd_pos(rd), "compressed subrecord (header 0x%02x) "
		    "but compression was not negotiated", h);
	/* A repetition of nothing stands for no octets and carries one: no
	 * encoder makes it (RFC 5024 §7.3: a compressed subrecord repeats
	 * its octet `count` times), so it is malformed, not empty. */
	if (sr->cf && sr->count == 0)
		return oftp2_err_set(err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, OFTP2_DATA, "DATABUF",
		    1 + sp_rd_pos(rd), "compressed subrecord (header 0x%02x) "
		    "with count 0", h);
	n = sr->cf ? 1 : sr->count;
	if (sp_rd_bytes(&at, n, &sr->ptr) != 0)
		return oftp2_err_set(err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, OFTP2_DATA, "DATABUF",
		    1 + sp_rd_pos(rd), "subrecord (header 0x%02x) needs %zu "
		    "octets, the buffer has %zu left", h, n, sp_rd_left(&at));
	*rd = at;
	return 0;
}

/*
 * The walk every DATA buffer takes on the relay path (a 64 KiB buffer has a
 * thousand subrecords or more): the same rules as oftp2_data_next(), header
 * and length only, no error text. false at the first subrecord it does not
 * like; the caller then walks again with oftp2_data_next() to say what is
 * wrong.
 */
static bool
data_scan(const uint8_t *payload, size_t len, bool compression,
    struct oftp2_data_info *info)
{
	uint64_t octets = 0, records = 0;
	size_t subrecords = 0;
	struct sp_rd rd;
	uint8_t h = 0;

	sp_rd_init(&rd, payload, len);
	while (sp_rd_left(&rd) > 0) {
		size_t count;

		(void)sp_rd_u8(&rd, &h);
		count = h & OFTP2_SUBREC_COUNT;
		if ((h & OFTP2_SUBREC_CF) != 0 && (!compression || count == 0))
			return false;
		if (sp_rd_skip(&rd, (h & OFTP2_SUBREC_CF) != 0 ? 1 : count) != 0)
			return false;
		octets += count;
		records += (h & OFTP2_SUBREC_EOR) != 0;
		subrecords++;
	}
	/* Counted here, stored once: the stores would otherwise have to be
	 * ordered against every octet read. */
	info->octets = octets;
	info->records = records;
	info->subrecords = subrecords;
	info->ends_record = subrecords > 0 && (h & OFTP2_SUBREC_EOR) != 0;
	return true;
}

int
oftp2_data_check(const uint8_t *payload, size_t len, bool compression,
    struct oftp2_data_info *info, struct oftp2_err *err)
{
	struct oftp2_data_info tmp;
	struct oftp2_subrec sr;
	struct sp_rd rd;
	int r;

	if (info == NULL)
		info = &tmp;
	memset(info, 0, sizeof(*info));
	if (data_scan(payload, len, compression, info))
		return 0;
	memset(info, 0, sizeof(*info));
	sp_rd_init(&rd, payload, len);
	while ((r = oftp2_data_next(&rd, compression, &sr, err)) == 0) {
		info->octets += sr.count;
		info->records += sr.eor;
		info->subrecords++;
		info->ends_record = sr.eor;
	}
	return r == SP_ERR_SHORT ? 0 : r;
}

int
oftp2_data_decode(struct sp_rd *rd, bool compression, struct sp_buf *out,
    bool *eor, struct oftp2_err *err)
{
	struct oftp2_subrec sr;
	struct sp_rd at;
	uint8_t *p;
	size_t got;
	int r;

	*eor = false;
	while (sp_rd_left(rd) > 0) {
		/* Advance rd only once the octets are in `out`, so that a
		 * full `out` can be drained and the call repeated. */
		at = *rd;
		if ((r = oftp2_data_next(&at, compression, &sr, err)) != 0)
			return r;
		if (sr.count > 0) {
			if (sr.count > sp_buf_room(out))
				return SP_ERR_LIMIT;
			if ((r = sp_buf_reserve(out, sr.count, &p, &got)) != 0)
				return r;
			if (got < sr.count)
				return SP_ERR_LIMIT;
			if (sr.cf)
				memset(p, sr.ptr[0], sr.count);
			else
				memcpy(p, sr.ptr, sr.count);
			sp_buf_commit(out, sr.count);
		}
		*rd = at;
		if (sr.eor) {
			*eor = true;
			break;
		}
	}
	return 0;
}
