/* memtrim.c - give freed heap back after a burst; see memtrim.h. */
#include "config.h"
#include "memtrim.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

bool
sp_memtrim_due(struct sp_memtrim *t, size_t count)
{
	if (count > t->peak)
		t->peak = count;
	if (t->peak < SP_MEMTRIM_MIN || count > t->peak / 4)
		return false;
	t->peak = count;
	t->trims++;
	return true;
}

void
sp_memtrim_note(struct sp_memtrim *t, size_t count)
{
	if (!sp_memtrim_due(t, count))
		return;
#ifdef HAVE_MALLOC_TRIM
	(void)malloc_trim(0);
#endif
}
