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
#include "api/partner_body.h"
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
h_partners_add(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct sp_site_partner p;
	json_object *o, *res = NULL;
	char err[400];
	int64_t rev;
	int r;

	memset(&p, 0, sizeof(p));
	if ((o = body_object(c, rq, out)) == NULL)
		return;
	/* Types, then the partner rules the site file and PUT share. */
	if ((r = sp_partner_body_post(o, a->pbkdf2_iterations, &p, err,
	    sizeof(err))) != 0) {
		if (r == SP_ERR_INVALID)
			api_error(out, 400, "bad_request", "%s", err);
		else
			internal(out, "partner", r);
		goto done;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_add(a->st, &p, &rev);
	if (r == 0)
		r = sp_store_partner_get(a->st, p.odette_id, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_EXISTS)
		api_error(out, 409, "conflict", "partner %s exists", p.odette_id);
	else if (r != 0)
		internal(out, "add partner", r);
	else {
		sp_log(SP_LOG_NOTICE, "config", "partner %s added by %s, "
		    "revision %lld", p.odette_id, rq->token, (long long)rev);
		reply_json(out, 201, res);
	}
done:
	sp_partner_clear(&p);
	json_object_put(o);
}

/* ---- PUT /v1/partners/<id>: change a partner ---- */

static void
h_partner_change(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct sp_site_partner p;
	struct sp_partner_change ch;
	json_object *o, *cur = NULL, *res = NULL;
	char err[400] = "";
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
	if ((r = sp_partner_body_change(o, arg, a->pbkdf2_iterations, &ch, err,
	    sizeof(err))) != 0)
		goto done;
	/* Read, merge and write under one lock: no change of this daemon
	 * slips in between. */
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_get(a->st, arg, &cur);
	if (r == 0)
		r = sp_partner_from_stored(cur, &p);
	if (r == 0)
		r = sp_partner_change_apply(&ch, &p, err, sizeof(err));
	if (r == 0)
		r = sp_store_partner_replace(a->st, &p, &rev);
	if (r == 0)
		r = sp_store_partner_get(a->st, arg, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
done:
	if (r == SP_ERR_INVALID && err[0] != '\0')
		api_error(out, 400, "bad_request", "%s", err);
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
	json_object_put(cur);
	sp_partner_clear(&p);
	sp_partner_change_clear(&ch);
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
