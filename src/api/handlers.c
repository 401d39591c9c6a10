/*
 * handlers.c - the endpoints of docs/api.md and the route table. Later
 * endpoints (events, sessions, status) are added as one line in api_routes
 * and one handler here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/blocks.h"
#include "api/bodies.h"
#include "api/decide.h"
#include "api/oftp2.h"
#include "api/ops.h"
#include "api/panel.h"
#include "api/pem.h"
#include "api/pwhash.h"
#include "core/err.h"
#include "core/log.h"

/* ---- helpers ---- */

static void
reply_json(struct api_reply *out, unsigned status, json_object *body)
{
	out->status = status;
	out->body = body;
}

void
internal(struct api_reply *out, const char *what, int r)
{
	sp_log(SP_LOG_ERR, "api", "%s: %s", what, sp_strerror(r));
	if (r == SP_ERR_NOMEM)
		api_error(out, 500, "internal", "out of memory");
	else
		api_error(out, 500, "internal", "internal error");
}

/* The request body as a JSON object; replies 4xx itself on failure. */
json_object *
body_object(struct MHD_Connection *c, struct api_req *rq, struct api_reply *out)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	json_object *o;
	char err[160];
	int r;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
		api_error(out, 415, "unsupported_media_type",
		    "the body must be application/json");
		return NULL;
	}
	if ((r = sp_body_parse(sp_buf_ptr(&rq->body), sp_buf_len(&rq->body),
	    &o, err, sizeof(err))) == SP_ERR_INVALID)
		api_error(out, 400, "bad_request", "%s", err);
	else if (r != 0)
		internal(out, "json", r);
	return r == 0 ? o : NULL;
}

/* A validator's verdict (bodies.h) as the reply: 400 or 500. */
int
body_verdict(int r, const char *err, struct api_reply *rp)
{
	if (r == SP_ERR_INVALID)
		api_error(rp, 400, "bad_request", "%s", err);
	else if (r != 0)
		internal(rp, "request body", r);
	return r == 0 ? 0 : -1;
}

/*
 * Member `key` of `o` as a string (bodies.h sp_body_str); -1 with a 400
 * reply when it is required and missing, or of the wrong type or length.
 */
int
member_str(json_object *o, const char *key, bool req, size_t minlen,
    size_t maxlen, const char **out, struct api_reply *rp)
{
	char err[160];

	return body_verdict(sp_body_str(o, key, req, minlen, maxlen, out, err,
	    sizeof(err)), err, rp);
}

static int
member_time(json_object *o, const char *key, char **out, struct api_reply *rp)
{
	const char *s;
	char t[21];

	if (member_str(o, key, false, 0, 40, &s, rp) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (sp_site_time_normalise(s, t) != 0) {
		api_error(rp, 400, "bad_request", "'%s' must be a time "
		    "YYYY-MM-DDTHH:MM:SSZ", key);
		return -1;
	}
	return (*out = strdup(t)) ? 0 : -1;
}

static bool
is_false(json_object *o, const char *key, bool def)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return !def;
	return !json_object_get_boolean(v);
}

/* ---- health and config ---- */

static void
h_health(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *o = json_object_new_object();
	int64_t rev;

	pthread_mutex_lock(&a->mu);
	rev = a->rev;
	pthread_mutex_unlock(&a->mu);
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "revision", json_object_new_int64(rev));
	reply_json(out, 200, o);
}

/* Does an If-None-Match value name `etag` (or "*")? */
static bool
tag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	const char *p;

	if (inm == NULL)
		return false;
	if (strcmp(inm, "*") == 0)
		return true;
	for (p = inm; (p = strstr(p, etag)) != NULL; p += n)
		if ((p == inm || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
	return false;
}

static int
parse_wait(const char *s, int *out)
{
	int v = 0;

	*out = 0;
	if (s == NULL)
		return 0;
	if (*s == '\0' || strlen(s) > 2)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > SP_API_MAX_WAIT)
		return -1;
	*out = v;
	return 0;
}

static void
h_config(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct timespec until;
	int wait, waited = 0;

	if (parse_wait(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "wait"), &wait) != 0) {
		api_error(out, 400, "bad_request", "wait must be 0 to %d seconds",
		    SP_API_MAX_WAIT);
		return;
	}
	pthread_mutex_lock(&a->mu);
	if (a->doc == NULL) {
		pthread_mutex_unlock(&a->mu);
		api_error(out, 503, "unavailable", "no configuration loaded yet");
		return;
	}
	if (tag_matches(inm, a->etag) && wait > 0) {
		if (a->waiting >= a->conf->max_waiting) {
			pthread_mutex_unlock(&a->mu);
			api_error(out, 503, "unavailable", "too many waiting "
			    "requests, retry in a second");
			return;
		}
		a->waiting++;
		waited = 1;
		/* Tests wait for this line before they change the revision. */
		sp_log(SP_LOG_DEBUG, "config", "long poll waits up to %d s for a "
		    "revision after %s", wait, a->etag);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait;
		while (!a->stopping && tag_matches(inm, a->etag) &&
		    pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT)
			;
		a->waiting--;
	}
	if (tag_matches(inm, a->etag)) {
		out->status = MHD_HTTP_NOT_MODIFIED;
		snprintf(out->etag, sizeof(out->etag), "%s", a->etag);
	} else if ((out->raw = strdup(a->doc)) == NULL) {
		pthread_mutex_unlock(&a->mu);
		internal(out, "config", SP_ERR_NOMEM);
		return;
	} else {
		out->status = 200;
		snprintf(out->etag, sizeof(out->etag), "%s", a->etag);
	}
	pthread_mutex_unlock(&a->mu);
	(void)waited;
}

/* ---- partners ---- */

static void
h_partners_list(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *arr = NULL, *o;
	size_t i;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partners(a->st, &arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "partners", r);
		return;
	}
	/* Password hashes are secret material (an 8-character password
	 * falls to an offline search): only admin tokens see them. */
	for (i = 0; rq->role != SP_ROLE_ADMIN &&
	    i < json_object_array_length(arr); i++)
		json_object_object_del(json_object_array_get_idx(arr, i),
		    "password_hash");
	o = json_object_new_object();
	json_object_object_add(o, "partners", arr);
	reply_json(out, 200, o);
}

static void
free_partner(struct sp_site_partner *p)
{
	size_t i;

	for (i = 0; i < p->networks.n; i++)
		free(p->networks.v[i]);
	free(p->networks.v);
	for (i = 0; i < p->pins.n; i++)
		free(p->pins.v[i]);
	free(p->pins.v);
	free(p->password_hash);
	free(p->valid_from);
	free(p->valid_until);
	free(p->bind);
	free(p->bind_dn);
}

/* tls.bind / tls.bind_dn of a partner once applied: the site file's rule. */
static int
bind_verdict(const struct sp_site_partner *p, struct api_reply *rp)
{
	const char *why;

	if (sp_site_check_bind(p->bind, p->bind_dn, &why) == 0)
		return 0;
	api_error(rp, 400, "bad_request", "'tls.%s", why);
	return -1;
}

/* tls.bind and tls.bind_dn members, when given (null: absent), copied. */
static int
member_bind(json_object *tls, bool *has_bind, char **bind, bool *has_dn,
    char **bind_dn, struct api_reply *rp)
{
	const char *b = NULL, *dn = NULL;

	*has_bind = json_object_object_get_ex(tls, "bind", NULL);
	*has_dn = json_object_object_get_ex(tls, "bind_dn", NULL);
	if (member_str(tls, "bind", false, 1, 8, &b, rp) != 0 ||
	    member_str(tls, "bind_dn", false, 1, SP_SITE_BIND_DN_MAX, &dn,
	    rp) != 0)
		return -1;
	if ((b != NULL && (*bind = strdup(b)) == NULL) ||
	    (dn != NULL && (*bind_dn = strdup(dn)) == NULL)) {
		internal(rp, "partner", SP_ERR_NOMEM);
		return -1;
	}
	return 0;
}

/* A JSON array of strings into a normalised list (CIDR or pins). */
static int
member_list(json_object *o, const char *key, bool cidr, struct sp_strv *sv,
    struct api_reply *rp)
{
	json_object *v, *it;
	char norm[80];
	uint8_t pin[32];
	size_t i, n;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > SP_SITE_MAX_LIST) {
		api_error(rp, 400, "bad_request", "'%s' must be an array of at "
		    "most %d strings", key, SP_SITE_MAX_LIST);
		return -1;
	}
	if ((sv->v = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(v, i);
		s = json_object_is_type(it, json_type_string) ?
		    json_object_get_string(it) : "";
		if (cidr ? sp_site_cidr_normalise(s, norm, sizeof(norm)) != 0 :
		    sp_hex_decode(s, strlen(s), pin, 32) != 0) {
			api_error(rp, 400, "bad_request", "'%s[%zu]' is not a "
			    "valid %s", key, i, cidr ? "network" : "SHA-256 pin");
			return -1;
		}
		if (!cidr)
			sp_hex_encode(pin, 32, norm);
		if ((sv->v[i] = strdup(norm)) == NULL)
			return -1;
		sv->n = i + 1;
	}
	return 0;
}

static void
h_partners_add(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct sp_site_partner p;
	json_object *o, *tls = NULL, *v, *res = NULL;
	const char *pw, *id, *desc;
	char hash[SP_PWHASH_TEXT_MAX];
	int64_t rev, ms = 0;
	bool has_b, has_dn;
	size_t i;
	int r;

	memset(&p, 0, sizeof(p));
	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (member_str(o, "odette_id", true, 1, 25, &id, out) != 0 ||
	    member_str(o, "password", true, 1, 8, &pw, out) != 0 ||
	    member_str(o, "description", false, 0, 200, &desc, out) != 0 ||
	    member_list(o, "allowed_networks", true, &p.networks, out) != 0 ||
	    member_time(o, "valid_from", &p.valid_from, out) != 0 ||
	    member_time(o, "valid_until", &p.valid_until, out) != 0)
		goto done;
	if (sp_site_valid_odette_id(id) != 0) {
		api_error(out, 400, "bad_request", "'odette_id' must be 1 to 25 "
		    "of A-Z and 0-9");
		goto done;
	}
	for (i = 0; pw[i] != '\0'; i++)
		if (pw[i] <= 0x20 || pw[i] >= 0x7f) {
			api_error(out, 400, "bad_request", "'password' must be "
			    "printable ASCII without spaces");
			goto done;
		}
	if (!json_object_object_get_ex(o, "allowed_networks", &v) || v == NULL) {
		api_error(out, 400, "bad_request", "'allowed_networks' is "
		    "required (an empty list allows no address)");
		goto done;
	}
	if (json_object_object_get_ex(o, "max_sessions", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    (ms = json_object_get_int64(v)) < 0 || ms > 100000) {
			api_error(out, 400, "bad_request", "'max_sessions' must be "
			    "an integer 0..100000");
			goto done;
		}
	}
	if (json_object_object_get_ex(o, "tls", &tls) && tls != NULL) {
		if (!json_object_is_type(tls, json_type_object) ||
		    member_list(tls, "pins", false, &p.pins, out) != 0) {
			if (out->body == NULL)
				api_error(out, 400, "bad_request", "'tls' must be "
				    "an object");
			goto done;
		}
		p.require_client_cert = !is_false(tls, "require_client_cert",
		    false);
		if (member_bind(tls, &has_b, &p.bind, &has_dn, &p.bind_dn,
		    out) != 0 || bind_verdict(&p, out) != 0)
			goto done;
		if (p.require_client_cert && p.pins.n == 0) {
			api_error(out, 400, "bad_request", "'tls.require_client_"
			    "cert' needs 'tls.pins' (CA bundles: site file)");
			goto done;
		}
	}
	if ((r = sp_pwhash_make(pw, strlen(pw), a->pbkdf2_iterations, hash,
	    sizeof(hash))) != 0 || (p.password_hash = strdup(hash)) == NULL) {
		internal(out, "hash", r ? r : SP_ERR_NOMEM);
		goto done;
	}
	p.odette_id = (char *)id;
	p.description = (char *)(desc ? desc : "");
	p.max_sessions = (int)ms;
	p.enabled = !is_false(o, "enabled", true);
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_add(a->st, &p, &rev);
	if (r == 0)
		r = sp_store_partner_get(a->st, id, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_EXISTS)
		api_error(out, 409, "conflict", "partner %s exists", id);
	else if (r != 0)
		internal(out, "add partner", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "partner %s added by %s, "
		    "revision %lld", id, rq->token, (long long)rev);
		reply_json(out, 201, res);
	}
done:
	free_partner(&p);
	json_object_put(o);
}

/* ---- PUT /v1/partners/<id>: change a partner ---- */

/* A partner whose every string and list is owned (freed by change_free). */
static void
change_free(struct sp_site_partner *p)
{
	free(p->odette_id);
	free(p->description);
	free(p->ca_bundle);
	free_partner(p);
	memset(p, 0, sizeof(*p));
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

/* The stored partner (as sp_store_partner_get renders it) as a struct. */
static int
change_load(json_object *cur, struct sp_site_partner *p)
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
	p->require_client_cert = json_object_object_get_ex(tls,
	    "require_client_cert", &v) && json_object_get_boolean(v);
	p->max_sessions = json_object_object_get_ex(cur, "max_sessions", &v) ?
	    json_object_get_int(v) : 0;
	p->enabled = json_object_object_get_ex(cur, "enabled", &v) &&
	    json_object_get_boolean(v);
	p->valid_from = dup_member(cur, "valid_from");
	p->valid_until = dup_member(cur, "valid_until");
	return SP_OK;
}

/* What a PUT body asks to change; `has_*` tells given from absent. */
struct change {
	const char *description;
	char hash[SP_PWHASH_TEXT_MAX];          /* "" = password kept */
	bool has_networks, has_pins, has_rcc, has_ms, has_enabled;
	bool has_from, has_until, has_bind, has_bind_dn, has_ca;
	char *ca_bundle;                        /* NULL with has_ca: remove */
	struct sp_strv networks, pins;
	char *bind, *bind_dn;                   /* NULL with has_*: default / clear */
	bool rcc, enabled;
	int64_t ms;
	char *valid_from, *valid_until;         /* NULL with has_*: clear */
};

static void
change_clear(struct change *ch)
{
	struct sp_site_partner tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.networks = ch->networks;
	tmp.pins = ch->pins;
	tmp.valid_from = ch->valid_from;
	tmp.valid_until = ch->valid_until;
	tmp.bind = ch->bind;
	tmp.bind_dn = ch->bind_dn;
	free_partner(&tmp);
	free(ch->ca_bundle);
	explicit_bzero(ch->hash, sizeof(ch->hash));
}

/* A boolean member, when given. */
static int
member_bool(json_object *o, const char *key, const char *name, bool *has,
    bool *val, struct api_reply *rp)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		api_error(rp, 400, "bad_request", "'%s' must be true or false",
		    name);
		return -1;
	}
	*has = true;
	*val = json_object_get_boolean(v);
	return 0;
}

/*
 * The body of PUT: the fields of POST /v1/partners, each optional. A time
 * given as null clears it; unknown members are refused, so a misspelt
 * field is not silently ignored.
 */
static int
change_parse(struct api *a, json_object *o, const char *id, struct change *ch,
    struct api_reply *rp)
{
	static const char *const known[] = { "odette_id", "password",
		"description", "allowed_networks", "tls", "max_sessions",
		"enabled", "valid_from", "valid_until", NULL };
	json_object *tls = NULL, *v;
	const char *s, *pw;
	size_t i;
	int r;

	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			api_error(rp, 400, "bad_request", "'%.64s' is not a "
			    "field of a partner%s", key,
			    strcmp(key, "password_hash") == 0 ? " (send "
			    "'password' in clear)" : "");
			return -1;
		}
	}
	if (member_str(o, "odette_id", false, 1, 25, &s, rp) != 0)
		return -1;
	if (s != NULL && strcmp(s, id) != 0) {
		api_error(rp, 400, "bad_request", "'odette_id' cannot change (it "
		    "names the partner): remove and add it instead");
		return -1;
	}
	if (member_str(o, "password", false, 1, 8, &pw, rp) != 0 ||
	    member_str(o, "description", false, 0, 200, &ch->description,
	    rp) != 0)
		return -1;
	if (json_object_object_get_ex(o, "allowed_networks", &v)) {
		if (v == NULL) {
			api_error(rp, 400, "bad_request", "'allowed_networks' "
			    "must be an array (an empty one allows no address)");
			return -1;
		}
		if (member_list(o, "allowed_networks", true, &ch->networks,
		    rp) != 0)
			goto nomem;
		ch->has_networks = true;
	}
	if ((ch->has_from = json_object_object_get_ex(o, "valid_from", NULL)) &&
	    member_time(o, "valid_from", &ch->valid_from, rp) != 0)
		goto nomem;
	if ((ch->has_until = json_object_object_get_ex(o, "valid_until",
	    NULL)) && member_time(o, "valid_until", &ch->valid_until, rp) != 0)
		goto nomem;
	if (json_object_object_get_ex(o, "max_sessions", &v)) {
		if (v == NULL || !json_object_is_type(v, json_type_int) ||
		    (ch->ms = json_object_get_int64(v)) < 0 || ch->ms > 100000) {
			api_error(rp, 400, "bad_request", "'max_sessions' must be "
			    "an integer 0..100000");
			return -1;
		}
		ch->has_ms = true;
	}
	if (member_bool(o, "enabled", "enabled", &ch->has_enabled, &ch->enabled,
	    rp) != 0)
		return -1;
	if (json_object_object_get_ex(o, "tls", &tls)) {
		if (tls == NULL || !json_object_is_type(tls, json_type_object)) {
			api_error(rp, 400, "bad_request", "'tls' must be an "
			    "object");
			return -1;
		}
		json_object_object_foreach(tls, tkey, tval) {
			(void)tval;
			if (strcmp(tkey, "require_client_cert") != 0 &&
			    strcmp(tkey, "pins") != 0 && strcmp(tkey, "bind") != 0 &&
			    strcmp(tkey, "bind_dn") != 0 &&
			    strcmp(tkey, "ca_bundle") != 0) {
				api_error(rp, 400, "bad_request", "'tls.%.64s' "
				    "is not a field of a partner's tls", tkey);
				return -1;
			}
		}
		/* A CA bundle rotates here without an import: PEM checked by
		 * GnuTLS like the site file's, null removes it. */
		if (json_object_object_get_ex(tls, "ca_bundle", &v)) {
			char why[300];

			ch->has_ca = true;
			if (v != NULL) {
				if (!json_object_is_type(v, json_type_string) ||
				    sp_api_pem_certs_check(json_object_get_string(v),
				    why, sizeof(why)) != 0) {
					api_error(rp, 400, "bad_request",
					    "'tls.ca_bundle' %s", json_object_is_type(v,
					    json_type_string) ? why : "must be PEM "
					    "text or null");
					return -1;
				}
				if ((ch->ca_bundle = strdup(json_object_get_string(
				    v))) == NULL)
					goto nomem;
			}
		}
		if (member_bool(tls, "require_client_cert",
		    "tls.require_client_cert", &ch->has_rcc, &ch->rcc, rp) != 0 ||
		    member_bind(tls, &ch->has_bind, &ch->bind, &ch->has_bind_dn,
		    &ch->bind_dn, rp) != 0)
			return -1;
		if (json_object_object_get_ex(tls, "pins", &v)) {
			if (v == NULL) {
				api_error(rp, 400, "bad_request", "'tls.pins' "
				    "must be an array");
				return -1;
			}
			if (member_list(tls, "pins", false, &ch->pins, rp) != 0)
				goto nomem;
			ch->has_pins = true;
		}
	}
	if (pw != NULL) {
		for (i = 0; pw[i] != '\0'; i++)
			if (pw[i] <= 0x20 || pw[i] >= 0x7f) {
				api_error(rp, 400, "bad_request", "'password' must "
				    "be printable ASCII without spaces");
				return -1;
			}
		/* Hashed like on POST; the clear text goes no further. */
		if ((r = sp_pwhash_make(pw, strlen(pw), a->pbkdf2_iterations,
		    ch->hash, sizeof(ch->hash))) != 0) {
			internal(rp, "hash", r);
			return -1;
		}
	}
	return 0;
nomem:
	/* The helpers reply themselves, except when memory ran out. */
	if (rp->status == 0)
		internal(rp, "partner change", SP_ERR_NOMEM);
	return -1;
}

/* Apply `ch` to the stored partner `p`; 400 when the result contradicts
 * itself. Moves the lists and times out of `ch`. */
static int
change_apply(struct change *ch, struct sp_site_partner *p, struct api_reply *rp)
{
	char *d;

	if (ch->description != NULL) {
		if ((d = strdup(ch->description)) == NULL) {
			internal(rp, "partner change", SP_ERR_NOMEM);
			return -1;
		}
		free(p->description);
		p->description = d;
	}
	if (ch->hash[0] != '\0') {
		if ((d = strdup(ch->hash)) == NULL) {
			internal(rp, "partner change", SP_ERR_NOMEM);
			return -1;
		}
		free(p->password_hash);
		p->password_hash = d;
	}
#define MOVE(has, field, from) do { if (has) { struct sp_site_partner t_; \
	memset(&t_, 0, sizeof(t_)); t_.field = p->field; free_partner(&t_); \
	p->field = from; memset(&(from), 0, sizeof(from)); } } while (0)
	MOVE(ch->has_networks, networks, ch->networks);
	MOVE(ch->has_pins, pins, ch->pins);
	MOVE(ch->has_from, valid_from, ch->valid_from);
	MOVE(ch->has_until, valid_until, ch->valid_until);
	MOVE(ch->has_bind, bind, ch->bind);
	MOVE(ch->has_bind_dn, bind_dn, ch->bind_dn);
	/* Leaving "dn" drops its DN unless the body names one (then refused). */
	if (ch->has_bind && !ch->has_bind_dn &&
	    (p->bind == NULL || strcmp(p->bind, "dn") != 0)) {
		free(p->bind_dn);
		p->bind_dn = NULL;
	}
#undef MOVE
	if (ch->has_ca) {
		free(p->ca_bundle);
		p->ca_bundle = ch->ca_bundle;
		ch->ca_bundle = NULL;
	}
	if (bind_verdict(p, rp) != 0)
		return -1;
	if (ch->has_rcc)
		p->require_client_cert = ch->rcc;
	if (ch->has_ms)
		p->max_sessions = (int)ch->ms;
	if (ch->has_enabled)
		p->enabled = ch->enabled;
	if (p->require_client_cert && p->pins.n == 0 && p->ca_bundle == NULL) {
		api_error(rp, 400, "bad_request", "'tls.require_client_cert' "
		    "needs 'tls.pins' or 'tls.ca_bundle'");
		return -1;
	}
	if (p->valid_from && p->valid_until &&
	    strcmp(p->valid_from, p->valid_until) >= 0) {
		api_error(rp, 400, "bad_request", "'valid_until' must be after "
		    "'valid_from'");
		return -1;
	}
	return 0;
}

static void
h_partner_change(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct sp_site_partner p;
	struct change ch;
	json_object *o, *cur = NULL, *res = NULL;
	int64_t rev = 0;
	int r;

	memset(&p, 0, sizeof(p));
	memset(&ch, 0, sizeof(ch));
	if (sp_site_valid_odette_id(arg) != 0) {
		api_error(out, 404, "not_found", "no such partner");
		return;
	}
	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (change_parse(a, o, arg, &ch, out) != 0)
		goto done;
	/* Read, merge and write under one lock: no change of this daemon
	 * slips in between. */
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_get(a->st, arg, &cur);
	if (r == 0)
		r = change_load(cur, &p);
	if (r == 0 && change_apply(&ch, &p, out) != 0)
		r = 1;
	if (r == 0)
		r = sp_store_partner_replace(a->st, &p, &rev);
	if (r == 0)
		r = sp_store_partner_get(a->st, arg, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == 1)
		;   /* change_apply replied */
	else if (r == SP_ERR_NOT_FOUND)
		api_error(out, 404, "not_found", "no such partner");
	else if (r != 0)
		internal(out, "change partner", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "partner %s changed by %s%s%s, "
		    "revision %lld", arg, rq->token, ch.hash[0] ? " (new "
		    "password)" : "", ch.has_ca ? " (new CA bundle)" : "",
		    (long long)rev);
		reply_json(out, 200, res);
	}
done:
	json_object_put(cur);
	change_free(&p);
	change_clear(&ch);
	json_object_put(o);
}

static void
set_enabled(struct api *a, struct api_req *rq, const char *id, bool on,
    struct api_reply *out)
{
	json_object *res = NULL;
	int64_t rev;
	int r;

	if (sp_site_valid_odette_id(id) != 0) {
		api_error(out, 404, "not_found", "no such partner");
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_set_enabled(a->st, id, on, &rev);
	if (r == 0)
		r = sp_store_partner_get(a->st, id, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_NOT_FOUND)
		api_error(out, 404, "not_found", "no such partner");
	else if (r != 0)
		internal(out, "partner", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "partner %s %s by %s, revision "
		    "%lld", id, on ? "enabled" : "disabled", rq->token,
		    (long long)rev);
		reply_json(out, 200, res);
	}
}

static void
h_partner_disable(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	set_enabled(a, rq, arg, false, out);
}

static void
h_partner_enable(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	set_enabled(a, rq, arg, true, out);
}

/*
 * DELETE /v1/partners/<id>: one new revision. A partner a route still
 * names is kept (409): the document would name a partner it lacks.
 */
static void
h_partner_remove(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	int64_t rev;
	int r;

	if (sp_site_valid_odette_id(arg) != 0) {
		api_error(out, 404, "not_found", "no such partner");
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_remove(a->st, arg, &rev);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_NOT_FOUND)
		api_error(out, 404, "not_found", "no such partner");
	else if (r == SP_ERR_EXISTS)
		api_error(out, 409, "conflict", "a route names partner %s: "
		    "change the route in the site file first", arg);
	else if (r != 0)
		internal(out, "remove partner", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "partner %s removed by %s, "
		    "revision %lld", arg, rq->token, (long long)rev);
		out->status = 204;
	}
}

/* ---- log-ignore rules ---- */

static void
h_rules_list(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *arr = NULL, *o;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_rules(a->st, &arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "rules", r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "rules", arr);
	reply_json(out, 200, o);
}

static void
h_rules_add(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct sp_site_rule ru;
	json_object *o, *res = NULL;
	const char *desc, *m;
	int64_t id = 0, rev;
	int r;

	memset(&ru, 0, sizeof(ru));
	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (member_str(o, "description", true, 1, 200, &desc, out) != 0 ||
	    member_str(o, "match", true, 1, 200, &m, out) != 0 ||
	    member_time(o, "valid_from", &ru.valid_from, out) != 0 ||
	    member_time(o, "valid_until", &ru.valid_until, out) != 0)
		goto done;
	if (ru.valid_from && ru.valid_until &&
	    strcmp(ru.valid_from, ru.valid_until) >= 0) {
		api_error(out, 400, "bad_request", "'valid_until' must be after "
		    "'valid_from'");
		goto done;
	}
	ru.description = (char *)desc;
	ru.match = (char *)m;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_rule_add(a->st, &ru, &id, &rev);
	if (r == 0)
		r = sp_store_rule_get(a->st, id, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0)
		internal(out, "add rule", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "log-ignore rule %lld added by "
		    "%s, revision %lld", (long long)id, rq->token, (long long)rev);
		reply_json(out, 201, res);
	}
done:
	free(ru.valid_from);
	free(ru.valid_until);
	json_object_put(o);
}

static void
h_rules_remove(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	int64_t id = 0, rev;
	const char *p;
	int r;

	for (p = arg; *p != '\0' && id < 1000000000000LL; p++) {
		if (*p < '0' || *p > '9')
			break;
		id = id * 10 + (*p - '0');
	}
	if (*p != '\0' || id <= 0) {
		api_error(out, 404, "not_found", "no such rule");
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_rule_remove(a->st, id, &rev);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_NOT_FOUND)
		api_error(out, 404, "not_found", "no such rule");
	else if (r != 0)
		internal(out, "remove rule", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "log-ignore rule %lld removed by "
		    "%s, revision %lld", (long long)id, rq->token, (long long)rev);
		out->status = 204;
	}
}

/* The route table: one line per endpoint (docs/api.md section 5). */
const struct api_route api_routes[] = {
	{ "GET", "/v1/health", false, h_health },
	{ "GET", "/v1/config", true, h_config },
	{ "GET", "/v1/partners", true, h_partners_list },
	{ "POST", "/v1/partners", true, h_partners_add },
	{ "PUT", "/v1/partners/*", true, h_partner_change },
	{ "DELETE", "/v1/partners/*", true, h_partner_remove },
	{ "POST", "/v1/partners/*/disable", true, h_partner_disable },
	{ "POST", "/v1/partners/*/enable", true, h_partner_enable },
	{ "GET", "/v1/listeners", true, api_h_listeners_list },
	{ "PUT", "/v1/listeners/*/tls", true, api_h_listener_set_tls },
	{ "GET", "/v1/rules", true, h_rules_list },
	{ "POST", "/v1/rules", true, h_rules_add },
	{ "DELETE", "/v1/rules/*", true, h_rules_remove },
	{ "POST", "/v1/events", true, api_h_events_post },
	{ "GET", "/v1/events", true, api_h_events_list },
	{ "POST", "/v1/sessions", true, api_h_sessions_post },
	{ "GET", "/v1/sessions", true, api_h_sessions_list },
	{ "GET", "/v1/sessions/live", true, api_h_sessions_live },
	{ "GET", "/metrics", true, api_h_metrics },
	{ "POST", "/v1/status", true, api_h_status_post },
	{ "GET", "/v1/status", true, api_h_status_get },
	{ "POST", "/v1/decisions/ssid", true, api_h_decide_ssid },
	{ "POST", "/v1/crls", true, api_h_crls_post },
	{ "GET", "/v1/crls", true, api_h_crls_list },
	{ "POST", "/v1/partners/*/online_block", true, api_h_online_block },
	{ "DELETE", "/v1/partners/*/online_block", true, api_h_online_unblock },
	{ "POST", "/v1/blocks", true, api_h_blocks_post },
	{ "GET", "/v1/blocks", true, api_h_blocks_list },

	{ "GET", "/v1/partners/*/oftp2", true, api_h_oftp2_get },
	{ "PUT", "/v1/partners/*/oftp2", true, api_h_oftp2_set },
	{ "GET", "/v1/partners/*/diagnose", true, api_h_diagnose },
	/* The admin panel (panel.h): its files and its logins. */
	{ "GET", "/", false, api_h_panel_file },
	{ "GET", "/panel/*", false, api_h_panel_file },
	{ "POST", "/v1/panel/login", false, api_h_panel_login },
	{ "POST", "/v1/panel/logout", false, api_h_panel_logout },
	{ "GET", "/v1/panel/session", false, api_h_panel_session },
	{ "GET", "/v1/settings", true, api_h_settings },
	{ "GET", "/v1/routes", true, api_h_routes_list },
	{ NULL, NULL, false, NULL }
};
