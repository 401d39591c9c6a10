/*
 * admit.c - for a refusal, the one switch of modules.oftp2 that would have
 * admitted it, if any: the answer `partners diagnose` gives an operator
 * onboarding a partner. Pure: it reads the session and the refused frame,
 * changes nothing, allocates nothing.
 *
 * Codec rules are found by parsing the frame again with one more tolerance
 * at a time; state rules (negotiation, credit, ESID placement, buffer size)
 * by what the error names. A refusal no switch governs gives 0: lengths,
 * credit and state beyond the documented quirks are never tolerable.
 */
#include "o2.h"

#include <string.h>

static bool
named(const struct oftp2_err *err, uint8_t cmd, const char *field)
{
	return err->cmd == cmd && err->field != NULL &&
	    strcmp(err->field, field) == 0;
}

unsigned
o2_admit(const struct o2_sess *s, enum o2_side from, const uint8_t *oeb,
    size_t oeb_len, const struct oftp2_err *err)
{
	static const unsigned codec[] = {
		OFTP2_TOL_NO_CR, OFTP2_TOL_LF_TRAILER, OFTP2_TOL_BARE_CDT,
		OFTP2_TOL_NUMERIC_SPACES, OFTP2_TOL_LOWERCASE,
		OFTP2_TOL_X_CHARSET, OFTP2_TOL_TIME_COUNTER0
	};
	struct oftp2_cmd c;
	size_t i;

	if (oeb != NULL && oftp2_parse(oeb, oeb_len, s->tol, &c, NULL) != 0)
		for (i = 0; i < sizeof(codec) / sizeof(codec[0]); i++)
			if (!(s->tol & codec[i]) && oftp2_parse(oeb, oeb_len,
			    s->tol | codec[i], &c, NULL) == 0)
				return codec[i];
	if (err->cmd == 0 && err->field != NULL &&
	    strcmp(err->field, "STH") == 0 && err->esid == OFTP2_ESID_INVALID_DATA)
		return OFTP2_TOL_STH_OCTET0;
	if (named(err, OFTP2_SSID, "SSIDSR"))
		return OFTP2_TOL_SR_ANY;
	if (named(err, OFTP2_SSID, "SSIDREST"))
		return OFTP2_TOL_REST_AND;
	if (named(err, OFTP2_ESID, "ESIDREAS") && from == s->speaker &&
	    (s->phase == PH_WF_EFANS || s->phase == PH_WF_CD))
		return OFTP2_TOL_ESID_EARLY;
	if (err->cmd == OFTP2_EFID && s->phase == PH_DATA && s->credit == 0 &&
	    from == s->speaker)
		return OFTP2_TOL_EFID_NO_CREDIT;
	if (err->cmd == OFTP2_DATA && err->esid == OFTP2_ESID_BUFFER_SIZE &&
	    s->negotiated && oeb_len > s->params.sdeb &&
	    oeb_len <= (size_t)s->params.sdeb + OFTP2_DATA_PAD_MAX)
		return OFTP2_TOL_DATA_PAD;   /* if the excess is zero padding */
	return 0;
}
