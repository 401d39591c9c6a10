/*
 * brake.c - failed attempts per source address: `max_failures` refusals
 * within `window_ms` block the address for `block_ms`, and a blocked address
 * is refused at accept, before TLS, so a password guesser costs us a TCP
 * accept per try instead of a handshake and a PBKDF2 computation.
 *
 * The table is bounded (PM_BRAKE_ENTRIES): when full, stale entries are swept;
 * if it is still full the failure is not recorded (the caller logs the
 * failure anyway). Ownership: entries belong to the table, freed in
 * pm_brake_fini(). Locking: partner.h.
 */
#include "partner.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define PM_BRAKE_BUCKETS 4096u          /* power of two */
#define PM_BRAKE_ENTRIES 65536u

struct pm_brake_entry {
	struct pm_brake_entry *next;
	uint64_t window_end;    /* failures count until then */
	uint64_t blocked_until; /* 0: not blocked */
	unsigned failures;
	char addr[PM_ADDR_MAX];
};

unsigned
pm_hash_str(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int
pm_brake_init(struct pm_brake *b)
{
	memset(b, 0, sizeof(*b));
	if ((b->bucket = calloc(PM_BRAKE_BUCKETS, sizeof(*b->bucket))) == NULL)
		return SP_ERR_NOMEM;
	if (pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b->bucket);
		return SP_ERR_NOMEM;
	}
	return SP_OK;
}

void
pm_brake_fini(struct pm_brake *b)
{
	struct pm_brake_entry *e, *next;
	size_t i;

	if (b->bucket == NULL)
		return;
	for (i = 0; i < PM_BRAKE_BUCKETS; i++)
		for (e = b->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(b->bucket);
	b->bucket = NULL;
	pthread_mutex_destroy(&b->lock);
}

static struct pm_brake_entry **
slot(struct pm_brake *b, const char *addr)
{
	struct pm_brake_entry **pp = &b->bucket[pm_hash_str(addr) & (PM_BRAKE_BUCKETS - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->addr, addr) == 0)
			break;
	return pp;
}

static bool
stale(const struct pm_brake_entry *e, uint64_t now)
{
	return now >= e->window_end && now >= e->blocked_until;
}

static void
sweep(struct pm_brake *b, uint64_t now)
{
	struct pm_brake_entry **pp, *e;
	size_t i;

	for (i = 0; i < PM_BRAKE_BUCKETS; i++)
		for (pp = &b->bucket[i]; (e = *pp) != NULL;) {
			if (stale(e, now)) {
				*pp = e->next;
				free(e);
				b->nentries--;
			} else
				pp = &e->next;
		}
}

uint64_t
pm_brake_blocked(struct pm_brake *b, const char *addr, uint64_t now_ms)
{
	struct pm_brake_entry *e;
	uint64_t left = 0;

	pthread_mutex_lock(&b->lock);
	e = *slot(b, addr);
	if (e != NULL && e->blocked_until > now_ms)
		left = e->blocked_until - now_ms;
	pthread_mutex_unlock(&b->lock);
	return left;
}

bool
pm_brake_fail(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms, unsigned *failures)
{
	struct pm_brake_entry **pp, *e;
	bool started = false;

	*failures = 0;
	if (c->max_failures == 0 || strlen(addr) >= PM_ADDR_MAX)
		return false;
	pthread_mutex_lock(&b->lock);
	pp = slot(b, addr);
	if ((e = *pp) == NULL) {
		if (b->nentries >= PM_BRAKE_ENTRIES)
			sweep(b, now_ms);
		if (b->nentries < PM_BRAKE_ENTRIES && (e = calloc(1, sizeof(*e))) != NULL) {
			strcpy(e->addr, addr);
			e->next = b->bucket[pm_hash_str(addr) & (PM_BRAKE_BUCKETS - 1)];
			b->bucket[pm_hash_str(addr) & (PM_BRAKE_BUCKETS - 1)] = e;
			b->nentries++;
		}
	}
	if (e != NULL) {
		if (now_ms >= e->window_end) {
			e->failures = 0;
			e->window_end = now_ms + c->window_ms;
		}
		*failures = ++e->failures;
		/* Failures of sessions that began before the block started do not
		 * start a second one: the block runs from the first. */
		if (e->failures >= c->max_failures && e->blocked_until <= now_ms) {
			e->blocked_until = now_ms + c->block_ms;
			e->failures = 0;
			e->window_end = now_ms;
			started = true;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return started;
}
