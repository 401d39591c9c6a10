/* check_workers.c - thread pool: results on the loop, bound, cancellation. */
#include "core/err.h"
#include "core/loop.h"
#include "core/workers.h"

#include <check.h>
#include <stdlib.h>
#include <unistd.h>

struct item {
	unsigned long in, out;
	int *done_count;
	int *cancelled;
	bool slow;
};

static void
work(void *arg)
{
	struct item *it = arg;
	unsigned long i, x = it->in;

	if (it->slow)
		usleep(200000);
	for (i = 0; i < 1000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	it->out = x;
}

static void
done(void *arg, bool cancelled)
{
	struct item *it = arg;

	(*it->done_count)++;
	if (cancelled)
		(*it->cancelled)++;
}

START_TEST(results_come_back_on_the_loop)
{
	struct sp_loop *l;
	struct sp_workers *w;
	struct item items[100];
	int n = 0, c = 0, i, spins;

	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	ck_assert_int_eq(sp_workers_new(l, 2, 1000, &w), SP_OK);
	for (i = 0; i < 100; i++) {
		items[i] = (struct item){ .in = (unsigned long)i, .done_count = &n, .cancelled = &c };
		ck_assert_int_eq(sp_workers_submit(w, work, done, &items[i]), SP_OK);
	}
	for (spins = 0; spins < 1000 && n < 100; spins++)
		ck_assert_int_eq(sp_loop_once(l, 50), SP_OK);
	ck_assert_int_eq(n, 100);
	ck_assert_int_eq(c, 0);
	for (i = 0; i < 100; i++)
		ck_assert_uint_ne(items[i].out, 0);
	sp_workers_free(w);
	sp_loop_free(l);
}
END_TEST

START_TEST(bounded_and_cancelled_at_free)
{
	struct sp_loop *l;
	struct sp_workers *w;
	struct item items[6];
	int n = 0, c = 0, i, accepted = 0;

	ck_assert_int_eq(sp_loop_new(&l), SP_OK);
	ck_assert_int_eq(sp_workers_new(l, 1, 4, &w), SP_OK);
	for (i = 0; i < 6; i++) {
		items[i] = (struct item){ .in = 1, .done_count = &n, .cancelled = &c, .slow = true };
		if (sp_workers_submit(w, work, done, &items[i]) == SP_OK)
			accepted++;
		else
			ck_assert_int_eq(i >= 4, 1);
	}
	ck_assert_int_eq(accepted, 4);
	sp_workers_free(w); /* one is running, the rest never start */
	ck_assert_int_eq(n, 4);
	ck_assert_int_ge(c, 2);
	sp_loop_free(l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, results_come_back_on_the_loop);
	tcase_add_test(tc, bounded_and_cancelled_at_free);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
