/*
 * store_crl.c - revocation in smartproxy-api's store: the policy and
 * distribution points per CA bundle (site file `revocation:`), the last good
 * CRL of each issuer of each bundle (from the site file or POST /v1/crls),
 * and what the configuration document carries of them (tls.crl,
 * tls.crl_urls, tls.crl_expired of every partner and route with that bundle).
 *
 * A bundle is keyed by the SHA-256 of its PEM text (sp_site_bundle_id), so a
 * CRL stored once serves every partner and route that names the same file.
 * A CRL replaces the stored one of its issuer only when it is newer
 * (thisUpdate, then cRLNumber): the backend keeps the last good one, and an
 * old CRL replayed cannot undo a revocation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/db.h"

#include "api/store.h"
#include "api/store_int.h"
#include "core/crl.h"
#include "core/err.h"

const char sp_store_schema_v5[] =
	"CREATE TABLE revocation ("
	"  bundle TEXT PRIMARY KEY, urls TEXT NOT NULL,"
	"  fail_open INTEGER NOT NULL);"
	"CREATE TABLE crls ("
	"  bundle TEXT NOT NULL, issuer TEXT NOT NULL, issuer_text TEXT NOT NULL,"
	"  pem TEXT NOT NULL, this_update INTEGER NOT NULL, next_update INTEGER,"
	"  number INTEGER, source TEXT NOT NULL, received TEXT NOT NULL,"
	"  PRIMARY KEY (bundle, issuer));";

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Store one CRL (PEM text of exactly that CRL) unless the stored one of its
 * issuer is as new. *stored tells which happened. */
static int
upsert(struct sp_store *st, const char *bundle, const struct sp_crl_info *ci,
    const char *pem, const char *source, bool *stored)
{
	struct sp_db_stmt *s;
	char *issuer;
	int r = SP_ERR_SYSTEM;

	*stored = false;
	if ((issuer = malloc(2 * ci->issuer_raw.size + 1)) == NULL)
		return SP_ERR_NOMEM;
	hex(ci->issuer_raw.data, ci->issuer_raw.size, issuer);
	if (sp_db_prepare(st->db, "INSERT INTO crls VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
	    "ON CONFLICT (bundle, issuer) DO UPDATE SET issuer_text = ?3, pem = ?4, "
	    "this_update = ?5, next_update = ?6, number = ?7, source = ?8, "
	    "received = excluded.received WHERE ?5 > crls.this_update OR "
	    "(?5 = crls.this_update AND coalesce(?7, -1) > coalesce(crls.number, -1))", &s) != 0) {
		free(issuer);
		return SP_ERR_SYSTEM;
	}
	if (sp_db_bind_text(s, 1, bundle) == 0 &&
	    sp_db_bind_text(s, 2, issuer) == 0 &&
	    sp_db_bind_text(s, 3, ci->issuer) == 0 &&
	    sp_db_bind_text(s, 4, pem) == 0 &&
	    sp_db_bind_int64(s, 5, (int64_t)ci->this_update) == 0 &&
	    (ci->next_update == -1 ? sp_db_bind_null(s, 6) :
	    sp_db_bind_int64(s, 6, (int64_t)ci->next_update)) == 0 &&
	    (ci->number < 0 ? sp_db_bind_null(s, 7) :
	    sp_db_bind_int64(s, 7, ci->number)) == 0 &&
	    sp_db_bind_text(s, 8, source) == 0 &&
	    sp_db_step(s) == SP_DB_DONE) {
		*stored = sp_db_changes(st->db) > 0;
		r = SP_OK;
	}
	sp_db_finalize(s);
	free(issuer);
	return r;
}

/* Store the CRL of `pem` (one, checked against `ca`) for the bundle. */
static int
store_one(struct sp_store *st, const char *ca, const char *pem,
    const char *source, bool *any, char *err, size_t errlen)
{
	struct sp_crl_set set;
	char id[65];
	bool stored;
	size_t i;
	int r;

	*any = false;
	if ((r = sp_crl_load(ca, pem, &set, err, errlen)) != SP_OK)
		return r;
	if (set.n != 1) {
		/* One PEM text per issuer row: a list is posted one by one. */
		sp_crl_set_free(&set);
		snprintf(err, errlen, "crl: exactly one CRL, not %zu", set.n);
		return SP_ERR_CONFIG;
	}
	r = sp_site_bundle_id(ca, id) != 0 ? SP_ERR_NOMEM : SP_OK;
	for (i = 0; r == SP_OK && i < set.n; i++) {
		r = upsert(st, id, &set.info[i], pem, source, &stored);
		*any |= stored;
	}
	sp_crl_set_free(&set);
	return r;
}

/* Each CRL of a PEM text on its own (a bundle of several CAs has several). */
static int
store_for_bundle(struct sp_store *st, const char *ca, const char *pem,
    const char *source, bool *any, char *err, size_t errlen)
{
	static const char end[] = "-----END X509 CRL-----";
	const char *b = strstr(pem, "-----BEGIN X509 CRL-----"), *e;
	char *one;
	bool got;
	int r = SP_OK;

	*any = false;
	if (b == NULL)
		return store_one(st, ca, pem, source, any, err, errlen);
	for (; r == SP_OK && b != NULL; b = strstr(e, "-----BEGIN X509 CRL-----")) {
		if ((e = strstr(b, end)) == NULL)
			return store_one(st, ca, b, source, any, err, errlen);
		e += sizeof(end) - 1;
		if ((one = malloc((size_t)(e - b) + 2)) == NULL)
			return SP_ERR_NOMEM;
		memcpy(one, b, (size_t)(e - b));
		memcpy(one + (e - b), "\n", 2);
		r = store_one(st, ca, one, source, &got, err, errlen);
		*any |= got;
		free(one);
	}
	return r;
}

int
sp_store_import_revocation(struct sp_store *st, const struct sp_site *site,
    bool replace)
{
	struct sp_db_stmt *s;
	json_object *a;
	char id[65], why[200];
	bool any;
	size_t i, j;
	int r = SP_OK;

	if (replace && sp_store_exec(st, "DELETE FROM revocation") != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_prepare(st->db, "INSERT INTO revocation VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (bundle) DO UPDATE SET urls = excluded.urls, "
	    "fail_open = excluded.fail_open", &s) != 0)
		return SP_ERR_SYSTEM;
	for (i = 0; r == SP_OK && i < site->nrevocations; i++) {
		const struct sp_site_revocation *rv = &site->revocations[i];

		if ((a = json_object_new_array()) == NULL) {
			r = SP_ERR_NOMEM;
			break;
		}
		for (j = 0; j < rv->urls.n; j++)
			json_object_array_add(a, json_object_new_string(rv->urls.v[j]));
		sp_db_reset(s);
		if (sp_site_bundle_id(rv->ca_bundle, id) != 0 ||
		    sp_db_bind_text(s, 1, id) != 0 ||
		    sp_db_bind_text(s, 2, json_object_to_json_string_ext(a,
		    JSON_C_TO_STRING_PLAIN)) != 0 ||
		    sp_db_bind_int64(s, 3, rv->fail_open) != 0 ||
		    sp_db_step(s) != SP_DB_DONE)
			r = SP_ERR_SYSTEM;
		json_object_put(a);
		/* The site's CRL is a starting point; a newer one fetched since
		 * stays (the site parser checked the signature already). */
		if (r == SP_OK && rv->crl != NULL)
			r = store_for_bundle(st, rv->ca_bundle, rv->crl, "site file",
			    &any, why, sizeof(why));
	}
	sp_db_finalize(s);
	return r;
}

/* Every CA bundle a partner or route names, each once. */
#define BUNDLES_SQL "SELECT ca_bundle FROM partners WHERE ca_bundle IS NOT NULL " \
	"UNION SELECT ca_bundle FROM routes WHERE ca_bundle IS NOT NULL"

int
sp_store_crl_add(struct sp_store *st, const char *pem, const char *source,
    bool *stored, int64_t *rev, char *err, size_t errlen)
{
	struct sp_db_stmt *s;
	char why[200] = "";
	bool matched = false, any;
	int r = SP_OK, rc;

	*stored = false;
	if (sp_db_begin_write(st->db) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_prepare(st->db, BUNDLES_SQL, &s) != 0) {
		sp_db_rollback(st->db);
		return SP_ERR_SYSTEM;
	}
	while (r == SP_OK && (rc = sp_db_step(s)) == SP_DB_ROW) {
		r = store_for_bundle(st, sp_db_column_text(s, 0), pem,
		    source, &any, why, sizeof(why));
		if (r == SP_ERR_CONFIG) {
			r = SP_OK;      /* another bundle's CA: not this one */
			continue;
		}
		matched = true;
		*stored |= any;
	}
	sp_db_finalize(s);
	if (r == SP_OK && !matched) {
		snprintf(err, errlen, "%s", why[0] != '\0' && strstr(why, "signed") == NULL ?
		    why : "crl: not signed by a CA of any partner's or route's ca_bundle");
		r = SP_ERR_CONFIG;
	}
	if (r == SP_OK && *stored)
		r = sp_store_bump(st, rev);
	else if (r == SP_OK)
		r = sp_store_revision(st, rev);
	if (r != SP_OK || sp_db_commit(st->db) != 0) {
		sp_db_rollback(st->db);
		return r != SP_OK ? r : SP_ERR_SYSTEM;
	}
	return SP_OK;
}

static json_object *
time_json(struct sp_db_stmt *s, int col)
{
	char t[21];

	if (sp_db_column_null(s, col))
		return NULL;
	sp_crl_time((time_t)sp_db_column_int64(s, col), t);
	return json_object_new_string(t);
}

int
sp_store_crls(struct sp_store *st, json_object **out)
{
	struct sp_db_stmt *s;
	json_object *a, *o;
	int rc;

	*out = NULL;
	if ((a = json_object_new_array()) == NULL)
		return SP_ERR_NOMEM;
	if (sp_db_prepare(st->db, "SELECT bundle, issuer_text, this_update, "
	    "next_update, number, source, received FROM crls ORDER BY bundle, "
	    "issuer_text", &s) != 0) {
		json_object_put(a);
		return SP_ERR_SYSTEM;
	}
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		if ((o = json_object_new_object()) == NULL)
			break;
		json_object_object_add(o, "ca_bundle_sha256", json_object_new_string(
		    sp_db_column_text(s, 0)));
		json_object_object_add(o, "issuer", json_object_new_string(
		    sp_db_column_text(s, 1)));
		json_object_object_add(o, "this_update", time_json(s, 2));
		json_object_object_add(o, "next_update", time_json(s, 3));
		json_object_object_add(o, "number", sp_db_column_null(s, 4) ?
		    NULL : json_object_new_int64(sp_db_column_int64(s, 4)));
		json_object_object_add(o, "source", json_object_new_string(
		    sp_db_column_text(s, 5)));
		json_object_object_add(o, "received", json_object_new_string(
		    sp_db_column_text(s, 6)));
		json_object_array_add(a, o);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_DONE) {
		json_object_put(a);
		return SP_ERR_SYSTEM;
	}
	*out = a;
	return SP_OK;
}

/* tls.crl, tls.crl_urls and tls.crl_expired of one tls object. */
static int
decorate(struct sp_db_stmt *pol, struct sp_db_stmt *crl, json_object *tls)
{
	json_object *ca, *urls = NULL;
	char id[65], *all = NULL;
	size_t len = 0;
	bool fail_open = false;
	int rc;

	if (tls == NULL || !json_object_object_get_ex(tls, "ca_bundle", &ca) ||
	    !json_object_is_type(ca, json_type_string))
		return SP_OK;
	if (sp_site_bundle_id(json_object_get_string(ca), id) != 0)
		return SP_ERR_NOMEM;
	sp_db_reset(pol);
	sp_db_bind_text(pol, 1, id);
	if ((rc = sp_db_step(pol)) == SP_DB_ROW) {
		urls = json_tokener_parse(sp_db_column_text(pol, 0));
		fail_open = sp_db_column_int(pol, 1) != 0;
	} else if (rc != SP_DB_DONE) {
		return SP_ERR_SYSTEM;
	}
	sp_db_reset(crl);
	sp_db_bind_text(crl, 1, id);
	while ((rc = sp_db_step(crl)) == SP_DB_ROW) {
		const char *p = sp_db_column_text(crl, 0);
		size_t n = strlen(p);
		char *na = realloc(all, len + n + 2);

		if (na == NULL) {
			free(all);
			json_object_put(urls);
			return SP_ERR_NOMEM;
		}
		all = na;
		memcpy(all + len, p, n);
		len += n;
		if (n > 0 && p[n - 1] != '\n')
			all[len++] = '\n';
		all[len] = '\0';
	}
	json_object_object_add(tls, "crl", all ? json_object_new_string(all) : NULL);
	json_object_object_add(tls, "crl_urls", urls ? urls : json_object_new_array());
	json_object_object_add(tls, "crl_expired",
	    json_object_new_string(fail_open ? "fail_open" : "fail_closed"));
	free(all);
	return rc == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

int
sp_store_render_revocation(struct sp_store *st, json_object *routes,
    json_object *partners)
{
	struct sp_db_stmt *pol = NULL, *crl = NULL;
	json_object *tls;
	size_t i;
	int r = SP_OK;

	if (sp_db_prepare(st->db, "SELECT urls, fail_open FROM revocation "
	    "WHERE bundle = ?1", &pol) != 0 ||
	    sp_db_prepare(st->db, "SELECT pem FROM crls WHERE bundle = ?1 "
	    "ORDER BY issuer", &crl) != 0) {
		sp_db_finalize(pol);
		return SP_ERR_SYSTEM;
	}
	for (i = 0; r == SP_OK && i < json_object_array_length(routes); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(routes, i),
		    "tls", &tls))
			r = decorate(pol, crl, tls);
	for (i = 0; r == SP_OK && i < json_object_array_length(partners); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(partners, i),
		    "tls", &tls))
			r = decorate(pol, crl, tls);
	sp_db_finalize(pol);
	sp_db_finalize(crl);
	return r;
}
