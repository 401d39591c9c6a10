/*
 * sink.c - bench-sink: the inside end of the benchmark chains (plain TCP).
 *
 *   bench-sink --listen 127.0.0.1:PORT [--oftp2] [--seconds S] [--port-file F]
 *
 * One epoll thread serves any number of connections, so it never limits
 * what the proxy in front of it can carry.
 *   frame mode (default): each connection carries frames of an 8-octet
 *       big-endian length and that many octets; after each whole frame the
 *       sink answers with the same 8 octets (the sender's "it arrived").
 *   --oftp2: an OFTP2 responder that only starts and ends sessions: it sends
 *       SSRM, answers an SSID with its own, answers CD with ESID 00 and
 *       closes; everything else is read and dropped.
 * It ends by itself after S seconds (default 1800). Everything it owns (the
 * per-connection structs) is freed when the connection closes; nothing
 * outlives main().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "bench.h"

/* The OEB octets we look at (command and a little more); the rest is skipped. */
#define HEAD_MAX 8

struct sink_conn {
	int fd;
	uint8_t head[HEAD_MAX]; /* frame length, or STH + first OEB octets */
	size_t have;            /* octets in head */
	uint64_t skip;          /* octets of the current frame/STB still to drop */
	int in_body;
	int closing;
};

static int oftp2_mode;

static const char SSRM[] = "\x10\x00\x00\x17" "IODETTE FTP READY \r";
static const char SSID_R[] = "\x10\x00\x00\x41"
    "X5O0013000000INSIDE        INSIDEPW04096BNNN064N            \r";
static const char ESID_00[] = "\x10\x00\x00\x0b" "F00000\r";

static int
conn_send(struct sink_conn *c, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* Answers are tiny; a full socket buffer means a broken peer. */
			return SP_ERR_SYSTEM;
		}
		b += w;
		n -= (size_t)w;
	}
	return SP_OK;
}

/* A whole frame header arrived: learn the body length. */
static int
frame_header(struct sink_conn *c)
{
	struct sp_rd rd;
	uint32_t hi, lo;
	int r;

	sp_rd_init(&rd, c->head, c->have);
	if ((r = sp_rd_u32be(&rd, &hi)) != 0 || (r = sp_rd_u32be(&rd, &lo)) != 0)
		return r;
	c->skip = ((uint64_t)hi << 32) | lo;
	c->in_body = 1;
	return SP_OK;
}

static int
frame_done(struct sink_conn *c)
{
	int r = conn_send(c, c->head, 8);

	c->have = 0;
	c->in_body = 0;
	return r;
}

/* The STH and the first OEB octets of a command arrived. */
static int
stb_header(struct sink_conn *c)
{
	struct sp_rd rd;
	uint8_t ver;
	uint32_t len;
	int r;

	sp_rd_init(&rd, c->head, c->have);
	if ((r = sp_rd_u8(&rd, &ver)) != 0 || (r = sp_rd_u24be(&rd, &len)) != 0)
		return r;
	if (ver != 0x10 || len < 5)
		return SP_ERR_PROTOCOL;
	c->skip = len - 4;
	c->in_body = 1;
	return SP_OK;
}

static int
stb_done(struct sink_conn *c)
{
	struct sp_rd rd;
	uint8_t cmd = 0;
	int r = SP_OK;

	sp_rd_init(&rd, c->head, c->have);
	(void)sp_rd_skip(&rd, 4);
	if (sp_rd_u8(&rd, &cmd) != 0)
		return SP_ERR_PROTOCOL;
	if (cmd == 'X')
		r = conn_send(c, SSID_R, sizeof(SSID_R) - 1);
	else if (cmd == 'R') {
		r = conn_send(c, ESID_00, sizeof(ESID_00) - 1);
		c->closing = 1;
	} else if (cmd == 'F')
		c->closing = 1;
	c->have = 0;
	c->in_body = 0;
	return r;
}

/* Feed received octets through the frame or STB state machine. */
static int
conn_feed(struct sink_conn *c, const uint8_t *p, size_t n)
{
	size_t want_head = oftp2_mode ? 5 : 8;
	int r;

	while (n > 0 && !c->closing) {
		if (!c->in_body) {
			size_t take = want_head - c->have;
			if (take > n)
				take = n;
			memcpy(c->head + c->have, p, take);
			c->have += take;
			p += take;
			n -= take;
			if (c->have < want_head)
				return SP_OK;
			if ((r = oftp2_mode ? stb_header(c) : frame_header(c)) != 0)
				return r;
			if (oftp2_mode) {
				/* The command octet is already in head. */
				c->skip--;
			}
		}
		size_t drop = c->skip < n ? (size_t)c->skip : n;
		c->skip -= drop;
		p += drop;
		n -= drop;
		if (c->skip == 0 &&
		    (r = oftp2_mode ? stb_done(c) : frame_done(c)) != 0)
			return r;
	}
	return SP_OK;
}

static void
conn_close(int ep, struct sink_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static void
accept_all(int ep, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct sink_conn *c = calloc(1, sizeof(*c));
		struct epoll_event ev = { .events = EPOLLIN };
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0 ||
		    (oftp2_mode && conn_send(c, SSRM, sizeof(SSRM) - 1) != 0)) {
			close(fd);
			free(c);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-sink --listen HOST:PORT [--oftp2] "
	    "[--seconds S] [--port-file F]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "oftp2", no_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "port-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_at = NULL, *port_file = NULL;
	static uint8_t scratch[1 << 18];
	long seconds = 1800;
	int o, lfd, ep;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': listen_at = optarg; break;
		case 'o': oftp2_mode = 1; break;
		case 's': seconds = strtol(optarg, NULL, 10); break;
		case 'p': port_file = optarg; break;
		default: usage();
		}
	}
	if (listen_at == NULL || seconds <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (bench_listen(listen_at, &lfd, port_file) != 0)
		return 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) {
		perror("bench-sink: epoll");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	double end = bench_now() + (double)seconds;
	while (bench_now() < end) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			struct sink_conn *c = evs[i].data.ptr;
			if (c == NULL) {
				accept_all(ep, lfd);
				continue;
			}
			ssize_t got = recv(c->fd, scratch, sizeof(scratch), 0);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got <= 0 || conn_feed(c, scratch, (size_t)got) != 0 ||
			    c->closing)
				conn_close(ep, c);
		}
	}
	return 0;
}
