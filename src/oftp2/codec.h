/*
 * oftp2/codec.h - the OFTP2 codec: STH framing, command parsing and building,
 * SSID negotiation, DATA exchange buffers and reason-code texts.
 *
 * Field rules and ESID reasons follow docs/oftp2-wire-reference.md ("ref §n").
 * Types of decoded commands are in <smartproxy/oftp2.h>.
 *
 * Ownership and memory:
 *  - Framing and parsing allocate nothing. A parsed struct oftp2_cmd copies
 *    the fixed fields and points into the caller's frame for T/U fields; the
 *    caller keeps the frame alive while it uses those.
 *  - Builders append to a caller-owned struct sp_buf, atomically: on any
 *    error the buffer is left exactly as it was.
 *  - struct oftp2_data_enc owns one DATA buffer of at most the negotiated
 *    size (allocated lazily); release it with oftp2_data_enc_free().
 *
 * Errors: functions return 0 or a negative SP_ERR_*. A protocol error in
 * outside bytes is SP_ERR_PROTOCOL and fills a struct oftp2_err (when one is
 * passed: every err argument may be NULL) naming the ESID reason to send.
 *
 * `tol` arguments are bit sets of OFTP2_TOL_* (oftp2.h); 0 is strict.
 */
#ifndef SP_OFTP2_CODEC_H
#define SP_OFTP2_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smartproxy/oftp2.h>

#include "core/buf.h"

/* What was wrong with a buffer, and which ESID reason answers it. */
struct oftp2_err {
	uint8_t esid;          /* OFTP2_ESID_*: 01 unknown command, 06 bad field,
	                          07 length, 10/12 negotiation, ... */
	uint8_t cmd;           /* command octet (OFTP2_SSID...), 0 if none */
	const char *field;     /* RFC field name ("SSIDSDEB"), "STH" for framing,
	                          NULL if the command as a whole; static */
	size_t offset;         /* offset of the field in the OEB (STH: in the STH) */
	char text[200];        /* human-readable, e.g.
	                          SSID.SSIDSDEB: "12A45" is not numeric */
};

/* ---- STH framing (ref §1.2) ----
 * Suricata style: look at the bytes buffered so far, without consuming.
 *   0                a complete frame: oeb/oeb_len/consumed are set;
 *   SP_ERR_SHORT     incomplete: `needed` more octets are required at least
 *                    (once the STH is complete, oeb_len is already set, so a
 *                    caller can refuse an oversized DATA buffer early);
 *   SP_ERR_PROTOCOL  bad STH, err set: octet 0 != 0x10 -> ESID 06 (unless
 *                    OFTP2_TOL_STH_OCTET0); length < 5 or > 100003 -> ESID 07.
 * Errors are reported as soon as the offending octet is present. */
struct oftp2_frame {
	const uint8_t *oeb;    /* first OEB octet, into `p`; NULL unless complete */
	size_t oeb_len;        /* STH length - 4; 0 while the STH is incomplete */
	size_t consumed;       /* STH + OEB: what to drop from the input */
	size_t needed;         /* on SP_ERR_SHORT: octets still missing */
};

int oftp2_frame(const uint8_t *p, size_t len, unsigned tol,
    struct oftp2_frame *f, struct oftp2_err *err);

/* Append an STH for an OEB of oeb_len octets (1..99999). */
int oftp2_sth_put(struct sp_buf *out, size_t oeb_len);

/* ---- Commands ----
 * oftp2_parse: decode one OEB (no STH). Checks exact length (ESID 07), command
 * octet (01) and every field's type, padding, range and enum (06). Checks that
 * need session state are the caller's: state and credit, SFIDREST = 0 unless
 * restart was agreed, SFPAACNT <= SFIDREST, DATA length <= SDEB, and DATA
 * subrecords (oftp2_data_check() with the negotiated compression). */
int oftp2_parse(const uint8_t *oeb, size_t len, unsigned tol,
    struct oftp2_cmd *cmd, struct oftp2_err *err);

/*
 * oftp2_parse_dev: the same, and names what the parse admitted without
 * refusing it: the tolerances of `tol` it used (OFTP2_TOL_* bits) and the
 * deviations it always admits (OFTP2_DEV_*). Filled on success and failure.
 */
#define OFTP2_DEV_NFIELD 4
struct oftp2_dev {
	unsigned bits;                         /* OFTP2_TOL_* | OFTP2_DEV_* */
	const char *field[OFTP2_DEV_NFIELD];   /* the first field of each bit,
	                                          static; NULL after the last */
	unsigned field_bit[OFTP2_DEV_NFIELD];
};

int oftp2_parse_dev(const uint8_t *oeb, size_t len, unsigned tol,
    struct oftp2_cmd *cmd, struct oftp2_err *err, struct oftp2_dev *dev);

/* The stable token of one deviation bit ("lf_trailer"), NULL if unknown. */
const char *oftp2_dev_rule(unsigned bit);
/* The field recorded for a bit, "-" if none. */
const char *oftp2_dev_field(const struct oftp2_dev *dev, unsigned bit);

/* Build flags. */
#define OFTP2_BUILD_STH  (1u << 0)   /* prefix the OEB with its STH */

/* Serialise cmd byte-exact into out. SP_ERR_INVALID (err says why) when a
 * field is invalid by the strict rules; SP_ERR_LIMIT if out is too small. */
int oftp2_build(struct sp_buf *out, const struct oftp2_cmd *cmd,
    unsigned flags, struct oftp2_err *err);

/* Strict validation of a struct as oftp2_build does it, without building. */
int oftp2_check(const struct oftp2_cmd *cmd, struct oftp2_err *err);

/* ---- SSID negotiation (ref §5.2) ----
 * From the Initiator's and the Responder's SSIDs, the effective parameters.
 * SP_ERR_PROTOCOL with err->esid 10 (levels, buffer size, modes, restart,
 * special logic, credit) or 12 (SSIDAUTH differs). Tolerances used:
 * OFTP2_TOL_SR_ANY, OFTP2_TOL_REST_AND. */
int oftp2_negotiate(const struct oftp2_ssid *initiator,
    const struct oftp2_ssid *responder, unsigned tol,
    struct oftp2_session_params *out, struct oftp2_err *err);

/* ---- DATA exchange buffers (ref §4) ----
 * `payload` is the DATA OEB without its 'D' (struct oftp2_data.buf).
 * `compression` is the negotiated SSIDCMPR: a CF subrecord without it is
 * ESID 06, as is a subrecord running past the end of the buffer. The caller
 * checks 1 + payload length <= negotiated SDEB. */

/* One subrecord. */
struct oftp2_subrec {
	const uint8_t *ptr;    /* literal octets, or the one repeated octet (CF) */
	size_t count;          /* file octets it stands for, 0..63 */
	bool cf;               /* ptr[0] repeated count times */
	bool eor;              /* last subrecord of a record */
};

/* Iterate: rd over the payload. 0 and *sr filled; SP_ERR_SHORT at the end of
 * the buffer; SP_ERR_PROTOCOL for a malformed subrecord. */
int oftp2_data_next(struct sp_rd *rd, bool compression,
    struct oftp2_subrec *sr, struct oftp2_err *err);

/* Totals of one buffer. */
struct oftp2_data_info {
	uint64_t octets;       /* file octets after decompression */
	uint64_t records;      /* EoR flags seen (records ended in this buffer) */
	size_t subrecords;
	bool ends_record;      /* the last subrecord carries EoR */
};

/* Validate a whole payload and count it; nothing is copied. */
int oftp2_data_check(const uint8_t *payload, size_t len, bool compression,
    struct oftp2_data_info *info, struct oftp2_err *err);

/* Decode subrecords from rd (over a payload) and append the file octets to
 * out, stopping after a subrecord with EoR or at the end of the buffer; *eor
 * says which. Call again while sp_rd_left(rd) > 0 to get the next record.
 * On error, out may already hold part of the octets: run oftp2_data_check()
 * first when all-or-nothing matters. SP_ERR_LIMIT if out is full. */
int oftp2_data_decode(struct sp_rd *rd, bool compression, struct sp_buf *out,
    bool *eor, struct oftp2_err *err);

/*
 * Streaming encoder: file octets in, DATA OEBs of at most `sdeb` octets out.
 * Memory is one buffer of sdeb octets, whatever the file size.
 *
 *   oftp2_data_enc_init(&e, fmt, compression, sdeb);
 *   for each chunk of the current record:
 *       while (n > 0) {
 *           oftp2_data_enc_write(&e, p, n, &used); p += used; n -= used;
 *           if (oftp2_data_enc_ready(&e)) take and send it (one credit each)
 *       }
 *   F/V, after each record: while (oftp2_data_enc_end_record(&e) ==
 *       SP_ERR_AGAIN) take and send;
 *   at end of file: same loop with oftp2_data_enc_finish(), then take and
 *       send the last buffer if oftp2_data_enc_ready().
 *   oftp2_data_enc_free(&e);
 *
 * U and T files are one record: its EoR is set by finish (end_record is
 * SP_ERR_INVALID for them). For F/V, finish ends a record still open. A full
 * buffer is held back until more input or the end is known, so the EoR always
 * lands on the last data subrecord; an empty file gives no buffer at all, an
 * empty F/V record a lone EoR header. With compression, runs of 3 or more
 * equal octets become CF subrecords (runs continue across write calls).
 * write/end_record/finish return SP_ERR_AGAIN while a ready buffer waits to be
 * taken. The totals give EFIDUCNT (octets) and EFIDRCNT (records, F/V).
 */
struct oftp2_data_enc {
	/* configuration */
	enum oftp2_format format;
	bool compression;
	size_t sdeb;           /* max OEB octets, 'D' included */
	/* totals so far */
	uint64_t octets;
	uint64_t records;
	/* private state */
	struct sp_buf cur;     /* the OEB being filled, 'D' first */
	size_t last_hdr;       /* offset in cur of the last header, 0 = none */
	bool last_open;        /* last subrecord may still grow (not EoR) */
	bool record_open;      /* octets or subrecords of an unended record */
	bool ready;            /* cur is complete and waits for take */
	bool finished;
};

int oftp2_data_enc_init(struct oftp2_data_enc *e, enum oftp2_format format,
    bool compression, size_t sdeb);
void oftp2_data_enc_free(struct oftp2_data_enc *e);
int oftp2_data_enc_write(struct oftp2_data_enc *e, const void *p, size_t n,
    size_t *used);
int oftp2_data_enc_end_record(struct oftp2_data_enc *e);
int oftp2_data_enc_finish(struct oftp2_data_enc *e);
bool oftp2_data_enc_ready(const struct oftp2_data_enc *e);
/* Append the ready buffer (flags: OFTP2_BUILD_STH) to out and start the next
 * one. SP_ERR_SHORT if nothing is ready, SP_ERR_LIMIT if out is too small. */
int oftp2_data_enc_take(struct oftp2_data_enc *e, struct sp_buf *out,
    unsigned flags);

/* ---- Names and reason texts for humans ----
 * NULL for a code that is not defined, so these double as enum checks. */
const char *oftp2_cmd_name(uint8_t code);          /* 'X' -> "SSID" */
const char *oftp2_esid_text(unsigned reason);
const char *oftp2_sfna_text(unsigned reason);      /* SFNA set */
const char *oftp2_efna_text(unsigned reason);      /* SFNA set + 21..23 */
const char *oftp2_nerp_text(unsigned reason);

#endif
