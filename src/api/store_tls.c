/*
 * store_tls.c - listener certificates in smartproxy-api's store, changed
 * without a site import (PUT /v1/listeners/<name>/tls), and the listing of
 * listeners without their keys (GET /v1/listeners). See store.h.
 */
#include "config.h"

#include <string.h>

#include "api/db.h"

#include "api/pem.h"
#include "api/store.h"
#include "api/store_int.h"
#include "core/err.h"

/* A rendered listener as the API lists it: no private key, the leaf's
 * SHA-256 so an operator sees which certificate is served. */
static void
strip_listener(json_object *l)
{
	json_object *tls, *chain;
	char sha[65];

	if (!json_object_object_get_ex(l, "tls", &tls) || tls == NULL)
		return;
	json_object_object_del(tls, "private_key");
	if (json_object_object_get_ex(tls, "certificate_chain", &chain) &&
	    chain != NULL && sp_api_pem_leaf_sha256(
	    json_object_get_string(chain), sha) == 0)
		json_object_object_add(tls, "certificate_sha256",
		    json_object_new_string(sha));
}

int
sp_store_listeners(struct sp_store *st, json_object **arr)
{
	json_object *doc, *ls;
	int64_t rev;
	size_t i;
	int r;

	*arr = NULL;
	if ((r = sp_store_render(st, &doc, &rev)) != 0)
		return r;
	if (!json_object_object_get_ex(doc, "listeners", &ls) || ls == NULL) {
		json_object_put(doc);
		return SP_ERR_SYSTEM;
	}
	*arr = json_object_get(ls);
	json_object_put(doc);
	for (i = 0; i < json_object_array_length(*arr); i++)
		strip_listener(json_object_array_get_idx(*arr, i));
	return SP_OK;
}

int
sp_store_listener_get(struct sp_store *st, const char *name,
    json_object **obj)
{
	json_object *arr, *l, *n;
	size_t i;
	int r;

	*obj = NULL;
	if ((r = sp_store_listeners(st, &arr)) != 0)
		return r;
	for (i = 0; i < json_object_array_length(arr); i++) {
		l = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(l, "name", &n) &&
		    strcmp(json_object_get_string(n), name) == 0) {
			*obj = json_object_get(l);
			break;
		}
	}
	json_object_put(arr);
	return *obj != NULL ? SP_OK : SP_ERR_NOT_FOUND;
}

int
sp_store_listener_set_tls(struct sp_store *st, const char *name,
    const char *chain, const char *key, int require_client_cert,
    int64_t *rev)
{
	struct sp_db_stmt *s;
	int r = SP_ERR_SYSTEM, rc;

	if (sp_db_begin_write(st->db) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_prepare(st->db, "UPDATE listeners SET tls = 1, "
	    "chain_pem = ?2, key_pem = ?3, require_client_cert = "
	    "coalesce(?4, require_client_cert) WHERE name = ?1", &s) != 0)
		goto fail;
	if (sp_db_bind_text(s, 1, name) != 0 ||
	    sp_db_bind_text(s, 2, chain) != 0 ||
	    (key != NULL ? sp_db_bind_text(s, 3, key) :
	    sp_db_bind_null(s, 3)) != 0 ||
	    (require_client_cert < 0 ? sp_db_bind_null(s, 4) :
	    sp_db_bind_int64(s, 4, require_client_cert)) != 0) {
		sp_db_finalize(s);
		goto fail;
	}
	rc = sp_db_step(s);
	sp_db_finalize(s);
	if (rc != SP_DB_DONE)
		goto fail;
	if (sp_db_changes(st->db) != 1) {
		r = SP_ERR_NOT_FOUND;
		goto fail;
	}
	if ((r = sp_store_bump(st, rev)) != 0)
		goto fail;
	if (sp_db_commit(st->db) != 0) {
		r = SP_ERR_SYSTEM;
		goto fail;
	}
	return SP_OK;
fail:
	sp_db_rollback(st->db);
	return r;
}
