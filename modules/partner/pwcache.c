/*
 * pwcache.c - remembers, per partner, a keyed digest of the last password
 * that passed PBKDF2, for PM_PWCACHE_TTL_MS: a partner that opens many
 * sessions pays the deliberately slow hash once every few minutes, while a
 * guesser pays it on every try (only successes are remembered).
 *
 * The HMAC key is random per process, so a digest is worthless outside it;
 * the entry also keeps the stored hash string, so a password change in the
 * configuration makes it miss at once. Bounded: at most PM_PWCACHE_MAX
 * entries, the oldest go first. Shared by sessions on any thread: a mutex.
 */
#include "partner.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pm_pwcache_entry {
	struct pm_pwcache_entry *next;
	char id[PM_ID_MAX + 1];
	unsigned char digest[32];
	char *hash;                 /* the configured password hash it was checked against */
	uint64_t until_ms;
};

static int
digest(const struct pm_pwcache *c, const char *id, const char *password, unsigned char out[32])
{
	gnutls_hmac_hd_t h;

	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, c->key, sizeof(c->key)) != 0)
		return -1;
	/* id and password are separated by a NUL: no two pairs collide. */
	gnutls_hmac(h, id, strlen(id) + 1);
	gnutls_hmac(h, password, strlen(password));
	gnutls_hmac_deinit(h, out);
	return 0;
}

int
pm_pwcache_init(struct pm_pwcache *c)
{
	memset(c, 0, sizeof(*c));
	if (gnutls_rnd(GNUTLS_RND_KEY, c->key, sizeof(c->key)) != 0)
		return -1;
	return pthread_mutex_init(&c->lock, NULL) == 0 ? 0 : -1;
}

static void
entry_free(struct pm_pwcache_entry *e)
{
	memset(e->digest, 0, sizeof(e->digest));
	free(e->hash);
	free(e);
}

void
pm_pwcache_fini(struct pm_pwcache *c)
{
	while (c->head != NULL) {
		struct pm_pwcache_entry *e = c->head;
		c->head = e->next;
		entry_free(e);
	}
	memset(c->key, 0, sizeof(c->key));
	pthread_mutex_destroy(&c->lock);
}

/* Unlinks and returns the entry of id, or NULL. Lock held. */
static struct pm_pwcache_entry *
take(struct pm_pwcache *c, const char *id)
{
	struct pm_pwcache_entry **pp, *e;

	for (pp = &c->head; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->id, id) == 0) {
			*pp = e->next;
			c->n--;
			return e;
		}
	}
	return NULL;
}

bool
pm_pwcache_hit(struct pm_pwcache *c, const char *id, const char *hash,
    const char *password, uint64_t now_ms)
{
	struct pm_pwcache_entry *e;
	unsigned char d[32], diff = 0;
	bool hit = false;
	size_t i;

	if (digest(c, id, password, d) != 0)
		return false;
	pthread_mutex_lock(&c->lock);
	for (e = c->head; e != NULL; e = e->next)
		if (strcmp(e->id, id) == 0)
			break;
	if (e != NULL && e->until_ms > now_ms && strcmp(e->hash, hash) == 0) {
		for (i = 0; i < sizeof(d); i++)
			diff |= (unsigned char)(d[i] ^ e->digest[i]);
		hit = diff == 0;
	}
	pthread_mutex_unlock(&c->lock);
	memset(d, 0, sizeof(d));
	return hit;
}

void
pm_pwcache_put(struct pm_pwcache *c, const char *id, const char *hash,
    const char *password, uint64_t now_ms)
{
	struct pm_pwcache_entry *e, *old;

	if ((e = calloc(1, sizeof(*e))) == NULL || (e->hash = strdup(hash)) == NULL ||
	    digest(c, id, password, e->digest) != 0) {
		if (e != NULL)
			entry_free(e);
		return;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->until_ms = now_ms + PM_PWCACHE_TTL_MS;
	pthread_mutex_lock(&c->lock);
	if ((old = take(c, id)) != NULL)
		entry_free(old);
	if (c->n >= PM_PWCACHE_MAX) {
		/* New entries go to the head: the tail is the oldest. */
		struct pm_pwcache_entry **pp = &c->head;
		while ((*pp)->next != NULL)
			pp = &(*pp)->next;
		entry_free(*pp);
		*pp = NULL;
		c->n--;
	}
	e->next = c->head;
	c->head = e;
	c->n++;
	pthread_mutex_unlock(&c->lock);
}
