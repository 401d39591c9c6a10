/* check_loop.c - event loop: fd events, timer order, deferred work. */
#include "core/err.h"
#include "core/loop.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int order[16];
static int norder;

static void
record(struct sp_loop *l, struct sp_timer *t, void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
	if (norder == 3)
		sp_loop_stop(l);
}

START_TEST(timers_fire_in_order)
{
	struct sp_loop *l;
	struct sp_timer t[4];

	norder = 0;
	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	sp_timer_init(&t[0], record, (void *)(intptr_t)30);
	sp_timer_init(&t[1], record, (void *)(intptr_t)10);
	sp_timer_init(&t[2], record, (void *)(intptr_t)20);
	sp_timer_init(&t[3], record, (void *)(intptr_t)99);
	ck_assert_int_eq(sp_timer_start(l, &t[0], 30), SP_OK);
	ck_assert_int_eq(sp_timer_start(l, &t[1], 10), SP_OK);
	ck_assert_int_eq(sp_timer_start(l, &t[3], 15), SP_OK);
	ck_assert_int_eq(sp_timer_start(l, &t[2], 20), SP_OK);
	sp_timer_stop(l, &t[3]); /* stopped timers never fire */
	ck_assert(!sp_timer_armed(&t[3]));
	ck_assert_int_eq(sp_loop_run(l), SP_OK);
	ck_assert_int_eq(norder, 3);
	ck_assert_int_eq(order[0], 10);
	ck_assert_int_eq(order[1], 20);
	ck_assert_int_eq(order[2], 30);
	sp_loop_free(l);
}
END_TEST

START_TEST(timer_heap_many)
{
	struct sp_loop *l;
	struct sp_timer *t;
	int i;

	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	t = calloc(1000, sizeof(*t));
	for (i = 0; i < 1000; i++) {
		sp_timer_init(&t[i], record, NULL);
		ck_assert_int_eq(sp_timer_start(l, &t[i], (uint64_t)(100000 + (i * 7919) % 1000)), SP_OK);
	}
	/* Stop in a scattered order; the heap must stay consistent. */
	for (i = 0; i < 1000; i += 3)
		sp_timer_stop(l, &t[(i * 31) % 1000]);
	for (i = 0; i < 1000; i++)
		sp_timer_stop(l, &t[i]);
	for (i = 0; i < 1000; i++)
		ck_assert(!sp_timer_armed(&t[i]));
	free(t);
	sp_loop_free(l);
}
END_TEST

struct pipe_state {
	int fds[2];
	int reads;
	char got[8];
};

static void
on_read(struct sp_loop *l, int fd, unsigned ev, void *arg)
{
	struct pipe_state *ps = arg;

	ck_assert(ev & SP_EV_READ);
	ck_assert_int_eq(read(fd, ps->got, sizeof(ps->got)), 5);
	ps->reads++;
	sp_loop_stop(l);
}

START_TEST(fd_readable)
{
	struct sp_loop *l;
	struct pipe_state ps = { .reads = 0 };

	ck_assert_int_eq(pipe(ps.fds), 0);
	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	ck_assert_int_eq(sp_loop_add(l, ps.fds[0], SP_EV_READ, on_read, &ps), SP_OK);
	ck_assert_int_eq(sp_loop_add(l, ps.fds[0], SP_EV_READ, on_read, &ps), SP_ERR_EXISTS);
	ck_assert_int_eq(write(ps.fds[1], "hello", 5), 5);
	ck_assert_int_eq(sp_loop_run(l), SP_OK);
	ck_assert_int_eq(ps.reads, 1);
	ck_assert_mem_eq(ps.got, "hello", 5);
	/* Interest 0: data waits, no callback. */
	ck_assert_int_eq(sp_loop_set(l, ps.fds[0], 0), SP_OK);
	ck_assert_int_eq(write(ps.fds[1], "again", 5), 5);
	ck_assert_int_eq(sp_loop_once(l, 20), SP_OK);
	ck_assert_int_eq(ps.reads, 1);
	sp_loop_del(l, ps.fds[0]);
	ck_assert_int_eq(sp_loop_set(l, ps.fds[0], SP_EV_READ), SP_ERR_NOT_FOUND);
	close(ps.fds[0]);
	close(ps.fds[1]);
	sp_loop_free(l);
}
END_TEST

static int defers_run;

static void
on_defer(struct sp_loop *l, struct sp_defer *d, void *arg)
{
	defers_run++;
	if (arg != NULL)
		sp_defer_queue(l, d); /* re-queue: runs next iteration, not now */
}

START_TEST(defer_runs_once_per_queue)
{
	struct sp_loop *l;
	struct sp_defer a, b, c;

	defers_run = 0;
	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	sp_defer_init(&a, on_defer, NULL);
	sp_defer_init(&b, on_defer, (void *)1);
	sp_defer_init(&c, on_defer, NULL);
	sp_defer_queue(l, &a);
	sp_defer_queue(l, &a); /* no double entry */
	sp_defer_queue(l, &b);
	sp_defer_queue(l, &c);
	sp_defer_cancel(l, &c);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(defers_run, 2);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(defers_run, 3); /* only b, which re-queued itself */
	sp_defer_cancel(l, &b);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(defers_run, 3);
	sp_loop_free(l);
}
END_TEST

/*
 * A defer that cancels another one queued behind it in the same pass (a
 * session ending closes its other connection, whose READABLE was pending):
 * the cancelled one must not run, and everything queued behind it still
 * must. Cancelling used to cut the pass's list there, and the defers behind
 * stayed marked queued for ever: a connection's wake-up for data already
 * read from its socket was lost.
 */
static struct sp_defer *to_cancel;
static int ran[4];

static void
on_cancelling(struct sp_loop *l, struct sp_defer *d, void *arg)
{
	ran[(intptr_t)arg]++;
	if (to_cancel != NULL)
		sp_defer_cancel(l, to_cancel);
	to_cancel = NULL;
}

START_TEST(defer_cancel_during_run)
{
	struct sp_loop *l;
	struct sp_defer d[4];
	intptr_t i;

	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	memset(ran, 0, sizeof(ran));
	for (i = 0; i < 4; i++) {
		sp_defer_init(&d[i], on_cancelling, (void *)i);
		sp_defer_queue(l, &d[i]);
	}
	to_cancel = &d[1];
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(ran[0], 1);
	ck_assert_int_eq(ran[1], 0);     /* cancelled before its turn */
	ck_assert_int_eq(ran[2], 1);     /* behind it: still runs */
	ck_assert_int_eq(ran[3], 1);
	/* Nothing is left marked queued: each one can be queued again. */
	for (i = 0; i < 4; i++)
		sp_defer_queue(l, &d[i]);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ran[i], i == 1 ? 1 : 2);
	/* The last one of a pass cancelled, and one cancelled and queued again
	 * in the same pass: it runs once, in the next pass. */
	to_cancel = &d[3];
	for (i = 0; i < 4; i++)
		sp_defer_queue(l, &d[i]);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(ran[3], 2);
	sp_defer_queue(l, &d[3]);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(ran[3], 3);
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_int_eq(ran[3], 3);
	sp_loop_free(l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, timers_fire_in_order);
	tcase_add_test(tc, timer_heap_many);
	tcase_add_test(tc, fd_readable);
	tcase_add_test(tc, defer_runs_once_per_queue);
	tcase_add_test(tc, defer_cancel_during_run);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
