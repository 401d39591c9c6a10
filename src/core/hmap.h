/*
 * hmap.h - a hash table from byte-string keys to pointers: the lookups the
 * server makes on every accept and tunnel message (sessions by number,
 * session counts by partner address) instead of walks over every session.
 *
 * Ownership: the table owns its buckets and its entries, each with a copy of
 * its key; it never owns the values, which stay the caller's (nothing here
 * frees one). A zeroed struct is an empty table and allocates nothing until
 * the first insert; sp_hmap_free() returns it to that state.
 *
 * Keys may be chosen by outsiders (a flood's source addresses), so the hash
 * is SipHash-1-3 under a random key per table: nobody can plan a collision
 * chain. Chaining, doubling at one entry per bucket, keeps lookups O(1).
 * Not thread-safe: one table belongs to one loop's thread.
 */
#ifndef SP_HMAP_H
#define SP_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct sp_hmap_entry;

struct sp_hmap {
	struct sp_hmap_entry **b;   /* nb buckets, or NULL while empty */
	size_t nb, n;
	uint64_t k0, k1;            /* SipHash key, drawn at the first insert */
};

/* The value stored under key, or NULL. */
void *sp_hmap_get(const struct sp_hmap *m, const void *key, size_t len);
/* Store val (not NULL) under a new key: SP_ERR_EXISTS if the key is there,
 * SP_ERR_NOMEM (table unchanged) if out of memory. */
int sp_hmap_put(struct sp_hmap *m, const void *key, size_t len, void *val);
/* Remove key; returns what it held, or NULL if it was not there. */
void *sp_hmap_del(struct sp_hmap *m, const void *key, size_t len);
static inline size_t sp_hmap_count(const struct sp_hmap *m) { return m->n; }
/* Drop every entry (not the values) and the buckets. */
void sp_hmap_free(struct sp_hmap *m);

/* The keyed hash itself (SipHash-1-3: 1 compression, 3 finalisation rounds). */
uint64_t sp_siphash13(uint64_t k0, uint64_t k1, const void *p, size_t len);

#endif
