/* net.c - TCP sockets of oftp2-peer (see net.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "msg.h"
#include "net.h"

/* Split "HOST:PORT" / "[V6]:PORT" into host and port strings. */
static int
split_hostport(const char *hostport, char *host, size_t host_len, char *port,
    size_t port_len)
{
	const char *colon, *h = hostport;
	size_t hl;

	if (*h == '[') {
		const char *close = strchr(h, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		h++;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - h);
	}
	if (hl == 0 || hl >= host_len || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= port_len)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
bad:
	peer_error("bad address '%s': want HOST:PORT or [IPV6]:PORT", hostport);
	return SP_ERR_CONFIG;
}

static int
resolve(const char *hostport, int passive, struct addrinfo **res, char *host,
    size_t host_len)
{
	struct addrinfo hints;
	char port[16];
	int r;

	if ((r = split_hostport(hostport, host, host_len, port, sizeof(port))) != 0)
		return r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if ((r = getaddrinfo(host, port, &hints, res)) != 0) {
		peer_error("cannot resolve '%s': %s", hostport, gai_strerror(r));
		return SP_ERR_CONFIG;
	}
	return 0;
}

static unsigned
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int
peer_net_listen(const char *hostport, int *fd, unsigned *port)
{
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	int s = -1, one = 1, r, saved = 0;

	if ((r = resolve(hostport, 1, &res, host, sizeof(host))) != 0)
		return r;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (s < 0) {
			saved = errno;
			continue;
		}
		(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* One session at a time: everyone else waits in the accept queue.
		 * Once that queue is full the kernel drops the final ACK of the
		 * next connection, whose caller then believes it is connected and
		 * waits for an SSRM that comes only when a SYN-ACK retry finds
		 * room (the flood stall of issue 16, chain_inside_queue.sh): so
		 * take the longest queue the system allows. */
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s < 0) {
		peer_error("cannot listen on %s: %s", hostport, strerror(saved));
		return SP_ERR_SYSTEM;
	}
	if (getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
		peer_error("getsockname: %s", strerror(errno));
		close(s);
		return SP_ERR_SYSTEM;
	}
	*port = sockaddr_port(&ss);
	*fd = s;
	return 0;
}

int
peer_net_accept(int lfd, int *fd, char *peer, unsigned peer_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[NI_MAXHOST], p[NI_MAXSERV];
	int s, one = 1;

	do
		s = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	while (s < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (s < 0) {
		peer_error("accept: %s", strerror(errno));
		return SP_ERR_SYSTEM;
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(peer, peer_len, "?");
	else
		snprintf(peer, peer_len, "%s port %s", h, p);
	*fd = s;
	return 0;
}

/* Non-blocking connect bounded by the caller's timeout. */
static int
connect_one(const struct addrinfo *ai, const char *source, int timeout_ms, int *fd)
{
	struct addrinfo hints, *src = NULL;
	struct pollfd pfd;
	socklen_t sl;
	int s, err = 0, n, one = 1;

	s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    ai->ai_protocol);
	if (s < 0)
		return errno;
	/* --source: call from this local address (bind before connect). */
	if (source != NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = ai->ai_family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if (getaddrinfo(source, "0", &hints, &src) != 0) {
			err = EADDRNOTAVAIL;
			goto fail;
		}
		n = bind(s, src->ai_addr, src->ai_addrlen);
		err = n != 0 ? errno : 0;
		freeaddrinfo(src);
		if (err != 0)
			goto fail;
	}
	if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd.fd = s;
		pfd.events = POLLOUT;
		do
			n = poll(&pfd, 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		sl = sizeof(err);
		if (n < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
			err = errno;
		if (err != 0)
			goto fail;
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return 0;
fail:
	close(s);
	return err;
}

int
peer_net_connect(const char *hostport, const char *source, int timeout_ms, int *fd,
    char *host, unsigned host_len)
{
	struct addrinfo *res = NULL, *ai;
	int r, err = ENOENT;

	if ((r = resolve(hostport, 0, &res, host, host_len)) != 0)
		return r;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((err = connect_one(ai, source, timeout_ms, fd)) == 0)
			break;
	freeaddrinfo(res);
	if (err != 0) {
		peer_error("cannot connect to %s: %s", hostport, strerror(err));
		return err == ETIMEDOUT ? SP_ERR_TIMEOUT : SP_ERR_SYSTEM;
	}
	return 0;
}

int
peer_net_write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;
	int ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		peer_error("port file name too long");
		return SP_ERR_CONFIG;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		peer_error("cannot write %s: %s", tmp, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	ok = fprintf(f, "%u\n", port) > 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		peer_error("cannot write %s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return SP_ERR_SYSTEM;
	}
	return 0;
}
