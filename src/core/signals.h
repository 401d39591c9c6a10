/*
 * signals.h - how the daemons take signals: blocked in every thread and read
 * from one signalfd on the event loop, so a handler never runs in the middle
 * of anything. sp_signals_block() must run before any thread exists (worker
 * threads, curl's resolver): threads inherit the mask. SIGPIPE is ignored:
 * a peer that went away is an error return, not a death.
 *
 * Ownership: the fd from sp_signals_watch() is the caller's to close.
 */
#ifndef SP_SIGNALS_H
#define SP_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

#include "core/loop.h"

/* Block SIGTERM, SIGINT (and SIGHUP when hup) in *mask and in this thread. */
void sp_signals_block(sigset_t *mask, bool hup);
/* A non-blocking signalfd for mask, watched by loop with cb. */
int sp_signals_watch(struct sp_loop *loop, const sigset_t *mask, sp_io_cb *cb, void *arg,
    int *fd_out);

#endif
