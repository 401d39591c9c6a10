/*
 * db.c - engine choice and dispatch of db.h.
 */
#include "config.h"

#include <string.h>

#include "api/db.h"
#include "api/db_int.h"
#include "core/err.h"

enum sp_db_engine
sp_db_engine_of(const char *target)
{
	static const char *const pg[] = { "postgresql://", "postgres://",
	    "dbname=", "host=", "service=" };
	size_t i;

	for (i = 0; i < sizeof(pg) / sizeof(pg[0]); i++)
		if (strncmp(target, pg[i], strlen(pg[i])) == 0)
			return SP_DB_PG;
	return SP_DB_SQLITE;
}

int
sp_db_open(const char *target, struct sp_db **out, char *err, size_t errlen)
{
	const struct sp_db_ops *ops = sp_db_engine_of(target) == SP_DB_PG ?
	    &sp_db_pg_ops : &sp_db_sqlite_ops;
	int r;

	*out = NULL;
	if ((r = ops->open(target, out, err, errlen)) != 0)
		return r;
	(*out)->ops = ops;
	return SP_OK;
}

void
sp_db_close(struct sp_db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

enum sp_db_engine
sp_db_engine(const struct sp_db *db)
{
	return db->engine;
}

int
sp_db_exec(struct sp_db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int
sp_db_begin_write(struct sp_db *db)
{
	return db->ops->begin_write(db);
}

int
sp_db_begin_read(struct sp_db *db)
{
	return db->ops->begin_read(db);
}

int
sp_db_commit(struct sp_db *db)
{
	return db->ops->exec(db, "COMMIT");
}

void
sp_db_rollback(struct sp_db *db)
{
	db->ops->exec(db, "ROLLBACK");
}

int
sp_db_schema_version(struct sp_db *db, int *version)
{
	return db->ops->schema_version(db, version);
}

int
sp_db_set_schema_version(struct sp_db *db, int version)
{
	return db->ops->set_schema_version(db, version);
}

int
sp_db_prepare(struct sp_db *db, const char *sql, struct sp_db_stmt **out)
{
	*out = NULL;
	return db->ops->prepare(db, sql, out);
}

int
sp_db_bind_text(struct sp_db_stmt *s, int i, const char *v)
{
	return s->db->ops->bind_text(s, i, v);
}

int
sp_db_bind_int64(struct sp_db_stmt *s, int i, int64_t v)
{
	return s->db->ops->bind_int64(s, i, v);
}

int
sp_db_bind_null(struct sp_db_stmt *s, int i)
{
	return s->db->ops->bind_text(s, i, NULL);
}

int
sp_db_step(struct sp_db_stmt *s)
{
	return s->db->ops->step(s);
}

void
sp_db_reset(struct sp_db_stmt *s)
{
	s->db->ops->reset(s);
}

void
sp_db_finalize(struct sp_db_stmt *s)
{
	if (s != NULL)
		s->db->ops->finalize(s);
}

const char *
sp_db_column_text(struct sp_db_stmt *s, int i)
{
	return s->db->ops->column_text(s, i);
}

int64_t
sp_db_column_int64(struct sp_db_stmt *s, int i)
{
	return s->db->ops->column_int64(s, i);
}

int
sp_db_column_int(struct sp_db_stmt *s, int i)
{
	return (int)s->db->ops->column_int64(s, i);
}

bool
sp_db_column_null(struct sp_db_stmt *s, int i)
{
	return s->db->ops->column_null(s, i);
}

int64_t
sp_db_changes(struct sp_db *db)
{
	return db->ops->changes(db);
}

int64_t
sp_db_last_insert_id(struct sp_db *db)
{
	return db->ops->last_insert_id(db);
}

const char *
sp_db_errmsg(struct sp_db *db)
{
	return db->ops->errmsg(db);
}

int
sp_db_notify(struct sp_db *db, const char *channel, const char *payload)
{
	return db->ops->notify != NULL ? db->ops->notify(db, channel, payload) :
	    SP_OK;
}

int
sp_db_listen(struct sp_db *db, const char *channel)
{
	return db->ops->listen != NULL ? db->ops->listen(db, channel) :
	    SP_ERR_INVALID;
}

int
sp_db_wait(struct sp_db *db, int wake_fd, int timeout_ms)
{
	return db->ops->wait != NULL ? db->ops->wait(db, wake_fd, timeout_ms) :
	    SP_ERR_INVALID;
}

int
sp_db_backup(struct sp_db *db, const char *path, char *err, size_t errlen)
{
	return db->ops->backup(db, path, err, errlen);
}
