/*
 * config.c - the `modules.partner` section of a configuration revision
 * (docs/api.md) into a struct pm_config: validated whole, so a revision with
 * one bad field is refused with one line naming that field, and nothing later
 * has to doubt what it reads. Ownership: partner.h.
 */
#include "partner.h"

#include "api/pwhash.h"
#include "core/err.h"

#include <json-c/json.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PM_JSON_DEPTH 32        /* as the backend's own bound (docs/api.md) */

/* Error line: "<path>: <what>". */
__attribute__((format(printf, 4, 5)))
static int
bad(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (path[0] != '\0')
		snprintf(err, errlen, "%s: %s", path, what);
	else
		snprintf(err, errlen, "%s", what);
	return SP_ERR_CONFIG;
}

static bool
is_null(json_object *v)
{
	return v == NULL || json_object_is_type(v, json_type_null);
}

/* Member `key` of `o`, or NULL when absent. */
static json_object *
member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static int
get_bool(json_object *o, const char *key, bool required, bool def, bool *out,
    const char *path, char *err, size_t errlen)
{
	json_object *v = member(o, key);

	if (is_null(v)) {
		if (required)
			return bad(err, errlen, path, "%s: required (true or false)", key);
		*out = def;
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return bad(err, errlen, path, "%s: expected true or false", key);
	*out = json_object_get_boolean(v);
	return SP_OK;
}

static int
get_uint(json_object *o, const char *key, unsigned def, unsigned min,
    unsigned max, unsigned *out, const char *path, char *err, size_t errlen)
{
	json_object *v = member(o, key);
	int64_t x;

	if (is_null(v)) {
		*out = def;
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_int))
		return bad(err, errlen, path, "%s: expected an integer", key);
	x = json_object_get_int64(v);
	if (x < (int64_t)min || x > (int64_t)max)
		return bad(err, errlen, path, "%s: %lld is outside %u..%u", key,
		    (long long)x, min, max);
	*out = (unsigned)x;
	return SP_OK;
}

/* A string member: NULL in *out when absent or null and not required. */
static int
get_str(json_object *o, const char *key, bool required, size_t maxlen,
    const char **out, const char *path, char *err, size_t errlen)
{
	json_object *v = member(o, key);

	*out = NULL;
	if (is_null(v)) {
		if (required)
			return bad(err, errlen, path, "%s: required", key);
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(err, errlen, path, "%s: expected a string", key);
	if ((size_t)json_object_get_string_len(v) > maxlen)
		return bad(err, errlen, path, "%s: longer than %zu characters", key,
		    maxlen);
	/* json-c keeps NULs inside strings; they would cut our C copies short. */
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return bad(err, errlen, path, "%s: contains a NUL character", key);
	*out = json_object_get_string(v);
	return SP_OK;
}

/* An optional array member: NULL when absent or null. */
static int
get_array(json_object *o, const char *key, bool required, size_t max,
    json_object **out, const char *path, char *err, size_t errlen)
{
	json_object *v = member(o, key);

	*out = NULL;
	if (is_null(v)) {
		if (required)
			return bad(err, errlen, path, "%s: required (an array)", key);
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_array))
		return bad(err, errlen, path, "%s: expected an array", key);
	if (json_object_array_length(v) > max)
		return bad(err, errlen, path, "%s: more than %zu entries", key, max);
	*out = v;
	return SP_OK;
}

static bool
valid_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > PM_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static bool
valid_pin(const char *s)
{
	size_t i;

	if (strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
pm_parse_time(const char *s, time_t *out)
{
	struct tm tm, back;
	int y, mo, d, h, mi, se;
	time_t t;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    digits(s, 4, &y) != 0 || digits(s + 5, 2, &mo) != 0 ||
	    digits(s + 8, 2, &d) != 0 || digits(s + 11, 2, &h) != 0 ||
	    digits(s + 14, 2, &mi) != 0 || digits(s + 17, 2, &se) != 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &back) == NULL)
		return -1;
	/* timegm normalises 2025-02-30 to March: refuse what did not round-trip. */
	if (back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*out = t;
	return 0;
}

static int
get_time(json_object *o, const char *key, bool *has, time_t *out,
    const char *path, char *err, size_t errlen)
{
	const char *s;
	int r;

	*has = false;
	if ((r = get_str(o, key, false, 64, &s, path, err, errlen)) != 0)
		return r;
	if (s == NULL)
		return SP_OK;
	if (pm_parse_time(s, out) != 0)
		return bad(err, errlen, path, "%s: expected a time YYYY-MM-DDTHH:MM:SSZ",
		    key);
	*has = true;
	return SP_OK;
}

static int
parse_hash(json_object *o, struct pm_partner *p, const char *path, char *err,
    size_t errlen)
{
	const char *h;
	unsigned long it;
	int r;

	if ((r = get_str(o, "password_hash", true, SP_PWHASH_TEXT_MAX, &h, path,
	    err, errlen)) != 0)
		return r;
	if (sp_pwhash_check_format(h) != 0)
		return bad(err, errlen, path, "password_hash: expected "
		    "pbkdf2-sha256$<iterations>$<32 hex>$<64 hex>");
	/* check_format accepted the shape, so strtoul sees digits up to '$'. */
	it = strtoul(h + strlen("pbkdf2-sha256$"), NULL, 10);
	if (it < PM_HASH_MIN_ITERATIONS)
		return bad(err, errlen, path, "password_hash: %lu iterations, at "
		    "least %u required", it, PM_HASH_MIN_ITERATIONS);
	if ((p->password_hash = strdup(h)) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

static int
parse_networks(json_object *o, struct pm_partner *p, const char *path,
    char *err, size_t errlen)
{
	json_object *a, *v;
	size_t i;
	int r;

	if ((r = get_array(o, "allowed_networks", true, PM_NETWORKS_MAX, &a,
	    path, err, errlen)) != 0)
		return r;
	p->nnets = json_object_array_length(a);
	if (p->nnets > 0 && (p->nets = calloc(p->nnets, sizeof(*p->nets))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < p->nnets; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    pm_net_parse(json_object_get_string(v), &p->nets[i]) != 0)
			return bad(err, errlen, path, "allowed_networks[%zu]: expected "
			    "an address or CIDR network (198.51.100.0/24, 2001:db8::/32)",
			    i);
	}
	return SP_OK;
}

/* tls.bind and tls.bind_dn (partner.h, enum pm_bind). */
static int
parse_bind(json_object *t, struct pm_partner *p, const char *tpath, char *err,
    size_t errlen)
{
	static const char *const names[] = { "cn", "san", "dn", "none" };
	const char *b, *dn;
	size_t i;
	int r;

	if ((r = get_str(t, "bind", false, 8, &b, tpath, err, errlen)) != 0 ||
	    (r = get_str(t, "bind_dn", false, PM_BIND_DN_MAX, &dn, tpath, err,
	    errlen)) != 0)
		return r;
	p->bind = PM_BIND_CN;
	for (i = 0; b != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(b, names[i]) == 0)
			break;
	if (b != NULL && i == sizeof(names) / sizeof(names[0]))
		return bad(err, errlen, tpath, "bind: expected \"cn\", \"san\", \"dn\" "
		    "or \"none\"");
	if (b != NULL)
		p->bind = (enum pm_bind)i;
	if (p->bind == PM_BIND_DN && (dn == NULL || dn[0] == '\0'))
		return bad(err, errlen, tpath, "bind_dn: required with bind \"dn\" "
		    "(the subject DN as RFC 4514 text)");
	if (p->bind != PM_BIND_DN && dn != NULL)
		return bad(err, errlen, tpath, "bind_dn: only with bind \"dn\"");
	if (dn != NULL && (p->bind_dn = strdup(dn)) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

static int
parse_tls(json_object *o, struct pm_partner *p, const char *path, char *err,
    size_t errlen)
{
	json_object *t = member(o, "tls"), *a, *v;
	const char *ca, *crl, *policy;
	char tpath[64], e2[160];
	size_t i;
	int r;

	p->bind = PM_BIND_CN;
	if (is_null(t))
		return SP_OK;   /* no certificate requirement */
	if (!json_object_is_type(t, json_type_object))
		return bad(err, errlen, path, "tls: expected an object or null");
	snprintf(tpath, sizeof(tpath), "%s.tls", path);
	if ((r = get_bool(t, "require_client_cert", true, false, &p->require_cert,
	    tpath, err, errlen)) != 0 ||
	    (r = get_array(t, "pins", false, PM_PINS_MAX, &a, tpath, err, errlen)) != 0 ||
	    (r = get_str(t, "ca_bundle", false, 1u << 20, &ca, tpath, err, errlen)) != 0 ||
	    (r = get_str(t, "crl", false, 1u << 20, &crl, tpath, err, errlen)) != 0 ||
	    (r = get_str(t, "crl_expired", false, 16, &policy, tpath, err, errlen)) != 0 ||
	    (r = parse_bind(t, p, tpath, err, errlen)) != 0)
		return r;
	if (policy != NULL && strcmp(policy, "fail_open") == 0)
		p->crl_fail_open = true;
	else if (policy != NULL && strcmp(policy, "fail_closed") != 0)
		return bad(err, errlen, tpath, "crl_expired: expected \"fail_closed\" "
		    "or \"fail_open\"");
	p->npins = a ? json_object_array_length(a) : 0;
	if (p->npins > 0 && (p->pins = calloc(p->npins, sizeof(*p->pins))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < p->npins; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !valid_pin(json_object_get_string(v)))
			return bad(err, errlen, tpath, "pins[%zu]: expected 64 lowercase "
			    "hex digits (SHA-256 of the certificate's DER)", i);
		memcpy(p->pins[i], json_object_get_string(v), 65);
	}
	if (crl != NULL && ca == NULL)
		return bad(err, errlen, tpath, "crl: needs a ca_bundle");
	if (ca != NULL && pm_trust_load(ca, crl, &p->trust, &p->crl, e2, sizeof(e2)) != 0)
		return bad(err, errlen, tpath, "%s", e2);
	if (p->require_cert && p->npins == 0 && p->trust == NULL)
		return bad(err, errlen, tpath, "require_client_cert: needs pins or "
		    "a ca_bundle");
	return SP_OK;
}

static int
parse_partner(json_object *o, size_t idx, struct pm_partner *p, char *err,
    size_t errlen)
{
	char path[40];
	const char *id, *desc;
	int r;

	snprintf(path, sizeof(path), "partners[%zu]", idx);
	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, path, "expected an object");
	if ((r = get_str(o, "odette_id", true, 64, &id, path, err, errlen)) != 0)
		return r;
	if (!valid_id(id))
		return bad(err, errlen, path, "odette_id: expected 1 to 25 of A-Z, 0-9");
	memcpy(p->id, id, strlen(id) + 1);
	if ((r = get_str(o, "description", false, 200, &desc, path, err,
	    errlen)) != 0 ||
	    (r = parse_hash(o, p, path, err, errlen)) != 0 ||
	    (r = parse_networks(o, p, path, err, errlen)) != 0 ||
	    (r = parse_tls(o, p, path, err, errlen)) != 0 ||
	    (r = get_uint(o, "max_sessions", 0, 0, 100000, &p->max_sessions, path,
	    err, errlen)) != 0 ||
	    (r = get_bool(o, "enabled", true, false, &p->enabled, path, err,
	    errlen)) != 0 ||
	    (r = get_time(o, "valid_from", &p->has_from, &p->valid_from, path, err,
	    errlen)) != 0 ||
	    (r = get_time(o, "valid_until", &p->has_until, &p->valid_until, path,
	    err, errlen)) != 0)
		return r;
	if (p->has_from && p->has_until && p->valid_until <= p->valid_from)
		return bad(err, errlen, path, "valid_until: must be after valid_from");
	return SP_OK;
}

/* Unknown members of our own `brake` object are typos: refuse them. */
static int
parse_brake(json_object *sec, struct pm_brake_conf *b, char *err, size_t errlen)
{
	json_object *o = member(sec, "brake");
	int r;

	b->max_failures = PM_BRAKE_FAILURES;
	b->window_ms = PM_BRAKE_WINDOW_MS;
	b->block_ms = PM_BRAKE_BLOCK_MS;
	if (is_null(o))
		return SP_OK;
	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, "brake", "expected an object or null");
	json_object_object_foreach(o, key, val) {
		(void)val;
		char shown[41];
		size_t i;

		if (strcmp(key, "max_failures") == 0 || strcmp(key, "window_ms") == 0 ||
		    strcmp(key, "block_ms") == 0)
			continue;
		/* The name is foreign text: the error stays one printable line. */
		for (i = 0; key[i] != '\0' && i < sizeof(shown) - 1; i++)
			shown[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
		shown[i] = '\0';
		return bad(err, errlen, "brake", "unknown member '%s' (known: "
		    "max_failures, window_ms, block_ms)", shown);
	}
	if ((r = get_uint(o, "max_failures", PM_BRAKE_FAILURES, 0, 1000000,
	    &b->max_failures, "brake", err, errlen)) != 0 ||
	    (r = get_uint(o, "window_ms", PM_BRAKE_WINDOW_MS, 1000, 86400000,
	    &b->window_ms, "brake", err, errlen)) != 0 ||
	    (r = get_uint(o, "block_ms", PM_BRAKE_BLOCK_MS, 1000, 86400000,
	    &b->block_ms, "brake", err, errlen)) != 0)
		return r;
	return SP_OK;
}

/*
 * The online decision: a path the client will POST to (it accepts only
 * "v1/" paths of [a-z0-9/_-], so anything else would fail every session)
 * and how long to wait. Unknown members are typos, refused like brake's.
 */
static int
parse_online(json_object *sec, struct pm_online_conf *on, char *err,
    size_t errlen)
{
	json_object *o = member(sec, "online");
	const char *path;
	size_t n;
	int r;

	memset(on, 0, sizeof(*on));
	if (is_null(o))
		return SP_OK;
	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, "online", "expected an object or null");
	json_object_object_foreach(o, key, val) {
		(void)val;
		char shown[41];
		size_t i;

		if (strcmp(key, "path") == 0 || strcmp(key, "timeout_ms") == 0)
			continue;
		for (i = 0; key[i] != '\0' && i < sizeof(shown) - 1; i++)
			shown[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
		shown[i] = '\0';
		return bad(err, errlen, "online", "unknown member '%s' (known: "
		    "path, timeout_ms)", shown);
	}
	if ((r = get_str(o, "path", true, PM_ONLINE_PATH_MAX, &path, "online",
	    err, errlen)) != 0 ||
	    (r = get_uint(o, "timeout_ms", PM_ONLINE_TIMEOUT_MS, 100, 60000,
	    &on->timeout_ms, "online", err, errlen)) != 0)
		return r;
	n = strlen(path);
	if (n <= 3 || strncmp(path, "v1/", 3) != 0 || strstr(path, "..") != NULL ||
	    strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789/_-") != n)
		return bad(err, errlen, "online", "path: expected v1/... of a-z, 0-9, "
		    "'/', '_', '-' (relative to the API root)");
	memcpy(on->path, path, n + 1);
	on->on = true;
	return SP_OK;
}

static int
parse_section(json_object *sec, struct pm_config *cfg, char *err, size_t errlen)
{
	json_object *a;
	size_t i, j;
	int r;

	if (is_null(sec))
		return parse_brake(NULL, &cfg->brake, err, errlen);
	if (!json_object_is_type(sec, json_type_object))
		return bad(err, errlen, "", "expected an object or null");
	if ((r = parse_brake(sec, &cfg->brake, err, errlen)) != 0 ||
	    (r = parse_online(sec, &cfg->online, err, errlen)) != 0 ||
	    (r = get_array(sec, "partners", true, PM_PARTNERS_MAX, &a, "",
	    err, errlen)) != 0)
		return r;
	cfg->npartners = json_object_array_length(a);
	if (cfg->npartners > 0 &&
	    (cfg->partners = calloc(cfg->npartners, sizeof(*cfg->partners))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < cfg->npartners; i++) {
		if ((r = parse_partner(json_object_array_get_idx(a, i), i,
		    &cfg->partners[i], err, errlen)) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->partners[j].id, cfg->partners[i].id) == 0) {
				char path[40];
				snprintf(path, sizeof(path), "partners[%zu]", i);
				return bad(err, errlen, path, "odette_id: %s is already "
				    "partners[%zu]", cfg->partners[i].id, j);
			}
	}
	return SP_OK;
}

int
pm_config_parse(const char *json, struct pm_config **out, char *err,
    size_t errlen)
{
	struct json_tokener *tok;
	struct pm_config *cfg;
	json_object *sec;
	size_t len = strlen(json), end;
	int r;

	*out = NULL;
	if (len > INT_MAX - 1)
		return SP_ERR_LIMIT;
	if ((tok = json_tokener_new_ex(PM_JSON_DEPTH)) == NULL)
		return SP_ERR_NOMEM;
	/* The NUL included: a bare literal ("null", 7) is complete only then. */
	sec = json_tokener_parse_ex(tok, json, (int)len + 1);
	if (sec == NULL && json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(err, errlen, "not valid JSON: %s",
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return SP_ERR_CONFIG;
	}
	/* Trailing bytes after one complete value are garbage too. */
	end = json_tokener_get_parse_end(tok);
	while (end < len && (json[end] == ' ' || json[end] == '\t' ||
	    json[end] == '\n' || json[end] == '\r'))
		end++;
	if (end < len) {
		snprintf(err, errlen, "not valid JSON: bytes after the value");
		json_object_put(sec);
		json_tokener_free(tok);
		return SP_ERR_CONFIG;
	}
	json_tokener_free(tok);
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		json_object_put(sec);
		return SP_ERR_NOMEM;
	}
	r = parse_section(sec, cfg, err, errlen);
	json_object_put(sec);
	if (r != 0) {
		pm_config_free(cfg);
		return r;
	}
	*out = cfg;
	return SP_OK;
}

void
pm_config_free(struct pm_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->npartners; i++) {
		struct pm_partner *p = &cfg->partners[i];
		if (p->password_hash != NULL) {
			/* Not the password, but no reason to leave it behind either. */
			memset(p->password_hash, 0, strlen(p->password_hash));
			free(p->password_hash);
		}
		free(p->nets);
		free(p->pins);
		free(p->bind_dn);
		if (p->trust != NULL)
			gnutls_x509_trust_list_deinit(p->trust, 1);
		sp_crl_set_free(&p->crl);
	}
	free(cfg->partners);
	free(cfg);
}

const struct pm_partner *
pm_config_find(const struct pm_config *cfg, const char *id)
{
	size_t i;

	if (cfg == NULL)
		return NULL;
	for (i = 0; i < cfg->npartners; i++)
		if (strcmp(cfg->partners[i].id, id) == 0)
			return &cfg->partners[i];
	return NULL;
}
