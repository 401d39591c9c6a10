/*
 * fuzz_panel.c - libFuzzer target for the panel's parsers of outside bytes
 * (src/api/users.c): the Cookie header a browser (or anybody) sends, the
 * session id found in it, and the login body.
 *
 * Input: the first octet picks (even: Cookie header, odd: login body), the
 * rest is the header or the body. Besides the sanitizers, what is checked:
 * a cookie value found is a substring of the header without ';' and fits
 * its buffer; a session id accepted is 64 lowercase hex digits; a login
 * body accepted names a valid user and a password of 1..256 octets.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/users.h"
#include "core/err.h"

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_panel: %s: %.300s\n", what, text);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, val[SP_PANEL_SID_LEN + 2], err[160];
	const char *user, *pw;
	json_object *o = NULL;
	int r;

	if (size < 1)
		return 0;
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if ((data[0] & 1) == 0) {
		r = sp_panel_cookie(text, SP_PANEL_COOKIE, val, sizeof(val));
		if (r == SP_OK) {
			if (strlen(val) >= sizeof(val) || strchr(val, ';') ||
			    strstr(text, val) == NULL)
				fail("cookie value", text);
			if (sp_panel_sid_valid(val) == SP_OK &&
			    strspn(val, "0123456789abcdef") != SP_PANEL_SID_LEN)
				fail("session id", val);
		} else if (r != SP_ERR_NOT_FOUND && r != SP_ERR_INVALID)
			fail("cookie result", text);
	} else if (sp_body_parse(data + 1, size - 1, &o, err,
	    sizeof(err)) == SP_OK) {
		r = sp_panel_login_body(o, &user, &pw, err, sizeof(err));
		if (r == SP_OK && (sp_user_name_valid(user) != SP_OK ||
		    strlen(pw) < 1 || strlen(pw) > SP_USER_PW_MAX))
			fail("login body", text);
		if (r != SP_OK && err[0] == '\0')
			fail("refusal without a reason", text);
		json_object_put(o);
	}
	free(text);
	return 0;
}
