/*
 * bench.h - small helpers shared by the benchmark programs (bench-sink,
 * bench-load): numeric loopback addresses, listening, connecting, a clock.
 * Nothing here allocates; descriptors returned belong to the caller.
 */
#ifndef SP_BENCH_H
#define SP_BENCH_H

#include <sys/socket.h>

/* Monotonic seconds. */
double bench_now(void);

/* "127.0.0.1:PORT" or "[::1]:PORT" into a socket address. */
int bench_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Bound, listening, non-blocking socket; the port goes to PORT_FILE if given. */
int bench_listen(const char *text, int *fd, const char *port_file);

/*
 * Blocking TCP connect to ADDR, from SOURCE (numeric address, no port) when
 * not NULL; reads and writes time out after TIMEOUT_S seconds.
 */
int bench_connect(const struct sockaddr_storage *addr, socklen_t len,
    const char *source, int timeout_s, int *fd);

#endif
