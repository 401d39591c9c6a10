/* signals.c - blocked signals read from a signalfd; see signals.h. */
#include "core/signals.h"
#include "core/err.h"

#include <sys/signalfd.h>
#include <unistd.h>

void
sp_signals_block(sigset_t *mask, bool hup)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	if (hup)
		sigaddset(mask, SIGHUP);
	sigprocmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
sp_signals_watch(struct sp_loop *loop, const sigset_t *mask, sp_io_cb *cb, void *arg,
    int *fd_out)
{
	int fd, r;

	if ((fd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return SP_ERR_SYSTEM;
	if ((r = sp_loop_add(loop, fd, SP_EV_READ, cb, arg)) != 0) {
		close(fd);
		return r;
	}
	*fd_out = fd;
	return SP_OK;
}
