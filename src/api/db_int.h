/*
 * db_int.h - what the engines of db.h (db_sqlite.c, db_pg.c) share with
 * the dispatch in db.c; nothing else includes it.
 */
#ifndef SP_API_DB_INT_H
#define SP_API_DB_INT_H

#include "api/db.h"

struct sp_db {
	enum sp_db_engine engine;
	const struct sp_db_ops *ops;
};

struct sp_db_stmt {
	struct sp_db *db;
};

struct sp_db_ops {
	int (*open)(const char *, struct sp_db **, char *, size_t);
	void (*close)(struct sp_db *);
	int (*exec)(struct sp_db *, const char *);
	int (*begin_write)(struct sp_db *);
	int (*begin_read)(struct sp_db *);
	int (*schema_version)(struct sp_db *, int *);
	int (*set_schema_version)(struct sp_db *, int);
	int (*prepare)(struct sp_db *, const char *, struct sp_db_stmt **);
	int (*bind_text)(struct sp_db_stmt *, int, const char *);
	int (*bind_int64)(struct sp_db_stmt *, int, int64_t);
	int (*step)(struct sp_db_stmt *);
	void (*reset)(struct sp_db_stmt *);
	void (*finalize)(struct sp_db_stmt *);
	const char *(*column_text)(struct sp_db_stmt *, int);
	int64_t (*column_int64)(struct sp_db_stmt *, int);
	bool (*column_null)(struct sp_db_stmt *, int);
	int64_t (*changes)(struct sp_db *);
	int64_t (*last_insert_id)(struct sp_db *);
	const char *(*errmsg)(struct sp_db *);
	int (*backup)(struct sp_db *, const char *, char *, size_t);
	/* NULL: the engine has no notifications. */
	int (*notify)(struct sp_db *, const char *, const char *);
	int (*listen)(struct sp_db *, const char *);
	int (*wait)(struct sp_db *, int, int);
};

/* db_pg.c's rewrites (unit tests): `?N` to `$N` outside quotes (NULL
 * beyond 32 parameters); schema words to PostgreSQL's. New strings. */
char *sp_db_pg_params(const char *sql, int *nparams);
char *sp_db_pg_schema_text(const char *sql);

extern const struct sp_db_ops sp_db_sqlite_ops;
extern const struct sp_db_ops sp_db_pg_ops;

#endif
