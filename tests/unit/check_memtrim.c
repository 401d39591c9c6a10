/*
 * check_memtrim.c - when memory is given back after a burst (memtrim.h):
 * at a quarter of the peak, about log4(peak) times for a whole drain, never
 * for a process that serves one session at a time, at most once per interval
 * (a trim due sooner waits for a timer).
 */
#include "core/err.h"
#include "core/memtrim.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(burst_drain_trims_at_quarters)
{
	struct sp_memtrim t = { .peak = 0 };
	size_t n, due[16], ndue = 0;

	for (n = 1; n <= 2000; n++)
		sp_memtrim_up(&t, n);
	for (n = 2000; n-- > 0;) {
		if (sp_memtrim_due(&t, n)) {
			ck_assert_uint_lt(ndue, 16);
			due[ndue++] = n;
		}
	}
	ck_assert_uint_eq(ndue, 4);
	ck_assert_uint_eq(due[0], 500);
	ck_assert_uint_eq(due[1], 125);
	ck_assert_uint_eq(due[2], 31);
	ck_assert_uint_eq(due[3], 7);
}
END_TEST

START_TEST(one_at_a_time_never_trims)
{
	struct sp_memtrim t = { .peak = 0 };
	int i;

	for (i = 0; i < 1000; i++) {
		sp_memtrim_up(&t, 1);
		ck_assert(!sp_memtrim_due(&t, 0));
	}
	/* A small crowd (below SP_MEMTRIM_MIN) neither. */
	for (i = 1; i < SP_MEMTRIM_MIN; i++)
		sp_memtrim_up(&t, (size_t)i);
	for (i = SP_MEMTRIM_MIN - 1; i-- > 0;)
		ck_assert(!sp_memtrim_due(&t, (size_t)i));
}
END_TEST

START_TEST(peak_restarts_after_a_trim)
{
	struct sp_memtrim t = { .peak = 0 };

	sp_memtrim_up(&t, 100);
	ck_assert(!sp_memtrim_due(&t, 26));
	ck_assert(sp_memtrim_due(&t, 25));
	/* A second burst from 25 up to 400, then down: due again at 100. */
	sp_memtrim_up(&t, 400);
	ck_assert(!sp_memtrim_due(&t, 101));
	ck_assert(sp_memtrim_due(&t, 100));
}
END_TEST

/* Two trims due at once: the first now, the second from the timer once the
 * interval is over, not both now and not never. */
START_TEST(second_trim_waits_for_the_interval)
{
	struct sp_memtrim t;
	struct sp_loop *loop;
	int i;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(sp_loop_new(&loop), SP_OK);
	sp_memtrim_up(&t, 100);
	sp_memtrim_note(&t, loop, 25);
	ck_assert_uint_eq(t.trims, 1);
	sp_memtrim_note(&t, loop, 6);
	ck_assert_uint_eq(t.trims, 1);
	ck_assert_uint_ne(t.timer.slot, 0);
	for (i = 0; i < 100 && t.trims < 2; i++)
		ck_assert_int_eq(sp_loop_once(loop, 100), SP_OK);
	ck_assert_uint_eq(t.trims, 2);
	ck_assert_uint_eq(t.timer.slot, 0);
	sp_memtrim_stop(&t);
	sp_loop_free(loop);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("memtrim");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, burst_drain_trims_at_quarters);
	tcase_add_test(tc, one_at_a_time_never_trims);
	tcase_add_test(tc, peak_restarts_after_a_trim);
	tcase_add_test(tc, second_trim_waits_for_the_interval);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
