/*
 * log_burst.c - the per-source windows of log_burst.h: a hash table for the
 * lookup on every security line and a FIFO in window order (windows all
 * last the same time, so the oldest ends first) for the expiry, both over
 * one fixed pool of entries.
 */
#include "core/log_burst.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024u           /* power of two */
#define SRC_MAX 64              /* longer than any numeric address text */
#define EVENT_MAX 32

struct burst {
	struct burst *hnext;    /* hash chain */
	struct burst *fnext;    /* FIFO, oldest window first; free list */
	int64_t start_ms;
	unsigned written, suppressed;
	char src[SRC_MAX];
	char event[EVENT_MAX];
};

static struct {
	struct burst *pool;     /* SP_LOG_BURST_SOURCES entries */
	struct burst *bucket[BUCKETS];
	struct burst *head, *tail, *free;
} B;

static unsigned
hash(const char *src, const char *event)
{
	uint32_t h = 2166136261u;       /* FNV-1a over "src event" */

	for (; *src != '\0'; src++)
		h = (h ^ (uint8_t)*src) * 16777619u;
	h = (h ^ ' ') * 16777619u;
	for (; *event != '\0'; event++)
		h = (h ^ (uint8_t)*event) * 16777619u;
	return h & (BUCKETS - 1);
}

static bool
table_init(void)
{
	size_t i;

	if (B.pool != NULL)
		return true;
	if ((B.pool = calloc(SP_LOG_BURST_SOURCES, sizeof(*B.pool))) == NULL)
		return false;
	for (i = 0; i < SP_LOG_BURST_SOURCES; i++) {
		B.pool[i].fnext = B.free;
		B.free = &B.pool[i];
	}
	return true;
}

static struct burst *
find(const char *src, const char *event)
{
	struct burst *b;

	for (b = B.bucket[hash(src, event)]; b != NULL; b = b->hnext)
		if (strcmp(b->src, src) == 0 && strcmp(b->event, event) == 0)
			return b;
	return NULL;
}

static void
unhash(struct burst *b)
{
	struct burst **pp = &B.bucket[hash(b->src, b->event)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == b) {
			*pp = b->hnext;
			return;
		}
}

static bool
over(const struct burst *b, int64_t now_ms)
{
	return now_ms - b->start_ms >= (int64_t)SP_LOG_BURST_WINDOW_MS ||
	    now_ms < b->start_ms;
}

size_t
sp_log_burst_expire(int64_t now_ms, sp_log_burst_report_fn *report, void *arg)
{
	struct burst *b;
	size_t n = 0;

	while ((b = B.head) != NULL && over(b, now_ms)) {
		B.head = b->fnext;
		if (B.head == NULL)
			B.tail = NULL;
		unhash(b);
		if (b->suppressed > 0 && report != NULL) {
			report(b->src, b->event, b->suppressed, SP_LOG_BURST_WINDOW_MS / 1000, arg);
			n++;
		}
		b->fnext = B.free;
		B.free = b;
	}
	return n;
}

bool
sp_log_burst_admit(const char *src, const char *event, int64_t now_ms)
{
	struct burst *b;

	if (event == NULL)
		event = "";
	if (src == NULL || src[0] == '\0' || strlen(src) >= SRC_MAX ||
	    strlen(event) >= EVENT_MAX || !table_init())
		return true;
	if ((b = find(src, event)) != NULL && !over(b, now_ms)) {
		if (b->written < SP_LOG_BURST_FIRST) {
			b->written++;
			return true;
		}
		b->suppressed++;
		return false;
	}
	/* A new window; an ended one of this source waits in the FIFO for
	 * sp_log_burst_expire (the caller runs it first). */
	if (b != NULL || (b = B.free) == NULL)
		return true;    /* full, or not expired yet: write, never lose */
	B.free = b->fnext;
	memset(b, 0, sizeof(*b));
	strcpy(b->src, src);
	strcpy(b->event, event);
	b->start_ms = now_ms;
	b->written = 1;
	b->hnext = B.bucket[hash(src, event)];
	B.bucket[hash(src, event)] = b;
	if (B.tail != NULL)
		B.tail->fnext = b;
	else
		B.head = b;
	B.tail = b;
	return true;
}

void
sp_log_burst_reset(void)
{
	free(B.pool);
	memset(&B, 0, sizeof(B));
}
