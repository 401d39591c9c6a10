#!/usr/bin/env python3
"""relay_peer.py - the two ends of a byte-exact relay test, protocol-agnostic.

  relay_peer.py server PORT OUT_FILE REPLY_FILE
      plain TCP on 127.0.0.1:PORT (the file PORT.ready appears once bound); for
      one connection: receive an 8-octet big-endian length and that many
      octets into OUT_FILE, then answer with REPLY_FILE framed the same way.
  relay_peer.py client HOST PORT CA_FILE IN_FILE OUT_FILE
      TLS to HOST:PORT verifying against CA_FILE; send IN_FILE framed, then
      receive the framed answer into OUT_FILE.

  relay_peer.py sink PORT
      plain TCP on 127.0.0.1:PORT; for one connection: read to the end and
      print "<octets> <sha256>".
  relay_peer.py stream HOST PORT CA_FILE SIZE [PAUSE_FILE]
      TLS to HOST:PORT; send SIZE generated octets (no file on disk), then
      print "<octets> <sha256>" of what was sent. With PAUSE_FILE: after
      half, print "paused" and wait until PAUSE_FILE exists.

Both stream in 64 KiB pieces and exit non-zero on any short read.
"""
import hashlib
import time
import os
import socket
import ssl
import struct
import sys

# Safety nets only: lib.sh scales every time limit by SP_TIME_FACTOR.
TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "1"))

CHUNK = 65536


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        part = sock.recv(min(CHUNK, n - len(buf)))
        if not part:
            raise SystemExit("connection closed after %d of %d octets" % (len(buf), n))
        buf += part
    return bytes(buf)


def send_file(sock, path):
    size = os.path.getsize(path)
    sock.sendall(struct.pack(">Q", size))
    with open(path, "rb") as f:
        while True:
            part = f.read(CHUNK)
            if not part:
                break
            sock.sendall(part)


def recv_file(sock, path):
    (size,) = struct.unpack(">Q", recv_exact(sock, 8))
    with open(path, "wb") as f:
        left = size
        while left > 0:
            part = sock.recv(min(CHUNK, left))
            if not part:
                raise SystemExit("connection closed with %d octets missing" % left)
            f.write(part)
            left -= len(part)


def main():
    mode = sys.argv[1]
    if mode == "server":
        port, out_file, reply_file = sys.argv[2:5]
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", int(port)))
        ls.listen(4)
        print("listening", flush=True)
        conn, _ = ls.accept()
        recv_file(conn, out_file)
        send_file(conn, reply_file)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)
        conn.close()
    elif mode == "client":
        host, port, ca, in_file, out_file = sys.argv[2:7]
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        raw = socket.create_connection((host, int(port)), timeout=60 * TIME_FACTOR)
        sock = ctx.wrap_socket(raw, server_hostname="localhost")
        send_file(sock, in_file)
        recv_file(sock, out_file)
        sock.close()
    elif mode == "sink":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", int(sys.argv[2])))
        ls.listen(4)
        print("listening", flush=True)
        conn, _ = ls.accept()
        h, n = hashlib.sha256(), 0
        while True:
            part = conn.recv(1 << 20)
            if not part:
                break
            h.update(part)
            n += len(part)
        print(n, h.hexdigest(), flush=True)
    elif mode == "stream":
        host, port, ca, size = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=60 * TIME_FACTOR),
                               server_hostname="localhost")
        pause = sys.argv[6] if len(sys.argv) > 6 else None
        block = bytearray(os.urandom(1 << 20))
        h, sent, i = hashlib.sha256(), 0, 0
        while sent < size:
            if pause and sent >= size // 2:
                print("paused", flush=True)
                while not os.path.exists(pause):
                    time.sleep(0.05)
                pause = None
            block[0:8] = i.to_bytes(8, "big")  # every MiB differs
            part = bytes(block[: min(len(block), size - sent)])
            sock.sendall(part)
            h.update(part)
            sent += len(part)
            i += 1
        sock.unwrap() if hasattr(sock, "unwrap") else None
        sock.close()
        print(sent, h.hexdigest(), flush=True)
    else:
        raise SystemExit("usage: relay_peer.py server|client|sink|stream ...")


main()
