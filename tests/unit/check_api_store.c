/*
 * check_api_store.c - unit tests of smartproxy-api's SQLite store and the
 * rendering of the runtime configuration document: a fresh database is
 * created 0600 at revision 0; an import and every partner or rule change
 * bump the revision; the rendered JSON carries every documented field.
 */
#include "config.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/pwhash.h"
#include "api/site.h"
#include "api/store_ops.h"
#include "api/store.h"
#include "core/err.h"

static char dir[64], dbpath[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_api_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/api.db", dir);
}

static void
teardown(void)
{
	char p[160];

	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-journal", dbpath);
	unlink(p);
	rmdir(dir);
}

static int
mem_read(const char *path, char **out, char *why, size_t whylen)
{
	*out = strdup(strstr(path, "key") ?
	    "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n" :
	    "-----BEGIN CERTIFICATE-----\nc/d\n-----END CERTIFICATE-----\n");
	return *out ? SP_OK : SP_ERR_NOMEM;
}

static const char SITE[] =
	"listeners:\n"
	"  - name: tls\n"
	"    address: \"0.0.0.0:6619\"\n"
	"    tls: {certificate_chain: c.pem, private_key: key.pem}\n"
	"  - name: plain\n"
	"    address: \"0.0.0.0:3305\"\n"
	"    proxy_protocol: {trusted: [10.0.0.10, 10.1.0.0/16]}\n"
	"partners:\n"
	"  - odette_id: O0013000000ACME\n"
	"    password: SECRET1\n"
	"    allowed_networks: [198.51.100.0/24]\n"
	"    tls: {require_client_cert: true, ca_bundle: ca.pem}\n"
	"routes:\n"
	"  - name: out\n"
	"    client_listen: \"127.0.0.1:13305\"\n"
	"    partner_odette_id: O0013000000ACME\n"
	"    partner_address: \"198.51.100.7:6619\"\n"
	"log_ignore:\n"
	"  - {description: d, match: m}\n"
	"modules:\n"
	"  partner: {strict: true}\n"
	"  oftp2: {x: 1}\n";

static void
load_site(struct sp_site *s)
{
	const struct sp_site_opts o = { .basedir = "/x", .read_file = mem_read,
	    .pbkdf2_iterations = 1 };
	char err[512] = "";

	ck_assert_msg(sp_site_parse("site.yaml", SITE, strlen(SITE), &o, s, err,
	    sizeof(err)) == 0, "%s", err);
}

static json_object *
path(json_object *o, const char *p)
{
	char buf[128], *tok, *save = NULL;
	json_object *v = o;

	snprintf(buf, sizeof(buf), "%s", p);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && v != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		if (*tok >= '0' && *tok <= '9')
			v = json_object_array_get_idx(v, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(v, tok, &v))
			return NULL;
	}
	return v;
}

START_TEST(fresh_database)
{
	struct sp_store *st;
	struct stat sb;
	json_object *doc;
	int64_t rev = -1;
	char err[256];

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_int_eq(rev, 0);
	ck_assert_str_eq(json_object_to_json_string_ext(path(doc, "listeners"),
	    JSON_C_TO_STRING_PLAIN), "[]");
	ck_assert_str_eq(json_object_to_json_string_ext(path(doc, "modules"),
	    JSON_C_TO_STRING_PLAIN),
	    "{\"partner\":{\"partners\":[]},\"log_ignore\":{\"rules\":[]}}");
	ck_assert_int_eq(json_object_get_int(path(doc, "limits.max_sessions")),
	    1000);
	json_object_put(doc);
	sp_store_close(st);
	/* Reopening keeps the data and the schema version. */
	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(sp_store_revision(st, &rev), 0);
	ck_assert_int_eq(rev, 0);
	sp_store_close(st);
}
END_TEST

START_TEST(import_and_render)
{
	struct sp_store *st;
	struct sp_site s;
	json_object *doc;
	int64_t rev;
	char err[256];

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	load_site(&s);
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(rev, 1);
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(rev, 2);
	sp_site_free(&s);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_int_eq(json_object_get_int(path(doc, "revision")), 2);
	ck_assert_int_eq(json_object_get_int(path(doc, "api_version")), 1);
	ck_assert_uint_eq(strlen(json_object_get_string(path(doc, "generated"))),
	    20);
	ck_assert_str_eq(json_object_get_string(path(doc, "listeners.0.name")),
	    "tls");
	ck_assert(json_object_get_boolean(path(doc,
	    "listeners.0.tls.request_client_cert")));
	ck_assert(!json_object_get_boolean(path(doc,
	    "listeners.0.tls.require_client_cert")));
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "listeners.0.tls.certificate_chain")),
	    "-----BEGIN CERTIFICATE-----\nc/d\n-----END CERTIFICATE-----\n");
	ck_assert(json_object_is_type(path(doc, "listeners.1"),
	    json_type_object));
	ck_assert(json_object_object_get_ex(path(doc, "listeners.1"), "tls",
	    NULL));
	ck_assert_ptr_null(path(doc, "listeners.1.tls"));
	/* PROXY protocol: null where not set, the normalised networks where set. */
	ck_assert(json_object_object_get_ex(path(doc, "listeners.0"),
	    "proxy_protocol", NULL));
	ck_assert_ptr_null(path(doc, "listeners.0.proxy_protocol"));
	ck_assert_str_eq(json_object_to_json_string_ext(path(doc,
	    "listeners.1.proxy_protocol.trusted"), JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "[\"10.0.0.10/32\",\"10.1.0.0/16\"]");
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.odette_id")), "O0013000000ACME");
	ck_assert_int_eq(sp_pwhash_verify("SECRET1", 7, json_object_get_string(
	    path(doc, "modules.partner.partners.0.password_hash"))), 0);
	ck_assert(json_object_get_boolean(path(doc,
	    "modules.partner.strict")));
	ck_assert_ptr_null(path(doc, "routes.0.source_address"));
	/* No outgoing defaults in the site: the optional member is absent. */
	ck_assert(!json_object_object_get_ex(doc, "outgoing", NULL));
	ck_assert_ptr_null(path(doc, "routes.0.tls"));
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.log_ignore.rules.0.match")), "m");
	ck_assert_int_eq(json_object_get_int(path(doc, "modules.oftp2.x")), 1);
	/* The document itself: no escaped slashes, no clear password. */
	ck_assert_ptr_null(strstr(json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), "SECRET1"));
	json_object_put(doc);
	sp_store_close(st);
}
END_TEST

START_TEST(partners_and_rules)
{
	struct sp_store *st;
	struct sp_site s;
	struct sp_site_partner p;
	struct sp_site_rule ru = { "why", "text", NULL, "2030-01-01T00:00:00Z" };
	json_object *arr, *o;
	int64_t rev, id;
	char err[256], hash[SP_PWHASH_TEXT_MAX];

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	load_site(&s);
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	sp_site_free(&s);

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(sp_pwhash_make("PW", 2, 1, hash, sizeof(hash)), 0);
	p.odette_id = "O0013000000NEW";
	p.description = "";
	p.password_hash = hash;
	p.enabled = true;
	ck_assert_int_eq(sp_store_partner_add(st, &p, &rev), 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_int_eq(sp_store_partner_add(st, &p, &rev), SP_ERR_EXISTS);
	ck_assert_int_eq(sp_store_revision(st, &rev), 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_int_eq(sp_store_partner_set_enabled(st, "O0013000000NEW",
	    false, &rev), 0);
	ck_assert_int_eq(rev, 3);
	ck_assert_int_eq(sp_store_partner_set_enabled(st, "NOPE", false, &rev),
	    SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_store_partner_get(st, "O0013000000NEW", &o), 0);
	ck_assert(!json_object_get_boolean(path(o, "enabled")));
	ck_assert_str_eq(json_object_to_json_string_ext(path(o,
	    "allowed_networks"), JSON_C_TO_STRING_PLAIN), "[]");
	json_object_put(o);
	ck_assert_int_eq(sp_store_partners(st, &arr), 0);
	ck_assert_uint_eq(json_object_array_length(arr), 2);
	json_object_put(arr);

	/* Replace: every field but the ODETTE ID, one revision; unknown: 404. */
	p.description = "changed";
	p.max_sessions = 7;
	p.valid_until = "2031-01-01T00:00:00Z";
	ck_assert_int_eq(sp_store_partner_replace(st, &p, &rev), 0);
	ck_assert_int_eq(rev, 4);
	ck_assert_int_eq(sp_store_partner_get(st, "O0013000000NEW", &o), 0);
	ck_assert_str_eq(json_object_get_string(path(o, "description")),
	    "changed");
	ck_assert_int_eq(json_object_get_int(path(o, "max_sessions")), 7);
	ck_assert(json_object_get_boolean(path(o, "enabled")));
	ck_assert_str_eq(json_object_get_string(path(o, "valid_until")),
	    "2031-01-01T00:00:00Z");
	json_object_put(o);
	p.odette_id = "NOPE";
	ck_assert_int_eq(sp_store_partner_replace(st, &p, &rev),
	    SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_store_revision(st, &rev), 0);
	ck_assert_int_eq(rev, 4);

	ck_assert_int_eq(sp_store_rule_add(st, &ru, &id, &rev), 0);
	ck_assert_int_eq(rev, 5);
	ck_assert_int_eq(sp_store_rule_get(st, id, &o), 0);
	ck_assert_str_eq(json_object_get_string(path(o, "valid_until")),
	    "2030-01-01T00:00:00Z");
	ck_assert_ptr_null(path(o, "valid_from"));
	json_object_put(o);
	ck_assert_int_eq(sp_store_rule_remove(st, id, &rev), 0);
	ck_assert_int_eq(rev, 6);
	ck_assert_int_eq(sp_store_rule_remove(st, id, &rev), SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_store_rule_get(st, id, &o), SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_store_rules(st, &arr), 0);
	ck_assert_uint_eq(json_object_array_length(arr), 1);
	json_object_put(arr);
	sp_store_close(st);
}
END_TEST

/*
 * A merge import keeps what the API added and updates what the site names;
 * re-importing the same file adds no rule twice; a replace drops the rest.
 * Removing a partner a route names is refused.
 */
START_TEST(merge_replace_remove)
{
	struct sp_store *st;
	struct sp_site s;
	struct sp_site_partner p;
	struct sp_store_import_stats stx;
	struct sp_site_rule ru = { "api rule", "text", NULL, NULL };
	json_object *arr, *doc;
	int64_t rev, id;
	char err[256], hash[SP_PWHASH_TEXT_MAX], bak[160];
	struct stat sb;

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	load_site(&s);
	ck_assert_int_eq(sp_store_import(st, &s, false, &stx, &rev), 0);
	ck_assert_uint_eq(stx.partners.created, 1);
	ck_assert_uint_eq(stx.listeners.created, 2);
	ck_assert_uint_eq(stx.rules.created, 1);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(sp_pwhash_make("PW", 2, 1, hash, sizeof(hash)), 0);
	p.odette_id = "O0013000000NEW";
	p.description = "";
	p.password_hash = hash;
	p.enabled = true;
	ck_assert_int_eq(sp_store_partner_add(st, &p, &rev), 0);
	ck_assert_int_eq(sp_store_rule_add(st, &ru, &id, &rev), 0);
	/* The site changes a limit and the partner's description. */
	s.limits[SP_LIMIT_MAX_SESSIONS] = 77;
	s.limits_given = 1u << SP_LIMIT_MAX_SESSIONS;
	free(s.partners[0].description);
	s.partners[0].description = strdup("merged");
	ck_assert_int_eq(sp_store_import(st, &s, false, &stx, &rev), 0);
	ck_assert_uint_eq(stx.partners.created, 0);
	ck_assert_uint_eq(stx.partners.updated, 1);
	ck_assert_uint_eq(stx.rules.created, 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_uint_eq(json_object_array_length(path(doc,
	    "modules.partner.partners")), 2);
	ck_assert_uint_eq(json_object_array_length(path(doc,
	    "modules.log_ignore.rules")), 2);
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.description")), "merged");
	ck_assert_int_eq(json_object_get_int(path(doc, "limits.max_sessions")),
	    77);
	json_object_put(doc);

	/* The update path writes proxy_protocol too: moved from the second
	 * listener to the first, the merge leaves it on the first only. */
	s.listeners[0].proxy_protocol = true;
	s.listeners[0].proxy_trusted = s.listeners[1].proxy_trusted;
	s.listeners[1].proxy_protocol = false;
	ck_assert_int_eq(sp_store_import(st, &s, false, &stx, &rev), 0);
	ck_assert_uint_eq(stx.listeners.updated, 2);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(path(doc,
	    "listeners.0.proxy_protocol.trusted"), JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE),
	    "[\"10.0.0.10/32\",\"10.1.0.0/16\"]");
	ck_assert_ptr_null(path(doc, "listeners.1.proxy_protocol"));
	json_object_put(doc);
	s.listeners[1].proxy_protocol = true;
	s.listeners[0].proxy_protocol = false;
	memset(&s.listeners[0].proxy_trusted, 0, sizeof(s.listeners[0].proxy_trusted));

	/* A backup is a private copy that opens as a store. */
	snprintf(bak, sizeof(bak), "%s/backup.db", dir);
	ck_assert_int_eq(sp_store_backup(st, bak, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(bak, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_ne(sp_store_backup(st, bak, err, sizeof(err)), 0);

	/* Remove: a routed partner is refused, an unrouted one goes. */
	ck_assert_int_eq(sp_store_partner_remove(st, "O0013000000ACME", &rev),
	    SP_ERR_EXISTS);
	ck_assert_int_eq(sp_store_partner_remove(st, "O0013000000NEW", &rev), 0);
	ck_assert_int_eq(sp_store_partner_remove(st, "O0013000000NEW", &rev),
	    SP_ERR_NOT_FOUND);

	/* Replace: only the site's entries are left. */
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_rules(st, &arr), 0);
	ck_assert_uint_eq(json_object_array_length(arr), 1);
	json_object_put(arr);
	sp_site_free(&s);
	sp_store_close(st);
	{
		struct sp_store *b;

		ck_assert_int_eq(sp_store_open(bak, &b, err, sizeof(err)), 0);
		ck_assert_int_eq(sp_store_partners(b, &arr), 0);
		ck_assert_uint_eq(json_object_array_length(arr), 2);
		json_object_put(arr);
		sp_store_close(b);
	}
	unlink(bak);
}
END_TEST

/* The site's outgoing.source_address reaches the document; none: absent. */
START_TEST(outgoing_defaults)
{
	struct sp_store *st;
	struct sp_site s;
	json_object *doc;
	int64_t rev;
	char err[256];

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	load_site(&s);
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_ptr_nonnull(s.outgoing_source = strdup("192.0.2.10"));
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_str_eq(json_object_to_json_string_ext(path(doc, "outgoing"),
	    JSON_C_TO_STRING_PLAIN), "{\"source_address\":\"192.0.2.10\"}");
	/* The route keeps its own null: the server applies the default. */
	ck_assert(json_object_object_get_ex(path(doc, "routes.0"),
	    "source_address", NULL));
	ck_assert_ptr_null(path(doc, "routes.0.source_address"));
	json_object_put(doc);
	/* A later import without it drops it. */
	free(s.outgoing_source);
	s.outgoing_source = NULL;
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert(!json_object_object_get_ex(doc, "outgoing", NULL));
	json_object_put(doc);
	sp_site_free(&s);
	sp_store_close(st);
}
END_TEST

static int
user_version(const char *file)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s,
	    NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* revocation[]: --replace starts from none, a merge keeps the entries of
 * bundles the file does not name. */
START_TEST(revocation_merge)
{
	struct sp_store *st;
	struct sp_site s, none;
	json_object *doc;
	int64_t rev;
	char err[256];

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	load_site(&s);
	ck_assert_ptr_nonnull(s.revocations = calloc(1, sizeof(*s.revocations)));
	s.nrevocations = 1;
	ck_assert_ptr_nonnull(s.revocations[0].ca_bundle =
	    strdup(s.partners[0].ca_bundle));
	s.revocations[0].fail_open = true;
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.tls.crl_expired")), "fail_open");
	json_object_put(doc);
	/* The same site without the section, merged: the entry stays. */
	load_site(&none);
	ck_assert_int_eq(sp_store_import(st, &none, false, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.tls.crl_expired")), "fail_open");
	json_object_put(doc);
	/* ...replaced: gone, the default policy again. */
	ck_assert_int_eq(sp_store_import(st, &none, true, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.tls.crl_expired")), "fail_closed");
	json_object_put(doc);
	sp_site_free(&none);
	sp_site_free(&s);
	sp_store_close(st);
}
END_TEST

/*
 * A version-2 database (as the previous release left it: no outgoing
 * column, no certificate binding, no revocation, no PROXY protocol column,
 * no per-node status) is upgraded in place on open, keeping its data and
 * revision.
 */
START_TEST(upgrade_from_v2)
{
	struct sp_store *st;
	struct sp_site s;
	sqlite3 *db;
	json_object *doc;
	int64_t rev;
	char err[256];

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	load_site(&s);
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	sp_store_close(st);
	ck_assert_int_eq(SP_STORE_SCHEMA_VERSION, 8);
	ck_assert_int_eq(user_version(dbpath), SP_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE state DROP COLUMN "
	    "outgoing_source; ALTER TABLE partners DROP COLUMN cert_bind; "
	    "ALTER TABLE partners DROP COLUMN cert_bind_dn; "
	    "DROP TABLE revocation; DROP TABLE crls; "
	    "ALTER TABLE listeners DROP COLUMN proxy_trusted; "
	    "DROP TABLE node_status; ALTER TABLE events DROP COLUMN node; "
	    "DROP TABLE event_claims; "
	    "PRAGMA user_version = 2", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(user_version(dbpath), 2);

	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(user_version(dbpath), SP_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_int_eq(rev, 1);
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.odette_id")), "O0013000000ACME");
	/* Version 4: partners of before bind by the CN, the default. */
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "modules.partner.partners.0.tls.bind")), "cn");
	ck_assert(!json_object_object_get_ex(doc, "outgoing", NULL));
	json_object_put(doc);
	ck_assert_ptr_nonnull(s.outgoing_source = strdup("2001:db8::10"));
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_str_eq(json_object_get_string(path(doc,
	    "outgoing.source_address")), "2001:db8::10");
	json_object_put(doc);
	sp_store_close(st);

	/* A version-5 database (CRLs, no PROXY protocol, no node status, no
	 * event nodes, no event claims) gets the current version on open; the
	 * next import writes proxy_protocol again. */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE listeners DROP COLUMN "
	    "proxy_trusted; DROP TABLE node_status; ALTER TABLE events DROP "
	    "COLUMN node; DROP TABLE event_claims; PRAGMA user_version = 5",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(user_version(dbpath), SP_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(sp_store_import(st, &s, true, NULL, &rev), 0);
	ck_assert_int_eq(sp_store_render(st, &doc, &rev), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(path(doc,
	    "listeners.1.proxy_protocol.trusted"), JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "[\"10.0.0.10/32\",\"10.1.0.0/16\"]");
	json_object_put(doc);
	sp_site_free(&s);
	sp_store_close(st);

	/* A version-6 database (before event nodes and PostgreSQL) gets
	 * events.node and event_claims: a claim holds against another
	 * instance until it expires. */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE event_claims; "
	    "ALTER TABLE events DROP COLUMN node; "
	    "PRAGMA user_version = 6", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(user_version(dbpath), SP_STORE_SCHEMA_VERSION);
	{
		bool won;

		ck_assert_int_eq(sp_store_event_claim(st, "k1", "a", 1000, 2000,
		    &won), 0);
		ck_assert(won);
		ck_assert_int_eq(sp_store_event_claim(st, "k1", "b", 1500, 2500,
		    &won), 0);
		ck_assert(!won);
		ck_assert_int_eq(sp_store_event_claim(st, "k2", "b", 1500, 2500,
		    &won), 0);
		ck_assert(won);
		ck_assert_int_eq(sp_store_event_claim(st, "k1", "b", 2000, 3000,
		    &won), 0);
		ck_assert(won);
	}
	sp_store_close(st);

	/* A newer schema than this program's is refused, not touched. */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sp_store_open(dbpath, &st, err, sizeof(err)),
	    SP_ERR_CONFIG);
	ck_assert_ptr_null(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_store");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fresh_database);
	tcase_add_test(tc, import_and_render);
	tcase_add_test(tc, partners_and_rules);
	tcase_add_test(tc, outgoing_defaults);
	tcase_add_test(tc, merge_replace_remove);
	tcase_add_test(tc, revocation_merge);
	tcase_add_test(tc, upgrade_from_v2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
