#!/usr/bin/env python3
"""rotate_probe.py - an OFTP2 initiator over TLS that can pause between the
proxy's SSRM and its own SSID, to hold a session in flight while the
listener certificate rotates (tests/integration/api_certs.sh).

usage: rotate_probe.py PORT CERT KEY ID PASSWORD OUTDIR NAME [hold]
  Connects to 127.0.0.1:PORT with the client certificate CERT/KEY, writes
  OUTDIR/NAME.sha (SHA-256 of the certificate the proxy presented), reads
  the SSRM; with `hold` writes OUTDIR/NAME.ready and waits for OUTDIR/go;
  then sends its SSID and writes OUTDIR/NAME.result: "ssid" when the inside
  answered with its SSID, "esid NN" for an ESID, "closed" when the
  connection ended first.
"""
import hashlib
import os
import socket
import ssl
import sys
import time

# Safety nets only: lib.sh scales every time limit by SP_TIME_FACTOR.
TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "1"))

port, cert, key, code, pw, out, name = sys.argv[1:8]
hold = len(sys.argv) > 8 and sys.argv[8] == "hold"


def sth(oeb):
    return bytes([0x10]) + (len(oeb) + 4).to_bytes(3, "big") + oeb


def ssid():
    return sth(b"X5" + code.encode().ljust(25) + pw.encode().ljust(8) +
               b"04096" + b"B" + b"N" + b"N" + b"N" + b"064" + b"N" +
               b"    " + b" " * 8 + b"\r")


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            raise EOFError()
        buf += part
    return buf


def recv_frame(s):
    h = recv_exact(s, 4)
    return h + recv_exact(s, int.from_bytes(h[1:4], "big") - 4)


def write(suffix, text):
    with open(os.path.join(out, name + suffix + ".tmp"), "w") as f:
        f.write(text + "\n")
    os.rename(os.path.join(out, name + suffix + ".tmp"),
              os.path.join(out, name + suffix))


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(cert, key)
raw = socket.create_connection(("127.0.0.1", int(port)), timeout=20 * TIME_FACTOR)
s = ctx.wrap_socket(raw)
write(".sha", hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest())
result = "closed"
try:
    recv_frame(s)                      # the proxy's SSRM
    if hold:
        write(".ready", "ready")
        deadline = time.time() + 60 * TIME_FACTOR
        while not os.path.exists(os.path.join(out, "go")):
            if time.time() > deadline:
                raise TimeoutError()
            time.sleep(0.05)
    s.sendall(ssid())
    f = recv_frame(s)
    if f[4:5] == b"X":
        result = "ssid"
        s.sendall(sth(b"F00000\r"))    # ESID 00: a normal end
    elif f[4:5] == b"F":
        result = "esid " + f[5:7].decode()
except (EOFError, OSError, TimeoutError):
    pass
write(".result", result)
