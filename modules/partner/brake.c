/*
 * brake.c - failed attempts per source address: `max_failures` refusals
 * within `window_ms` block the address for `block_ms`, and a blocked address
 * is refused at accept, before TLS, so a password guesser costs us a TCP
 * accept per try instead of a handshake and a PBKDF2 computation.
 *
 * What counts is the caller's choice (partner.c): refusals, failed or
 * unfinished handshakes, SSID timeouts and protocol violations before a
 * partner was accepted. Password checks count from the moment they start:
 * a check in flight holds one of the address's `max_failures` places until
 * its answer (pm_brake_begin / pm_brake_end), so guesses sent all at once
 * cannot pass the brake while their PBKDF2 runs; a right password gives its
 * place back, so a partner's own sessions never brake it.
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
	unsigned inflight;      /* password checks begun and not ended */
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
	return now >= e->window_end && now >= e->blocked_until && e->inflight == 0;
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

/* The address's entry, created when missing; NULL when the table is full.
 * Called with the lock held. */
static struct pm_brake_entry *
entry(struct pm_brake *b, const char *addr, uint64_t now_ms)
{
	struct pm_brake_entry *e = *slot(b, addr);

	if (e != NULL)
		return e;
	if (b->nentries >= PM_BRAKE_ENTRIES)
		sweep(b, now_ms);
	if (b->nentries < PM_BRAKE_ENTRIES && (e = calloc(1, sizeof(*e))) != NULL) {
		strcpy(e->addr, addr);
		e->next = b->bucket[pm_hash_str(addr) & (PM_BRAKE_BUCKETS - 1)];
		b->bucket[pm_hash_str(addr) & (PM_BRAKE_BUCKETS - 1)] = e;
		b->nentries++;
	}
	return e;
}

/* One failure on e; true when it started a block. Lock held. */
static bool
fail_locked(struct pm_brake_entry *e, const struct pm_brake_conf *c, uint64_t now_ms,
    unsigned *failures)
{
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
		return true;
	}
	return false;
}

bool
pm_brake_fail(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms, unsigned *failures)
{
	struct pm_brake_entry *e;
	bool started = false;

	*failures = 0;
	if (c->max_failures == 0 || strlen(addr) >= PM_ADDR_MAX)
		return false;
	pthread_mutex_lock(&b->lock);
	if ((e = entry(b, addr, now_ms)) != NULL)
		started = fail_locked(e, c, now_ms, failures);
	pthread_mutex_unlock(&b->lock);
	return started;
}

bool
pm_brake_begin(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms)
{
	struct pm_brake_entry *e;
	bool ok = true;

	if (c->max_failures == 0 || strlen(addr) >= PM_ADDR_MAX)
		return true;
	pthread_mutex_lock(&b->lock);
	if ((e = entry(b, addr, now_ms)) != NULL) {
		unsigned failed = now_ms >= e->window_end ? 0 : e->failures;

		if (failed + e->inflight >= c->max_failures)
			ok = false;
		else
			e->inflight++;
	}
	/* A full table: the check runs uncounted, like a failure that cannot
	 * be recorded (see above). */
	pthread_mutex_unlock(&b->lock);
	return ok;
}

bool
pm_brake_end(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms, bool failed, unsigned *failures)
{
	struct pm_brake_entry *e;
	bool started = false;

	*failures = 0;
	if (strlen(addr) >= PM_ADDR_MAX)
		return false;
	pthread_mutex_lock(&b->lock);
	if ((e = *slot(b, addr)) != NULL) {
		if (e->inflight > 0)
			e->inflight--;
		if (failed && c->max_failures > 0)
			started = fail_locked(e, c, now_ms, failures);
	}
	pthread_mutex_unlock(&b->lock);
	return started;
}
