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
	return true;
}

static void
trim_now(struct sp_memtrim *t)
{
	t->last = sp_loop_now(t->loop);
	t->trims++;
#ifdef HAVE_MALLOC_TRIM
	(void)malloc_trim(0);
#endif
}

static void
on_timer(struct sp_loop *loop, struct sp_timer *tm, void *arg)
{
	trim_now(arg);
}

void
sp_memtrim_note(struct sp_memtrim *t, struct sp_loop *loop, size_t count)
{
	uint64_t now;

	if (!sp_memtrim_due(t, count))
		return;
	if (t->loop == NULL) {
		t->loop = loop;
		sp_timer_init(&t->timer, on_timer, t);
	}
	now = sp_loop_now(loop);
	if (t->trims == 0 || now >= t->last + SP_MEMTRIM_INTERVAL_MS) {
		sp_timer_stop(loop, &t->timer);
		trim_now(t);
		return;
	}
	/* Too soon after the last one: once, when the interval is over. */
	if (t->timer.slot == 0)
		sp_timer_start(loop, &t->timer, t->last + SP_MEMTRIM_INTERVAL_MS - now);
}

void
sp_memtrim_stop(struct sp_memtrim *t)
{
	if (t->loop != NULL)
		sp_timer_stop(t->loop, &t->timer);
}
