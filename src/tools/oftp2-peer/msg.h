/*
 * msg.h - diagnostics of oftp2-peer on stderr.
 *
 * peer_error() is for every failure the user must see ("oftp2-peer: ...").
 * peer_trace() prints only with -v: the human-readable session trace.
 * The role prefix (set once by main) tells the two ends apart when a test
 * merges the stderr of both.
 */
#ifndef PEER_MSG_H
#define PEER_MSG_H

void peer_msg_init(const char *role, int verbose);
int peer_msg_verbose(void);

void peer_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void peer_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
