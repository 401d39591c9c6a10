/* msg.c - diagnostics of oftp2-peer on stderr (see msg.h). */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "msg.h"

static const char *msg_role = "";
static int msg_verbose;

void
peer_msg_init(const char *role, int verbose)
{
	msg_role = role;
	msg_verbose = verbose;
}

int
peer_msg_verbose(void)
{
	return msg_verbose;
}

/*
 * One line, one write(): with `listen --parallel` many processes share this
 * stderr, and a line written in pieces interleaves with theirs (tests count
 * lines such as "connection from").
 */
static void
emit(const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];
	const size_t cap = sizeof(line) - 2;    /* text; then '\n' and NUL */
	size_t n = 0;
	int r;

	if ((r = snprintf(line, cap + 1, "%s", prefix)) > 0)
		n = (size_t)r < cap ? (size_t)r : cap;
	if ((r = vsnprintf(line + n, cap + 1 - n, fmt, ap)) > 0)
		n += (size_t)r < cap - n ? (size_t)r : cap - n;
	line[n++] = '\n';
	fflush(stderr);
	(void)!write(STDERR_FILENO, line, n);
}

void
peer_error(const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "oftp2-peer[%s]: ", msg_role);
	va_start(ap, fmt);
	emit(prefix, fmt, ap);
	va_end(ap);
}

void
peer_trace(const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	if (!msg_verbose)
		return;
	snprintf(prefix, sizeof(prefix), "[%s] ", msg_role);
	va_start(ap, fmt);
	emit(prefix, fmt, ap);
	va_end(ap);
}
