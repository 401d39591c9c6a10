/*
 * store.c - SQLite schema, import and changes of smartproxy-api (see
 * store.h). Rendering of the configuration document is in render.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/db.h"

#include "api/store.h"
#include "api/store_int.h"
#include "api/store_ops.h"
#include "core/err.h"

static const char SCHEMA_V1[] =
	"CREATE TABLE state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  revision INTEGER NOT NULL,"
	"  generated TEXT NOT NULL);"
	"INSERT INTO state VALUES (1, 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));"
	"CREATE TABLE listeners ("
	"  pos INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  address TEXT NOT NULL, tls INTEGER NOT NULL, chain_pem TEXT,"
	"  key_pem TEXT, require_client_cert INTEGER NOT NULL);"
	"CREATE TABLE partners ("
	"  odette_id TEXT PRIMARY KEY, description TEXT NOT NULL,"
	"  password_hash TEXT NOT NULL, networks TEXT NOT NULL,"
	"  require_client_cert INTEGER NOT NULL, pins TEXT NOT NULL,"
	"  ca_bundle TEXT, max_sessions INTEGER NOT NULL,"
	"  enabled INTEGER NOT NULL, valid_from TEXT, valid_until TEXT);"
	"CREATE TABLE routes ("
	"  pos INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  client_listen TEXT NOT NULL, partner_odette_id TEXT NOT NULL,"
	"  partner_address TEXT NOT NULL, source_address TEXT,"
	"  tls INTEGER NOT NULL, ca_bundle TEXT, pins TEXT NOT NULL,"
	"  client_chain TEXT, client_key TEXT);"
	"CREATE TABLE limits (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE rules ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, description TEXT NOT NULL,"
	"  match_text TEXT NOT NULL, valid_from TEXT, valid_until TEXT);"
	"CREATE TABLE modules (name TEXT PRIMARY KEY, section TEXT NOT NULL);";

const char *
sp_store_errmsg(struct sp_store *st)
{
	return sp_db_errmsg(st->db);
}

int
sp_store_exec(struct sp_store *st, const char *sql)
{
	return sp_db_exec(st->db, sql);
}

/* Create the file ourselves so it is 0600 from its first byte. */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		return SP_ERR_SYSTEM;
	}
	close(fd);
	return SP_OK;
}

/* One step of the schema: `sql` then the version, in the open transaction. */
static int
step_to(struct sp_store *st, int have, int version, const char *sql)
{
	if (have >= version)
		return SP_OK;
	if (sp_store_exec(st, sql) != 0 ||
	    sp_db_set_schema_version(st->db, version) != 0)
		return SP_ERR_SYSTEM;
	return SP_OK;
}

/*
 * One migration list for both engines, each version its own block; the
 * whole upgrade is one write transaction, so two instances starting
 * together upgrade once.
 */
static int
migrate(struct sp_store *st, char *err, size_t errlen)
{
	int version = -1;

	if (sp_db_begin_write(st->db) != 0 ||
	    sp_db_schema_version(st->db, &version) != 0)
		goto sqlerr;
	if (version > SP_STORE_SCHEMA_VERSION) {
		sp_db_rollback(st->db);
		snprintf(err, errlen, "database schema version %d is newer than "
		    "this program's (%d)", version, SP_STORE_SCHEMA_VERSION);
		return SP_ERR_CONFIG;
	}
	if (step_to(st, version, 1, SCHEMA_V1) != 0 ||
	    /* Version 2: session audit, events, status (store_ops.c). */
	    step_to(st, version, 2, sp_store_schema_v2) != 0 ||
	    /* Version 3: the site's outgoing defaults. */
	    step_to(st, version, 3, "ALTER TABLE state ADD COLUMN "
	    "outgoing_source TEXT") != 0 ||
	    /* Version 4: what a partner's client certificate must name
	     * (tls.bind, tls.bind_dn); NULL is the default, the subject CN. */
	    step_to(st, version, 4, "ALTER TABLE partners ADD COLUMN "
	    "cert_bind TEXT; ALTER TABLE partners ADD COLUMN "
	    "cert_bind_dn TEXT") != 0 ||
	    /* Version 5: revocation per CA bundle, the CRLs kept. */
	    step_to(st, version, 5, sp_store_schema_v5) != 0 ||
	    /* Version 6: the listeners' PROXY protocol balancers (JSON array
	     * or NULL); the status of each DMZ node, by its client's token. */
	    step_to(st, version, 6, "ALTER TABLE listeners ADD COLUMN "
	    "proxy_trusted TEXT; CREATE TABLE node_status (token TEXT "
	    "PRIMARY KEY, received TEXT NOT NULL, doc TEXT NOT NULL)") != 0 ||
	    /* Version 7: the DMZ node an event came from (the token its
	     * client posted with; NULL: the backend's own, or of before). */
	    step_to(st, version, 7, "ALTER TABLE events ADD COLUMN node TEXT") != 0 ||
	    /* Version 8: the de-duplication windows of the event script,
	     * shared by the instances on one database (store_ops.c). */
	    step_to(st, version, 8, sp_store_schema_v8) != 0)
		goto sqlerr;
	/* Later versions: one more step_to() block each. */
	if (sp_db_commit(st->db) != 0)
		goto sqlerr;
	return SP_OK;
sqlerr:
	snprintf(err, errlen, "database: %s", sp_db_errmsg(st->db));
	sp_db_rollback(st->db);
	return SP_ERR_SYSTEM;
}

int
sp_store_open(const char *path, struct sp_store **out, char *err,
    size_t errlen)
{
	struct sp_store *st;
	int r;

	*out = NULL;
	if (sp_db_engine_of(path) == SP_DB_SQLITE &&
	    (r = create_private(path, err, errlen)) != 0)
		return r;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return SP_ERR_NOMEM;
	if ((r = sp_db_open(path, &st->db, err, errlen)) != 0 ||
	    (r = migrate(st, err, errlen)) != 0) {
		sp_store_close(st);
		return r;
	}
	*out = st;
	return SP_OK;
}

void
sp_store_close(struct sp_store *st)
{
	if (st == NULL)
		return;
	sp_db_close(st->db);
	free(st);
}

int
sp_store_revision(struct sp_store *st, int64_t *rev)
{
	struct sp_db_stmt *s;
	int r = SP_ERR_SYSTEM;

	if (sp_db_prepare(st->db, "SELECT revision FROM state WHERE id = 1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_step(s) == SP_DB_ROW) {
		*rev = sp_db_column_int64(s, 0);
		r = SP_OK;
	}
	sp_db_finalize(s);
	return r;
}

/*
 * Inside a write transaction: next revision. On PostgreSQL the other
 * instances' watchers hear of it at commit (SP_STORE_CHANNEL), not a
 * moment before the new revision is readable.
 */
int
sp_store_bump(struct sp_store *st, int64_t *rev)
{
	char num[32];
	int r;

	if (sp_store_exec(st, "UPDATE state SET revision = revision + 1, "
	    "generated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1") != 0)
		return SP_ERR_SYSTEM;
	if ((r = sp_store_revision(st, rev)) != 0)
		return r;
	snprintf(num, sizeof(num), "%lld", (long long)*rev);
	return sp_db_notify(st->db, SP_STORE_CHANNEL, num);
}

bool
sp_store_notifies(struct sp_store *st)
{
	return sp_db_engine(st->db) == SP_DB_PG;
}

int
sp_store_listen(struct sp_store *st)
{
	return sp_db_listen(st->db, SP_STORE_CHANNEL);
}

int
sp_store_wait_change(struct sp_store *st, int wake_fd, int timeout_ms)
{
	return sp_db_wait(st->db, wake_fd, timeout_ms);
}

/* ---- binding helpers ---- */

static int
bind_text(struct sp_db_stmt *s, int i, const char *v)
{
	return sp_db_bind_text(s, i, v) == 0 ? 0 : -1;
}

/* JSON array text of a string list. */
static char *
strv_json(const struct sp_strv *sv)
{
	json_object *a = json_object_new_array();
	char *out;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	out = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return out;
}

/* Run a prepared statement to completion and finalize it. */
static int
step_done(struct sp_db_stmt *s)
{
	int rc = sp_db_step(s);

	sp_db_finalize(s);
	if (rc == SP_DB_DONE)
		return SP_OK;
	return rc == SP_DB_E_UNIQUE ? SP_ERR_EXISTS : SP_ERR_SYSTEM;
}

static int
insert_rule(struct sp_store *st, const struct sp_site_rule *ru, int64_t *id)
{
	struct sp_db_stmt *s;
	int r;

	if (sp_db_prepare(st->db, "INSERT INTO rules (description, "
	    "match_text, valid_from, valid_until) VALUES (?1, ?2, ?3, ?4)", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_text(s, 1, ru->description) || bind_text(s, 2, ru->match) ||
	    bind_text(s, 3, ru->valid_from) || bind_text(s, 4, ru->valid_until)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = step_done(s)) == 0 && id != NULL)
		*id = sp_db_last_insert_id(st->db);
	return r;
}

/*
 * Every field of p, bound to ?1 .. ?13 of sql (INSERT or UPDATE, the same
 * numbering). SP_ERR_NOT_FOUND when `must_change` and no row changed.
 */
static int
store_partner_row(struct sp_store *st, const char *sql, const struct sp_site_partner *p,
    bool must_change)
{
	char *nets = strv_json(&p->networks), *pins = strv_json(&p->pins);
	struct sp_db_stmt *s;
	int r = SP_ERR_SYSTEM;

	if (nets == NULL || pins == NULL) {
		r = SP_ERR_NOMEM;
		goto out;
	}
	if (sp_db_prepare(st->db, sql, &s) != 0)
		goto out;
	if (bind_text(s, 1, p->odette_id) || bind_text(s, 2, p->description ?
	    p->description : "") || bind_text(s, 3, p->password_hash) ||
	    bind_text(s, 4, nets) ||
	    sp_db_bind_int64(s, 5, p->require_client_cert) != 0 ||
	    bind_text(s, 6, pins) || bind_text(s, 7, p->ca_bundle) ||
	    sp_db_bind_int64(s, 8, p->max_sessions) != 0 ||
	    sp_db_bind_int64(s, 9, p->enabled) != 0 ||
	    bind_text(s, 10, p->valid_from) || bind_text(s, 11, p->valid_until) ||
	    bind_text(s, 12, p->bind) || bind_text(s, 13, p->bind_dn)) {
		sp_db_finalize(s);
		goto out;
	}
	if ((r = step_done(s)) == 0 && must_change && sp_db_changes(st->db) != 1)
		r = SP_ERR_NOT_FOUND;
out:
	free(nets);
	free(pins);
	return r;
}

static int
insert_partner(struct sp_store *st, const struct sp_site_partner *p)
{
	return store_partner_row(st, "INSERT INTO partners (odette_id, "
	    "description, password_hash, networks, require_client_cert, pins, "
	    "ca_bundle, max_sessions, enabled, valid_from, valid_until, "
	    "cert_bind, cert_bind_dn) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", p, false);
}

/* Every field of the stored partner p->odette_id; SP_ERR_NOT_FOUND. */
static int
write_partner(struct sp_store *st, const struct sp_site_partner *p)
{
	return store_partner_row(st, "UPDATE partners SET description = ?2, "
	    "password_hash = ?3, networks = ?4, require_client_cert = ?5, "
	    "pins = ?6, ca_bundle = ?7, max_sessions = ?8, enabled = ?9, "
	    "valid_from = ?10, valid_until = ?11, cert_bind = ?12, "
	    "cert_bind_dn = ?13 WHERE odette_id = ?1", p, true);
}

static int
w_partner_replace(struct sp_store *st, const void *arg, int64_t *unused)
{
	return write_partner(st, arg);
}

/* 1 when `sql` (one bound text ?1) finds a row, 0 when not, <0 error. */
static int
row_exists(struct sp_store *st, const char *sql, const char *key)
{
	struct sp_db_stmt *s;
	int rc;

	if (sp_db_prepare(st->db, sql, &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_text(s, 1, key)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	rc = sp_db_step(s);
	sp_db_finalize(s);
	if (rc == SP_DB_ROW)
		return 1;
	return rc == SP_DB_DONE ? 0 : SP_ERR_SYSTEM;
}

/* Count one entry of a section as created or updated. */
static int
tally(int existed, struct sp_store_tally *t)
{
	if (existed < 0)
		return existed;
	if (existed)
		t->updated++;
	else
		t->created++;
	return SP_OK;
}

static int
upsert_listener(struct sp_store *st, const struct sp_site_listener *l,
    struct sp_store_tally *t)
{
	struct sp_db_stmt *s;
	char *trusted = NULL;
	int r;

	if ((r = tally(row_exists(st, "SELECT 1 FROM listeners WHERE name = ?1",
	    l->name), t)) != 0)
		return r;
	/* proxy_trusted: JSON array of the balancers' networks, or NULL (no
	 * PROXY protocol); written on insert and on update alike. */
	if (l->proxy_protocol && (trusted = strv_json(&l->proxy_trusted)) == NULL)
		return SP_ERR_NOMEM;
	if (sp_db_prepare(st->db, "INSERT INTO listeners (name, "
	    "address, tls, chain_pem, key_pem, require_client_cert, "
	    "proxy_trusted) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO UPDATE SET "
	    "address = excluded.address, tls = excluded.tls, "
	    "chain_pem = excluded.chain_pem, key_pem = excluded.key_pem, "
	    "require_client_cert = excluded.require_client_cert, "
	    "proxy_trusted = excluded.proxy_trusted", &s) != 0) {
		free(trusted);
		return SP_ERR_SYSTEM;
	}
	if (bind_text(s, 1, l->name) || bind_text(s, 2, l->address) ||
	    sp_db_bind_int64(s, 3, l->tls) != 0 ||
	    bind_text(s, 4, l->chain_pem) || bind_text(s, 5, l->key_pem) ||
	    sp_db_bind_int64(s, 6, l->require_client_cert) != 0 ||
	    bind_text(s, 7, trusted)) {
		free(trusted);
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	free(trusted);
	return step_done(s);
}

/* A site partner: created, or every field of the stored one replaced. */
static int
upsert_partner(struct sp_store *st, const struct sp_site_partner *p,
    struct sp_store_tally *t)
{
	int r, existed;

	if ((existed = row_exists(st, "SELECT 1 FROM partners WHERE "
	    "odette_id = ?1", p->odette_id)) < 0)
		return existed;
	if ((r = tally(existed, t)) != 0)
		return r;
	return existed ? write_partner(st, p) : insert_partner(st, p);
}

static int
upsert_route(struct sp_store *st, const struct sp_site_route *rt,
    struct sp_store_tally *t)
{
	struct sp_db_stmt *s;
	char *pins;
	int r;

	if ((r = tally(row_exists(st, "SELECT 1 FROM routes WHERE name = ?1",
	    rt->name), t)) != 0)
		return r;
	if ((pins = strv_json(&rt->pins)) == NULL)
		return SP_ERR_NOMEM;
	if (sp_db_prepare(st->db, "INSERT INTO routes (name, "
	    "client_listen, partner_odette_id, partner_address, "
	    "source_address, tls, ca_bundle, pins, client_chain, "
	    "client_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (name) DO UPDATE SET "
	    "client_listen = excluded.client_listen, "
	    "partner_odette_id = excluded.partner_odette_id, "
	    "partner_address = excluded.partner_address, "
	    "source_address = excluded.source_address, tls = excluded.tls, "
	    "ca_bundle = excluded.ca_bundle, pins = excluded.pins, "
	    "client_chain = excluded.client_chain, "
	    "client_key = excluded.client_key", &s) != 0) {
		free(pins);
		return SP_ERR_SYSTEM;
	}
	r = bind_text(s, 1, rt->name) || bind_text(s, 2, rt->client_listen) ||
	    bind_text(s, 3, rt->partner_odette_id) ||
	    bind_text(s, 4, rt->partner_address) ||
	    bind_text(s, 5, rt->source_address) ||
	    sp_db_bind_int64(s, 6, rt->tls) != 0 ||
	    bind_text(s, 7, rt->ca_bundle) || bind_text(s, 8, pins) ||
	    bind_text(s, 9, rt->client_chain) ||
	    bind_text(s, 10, rt->client_key);
	free(pins);
	if (r != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	return step_done(s);
}

/*
 * A rule has no name to merge on: a site rule equal in every field to a
 * stored one is that rule (re-importing the same file adds nothing);
 * anything else is a new rule.
 */
static int
merge_rule(struct sp_store *st, const struct sp_site_rule *ru,
    struct sp_store_tally *t)
{
	struct sp_db_stmt *s;
	int rc;

	if (sp_db_prepare(st->db, "SELECT 1 FROM rules WHERE "
	    "description = ?1 AND match_text = ?2 AND "
	    "(valid_from = ?3 OR (valid_from IS NULL AND "
	    "CAST(?3 AS TEXT) IS NULL)) AND (valid_until = ?4 OR "
	    "(valid_until IS NULL AND CAST(?4 AS TEXT) IS NULL))", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_text(s, 1, ru->description) || bind_text(s, 2, ru->match) ||
	    bind_text(s, 3, ru->valid_from) || bind_text(s, 4, ru->valid_until)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	rc = sp_db_step(s);
	sp_db_finalize(s);
	if (rc == SP_DB_ROW) {
		t->updated++;   /* unchanged, counted as seen */
		return SP_OK;
	}
	if (rc != SP_DB_DONE)
		return SP_ERR_SYSTEM;
	t->created++;
	return insert_rule(st, ru, NULL);
}

static int
set_limit(struct sp_store *st, size_t i, long long v)
{
	struct sp_db_stmt *s;

	if (sp_db_prepare(st->db, "INSERT INTO limits VALUES (?1, ?2) "
	    "ON CONFLICT (name) DO UPDATE SET value = excluded.value", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_text(s, 1, sp_limit_defs[i].name) ||
	    sp_db_bind_int64(s, 2, v) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	return step_done(s);
}

static int
set_module(struct sp_store *st, const char *name, json_object *sec)
{
	struct sp_db_stmt *s;
	const char *text = json_object_to_json_string_ext(sec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (sp_db_prepare(st->db, "INSERT INTO modules VALUES (?1, ?2) "
	    "ON CONFLICT (name) DO UPDATE SET section = excluded.section", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_text(s, 1, name) || bind_text(s, 2, text)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	return step_done(s);
}

/*
 * Write the site into the tables, entry by entry. Replace mode emptied the
 * tables before, so the same upserts serve both modes; in merge mode limits,
 * module sections and outgoing are written only when the file names them.
 */
static int
write_site(struct sp_store *st, const struct sp_site *site, bool replace,
    struct sp_store_import_stats *stats)
{
	struct sp_db_stmt *s;
	size_t i;
	int r;

	for (i = 0; i < site->nlisteners; i++)
		if ((r = upsert_listener(st, &site->listeners[i],
		    &stats->listeners)) != 0)
			return r;
	for (i = 0; i < site->npartners; i++)
		if ((r = upsert_partner(st, &site->partners[i],
		    &stats->partners)) != 0)
			return r;
	for (i = 0; i < site->nroutes; i++)
		if ((r = upsert_route(st, &site->routes[i], &stats->routes)) != 0)
			return r;
	for (i = 0; i < SP_LIMIT_COUNT; i++)
		if ((replace || (site->limits_given & (1u << i))) &&
		    (r = set_limit(st, i, site->limits[i])) != 0)
			return r;
	for (i = 0; i < site->nrules; i++)
		if ((r = merge_rule(st, &site->rules[i], &stats->rules)) != 0)
			return r;
	if (replace || site->outgoing_source != NULL) {
		if (sp_db_prepare(st->db, "UPDATE state SET "
		    "outgoing_source = ?1 WHERE id = 1", &s) != 0)
			return SP_ERR_SYSTEM;
		if (bind_text(s, 1, site->outgoing_source)) {
			sp_db_finalize(s);
			return SP_ERR_SYSTEM;
		}
		if ((r = step_done(s)) != 0)
			return r;
	}
	if (site->modules != NULL) {
		json_object_object_foreach(site->modules, name, sec)
			if ((r = set_module(st, name, sec)) != 0)
				return r;
	}
	return SP_OK;
}

int
sp_store_import(struct sp_store *st, const struct sp_site *site, bool replace,
    struct sp_store_import_stats *stats, int64_t *rev)
{
	struct sp_store_import_stats none;
	int r;

	memset(stats != NULL ? stats : &none, 0, sizeof(none));
	if (stats == NULL)
		stats = &none;
	if (sp_db_begin_write(st->db) != 0)
		return SP_ERR_SYSTEM;
	/* Online blocks are not configuration: even a replace keeps them. */
	if (replace && sp_store_exec(st, "DELETE FROM listeners; "
	    "DELETE FROM partners; DELETE FROM routes; DELETE FROM limits; "
	    "DELETE FROM rules; DELETE FROM modules") != 0) {
		r = SP_ERR_SYSTEM;
		goto fail;
	}
	if ((r = write_site(st, site, replace, stats)) != 0 ||
	    (r = sp_store_import_revocation(st, site, replace)) != 0 ||
	    (r = sp_store_bump(st, rev)) != 0)
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

/*
 * A consistent copy of the whole database (VACUUM INTO, so a running
 * daemon's writes are not torn) into `path`, which must not exist yet; it
 * is created 0600 first because VACUUM INTO would use the umask and the
 * copy holds private keys and password hashes.
 */
int
sp_store_backup(struct sp_store *st, const char *path, char *err,
    size_t errlen)
{
	int fd, r;

	if (sp_db_engine(st->db) != SP_DB_SQLITE)
		return sp_db_backup(st->db, path, err, errlen);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		return SP_ERR_SYSTEM;
	}
	close(fd);
	if ((r = sp_db_backup(st->db, path, err, errlen)) != 0)
		unlink(path);
	return r;
}

/* ---- partners and rules ---- */

/* Run `fn` and bump the revision in one write transaction. */
static int
in_write(struct sp_store *st, int (*fn)(struct sp_store *, const void *,
    int64_t *), const void *arg, int64_t *out, int64_t *rev)
{
	int r;

	if (sp_db_begin_write(st->db) != 0)
		return SP_ERR_SYSTEM;
	if ((r = fn(st, arg, out)) != 0 || (r = sp_store_bump(st, rev)) != 0 ||
	    (r = sp_db_commit(st->db)) != 0) {
		sp_db_rollback(st->db);
		return r;
	}
	return SP_OK;
}

static int
w_partner_add(struct sp_store *st, const void *arg, int64_t *unused)
{
	return insert_partner(st, arg);
}

int
sp_store_partner_add(struct sp_store *st, const struct sp_site_partner *p,
    int64_t *rev)
{
	return in_write(st, w_partner_add, p, NULL, rev);
}

int
sp_store_partner_replace(struct sp_store *st, const struct sp_site_partner *p,
    int64_t *rev)
{
	return in_write(st, w_partner_replace, p, NULL, rev);
}

/* In the transaction: a route still naming the partner would make the
 * document name a partner it lacks, so the partner stays (SP_ERR_EXISTS). */
static int
w_partner_remove(struct sp_store *st, const void *arg, int64_t *unused)
{
	struct sp_db_stmt *s;
	int r;

	if ((r = row_exists(st, "SELECT 1 FROM routes WHERE "
	    "partner_odette_id = ?1", arg)) != 0)
		return r < 0 ? r : SP_ERR_EXISTS;
	if (sp_db_prepare(st->db, "DELETE FROM partners WHERE "
	    "odette_id = ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (bind_text(s, 1, arg)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = step_done(s)) != 0)
		return r;
	return sp_db_changes(st->db) == 1 ? SP_OK : SP_ERR_NOT_FOUND;
}

int
sp_store_partner_remove(struct sp_store *st, const char *odette_id,
    int64_t *rev)
{
	return in_write(st, w_partner_remove, odette_id, NULL, rev);
}

struct enable_arg {
	const char *id;
	bool enabled;
};

static int
w_partner_enable(struct sp_store *st, const void *arg, int64_t *unused)
{
	const struct enable_arg *a = arg;
	struct sp_db_stmt *s;
	int r;

	if (sp_db_prepare(st->db, "UPDATE partners SET enabled = ?1 "
	    "WHERE odette_id = ?2", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_int64(s, 1, a->enabled) != 0 ||
	    bind_text(s, 2, a->id)) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = step_done(s)) != 0)
		return r;
	return sp_db_changes(st->db) == 1 ? SP_OK : SP_ERR_NOT_FOUND;
}

int
sp_store_partner_set_enabled(struct sp_store *st, const char *odette_id,
    bool enabled, int64_t *rev)
{
	struct enable_arg a = { odette_id, enabled };

	return in_write(st, w_partner_enable, &a, NULL, rev);
}

static int
w_rule_add(struct sp_store *st, const void *arg, int64_t *id)
{
	return insert_rule(st, arg, id);
}

int
sp_store_rule_add(struct sp_store *st, const struct sp_site_rule *ru,
    int64_t *id, int64_t *rev)
{
	return in_write(st, w_rule_add, ru, id, rev);
}

static int
w_rule_remove(struct sp_store *st, const void *arg, int64_t *unused)
{
	struct sp_db_stmt *s;
	int r;

	if (sp_db_prepare(st->db, "DELETE FROM rules WHERE id = ?1", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_int64(s, 1, *(const int64_t *)arg) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	if ((r = step_done(s)) != 0)
		return r;
	return sp_db_changes(st->db) == 1 ? SP_OK : SP_ERR_NOT_FOUND;
}

int
sp_store_rule_remove(struct sp_store *st, int64_t id, int64_t *rev)
{
	return in_write(st, w_rule_remove, &id, NULL, rev);
}
