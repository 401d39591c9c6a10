/*
 * store.h - the store of smartproxy-api (SQLite or PostgreSQL, db.h): the data model of the site
 * file plus the objects changed through the API, and the revision counter.
 *
 * The database file is created mode 0600 on first open (it holds private keys
 * and password hashes); the schema is versioned with PRAGMA user_version and
 * upgraded in place. Every change (an import, a partner or rule change) runs
 * in one IMMEDIATE transaction that also increments the revision, so readers
 * see either the old or the new model, never a mix. Several processes may
 * open the same file (the daemon and `--import`); SQLite's locking and a busy
 * timeout serialise them.
 *
 * Rendering builds the runtime configuration document of docs/api.md 4.2 in
 * one read transaction, so the revision always matches the content.
 *
 * Ownership: a struct sp_store is one connection, used by one thread at a
 * time; sp_store_close() frees it. Rendered strings and json-c objects handed
 * out belong to the caller.
 */
#ifndef SP_API_STORE_H
#define SP_API_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "api/site.h"

#define SP_STORE_SCHEMA_VERSION 8

struct sp_store;

/* Open (creating the file 0600 and the schema if needed). */
int sp_store_open(const char *path, struct sp_store **out, char *err,
    size_t errlen);
void sp_store_close(struct sp_store *st);

int sp_store_revision(struct sp_store *st, int64_t *rev);

/* What an import did to one section. */
struct sp_store_tally {
	unsigned created, updated;
};
struct sp_store_import_stats {
	struct sp_store_tally listeners, partners, routes, rules;
};

/*
 * Import `site` in one transaction with one new revision (*rev).
 * Merge (replace false): every listener, partner and route of the site is
 * created or, when its name / ODETTE ID exists, updated in all its fields;
 * a rule equal to a stored one is kept, others are added; limits, module
 * sections and outgoing.source_address change only where the file gives
 * them; everything else in the store stays (partners and rules added with
 * smartproxyctl). Replace (true): the configuration tables are emptied
 * first. Online blocks and the operations tables are never touched.
 * `stats` (may be NULL) gets the counts.
 */
int sp_store_import(struct sp_store *st, const struct sp_site *site,
    bool replace, struct sp_store_import_stats *stats, int64_t *rev);

/* A consistent copy of the database into `path` (must not exist; created
 * 0600). The caller picks the name (main.c: next to the database). */
int sp_store_backup(struct sp_store *st, const char *path, char *err,
    size_t errlen);

/* The runtime configuration document (a new object) and its revision. */
int sp_store_render(struct sp_store *st, json_object **doc, int64_t *rev);

/* ---- partners ---- */
int sp_store_partners(struct sp_store *st, json_object **arr);
/* The partner as rendered, or SP_ERR_NOT_FOUND. */
int sp_store_partner_get(struct sp_store *st, const char *odette_id,
    json_object **obj);
/* SP_ERR_EXISTS when the ODETTE ID is taken. */
int sp_store_partner_add(struct sp_store *st, const struct sp_site_partner *p,
    int64_t *rev);
/*
 * Replace every field of the partner named p->odette_id (the ODETTE ID
 * itself stays); SP_ERR_NOT_FOUND when unknown.
 */
int sp_store_partner_replace(struct sp_store *st,
    const struct sp_site_partner *p, int64_t *rev);
/* SP_ERR_NOT_FOUND when unknown; SP_ERR_EXISTS while a route names it. */
int sp_store_partner_remove(struct sp_store *st, const char *odette_id,
    int64_t *rev);
/* SP_ERR_NOT_FOUND when unknown. */
int sp_store_partner_set_enabled(struct sp_store *st, const char *odette_id,
    bool enabled, int64_t *rev);

/* ---- listeners (store_tls.c) ---- */
/* As rendered, without private keys, with tls.certificate_sha256. */
int sp_store_listeners(struct sp_store *st, json_object **arr);
int sp_store_listener_get(struct sp_store *st, const char *name,
    json_object **obj);
/*
 * New certificate chain and key for the listener `name` (checked by the
 * caller, pem.h); require_client_cert -1 keeps it. One new revision; the
 * server serves the new certificate to new sessions, running ones keep
 * theirs. SP_ERR_NOT_FOUND when unknown.
 */
int sp_store_listener_set_tls(struct sp_store *st, const char *name,
    const char *chain, const char *key, int require_client_cert,
    int64_t *rev);

/* ---- log-ignore rules ---- */
int sp_store_rules(struct sp_store *st, json_object **arr);
int sp_store_rule_add(struct sp_store *st, const struct sp_site_rule *ru,
    int64_t *id, int64_t *rev);
int sp_store_rule_get(struct sp_store *st, int64_t id, json_object **obj);
/* SP_ERR_NOT_FOUND when unknown. */
int sp_store_rule_remove(struct sp_store *st, int64_t id, int64_t *rev);

/* ---- revocation (store_crl.c) ---- */
/*
 * A CRL (PEM, exactly one) from `source` (a URL, "site file", a token name):
 * stored for every CA bundle of a partner or route whose CA signed it, unless
 * the stored CRL of its issuer is as new. *stored: something changed (then
 * *rev is the new revision, else the current one). SP_ERR_CONFIG with one
 * line in err when no bundle's CA signed it or it is no CRL.
 */
int sp_store_crl_add(struct sp_store *st, const char *pem, const char *source,
    bool *stored, int64_t *rev, char *err, size_t errlen);
/* [{"ca_bundle_sha256", "issuer", "this_update", "next_update", "number",
 *   "source", "received"}...] */
int sp_store_crls(struct sp_store *st, json_object **arr);

/*
 * Revisions committed by other instances (PostgreSQL; docs/api.md 8): the
 * store notifies SP_STORE_CHANNEL with the new revision in every bump.
 * sp_store_notifies: this store can (else poll sp_store_revision).
 * sp_store_listen once, then sp_store_wait_change: 1 a revision was
 * committed somewhere, 0 timeout or wake_fd readable, <0 connection lost.
 */
#define SP_STORE_CHANNEL "smartproxy_revision"
bool sp_store_notifies(struct sp_store *st);
int sp_store_listen(struct sp_store *st);
int sp_store_wait_change(struct sp_store *st, int wake_fd, int timeout_ms);

/* The last database message of this connection (for logs). */
const char *sp_store_errmsg(struct sp_store *st);

#endif
