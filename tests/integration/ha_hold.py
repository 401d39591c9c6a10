#!/usr/bin/env python3
"""ha_hold.py - hold partner sessions open through the balancer, then tell
which of them a node's death closed.

usage: ha_hold.py SOURCE_ADDR LB_PORT CA N STATE_FILE GO_FILE OUT_FILE
  Opens N TLS connections from SOURCE_ADDR to 127.0.0.1:LB_PORT, each up to
  the SSRM the DMZ node sends after the handshake (a running session, waiting
  for the partner's SSID), and writes "<local port>" per line to STATE_FILE.
  Then waits for GO_FILE (the test killed a node), waits until every
  connection whose port is listed in GO_FILE was closed by the other side,
  and writes "<port> closed|open" for every connection to OUT_FILE: open
  means the connection is still readable-empty (no EOF, no reset) right
  after all the expected ones ended.
"""
import os
import select
import socket
import ssl
import sys
import time

TF = int(os.environ.get("SP_TIME_FACTOR", "1"))
src, port, ca, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
state, go, out = sys.argv[5], sys.argv[6], sys.argv[7]

ctx = ssl.create_default_context(cafile=ca)
conns = {}
for _ in range(n):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind((src, 0))
    raw.settimeout(20 * TF)
    raw.connect(("127.0.0.1", port))
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    ssrm = s.recv(64)
    if not ssrm:
        sys.exit("no SSRM")
    conns[s.getsockname()[1]] = s
with open(state + ".tmp", "w") as f:
    for p in conns:
        f.write("%d\n" % p)
os.rename(state + ".tmp", state)

deadline = time.time() + 120 * TF
while not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("no go file")
    time.sleep(0.05)
expect = {int(l) for l in open(go).read().split()}


def closed(s):
    """True if the peer ended the connection (EOF or reset), False if it is
    still open with nothing to read."""
    s.setblocking(False)
    try:
        return s.recv(64) == b""
    except ssl.SSLWantReadError:
        return False
    except (BlockingIOError, InterruptedError):
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


# Positive signal first: every connection of the dead node is closed.
pending = set(expect)
while pending:
    if time.time() > deadline:
        sys.exit("connections of the killed node still open: %s" % sorted(pending))
    select.select([conns[p] for p in pending], [], [], 0.5)
    pending = {p for p in pending if not closed(conns[p])}
with open(out + ".tmp", "w") as f:
    for p, s in conns.items():
        f.write("%d %s\n" % (p, "closed" if p in expect or closed(s) else "open"))
os.rename(out + ".tmp", out)
