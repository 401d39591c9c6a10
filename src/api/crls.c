/*
 * crls.c - POST/GET /v1/crls: the CRLs smartproxy-api keeps per CA bundle
 * (docs/api.md 5.10). smartproxy-client posts each CRL it fetched from a
 * distribution point and verified; the store checks the signature again
 * against the bundles it holds and keeps the newest per issuer, and a stored
 * CRL commits a new revision, so the proxy gets it with the configuration.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/ops.h"
#include "core/err.h"
#include "core/log.h"

#define CRL_PEM_MAX (1024 * 1024)

void
api_h_crls_post(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *o, *res;
	const char *pem, *source;
	char err[200] = "", from[300];
	bool stored = false;
	int64_t rev = 0;
	int r;

	(void)arg;
	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (member_str(o, "crl", true, 1, CRL_PEM_MAX, &pem, out) != 0 ||
	    member_str(o, "source", false, 0, 1024, &source, out) != 0)
		goto done;
	snprintf(from, sizeof(from), "%s (%s)", source != NULL ? source : "posted",
	    rq->token != NULL ? rq->token : "?");
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_crl_add(a->st, pem, from, &stored, &rev, err, sizeof(err));
	if (r == 0 && stored)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	if (r == SP_ERR_CONFIG) {
		api_error(out, 400, "bad_request", "'crl': %s", err);
		sp_log(SP_LOG_WARN, "config", "CRL from %s refused: %s", from, err);
		goto done;
	}
	if (r != 0) {
		internal(out, "crl", r);
		goto done;
	}
	if (stored)
		sp_log(SP_LOG_NOTICE, "config", "CRL from %s stored, revision %lld",
		    from, (long long)rev);
	else
		sp_log(SP_LOG_DEBUG, "config", "CRL from %s: not newer than the one "
		    "kept", from);
	res = json_object_new_object();
	json_object_object_add(res, "stored", json_object_new_boolean(stored));
	json_object_object_add(res, "revision", json_object_new_int64(rev));
	out->status = 200;
	out->body = res;
done:
	json_object_put(o);
}

void
api_h_crls_list(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *arr = NULL, *o;
	int r;

	(void)c;
	(void)rq;
	(void)arg;
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_crls(a->st, &arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "crls", r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "crls", arr);
	out->status = 200;
	out->body = o;
}
