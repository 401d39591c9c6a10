/*
 * oftp2/negotiate.c - effective session parameters from the two SSIDs
 * (ref §5.2). Failures name ESID 10 (capabilities) or 12 (authentication).
 */
#include "oftp2/fields.h"

#include <string.h>

#include "core/err.h"

static int
fail(struct oftp2_err *err, uint8_t esid, const char *field, size_t off,
    const char *why)
{
	return oftp2_err_set(err, SP_ERR_PROTOCOL, esid, OFTP2_SSID, field, off,
	    "%s", why);
}

/* Strict service table of ref §5.2: S pairs with R, R with S, B with any. */
static bool
modes_ok(enum oftp2_mode i, enum oftp2_mode r, unsigned tol)
{
	if ((i == OFTP2_MODE_SEND && r == OFTP2_MODE_SEND) ||
	    (i == OFTP2_MODE_RECEIVE && r == OFTP2_MODE_RECEIVE))
		return false;
	if (tol & OFTP2_TOL_SR_ANY)
		return true;
	if (i == OFTP2_MODE_SEND)
		return r == OFTP2_MODE_RECEIVE;
	if (i == OFTP2_MODE_RECEIVE)
		return r == OFTP2_MODE_SEND;
	return true;
}

int
oftp2_negotiate(const struct oftp2_ssid *in, const struct oftp2_ssid *re,
    unsigned tol, struct oftp2_session_params *out,
    struct oftp2_err *err)
{
	memset(out, 0, sizeof(*out));
	/* RFC 5024 §5.3.2: future levels are higher and the lowest level of
	 * the two is selected, so an initiator may offer more than 5; the
	 * responder of an OFTP 2.0 session answers 5. */
	if (in->level < OFTP2_LEVEL_OFTP2 || re->level != OFTP2_LEVEL_OFTP2)
		return fail(err, OFTP2_ESID_MODE, "SSIDLEV", 1,
		    "the initiator must offer level 5 or above and the "
		    "responder answer 5 (OFTP 2.0)");
	if (in->sdeb < OFTP2_SDEB_MIN || re->sdeb < OFTP2_SDEB_MIN ||
	    in->credit < OFTP2_CREDIT_MIN || re->credit < OFTP2_CREDIT_MIN)
		return fail(err, OFTP2_ESID_MODE, "SSIDSDEB", 35,
		    "buffer size or credit below the minimum");
	if (re->sdeb > in->sdeb)
		return fail(err, OFTP2_ESID_MODE, "SSIDSDEB", 35,
		    "the responder's buffer size exceeds the initiator's offer");
	if (!modes_ok(in->mode, re->mode, tol))
		return fail(err, OFTP2_ESID_MODE, "SSIDSR", 40,
		    "send/receive modes are incompatible");
	if (!in->restart && re->restart && !(tol & OFTP2_TOL_REST_AND))
		return fail(err, OFTP2_ESID_MODE, "SSIDREST", 42,
		    "the responder asks for restart the initiator did not offer");
	if (!in->special && re->special)
		return fail(err, OFTP2_ESID_MODE, "SSIDSPEC", 43,
		    "the responder asks for special logic the initiator did "
		    "not offer");
	if (in->special && re->special)
		return fail(err, OFTP2_ESID_MODE, "SSIDSPEC", 43,
		    "special logic is not supported over TCP");
	if (re->credit > in->credit)
		return fail(err, OFTP2_ESID_MODE, "SSIDCRED", 44,
		    "the responder's credit exceeds the initiator's offer");
	if (in->auth != re->auth)
		return fail(err, OFTP2_ESID_AUTH_MISMATCH, "SSIDAUTH", 47,
		    "secure authentication requirements differ");
	out->level = OFTP2_LEVEL_OFTP2;
	out->sdeb = re->sdeb < in->sdeb ? re->sdeb : in->sdeb;
	out->initiator_mode = in->mode;
	out->responder_mode = re->mode;
	out->compression = in->compression && re->compression;
	out->restart = in->restart && re->restart;
	out->special = false;
	out->credit = re->credit;
	out->auth = in->auth;
	return 0;
}
