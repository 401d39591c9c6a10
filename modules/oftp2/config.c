/*
 * config.c - the `modules.oftp2` section of the runtime configuration
 * (docs/oftp2-module.md, docs/api.md): timeouts, the EFID cross-check and the
 * tolerance switches of wire reference §8, globally and per partner ODETTE ID.
 *
 * Unknown keys, wrong types and values out of range refuse the whole section
 * with one line naming the key, so a typo never silently weakens a check.
 * Ownership: o2_config_parse_json() fills a caller-owned struct o2_config
 * whose partner array it allocates; o2_config_release() frees that array.
 */
#include "o2.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* The tolerance switches and the codec flag each one sets. */
static const struct {
	const char *key;
	unsigned flag;
} tolerances[] = {
	{ "tolerate_missing_cr", OFTP2_TOL_NO_CR },
	{ "tolerate_bare_cdt", OFTP2_TOL_BARE_CDT },
	{ "tolerate_numeric_spaces", OFTP2_TOL_NUMERIC_SPACES },
	{ "tolerate_lowercase", OFTP2_TOL_LOWERCASE },
	{ "tolerate_x_charset", OFTP2_TOL_X_CHARSET },
	{ "tolerate_time_counter0", OFTP2_TOL_TIME_COUNTER0 },
	{ "tolerate_sth_octet0", OFTP2_TOL_STH_OCTET0 },
	{ "tolerate_sr_any", OFTP2_TOL_SR_ANY },
	{ "tolerate_restart_and", OFTP2_TOL_REST_AND },
	{ "tolerate_efid_no_credit", OFTP2_TOL_EFID_NO_CREDIT },
	{ "tolerate_lf_trailer", OFTP2_TOL_LF_TRAILER },
	{ "tolerate_data_padding", OFTP2_TOL_DATA_PAD },
	{ "tolerate_esid_early", OFTP2_TOL_ESID_EARLY },
};
#define NTOL (sizeof(tolerances) / sizeof(tolerances[0]))

void
o2_config_defaults(struct o2_config *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->ssid_timeout_ms = O2_SSID_TIMEOUT_DEFAULT;
	c->idle_timeout_ms = O2_IDLE_TIMEOUT_DEFAULT;
	c->session_max_ms = O2_SESSION_MAX_DEFAULT;
	c->check_counts = true;
	/* RFC 5024 §10.2 (01, 02) and ODETTE's list (03-06); 00 is "none". */
	for (i = 0; i <= 6; i++)
		c->cipher_ok[i] = true;
}

void
o2_config_release(struct o2_config *c)
{
	free(c->partners);
	c->partners = NULL;
	c->npartners = 0;
}

const char *
o2_config_switch_name(unsigned flag)
{
	size_t i;

	for (i = 0; i < NTOL; i++)
		if (tolerances[i].flag == flag)
			return tolerances[i].key;
	return NULL;
}

unsigned
o2_config_tol(const struct o2_config *c, const char *id, bool *check_counts,
    bool *detect)
{
	size_t i;

	*check_counts = c->check_counts;
	*detect = false;
	if (id == NULL || id[0] == '\0')
		return c->tol;
	for (i = 0; i < c->npartners; i++) {
		const struct o2_partner_tol *p = &c->partners[i];
		if (strcmp(p->odette_id, id) != 0)
			continue;
		if (p->check_counts >= 0)
			*check_counts = p->check_counts != 0;
		*detect = p->detect;
		return (c->tol & ~p->set) | (p->val & p->set);
	}
	return c->tol;
}

static int
bad(char *err, size_t errlen, const char *where, const char *key,
    const char *what)
{
	snprintf(err, errlen, "modules.oftp2%s.%s: %s", where, key, what);
	return SP_ERR_CONFIG;
}

static int
get_ms(json_object *v, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, char *err, size_t errlen)
{
	int64_t x;
	char what[96];

	if (!json_object_is_type(v, json_type_int))
		return bad(err, errlen, "", key, "expected an integer (milliseconds)");
	x = json_object_get_int64(v);
	if (x < (int64_t)min || x > (int64_t)max) {
		snprintf(what, sizeof(what), "%lld is outside %llu..%llu",
		    (long long)x, (unsigned long long)min, (unsigned long long)max);
		return bad(err, errlen, "", key, what);
	}
	*out = (uint64_t)x;
	return 0;
}

/* A tolerance or check switch; 1 if `key` was one, 0 if not, <0 on error. */
static int
get_switch(json_object *v, const char *where, const char *key, unsigned *set,
    unsigned *val, int *check, char *err, size_t errlen)
{
	size_t i;
	bool on;

	for (i = 0; i < NTOL; i++)
		if (strcmp(key, tolerances[i].key) == 0)
			break;
	if (i == NTOL && strcmp(key, "check_efid_counts") != 0)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(err, errlen, where, key, "expected true or false");
	on = json_object_get_boolean(v);
	if (i == NTOL) {
		*check = on ? 1 : 0;
		return 1;
	}
	*set |= tolerances[i].flag;
	if (on)
		*val |= tolerances[i].flag;
	else
		*val &= ~tolerances[i].flag;
	return 1;
}

/* `cipher_suites`: the SFIDCIPH values 01..99 accepted; 00 always is. */
static int
get_ciphers(json_object *v, struct o2_config *c, char *err, size_t errlen)
{
	size_t i, n;

	if (!json_object_is_type(v, json_type_array))
		return bad(err, errlen, "", "cipher_suites",
		    "expected an array of integers 1..99");
	memset(c->cipher_ok, 0, sizeof(c->cipher_ok));
	c->cipher_ok[0] = true;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		int64_t x;

		if (!json_object_is_type(e, json_type_int) ||
		    (x = json_object_get_int64(e)) < 1 || x > 99)
			return bad(err, errlen, "", "cipher_suites",
			    "expected an array of integers 1..99");
		c->cipher_ok[x] = true;
	}
	return 0;
}

static bool
valid_id(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > OFTP2_SIO_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int
parse_partner(json_object *o, size_t idx, struct o2_partner_tol *p, char *err,
    size_t errlen)
{
	char where[48];
	json_object *id = NULL;
	int r;

	snprintf(where, sizeof(where), ".partners[%zu]", idx);
	p->check_counts = -1;
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "modules.oftp2%s: expected an object", where);
		return SP_ERR_CONFIG;
	}
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "odette_id") == 0) {
			id = v;
			continue;
		}
		if (strcmp(key, "detect") == 0) {
			/* Onboarding: log what would be refused, refuse nothing. */
			if (!json_object_is_type(v, json_type_boolean))
				return bad(err, errlen, where, key,
				    "expected true or false");
			p->detect = json_object_get_boolean(v);
			continue;
		}
		r = get_switch(v, where, key, &p->set, &p->val, &p->check_counts,
		    err, errlen);
		if (r < 0)
			return r;
		if (r == 0)
			return bad(err, errlen, where, key, "unknown key");
	}
	if (id == NULL || !json_object_is_type(id, json_type_string) ||
	    !valid_id(json_object_get_string(id), (size_t)json_object_get_string_len(id)))
		return bad(err, errlen, where, "odette_id",
		    "expected 1..25 characters [A-Z0-9]");
	memcpy(p->odette_id, json_object_get_string(id),
	    (size_t)json_object_get_string_len(id));
	p->odette_id[json_object_get_string_len(id)] = '\0';
	return 0;
}

int
o2_config_parse_json(const char *json, struct o2_config *c, char *err,
    size_t errlen)
{
	json_object *root;
	unsigned set = 0, val = 0;
	int check = -1, r = 0;
	size_t i, j;

	o2_config_defaults(c);
	if ((root = json_tokener_parse(json)) == NULL) {
		if (strcmp(json, "null") == 0)
			return 0;
		snprintf(err, errlen, "modules.oftp2: not valid JSON");
		return SP_ERR_CONFIG;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		snprintf(err, errlen, "modules.oftp2: expected an object or null");
		return SP_ERR_CONFIG;
	}
	json_object_object_foreach(root, key, v) {
		if (strcmp(key, "ssid_timeout_ms") == 0) {
			r = get_ms(v, key, 100, 600000, &c->ssid_timeout_ms, err, errlen);
			c->ssid_set = true;
		} else if (strcmp(key, "idle_timeout_ms") == 0) {
			r = get_ms(v, key, 1000, 86400000, &c->idle_timeout_ms, err,
			    errlen);
			c->idle_set = true;
		} else if (strcmp(key, "session_max_ms") == 0) {
			r = get_ms(v, key, 1000, 604800000ull, &c->session_max_ms, err,
			    errlen);
			c->max_set = true;
		} else if (strcmp(key, "cipher_suites") == 0) {
			r = get_ciphers(v, c, err, errlen);
		} else if (strcmp(key, "partners") == 0) {
			size_t n;
			if (!json_object_is_type(v, json_type_array)) {
				r = bad(err, errlen, "", key, "expected an array");
				break;
			}
			n = json_object_array_length(v);
			if (n > 10000) {
				r = bad(err, errlen, "", key, "more than 10000 entries");
				break;
			}
			free(c->partners);
			c->partners = n ? calloc(n, sizeof(*c->partners)) : NULL;
			c->npartners = 0;
			if (n > 0 && c->partners == NULL) {
				r = SP_ERR_NOMEM;
				snprintf(err, errlen, "modules.oftp2: out of memory");
				break;
			}
			for (i = 0; i < n && r == 0; i++) {
				r = parse_partner(json_object_array_get_idx(v, i), i,
				    &c->partners[i], err, errlen);
				for (j = 0; j < i && r == 0; j++)
					if (strcmp(c->partners[j].odette_id,
					    c->partners[i].odette_id) == 0)
						r = bad(err, errlen, "", key,
						    "an odette_id appears twice");
				c->npartners = i + 1;
			}
		} else {
			r = get_switch(v, "", key, &set, &val, &check, err, errlen);
			if (r == 0)
				r = bad(err, errlen, "", key, "unknown key");
			else if (r > 0)
				r = 0;
		}
		if (r != 0)
			break;
	}
	json_object_put(root);
	if (r != 0) {
		o2_config_release(c);
		return r;
	}
	c->tol = val & set;
	if (check >= 0)
		c->check_counts = check != 0;
	return 0;
}
