/*
 * check_relay.c - the one relay loop (core/relay.h) over a real socket pair:
 * what the sink gets, and why the pump stops (empty, full, stopped, eof).
 */
#include "core/conn.h"
#include "core/err.h"
#include "core/relay.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sink {
	size_t room;
	bool stop;              /* put() answers false */
	size_t got, puts;
	uint8_t last;
};

static size_t
room(void *arg)
{
	return ((struct sink *)arg)->room;
}

static bool
put(void *arg, const uint8_t *p, size_t n)
{
	struct sink *k = arg;

	k->got += n;
	k->puts++;
	k->last = p[n - 1];
	return !k->stop;
}

static void
nop_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
}

struct rig {
	struct sp_loop *loop;
	struct sp_conn c;
	int peer;
};

static void
rig_up(struct rig *r)
{
	int sv[2];

	ck_assert_int_eq(sp_loop_new(&r->loop), SP_OK);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(sp_conn_init(&r->c, r->loop, sv[0], false, 4096, nop_cb, NULL), SP_OK);
	r->peer = sv[1];
}

static void
rig_down(struct rig *r)
{
	sp_conn_close(&r->c);
	if (r->peer >= 0)
		close(r->peer);
	sp_loop_free(r->loop);
}

static void
send_bytes(int fd, size_t n, uint8_t last)
{
	uint8_t b[1000];

	ck_assert_uint_le(n, sizeof(b));
	memset(b, 'x', n);
	b[n - 1] = last;
	ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
}

START_TEST(delivers_then_empty)
{
	struct rig r;
	struct sink k = { .room = 1u << 20 };
	struct sp_relay_sink s = { room, put, &k, 1000 };

	rig_up(&r);
	send_bytes(r.peer, 700, 'a');
	send_bytes(r.peer, 300, 'b');
	ck_assert_int_eq(sp_relay_pump(&r.c, &s), SP_RELAY_EMPTY);
	/* Both writes in one chunk: one pass down the chain. */
	ck_assert_uint_eq(k.got, 1000);
	ck_assert_uint_eq(k.puts, 1);
	ck_assert_uint_eq(k.last, 'b');
	ck_assert_int_eq(sp_relay_pump(&r.c, &s), SP_RELAY_EMPTY);
	ck_assert_uint_eq(k.puts, 1);
	rig_down(&r);
}
END_TEST

START_TEST(full_sink_reads_nothing)
{
	struct rig r;
	struct sink k = { .room = 999 };
	struct sp_relay_sink s = { room, put, &k, 1000 };

	rig_up(&r);
	send_bytes(r.peer, 10, 'c');
	ck_assert_int_eq(sp_relay_pump(&r.c, &s), SP_RELAY_FULL);
	ck_assert_uint_eq(k.got, 0);
	/* Backpressure: reading is off while the sink is short of room... */
	sp_relay_want_read(&r.c, &s, true);
	ck_assert(!r.c.want_read);
	/* ...and on once it drained, unless the owner forbids it. */
	k.room = 1000;
	sp_relay_want_read(&r.c, &s, false);
	ck_assert(!r.c.want_read);
	sp_relay_want_read(&r.c, &s, true);
	ck_assert(r.c.want_read);
	ck_assert_int_eq(sp_relay_pump(&r.c, &s), SP_RELAY_EMPTY);
	ck_assert_uint_eq(k.got, 10);
	rig_down(&r);
}
END_TEST

START_TEST(sink_stops_the_pump)
{
	struct rig r;
	struct sink k = { .room = 1u << 20, .stop = true };
	struct sp_relay_sink s = { room, put, &k, 1 };

	rig_up(&r);
	send_bytes(r.peer, 5, 'd');
	ck_assert_int_eq(sp_relay_pump(&r.c, &s), SP_RELAY_STOPPED);
	ck_assert_uint_eq(k.got, 5);
	rig_down(&r);
}
END_TEST

START_TEST(eof_after_the_last_bytes)
{
	struct rig r;
	struct sink k = { .room = 1u << 20 };
	struct sp_relay_sink s = { room, put, &k, 1 };

	rig_up(&r);
	send_bytes(r.peer, 42, 'e');
	close(r.peer);
	r.peer = -1;
	ck_assert_int_eq(sp_relay_pump(&r.c, &s), SP_RELAY_EOF);
	ck_assert_uint_eq(k.got, 42);
	ck_assert_uint_eq(k.last, 'e');
	rig_down(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, delivers_then_empty);
	tcase_add_test(tc, full_sink_reads_nothing);
	tcase_add_test(tc, sink_stops_the_pump);
	tcase_add_test(tc, eof_after_the_last_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
