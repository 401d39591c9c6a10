/* check_mailbox.c - a loop's mailbox (sp_loop_post): messages from several
 * threads arrive once each, in order per sender, on the loop's thread; a
 * loop freed with messages waiting hands them back cancelled. */
#include "core/err.h"
#include "core/loop.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SENDERS 4
#define PER_SENDER 5000

struct tmsg {
	struct sp_msg m;
	unsigned sender, seq;
};

static struct {
	unsigned next[SENDERS];      /* the seq each sender's next message must have */
	unsigned got, cancelled, bad_order, wrong_thread;
	pthread_t loop_thread;
} R;

static void
on_msg(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct tmsg *t = (struct tmsg *)m;

	if (cancelled) {
		R.cancelled++;
	} else {
		if (!pthread_equal(pthread_self(), R.loop_thread) || sp_loop_current() != loop)
			R.wrong_thread++;
		if (t->seq != R.next[t->sender])
			R.bad_order++;
		R.next[t->sender] = t->seq + 1;
		if (++R.got == SENDERS * PER_SENDER)
			sp_loop_stop(loop);
	}
	free(t);
}

struct sender {
	struct sp_loop *loop;
	unsigned id;
};

static void *
send_all(void *arg)
{
	struct sender *s = arg;
	unsigned i;

	for (i = 0; i < PER_SENDER; i++) {
		struct tmsg *t = calloc(1, sizeof(*t));

		sp_msg_init(&t->m, on_msg);
		t->sender = s->id;
		t->seq = i;
		sp_loop_post(s->loop, &t->m);
	}
	return NULL;
}

static void
stop_now(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	sp_loop_stop(loop);
}

START_TEST(posts_from_threads_arrive_once_in_order)
{
	struct sp_loop *l;
	struct sender s[SENDERS];
	pthread_t th[SENDERS];
	struct sp_timer guard;
	unsigned i;

	memset(&R, 0, sizeof(R));
	R.loop_thread = pthread_self();
	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	ck_assert_ptr_eq(sp_loop_current(), NULL);
	/* A safety net only: the loop stops when the last message arrived. */
	sp_timer_init(&guard, stop_now, NULL);
	ck_assert_int_eq(sp_timer_start(l, &guard, 20000), SP_OK);
	for (i = 0; i < SENDERS; i++) {
		s[i].loop = l;
		s[i].id = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, send_all, &s[i]), 0);
	}
	ck_assert_int_eq(sp_loop_run(l), SP_OK);
	for (i = 0; i < SENDERS; i++)
		pthread_join(th[i], NULL);
	sp_timer_stop(l, &guard);
	ck_assert_uint_eq(R.got, SENDERS * PER_SENDER);
	ck_assert_uint_eq(R.bad_order, 0);
	ck_assert_uint_eq(R.wrong_thread, 0);
	for (i = 0; i < SENDERS; i++)
		ck_assert_uint_eq(R.next[i], PER_SENDER);
	/* Nothing more arrives: every message ran exactly once. */
	ck_assert_int_eq(sp_loop_once(l, 0), SP_OK);
	ck_assert_uint_eq(R.got, SENDERS * PER_SENDER);
	ck_assert_uint_eq(R.cancelled, 0);
	ck_assert_ptr_eq(sp_loop_current(), l);
	sp_loop_free(l);
	ck_assert_ptr_eq(sp_loop_current(), NULL);
}
END_TEST

START_TEST(free_cancels_waiting_messages)
{
	struct sp_loop *l;
	struct sender s = { NULL, 0 };
	pthread_t th;

	memset(&R, 0, sizeof(R));
	R.loop_thread = pthread_self();
	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	s.loop = l;
	ck_assert_int_eq(pthread_create(&th, NULL, send_all, &s), 0);
	pthread_join(th, NULL);
	/* Never run: each comes back cancelled, and frees itself (LSan). */
	sp_loop_free(l);
	ck_assert_uint_eq(R.got, 0);
	ck_assert_uint_eq(R.cancelled, PER_SENDER);
}
END_TEST

/* A message posted from a message callback runs in a later batch. */
static struct sp_loop *again_loop;
static unsigned again_runs;

static void
on_again(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	if (cancelled) {
		free(m);
		return;
	}
	if (++again_runs < 3)
		sp_loop_post(loop, m);
	else
		free(m);
}

START_TEST(post_from_callback)
{
	struct sp_msg *m = calloc(1, sizeof(*m));

	again_runs = 0;
	ck_assert_int_eq(sp_loop_new(&again_loop), SP_OK);
	sp_msg_init(m, on_again);
	sp_loop_post(again_loop, m);
	ck_assert_int_eq(sp_loop_once(again_loop, 1000), SP_OK);
	ck_assert_uint_eq(again_runs, 1);
	ck_assert_int_eq(sp_loop_once(again_loop, 1000), SP_OK);
	ck_assert_int_eq(sp_loop_once(again_loop, 1000), SP_OK);
	ck_assert_uint_eq(again_runs, 3);
	sp_loop_free(again_loop);
}
END_TEST

/* A cancelled message whose callback posts a follow-up to the same loop
 * (a session that never started tells the main loop, which with `loops: 1`
 * is the loop being freed): the follow-up comes back cancelled as well,
 * not left in a freed mailbox (LSan would see it). */
static unsigned relay_cancelled, relay_ran;

static void
on_follow_up(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	(void)loop;
	if (cancelled)
		relay_cancelled++;
	else
		relay_ran++;
	free(m);
}

static void
on_relay(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	if (cancelled) {
		relay_cancelled++;
		sp_msg_init(m, on_follow_up);
		sp_loop_post(loop, m);
		return;
	}
	relay_ran++;
	free(m);
}

START_TEST(free_cancels_what_cancelled_callbacks_post)
{
	struct sp_loop *l;
	unsigned i;

	relay_cancelled = relay_ran = 0;
	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	for (i = 0; i < 3; i++) {
		struct sp_msg *m = calloc(1, sizeof(*m));

		ck_assert_ptr_nonnull(m);
		sp_msg_init(m, on_relay);
		sp_loop_post(l, m);
	}
	sp_loop_free(l);
	ck_assert_uint_eq(relay_ran, 0);
	ck_assert_uint_eq(relay_cancelled, 6);   /* 3 relays, 3 follow-ups */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mailbox");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, posts_from_threads_arrive_once_in_order);
	tcase_add_test(tc, free_cancels_waiting_messages);
	tcase_add_test(tc, post_from_callback);
	tcase_add_test(tc, free_cancels_what_cancelled_callbacks_post);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
