/* check_bridge.c - a module's questions to the backend on the main loop
 * (src/server/bridge.c: bridge_ask, bridge_answer, bridge_fail_asks). An
 * answer finds its question in a table by id, a question leaves the list
 * in O(1); whatever comes, each question gets exactly one answer: its own,
 * not a second one for the same id, its timeout and no late answer after
 * it, "no answer" when the tunnel is lost (also while its own question is
 * being sent), and questions at the head, in the middle and at the tail of
 * the list leave it without losing the others.
 *
 * The tunnel and the session loops are stand-ins: what the bridge sends the
 * client is recorded (tunnel_send), and an answer it hands a session loop
 * (xmsg_to_loop) is given to the question's callback at once. */
#include "server/server.h"
#include "server/session.h"
#include "server/sloop.h"
#include "core/err.h"
#include "core/loop.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANY 2000

/* One question's side: how often and with what it was answered. */
struct q {
	int answers;
	int status;
	char body[32];
	bool through_loop;          /* handed to its session loop */
};

static struct {
	int64_t ids[MANY + 8];      /* the ids of the "ask" messages sent */
	size_t nids;
	bool lose_on_send;          /* the control connection dies on a send */
	bool via_loop;              /* set while xmsg_to_loop delivers */
} T;

static struct server srv;
static struct sloop sl;
static int control_stand_in;

/* ---- stand-ins for the rest of the server ---- */

void
tunnel_send(struct server *s, json_object *msg)
{
	json_object *v;

	if (json_object_object_get_ex(msg, "id", &v) && T.nids < sizeof(T.ids) / sizeof(T.ids[0]))
		T.ids[T.nids++] = json_object_get_int64(v);
	json_object_put(msg);
	if (T.lose_on_send) {
		/* As tc_close -> control_lost does when a write fails. */
		s->control = NULL;
		bridge_fail_asks(s);
	}
}

struct xmsg *
xmsg_new(struct server *s, sp_msg_cb *cb)
{
	struct xmsg *x = calloc(1, sizeof(*x));

	if (x != NULL) {
		sp_msg_init(&x->m, cb);
		x->srv = s;
		x->fd = -1;
	}
	return x;
}

void
xmsg_free(struct xmsg *x)
{
	if (x == NULL)
		return;
	free(x->s1);
	free(x->s2);
	free(x->s3);
	free(x);
}

/* The session loop runs session_msg_answer: here, the answer itself. */
void
xmsg_to_loop(struct sloop *l, struct xmsg *x)
{
	ck_assert_ptr_eq(l, &sl);
	ck_assert_ptr_eq((void *)x->m.cb, (void *)session_msg_answer);
	T.via_loop = true;
	x->answer(NULL, x->arg, x->status, x->s1);
	T.via_loop = false;
	xmsg_free(x);
}

void
session_msg_answer(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	(void)loop;
	(void)m;
	(void)cancelled;
}

static void
on_answer(struct sp_msess *ms, void *arg, int status, const char *body)
{
	struct q *q = arg;

	(void)ms;
	q->answers++;
	q->status = status;
	q->through_loop = T.via_loop;
	snprintf(q->body, sizeof(q->body), "%s", body != NULL ? body : "");
}

/* ---- helpers ---- */

static void
setup(void)
{
	memset(&T, 0, sizeof(T));
	memset(&srv, 0, sizeof(srv));
	memset(&sl, 0, sizeof(sl));
	ck_assert_int_eq(sp_loop_new(&srv.loop), SP_OK);
	srv.control = (struct tunconn *)&control_stand_in;
	sl.srv = &srv;
}

static void
teardown(void)
{
	bridge_stop(&srv);
	sp_loop_free(srv.loop);
}

/* Ask q, with timeout_ms; returns the id the client was sent (0: none). */
static int64_t
ask(struct q *q, unsigned timeout_ms)
{
	size_t before = T.nids;

	memset(q, 0, sizeof(*q));
	bridge_ask(&srv, &sl, 7, 0, "v1/partners/check", "{}", timeout_ms, on_answer, q);
	return T.nids > before ? T.ids[T.nids - 1] : 0;
}

static void
answer(int64_t id, int status, const char *body)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "type", json_object_new_string("answer"));
	json_object_object_add(m, "id", json_object_new_int64(id));
	json_object_object_add(m, "status", json_object_new_int(status));
	json_object_object_add(m, "body", json_object_new_string(body));
	bridge_answer(&srv, m);
	json_object_put(m);
}

/* ---- the tests ---- */

START_TEST(answered_once)
{
	struct q q;
	int64_t id = ask(&q, 60000);

	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(q.answers, 0);
	answer(id, 200, "yes");
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, 200);
	ck_assert_str_eq(q.body, "yes");
	ck_assert(q.through_loop);
	/* The client says it again: nobody waits for it any more. */
	answer(id, 403, "no");
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, 200);
	/* Nor does a question that never was. */
	answer(id + 1000, 200, "stray");
	ck_assert_int_eq(q.answers, 1);
}
END_TEST

START_TEST(timeout_then_late_answer)
{
	struct q q, other;
	int64_t id = ask(&q, 20), oid = ask(&other, 60000);
	int i;

	for (i = 0; i < 200 && q.answers == 0; i++)
		ck_assert_int_eq(sp_loop_once(srv.loop, 50), SP_OK);
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, -1);
	ck_assert_str_eq(q.body, "");
	/* Late: its question is gone (freed), the answer finds nothing. */
	answer(id, 200, "late");
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, -1);
	/* The other question is still there, with its own answer. */
	ck_assert_int_eq(other.answers, 0);
	answer(oid, 204, "fine");
	ck_assert_int_eq(other.answers, 1);
	ck_assert_int_eq(other.status, 204);
}
END_TEST

START_TEST(head_middle_tail_then_lost)
{
	struct q q[5];
	int64_t id[5];
	int i;

	for (i = 0; i < 5; i++)
		id[i] = ask(&q[i], 60000);
	/* The list is newest first: 4 is its head, 0 its tail, 2 the middle. */
	answer(id[2], 201, "middle");
	answer(id[4], 202, "head");
	answer(id[0], 203, "tail");
	ck_assert_int_eq(q[2].answers, 1);
	ck_assert_int_eq(q[4].answers, 1);
	ck_assert_int_eq(q[0].answers, 1);
	ck_assert_int_eq(q[1].answers, 0);
	ck_assert_int_eq(q[3].answers, 0);
	/* The tunnel is lost: the two left get "no answer", once each. */
	srv.control = NULL;
	bridge_fail_asks(&srv);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(q[i].answers, 1);
	ck_assert_int_eq(q[1].status, -1);
	ck_assert_int_eq(q[3].status, -1);
	ck_assert_int_eq(q[2].status, 201);
	/* Their timers were stopped: nothing fires for them later. */
	answer(id[1], 200, "late");
	answer(id[3], 200, "late");
	ck_assert_int_eq(sp_loop_once(srv.loop, 0), SP_OK);
	ck_assert_int_eq(q[1].answers, 1);
	ck_assert_int_eq(q[3].answers, 1);
}
END_TEST

START_TEST(lost_while_asking)
{
	struct q q;
	int i;

	/* The write of the question itself finds the control connection dead
	 * (control_lost fails every question, this one included). */
	T.lose_on_send = true;
	(void)ask(&q, 10);
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, -1);
	/* Its timer went with it: past its 10 ms, nothing more comes. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(sp_loop_once(srv.loop, 20), SP_OK);
	ck_assert_int_eq(q.answers, 1);
}
END_TEST

START_TEST(no_client_no_loops)
{
	struct q q;

	srv.control = NULL;
	ck_assert_int_eq(ask(&q, 60000), 0);
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, -1);
	ck_assert(q.through_loop);
	/* Stopping: the loops are gone, the module hears it on main. */
	srv.control = (struct tunconn *)&control_stand_in;
	srv.loops_gone = true;
	(void)ask(&q, 60000);
	ck_assert_int_eq(q.answers, 0);
	bridge_fail_asks(&srv);
	ck_assert_int_eq(q.answers, 1);
	ck_assert_int_eq(q.status, -1);
	ck_assert(!q.through_loop);
}
END_TEST

START_TEST(many_in_any_order)
{
	static struct q q[MANY];
	static int64_t id[MANY];
	int i, n;

	for (i = 0; i < MANY; i++)
		id[i] = ask(&q[i], 60000);
	/* Every third, from the middle outwards, then the rest by failure. */
	for (n = 0, i = MANY / 2; n < MANY; n++, i = (i + 3) % MANY)
		if (i % 3 == 0)
			answer(id[i], 200 + i % 50, "x");
	srv.control = NULL;
	bridge_fail_asks(&srv);
	for (i = 0; i < MANY; i++) {
		ck_assert_int_eq(q[i].answers, 1);
		ck_assert_int_eq(q[i].status, i % 3 == 0 ? 200 + i % 50 : -1);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("bridge");
	TCase *tc = tcase_create("asks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, answered_once);
	tcase_add_test(tc, timeout_then_late_answer);
	tcase_add_test(tc, head_middle_tail_then_lost);
	tcase_add_test(tc, lost_while_asking);
	tcase_add_test(tc, no_client_no_loops);
	tcase_add_test(tc, many_in_any_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
