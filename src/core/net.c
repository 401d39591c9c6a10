/* net.c - numeric addresses and non-blocking sockets; see net.h. */
#include "net.h"
#include "err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return SP_ERR_INVALID;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return SP_ERR_INVALID;
	*port = (uint16_t)v;
	return SP_OK;
}

int
sp_addr_parse_host(const char *text, struct sp_addr *out)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
	char tmp[SP_ADDR_TEXT];
	size_t n = strlen(text);

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(tmp))
		return SP_ERR_INVALID;
	memcpy(tmp, text, n + 1);
	if (tmp[0] == '[' && tmp[n - 1] == ']') {
		tmp[n - 1] = '\0';
		memmove(tmp, tmp + 1, n - 1);
	}
	if (inet_pton(AF_INET, tmp, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		out->len = sizeof(*in4);
		return SP_OK;
	}
	if (inet_pton(AF_INET6, tmp, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		out->len = sizeof(*in6);
		return SP_OK;
	}
	return SP_ERR_INVALID;
}

int
sp_addr_parse(const char *text, struct sp_addr *out)
{
	char host[SP_ADDR_TEXT];
	const char *colon;
	uint16_t port;
	size_t hl;
	int r;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');
		if (rb == NULL || rb[1] != ':')
			return SP_ERR_INVALID;
		colon = rb + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text)) != NULL)
			return SP_ERR_INVALID; /* bare IPv6 needs brackets */
	}
	if ((r = parse_port(colon + 1, &port)) != 0)
		return r;
	hl = (size_t)(colon - text);
	if (hl >= sizeof(host))
		return SP_ERR_INVALID;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (hl == 0 || strcmp(host, "*") == 0)
		strcpy(host, "0.0.0.0");
	if ((r = sp_addr_parse_host(host, out)) != 0)
		return r;
	sp_addr_set_port(out, port);
	return SP_OK;
}

void
sp_addr_set_port(struct sp_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

uint16_t
sp_addr_port(const struct sp_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void
sp_addr_host(const struct sp_addr *a, char *buf, size_t n)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr, buf,
		    (socklen_t)n);
	} else if (a->ss.ss_family == AF_INET6) {
		/* Show v4-mapped peers as plain IPv4: one form for logs and ACLs. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, (socklen_t)n);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)n);
	} else {
		snprintf(buf, n, "?");
	}
}

void
sp_addr_format(const struct sp_addr *a, char *buf, size_t n)
{
	char h[SP_ADDR_TEXT];

	sp_addr_host(a, h, sizeof(h));
	if (strchr(h, ':') != NULL)
		snprintf(buf, n, "[%s]:%u", h, sp_addr_port(a));
	else
		snprintf(buf, n, "%s:%u", h, sp_addr_port(a));
}

int
sp_listen(const struct sp_addr *a, int backlog, int *fd_out)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return SP_ERR_SYSTEM;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 ||
	    listen(fd, backlog) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return SP_ERR_SYSTEM;
	}
	*fd_out = fd;
	return SP_OK;
}

int
sp_sock_local(int fd, struct sp_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) != 0)
		return SP_ERR_SYSTEM;
	return SP_OK;
}

int
sp_sock_peer(int fd, struct sp_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	if (getpeername(fd, (struct sockaddr *)&out->ss, &out->len) != 0)
		return SP_ERR_SYSTEM;
	return SP_OK;
}

int
sp_accept(int lfd, int *fd_out, struct sp_addr *peer)
{
	int fd, one = 1;

	memset(peer, 0, sizeof(*peer));
	peer->len = sizeof(peer->ss);
	fd = accept4(lfd, (struct sockaddr *)&peer->ss, &peer->len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return SP_ERR_AGAIN;
		return SP_ERR_SYSTEM;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd_out = fd;
	return SP_OK;
}

int
sp_connect(const struct sp_addr *to, const struct sp_addr *from, int *fd_out,
    bool *in_progress)
{
	int fd, one = 1;

	fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return SP_ERR_SYSTEM;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (from != NULL && from->len > 0) {
		if (bind(fd, (const struct sockaddr *)&from->ss, from->len) != 0)
			goto fail;
	}
	*in_progress = false;
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		*in_progress = true;
	}
	*fd_out = fd;
	return SP_OK;
fail:
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return SP_ERR_SYSTEM;
}
