/*
 * db_sqlite.c - the SQLite engine of db.h: a thin wrapper, the SQL text is
 * SQLite's own dialect. Engine dispatch (db_pg.c when built with libpq)
 * happens in the public sp_db_* entry points below.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "api/db.h"
#include "api/db_int.h"
#include "core/err.h"

struct sp_db_sqlite {
	struct sp_db base;
	sqlite3 *h;        /* owned */
};

struct sp_db_sqlite_stmt {
	struct sp_db_stmt base;
	sqlite3_stmt *s;   /* owned */
};

#define SQ(db) (((struct sp_db_sqlite *)(db))->h)
#define SS(st) (((struct sp_db_sqlite_stmt *)(st))->s)

static int
sq_open(const char *path, struct sp_db **out, char *err, size_t errlen)
{
	struct sp_db_sqlite *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return SP_ERR_NOMEM;
	d->base.engine = SP_DB_SQLITE;
	if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, d->h ?
		    sqlite3_errmsg(d->h) : "cannot open");
		sqlite3_close(d->h);
		free(d);
		return SP_ERR_SYSTEM;
	}
	sqlite3_busy_timeout(d->h, 10000);
	sqlite3_extended_result_codes(d->h, 1);
	if (sqlite3_exec(d->h, "PRAGMA foreign_keys = ON; "
	    "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(d->h));
		sqlite3_close(d->h);
		free(d);
		return SP_ERR_SYSTEM;
	}
	*out = &d->base;
	return SP_OK;
}

static void
sq_close(struct sp_db *db)
{
	sqlite3_close(SQ(db));
	free(db);
}

static int
sq_code(int rc)
{
	if (rc == SQLITE_ROW)
		return SP_DB_ROW;
	if (rc == SQLITE_DONE)
		return SP_DB_DONE;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return SP_DB_E_UNIQUE;
	return SP_DB_E_ERROR;
}

static int
sq_exec(struct sp_db *db, const char *sql)
{
	int rc = sqlite3_exec(SQ(db), sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return SP_OK;
	return sq_code(rc) == SP_DB_E_UNIQUE ? SP_ERR_EXISTS : SP_ERR_SYSTEM;
}

static int
sq_begin_write(struct sp_db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static int
sq_begin_read(struct sp_db *db)
{
	return sq_exec(db, "BEGIN");
}

static int
sq_schema_version(struct sp_db *db, int *version)
{
	sqlite3_stmt *s;
	int r = SP_ERR_SYSTEM;

	if (sqlite3_prepare_v2(SQ(db), "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return SP_ERR_SYSTEM;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		r = SP_OK;
	}
	sqlite3_finalize(s);
	return r;
}

static int
sq_set_schema_version(struct sp_db *db, int version)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	return sq_exec(db, sql);
}

static int
sq_prepare(struct sp_db *db, const char *sql, struct sp_db_stmt **out)
{
	struct sp_db_sqlite_stmt *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return SP_ERR_NOMEM;
	st->base.db = db;
	if (sqlite3_prepare_v2(SQ(db), sql, -1, &st->s, NULL) != SQLITE_OK) {
		free(st);
		return SP_ERR_SYSTEM;
	}
	*out = &st->base;
	return SP_OK;
}

static int
sq_bind_text(struct sp_db_stmt *s, int i, const char *v)
{
	return (v ? sqlite3_bind_text(SS(s), i, v, -1, SQLITE_TRANSIENT) :
	    sqlite3_bind_null(SS(s), i)) == SQLITE_OK ? SP_OK : SP_ERR_SYSTEM;
}

static int
sq_bind_int64(struct sp_db_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(SS(s), i, v) == SQLITE_OK ? SP_OK :
	    SP_ERR_SYSTEM;
}

static int
sq_step(struct sp_db_stmt *s)
{
	return sq_code(sqlite3_step(SS(s)));
}

static void
sq_reset(struct sp_db_stmt *s)
{
	sqlite3_reset(SS(s));
}

static void
sq_finalize(struct sp_db_stmt *s)
{
	sqlite3_finalize(SS(s));
	free(s);
}

static const char *
sq_column_text(struct sp_db_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(SS(s), i);
}

static int64_t
sq_column_int64(struct sp_db_stmt *s, int i)
{
	return sqlite3_column_int64(SS(s), i);
}

static bool
sq_column_null(struct sp_db_stmt *s, int i)
{
	return sqlite3_column_type(SS(s), i) == SQLITE_NULL;
}

static int64_t
sq_changes(struct sp_db *db)
{
	return sqlite3_changes(SQ(db));
}

static int64_t
sq_last_insert_id(struct sp_db *db)
{
	return sqlite3_last_insert_rowid(SQ(db));
}

static const char *
sq_errmsg(struct sp_db *db)
{
	return sqlite3_errmsg(SQ(db));
}

/* VACUUM INTO: a consistent copy even while a daemon writes. */
static int
sq_backup(struct sp_db *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(SQ(db), "VACUUM INTO ?1", -1, &s, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "backup: %s", sqlite3_errmsg(SQ(db)));
		return SP_ERR_SYSTEM;
	}
	sqlite3_bind_text(s, 1, path, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "backup into %s: %s", path,
		    sqlite3_errmsg(SQ(db)));
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}

const struct sp_db_ops sp_db_sqlite_ops = {
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.begin_write = sq_begin_write,
	.begin_read = sq_begin_read,
	.schema_version = sq_schema_version,
	.set_schema_version = sq_set_schema_version,
	.prepare = sq_prepare,
	.bind_text = sq_bind_text,
	.bind_int64 = sq_bind_int64,
	.step = sq_step,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.column_text = sq_column_text,
	.column_int64 = sq_column_int64,
	.column_null = sq_column_null,
	.changes = sq_changes,
	.last_insert_id = sq_last_insert_id,
	.errmsg = sq_errmsg,
	.backup = sq_backup,
};
