/* partner_body.c - POST and PUT /v1/partners bodies; see partner_body.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/partner_body.h"
#include "api/partner_rules.h"
#include "api/pem.h"
#include "core/err.h"

/* A rule's refusal as the 400 line. */
static int
refused(const char *field, const char *why, char *err, size_t errlen)
{
	sp_partner_rule_text(field, why, err, errlen);
	return SP_ERR_INVALID;
}

static void
strv_clear(struct sp_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

void
sp_partner_clear(struct sp_site_partner *p)
{
	strv_clear(&p->networks);
	strv_clear(&p->pins);
	free(p->odette_id);
	free(p->description);
	free(p->password_hash);
	free(p->ca_bundle);
	free(p->valid_from);
	free(p->valid_until);
	free(p->bind);
	free(p->bind_dn);
	memset(p, 0, sizeof(*p));
}

static int
dup_to(const char *s, char **out)
{
	if (s == NULL)
		return SP_OK;
	return (*out = strdup(s)) != NULL ? SP_OK : SP_ERR_NOMEM;
}

/* A string member (absent or null: *out stays NULL), copied. */
static int
member_copy(json_object *o, const char *key, bool req, size_t maxlen, char **out,
    char *err, size_t errlen)
{
	const char *s;
	int r;

	if ((r = sp_body_str(o, key, req, 0, maxlen, &s, err, errlen)) != 0)
		return r;
	return dup_to(s, out);
}

static int
member_time(json_object *o, const char *key, char **out, char *err, size_t errlen)
{
	const char *s;
	char t[21];
	int r;

	if ((r = sp_body_str(o, key, false, 0, 40, &s, err, errlen)) != 0 || s == NULL)
		return r;
	if (sp_site_time_normalise(s, t) != 0)
		return sp_body_invalid(err, errlen, "'%s' must be a time YYYY-MM-DDTHH:MM:SSZ", key);
	return dup_to(t, out);
}

/* A JSON array of strings into a normalised list (CIDR or pins). */
static int
member_list(json_object *o, const char *key, bool cidr, struct sp_strv *sv,
    char *err, size_t errlen)
{
	json_object *v, *it;
	char norm[80];
	uint8_t pin[32];
	size_t i, n;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return SP_OK;
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > SP_SITE_MAX_LIST)
		return sp_body_invalid(err, errlen, "'%s' must be an array of at most %d strings",
		    key, SP_SITE_MAX_LIST);
	if ((sv->v = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(v, i);
		s = json_object_is_type(it, json_type_string) ? json_object_get_string(it) : "";
		if (cidr ? sp_site_cidr_normalise(s, norm, sizeof(norm)) != 0 :
		    sp_hex_decode(s, strlen(s), pin, 32) != 0)
			return sp_body_invalid(err, errlen, "'%s[%zu]' is not a valid %s", key, i,
			    cidr ? "network" : "SHA-256 pin");
		if (!cidr)
			sp_hex_encode(pin, 32, norm);
		if ((sv->v[i] = strdup(norm)) == NULL)
			return SP_ERR_NOMEM;
		sv->n = i + 1;
	}
	return SP_OK;
}

/* A boolean member, when given. */
static int
member_bool(json_object *o, const char *key, const char *name, bool *has, bool *val,
    char *err, size_t errlen)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return SP_OK;
	/* POST: null is the default (has is NULL); PUT: there is no "default". */
	if (v == NULL && has == NULL)
		return SP_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return sp_body_invalid(err, errlen, "'%s' must be true or false", name);
	if (has != NULL)
		*has = true;
	*val = json_object_get_boolean(v);
	return SP_OK;
}

/* An integer member, when given (not null). */
static int
member_int(json_object *o, const char *key, bool *has, int64_t *val, char *err,
    size_t errlen)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return SP_OK;
	/* POST: null is the default (has is NULL); PUT: there is no "default". */
	if (v == NULL && has == NULL)
		return SP_OK;
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return sp_body_invalid(err, errlen, "'%s' must be an integer", key);
	*val = json_object_get_int64(v);
	/* Out of int: the rules' range refuses it (kept out of range here). */
	if (*val < -1 || *val > SP_PARTNER_MAX_SESSIONS)
		*val = -1;
	if (has != NULL)
		*has = true;
	return SP_OK;
}

/* tls.bind and tls.bind_dn members, when given (null: absent), copied. */
static int
member_bind(json_object *tls, bool *has_bind, char **bind, bool *has_dn, char **bind_dn,
    char *err, size_t errlen)
{
	int r;

	*has_bind = json_object_object_get_ex(tls, "bind", NULL);
	*has_dn = json_object_object_get_ex(tls, "bind_dn", NULL);
	if ((r = member_copy(tls, "bind", false, SP_PARTNER_BIND_MAX, bind, err, errlen)) != 0 ||
	    (r = member_copy(tls, "bind_dn", false, SP_SITE_BIND_DN_MAX, bind_dn, err,
	    errlen)) != 0)
		return r;
	return SP_OK;
}

/* The password member in clear through the rule, hashed into hash. */
static int
password(const char *pw, unsigned iterations, char *hash, size_t hashlen, char *err,
    size_t errlen)
{
	const char *why;

	if (sp_partner_rule_password(pw, strlen(pw), &why) != 0)
		return refused("password", why, err, errlen);
	return sp_pwhash_make(pw, strlen(pw), iterations, hash, hashlen);
}

int
sp_partner_body_post(json_object *o, unsigned iterations, struct sp_site_partner *p,
    char *err, size_t errlen)
{
	json_object *tls = NULL, *v;
	char hash[SP_PWHASH_TEXT_MAX];
	const char *pw, *field, *why;
	bool has_b, has_dn, en = true;
	int64_t ms = 0;
	int r;

	memset(p, 0, sizeof(*p));
	p->enabled = true;
	/* Only types and sanity bounds here: the lengths that matter are the
	 * rules', so the words match the site file's. */
	if ((r = member_copy(o, "odette_id", true, 1024, &p->odette_id, err, errlen)) != 0 ||
	    (r = sp_body_str(o, "password", true, 0, 1024, &pw, err, errlen)) != 0 ||
	    (r = member_copy(o, "description", false, 4096, &p->description, err,
	    errlen)) != 0 ||
	    (r = member_list(o, "allowed_networks", true, &p->networks, err, errlen)) != 0 ||
	    (r = member_time(o, "valid_from", &p->valid_from, err, errlen)) != 0 ||
	    (r = member_time(o, "valid_until", &p->valid_until, err, errlen)) != 0 ||
	    (r = member_int(o, "max_sessions", NULL, &ms, err, errlen)) != 0 ||
	    (r = member_bool(o, "enabled", "enabled", NULL, &en, err, errlen)) != 0)
		return r;
	p->max_sessions = (int)ms;
	p->enabled = en;
	if (!json_object_object_get_ex(o, "allowed_networks", &v) || v == NULL)
		return sp_body_invalid(err, errlen, "'allowed_networks' is required (an empty list "
		    "allows no address)");
	if (json_object_object_get_ex(o, "tls", &tls) && tls != NULL) {
		if (!json_object_is_type(tls, json_type_object))
			return sp_body_invalid(err, errlen, "'tls' must be an object");
		if ((r = member_list(tls, "pins", false, &p->pins, err, errlen)) != 0 ||
		    (r = member_bool(tls, "require_client_cert", "tls.require_client_cert",
		    NULL, &p->require_client_cert, err, errlen)) != 0 ||
		    (r = member_bind(tls, &has_b, &p->bind, &has_dn, &p->bind_dn, err,
		    errlen)) != 0)
			return r;
	}
	if (p->description == NULL && (p->description = strdup("")) == NULL)
		return SP_ERR_NOMEM;
	if (sp_partner_rules_check(p, &field, &why) != 0)
		return refused(field, why, err, errlen);
	if ((r = password(pw, iterations, hash, sizeof(hash), err, errlen)) != 0)
		return r;
	r = dup_to(hash, &p->password_hash);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

int
sp_partner_body_change(json_object *o, const char *id, unsigned iterations,
    struct sp_partner_change *ch, char *err, size_t errlen)
{
	static const char *const known[] = { "odette_id", "password", "description",
		"allowed_networks", "tls", "max_sessions", "enabled", "valid_from",
		"valid_until", NULL };
	json_object *tls = NULL, *v;
	const char *s, *pw;
	size_t i;
	int r;

	memset(ch, 0, sizeof(*ch));
	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL)
			return sp_body_invalid(err, errlen, "'%.64s' is not a field of a partner%s", key,
			    strcmp(key, "password_hash") == 0 ? " (send 'password' in clear)" : "");
	}
	if ((r = sp_body_str(o, "odette_id", false, 1, 64, &s, err, errlen)) != 0)
		return r;
	if (s != NULL && strcmp(s, id) != 0)
		return sp_body_invalid(err, errlen, "'odette_id' cannot change (it names the "
		    "partner): remove and add it instead");
	if ((r = sp_body_str(o, "password", false, 0, 1024, &pw, err, errlen)) != 0 ||
	    (r = member_copy(o, "description", false, 4096, &ch->description, err,
	    errlen)) != 0)
		return r;
	if (json_object_object_get_ex(o, "allowed_networks", &v)) {
		if (v == NULL)
			return sp_body_invalid(err, errlen, "'allowed_networks' must be an array (an "
			    "empty one allows no address)");
		if ((r = member_list(o, "allowed_networks", true, &ch->networks, err,
		    errlen)) != 0)
			return r;
		ch->has_networks = true;
	}
	if ((ch->has_from = json_object_object_get_ex(o, "valid_from", NULL)) &&
	    (r = member_time(o, "valid_from", &ch->valid_from, err, errlen)) != 0)
		return r;
	if ((ch->has_until = json_object_object_get_ex(o, "valid_until", NULL)) &&
	    (r = member_time(o, "valid_until", &ch->valid_until, err, errlen)) != 0)
		return r;
	if ((r = member_int(o, "max_sessions", &ch->has_ms, &ch->ms, err, errlen)) != 0 ||
	    (r = member_bool(o, "enabled", "enabled", &ch->has_enabled, &ch->enabled, err,
	    errlen)) != 0)
		return r;
	if (json_object_object_get_ex(o, "tls", &tls)) {
		if (tls == NULL || !json_object_is_type(tls, json_type_object))
			return sp_body_invalid(err, errlen, "'tls' must be an object");
		json_object_object_foreach(tls, tkey, tval) {
			(void)tval;
			if (strcmp(tkey, "require_client_cert") != 0 && strcmp(tkey, "pins") != 0 &&
			    strcmp(tkey, "bind") != 0 && strcmp(tkey, "bind_dn") != 0 &&
			    strcmp(tkey, "ca_bundle") != 0)
				return sp_body_invalid(err, errlen, "'tls.%.64s' is not a field of a "
				    "partner's tls", tkey);
		}
		/* A CA bundle rotates here without an import: PEM checked by
		 * GnuTLS like the site file's, null removes it. */
		if (json_object_object_get_ex(tls, "ca_bundle", &v)) {
			char why[300];

			ch->has_ca = true;
			if (v != NULL) {
				if (!json_object_is_type(v, json_type_string))
					return sp_body_invalid(err, errlen, "'tls.ca_bundle' must be PEM "
					    "text or null");
				if (sp_api_pem_certs_check(json_object_get_string(v), why,
				    sizeof(why)) != 0)
					return sp_body_invalid(err, errlen, "'tls.ca_bundle' %s", why);
				if ((r = dup_to(json_object_get_string(v), &ch->ca_bundle)) != 0)
					return r;
			}
		}
		if ((r = member_bool(tls, "require_client_cert", "tls.require_client_cert",
		    &ch->has_rcc, &ch->rcc, err, errlen)) != 0 ||
		    (r = member_bind(tls, &ch->has_bind, &ch->bind, &ch->has_bind_dn,
		    &ch->bind_dn, err, errlen)) != 0)
			return r;
		if (json_object_object_get_ex(tls, "pins", &v)) {
			if (v == NULL)
				return sp_body_invalid(err, errlen, "'tls.pins' must be an array");
			if ((r = member_list(tls, "pins", false, &ch->pins, err, errlen)) != 0)
				return r;
			ch->has_pins = true;
		}
	}
	/* Hashed like on POST; the clear text goes no further. */
	if (pw != NULL)
		return password(pw, iterations, ch->hash, sizeof(ch->hash), err, errlen);
	return SP_OK;
}

/* A stored JSON string array (as rendered) into an owned list. */
static int
strv_from_json(json_object *arr, struct sp_strv *sv)
{
	size_t i, n = arr ? json_object_array_length(arr) : 0;

	if ((sv->v = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if ((sv->v[i] = strdup(json_object_get_string(
		    json_object_array_get_idx(arr, i)))) == NULL)
			return SP_ERR_NOMEM;
		sv->n = i + 1;
	}
	return SP_OK;
}

static char *
dup_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return strdup(json_object_get_string(v));
}

int
sp_partner_from_stored(json_object *cur, struct sp_site_partner *p)
{
	json_object *tls = NULL, *v;

	memset(p, 0, sizeof(*p));
	json_object_object_get_ex(cur, "tls", &tls);
	if ((p->odette_id = dup_member(cur, "odette_id")) == NULL ||
	    (p->description = dup_member(cur, "description")) == NULL ||
	    (p->password_hash = dup_member(cur, "password_hash")) == NULL ||
	    !json_object_object_get_ex(cur, "allowed_networks", &v) ||
	    strv_from_json(v, &p->networks) != 0 ||
	    !json_object_object_get_ex(tls, "pins", &v) ||
	    strv_from_json(v, &p->pins) != 0)
		return SP_ERR_NOMEM;
	p->ca_bundle = dup_member(tls, "ca_bundle");
	p->bind = dup_member(tls, "bind");
	p->bind_dn = dup_member(tls, "bind_dn");
	p->require_client_cert = json_object_object_get_ex(tls, "require_client_cert", &v) &&
	    json_object_get_boolean(v);
	p->max_sessions = json_object_object_get_ex(cur, "max_sessions", &v) ?
	    json_object_get_int(v) : 0;
	p->enabled = json_object_object_get_ex(cur, "enabled", &v) &&
	    json_object_get_boolean(v);
	p->valid_from = dup_member(cur, "valid_from");
	p->valid_until = dup_member(cur, "valid_until");
	return SP_OK;
}

void
sp_partner_change_clear(struct sp_partner_change *ch)
{
	strv_clear(&ch->networks);
	strv_clear(&ch->pins);
	free(ch->description);
	free(ch->valid_from);
	free(ch->valid_until);
	free(ch->bind);
	free(ch->bind_dn);
	free(ch->ca_bundle);
	explicit_bzero(ch->hash, sizeof(ch->hash));
	memset(ch, 0, sizeof(*ch));
}

/* Replace *dst by *src when `has`: the old value freed, src taken. */
static void
take_str(bool has, char **dst, char **src)
{
	if (!has)
		return;
	free(*dst);
	*dst = *src;
	*src = NULL;
}

static void
take_strv(bool has, struct sp_strv *dst, struct sp_strv *src)
{
	if (!has)
		return;
	strv_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int
sp_partner_change_apply(struct sp_partner_change *ch, struct sp_site_partner *p,
    char *err, size_t errlen)
{
	const char *field, *why;
	char *h;

	take_str(ch->description != NULL, &p->description, &ch->description);
	if (ch->hash[0] != '\0') {
		if ((h = strdup(ch->hash)) == NULL)
			return SP_ERR_NOMEM;
		free(p->password_hash);
		p->password_hash = h;
	}
	take_strv(ch->has_networks, &p->networks, &ch->networks);
	take_strv(ch->has_pins, &p->pins, &ch->pins);
	take_str(ch->has_from, &p->valid_from, &ch->valid_from);
	take_str(ch->has_until, &p->valid_until, &ch->valid_until);
	take_str(ch->has_bind, &p->bind, &ch->bind);
	take_str(ch->has_bind_dn, &p->bind_dn, &ch->bind_dn);
	/* Leaving "dn" drops its DN unless the body names one (then refused). */
	if (ch->has_bind && !ch->has_bind_dn && (p->bind == NULL || strcmp(p->bind, "dn") != 0)) {
		free(p->bind_dn);
		p->bind_dn = NULL;
	}
	take_str(ch->has_ca, &p->ca_bundle, &ch->ca_bundle);
	if (ch->has_rcc)
		p->require_client_cert = ch->rcc;
	if (ch->has_ms)
		p->max_sessions = (int)ch->ms;
	if (ch->has_enabled)
		p->enabled = ch->enabled;
	if (sp_partner_rules_check(p, &field, &why) != 0)
		return refused(field, why, err, errlen);
	return SP_OK;
}
