/*
 * net.h - TCP sockets of oftp2-peer: listen, accept, connect with a timeout.
 *
 * Addresses are "HOST:PORT" or "[V6]:PORT". Every returned descriptor belongs
 * to the caller, who closes it. Failures are reported on stderr here, with the
 * address and the system's reason, and return SP_ERR_SYSTEM / SP_ERR_TIMEOUT /
 * SP_ERR_CONFIG.
 */
#ifndef PEER_NET_H
#define PEER_NET_H

/* Bind and listen; *port is the bound port (useful with port 0). */
int peer_net_listen(const char *hostport, int *fd, unsigned *port);
/* Wait (without limit) for one connection; text form of the peer in peer. */
int peer_net_accept(int lfd, int *fd, char *peer, unsigned peer_len);
/*
 * Connect within timeout_ms, from the numeric local address `source` if not
 * NULL. The host part is copied into host.
 */
int peer_net_connect(const char *hostport, const char *source, int timeout_ms, int *fd,
    char *host, unsigned host_len);
/* Write the port number to path (via a temporary file and rename). */
int peer_net_write_port_file(const char *path, unsigned port);

#endif
