/*
 * check_conn.c - plain and TLS connections over real loopback sockets:
 * echo with backpressure, handshake failures, identities and key ids.
 */
#include "core/conn.h"
#include "core/err.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/workers.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOTAL (4u * 1024 * 1024)
#define OUT_MAX (64u * 1024)

struct side {
	struct sp_conn c;
	bool ready, finished, failed, eof;
	char errtext[200];
	uint64_t sent, received;
	uint32_t check; /* running check of received bytes */
	bool echo;      /* server: echo back what it reads */
	size_t sip;     /* >0: read at most this much per READABLE (a bounded reader,
	                 * which only reads: it must not pump data back, or the
	                 * client may receive all of it first and shut down
	                 * before it sent everything) */
};

struct pair {
	struct sp_loop *loop;
	struct side cli, srv;
	int lfd;
};

static uint8_t
pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static void side_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);

static void
client_pump(struct side *s)
{
	uint8_t chunk[8192];

	while (s->sent < TOTAL && sp_conn_out_room(&s->c) >= sizeof(chunk)) {
		size_t n = sizeof(chunk), i;

		if (TOTAL - s->sent < n)
			n = TOTAL - s->sent;
		for (i = 0; i < n; i++)
			chunk[i] = pattern(s->sent + i);
		ck_assert_int_eq(sp_conn_write(&s->c, chunk, n), SP_OK);
		s->sent += n;
	}
}

static void
side_read(struct side *s)
{
	uint8_t b[8192];
	size_t got, i;
	int r;

	for (;;) {
		if (s->sip > 0) {
			/* One small read and back to the loop: whatever GnuTLS
			 * still holds decrypted must come back as READABLE. */
			r = sp_conn_read(&s->c, b, s->sip, &got);
			if (r == SP_OK) {
				for (i = 0; i < got; i++)
					ck_assert_uint_eq(b[i], pattern(s->received + i));
				s->received += got;
				if (s->received == TOTAL)
					sp_conn_shutdown(&s->c);
			} else if (r == SP_ERR_CLOSED) {
				s->eof = true;
				sp_conn_want_read(&s->c, false);
			}
			return;
		}
		/* Backpressure: read only what we can echo. */
		if (s->echo && sp_conn_out_room(&s->c) < sizeof(b)) {
			sp_conn_want_read(&s->c, false);
			return;
		}
		r = sp_conn_read(&s->c, b, sizeof(b), &got);
		if (r == SP_ERR_AGAIN)
			return;
		if (r == SP_ERR_CLOSED) {
			s->eof = true;
			sp_conn_want_read(&s->c, false);
			sp_conn_shutdown(&s->c);
			return;
		}
		if (r != SP_OK) {
			s->failed = true;
			snprintf(s->errtext, sizeof(s->errtext), "%s", s->c.errtext);
			return;
		}
		if (s->echo) {
			ck_assert_int_eq(sp_conn_write(&s->c, b, got), SP_OK);
		} else {
			for (i = 0; i < got; i++)
				ck_assert_uint_eq(b[i], pattern(s->received + i));
		}
		s->received += got;
		if (!s->echo && s->received == TOTAL)
			sp_conn_shutdown(&s->c);
	}
}

static void
side_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct side *s = arg;

	switch (ev) {
	case SP_CONN_READY:
		s->ready = true;
		sp_conn_want_read(c, true);
		if (!s->echo && s->sip == 0)
			client_pump(s);
		break;
	case SP_CONN_READABLE:
		side_read(s);
		break;
	case SP_CONN_DRAINED:
		if (s->echo)
			sp_conn_want_read(c, true);
		else if (s->sip == 0)
			client_pump(s);
		break;
	case SP_CONN_FINISHED:
		s->finished = true;
		break;
	case SP_CONN_ERROR:
		s->failed = true;
		snprintf(s->errtext, sizeof(s->errtext), "%s", c->errtext);
		break;
	}
}

static void
make_pair(struct pair *p)
{
	struct sp_addr a, bound;
	bool inprog;
	int cfd, sfd, tries;

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(sp_loop_new(&p->loop), SP_OK);
	ck_assert_int_eq(sp_addr_parse("127.0.0.1:0", &a), SP_OK);
	ck_assert_int_eq(sp_listen(&a, 8, &p->lfd), SP_OK);
	ck_assert_int_eq(sp_sock_local(p->lfd, &bound), SP_OK);
	ck_assert_int_eq(sp_connect(&bound, NULL, &cfd, &inprog), SP_OK);
	for (tries = 0; tries < 1000; tries++) {
		if (sp_accept(p->lfd, &sfd, &a) == SP_OK)
			break;
		usleep(1000);
	}
	ck_assert_int_lt(tries, 1000);
	p->srv.echo = true;
	ck_assert_int_eq(sp_conn_init(&p->cli.c, p->loop, cfd, inprog, OUT_MAX, side_cb, &p->cli), SP_OK);
	ck_assert_int_eq(sp_conn_init(&p->srv.c, p->loop, sfd, false, OUT_MAX, side_cb, &p->srv), SP_OK);
}

static void
run_until(struct pair *p, bool (*done)(struct pair *))
{
	int i;

	for (i = 0; i < 20000 && !done(p); i++)
		ck_assert_int_eq(sp_loop_once(p->loop, 100), SP_OK);
	ck_assert_msg(done(p), "timed out (cli: %s / srv: %s)", p->cli.errtext, p->srv.errtext);
}

static void
free_pair(struct pair *p)
{
	sp_conn_close(&p->cli.c);
	sp_conn_close(&p->srv.c);
	close(p->lfd);
	sp_loop_free(p->loop);
}

static bool
echo_done(struct pair *p)
{
	return (p->cli.finished && p->srv.finished) || p->cli.failed || p->srv.failed;
}

static char tmpdir[64];

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sp-check-conn-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(plain_echo_with_backpressure)
{
	struct pair p;

	make_pair(&p);
	p.srv.ready = true;
	sp_conn_want_read(&p.srv.c, true);
	run_until(&p, echo_done);
	ck_assert(!p.cli.failed && !p.srv.failed);
	ck_assert_uint_eq(p.cli.received, TOTAL);
	ck_assert_uint_eq(p.srv.received, TOTAL);
	free_pair(&p);
}
END_TEST

/* A write the socket takes at once never touches the output buffer (the
 * octets go out from the caller's memory). One it cannot take is queued; the
 * buffer, once drained, keeps its storage, zeroed where data was; a read that
 * finds nothing with nothing queued releases it. */
START_TEST(out_storage_kept_across_drain)
{
	static uint8_t big[OUT_MAX / 4];
	struct pair p;
	uint8_t rd[16], sink[65536];
	size_t got, i;
	const uint8_t *kept;
	int peer, tries;

	make_pair(&p);
	/* The client end is read by hand below, not through the loop. */
	peer = dup(p.cli.c.fd);
	ck_assert_int_ge(peer, 0);
	sp_conn_close(&p.cli.c);
	ck_assert_int_eq(sp_conn_write(&p.srv.c, "secret", 6), SP_OK);
	ck_assert_uint_eq(sp_conn_out_len(&p.srv.c), 0); /* sent at once */
	ck_assert_ptr_null(p.srv.c.out.data);            /* without a copy */
	memset(big, 0x5a, sizeof(big));
	for (tries = 0; tries < 100000 && sp_conn_out_len(&p.srv.c) == 0; tries++)
		ck_assert_int_eq(sp_conn_write(&p.srv.c, big, sizeof(big)), SP_OK);
	ck_assert_uint_gt(sp_conn_out_len(&p.srv.c), 0);  /* the socket is full */
	kept = p.srv.c.out.data;
	ck_assert_ptr_nonnull(kept);
	for (tries = 0; tries < 100000 && sp_conn_out_len(&p.srv.c) > 0; tries++) {
		while (recv(peer, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		ck_assert_int_eq(sp_loop_once(p.loop, 10), SP_OK);
	}
	ck_assert_uint_eq(sp_conn_out_len(&p.srv.c), 0);
	ck_assert_ptr_eq(p.srv.c.out.data, kept);
	ck_assert_uint_eq(p.srv.c.out.used, 0);
	ck_assert_uint_gt(p.srv.c.out.cap, 0);
	for (i = 0; i < p.srv.c.out.cap; i++)
		ck_assert_uint_eq(kept[i], 0);
	ck_assert_int_eq(sp_conn_write(&p.srv.c, "again", 5), SP_OK);
	ck_assert_ptr_eq(p.srv.c.out.data, kept);
	ck_assert_int_eq(sp_conn_read(&p.srv.c, rd, sizeof(rd), &got), SP_ERR_AGAIN);
	ck_assert_ptr_null(p.srv.c.out.data);
	close(peer);
	free_pair(&p);
}
END_TEST

START_TEST(tls_echo_mutual_and_pinned)
{
	struct pair p;
	struct sp_identity sid, cid;
	gnutls_session_t ss, cs;
	char err[256], peer[SP_KEY_ID_HEX];
	bool created;

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", &sid, &created, err, sizeof(err)), SP_OK);
	ck_assert(created);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "client", &cid, &created, err, sizeof(err)), SP_OK);
	make_pair(&p);
	ck_assert_int_eq(sp_tls_new_server(sid.creds, GNUTLS_CERT_REQUIRE, &ss), SP_OK);
	ck_assert_int_eq(sp_tls_new_client(cid.creds, NULL, &cs), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.srv.c, ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.cli.c, cs), SP_OK);
	run_until(&p, echo_done);
	ck_assert_msg(!p.cli.failed && !p.srv.failed, "%s / %s", p.cli.errtext, p.srv.errtext);
	ck_assert_uint_eq(p.cli.received, TOTAL);
	/* Each side sees the other's key id: this is what pinning compares. */
	ck_assert_int_eq(sp_tls_peer_key_id(p.cli.c.tls, peer), SP_OK);
	ck_assert(sp_key_id_equal(peer, sid.key_id));
	ck_assert_int_eq(sp_tls_peer_key_id(p.srv.c.tls, peer), SP_OK);
	ck_assert(sp_key_id_equal(peer, cid.key_id));
	ck_assert(!sp_key_id_equal(peer, sid.key_id));
	ck_assert_str_eq(sp_tls_version(p.cli.c.tls), "TLS1.3");
	free_pair(&p);
	sp_identity_free(&sid);
	sp_identity_free(&cid);
	remove_tmpdir();
}
END_TEST

static bool
srv_received_all(struct pair *p)
{
	return p->srv.received == TOTAL || p->srv.failed || p->cli.failed;
}

static bool
srv_failed(struct pair *p)
{
	return p->srv.failed;
}

START_TEST(tls_server_rejects_plain_garbage)
{
	struct pair p;
	struct sp_identity sid;
	gnutls_session_t ss;
	char err[256];
	bool created;
	const char junk[] = "GET / HTTP/1.0\r\n\r\n";

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", &sid, &created, err, sizeof(err)), SP_OK);
	make_pair(&p);
	ck_assert_int_eq(sp_tls_new_server(sid.creds, GNUTLS_CERT_IGNORE, &ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.srv.c, ss), SP_OK);
	p.cli.echo = true; /* no pumping: it only sends junk */
	ck_assert_int_eq(write(p.cli.c.fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	run_until(&p, srv_failed);
	ck_assert_int_eq(p.srv.c.err, SP_CONN_ERR_HANDSHAKE);
	ck_assert_int_eq(p.srv.c.code, SP_ERR_TLS);
	free_pair(&p);
	sp_identity_free(&sid);
	remove_tmpdir();
}
END_TEST

/* sp_conn_init owns the descriptor whatever it returns (conn.h): on
 * failure it is closed, once, and the connection is a closed one. */
START_TEST(init_failure_closes_the_descriptor)
{
	struct sp_loop *loop;
	struct sp_conn c;
	char path[] = "/tmp/sp-check-conn-fd-XXXXXX";
	int fd, sock[2];

	ck_assert_int_eq(sp_loop_new(&loop), SP_OK);
	/* epoll refuses a regular file: sp_loop_add fails inside init. */
	ck_assert_int_ge(fd = mkstemp(path), 0);
	unlink(path);
	ck_assert_int_ne(sp_conn_init(&c, loop, fd, false, OUT_MAX, side_cb, NULL), SP_OK);
	ck_assert_int_eq(c.fd, -1);
	errno = 0;
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	sp_conn_close(&c);   /* a no-op on the closed connection */

	/* Success keeps it open, non-blocking, until sp_conn_close. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sock), 0);
	ck_assert_int_eq(sp_conn_init(&c, loop, sock[0], false, OUT_MAX, side_cb, NULL), SP_OK);
	ck_assert_int_eq(c.fd, sock[0]);
	ck_assert(fcntl(sock[0], F_GETFL) & O_NONBLOCK);
	sp_conn_close(&c);
	ck_assert_int_eq(fcntl(sock[0], F_GETFD), -1);
	close(sock[1]);
	sp_loop_free(loop);
}
END_TEST

static bool
cli_failed(struct pair *p)
{
	return p->cli.failed;
}

/* A refused connect is told apart from a failed handshake by its class. */
START_TEST(connect_refused_has_its_class)
{
	struct pair p;
	struct sp_addr a, bound;
	bool inprog;
	int fd;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(sp_loop_new(&p.loop), SP_OK);
	ck_assert_int_eq(sp_addr_parse("127.0.0.1:0", &a), SP_OK);
	ck_assert_int_eq(sp_listen(&a, 8, &p.lfd), SP_OK);
	ck_assert_int_eq(sp_sock_local(p.lfd, &bound), SP_OK);
	close(p.lfd);   /* nobody listens there now */
	p.lfd = -1;
	if (sp_connect(&bound, NULL, &fd, &inprog) != SP_OK) {
		sp_loop_free(p.loop);
		return;   /* refused synchronously: nothing for the loop to classify */
	}
	ck_assert_int_eq(sp_conn_init(&p.cli.c, p.loop, fd, true, OUT_MAX, side_cb, &p.cli), SP_OK);
	run_until(&p, cli_failed);
	ck_assert_int_eq(p.cli.c.err, SP_CONN_ERR_CONNECT);
	ck_assert_int_eq(p.cli.c.code, SP_ERR_SYSTEM);
	sp_conn_close(&p.cli.c);
	sp_loop_free(p.loop);
}
END_TEST

START_TEST(tls_client_cert_required)
{
	struct pair p;
	struct sp_identity sid;
	gnutls_certificate_credentials_t none;
	gnutls_session_t ss, cs;
	char err[256];
	bool created;

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", &sid, &created, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&none), 0);
	make_pair(&p);
	ck_assert_int_eq(sp_tls_new_server(sid.creds, GNUTLS_CERT_REQUIRE, &ss), SP_OK);
	ck_assert_int_eq(sp_tls_new_client(none, NULL, &cs), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.srv.c, ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.cli.c, cs), SP_OK);
	run_until(&p, srv_failed);
	ck_assert(!p.srv.ready);
	free_pair(&p);
	gnutls_certificate_free_credentials(none);
	sp_identity_free(&sid);
	remove_tmpdir();
}
END_TEST

static bool
both_ready(struct pair *p)
{
	return (p->cli.ready && p->srv.ready) || p->cli.failed || p->srv.failed;
}

static bool
srv_got_64k(struct pair *p)
{
	return p->srv.received == 65536 || p->srv.failed || p->cli.failed;
}

/* Several records written at once gather in the write buffer and leave with
 * one send() (conn.c flush_tls); they arrive whole and in order. */
START_TEST(tls_records_leave_together)
{
	struct pair p;
	struct sp_identity sid, cid;
	gnutls_session_t ss, cs;
	static uint8_t big[65536];
	char err[256];
	bool created;
	size_t i;

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", &sid, &created, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "client", &cid, &created, err, sizeof(err)), SP_OK);
	make_pair(&p);
	p.srv.echo = false;
	p.srv.sip = 4096;          /* reads, never pumps */
	p.cli.sip = 1;             /* neither pumps: the test writes */
	ck_assert_int_eq(sp_tls_new_server(sid.creds, GNUTLS_CERT_IGNORE, &ss), SP_OK);
	ck_assert_int_eq(sp_tls_new_client(cid.creds, NULL, &cs), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.srv.c, ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.cli.c, cs), SP_OK);
	run_until(&p, both_ready);
	ck_assert_ptr_null(p.cli.c.wbuf);
	for (i = 0; i < sizeof(big); i++)
		big[i] = pattern(i);
	ck_assert_int_eq(sp_conn_write(&p.cli.c, big, sizeof(big)), SP_OK);
	/* Four records went through the write buffer, not one send each. */
	ck_assert_ptr_nonnull(p.cli.c.wbuf);
	run_until(&p, srv_got_64k);
	ck_assert_uint_eq(p.srv.received, sizeof(big));
	free_pair(&p);
	sp_identity_free(&sid);
	sp_identity_free(&cid);
	remove_tmpdir();
}
END_TEST

/*
 * A reader that takes little per READABLE still gets every byte. Note: this
 * does not reproduce the stall fixed in on_pending() (it passes without the
 * fix: here the socket always wakes the loop again); tests/integration/
 * e2e_demo.sh with 16 MiB through the chain is what fails without it.
 */
START_TEST(tls_bounded_reader_gets_everything)
{
	struct pair p;
	struct sp_identity sid, cid;
	gnutls_session_t ss, cs;
	char err[256];
	bool created;

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", &sid, &created, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "client", &cid, &created, err, sizeof(err)), SP_OK);
	make_pair(&p);
	p.srv.echo = false;
	p.srv.sip = 700;  /* far less than a 16 KiB record */
	ck_assert_int_eq(sp_tls_new_server(sid.creds, GNUTLS_CERT_IGNORE, &ss), SP_OK);
	ck_assert_int_eq(sp_tls_new_client(cid.creds, NULL, &cs), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.srv.c, ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p.cli.c, cs), SP_OK);
	run_until(&p, srv_received_all);
	ck_assert_uint_eq(p.srv.received, TOTAL);
	free_pair(&p);
	sp_identity_free(&sid);
	sp_identity_free(&cid);
	remove_tmpdir();
}
END_TEST

/* A TLS pair on p's loop, both ends up; neither end pumps (the test writes). */
static void
tls_pair_up(struct pair *p, struct sp_identity *sid, struct sp_identity *cid)
{
	gnutls_session_t ss, cs;
	char err[256];
	bool created;

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", sid, &created, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "client", cid, &created, err, sizeof(err)), SP_OK);
	make_pair(p);
	p->srv.echo = false;
	p->srv.sip = 4096;         /* bounded readers, checking the pattern */
	p->cli.sip = 4096;
	ck_assert_int_eq(sp_tls_new_server(sid->creds, GNUTLS_CERT_IGNORE, &ss), SP_OK);
	ck_assert_int_eq(sp_tls_new_client(cid->creds, NULL, &cs), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p->srv.c, ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p->cli.c, cs), SP_OK);
	run_until(p, both_ready);
	ck_assert_msg(!p->cli.failed && !p->srv.failed, "%s / %s", p->cli.errtext, p->srv.errtext);
}

static void
tls_pair_down(struct pair *p, struct sp_identity *sid, struct sp_identity *cid)
{
	free_pair(p);
	sp_identity_free(sid);
	sp_identity_free(cid);
	remove_tmpdir();
}

/* Write pattern octets [*sent, ...) in `chunk`-sized writes while `more`. */
static void
write_pattern(struct sp_conn *c, uint64_t *sent, size_t chunk, bool (*more)(struct sp_conn *))
{
	uint8_t b[16384];
	size_t i;
	int tries;

	ck_assert_uint_le(chunk, sizeof(b));
	for (tries = 0; tries < 100000 && more(c) && sp_conn_out_room(c) >= chunk; tries++) {
		for (i = 0; i < chunk; i++)
			b[i] = pattern(*sent + i);
		ck_assert_int_eq(sp_conn_write(c, b, chunk), SP_OK);
		*sent += chunk;
	}
}

static bool
nothing_queued(struct sp_conn *c)
{
	return sp_conn_out_len(c) == 0;
}

static bool
always(struct sp_conn *c)
{
	(void)c;
	return true;
}

/*
 * The direct write path (sp_conn_write with nothing queued encrypts from the
 * caller's octets): when the socket takes only part of a record, GnuTLS
 * keeps it (tls_send_pending) and the same octets must be what `out` starts
 * with, or the retry would send other bytes under that record. The reader
 * checks every octet, so a byte lost, doubled or swapped at the stall fails.
 */
START_TEST(tls_direct_write_stalled_mid_record)
{
	struct pair p;
	struct sp_identity sid, cid;
	uint64_t sent = 0;
	int small = 4096, i;

	tls_pair_up(&p, &sid, &cid);
	sp_conn_want_read(&p.cli.c, false);      /* fill the socket first */
	ck_assert_int_eq(setsockopt(p.srv.c.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	/* Writes smaller than a record go straight out, one record each,
	 * until the socket is full: then one stalls inside GnuTLS. */
	write_pattern(&p.srv.c, &sent, 1000, nothing_queued);
	ck_assert_uint_gt(sp_conn_out_len(&p.srv.c), 0);
	ck_assert_uint_gt(p.srv.c.tls_send_pending, 0);
	/* Whole records' worth queue behind it, up to the bound. */
	write_pattern(&p.srv.c, &sent, 16384, always);
	sp_conn_want_read(&p.cli.c, true);
	for (i = 0; i < 20000 && p.cli.received < sent && !p.cli.failed && !p.srv.failed; i++)
		ck_assert_int_eq(sp_loop_once(p.loop, 100), SP_OK);
	ck_assert_msg(!p.cli.failed && !p.srv.failed, "%s / %s", p.cli.errtext, p.srv.errtext);
	ck_assert_uint_eq(p.cli.received, sent);
	ck_assert_uint_eq(sp_conn_out_len(&p.srv.c), 0);
	ck_assert_uint_eq(p.srv.c.tls_send_pending, 0);
	tls_pair_down(&p, &sid, &cid);
}
END_TEST

/*
 * A connection moving to another loop the way the server hands a tunnel
 * data connection to a session (tunnel.c hand_over, sp_conn_detach/attach):
 * its callback reads the hello a little at a time; the second read, from
 * the pending defer (GnuTLS holds more decrypted records), hands it over:
 * the callback becomes one that ignores everything ("parked") and the move
 * runs from a defer, as the tunconn's reap does. Events do reach it in
 * between (more bytes arrive): that is why it is parked, since the old
 * callback's object is gone by then (the SIGSEGV in tc_read the bench found).
 * After the move only the new loop hears it, nothing of it is lost (the
 * records GnuTLS had decrypted, the octets the socket held), and what was
 * queued for the peer before the move drains from the new loop.
 */
struct park {
	struct pair *p;
	struct sp_loop *to;
	struct sp_defer move;
	unsigned reads, parked_calls;
	bool moved;
	uint64_t srv_sent;
	uint8_t hello_rest[16384];
};

static struct park PK;

static void
parked_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	(void)c;
	(void)ev;
	(void)arg;
	ck_assert(!PK.moved);
	PK.parked_calls++;
}

static void
moved_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	/* Only the new loop may call: a defer of the old one left behind
	 * would run here on the wrong loop (in the server, the wrong thread). */
	ck_assert_ptr_eq(sp_loop_current(), PK.to);
	side_cb(c, ev, arg);
}

static void
move_cb(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct side *s = &PK.p->srv;

	(void)d;
	(void)arg;
	ck_assert_ptr_eq(loop, PK.p->loop);
	ck_assert_int_eq(sp_conn_detach(&s->c), SP_OK);
	PK.moved = true;
	ck_assert_int_eq(sp_conn_attach(&s->c, PK.to, moved_cb, s), SP_OK);
}

static void
hello_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct side *s = arg;
	uint8_t b[100];
	size_t got, i;

	if (ev != SP_CONN_READABLE || sp_conn_read(c, b, sizeof(b), &got) != SP_OK)
		return;
	for (i = 0; i < got; i++)
		ck_assert_uint_eq(b[i], pattern(s->received + i));
	s->received += got;
	if (++PK.reads < 2)
		return;
	/* Hand over (tunnel.c): parked until the move. */
	c->cb = parked_cb;
	sp_defer_queue(PK.p->loop, &PK.move);
	/* The peer sends on, and our answer fills the socket: part of it
	 * is queued in `out` when the connection moves. */
	ck_assert_int_eq(sp_conn_write(&PK.p->cli.c, PK.hello_rest, sizeof(PK.hello_rest)), SP_OK);
	write_pattern(c, &PK.srv_sent, 8192, nothing_queued);
	ck_assert_uint_gt(sp_conn_out_len(c), 0);
}

START_TEST(tls_parked_connection_moves_to_another_loop)
{
	static uint8_t first[65536];
	struct pair p;
	struct sp_identity sid, cid;
	int small = 4096, i;
	size_t k;

	memset(&PK, 0, sizeof(PK));
	tls_pair_up(&p, &sid, &cid);
	PK.p = &p;
	ck_assert_int_eq(sp_loop_new(&PK.to), SP_OK);
	sp_defer_init(&PK.move, move_cb, NULL);
	for (k = 0; k < sizeof(first); k++)
		first[k] = pattern(k);
	for (k = 0; k < sizeof(PK.hello_rest); k++)
		PK.hello_rest[k] = pattern(sizeof(first) + k);
	sp_conn_want_read(&p.cli.c, false);      /* until the move */
	ck_assert_int_eq(setsockopt(p.srv.c.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	p.srv.c.cb = hello_cb;
	ck_assert_int_eq(sp_conn_write(&p.cli.c, first, sizeof(first)), SP_OK);
	for (i = 0; i < 1000 && !PK.moved; i++)
		ck_assert_int_eq(sp_loop_once(p.loop, 100), SP_OK);
	ck_assert(PK.moved);
	ck_assert_uint_eq(p.srv.received, 200);
	ck_assert_uint_gt(PK.parked_calls, 0);
	ck_assert_ptr_eq(p.srv.c.loop, PK.to);
	/* Both loops turn (one thread here; a thread each in the server). */
	sp_conn_want_read(&p.cli.c, true);
	for (i = 0; i < 20000 && (p.srv.received < sizeof(first) + sizeof(PK.hello_rest) ||
	    p.cli.received < PK.srv_sent) && !p.srv.failed && !p.cli.failed; i++) {
		ck_assert_int_eq(sp_loop_once(p.loop, 0), SP_OK);
		ck_assert_int_eq(sp_loop_once(PK.to, 10), SP_OK);
	}
	ck_assert_msg(!p.cli.failed && !p.srv.failed, "%s / %s", p.cli.errtext, p.srv.errtext);
	ck_assert_uint_eq(p.srv.received, sizeof(first) + sizeof(PK.hello_rest));
	ck_assert_uint_eq(p.cli.received, PK.srv_sent);
	ck_assert_uint_eq(sp_conn_out_len(&p.srv.c), 0);
	/* Closed on its new loop; then both loops go. */
	sp_conn_close(&p.srv.c);
	tls_pair_down(&p, &sid, &cid);
	sp_loop_free(PK.to);
}
END_TEST

/*
 * Handshake steps on a pool (sp_conn_offload_handshake), the way the
 * server's tunnel runs its data connections' handshakes with several
 * loops: the pool's one thread is kept busy by a blocker job, so the
 * connection's step is queued ("in flight" for the connection, which no
 * longer watches its fd) when its owner closes it, or when the pool is
 * freed. Either way the step's held reference is released exactly once,
 * and no descriptor is left open.
 */
static struct {
	int pipe[2];                /* the blocker waits for a byte */
	int held, released;
} HS;

static void
blocker_work(void *arg)
{
	char b;

	(void)arg;
	while (read(HS.pipe[0], &b, 1) < 0 && errno == EINTR)
		;
}

static void
blocker_done(void *arg, bool cancelled)
{
	(void)arg;
	(void)cancelled;
}

static void *
hs_hold(void *arg)
{
	HS.held++;
	return arg;
}

static void
hs_release(void *arg)
{
	ck_assert_ptr_eq(arg, &HS);
	HS.released++;
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A TLS pair whose server side runs its handshake steps on `w`, with its
 * connection on the heap (the tunnel frees a closed one from deferred work
 * while its orphaned step may still run). */
static struct sp_conn *
offloaded_pair(struct pair *p, struct sp_identity *sid, struct sp_identity *cid,
    struct sp_workers **w)
{
	struct sp_conn *c = calloc(1, sizeof(*c));
	gnutls_session_t ss, cs;
	char err[256];
	bool created;
	int i;

	ck_assert_ptr_nonnull(c);
	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "server", sid, &created, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "client", cid, &created, err, sizeof(err)), SP_OK);
	make_pair(p);
	/* The server side moves to the heap: same descriptor, new struct. */
	ck_assert_int_eq(sp_conn_init(c, p->loop, dup(p->srv.c.fd), false, OUT_MAX, side_cb, &p->srv), SP_OK);
	sp_conn_close(&p->srv.c);
	ck_assert_int_eq(pipe(HS.pipe), 0);
	ck_assert_int_eq(sp_workers_new(p->loop, 1, 8, w), SP_OK);
	ck_assert_int_eq(sp_workers_submit(*w, blocker_work, blocker_done, NULL), SP_OK);
	ck_assert_int_eq(sp_tls_new_server(sid->creds, GNUTLS_CERT_REQUIRE, &ss), SP_OK);
	ck_assert_int_eq(sp_tls_new_client(cid->creds, NULL, &cs), SP_OK);
	sp_conn_offload_handshake(c, *w, hs_hold, hs_release, &HS);
	ck_assert_int_eq(sp_conn_start_tls(c, ss), SP_OK);
	ck_assert_int_eq(sp_conn_start_tls(&p->cli.c, cs), SP_OK);
	/* The client's hello arrives; the server's step queues behind the
	 * blocker. */
	for (i = 0; i < 1000 && c->hs_job == NULL; i++)
		ck_assert_int_eq(sp_loop_once(p->loop, 10), SP_OK);
	ck_assert_ptr_nonnull(c->hs_job);
	return c;
}

static void
offloaded_down(struct pair *p, struct sp_identity *sid, struct sp_identity *cid)
{
	close(HS.pipe[0]);
	close(HS.pipe[1]);
	sp_conn_close(&p->cli.c);
	close(p->lfd);
	sp_loop_free(p->loop);
	sp_identity_free(sid);
	sp_identity_free(cid);
	remove_tmpdir();
}

START_TEST(tls_offloaded_step_outlives_its_connection)
{
	struct pair p;
	struct sp_identity sid, cid;
	struct sp_workers *w;
	struct sp_conn *c;
	int fds = open_fds(), i;

	memset(&HS, 0, sizeof(HS));
	c = offloaded_pair(&p, &sid, &cid, &w);
	/* Closed mid-step and freed at once: the step owns fd and session. */
	sp_conn_close(c);
	ck_assert_int_eq(c->fd, -1);
	ck_assert_ptr_null(c->hs_job);
	memset(c, 0xa5, sizeof(*c));
	free(c);
	ck_assert_int_eq(HS.held, 1);
	ck_assert_int_eq(HS.released, 0);
	/* The blocker ends; the orphaned step runs, reads nothing through the
	 * freed connection, and gives back what it held on the loop. */
	ck_assert_int_eq(write(HS.pipe[1], "x", 1), 1);
	for (i = 0; i < 1000 && HS.released == 0; i++)
		ck_assert_int_eq(sp_loop_once(p.loop, 10), SP_OK);
	ck_assert_int_eq(HS.released, 1);
	/* The client hears the end of the connection. */
	for (i = 0; i < 1000 && !p.cli.failed && !p.cli.eof && !p.cli.finished; i++)
		ck_assert_int_eq(sp_loop_once(p.loop, 10), SP_OK);
	ck_assert(p.cli.failed || p.cli.eof || p.cli.finished);
	sp_workers_free(w);
	ck_assert_int_eq(HS.released, 1);
	offloaded_down(&p, &sid, &cid);
	ck_assert_int_eq(open_fds(), fds);
}
END_TEST

static void *
unblock_soon(void *arg)
{
	(void)arg;
	usleep(50000);
	ck_assert_int_eq(write(HS.pipe[1], "x", 1), 1);
	return NULL;
}

START_TEST(tls_offloaded_step_when_the_pool_stops)
{
	struct pair p;
	struct sp_identity sid, cid;
	struct sp_workers *w;
	struct sp_conn *c;
	pthread_t t;
	int fds = open_fds(), round;

	/* Round 0: the owner closed it first (tunnel_stop closes every
	 * connection, then frees the pool); round 1: still open when the
	 * pool stops (the step comes back cancelled: the handshake fails,
	 * "stopped"). The pool's end meets the queued step either before
	 * or after its thread is free: exactly one release either way. */
	for (round = 0; round < 2; round++) {
		memset(&HS, 0, sizeof(HS));
		p.srv.failed = false;
		c = offloaded_pair(&p, &sid, &cid, &w);
		if (round == 0)
			sp_conn_close(c);
		ck_assert_int_eq(pthread_create(&t, NULL, unblock_soon, NULL), 0);
		sp_workers_free(w);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		if (round == 0) {
			ck_assert_int_eq(HS.released, 1);
		} else {
			/* Nothing was held; the step is no longer the pool's
			 * (cancelled: the handshake failed, "stopped"; or it ran
			 * before the stop, a loaded machine's way). */
			ck_assert_int_eq(HS.held, 0);
			ck_assert_ptr_null(c->hs_job);
			if (p.srv.failed)
				ck_assert_msg(strstr(p.srv.errtext, "stopped") != NULL, "%s", p.srv.errtext);
			sp_conn_close(c);
		}
		free(c);
		offloaded_down(&p, &sid, &cid);
		ck_assert_int_eq(open_fds(), fds);
	}
}
END_TEST

START_TEST(identity_persists_and_is_private)
{
	struct sp_identity a, b;
	char err[256], path[128];
	bool created;
	struct stat st;

	make_tmpdir();
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "id", &a, &created, err, sizeof(err)), SP_OK);
	ck_assert(created);
	ck_assert_uint_eq(strlen(a.key_id), 64);
	snprintf(path, sizeof(path), "%s/id.key", tmpdir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "id", &b, &created, err, sizeof(err)), SP_OK);
	ck_assert(!created);
	ck_assert_str_eq(a.key_id, b.key_id);
	sp_identity_free(&b);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(sp_identity_load_or_create(tmpdir, "id", &b, &created, err, sizeof(err)), SP_ERR_DENIED);
	ck_assert_msg(strstr(err, "chmod 600") != NULL, "%s", err);
	sp_identity_free(&a);
	remove_tmpdir();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	sp_tls_init();
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, plain_echo_with_backpressure);
	tcase_add_test(tc, out_storage_kept_across_drain);
	tcase_add_test(tc, tls_echo_mutual_and_pinned);
	tcase_add_test(tc, tls_server_rejects_plain_garbage);
	tcase_add_test(tc, tls_client_cert_required);
	tcase_add_test(tc, init_failure_closes_the_descriptor);
	tcase_add_test(tc, connect_refused_has_its_class);
	tcase_add_test(tc, tls_bounded_reader_gets_everything);
	tcase_add_test(tc, tls_records_leave_together);
	tcase_add_test(tc, tls_direct_write_stalled_mid_record);
	tcase_add_test(tc, tls_parked_connection_moves_to_another_loop);
	tcase_add_test(tc, tls_offloaded_step_outlives_its_connection);
	tcase_add_test(tc, tls_offloaded_step_when_the_pool_stops);
	tcase_add_test(tc, identity_persists_and_is_private);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sp_tls_deinit();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
