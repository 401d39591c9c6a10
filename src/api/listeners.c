/*
 * listeners.c - GET /v1/listeners and PUT /v1/listeners/<name>/tls: the
 * listener certificate rotates through the API, without a site import and
 * without a restart of anything (docs/api.md 5, docs/operations.md). The
 * chain and key are checked with GnuTLS before they are stored, as an
 * import checks them, so a broken pair never reaches the DMZ.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/ops.h"
#include "api/pem.h"
#include "core/err.h"
#include "core/log.h"

void
api_h_listeners_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *arr = NULL, *o;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_listeners(a->st, &arr);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "listeners", r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "listeners", arr);
	out->status = 200;
	out->body = o;
}

/* The body: certificate_chain and private_key (PEM) or "key": "inside" (the
 * client holds the key: *key is NULL), require_client_cert optional;
 * anything else is refused, so a typo is not ignored. */
static int
tls_body(json_object *o, const char **chain, const char **key, int *rcc,
    struct api_reply *rp)
{
	json_object *v;
	const char *where = NULL;
	char why[300];

	json_object_object_foreach(o, k, val) {
		(void)val;
		if (strcmp(k, "certificate_chain") != 0 &&
		    strcmp(k, "private_key") != 0 && strcmp(k, "key") != 0 &&
		    strcmp(k, "require_client_cert") != 0) {
			api_error(rp, 400, "bad_request", "'%.64s' is not a field "
			    "of a listener's tls", k);
			return -1;
		}
	}
	*key = NULL;
	if (member_str(o, "certificate_chain", true, 1, SP_API_PEM_MAX, chain,
	    rp) != 0 || member_str(o, "key", false, 1, 16, &where, rp) != 0)
		return -1;
	if (where != NULL && strcmp(where, "inside") != 0) {
		api_error(rp, 400, "bad_request", "'key' must be \"inside\" "
		    "(the client holds the key)");
		return -1;
	}
	if (member_str(o, "private_key", where == NULL, 1, SP_API_PEM_MAX,
	    key, rp) != 0)
		return -1;
	if (where != NULL && *key != NULL) {
		api_error(rp, 400, "bad_request", "'key' and 'private_key' "
		    "exclude each other");
		return -1;
	}
	*rcc = -1;
	if (json_object_object_get_ex(o, "require_client_cert", &v)) {
		if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
			api_error(rp, 400, "bad_request", "'require_client_cert' "
			    "must be true or false");
			return -1;
		}
		*rcc = json_object_get_boolean(v);
	}
	if (sp_api_pem_certs_check(*chain, why, sizeof(why)) != 0) {
		api_error(rp, 400, "bad_request", "'certificate_chain' %s", why);
		return -1;
	}
	if (*key != NULL && sp_api_pem_pair_check(*chain, *key, why, sizeof(why)) != 0) {
		api_error(rp, 400, "bad_request", "'private_key' does not load "
		    "with 'certificate_chain': %s", why);
		return -1;
	}
	return 0;
}

void
api_h_listener_set_tls(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *o, *res = NULL, *tls, *sha;
	const char *chain, *key;
	int64_t rev = 0;
	int rcc, r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (tls_body(o, &chain, &key, &rcc, out) != 0) {
		json_object_put(o);
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_listener_set_tls(a->st, arg, chain, key, rcc, &rev);
	if (r == 0)
		r = sp_store_listener_get(a->st, arg, &res);
	if (r == 0)
		api_refresh(a, a->st, false);
	pthread_mutex_unlock(&a->dbmu);
	/* The key is in the body object: wipe it before it is freed. */
	if (key != NULL)
		explicit_bzero((char *)(uintptr_t)key, strlen(key));
	json_object_put(o);
	if (r == SP_ERR_NOT_FOUND) {
		api_error(out, 404, "not_found", "no such listener");
		return;
	}
	if (r != 0) {
		internal(out, "listener tls", r);
		return;
	}
	sha = NULL;
	if (json_object_object_get_ex(res, "tls", &tls) && tls != NULL)
		json_object_object_get_ex(tls, "certificate_sha256", &sha);
	sp_log(SP_LOG_NOTICE, "config", "listener %s: new certificate "
	    "sha256=%s by %s, revision %lld%s", arg, sha ?
	    json_object_get_string(sha) : "?", rq->token, (long long)rev,
	    key == NULL ? " (keyless: the key stays inside)" : "");
	out->status = 200;
	out->body = res;
}
