/*
 * fuzz_oftp2_module.c - libFuzzer target over the OFTP2 module's input path:
 * a whole session driven through the real chain engine (tests/unit/o2_drive.c),
 * with the octets of both directions cut at fuzzer-chosen boundaries.
 *
 * Input: one flag octet, then chunks. Flags: bit 0 outgoing session, bit 1
 * the tolerant configuration (every tolerance on, short timeouts), bit 2
 * the chain holds every SSID (and finishes on a 0-length chunk), bit 3
 * detect mode, bit 4 the chain refuses every SFID. A chunk is one header
 * octet (bit 7: 0 from the partner, 1 from the inside; bits 0-6: length)
 * and that many octets (fewer at the end of the input). A zero length
 * instead finishes a held delivery (partner bit) or fires the SSID and idle
 * timers (inside bit).
 *
 * The host aborts if the module hands on a message whose raw octets do not
 * match its type. After each session (not in detect mode) what reached each
 * leg must be whole, parseable OFTP2 frames with well-formed DATA buffers:
 * the property the module exists for. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oftp2/codec.h"
#include "o2_drive.h"

extern const struct sp_module sp_module_v1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *mctx_enforce, *mctx_detect, *cfg_tolerant;

/* Every octet that reached a leg belongs to a valid frame. */
static void
check_wire(const struct o2h_bytes *w, unsigned tol)
{
	struct oftp2_frame f;
	struct oftp2_cmd c;
	struct oftp2_data_info info;
	size_t off = 0;

	while (off < w->n) {
		/* The ESID the module sends an OFTP 1.x peer in its own layout
		 * ('F', reason, CR) is the last thing on that leg. */
		if (w->n - off == 8 && memcmp(w->p + off, "\x10\x00\x00\x08" "F",
		    5) == 0 && w->p[off + 7] == '\r')
			break;
		if (oftp2_frame(w->p + off, w->n - off, tol, &f, NULL) != 0 ||
		    oftp2_parse(f.oeb, f.oeb_len, tol, &c, NULL) != 0)
			abort();
		if (c.code == OFTP2_DATA && oftp2_data_check(c.u.data.buf.ptr,
		    c.u.data.buf.len, true, &info, NULL) != 0)
			abort();
		off += f.consumed;
	}
}

static void
setup_once(void)
{
	static const char tolerant[] = "{\"ssid_timeout_ms\": 100, "
	    "\"idle_timeout_ms\": 1000, \"tolerate_missing_cr\": true, "
	    "\"tolerate_bare_cdt\": true, \"tolerate_numeric_spaces\": true, "
	    "\"tolerate_lowercase\": true, \"tolerate_x_charset\": true, "
	    "\"tolerate_time_counter0\": true, \"tolerate_sth_octet0\": true, "
	    "\"tolerate_sr_any\": true, \"tolerate_restart_and\": true, "
	    "\"tolerate_efid_no_credit\": true, \"tolerate_lf_trailer\": true, "
	    "\"tolerate_data_padding\": true, \"tolerate_esid_early\": true, "
	    "\"partners\": [{\"odette_id\": "
	    "\"O0013000000ACME\", \"tolerate_lowercase\": false, "
	    "\"check_efid_counts\": false}]}";
	char err[256];

	if (mctx_enforce != NULL)
		return;
	if (o2h_init(&sp_module_v1, SP_MODE_DETECT) != 0)
		abort();
	mctx_detect = o2h.mctx;
	if (o2h_init(&sp_module_v1, SP_MODE_ENFORCE) != 0)
		abort();
	mctx_enforce = o2h.mctx;
	if (sp_module_v1.config_parse(mctx_enforce, tolerant, &cfg_tolerant, err,
	    sizeof(err)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags;
	size_t i = 1;

	setup_once();
	if (size < 1)
		return 0;
	flags = data[0];
	o2h_reset();
	o2h.mctx = flags & 8 ? mctx_detect : mctx_enforce;
	o2h.mode = flags & 8 ? SP_MODE_DETECT : SP_MODE_ENFORCE;
	o2h.cfg = flags & 2 ? cfg_tolerant : NULL;
	if (flags & 4) {
		o2h.answer = SP_HOLD;
		o2h.answer_type = 'X';
	} else if (flags & 16) {
		o2h.answer = SP_REJECT;
		o2h.answer_type = 'H';
	}
	if (getenv("O2_VERBOSE") != NULL)
		o2h.verbose = true;
	o2h_open(flags & 1);
	o2h_tls();
	while (i < size && !o2h.closed) {
		uint8_t h = data[i++];
		size_t len = h & 0x7f;
		enum sp_dir dir = (h & 0x80) ? SP_TO_OUTSIDE : SP_TO_INSIDE;

		if (len == 0) {
			if (dir == SP_TO_INSIDE) {
				o2h_finish_delivery(SP_CONTINUE);
			} else {
				o2h_timer(2);
				o2h_timer(3);
			}
			continue;
		}
		if (len > size - i)
			len = size - i;
		/* A copy per chunk, freed after the call: the module must not
		 * keep pointers into a caller's read buffer. */
		{
			uint8_t *p = malloc(len);
			if (p == NULL)
				abort();
			memcpy(p, data + i, len);
			o2h_data(dir, p, len);
			free(p);
		}
		i += len;
	}
	if (!(flags & 8)) {
		check_wire(&o2h.wire[SP_LEG_INSIDE], flags & 2 ? ~0u : 0);
		check_wire(&o2h.wire[SP_LEG_OUTSIDE], flags & 2 ? ~0u : 0);
	}
	o2h_reset();
	o2h.cfg = NULL;
	return 0;
}
