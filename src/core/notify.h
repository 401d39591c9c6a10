/*
 * notify.h - readiness and status for a service manager ($NOTIFY_SOCKET).
 *
 * The systemd notification protocol is one datagram of "KEY=VALUE\n" lines
 * to the unix socket named in $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). We speak it ourselves instead of linking libsystemd:
 * the DMZ server chroots and installs a seccomp filter before it is ready,
 * and libsystemd's sd_notify() opens the socket by path at every call, which
 * neither the chroot nor the filter allows. The socket is therefore opened
 * and connected once, early; later notifications are a plain send() on it.
 * (OpenSSH did the same in 9.8 to keep libsystemd out of sshd.)
 *
 * Process-wide state: one socket, owned by this unit, closed by
 * sp_notify_close() or at exit. Without $NOTIFY_SOCKET every call is a no-op.
 */
#ifndef SP_CORE_NOTIFY_H
#define SP_CORE_NOTIFY_H

/*
 * Connects to $NOTIFY_SOCKET if it is set and removes it from the
 * environment (children must not notify for us). Returns 0 when not under a
 * service manager or connected, -1 (errno set) when the variable names a
 * socket that cannot be reached.
 */
int sp_notify_open(void);

/*
 * Sends one state ("READY=1", "STOPPING=1", "STATUS=...") on the socket
 * opened by sp_notify_open(). Best effort: a lost notification is logged by
 * the caller at most, never fatal.
 */
int sp_notify(const char *state);

/* Printf-style STATUS= line (truncated at 200 bytes). */
int sp_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void sp_notify_close(void);

#endif
