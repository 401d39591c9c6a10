/*
 * err.h - the one error idiom of smartproxy.
 *
 * Every fallible function returns int: 0 (SP_OK) on success, a negative
 * SP_ERR_* on failure. Callers test with `if ((r = f()) != 0)` and either
 * handle the code or pass it up unchanged. Functions that hit a system call
 * failure return SP_ERR_SYSTEM and leave errno set for the caller's log line.
 */
#ifndef SP_ERR_H
#define SP_ERR_H

enum sp_err {
	SP_OK = 0,
	SP_ERR_NOMEM = -1,      /* allocation failed */
	SP_ERR_INVALID = -2,    /* malformed input or bad argument */
	SP_ERR_LIMIT = -3,      /* a bound (buffer maximum, count) would be exceeded */
	SP_ERR_SHORT = -4,      /* not enough bytes: need more input */
	SP_ERR_SYSTEM = -5,     /* a system call failed; errno says why */
	SP_ERR_AGAIN = -6,      /* would block: retry when the fd is ready */
	SP_ERR_TLS = -7,        /* TLS failure (handshake, alert, record) */
	SP_ERR_CLOSED = -8,     /* peer closed the connection */
	SP_ERR_NOT_FOUND = -9,  /* no such entry */
	SP_ERR_PROTOCOL = -10,  /* peer violated a protocol */
	SP_ERR_TIMEOUT = -11,   /* a timer expired */
	SP_ERR_CONFIG = -12,    /* configuration is invalid */
	SP_ERR_ABI = -13,       /* module ABI mismatch */
	SP_ERR_DENIED = -14,    /* refused by policy */
	SP_ERR_EXISTS = -15     /* already present */
};

/* Static, never NULL. */
const char *sp_strerror(int err);

#endif
