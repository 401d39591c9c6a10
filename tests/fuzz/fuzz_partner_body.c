/*
 * fuzz_partner_body.c - libFuzzer target for the bodies of POST
 * /v1/partners and PUT /v1/partners/<id> (src/api/partner_body.c) and the
 * partner rules behind them (src/api/partner_rules.c).
 *
 * Input: the first octet picks POST (even) or PUT (odd), the rest is the
 * body, parsed as the handlers parse it. A PUT is applied onto a valid
 * stored partner. Besides the sanitizers, what is checked: a refusal comes
 * with its one line; a partner that passed passes the rules again (what is
 * stored is what the site file would accept too).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/partner_body.h"
#include "api/partner_rules.h"
#include "api/pwhash.h"
#include "core/err.h"

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_partner_body: %s: %.300s\n", what, text);
	abort();
}

static void
verdict(int r, const char *err, const struct sp_site_partner *p)
{
	const char *field, *why;

	if (r == SP_ERR_INVALID && err[0] == '\0')
		fail("refusal without its message", err);
	if (r == SP_OK && sp_partner_rules_check(p, &field, &why) != 0)
		fail("accepted partner breaks a rule", why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_site_partner p;
	struct sp_partner_change ch;
	json_object *o = NULL;
	char err[600];
	int r;

	if (size < 1)
		return 0;
	if (sp_body_parse(data + 1, size - 1, &o, err, sizeof(err)) != 0)
		return 0;
	err[0] = '\0';
	memset(&p, 0, sizeof(p));
	if (data[0] % 2 == 0) {
		r = sp_partner_body_post(o, SP_PWHASH_MIN_ITERATIONS, &p, err, sizeof(err));
		verdict(r, err, &p);
	} else {
		r = sp_partner_body_change(o, "ACME", SP_PWHASH_MIN_ITERATIONS, &ch, err,
		    sizeof(err));
		if (r == SP_OK) {
			p.odette_id = strdup("ACME");
			p.description = strdup("");
			p.password_hash = strdup("pbkdf2-sha256$10000$00$00");
			p.enabled = true;
			if (p.odette_id == NULL || p.description == NULL || p.password_hash == NULL)
				abort();
			r = sp_partner_change_apply(&ch, &p, err, sizeof(err));
		}
		verdict(r, err, &p);
		sp_partner_change_clear(&ch);
	}
	sp_partner_clear(&p);
	json_object_put(o);
	return 0;
}
