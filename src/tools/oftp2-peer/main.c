/*
 * main.c - oftp2-peer: an OFTP2 endpoint for tests and diagnostics.
 *
 * `listen` is a responder that stores received files, `send` an initiator
 * that sends files; both can do both directions in one session. One session
 * at a time, blocking with poll() timeouts (`listen --parallel`: one process
 * per session). See `oftp2-peer --help`.
 * Exit status: 0 success, 1 session or file failure, 2 usage/setup error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "core/err.h"
#include "conn.h"
#include "msg.h"
#include "net.h"
#include "opts.h"
#include "session.h"
#include "store.h"

/* One session on an accepted connection; closes it. */
static int
serve_conn(const struct peer_opts *o, struct peer_tls *tls, int fd, const char *peer,
    int dirfd)
{
	struct peer_conn conn;
	int r;

	peer_trace("connection from %s", peer);
	peer_conn_init(&conn, fd, (int)o->timeout_sec * 1000);
	if (o->tls && (r = peer_conn_start_tls(&conn, tls, NULL)) != 0) {
		peer_error("TLS with %s failed", peer);
		goto out;
	}
	r = peer_session_run(&conn, o, 0, dirfd);
	if (r != 0)
		peer_error("session with %s failed", peer);
out:
	peer_conn_close(&conn);
	return r;
}

static int
serve_one(const struct peer_opts *o, struct peer_tls *tls, int lfd, int dirfd)
{
	char peer[128];
	int fd, r;

	if ((r = peer_net_accept(lfd, &fd, peer, sizeof(peer))) != 0)
		return r;
	if (o->parallel) {
		/* A process per session: a caller that holds its session open
		 * (or never speaks) does not keep the next one waiting in the
		 * accept queue. Children are reaped by the kernel (SIGCHLD
		 * ignored); a failed fork serves the session here. */
		pid_t pid = fork();

		if (pid == 0) {
			close(lfd);
			_exit(serve_conn(o, tls, fd, peer, dirfd) == 0 ? 0 : 1);
		}
		if (pid > 0) {
			close(fd);
			return 0;
		}
		peer_error("fork: %s; serving %s here", strerror(errno), peer);
	}
	return serve_conn(o, tls, fd, peer, dirfd);
}

static int
run_listen(const struct peer_opts *o, struct peer_tls *tls, int dirfd)
{
	unsigned port;
	int lfd, r;

	if ((r = peer_net_listen(o->listen_addr, &lfd, &port)) != 0)
		return r;
	if (o->parallel)
		signal(SIGCHLD, SIG_IGN);
	peer_trace("listening on %s, port %u%s", o->listen_addr, port,
	    o->tls ? " (TLS)" : "");
	if (o->port_file != NULL &&
	    (r = peer_net_write_port_file(o->port_file, port)) != 0) {
		close(lfd);
		return r;
	}
	do
		r = serve_one(o, tls, lfd, dirfd);
	while (!o->once);
	close(lfd);
	return r;
}

static int
run_send(const struct peer_opts *o, struct peer_tls *tls, int dirfd)
{
	struct peer_conn conn;
	char host[256];
	int fd, r;

	if ((r = peer_net_connect(o->connect_addr, o->source, (int)o->timeout_sec * 1000, &fd,
	    host, sizeof(host))) != 0)
		return r;
	peer_trace("connected to %s", o->connect_addr);
	peer_conn_init(&conn, fd, (int)o->timeout_sec * 1000);
	if (o->tls && (r = peer_conn_start_tls(&conn, tls,
	    o->servername != NULL ? o->servername : host)) != 0)
		goto out;
	r = peer_session_run(&conn, o, 1, dirfd);
out:
	peer_conn_close(&conn);
	return r;
}

int
main(int argc, char **argv)
{
	struct peer_tls tls;
	struct peer_opts o;
	int r, dirfd = -1, status;

	memset(&tls, 0, sizeof(tls));
	if ((r = peer_opts_parse(&o, argc, argv)) != 0) {
		peer_opts_free(&o);
		return r == 1 ? 0 : 2;
	}
	peer_msg_init(o.mode == PEER_MODE_LISTEN ? "listen" : "send", o.verbose);
	signal(SIGPIPE, SIG_IGN);
	status = 2;
	if ((r = peer_store_open_dir(o.dir, &dirfd)) != 0)
		goto out;
	if (o.tls) {
		if ((r = gnutls_global_init()) < 0) {
			peer_error("GnuTLS: %s", gnutls_strerror(r));
			goto out;
		}
		if ((r = peer_tls_init(&tls, &o)) != 0)
			goto out_tls;
	}
	r = o.mode == PEER_MODE_LISTEN ? run_listen(&o, &tls, dirfd) :
	    run_send(&o, &tls, dirfd);
	status = r == 0 ? 0 : r == SP_ERR_CONFIG ? 2 : 1;
out_tls:
	if (o.tls) {
		peer_tls_free(&tls);
		gnutls_global_deinit();
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	peer_opts_free(&o);
	return status;
}
