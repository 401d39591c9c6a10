/* msg.c - diagnostics of oftp2-peer on stderr (see msg.h). */
#include <stdarg.h>
#include <stdio.h>

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

void
peer_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "oftp2-peer[%s]: ", msg_role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
peer_trace(const char *fmt, ...)
{
	va_list ap;

	if (!msg_verbose)
		return;
	fprintf(stderr, "[%s] ", msg_role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
