/*
 * partner_body.h - the JSON bodies of POST /v1/partners and PUT
 * /v1/partners/<id> (docs/api.md 4.3) into a partner, apart from the HTTP
 * daemon so that the unit tests run the very code the handlers run. Types
 * and syntax are checked here; the rules of the values are partner_rules.h,
 * the same the site file goes through.
 *
 * Every function returns SP_OK, SP_ERR_INVALID with one line for the 400
 * answer in `err`, SP_ERR_NOMEM, or another SP_ERR_* (hashing failed).
 *
 * Ownership: a partner filled here owns every string and list in it (the
 * odette_id and description too); sp_partner_clear() frees them and zeroes
 * it. A change owns its lists, strings and the password hash it made;
 * sp_partner_change_clear() frees them (and wipes the hash);
 * sp_partner_change_apply() moves what it applies into the partner.
 */
#ifndef SP_API_PARTNER_BODY_H
#define SP_API_PARTNER_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "api/pwhash.h"
#include "api/site.h"

/* What a PUT body asks to change; `has_*` tells given from absent. */
struct sp_partner_change {
	char *description;                      /* NULL: kept */
	char hash[SP_PWHASH_TEXT_MAX];          /* "": password kept */
	bool has_networks, has_pins, has_rcc, has_ms, has_enabled;
	bool has_from, has_until, has_bind, has_bind_dn, has_ca;
	char *ca_bundle;                        /* NULL with has_ca: remove */
	struct sp_strv networks, pins;
	char *bind, *bind_dn;                   /* NULL with has_*: default / clear */
	bool rcc, enabled;
	int64_t ms;
	char *valid_from, *valid_until;         /* NULL with has_*: clear */
};

/* POST: a new partner, its password hashed with `iterations` (0: default). */
int sp_partner_body_post(json_object *o, unsigned iterations, struct sp_site_partner *p,
    char *err, size_t errlen);
/* PUT: the change the body asks for partner `id` (checked against it). */
int sp_partner_body_change(json_object *o, const char *id, unsigned iterations,
    struct sp_partner_change *ch, char *err, size_t errlen);
/* The stored partner (as sp_store_partner_get renders it) as a struct. */
int sp_partner_from_stored(json_object *cur, struct sp_site_partner *p);
/* Apply `ch` to `p`, then the partner rules to the result. */
int sp_partner_change_apply(struct sp_partner_change *ch, struct sp_site_partner *p,
    char *err, size_t errlen);
void sp_partner_change_clear(struct sp_partner_change *ch);
void sp_partner_clear(struct sp_site_partner *p);

#endif
