/*
 * common.c - helpers of bench.h (addresses, listen, connect, clock).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "bench.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
bench_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	size_t hl;
	long port;

	if (colon == NULL)
		return SP_ERR_INVALID;
	port = strtol(colon + 1, NULL, 10);
	hl = (size_t)(colon - text);
	if (port < 0 || port > 65535 || hl == 0 || hl >= sizeof(host))
		return SP_ERR_INVALID;
	memcpy(host, text, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return SP_ERR_INVALID;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return SP_ERR_INVALID;
		*len = sizeof(*s4);
	}
	return SP_OK;
}

int
bench_listen(const char *text, int *fd, const char *port_file)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s, one = 1;

	if (bench_addr(text, &ss, &len) != 0) {
		fprintf(stderr, "bad address %s\n", text);
		return SP_ERR_INVALID;
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return SP_ERR_SYSTEM;
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, 4096) != 0) {
		fprintf(stderr, "listen on %s: %s\n", text, strerror(errno));
		close(s);
		return SP_ERR_SYSTEM;
	}
	if (port_file != NULL) {
		FILE *f;
		len = sizeof(ss);
		getsockname(s, (struct sockaddr *)&ss, &len);
		unsigned port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
		if ((f = fopen(port_file, "w")) == NULL) {
			close(s);
			return SP_ERR_SYSTEM;
		}
		fprintf(f, "%u\n", port);
		fclose(f);
	}
	*fd = s;
	return SP_OK;
}

int
bench_connect(const struct sockaddr_storage *addr, socklen_t len,
    const char *source, int timeout_s, int *fd)
{
	struct timeval tv = { .tv_sec = timeout_s };
	int s, one = 1;

	s = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return SP_ERR_SYSTEM;
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (source != NULL) {
		struct sockaddr_storage src;
		socklen_t sl;
		char text[80];
		snprintf(text, sizeof(text), addr->ss_family == AF_INET6 ?
		    "[%s]:0" : "%s:0", source);
		/* Many flood connections from one address: let ports be shared. */
		(void)setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bench_addr(text, &src, &sl) != 0 ||
		    bind(s, (struct sockaddr *)&src, sl) != 0) {
			close(s);
			return SP_ERR_SYSTEM;
		}
	}
	if (connect(s, (const struct sockaddr *)addr, len) != 0) {
		close(s);
		return SP_ERR_SYSTEM;
	}
	*fd = s;
	return SP_OK;
}
