/*
 * decide.c - the online-decision endpoints of smartproxy-api (decide.h,
 * docs/api.md 5.5): POST /v1/decisions/ssid answers the partner module's
 * question, POST/DELETE /v1/partners/<id>/online_block set and lift a block.
 *
 * The answer is always 200 with {"allow", "esid_reason", "reason"} when the
 * question was well-formed, so the module can tell a refusal (ESID chosen
 * here) from a backend that could not decide (anything else: the module
 * fails closed). Ownership: handlers keep nothing after returning.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/bodies.h"
#include "api/decide.h"
#include "api/ops.h"
#include "api/site.h"
#include "core/err.h"
#include "core/log.h"

static const char *
member_or_null(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * The reference policy. `why` says which rule decided; esid is the ESID the
 * proxy sends on a refusal: 03 for anything about who the partner is, or
 * what an online block names.
 */
static int
decide(struct api *a, const char *id, bool *allow, char esid[3],
    const char **why)
{
	json_object *p = NULL, *v;
	char now[21];
	const char *from, *until;
	struct tm tm;
	time_t t = time(NULL);
	bool blocked = false;
	char besid[3] = "03";
	int r;

	*allow = false;
	snprintf(esid, 3, "03");
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_get(a->st, id, &p);
	if (r == 0)
		r = sp_store_online_block_get(a->st, id, &blocked, besid);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_NOT_FOUND) {
		*why = "unknown partner";
		return 0;
	}
	if (r != 0)
		return r;
	from = member_or_null(p, "valid_from");
	until = member_or_null(p, "valid_until");
	if (!json_object_object_get_ex(p, "enabled", &v) || !json_object_get_boolean(v))
		*why = "partner disabled";
	else if ((from != NULL && strcmp(now, from) < 0) ||
	    (until != NULL && strcmp(now, until) >= 0))
		*why = "partner outside its validity window";
	else if (blocked) {
		*why = "online block";
		memcpy(esid, besid, 3);
	} else {
		*allow = true;
		*why = "partner known and enabled";
	}
	json_object_put(p);
	return 0;
}

void
api_h_decide_ssid(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct sp_body_question q;
	const char *id, *why = "";
	json_object *o, *res;
	bool allow;
	char esid[3], err[160];
	int r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_body_question(o, &q, err, sizeof(err)), err,
	    out) != 0)
		goto done;
	id = q.odette_id;
	if ((r = decide(a, id, &allow, esid, &why)) != 0) {
		internal(out, "decision", r);
		goto done;
	}
	sp_log(allow ? SP_LOG_INFO : SP_LOG_NOTICE, "decision", "SSID of %s from %s "
	    "(listener %s, session %s, certificate %s) %s: %s", id,
	    q.source_address ? q.source_address : "-",
	    q.listener ? q.listener : "-", q.session ? q.session : "-",
	    q.certificate_sha256 ? q.certificate_sha256 : "-",
	    allow ? "allowed" : "refused", why);
	res = json_object_new_object();
	json_object_object_add(res, "allow", json_object_new_boolean(allow));
	json_object_object_add(res, "esid_reason",
	    allow ? NULL : json_object_new_string(esid));
	json_object_object_add(res, "reason", json_object_new_string(why));
	out->status = 200;
	out->body = res;
done:
	json_object_put(o);
}

/* Set (esid) or lift (NULL) the block of a known partner. */
static void
set_block(struct api *a, struct api_req *rq, const char *id, const char *esid,
    struct api_reply *out)
{
	json_object *p = NULL, *res;
	int r;

	if (sp_site_valid_odette_id(id) != 0) {
		api_error(out, 404, "not_found", "no such partner");
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_get(a->st, id, &p);
	if (r == 0)
		r = sp_store_online_block_set(a->st, id, esid);
	pthread_mutex_unlock(&a->dbmu);
	json_object_put(p);
	if (r == SP_ERR_NOT_FOUND) {
		api_error(out, 404, "not_found", "no such partner");
		return;
	}
	if (r != 0) {
		internal(out, "online block", r);
		return;
	}
	sp_log(SP_LOG_NOTICE, "decision", "online block of partner %s %s by %s%s%s",
	    id, esid ? "set" : "lifted", rq->token ? rq->token : "-",
	    esid ? ": ESID " : "", esid ? esid : "");
	if (esid == NULL) {
		out->status = 204;
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "odette_id", json_object_new_string(id));
	json_object_object_add(res, "online_block", json_object_new_boolean(1));
	json_object_object_add(res, "esid_reason", json_object_new_string(esid));
	out->status = 200;
	out->body = res;
}

void
api_h_online_block(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	const char *esid = "03";
	json_object *o = NULL;

	/* The body is optional: none means ESID 03. */
	if (sp_buf_len(&rq->body) > 0) {
		if ((o = body_object(c, rq, out)) == NULL)
			return;
		if (member_str(o, "esid_reason", false, 2, 2, &esid, out) != 0)
			goto done;
		if (esid == NULL)
			esid = "03";
		if (strcmp(esid, "03") != 0 && strcmp(esid, "04") != 0 &&
		    strcmp(esid, "08") != 0) {
			api_error(out, 400, "bad_request", "'esid_reason' must be "
			    "\"03\", \"04\" or \"08\"");
			goto done;
		}
	}
	set_block(a, rq, arg, esid, out);
done:
	json_object_put(o);
}

void
api_h_online_unblock(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	set_block(a, rq, arg, NULL, out);
}
