#!/usr/bin/env python3
"""preauth_drive.py - an attacker before authentication, for preauth_flood.sh.

usage:
  preauth_drive.py fill PORT PER SECONDS READY SRC...
      PER connections from each loopback SRC at once, each: TCP, TLS, read
      the SSRM, then send nothing and wait for the server to close; then
      again, at once. A connection closed before TLS is "refused". A source
      is done (braked) when 3 connections in a row were refused while none
      of its connections was open, after at least one was held; the run ends
      when every source is done or after SECONDS (a safety net). READY is
      written when every connection's first attempt has ended the handshake
      (held or refused): "open=N", the connections held at that moment.
      Prints per source: "SRC held=N refused=M".
  preauth_drive.py badssid PORT SRC COUNT SECONDS
      COUNT connections one after the other, each sending one command that
      is no OFTP2 command after the SSRM. Prints "answered=N refused=M".
  preauth_drive.py guess PORT SRC COUNT PARALLEL ID
      COUNT SSIDs for partner ID with wrong passwords, PARALLEL at a time;
      a connection refused before TLS is tried again up to 5 times, 0.2 s
      apart. Prints "esid04=N esid08=M refused=K closed=L".
  preauth_drive.py hold PORT COUNT READY RELEASE SRC...
      COUNT plain TCP connections spread over the SRC addresses, sending
      nothing; READY is written ("connected=N failed=M") once all are made
      (or failed), then they are held until the file RELEASE exists (at
      most 120 s), and closed.

Exit 0 in every case; the caller compares the server's log with the counts.
"""
import os
import socket
import ssl
import sys
import threading
import time

# Safety nets only: lib.sh scales every time limit by SP_TIME_FACTOR.
TF = int(os.environ.get("SP_TIME_FACTOR", "1"))

CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def frame(oeb):
    n = len(oeb) + 4
    return bytes([0x10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]) + oeb


def ssid(code, password):
    return (b"X5" + code.encode().ljust(25) + password.encode().ljust(8)[:8] +
            b"04096" + b"BNNN064N" + b"    " + b" " * 8 + b"\r")


def connect(src, port):
    """A TLS connection that read the SSRM, or None if refused before TLS."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(20 * TF)
        s.connect(("127.0.0.1", port))
        t = CTX.wrap_socket(s)
        if not t.recv(4096):    # the SSRM
            t.close()
            return None
        return t
    except (OSError, ssl.SSLError):
        s.close()
        return None


def wait_closed(t, limit):
    data = b""
    t.settimeout(limit)
    try:
        while True:
            d = t.recv(4096)
            if not d:
                break
            data += d
    except (OSError, ssl.SSLError):
        pass
    t.close()
    return data


def fill(port, per, seconds, ready, srcs):
    deadline = time.monotonic() + seconds * TF
    lock = threading.Lock()
    stats = {s: {"held": 0, "refused": 0, "streak": 0, "open": 0} for s in srcs}
    first = threading.Semaphore(0)

    def done(src):
        st = stats[src]
        return st["held"] > 0 and st["streak"] >= 3

    def worker(src):
        started = False
        while time.monotonic() < deadline:
            with lock:
                if done(src):
                    break
            t = connect(src, port)
            with lock:
                st = stats[src]
                if t is None:
                    st["refused"] += 1
                    # Refused beside open ones: a limit, not the brake.
                    st["streak"] = st["streak"] + 1 if st["open"] == 0 else 0
                else:
                    st["held"] += 1
                    st["open"] += 1
                    st["streak"] = 0
            if not started:
                started = True
                first.release()
            if t is None:
                time.sleep(0.2)     # refused: do not spin on a closed door
                continue
            wait_closed(t, max(1.0, deadline - time.monotonic()))
            with lock:
                stats[src]["open"] -= 1
        if not started:
            first.release()

    threads = [threading.Thread(target=worker, args=(s,), daemon=True)
               for s in srcs for _ in range(per)]
    for th in threads:
        th.start()
    for _ in threads:
        first.acquire()
    with lock:
        nopen = sum(st["open"] for st in stats.values())
    with open(ready + ".tmp", "w") as f:
        f.write("open=%d\n" % nopen)
    os.rename(ready + ".tmp", ready)
    for th in threads:
        th.join(max(0.1, deadline - time.monotonic() + 5))
    for s in srcs:
        print("%s held=%d refused=%d" % (s, stats[s]["held"], stats[s]["refused"]))


def badssid(port, src, count, seconds):
    deadline = time.monotonic() + seconds * TF
    answered = refused = 0
    for _ in range(count):
        if time.monotonic() >= deadline:
            break
        t = connect(src, port)
        if t is None:
            refused += 1
            continue
        answered += 1
        try:
            t.sendall(frame(b"Q" + b"x" * 20))
        except (OSError, ssl.SSLError):
            pass
        wait_closed(t, 10 * TF)
    print("answered=%d refused=%d" % (answered, refused))


def guess(port, src, count, parallel, ident):
    import concurrent.futures

    def attempt(i):
        for _ in range(5):
            t = connect(src, port)
            if t is not None:
                break
            time.sleep(0.2)
        if t is None:
            return "refused"
        try:
            t.sendall(frame(ssid(ident, "G%07d" % i)))
        except (OSError, ssl.SSLError):
            pass
        data = wait_closed(t, 20 * TF)
        for esid in (b"F04", b"F08"):
            if esid in data:
                return "esid" + esid[1:].decode()
        return "closed"

    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        res = list(ex.map(attempt, range(count)))
    print("esid04=%d esid08=%d refused=%d closed=%d" % (
        res.count("esid04"), res.count("esid08"), res.count("refused"),
        res.count("closed")))


def hold(port, count, ready, release, srcs):
    socks = []
    failed = 0
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((srcs[i % len(srcs)], 0))
            s.settimeout(10 * TF)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            s.close()
            failed += 1
    with open(ready + ".tmp", "w") as f:
        f.write("connected=%d failed=%d\n" % (len(socks), failed))
    os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + 120 * TF
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    for s in socks:
        s.close()


def main():
    a = sys.argv[1:]
    if a[0] == "fill":
        fill(int(a[1]), int(a[2]), int(a[3]), a[4], a[5:])
    elif a[0] == "badssid":
        badssid(int(a[1]), a[2], int(a[3]), int(a[4]))
    elif a[0] == "hold":
        hold(int(a[1]), int(a[2]), a[3], a[4], a[5:])
    elif a[0] == "guess":
        guess(int(a[1]), a[2], int(a[3]), int(a[4]), a[5])
    else:
        sys.exit("unknown mode " + a[0])


main()
