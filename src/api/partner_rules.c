/* partner_rules.c - the rules of a partner's fields; see partner_rules.h. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/partner_rules.h"

int
sp_partner_rule_odette_id(const char *id, const char **why)
{
	if (id == NULL || sp_site_valid_odette_id(id) != 0) {
		*why = "expected 1 to 25 of A-Z and 0-9";
		return -1;
	}
	return 0;
}

int
sp_partner_rule_password(const char *pw, size_t len, const char **why)
{
	size_t i;

	if (len < 1 || len > SP_PARTNER_PASSWORD_MAX) {
		*why = "expected 1 to 8 characters";
		return -1;
	}
	/* Trailing spaces would be the SSID's padding: none inside either. */
	for (i = 0; i < len; i++)
		if (pw[i] <= 0x20 || pw[i] >= 0x7f) {
			*why = "only printable ASCII without spaces (OFTP2 X(8))";
			return -1;
		}
	return 0;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool
is_pin(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

static int
refuse(const char **field, const char **why, const char *f, const char *w)
{
	*field = f;
	*why = w;
	return -1;
}

int
sp_partner_rules_check(const struct sp_site_partner *p, const char **field,
    const char **why)
{
	char norm[80];
	size_t i;

	if (sp_partner_rule_odette_id(p->odette_id, why) != 0) {
		*field = "odette_id";
		return -1;
	}
	if (p->description != NULL &&
	    strlen(p->description) > SP_PARTNER_DESCRIPTION_MAX)
		return refuse(field, why, "description", "at most 200 characters");
	if (p->description != NULL && !printable(p->description))
		return refuse(field, why, "description", "control characters are not allowed");
	if (p->networks.n > SP_SITE_MAX_LIST)
		return refuse(field, why, "allowed_networks", "at most 256 networks");
	for (i = 0; i < p->networks.n; i++)
		if (sp_site_cidr_normalise(p->networks.v[i], norm, sizeof(norm)) != 0)
			return refuse(field, why, "allowed_networks", "not a valid network");
	if (p->max_sessions < 0 || p->max_sessions > SP_PARTNER_MAX_SESSIONS)
		return refuse(field, why, "max_sessions", "must be 0..100000");
	if (p->pins.n > SP_SITE_MAX_LIST)
		return refuse(field, why, "tls.pins", "at most 256 pins");
	for (i = 0; i < p->pins.n; i++)
		if (!is_pin(p->pins.v[i]))
			return refuse(field, why, "tls.pins", "not a SHA-256 pin (64 hex digits)");
	if (sp_site_check_bind(p->bind, p->bind_dn, why) != 0) {
		*field = "tls";
		return -1;
	}
	if (p->require_client_cert && p->pins.n == 0 && p->ca_bundle == NULL)
		return refuse(field, why, "tls", "require_client_cert needs pins or ca_bundle");
	if (p->valid_from != NULL && p->valid_until != NULL &&
	    strcmp(p->valid_from, p->valid_until) >= 0)
		return refuse(field, why, "valid_until", "must be after valid_from");
	return 0;
}

void
sp_partner_rule_text(const char *field, const char *why, char *out, size_t outlen)
{
	if (strcmp(field, "tls") == 0)
		snprintf(out, outlen, "'tls.%s", why);
	else
		snprintf(out, outlen, "'%s' %s", field, why);
}
