/*
 * guard.c - deadlines for slow clients of smartproxy-api (docs/api.md 6.1,
 * `limits`). libmicrohttpd bounds connections (all, per address) and idle
 * time, but a client that sends one byte of its headers every few seconds is
 * never idle and would hold its connection, and its thread, for ever. So
 * each connection carries a deadline: from its start (or the end of its
 * previous request) the headers must be complete within header_timeout,
 * then the body within body_timeout. While a handler works (a long poll
 * waits up to 60 s) no deadline runs. A thread looks four times a second
 * and shuts down the socket of a connection past its deadline;
 * libmicrohttpd then sees the end of the stream and closes it as usual.
 *
 * Ownership: the slots belong to struct api_guard (api->guard); a slot is
 * a connection's socket context from MHD_CONNECTION_NOTIFY_STARTED to
 * MHD_CONNECTION_NOTIFY_CLOSED, which libmicrohttpd calls before it closes
 * the descriptor, so the guard never shuts down a descriptor reused by
 * somebody else.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/api.h"
#include "core/err.h"
#include "core/log.h"

#define GUARD_INTERVAL_MS 250

struct guard_slot {
	bool used;
	int fd;
	uint64_t deadline;    /* ms, CLOCK_MONOTONIC; 0: none running */
	int seconds;          /* the limit that runs, for the log */
	const char *what;     /* "headers" or "body" */
	char peer[64];
};

struct api_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	pthread_t thread;
	bool running;
	size_t n;
	struct guard_slot *slots;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
arm(struct guard_slot *s, int seconds, const char *what)
{
	s->deadline = now_ms() + (uint64_t)seconds * 1000;
	s->seconds = seconds;
	s->what = what;
}

void
api_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct api *a = cls;
	struct api_guard *g = a->guard;
	const union MHD_ConnectionInfo *fd, *addr;
	struct guard_slot *s = NULL;
	size_t i;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((s = *socket_context) != NULL)
			s->used = false;
		*socket_context = NULL;
		pthread_mutex_unlock(&g->mu);
		return;
	}
	/* As many slots as max_connections: a free one always exists. */
	for (i = 0; i < g->n && g->slots[i].used; i++)
		;
	fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (i < g->n && fd != NULL) {
		s = &g->slots[i];
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->fd = fd->connect_fd;
		arm(s, a->conf->limits.header_timeout, "headers");
		addr = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (addr == NULL || getnameinfo(addr->client_addr,
		    addr->client_addr->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    s->peer, sizeof(s->peer), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(s->peer, sizeof(s->peer), "?");
	}
	*socket_context = s;
	pthread_mutex_unlock(&g->mu);
}

/* The slot of connection `c`, with the guard's lock held; NULL: none. */
static struct guard_slot *
slot_of(struct api_guard *g, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void
api_guard_set(struct api *a, struct MHD_Connection *c, enum api_guard_phase p)
{
	struct api_guard *g = a->guard;
	struct guard_slot *s;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if ((s = slot_of(g, c)) != NULL && s->used) {
		if (p == API_GUARD_HEADERS)
			arm(s, a->conf->limits.header_timeout, "headers");
		else if (p == API_GUARD_BODY)
			arm(s, a->conf->limits.body_timeout, "body");
		else
			s->deadline = 0;
	}
	pthread_mutex_unlock(&g->mu);
}

static void *
guard_main(void *arg)
{
	struct api_guard *g = arg;
	struct timespec until;
	uint64_t now;
	size_t i;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		now = now_ms();
		for (i = 0; i < g->n; i++) {
			struct guard_slot *s = &g->slots[i];

			if (!s->used || s->deadline == 0 || now < s->deadline)
				continue;
			s->deadline = 0;
			/* Not close(): the descriptor stays libmicrohttpd's. */
			shutdown(s->fd, SHUT_RDWR);
			sp_log(SP_LOG_NOTICE, "api", "client %s did not send its "
			    "request %s within %d s: connection closed", s->peer,
			    s->what, s->seconds);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += GUARD_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &until);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int
api_guard_start(struct api *a, char *err, size_t errlen)
{
	struct api_guard *g;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->slots = calloc((size_t)a->conf->limits.max_connections,
	    sizeof(*g->slots))) == NULL) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return SP_ERR_NOMEM;
	}
	g->n = (size_t)a->conf->limits.max_connections;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		snprintf(err, errlen, "cannot start the guard thread: %s",
		    strerror(errno));
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g->slots);
		free(g);
		return SP_ERR_SYSTEM;
	}
	g->running = true;
	a->guard = g;
	return SP_OK;
}

void
api_guard_stop(struct api *a)
{
	struct api_guard *g = a->guard;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (g->running)
		pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g->slots);
	free(g);
	a->guard = NULL;
}
