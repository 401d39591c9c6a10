/*
 * db_pg.c - the PostgreSQL engine of db.h, on libpq.
 *
 * Statements are the store's SQLite-flavoured text with `?N` parameters,
 * rewritten to `$N` once at prepare and run with PQexecParams (text
 * parameters of unknown type, text results), the whole result fetched at
 * the first step. Schema text passed to sp_db_exec is rewritten word by
 * word (see sp_db_pg_schema_text()); the schema's one helper function,
 * strftime() for the store's one timestamp format, is created with the
 * version table.
 *
 * Write transactions take a transaction-scoped advisory lock: every writer,
 * of any instance, runs one after the other, as SQLite's BEGIN IMMEDIATE
 * makes them, so the revision counter never forks.
 *
 * Ownership: the connection owns its last error text and the channel it
 * listens on (listened again after a reconnect); a statement owns its
 * SQL copy, its parameter strings and its result.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

#include <libpq-fe.h>

#include "api/db.h"
#include "api/db_int.h"
#include "core/err.h"

/* pg_advisory_xact_lock key of the store's write lock ("smprox"). */
#define WRITE_LOCK_KEY "7310594986252024"
#define MAX_PARAMS 32

struct sp_db_pg {
	struct sp_db base;
	PGconn *c;              /* owned */
	char err[512];
	int64_t changes;
	char *listening;        /* owned: the channel of sp_db_listen, or NULL */
};

struct sp_db_pg_stmt {
	struct sp_db_stmt base;
	char *sql;              /* owned, $N parameters */
	int nparams;
	char *vals[MAX_PARAMS]; /* owned; NULL is SQL NULL */
	PGresult *res;          /* owned, once run */
	int row, nrows;
};

#define PG(db) ((struct sp_db_pg *)(db))
#define PS(st) ((struct sp_db_pg_stmt *)(st))

static void
set_err(struct sp_db_pg *d, const char *what)
{
	size_t n;

	snprintf(d->err, sizeof(d->err), "%s", what != NULL && *what != '\0' ?
	    what : PQerrorMessage(d->c));
	/* libpq's messages end in a newline; logs add their own. */
	n = strlen(d->err);
	while (n > 0 && (d->err[n - 1] == '\n' || d->err[n - 1] == ' '))
		d->err[--n] = '\0';
}

/* Notices (CREATE ... IF NOT EXISTS that exists) are not errors. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The result's class: SP_OK, or an SP_DB_E_* with the error kept. */
static int
check(struct sp_db_pg *d, PGresult *res)
{
	const char *state;
	ExecStatusType t = res != NULL ? PQresultStatus(res) :
	    PGRES_FATAL_ERROR;

	if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
		return SP_OK;
	set_err(d, res != NULL ? PQresultErrorMessage(res) : NULL);
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return state != NULL && strcmp(state, "23505") == 0 ? SP_DB_E_UNIQUE :
	    SP_DB_E_ERROR;
}

static int
pg_open(const char *target, struct sp_db **out, char *err, size_t errlen)
{
	struct sp_db_pg *d;
	PGresult *res;
	int r;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return SP_ERR_NOMEM;
	d->base.engine = SP_DB_PG;
	d->c = PQconnectdb(target);
	if (d->c == NULL || PQstatus(d->c) != CONNECTION_OK) {
		/* libpq's message names host and database, not the password. */
		snprintf(err, errlen, "database: PostgreSQL: %s", d->c ?
		    PQerrorMessage(d->c) : "out of memory");
		if (strlen(err) > 0 && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
		PQfinish(d->c);
		free(d);
		return SP_ERR_SYSTEM;
	}
	PQsetNoticeProcessor(d->c, quiet, NULL);
	res = PQexec(d->c, "SET TIME ZONE 'UTC'");
	r = check(d, res);
	PQclear(res);
	if (r != SP_OK) {
		snprintf(err, errlen, "database: PostgreSQL: %s", d->err);
		PQfinish(d->c);
		free(d);
		return SP_ERR_SYSTEM;
	}
	*out = &d->base;
	return SP_OK;
}

static void
pg_close(struct sp_db *db)
{
	PQfinish(PG(db)->c);
	free(PG(db)->listening);
	free(db);
}

/* A growing output string for the rewrites; NULL on allocation failure. */
struct out {
	char *p;
	size_t n, cap;
	bool failed;
};

static void
put(struct out *o, const char *s, size_t n)
{
	char *np;

	if (o->failed)
		return;
	if (o->n + n + 1 > o->cap) {
		o->cap = (o->n + n + 1) * 2;
		if ((np = realloc(o->p, o->cap)) == NULL) {
			o->failed = true;
			return;
		}
		o->p = np;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
}

static char *
done(struct out *o)
{
	if (o->failed || o->p == NULL) {
		free(o->p);
		return NULL;
	}
	return o->p;
}

/* Length of the quoted literal or identifier starting at s ('' doubles). */
static size_t
quoted_len(const char *s)
{
	char q = s[0];
	size_t i = 1;

	for (;;) {
		if (s[i] == '\0')
			return i;
		if (s[i] == q) {
			if (s[i + 1] != q)
				return i + 1;
			i++;
		}
		i++;
	}
}

/* Length of the comment starting at s (`--` to the line's end, or a
 * block comment), 0 when none starts there. */
static size_t
comment_len(const char *s)
{
	const char *e;

	if (s[0] == '-' && s[1] == '-')
		return strcspn(s, "\n");
	if (s[0] == '/' && s[1] == '*')
		return (e = strstr(s + 2, "*/")) != NULL ? (size_t)(e + 2 - s) :
		    strlen(s);
	return 0;
}

/*
 * `?N` and `?` to `$N` outside quotes and comments; *nparams gets the
 * highest number. A plain `?` is one more than the highest number so far,
 * as in SQLite. NULL on allocation failure or a number beyond MAX_PARAMS.
 */
char *
sp_db_pg_params(const char *sql, int *nparams)
{
	struct out o = { 0 };
	char num[16];
	int n;
	size_t k;

	*nparams = 0;
	while (*sql != '\0') {
		if (*sql == '\'' || *sql == '"') {
			k = quoted_len(sql);
			put(&o, sql, k);
			sql += k;
			continue;
		}
		if ((k = comment_len(sql)) > 0) {
			put(&o, sql, k);
			sql += k;
			continue;
		}
		if (*sql != '?') {
			put(&o, sql++, 1);
			continue;
		}
		sql++;
		if (isdigit((unsigned char)*sql)) {
			n = 0;
			while (isdigit((unsigned char)*sql) && n <= MAX_PARAMS)
				n = n * 10 + (*sql++ - '0');
		} else
			n = *nparams + 1;
		if (n < 1 || n > MAX_PARAMS) {
			free(o.p);
			return NULL;
		}
		if (n > *nparams)
			*nparams = n;
		snprintf(num, sizeof(num), "$%d", n);
		put(&o, num, strlen(num));
	}
	return done(&o);
}

static bool
word_at(const char *s, size_t i, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(s + i, w, n) == 0 &&
	    (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_')) &&
	    !(isalnum((unsigned char)s[i + n]) || s[i + n] == '_');
}

/*
 * Schema text in SQLite's words to PostgreSQL's: INTEGER PRIMARY KEY
 * [AUTOINCREMENT] (SQLite's generated rowid key) becomes an identity
 * column, INTEGER (64 bits in SQLite) BIGINT, and a table without an
 * INTEGER PRIMARY KEY gets SQLite's implicit `rowid` as an explicit last
 * identity column, so ORDER BY rowid (insertion order) means the same.
 * TEXT columns compare bytewise (COLLATE "C") as in SQLite, whatever the
 * database's locale: lists come out in the same order on both engines.
 */
char *
sp_db_pg_schema_text(const char *sql)
{
	static const char ipk[] = "INTEGER PRIMARY KEY";
	static const char ident[] = "BIGINT GENERATED BY DEFAULT AS IDENTITY "
	    "PRIMARY KEY";
	static const char rowid[] = ", rowid BIGINT GENERATED BY DEFAULT AS "
	    "IDENTITY";
	struct out o = { 0 };
	size_t i = 0, k, body = 0;
	int depth = 0;
	bool in_create = false, has_ipk = false;

	while (sql[i] != '\0') {
		if (sql[i] == '\'' || sql[i] == '"') {
			k = quoted_len(sql + i);
			put(&o, sql + i, k);
			i += k;
			continue;
		}
		if (word_at(sql, i, "CREATE") && strncasecmp(sql + i,
		    "CREATE TABLE", 12) == 0) {
			in_create = true;
			has_ipk = false;
			depth = 0;
			body = 0;
		}
		if (sql[i] == '(' && in_create) {
			depth++;
			body = 1;
		} else if (sql[i] == ')' && in_create && --depth == 0 && body) {
			if (!has_ipk)
				put(&o, rowid, strlen(rowid));
			in_create = false;
		}
		if (word_at(sql, i, "INTEGER")) {
			if (strncasecmp(sql + i, ipk, strlen(ipk)) == 0) {
				put(&o, ident, strlen(ident));
				i += strlen(ipk);
				has_ipk = true;
				while (sql[i] == ' ')
					i++;
				if (word_at(sql, i, "AUTOINCREMENT"))
					i += strlen("AUTOINCREMENT");
				else
					put(&o, " ", 1);
				continue;
			}
			put(&o, "BIGINT", 6);
			i += strlen("INTEGER");
			continue;
		}
		if (word_at(sql, i, "TEXT") && strncmp(sql + i, "TEXT", 4) == 0) {
			put(&o, "TEXT COLLATE \"C\"", 16);
			i += 4;
			continue;
		}
		put(&o, sql + i, 1);
		i++;
	}
	return done(&o);
}

/* LISTEN on `channel` on the current server session. */
static int
pg_listen_on(struct sp_db_pg *d, const char *channel)
{
	PGresult *res;
	char *id, sql[256];
	int r;

	if ((id = PQescapeIdentifier(d->c, channel, strlen(channel))) == NULL)
		return SP_ERR_NOMEM;
	snprintf(sql, sizeof(sql), "LISTEN %s", id);
	PQfreemem(id);
	res = PQexec(d->c, sql);
	r = check(d, res);
	PQclear(res);
	return r == SP_OK ? SP_OK : SP_ERR_SYSTEM;
}

/*
 * A connection the server dropped (a restart, a failover) is opened again
 * before the next statement. Outside a transaction, reading what is
 * pending shows a closed connection before anything is sent (the server's
 * goodbye and EOF); inside one, the statement that meets it fails and
 * every caller stops at its first error (the transaction rolls back), so
 * nothing runs half inside and half outside a transaction.
 */
static void
revive(struct sp_db_pg *d)
{
	PGresult *res;
	int i;

	/* The first read may take the server's goodbye, the next the EOF
	 * (libpq's socket is non-blocking: no wait when nothing is there). */
	if (PQtransactionStatus(d->c) == PQTRANS_IDLE)
		for (i = 0; i < 2 && PQconsumeInput(d->c); i++)
			;
	if (PQstatus(d->c) != CONNECTION_BAD)
		return;
	PQreset(d->c);
	if (PQstatus(d->c) != CONNECTION_OK)
		return;
	res = PQexec(d->c, "SET TIME ZONE 'UTC'");
	PQclear(res);
	/* A new server session listens to nothing: listen again, or the
	 * watcher would hear no commit more (only its safety poll). */
	if (d->listening != NULL)
		(void)pg_listen_on(d, d->listening);
}

static int
pg_exec_raw(struct sp_db_pg *d, const char *sql)
{
	PGresult *res;

	revive(d);
	res = PQexec(d->c, sql);
	int r = check(d, res);

	if (r == SP_OK)
		d->changes = strtoll(PQcmdTuples(res), NULL, 10);
	/* A COMMIT of a transaction that a failed statement aborted ends it
	 * as a ROLLBACK, without an error: say it (SQLite would have kept the
	 * other statements; here nothing was stored). */
	if (r == SP_OK && strcmp(sql, "COMMIT") == 0 &&
	    strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		set_err(d, "COMMIT: the transaction was rolled back (a statement "
		    "in it had failed)");
		r = SP_DB_E_ERROR;
	}
	PQclear(res);
	return r;
}

static int
pg_exec(struct sp_db *db, const char *sql)
{
	char *text;
	int r;

	if ((text = sp_db_pg_schema_text(sql)) == NULL)
		return SP_ERR_NOMEM;
	r = pg_exec_raw(PG(db), text);
	free(text);
	/* Two instances creating the same table at once (CREATE TABLE IF NOT
	 * EXISTS of a table made on first use): the loser meets the winner's
	 * catalog row. Outside a transaction nothing else was undone. */
	if (r == SP_DB_E_UNIQUE && strstr(sql, "IF NOT EXISTS") != NULL &&
	    PQtransactionStatus(PG(db)->c) == PQTRANS_IDLE)
		return SP_OK;
	if (r == SP_OK)
		return SP_OK;
	return r == SP_DB_E_UNIQUE ? SP_ERR_EXISTS : SP_ERR_SYSTEM;
}

static int
pg_begin_write(struct sp_db *db)
{
	return pg_exec_raw(PG(db), "BEGIN; SELECT pg_advisory_xact_lock("
	    WRITE_LOCK_KEY ")") == SP_OK ? SP_OK : SP_ERR_SYSTEM;
}

static int
pg_begin_read(struct sp_db *db)
{
	return pg_exec_raw(PG(db), "BEGIN ISOLATION LEVEL REPEATABLE READ") ==
	    SP_OK ? SP_OK : SP_ERR_SYSTEM;
}

/*
 * The version table, and with it the schema's helper: strftime() for the
 * one format and time the store writes ('now' as SQLite means it, UTC).
 * Inside begin_write: the advisory lock makes a first start of two
 * instances create them once.
 */
static const char PG_BASE[] =
	"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
	"CREATE OR REPLACE FUNCTION strftime(fmt text, t text) RETURNS text "
	"LANGUAGE sql STABLE AS $$ SELECT CASE WHEN fmt = '%Y-%m-%dT%H:%M:%SZ' "
	"AND t = 'now' THEN to_char(statement_timestamp() AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END $$;"
	"INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS "
	"(SELECT 1 FROM schema_version)";

static int
pg_schema_version(struct sp_db *db, int *version)
{
	struct sp_db_pg *d = PG(db);
	PGresult *res;
	int r;

	res = PQexec(d->c, "SELECT version FROM schema_version");
	if (check(d, res) != SP_OK || PQntuples(res) != 1) {
		/* A new database: the failed SELECT ended the transaction;
		 * begin it again (nothing was written yet), under the lock. */
		PQclear(res);
		if (pg_exec_raw(d, "ROLLBACK; BEGIN; SELECT "
		    "pg_advisory_xact_lock(" WRITE_LOCK_KEY ")") != SP_OK ||
		    pg_exec_raw(d, PG_BASE) != SP_OK)
			return SP_ERR_SYSTEM;
		res = PQexec(d->c, "SELECT version FROM schema_version");
		if (check(d, res) != SP_OK || PQntuples(res) != 1) {
			PQclear(res);
			return SP_ERR_SYSTEM;
		}
	}
	*version = atoi(PQgetvalue(res, 0, 0));
	r = SP_OK;
	PQclear(res);
	return r;
}

static int
pg_set_schema_version(struct sp_db *db, int version)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
	    version);
	return pg_exec_raw(PG(db), sql) == SP_OK ? SP_OK : SP_ERR_SYSTEM;
}

static int
pg_prepare(struct sp_db *db, const char *sql, struct sp_db_stmt **out)
{
	struct sp_db_pg_stmt *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SP_ERR_NOMEM;
	s->base.db = db;
	if ((s->sql = sp_db_pg_params(sql, &s->nparams)) == NULL) {
		set_err(PG(db), "cannot prepare the statement");
		free(s);
		return SP_ERR_SYSTEM;
	}
	*out = &s->base;
	return SP_OK;
}

static void
clear_result(struct sp_db_pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	s->row = s->nrows = 0;
}

static int
pg_bind_text(struct sp_db_stmt *st, int i, const char *v)
{
	struct sp_db_pg_stmt *s = PS(st);
	char *copy = NULL;

	if (i < 1 || i > s->nparams)
		return SP_ERR_INVALID;
	if (v != NULL && (copy = strdup(v)) == NULL)
		return SP_ERR_NOMEM;
	free(s->vals[i - 1]);
	s->vals[i - 1] = copy;
	return SP_OK;
}

static int
pg_bind_int64(struct sp_db_stmt *st, int i, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64, v);
	return pg_bind_text(st, i, num);
}

static int
pg_step(struct sp_db_stmt *st)
{
	struct sp_db_pg_stmt *s = PS(st);
	struct sp_db_pg *d = PG(st->db);
	int r;

	if (s->res == NULL) {
		revive(d);
		s->res = PQexecParams(d->c, s->sql, s->nparams, NULL,
		    (const char *const *)s->vals, NULL, NULL, 0);
		if ((r = check(d, s->res)) != SP_OK) {
			clear_result(s);
			return r;
		}
		d->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
		s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK ?
		    PQntuples(s->res) : 0;
		s->row = -1;
	}
	if (s->row < s->nrows)
		s->row++;
	return s->row < s->nrows ? SP_DB_ROW : SP_DB_DONE;
}

static void
pg_reset(struct sp_db_stmt *st)
{
	clear_result(PS(st));
}

static void
pg_finalize(struct sp_db_stmt *st)
{
	struct sp_db_pg_stmt *s = PS(st);
	int i;

	clear_result(s);
	for (i = 0; i < MAX_PARAMS; i++)
		free(s->vals[i]);
	free(s->sql);
	free(s);
}

static bool
have_cell(struct sp_db_pg_stmt *s, int i)
{
	return s->res != NULL && s->row >= 0 && s->row < s->nrows && i >= 0 &&
	    i < PQnfields(s->res);
}

static const char *
pg_column_text(struct sp_db_stmt *st, int i)
{
	struct sp_db_pg_stmt *s = PS(st);

	if (!have_cell(s, i) || PQgetisnull(s->res, s->row, i))
		return NULL;
	return PQgetvalue(s->res, s->row, i);
}

static int64_t
pg_column_int64(struct sp_db_stmt *st, int i)
{
	const char *v = pg_column_text(st, i);

	if (v == NULL)
		return 0;
	if (strcmp(v, "t") == 0)        /* a boolean expression */
		return 1;
	return strtoll(v, NULL, 10);
}

static bool
pg_column_null(struct sp_db_stmt *st, int i)
{
	return pg_column_text(st, i) == NULL;
}

static int64_t
pg_changes(struct sp_db *db)
{
	return PG(db)->changes;
}

/* The identity of the last INSERT of this session (its sequence). */
static int64_t
pg_last_insert_id(struct sp_db *db)
{
	PGresult *res = PQexec(PG(db)->c, "SELECT lastval()");
	int64_t id = 0;

	if (check(PG(db), res) == SP_OK && PQntuples(res) == 1)
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

static const char *
pg_errmsg(struct sp_db *db)
{
	return PG(db)->err[0] != '\0' ? PG(db)->err :
	    PQerrorMessage(PG(db)->c);
}

/* The payload travels as a parameter: no quoting of our own. */
static int
pg_notify(struct sp_db *db, const char *channel, const char *payload)
{
	const char *vals[2] = { channel, payload };
	PGresult *res = PQexecParams(PG(db)->c, "SELECT pg_notify($1, $2)", 2,
	    NULL, vals, NULL, NULL, 0);
	int r = check(PG(db), res);

	PQclear(res);
	return r == SP_OK ? SP_OK : SP_ERR_SYSTEM;
}

static int
pg_listen(struct sp_db *db, const char *channel)
{
	struct sp_db_pg *d = PG(db);
	char *copy;
	int r;

	revive(d);
	if ((r = pg_listen_on(d, channel)) != SP_OK)
		return r;
	if ((copy = strdup(channel)) == NULL)
		return SP_ERR_NOMEM;
	free(d->listening);
	d->listening = copy;
	return SP_OK;
}

/* Drain what arrived; 1 when a notification was among it. */
static int
drain(struct sp_db_pg *d)
{
	PGnotify *n;
	int got = 0;

	if (!PQconsumeInput(d->c)) {
		set_err(d, NULL);
		return SP_ERR_SYSTEM;
	}
	while ((n = PQnotifies(d->c)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

static int
pg_wait(struct sp_db *db, int wake_fd, int timeout_ms)
{
	struct sp_db_pg *d = PG(db);
	struct pollfd p[2];
	int r, n = 1;

	/* Notifications read along with an earlier result. */
	if ((r = drain(d)) != 0)
		return r;
	if (PQsocket(d->c) < 0)
		return SP_ERR_SYSTEM;
	p[0].fd = PQsocket(d->c);
	p[0].events = POLLIN;
	if (wake_fd >= 0) {
		p[1].fd = wake_fd;
		p[1].events = POLLIN;
		n = 2;
	}
	if ((r = poll(p, (nfds_t)n, timeout_ms)) <= 0)
		return r < 0 && errno != EINTR ? SP_ERR_SYSTEM : 0;
	if (p[0].revents == 0)
		return 0;
	return drain(d);
}

static int
pg_backup(struct sp_db *db, const char *path, char *err, size_t errlen)
{
	(void)db;
	(void)path;
	snprintf(err, errlen, "the database is PostgreSQL: no file copy is "
	    "made here, back it up with pg_dump");
	return SP_ERR_CONFIG;
}

const struct sp_db_ops sp_db_pg_ops = {
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin_write = pg_begin_write,
	.begin_read = pg_begin_read,
	.schema_version = pg_schema_version,
	.set_schema_version = pg_set_schema_version,
	.prepare = pg_prepare,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.step = pg_step,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.column_text = pg_column_text,
	.column_int64 = pg_column_int64,
	.column_null = pg_column_null,
	.changes = pg_changes,
	.last_insert_id = pg_last_insert_id,
	.errmsg = pg_errmsg,
	.backup = pg_backup,
	.notify = pg_notify,
	.listen = pg_listen,
	.wait = pg_wait,
};
