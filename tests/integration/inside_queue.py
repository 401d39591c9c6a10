#!/usr/bin/env python3
"""inside_queue.py - partner sessions that hold the inside server busy.

  inside_queue.py HOST PORT CA_FILE N INSIDE_PORT RELEASE_FILE [hold]

Opens N TLS sessions to the partner port HOST:PORT (verifying CA_FILE), one
after the other, and keeps them silent. Without modules the chain relays each
one to the inside server at 127.0.0.1:INSIDE_PORT, which serves one session
at a time: the first one holds it, the others wait in its accept queue. Prints
"held N" once that queue (read from /proc/net/tcp: a listening socket's
rx_queue is its accept queue) holds N - 1 connections, "queued Q" once it
holds more than that (the test's legitimate session), then waits until
RELEASE_FILE exists and closes every session. Exit 1 with the queue length
seen if the queue never got there: connections the client believed open were
dropped by the inside's kernel (its listen backlog was too short).
With "hold" (an inside server with a process per session, which queues
nothing), prints "held N" once the N sessions are open and waits for
RELEASE_FILE the same way.
"""
import os
import socket
import ssl
import sys
import time

TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "1"))


def accept_queue(port):
    """Accept queue length of the listener on 127.0.0.1:port, or -1."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                return int(fields[4].split(":")[1], 16)
    return -1


def wait_queue(port, n, limit):
    seen = -1
    deadline = time.time() + limit
    while time.time() < deadline:
        seen = accept_queue(port)
        if seen >= n:
            return seen
        time.sleep(0.05)
    return seen


def main():
    host, port, ca, n, inside, release = sys.argv[1:7]
    hold_only = sys.argv[7:8] == ["hold"]
    port, n, inside = int(port), int(n), int(inside)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    held = []
    for _ in range(n):
        raw = socket.create_connection((host, port), timeout=20 * TIME_FACTOR)
        held.append(ctx.wrap_socket(raw))
    if hold_only:
        print("held %d" % n, flush=True)
        return wait_release(release, held)
    seen = wait_queue(inside, n - 1, 30 * TIME_FACTOR)
    if seen < n - 1:
        print("inside accept queue reached %d, not %d" % (seen, n - 1), flush=True)
        return 1
    print("held %d" % n, flush=True)
    seen = wait_queue(inside, n, 30 * TIME_FACTOR)
    if seen < n:
        print("inside accept queue reached %d, not %d" % (seen, n), flush=True)
        return 1
    print("queued %d" % seen, flush=True)
    return wait_release(release, held)


def wait_release(release, held):
    deadline = time.time() + 60 * TIME_FACTOR
    while not os.path.exists(release) and time.time() < deadline:
        time.sleep(0.05)
    for s in held:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
