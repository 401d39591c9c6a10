/*
 * memtrim.h - give the heap a burst of sessions used back to the system.
 *
 * glibc keeps freed memory in its arenas: after 2000 sessions ended the DMZ
 * process still held the 84 MiB they had used. The owner of a count of
 * sessions (server sessions, client pipes) tells sp_memtrim_note() the count
 * after each one is freed; when the count has fallen to a quarter of its peak
 * since the last trim (or to zero after at least SP_MEMTRIM_MIN), the free
 * heap is returned with malloc_trim(0). A burst draining from N costs about
 * log4(N) trims, a process serving one session at a time none.
 *
 * Call it from deferred work, after the frees (malloc_trim walks every arena
 * and takes milliseconds on a large heap). One struct per count; not
 * thread-safe (the loop's thread owns it).
 */
#ifndef SP_MEMTRIM_H
#define SP_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>

#define SP_MEMTRIM_MIN 8

struct sp_memtrim {
	size_t peak;      /* highest count seen since the last trim */
	unsigned long trims;
};

/* Whether a trim is due at `count`; updates the peak (no trim made). */
bool sp_memtrim_due(struct sp_memtrim *t, size_t count);
/* sp_memtrim_due(), and the trim when it is due. */
void sp_memtrim_note(struct sp_memtrim *t, size_t count);
/* Record a new count on the way up (each new session). */
static inline void sp_memtrim_up(struct sp_memtrim *t, size_t count)
{ if (count > t->peak) t->peak = count; }

#endif
