/*
 * users.c - the parsers of the panel's outside bytes (users.h): the Cookie
 * header, the session id in it and the login body. Kept apart from the
 * daemon so tests/fuzz/fuzz_panel.c runs the very code the api runs.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/bodies.h"
#include "api/users.h"
#include "core/err.h"

int
sp_user_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 1 || n > SP_USER_NAME_MAX)
		return SP_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		    name[i] == '_' || name[i] == '@' || name[i] == '-'))
			return SP_ERR_INVALID;
	return SP_OK;
}

int
sp_user_password_valid(const char *pw, size_t len)
{
	size_t i;

	if (len < SP_USER_PW_MIN || len > SP_USER_PW_MAX)
		return SP_ERR_INVALID;
	for (i = 0; i < len; i++)
		if (pw[i] < 0x20 || pw[i] >= 0x7f)
			return SP_ERR_INVALID;
	return SP_OK;
}

/* RFC 6265 4.1.1 cookie-octet, plus the token characters of a name. */
static int
cookie_octet(char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

int
sp_panel_cookie(const char *header, const char *name, char *out,
    size_t outlen)
{
	size_t nlen = strlen(name), klen, vlen;
	const char *p = header, *k, *v;

	if (outlen == 0)
		return SP_ERR_INVALID;
	out[0] = '\0';
	if (header == NULL)
		return SP_ERR_NOT_FOUND;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return SP_ERR_NOT_FOUND;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		if (*p != '=')
			return SP_ERR_INVALID;
		klen = (size_t)(p - k);
		while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		v = ++p;
		/* A quoted value is allowed by the grammar; ours never is. */
		while (cookie_octet(*p) || *p == '"')
			p++;
		vlen = (size_t)(p - v);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' && *p != ';')
			return SP_ERR_INVALID;
		if (klen == nlen && memcmp(k, name, nlen) == 0) {
			if (vlen >= outlen)
				return SP_ERR_INVALID;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return SP_OK;
		}
		if (*p == ';')
			p++;
	}
}

int
sp_panel_sid_valid(const char *sid)
{
	size_t i;

	for (i = 0; i < SP_PANEL_SID_LEN; i++)
		if (!((sid[i] >= '0' && sid[i] <= '9') ||
		    (sid[i] >= 'a' && sid[i] <= 'f')))
			return SP_ERR_INVALID;
	return sid[i] == '\0' ? SP_OK : SP_ERR_INVALID;
}

int
sp_panel_login_body(json_object *o, const char **user, const char **pw,
    char *err, size_t errlen)
{
	int r;

	*user = *pw = NULL;
	if ((r = sp_body_str(o, "user", true, 1, SP_USER_NAME_MAX, user, err,
	    errlen)) != 0 ||
	    (r = sp_body_str(o, "password", true, 1, SP_USER_PW_MAX, pw, err,
	    errlen)) != 0)
		return r;
	if (sp_user_name_valid(*user) != 0) {
		snprintf(err, errlen, "'user' must be 1 to %d of A-Z a-z 0-9 "
		    "._@-", SP_USER_NAME_MAX);
		return SP_ERR_INVALID;
	}
	return SP_OK;
}
