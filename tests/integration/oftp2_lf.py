#!/usr/bin/env python3
"""oftp2_lf.py PORT CA CODE PASSWORD: one partner session whose SSID ends in
LF instead of CR (a field quirk). Prints "refused ESID nn" or "accepted" (the
inside's SSID came back; the session is then ended with ESID 99)."""
import os
import socket
import ssl
import sys

TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "2"))


def sth(oeb):
    n = len(oeb) + 4
    return bytes([0x10, n >> 16 & 255, n >> 8 & 255, n & 255]) + oeb


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            raise EOFError("closed after %d of %d octets" % (len(buf), n))
        buf += part
    return buf


def recv_frame(s):
    h = recv_exact(s, 4)
    return recv_exact(s, ((h[1] << 16) | (h[2] << 8) | h[3]) - 4)


def main():
    port, ca, code, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=20 * TIME_FACTOR)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    if recv_frame(s)[:1] != b"I":
        raise SystemExit("no SSRM")
    ssid = (b"X5" + code.encode().ljust(25) + pw.encode().ljust(8) + b"04096BNNN064N" +
            b" " * 12 + b"\n")
    s.sendall(sth(ssid))
    f = recv_frame(s)
    if f[:1] == b"F":
        print("refused ESID %s" % f[1:3].decode())
        return 0
    if f[:1] != b"X":
        raise SystemExit("unexpected answer %r" % f[:20])
    s.sendall(sth(b"F99000\r"))
    print("accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
