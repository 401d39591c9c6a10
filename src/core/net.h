/*
 * net.h - socket addresses and non-blocking sockets.
 *
 * Addresses are written "host:port", "[v6addr]:port" or "v4addr:port" and are
 * numeric only in the DMZ (no DNS: resolving is an attack surface and can
 * block the loop). Functions return SP_OK or SP_ERR_*; on SP_ERR_SYSTEM errno
 * is preserved for the caller's message. Returned fds are O_NONBLOCK and
 * O_CLOEXEC and belong to the caller.
 */
#ifndef SP_NET_H
#define SP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Longest text form: "[" v6 "]:" port. */
#define SP_ADDR_TEXT 64

/* Parse a numeric "host:port"; an empty host or "*" means any IPv4 address. */
int sp_addr_parse(const char *text, struct sp_addr *out);
/* Parse a numeric address without a port (for source addresses). */
int sp_addr_parse_host(const char *text, struct sp_addr *out);
/* "192.0.2.1" and the port, or "[2001:db8::1]:6619" with port. */
void sp_addr_host(const struct sp_addr *a, char *buf, size_t n);
uint16_t sp_addr_port(const struct sp_addr *a);
void sp_addr_format(const struct sp_addr *a, char *buf, size_t n);
void sp_addr_set_port(struct sp_addr *a, uint16_t port);

int sp_listen(const struct sp_addr *a, int backlog, int *fd_out);
/* Bound address of a socket (to learn an ephemeral port). */
int sp_sock_local(int fd, struct sp_addr *out);
int sp_sock_peer(int fd, struct sp_addr *out);
/* Accept one; SP_ERR_AGAIN when none is waiting. */
int sp_accept(int lfd, int *fd_out, struct sp_addr *peer);
/*
 * Start a non-blocking connect, optionally from a source address (bind
 * before connect). *in_progress tells whether completion is pending.
 */
int sp_connect(const struct sp_addr *to, const struct sp_addr *from, int *fd_out,
    bool *in_progress);

#endif
