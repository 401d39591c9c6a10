#!/usr/bin/env python3
"""tunnel_hold.py - raw TCP connections that sit in the tunnel's handshake.

  tunnel_hold.py PORT SRC COUNT READY RELEASE

Opens COUNT TCP connections from the loopback address SRC to the tunnel port
127.0.0.1:PORT and never sends a ClientHello, so the server counts each one
as a handshake in progress until its hello timeout. Waits until the
listener's accept queue (its rx_queue in /proc/net/tcp) is empty, i.e. the
server has accepted every one, then writes READY ("open=N closed=M": M of
them the server already closed, i.e. refused). Holds them until the file
RELEASE exists (at most 120 s), prints the same counts once more (whether
they all lasted), and closes them.
"""
import os
import socket
import sys
import time

TF = int(os.environ.get("SP_TIME_FACTOR", "1"))


def accept_queue(port):
    """Accept queue length of the listener on 127.0.0.1:port, or -1."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                return int(fields[4].split(":")[1], 16)
    return -1


def counts(socks):
    """open=N closed=M: a socket the server closed reads as EOF or a reset."""
    closed = 0
    for s in socks:
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return "open=%d closed=%d" % (len(socks) - closed, closed)


def main():
    port, src, count, ready, release = sys.argv[1:6]
    port, count = int(port), int(count)
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(10 * TF)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)   # counts() peeks: never wait for data
        socks.append(s)
    deadline = time.monotonic() + 30 * TF
    while accept_queue(port) != 0:
        if time.monotonic() > deadline:
            sys.exit("the server did not accept the connections")
        time.sleep(0.02)
    with open(ready + ".tmp", "w") as f:
        f.write(counts(socks) + "\n")
    os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + 120 * TF
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    print(counts(socks), flush=True)
    for s in socks:
        s.close()


main()
