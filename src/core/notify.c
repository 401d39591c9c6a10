/*
 * notify.c - see notify.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/notify.h"

static int notify_fd = -1;

int
sp_notify_open(void)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t n;
	int fd;

	if (notify_fd >= 0 || path == NULL || *path == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, len) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	notify_fd = fd;
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

int
sp_notify(const char *state)
{
	ssize_t n;

	if (notify_fd < 0)
		return 0;
	do
		n = send(notify_fd, state, strlen(state), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

int
sp_notify_status(const char *fmt, ...)
{
	char line[216];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return 0;
	memcpy(line, "STATUS=", 7);
	va_start(ap, fmt);
	n = vsnprintf(line + 7, sizeof(line) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return sp_notify(line);
}

void
sp_notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
