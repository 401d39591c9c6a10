/*
 * nofile.h - the open-files limit a daemon starts with.
 *
 * Every session costs the DMZ process two descriptors (the partner's
 * connection and its leg through the tunnel), and the client two (that leg
 * and the inside connection). systemd starts services with a soft limit of
 * 1024 and a high hard limit, expecting a program that needs more to raise
 * its own soft limit (poll/select programs must not; we use epoll). With
 * 1024, the DMZ's default of 1000 sessions would stop at about 500, its
 * listeners paused on EMFILE. So the daemons raise the soft limit to the
 * hard one at start, before the sandbox, through prlimit(), which the
 * shipped units' system call filter allows (setrlimit() is in @resources,
 * which they deny).
 */
#ifndef SP_NOFILE_H
#define SP_NOFILE_H

/* Beyond this a raise stops: a container's hard limit of 2^30 buys nothing. */
#define SP_NOFILE_CAP (1ull << 20)

/* At a daemon's start, after logging is set up: raise the soft
 * RLIMIT_NOFILE to the hard one (at most SP_NOFILE_CAP) and say so in one
 * line (INFO; WARN if the raise failed). Returns the soft limit now. */
unsigned long long sp_nofile_start(void);

#endif
