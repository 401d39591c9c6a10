/*
 * partner_rules.h - the rules of a partner's fields (docs/api.md 4.3 and 6.2),
 * written once. Three ways lead to a stored partner: the site file (site.c),
 * POST /v1/partners and PUT /v1/partners/<id> (partner_body.c). Each decodes
 * its own syntax (YAML or JSON types, normalised networks and times) and
 * then asks these, so all three accept and refuse the same values, in the
 * same words (check_api_partner_rules.c drives the three with one table).
 *
 * The functions return 0, or -1 with *why: a static text naming the rule,
 * and for a whole partner *field: the member it is about, as a key path
 * inside the partner ("odette_id", "tls", "valid_until"). Nothing is owned.
 */
#ifndef SP_API_PARTNER_RULES_H
#define SP_API_PARTNER_RULES_H

#include <stddef.h>

#include "api/site.h"

#define SP_PARTNER_ID_MAX 25
#define SP_PARTNER_PASSWORD_MAX 8          /* SSIDPSWD is X(8) */
#define SP_PARTNER_DESCRIPTION_MAX 200
#define SP_PARTNER_MAX_SESSIONS 100000
#define SP_PARTNER_BIND_MAX 8

/* 1 to 25 of A-Z and 0-9. */
int sp_partner_rule_odette_id(const char *id, const char **why);
/* A password in clear: 1 to 8 octets of printable ASCII without spaces. */
int sp_partner_rule_password(const char *pw, size_t len, const char **why);
/* Every rule of one decoded partner, the rules between fields included
 * (tls.bind with tls.bind_dn, require_client_cert with pins or a CA bundle,
 * valid_until after valid_from). */
int sp_partner_rules_check(const struct sp_site_partner *p, const char **field,
    const char **why);
/* The API's one line for a refusal: "'tls.bind_dn: only with bind dn" for
 * the tls rules (their why names the member), else "'FIELD' WHY". */
void sp_partner_rule_text(const char *field, const char *why, char *out, size_t outlen);

#endif
