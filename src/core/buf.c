/* buf.c - bounded buffers and read cursors; see buf.h for the contract. */
#include "buf.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Smallest allocation: avoids many tiny reallocs for small messages. */
#define SP_BUF_MIN_ALLOC 256

void
sp_buf_init(struct sp_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Zero the part of the storage that ever held data. */
static void
wipe_used(struct sp_buf *b)
{
	if (b->data != NULL && b->used > 0)
		explicit_bzero(b->data, b->used);
	b->used = 0;
}

static void
note_used(struct sp_buf *b, size_t end)
{
	if (end > b->used)
		b->used = end;
}

void
sp_buf_free(struct sp_buf *b)
{
	if (b->data != NULL) {
		wipe_used(b);
		free(b->data);
	}
	b->data = NULL;
	b->off = b->len = b->cap = b->used = 0;
}

void
sp_buf_wipe_if_empty(struct sp_buf *b)
{
	if (b->len == 0) {
		b->off = 0;
		wipe_used(b);
	}
}

void
sp_buf_reset(struct sp_buf *b)
{
	b->off = b->len = 0;
}

void
sp_buf_release_if_empty(struct sp_buf *b)
{
	if (b->len == 0)
		sp_buf_free(b);
}

/* Ensure n more bytes fit at the tail, compacting or growing. */
static int
make_room(struct sp_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (n > b->max - b->len)
		return SP_ERR_LIMIT;
	if (b->data != NULL && b->off + b->len + n <= b->cap)
		return SP_OK;
	need = b->len + n;
	if (b->data != NULL && need <= b->cap) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		return SP_OK;
	}
	ncap = b->cap ? b->cap : SP_BUF_MIN_ALLOC;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max > need ? b->max : need;
	if ((nd = malloc(ncap)) == NULL)
		return SP_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(nd, b->data + b->off, b->len);
		wipe_used(b);
		free(b->data);
	}
	b->data = nd;
	b->off = 0;
	b->cap = ncap;
	b->used = b->len;
	return SP_OK;
}

int
sp_buf_put(struct sp_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return SP_OK;
	if ((r = make_room(b, n)) != 0)
		return r;
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
	note_used(b, b->off + b->len);
	return SP_OK;
}

int
sp_buf_put_u8(struct sp_buf *b, uint8_t v)
{
	return sp_buf_put(b, &v, 1);
}

int
sp_buf_put_u16be(struct sp_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return sp_buf_put(b, x, sizeof(x));
}

int
sp_buf_put_u24be(struct sp_buf *b, uint32_t v)
{
	uint8_t x[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	if (v > 0xffffff)
		return SP_ERR_INVALID;
	return sp_buf_put(b, x, sizeof(x));
}

int
sp_buf_put_u32be(struct sp_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };
	return sp_buf_put(b, x, sizeof(x));
}

int
sp_buf_putf(struct sp_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	char *big = NULL;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return SP_ERR_INVALID;
	if ((size_t)n < sizeof(small))
		return sp_buf_put(b, small, (size_t)n);
	if ((size_t)n > sp_buf_room(b))
		return SP_ERR_LIMIT;
	if ((big = malloc((size_t)n + 1)) == NULL)
		return SP_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = sp_buf_put(b, big, (size_t)n);
	free(big);
	return r;
}

int
sp_buf_reserve(struct sp_buf *b, size_t want, uint8_t **out, size_t *got)
{
	size_t room = sp_buf_room(b);
	int r;

	if (room == 0)
		return SP_ERR_LIMIT;
	if (want > room)
		want = room;
	if ((r = make_room(b, want)) != 0)
		return r;
	*out = b->data + b->off + b->len;
	*got = want;
	/* The caller may write anywhere in what it was given. */
	note_used(b, b->off + b->len + want);
	return SP_OK;
}

void
sp_buf_commit(struct sp_buf *b, size_t n)
{
	/* Callers commit what they reserved; more is a programming error. */
	if (b->data == NULL || b->off + b->len + n > b->cap)
		abort();
	b->len += n;
}

int
sp_buf_consume(struct sp_buf *b, size_t n)
{
	if (n > b->len)
		return SP_ERR_SHORT;
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
	return SP_OK;
}

int
sp_rd_peek_u8(const struct sp_rd *r, uint8_t *v)
{
	if (sp_rd_left(r) < 1)
		return SP_ERR_SHORT;
	*v = r->p[r->pos];
	return SP_OK;
}

int
sp_rd_u16be(struct sp_rd *r, uint16_t *v)
{
	if (sp_rd_left(r) < 2)
		return SP_ERR_SHORT;
	*v = (uint16_t)((r->p[r->pos] << 8) | r->p[r->pos + 1]);
	r->pos += 2;
	return SP_OK;
}

int
sp_rd_u24be(struct sp_rd *r, uint32_t *v)
{
	if (sp_rd_left(r) < 3)
		return SP_ERR_SHORT;
	*v = ((uint32_t)r->p[r->pos] << 16) | ((uint32_t)r->p[r->pos + 1] << 8) |
	    r->p[r->pos + 2];
	r->pos += 3;
	return SP_OK;
}

int
sp_rd_u32be(struct sp_rd *r, uint32_t *v)
{
	if (sp_rd_left(r) < 4)
		return SP_ERR_SHORT;
	*v = ((uint32_t)r->p[r->pos] << 24) | ((uint32_t)r->p[r->pos + 1] << 16) |
	    ((uint32_t)r->p[r->pos + 2] << 8) | r->p[r->pos + 3];
	r->pos += 4;
	return SP_OK;
}

int
sp_rd_bytes(struct sp_rd *r, size_t n, const uint8_t **out)
{
	if (sp_rd_left(r) < n)
		return SP_ERR_SHORT;
	*out = r->p + r->pos;
	r->pos += n;
	return SP_OK;
}

int
sp_rd_copy(struct sp_rd *r, void *dst, size_t n)
{
	if (sp_rd_left(r) < n)
		return SP_ERR_SHORT;
	memcpy(dst, r->p + r->pos, n);
	r->pos += n;
	return SP_OK;
}
