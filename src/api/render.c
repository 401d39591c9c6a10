/*
 * render.c - the runtime configuration document of docs/api.md 4.2, and the
 * partner and rule objects of the API, built from the store's tables.
 * Every member the document lists is always present (null where allowed),
 * so consumers never guess defaults.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/db.h"

#include "api/store.h"
#include "api/store_int.h"
#include "core/err.h"

/* Column text as a JSON string, or JSON null. */
static json_object *
col_str(struct sp_db_stmt *s, int i)
{
	const char *t = sp_db_column_text(s, i);

	return t ? json_object_new_string((const char *)t) : NULL;
}

static json_object *
col_bool(struct sp_db_stmt *s, int i)
{
	return json_object_new_boolean(sp_db_column_int(s, i) != 0);
}

/* A JSON array stored as text (pins, networks); [] when unreadable. */
static json_object *
col_array(struct sp_db_stmt *s, int i)
{
	const char *t = sp_db_column_text(s, i);
	json_object *o = t ? json_tokener_parse(t) : NULL;

	if (o == NULL || !json_object_is_type(o, json_type_array)) {
		json_object_put(o);
		return json_object_new_array();
	}
	return o;
}

#define PARTNER_COLS "odette_id, description, password_hash, networks, " \
	"require_client_cert, pins, ca_bundle, max_sessions, enabled, " \
	"valid_from, valid_until, cert_bind, cert_bind_dn"

static json_object *
partner_row(struct sp_db_stmt *s)
{
	json_object *p = json_object_new_object(), *tls = json_object_new_object();

	if (p == NULL || tls == NULL) {
		json_object_put(p);
		json_object_put(tls);
		return NULL;
	}
	json_object_object_add(p, "odette_id", col_str(s, 0));
	json_object_object_add(p, "description", col_str(s, 1));
	json_object_object_add(p, "password_hash", col_str(s, 2));
	json_object_object_add(p, "allowed_networks", col_array(s, 3));
	json_object_object_add(tls, "require_client_cert", col_bool(s, 4));
	json_object_object_add(tls, "pins", col_array(s, 5));
	json_object_object_add(tls, "ca_bundle", col_str(s, 6));
	/* NULL is the default binding, shown as what it is. */
	json_object_object_add(tls, "bind", sp_db_column_null(s, 11) ?
	    json_object_new_string("cn") : col_str(s, 11));
	json_object_object_add(tls, "bind_dn", col_str(s, 12));
	json_object_object_add(p, "tls", tls);
	json_object_object_add(p, "max_sessions",
	    json_object_new_int64(sp_db_column_int64(s, 7)));
	json_object_object_add(p, "enabled", col_bool(s, 8));
	json_object_object_add(p, "valid_from", col_str(s, 9));
	json_object_object_add(p, "valid_until", col_str(s, 10));
	return p;
}

#define RULE_COLS "id, description, match_text, valid_from, valid_until"

static json_object *
rule_row(struct sp_db_stmt *s)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id",
	    json_object_new_int64(sp_db_column_int64(s, 0)));
	json_object_object_add(o, "description", col_str(s, 1));
	json_object_object_add(o, "match", col_str(s, 2));
	json_object_object_add(o, "valid_from", col_str(s, 3));
	json_object_object_add(o, "valid_until", col_str(s, 4));
	return o;
}

static json_object *
listener_row(struct sp_db_stmt *s)
{
	json_object *l = json_object_new_object(), *tls = NULL;

	if (l == NULL)
		return NULL;
	json_object_object_add(l, "name", col_str(s, 0));
	json_object_object_add(l, "address", col_str(s, 1));
	if (sp_db_column_int(s, 2)) {
		if ((tls = json_object_new_object()) == NULL) {
			json_object_put(l);
			return NULL;
		}
		json_object_object_add(tls, "certificate_chain", col_str(s, 3));
		/* No key in the store: it stays with the client (key: inside). */
		if (sp_db_column_null(s, 4))
			json_object_object_add(tls, "key", json_object_new_string("inside"));
		else
			json_object_object_add(tls, "private_key", col_str(s, 4));
		json_object_object_add(tls, "require_client_cert", col_bool(s, 5));
		/* Ask for a certificate when the listener or any partner wants one. */
		json_object_object_add(tls, "request_client_cert",
		    json_object_new_boolean(sp_db_column_int(s, 5) ||
		    sp_db_column_int(s, 6)));
	}
	json_object_object_add(l, "tls", tls);
	if (!sp_db_column_null(s, 7)) {
		json_object *pp = json_object_new_object();

		if (pp == NULL) {
			json_object_put(l);
			return NULL;
		}
		json_object_object_add(pp, "trusted", col_array(s, 7));
		json_object_object_add(l, "proxy_protocol", pp);
	} else
		json_object_object_add(l, "proxy_protocol", NULL);
	return l;
}

static json_object *
route_row(struct sp_db_stmt *s)
{
	json_object *r = json_object_new_object(), *tls = NULL;

	if (r == NULL)
		return NULL;
	json_object_object_add(r, "name", col_str(s, 0));
	json_object_object_add(r, "client_listen", col_str(s, 1));
	json_object_object_add(r, "partner_odette_id", col_str(s, 2));
	json_object_object_add(r, "partner_address", col_str(s, 3));
	json_object_object_add(r, "source_address", col_str(s, 4));
	if (sp_db_column_int(s, 5)) {
		if ((tls = json_object_new_object()) == NULL) {
			json_object_put(r);
			return NULL;
		}
		json_object_object_add(tls, "ca_bundle", col_str(s, 6));
		json_object_object_add(tls, "pins", col_array(s, 7));
		json_object_object_add(tls, "client_certificate_chain",
		    col_str(s, 8));
		json_object_object_add(tls, "client_private_key", col_str(s, 9));
	}
	json_object_object_add(r, "tls", tls);
	return r;
}

typedef json_object *(*row_fn)(struct sp_db_stmt *);

/* All rows of `sql` (with optional text / int parameter) as an array. */
static int
query_array(struct sp_store *st, const char *sql, const char *textarg,
    const int64_t *intarg, row_fn fn, json_object **out)
{
	struct sp_db_stmt *s;
	json_object *a, *o;
	int rc, r = SP_OK;

	*out = NULL;
	if (sp_db_prepare(st->db, sql, &s) != 0)
		return SP_ERR_SYSTEM;
	if ((textarg && sp_db_bind_text(s, 1, textarg) !=
	    0) || (intarg && sp_db_bind_int64(s, 1, *intarg) !=
	    0)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((a = json_object_new_array()) == NULL) {
		sp_db_finalize(s);
		return SP_ERR_NOMEM;
	}
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		if ((o = fn(s)) == NULL) {
			r = SP_ERR_NOMEM;
			break;
		}
		json_object_array_add(a, o);
	}
	if (r == SP_OK && rc != SP_DB_DONE)
		r = SP_ERR_SYSTEM;
	sp_db_finalize(s);
	if (r != SP_OK) {
		json_object_put(a);
		return r;
	}
	*out = a;
	return SP_OK;
}

int
sp_store_partners(struct sp_store *st, json_object **arr)
{
	return query_array(st, "SELECT " PARTNER_COLS " FROM partners "
	    "ORDER BY rowid", NULL, NULL, partner_row, arr);
}

/* The one element of a one-row query, or SP_ERR_NOT_FOUND. */
static int
single(int r, json_object *a, json_object **obj)
{
	*obj = NULL;
	if (r != 0)
		return r;
	if (json_object_array_length(a) != 1) {
		json_object_put(a);
		return SP_ERR_NOT_FOUND;
	}
	*obj = json_object_get(json_object_array_get_idx(a, 0));
	json_object_put(a);
	return SP_OK;
}

int
sp_store_partner_get(struct sp_store *st, const char *odette_id,
    json_object **obj)
{
	json_object *a = NULL;
	int r = query_array(st, "SELECT " PARTNER_COLS " FROM partners "
	    "WHERE odette_id = ?1", odette_id, NULL, partner_row, &a);

	return single(r, a, obj);
}

int
sp_store_rules(struct sp_store *st, json_object **arr)
{
	return query_array(st, "SELECT " RULE_COLS " FROM rules ORDER BY id",
	    NULL, NULL, rule_row, arr);
}

int
sp_store_rule_get(struct sp_store *st, int64_t id, json_object **obj)
{
	json_object *a = NULL;
	int r = query_array(st, "SELECT " RULE_COLS " FROM rules WHERE id = ?1",
	    NULL, &id, rule_row, &a);

	return single(r, a, obj);
}

/* modules: stored sections, with partners and rules filled in. */
static int
render_modules(struct sp_store *st, json_object *partners, json_object *rules,
    json_object **out)
{
	struct sp_db_stmt *s;
	json_object *mods, *sec;
	int rc;

	if ((mods = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	if (sp_db_prepare(st->db, "SELECT name, section FROM modules "
	    "ORDER BY name", &s) != 0) {
		json_object_put(mods);
		return SP_ERR_SYSTEM;
	}
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		sec = json_tokener_parse(sp_db_column_text(s, 1));
		if (sec == NULL || !json_object_is_type(sec, json_type_object)) {
			json_object_put(sec);
			sec = json_object_new_object();
		}
		json_object_object_add(mods,
		    sp_db_column_text(s, 0), sec);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_DONE) {
		json_object_put(mods);
		return SP_ERR_SYSTEM;
	}
	if (!json_object_object_get_ex(mods, "partner", &sec)) {
		sec = json_object_new_object();
		json_object_object_add(mods, "partner", sec);
	}
	json_object_object_add(sec, "partners", json_object_get(partners));
	if (!json_object_object_get_ex(mods, "log_ignore", &sec)) {
		sec = json_object_new_object();
		json_object_object_add(mods, "log_ignore", sec);
	}
	json_object_object_add(sec, "rules", json_object_get(rules));
	*out = mods;
	return SP_OK;
}

static int
render_limits(struct sp_store *st, json_object **out)
{
	struct sp_db_stmt *s;
	json_object *o;
	size_t i;
	int r = SP_OK;

	if ((o = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < SP_LIMIT_COUNT && r == SP_OK; i++) {
		int64_t v = sp_limit_defs[i].def;

		if (sp_db_prepare(st->db, "SELECT value FROM limits "
		    "WHERE name = ?1", &s) != 0) {
			r = SP_ERR_SYSTEM;
			break;
		}
		sp_db_bind_text(s, 1, sp_limit_defs[i].name);
		if (sp_db_step(s) == SP_DB_ROW)
			v = sp_db_column_int64(s, 0);
		sp_db_finalize(s);
		json_object_object_add(o, sp_limit_defs[i].name,
		    json_object_new_int64(v));
	}
	if (r != SP_OK) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return SP_OK;
}

static int
render_locked(struct sp_store *st, json_object *doc, int64_t *rev)
{
	json_object *ls = NULL, *routes = NULL, *partners = NULL, *rules = NULL,
	    *limits = NULL, *mods = NULL;
	struct sp_db_stmt *s;
	int r;

	if (sp_db_prepare(st->db, "SELECT revision, generated, "
	    "outgoing_source FROM state WHERE id = 1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_step(s) != SP_DB_ROW) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	*rev = sp_db_column_int64(s, 0);
	json_object_object_add(doc, "api_version", json_object_new_int(1));
	json_object_object_add(doc, "revision", json_object_new_int64(*rev));
	json_object_object_add(doc, "generated", col_str(s, 1));
	/* Optional member: absent while the site sets no default. */
	if (!sp_db_column_null(s, 2)) {
		json_object *og = json_object_new_object();

		if (og == NULL) {
			sp_db_finalize(s);
			return SP_ERR_NOMEM;
		}
		json_object_object_add(og, "source_address", col_str(s, 2));
		json_object_object_add(doc, "outgoing", og);
	}
	sp_db_finalize(s);

	if ((r = query_array(st, "SELECT name, address, tls, chain_pem, key_pem, "
	    "require_client_cert, EXISTS (SELECT 1 FROM partners WHERE "
	    "require_client_cert <> 0 AND enabled <> 0), proxy_trusted FROM listeners "
	    "ORDER BY pos",
	    NULL, NULL, listener_row, &ls)) != 0 ||
	    (r = query_array(st, "SELECT name, client_listen, partner_odette_id, "
	    "partner_address, source_address, tls, ca_bundle, pins, "
	    "client_chain, client_key FROM routes ORDER BY pos", NULL, NULL,
	    route_row, &routes)) != 0 ||
	    (r = sp_store_partners(st, &partners)) != 0 ||
	    (r = sp_store_rules(st, &rules)) != 0 ||
	    (r = render_limits(st, &limits)) != 0 ||
	    (r = sp_store_render_revocation(st, routes, partners)) != 0 ||
	    (r = render_modules(st, partners, rules, &mods)) != 0)
		goto out;
	json_object_object_add(doc, "listeners", json_object_get(ls));
	json_object_object_add(doc, "routes", json_object_get(routes));
	json_object_object_add(doc, "limits", json_object_get(limits));
	json_object_object_add(doc, "modules", json_object_get(mods));
out:
	json_object_put(ls);
	json_object_put(routes);
	json_object_put(partners);
	json_object_put(rules);
	json_object_put(limits);
	json_object_put(mods);
	return r;
}

int
sp_store_render(struct sp_store *st, json_object **out, int64_t *rev)
{
	json_object *doc;
	int r;

	*out = NULL;
	if ((doc = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	/* One read transaction: the revision matches what is rendered. */
	if (sp_db_begin_read(st->db) != 0) {
		json_object_put(doc);
		return SP_ERR_SYSTEM;
	}
	r = render_locked(st, doc, rev);
	sp_db_commit(st->db);
	if (r != 0) {
		json_object_put(doc);
		return r;
	}
	*out = doc;
	return SP_OK;
}
