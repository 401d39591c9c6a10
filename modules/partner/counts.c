/*
 * counts.c - open sessions per partner (ODETTE ID), kept across
 * configuration revisions so that a new revision does not reset a partner's
 * max_sessions. Ownership: entries belong to the table; an entry lives while
 * the partner has at least one open session. Locking: partner.h.
 */
#include "partner.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define PM_COUNT_BUCKETS 1024u          /* power of two */

struct pm_count_entry {
	struct pm_count_entry *next;
	unsigned open;
	char id[PM_ID_MAX + 1];
};

int
pm_counts_init(struct pm_counts *c)
{
	memset(c, 0, sizeof(*c));
	if ((c->bucket = calloc(PM_COUNT_BUCKETS, sizeof(*c->bucket))) == NULL)
		return SP_ERR_NOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->bucket);
		return SP_ERR_NOMEM;
	}
	return SP_OK;
}

void
pm_counts_fini(struct pm_counts *c)
{
	struct pm_count_entry *e, *next;
	size_t i;

	if (c->bucket == NULL)
		return;
	for (i = 0; i < PM_COUNT_BUCKETS; i++)
		for (e = c->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(c->bucket);
	c->bucket = NULL;
	pthread_mutex_destroy(&c->lock);
}

static struct pm_count_entry **
slot(struct pm_counts *c, const char *id)
{
	struct pm_count_entry **pp = &c->bucket[pm_hash_str(id) & (PM_COUNT_BUCKETS - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0)
			break;
	return pp;
}

int
pm_counts_take(struct pm_counts *c, const char *id, unsigned max,
    unsigned *open_now)
{
	struct pm_count_entry **pp, *e;
	int r = SP_OK;

	if (strlen(id) > PM_ID_MAX)
		return SP_ERR_INVALID;
	pthread_mutex_lock(&c->lock);
	pp = slot(c, id);
	e = *pp;
	*open_now = e ? e->open : 0;
	if (max > 0 && *open_now >= max)
		r = SP_ERR_LIMIT;
	else if (e == NULL && (e = calloc(1, sizeof(*e))) == NULL)
		r = SP_ERR_NOMEM;
	else {
		if (*pp == NULL) {
			strcpy(e->id, id);
			*pp = e;
		}
		e->open++;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
pm_counts_release(struct pm_counts *c, const char *id)
{
	struct pm_count_entry **pp, *e;

	pthread_mutex_lock(&c->lock);
	pp = slot(c, id);
	if ((e = *pp) != NULL && --e->open == 0) {
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&c->lock);
}
