#!/usr/bin/env python3
"""oftp2_bad.py - the bad-input corpus against a running proxy (oftp2.so).

  oftp2_bad.py PARTNER_PORT CA_FILE INSIDE_PORT [CASE...]

Plays both ends itself: a recording inside OFTP2 responder on 127.0.0.1:
INSIDE_PORT (SSRM on connect, answers SSID/SFID/DATA/EFID/CD, records every
frame it receives) and, for each case, a partner that connects over TLS,
checks the proxy's SSRM, sends a valid prefix and then the bad input, and
expects the proxy to end the session with the specified ESID. Afterwards the
inside server must have received exactly the valid prefix (plus the proxy's
ESID), never a byte of the bad input. Exit 0 when every case passed; one line
per case on stderr.
"""
import queue
import os
import socket
import ssl
import struct
import sys
import threading
import time

# Safety nets only: lib.sh scales every time limit by SP_TIME_FACTOR.
TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "1"))

I_ID = b"O0013000000INSIDE"
P_ID = b"O0013000000ACME"


def sth(oeb):
    return bytes([0x10]) + struct.pack(">I", len(oeb) + 4)[1:] + oeb


def ssid(code, sdeb=4096, mode=b"B", cmpr=b"N", cred=64, auth=b"N", lev=b"5"):
    return sth(b"X" + lev + code.ljust(25) + b"SECRET  " + b"%05d" % sdeb + mode +
               cmpr + b"N" + b"N" + b"%03d" % cred + auth + b"    " + b" " * 8 + b"\r")


SSRM = sth(b"IODETTE FTP READY \r")


def sfid(dsn=b"INVOIC.TEST", fmt=b"U"):
    return sth(b"H" + dsn.ljust(26) + b"   " + b"20240315" + b"1430000001" + b" " * 8 +
               I_ID.ljust(25) + P_ID.ljust(25) + fmt + b"00000" + b"%013d" % 1 +
               b"%013d" % 1 + b"%017d" % 0 + b"0000" + b"00N000")


def sfpa():
    return sth(b"2" + b"0" * 17)


def data(n, eor=False):
    out, left = b"D", n
    while left > 0:
        k = min(63, left)
        left -= k
        out += bytes([k | (0x80 if left == 0 and eor else 0)]) + b"A" * k
    return sth(out)


def efid(r, u):
    return sth(b"T" + b"%017d" % r + b"%017d" % u)


def esid(r):
    return sth(b"F%02d000\r" % r)


CDT = sth(b"C  ")
CD = sth(b"R")
EFPA_N = sth(b"4N")


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
    ln = (h[1] << 16) | (h[2] << 8) | h[3]
    if h[0] != 0x10 or ln < 5:
        raise ValueError("bad STH %r" % h)
    return h + recv_exact(s, ln - 4)


class Inside:
    """The recording responder: one thread per connection."""

    def __init__(self, port):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(16)
        self.done = queue.Queue()
        self.connections = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        frames, window, credit = [], 64, 64
        c.settimeout(20 * TIME_FACTOR)
        try:
            c.sendall(SSRM)
            while True:
                f = recv_frame(c)
                frames.append(f)
                cmd = f[4:5]
                if cmd == b"X":
                    window = credit = int(f[4 + 44:4 + 47])
                    sdeb = int(f[4 + 35:4 + 40])
                    c.sendall(ssid(I_ID, sdeb=sdeb, cred=window))
                elif cmd == b"H":
                    credit = window
                    c.sendall(sfpa())
                elif cmd == b"D":
                    credit -= 1
                    if credit == 0:
                        # Late on purpose: an overrun must hit the proxy first.
                        time.sleep(0.5)
                        credit = window
                        c.sendall(CDT)
                elif cmd == b"T":
                    c.sendall(EFPA_N)
                elif cmd == b"R":
                    c.sendall(CD)
                elif cmd == b"F":
                    break
        except (EOFError, OSError, ValueError):
            pass
        c.close()
        self.done.put(frames)


def partner(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=20 * TIME_FACTOR)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    if recv_frame(s) != SSRM:
        raise ValueError("the proxy did not greet with SSRM")
    return s


# Each case: (name, [(frame, expected reply code or None)], bad octets,
#             ESID reason expected, does the inside leg exist, slow)
def cases():
    ok = (ssid(P_ID, cred=2), b"X")
    small = (ssid(P_ID, sdeb=128, cred=2), b"X")
    file_ = [(sfid(), b"2")]
    return [
        ("wrong STH version", [], b"\x20" + ssid(P_ID)[1:], 6, False),
        ("STH length 0", [], b"\x10\x00\x00\x00", 7, False),
        ("STH length > 100003", [ok], b"\x10\x01\x86\xa4" + b"D" * 64, 7, True),
        ("truncated command", [ok], sth(sfid()[4:-1]), 7, True),
        ("unknown command", [ok], sth(b"Zhello"), 1, True),
        ("SFID before SSID", [], sfid(), 2, False),
        ("SFPA from the speaker", [ok], sfpa(), 2, True),
        ("SSID level 4", [], ssid(P_ID, lev=b"4"), 10, False),
        ("bad field characters", [], ssid(b"O0013000000acme"), 6, False),
        ("credit overrun", [ok] + file_ + [(data(10), None), (data(10), None)],
         data(10), 2, True),
        ("DATA bigger than negotiated", [small] + file_, data(126), 7, True),
        ("subrecord overruns the buffer", [ok] + file_,
         sth(b"D\x0cAAAAAAAAAA"), 6, True),
        ("EFID counts do not match", [ok] + file_ + [(data(100, True), None)],
         efid(0, 99), 6, True),
        # The partner hands over the turn; the inside (this script's
        # responder always answers CD with CD) hands it straight back.
        ("CD ping-pong", [ok, (CD, None)], b"", 2, True),
        ("slow sender", [], ssid(P_ID), 9, False),
    ]


def run_case(port, ca, inside, case):
    name, prefix, bad, reason, leg = case
    s = partner(port, ca)
    sent = []
    for frame, reply in prefix:
        s.sendall(frame)
        sent.append(frame)
        if reply is not None:
            got = recv_frame(s)
            if got[4:5] != reply:
                raise ValueError("%s: expected %r, got %r" % (name, reply, got[:24]))
    if name == "slow sender":
        for i in range(len(bad)):
            try:
                s.sendall(bad[i:i + 1])
            except OSError:
                break
            r = s.recv(4096) if select_readable(s, 1.0) else b""
            if r:
                pending = r
                break
        else:
            pending = b""
    else:
        if bad:
            s.sendall(bad)
        pending = b""
    # Read to the end: the last frame must be the ESID with our reason.
    buf = pending
    s.settimeout(15 * TIME_FACTOR)
    try:
        while True:
            part = s.recv(4096)
            if not part:
                break
            buf += part
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        pass
    s.close()
    if name == "CD ping-pong" and CD in buf:
        raise ValueError("%s: the inside's second CD reached the partner" % name)
    want = b"F%02d" % reason
    if want not in buf:
        raise ValueError("%s: no ESID %02d from the proxy (got %r)" % (name, reason, buf[-40:]))
    if leg:
        frames = inside.done.get(timeout=15 * TIME_FACTOR)
        # The valid prefix, then at most the proxy's ESID, nothing else.
        expect = [f for f, _ in prefix]
        if frames[:len(expect)] != expect:
            raise ValueError("%s: inside got %r, expected the valid prefix" % (name, frames))
        rest = frames[len(expect):]
        if rest not in ([], [esid(reason)]) and not (
                len(rest) == 1 and rest[0][4:7] == b"F%02d" % reason):
            raise ValueError("%s: inside got more than the valid prefix: %r" % (name, rest))


def select_readable(s, timeout):
    import select
    if s.pending():
        return True
    r, _, _ = select.select([s], [], [], timeout)
    return bool(r)


def main():
    port, ca, iport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    only = set(sys.argv[4:])
    inside = Inside(iport)
    failed = 0
    expected_legs = 0
    for case in cases():
        if only and case[0] not in only:
            continue
        t0 = time.time()
        try:
            run_case(port, ca, inside, case)
            print("ok   %-32s ESID %02d (%.1fs)" % (case[0], case[3], time.time() - t0),
                  file=sys.stderr)
        except Exception as e:  # one failing case must not hide the others
            failed += 1
            print("FAIL %-32s %s" % (case[0], e), file=sys.stderr)
        if case[4]:
            expected_legs += 1
    time.sleep(0.3)
    if inside.connections != expected_legs:
        print("FAIL the inside server saw %d connections, expected %d"
              % (inside.connections, expected_legs), file=sys.stderr)
        failed += 1
    inside.ls.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
