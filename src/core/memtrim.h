/*
 * memtrim.h - give the heap a burst of sessions used back to the system.
 *
 * glibc keeps freed memory in its arenas: after 2000 sessions ended the DMZ
 * process still held the 84 MiB they had used. The owner of a count of
 * sessions (server sessions, client pipes) tells sp_memtrim_note() the count
 * after each one is freed; when the count has fallen to a quarter of its peak
 * since the last trim decision (a peak of at least SP_MEMTRIM_MIN), the free
 * heap is returned with malloc_trim(0).
 *
 * At most one trim per SP_MEMTRIM_INTERVAL_MS: a trim that falls due sooner
 * runs from a timer when the interval is over. Under steady churn (a flood of
 * short connections) trimming on every dip cost more than it gave back: the
 * pages returned were faulted in again at once.
 *
 * Call it from deferred work, after the frees. One struct per count, zeroed
 * before first use; not thread-safe (the loop's thread owns it).
 */
#ifndef SP_MEMTRIM_H
#define SP_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define SP_MEMTRIM_MIN 8
#define SP_MEMTRIM_INTERVAL_MS 1000

struct sp_memtrim {
	size_t peak;          /* highest count seen since the last decision */
	unsigned long trims;  /* malloc_trim calls made */
	uint64_t last;        /* loop clock of the last trim */
	struct sp_loop *loop; /* set by the first sp_memtrim_note() */
	struct sp_timer timer;/* a trim that waits for the interval */
};

/* Whether a trim is due at `count` (the policy alone; updates the peak). */
bool sp_memtrim_due(struct sp_memtrim *t, size_t count);
/* sp_memtrim_due(), and the trim when it is due: now, or at the end of the
 * interval. */
void sp_memtrim_note(struct sp_memtrim *t, struct sp_loop *loop, size_t count);
/* Record a new count on the way up (each new session). */
static inline void sp_memtrim_up(struct sp_memtrim *t, size_t count)
{ if (count > t->peak) t->peak = count; }
/* Drop a waiting trim (before the loop goes away). */
void sp_memtrim_stop(struct sp_memtrim *t);

#endif
