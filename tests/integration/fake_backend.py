#!/usr/bin/env python3
"""fake_backend.py - a deliberately simple backend for fault-injection tests.

Serves GET /v1/config over HTTPS from a JSON file that the test may rewrite at
any time, so a test can make the backend return garbage, a document that does
not validate, or an HTTP error, which the real smartproxy-api never does.

usage: fake_backend.py CERT KEY TOKEN CONFIG_FILE PORT_FILE
  CONFIG_FILE holds the response body; if CONFIG_FILE.status exists, its
  number is the HTTP status to answer instead (e.g. 503).
"""
import http.server
import json
import os
import ssl
import sys
import time

cert, key, token, config_file, port_file = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("fake_backend: " + (fmt % args) + "\n")

    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer " + token:
            self.send_response(401)
            self.end_headers()
            return
        if not self.path.startswith("/v1/config"):
            self.send_response(404)
            self.end_headers()
            return
        status_file = config_file + ".status"
        if os.path.exists(status_file):
            with open(status_file) as f:
                code = int(f.read().strip())
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(config_file, "rb") as f:
            body = f.read()
        try:
            etag = '"rev-%d"' % json.loads(body)["revision"]
        except Exception:
            etag = '"garbage-%d"' % len(body)
        if self.headers.get("If-None-Match") == etag:
            time.sleep(0.5)  # a short long-poll: the test controls timing
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
