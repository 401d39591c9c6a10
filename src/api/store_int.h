/*
 * store_int.h - what store.c and render.c share inside smartproxy-api's
 * store; nothing outside the store includes it.
 */
#ifndef SP_API_STORE_INT_H
#define SP_API_STORE_INT_H

#include <stdint.h>

#include <sqlite3.h>

struct sp_store {
	sqlite3 *db;       /* owned */
};

/* Run SQL without results: SP_OK or SP_ERR_SYSTEM. */
int sp_store_exec(struct sp_store *st, const char *sql);
/* Inside a write transaction: increment the revision, return the new one. */
int sp_store_bump(struct sp_store *st, int64_t *rev);

#endif
