#!/usr/bin/env python3
"""fake_dmz.py - speaks for a compromised smartproxy-server on the tunnel.

Usage: fake_dmz.py PORT CERT KEY SCRIPT OUT

Listens on 127.0.0.1:PORT with the server's own identity (CERT, KEY from
its state directory, so the client's pin on the Proxy ID holds). On the
control connection it answers the client's hello with hello_ok, then sends
the messages of SCRIPT (a JSON array of tunnel messages) one by one, and
writes every "answer" message it gets back into OUT (a JSON object keyed by
question id, rewritten in one rename after each answer). Warm (standby)
connections are accepted and held. Runs until killed.
"""
import json
import os
import socket
import ssl
import struct
import sys
import threading

port, cert, key, script_path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
script = json.load(open(script_path))
answers = {}


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_msg(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


def send_msg(s, m):
    data = json.dumps(m).encode()
    s.sendall(struct.pack(">I", len(data)) + data)


def control(s):
    send_msg(s, {"type": "hello_ok", "version": 1, "proxy_id": "fake"})
    for m in script:
        send_msg(s, m)
    while True:
        m = read_msg(s)
        if m.get("type") == "ping":
            send_msg(s, {"type": "pong"})
        elif m.get("type") == "config":
            send_msg(s, {"type": "config_ack", "revision": m["config"]["revision"]})
        elif m.get("type") == "answer":
            answers[str(m["id"])] = {"status": m["status"], "body": m.get("body")}
            with open(out + ".tmp", "w") as f:
                json.dump(answers, f)
            os.rename(out + ".tmp", out)


def serve(conn):
    try:
        with conn:
            hello = read_msg(conn)
            if hello.get("role") == "control":
                control(conn)
            else:
                while conn.recv(4096):
                    pass
    except (EOFError, OSError, ValueError):
        pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(cert, key)
ls = socket.create_server(("127.0.0.1", port))
print("fake DMZ listening on %d" % port, flush=True)
while True:
    raw, _ = ls.accept()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
