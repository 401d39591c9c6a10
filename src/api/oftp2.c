/*
 * oftp2.c - endpoints of the OFTP2 module's per-partner switches and of
 * diagnose (docs/api.md 5.7):
 *   GET /v1/partners/<id>/oftp2      the partner's switches
 *   PUT /v1/partners/<id>/oftp2      set switches: {"tolerate_lf_trailer":
 *                                    true, "detect": false, "x": null...};
 *                                    one revision
 *   GET /v1/partners/<id>/diagnose   refusals of the recent sessions, the
 *                                    deviations admitted, and the switch that
 *                                    would admit each refusal (?limit: how
 *                                    many recent sessions are read,
 *                                    1..10000, default 1000)
 * Ownership: each handler puts what it made; the reply owns its body.
 */
#include "config.h"

#include <string.h>

#include "api/bodies.h"
#include "api/oftp2.h"
#include "api/ops.h"
#include "api/site.h"
#include "core/err.h"
#include "core/log.h"

/* 0 if `id` names a known partner, else a 404 (or 500) reply. */
static int
known(struct api *a, const char *id, struct api_reply *out)
{
	json_object *p = NULL;
	int r;

	if (sp_site_valid_odette_id(id) != 0) {
		api_error(out, 404, "not_found", "no such partner");
		return -1;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_partner_get(a->st, id, &p);
	pthread_mutex_unlock(&a->dbmu);
	json_object_put(p);
	if (r == SP_ERR_NOT_FOUND) {
		api_error(out, 404, "not_found", "no such partner");
		return -1;
	}
	if (r != 0) {
		internal(out, "partner", r);
		return -1;
	}
	return 0;
}

void
api_h_oftp2_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *e = NULL;
	int r;

	(void)c;
	(void)rq;
	if (known(a, arg, out) != 0)
		return;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_oftp2_switches_get(a->st, arg, &e);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "oftp2 switches", r);
		return;
	}
	out->status = 200;
	out->body = e;
}

void
api_h_oftp2_set(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *o, *e = NULL;
	char err[160];
	int64_t rev = 0;
	int r;

	if (known(a, arg, out) != 0 || (o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_body_oftp2_switches(o, err, sizeof(err)), err,
	    out) != 0) {
		json_object_put(o);
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_oftp2_switches_set(a->st, arg, o, &e, &rev);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	json_object_put(o);
	if (r != 0) {
		internal(out, "oftp2 switches", r);
		return;
	}
	sp_log(SP_LOG_NOTICE, "config", "oftp2 switches of partner %s set by %s: "
	    "%s, revision %lld", arg, rq->token ? rq->token : "-",
	    json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
	    (long long)rev);
	out->status = 200;
	out->body = e;
}

void
api_h_diagnose(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *d = NULL;
	int limit, r;

	(void)rq;
	if (known(a, arg, out) != 0 ||
	    api_query_limit(c, 1000, 10000, &limit, out) != 0)
		return;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_oftp2_diagnose(a->st, arg, limit, &d);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "diagnose", r);
		return;
	}
	out->status = 200;
	out->body = d;
}
