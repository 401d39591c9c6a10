#!/usr/bin/env python3
"""partner_probe.py - one connection attempt to the partner port, to watch
how early smartproxy refuses it.

usage: partner_probe.py SOURCE_ADDR PORT MODE [CERT KEY]
  SOURCE_ADDR  loopback address to connect from (127.0.0.2 ... 127.255.255.254)
  MODE         tls: TLS handshake (with CERT/KEY as client certificate if
                    given), then wait for the server to close;
               garbage: send bytes that are not TLS.
Prints one word: closed-before-tls (no TLS byte came back), tls-failed
(the handshake broke), closed-after-tls (handshake done, then closed),
alert:<name> (handshake done, then a fatal TLS alert, e.g.
alert:certificate_revoked), or open (still open after 5 s). Exit 0 in every
case; the caller compares.
"""
import os
import socket
import ssl
import sys

# Safety nets only: lib.sh scales every time limit by SP_TIME_FACTOR.
TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "1"))

src, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cert = sys.argv[4] if len(sys.argv) > 5 else None
key = sys.argv[5] if len(sys.argv) > 5 else None

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind((src, 0))
sock.settimeout(10 * TIME_FACTOR)
sock.connect(("127.0.0.1", port))

if mode == "garbage":
    try:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n" * 20)
        sock.settimeout(5 * TIME_FACTOR)
        while sock.recv(4096):
            pass
        print("closed")
    except OSError:
        print("closed")
    sys.exit(0)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if cert:
    ctx.load_cert_chain(cert, key)
tls = ctx.wrap_socket(sock, do_handshake_on_connect=False)
try:
    tls.do_handshake()
except (ssl.SSLError, OSError) as e:
    # An empty read while the ClientHello is out: closed before any TLS byte.
    text = str(e)
    if "EOF" in text or "reset" in text.lower() or isinstance(e, ConnectionError):
        print("closed-before-tls")
    else:
        print("tls-failed")
    sys.exit(0)
# TLS 1.3: the server sees the client certificate only now; a refusal in
# on_tls closes the connection right after the handshake.
tls.settimeout(5 * TIME_FACTOR)
try:
    while tls.recv(4096):
        pass
    print("closed-after-tls")
except socket.timeout:
    print("open")
except ssl.SSLError as e:
    # OpenSSL names a received alert SSLV3_ALERT_<NAME> or TLSV1_ALERT_<NAME>.
    reason = (e.reason or "").upper()
    if "_ALERT_" in reason:
        print("alert:" + reason.split("_ALERT_", 1)[1].lower())
    else:
        print("closed-after-tls")
except OSError:
    print("closed-after-tls")
