/* hmap.c - chained hash table under SipHash-1-3; see hmap.h for the contract. */
#include "hmap.h"
#include "err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define HMAP_MIN_BUCKETS 64

struct sp_hmap_entry {
	struct sp_hmap_entry *next;
	uint64_t hash;
	void *val;
	size_t len;
	unsigned char key[];
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static uint64_t
load_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t
sp_siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static size_t
slot(const struct sp_hmap *m, uint64_t h)
{
	return (size_t)(h & (uint64_t)(m->nb - 1));
}

static struct sp_hmap_entry **
find(const struct sp_hmap *m, const void *key, size_t len, uint64_t h)
{
	struct sp_hmap_entry **pp;

	for (pp = &m->b[slot(m, h)]; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->len == len && memcmp((*pp)->key, key, len) == 0)
			return pp;
	return NULL;
}

/* A fresh random key; without getrandom, something no outsider reads. */
static void
draw_key(struct sp_hmap *m)
{
	uint64_t k[2];

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)m;
		k[1] = sp_siphash13(k[0], (uint64_t)(uintptr_t)&ts, &ts, sizeof(ts));
	}
	m->k0 = k[0];
	m->k1 = k[1];
}

static int
grow(struct sp_hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : HMAP_MIN_BUCKETS, i;
	struct sp_hmap_entry **b, *e, *next;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return SP_OK;
}

void *
sp_hmap_get(const struct sp_hmap *m, const void *key, size_t len)
{
	struct sp_hmap_entry **pp;

	if (m->n == 0)
		return NULL;
	pp = find(m, key, len, sp_siphash13(m->k0, m->k1, key, len));
	return pp != NULL ? (*pp)->val : NULL;
}

int
sp_hmap_put(struct sp_hmap *m, const void *key, size_t len, void *val)
{
	struct sp_hmap_entry *e;
	uint64_t h;

	if (val == NULL)
		return SP_ERR_INVALID;
	if (m->b == NULL) {
		draw_key(m);
		if (grow(m) != SP_OK)
			return SP_ERR_NOMEM;
	}
	h = sp_siphash13(m->k0, m->k1, key, len);
	if (find(m, key, len, h) != NULL)
		return SP_ERR_EXISTS;
	/* Doubling can fail and leave the table as it was: still correct,
	 * only its chains grow longer. */
	if (m->n >= m->nb)
		(void)grow(m);
	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return SP_ERR_NOMEM;
	e->hash = h;
	e->val = val;
	e->len = len;
	memcpy(e->key, key, len);
	e->next = m->b[slot(m, h)];
	m->b[slot(m, h)] = e;
	m->n++;
	return SP_OK;
}

void *
sp_hmap_del(struct sp_hmap *m, const void *key, size_t len)
{
	struct sp_hmap_entry **pp, *e;
	void *val;

	if (m->n == 0)
		return NULL;
	if ((pp = find(m, key, len, sp_siphash13(m->k0, m->k1, key, len))) == NULL)
		return NULL;
	e = *pp;
	*pp = e->next;
	val = e->val;
	free(e);
	m->n--;
	return val;
}

void
sp_hmap_free(struct sp_hmap *m)
{
	size_t i;
	struct sp_hmap_entry *e, *next;

	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
