/*
 * buf.h - bounded byte buffers and read cursors for outside bytes.
 *
 * struct sp_buf is a FIFO of bytes with a hard maximum fixed at init. Storage
 * is allocated lazily on the first write and can be released when the buffer
 * is empty, so an idle connection costs no buffer memory. Every write checks
 * the bound and returns SP_ERR_LIMIT instead of growing past it; the buffer is
 * never left half-written. The buffer remembers how far into its storage bytes
 * were ever written (`used`); sp_buf_free(), sp_buf_wipe_if_empty() and a
 * growing reallocation zero exactly those bytes, so secrets that passed
 * through do not linger on the heap and a drained buffer that keeps its
 * storage costs no more than the bytes it carried.
 *
 * struct sp_rd is a read-only cursor over bytes owned by someone else. All
 * parsing of bytes that came from the network goes through it: each getter
 * checks the remaining length first and returns SP_ERR_SHORT without moving
 * when the bytes are not there.
 *
 * Ownership: an sp_buf owns its storage; the struct itself belongs to the
 * caller (usually embedded). An sp_rd owns nothing.
 */
#ifndef SP_BUF_H
#define SP_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct sp_buf {
	uint8_t *data;  /* storage, NULL until first write */
	size_t off;     /* start of readable bytes */
	size_t len;     /* readable bytes */
	size_t cap;     /* allocated size */
	size_t used;    /* storage [0, used) may hold data not yet wiped */
	size_t max;     /* hard limit on len */
};

void sp_buf_init(struct sp_buf *b, size_t max);
void sp_buf_free(struct sp_buf *b);
/* Drop all content; keep storage. */
void sp_buf_reset(struct sp_buf *b);
/* Free storage if empty, to keep idle connections small. */
void sp_buf_release_if_empty(struct sp_buf *b);
/* If empty: zero the bytes that held data, keep the storage for the next
 * write (a busy connection's output buffer drains many times a second). */
void sp_buf_wipe_if_empty(struct sp_buf *b);

static inline size_t sp_buf_len(const struct sp_buf *b) { return b->len; }
static inline size_t sp_buf_room(const struct sp_buf *b) { return b->max - b->len; }
static inline const uint8_t *sp_buf_ptr(const struct sp_buf *b)
{ return b->data ? b->data + b->off : (const uint8_t *)""; }

/* Append n bytes; SP_ERR_LIMIT if that would pass max, SP_ERR_NOMEM. */
int sp_buf_put(struct sp_buf *b, const void *p, size_t n);
int sp_buf_put_u8(struct sp_buf *b, uint8_t v);
int sp_buf_put_u16be(struct sp_buf *b, uint16_t v);
int sp_buf_put_u24be(struct sp_buf *b, uint32_t v);
int sp_buf_put_u32be(struct sp_buf *b, uint32_t v);
/* printf-style append, bounded like sp_buf_put. */
int sp_buf_putf(struct sp_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Make room for up to `want` bytes at the tail and return a pointer to it in
 * *out and the usable size in *got (at most want, at most sp_buf_room()).
 * Follow with sp_buf_commit(b, n) for the n bytes actually written. Used to
 * read(2) straight into the buffer. SP_ERR_LIMIT if the buffer is full.
 */
int sp_buf_reserve(struct sp_buf *b, size_t want, uint8_t **out, size_t *got);
void sp_buf_commit(struct sp_buf *b, size_t n);

/* Remove n bytes from the head; SP_ERR_SHORT if fewer are buffered. */
int sp_buf_consume(struct sp_buf *b, size_t n);

/* Read cursor over foreign bytes. */
struct sp_rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static inline void sp_rd_init(struct sp_rd *r, const void *p, size_t len)
{ r->p = (const uint8_t *)p; r->len = len; r->pos = 0; }
static inline size_t sp_rd_left(const struct sp_rd *r) { return r->len - r->pos; }
static inline size_t sp_rd_pos(const struct sp_rd *r) { return r->pos; }

/* sp_rd_u8 and sp_rd_skip are inline: the walk over a DATA buffer calls
 * them once per subrecord. */
static inline int sp_rd_u8(struct sp_rd *r, uint8_t *v)
{
	if (sp_rd_left(r) < 1)
		return SP_ERR_SHORT;
	*v = r->p[r->pos++];
	return SP_OK;
}
int sp_rd_u16be(struct sp_rd *r, uint16_t *v);
int sp_rd_u24be(struct sp_rd *r, uint32_t *v);
int sp_rd_u32be(struct sp_rd *r, uint32_t *v);
/* Point *out at the next n bytes (no copy) and advance. */
int sp_rd_bytes(struct sp_rd *r, size_t n, const uint8_t **out);
int sp_rd_copy(struct sp_rd *r, void *dst, size_t n);
static inline int sp_rd_skip(struct sp_rd *r, size_t n)
{
	if (sp_rd_left(r) < n)
		return SP_ERR_SHORT;
	r->pos += n;
	return SP_OK;
}
/* Look without advancing. */
int sp_rd_peek_u8(const struct sp_rd *r, uint8_t *v);

#endif
