/*
 * store_int.h - what store.c and render.c share inside smartproxy-api's
 * store; nothing outside the store includes it.
 */
#ifndef SP_API_STORE_INT_H
#define SP_API_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "api/db.h"
#include <json-c/json.h>

struct sp_store {
	struct sp_db *db;  /* owned */
};

/* Run SQL without results: SP_OK or SP_ERR_SYSTEM. */
int sp_store_exec(struct sp_store *st, const char *sql);
/* Inside a write transaction: increment the revision, return the new one. */
int sp_store_bump(struct sp_store *st, int64_t *rev);

/* store_crl.c: schema version 6, and the parts of import and render. */
struct sp_site;
extern const char sp_store_schema_v5[];
/* Inside the import's transaction; replace drops the entries the site does
 * not name, a merge keeps them (a bundle the site names is replaced). */
int sp_store_import_revocation(struct sp_store *st, const struct sp_site *site,
    bool replace);
/* Add tls.crl, tls.crl_urls, tls.crl_expired where a tls has a ca_bundle. */
int sp_store_render_revocation(struct sp_store *st, json_object *routes,
    json_object *partners);

#endif
