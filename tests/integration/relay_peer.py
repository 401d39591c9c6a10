#!/usr/bin/env python3
"""relay_peer.py - the two ends of a byte-exact relay test, protocol-agnostic.

  relay_peer.py server PORT OUT_FILE REPLY_FILE
      plain TCP on 127.0.0.1:PORT (the file PORT.ready appears once bound); for
      one connection: receive an 8-octet big-endian length and that many
      octets into OUT_FILE, then answer with REPLY_FILE framed the same way.
  relay_peer.py client HOST PORT CA_FILE IN_FILE OUT_FILE
      TLS to HOST:PORT verifying against CA_FILE; send IN_FILE framed, then
      receive the framed answer into OUT_FILE.

Both stream in 64 KiB pieces and exit non-zero on any short read.
"""
import os
import socket
import ssl
import struct
import sys

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
        raw = socket.create_connection((host, int(port)), timeout=60)
        sock = ctx.wrap_socket(raw, server_hostname="localhost")
        send_file(sock, in_file)
        recv_file(sock, out_file)
        sock.close()
    else:
        raise SystemExit("usage: relay_peer.py server|client ...")


main()
