#!/usr/bin/env python3
"""run.py - the OFTP2 conformance suite's one runner.

    run.py config DIR                 print modules.oftp2 (JSON) for the cases
    run.py run DIR PORT CA INSIDE_PORT [CASE...]

Each DIR/*.case is one session replayed byte-exact through the running proxy:
this script is the partner (TLS to the partner port) and the inside server
(listening on INSIDE_PORT, it greets with SSRM as soon as the proxy calls).

Case file (one item a line, '#' starts a comment line):
    rfc: 5.3.2                    RFC 5024 section the case is about
    title: ...                    one line for humans
    code: O0013000000ACME         the partner's SSIDCODE (@ssid uses it)
    switches: tolerate_x, ...     modules.oftp2 switches for this code only
    expect: pass | esid NN | legacy NN
    P> FRAME                      the partner sends FRAME
    I> FRAME                      the inside sends FRAME
    => FRAME                      what the other side must receive instead
                                  of the step's own FRAME (a normalisation)
A FRAME is the exchange buffer (its STH is added) written as a Python bytes
literal body ("X5...\\r", "\\x80AB"), or one of the templates @ssid / @issid
(the partner's / the inside's SSID) with KEY=VALUE options (sdeb, mode,
cmpr, rest, cred, lev, tail, rsv, pswd, auth) or @sfid (the partner's file to the
inside: dsn, rsv, date, time, fmt, lrecl, rest, sec, ciph, comp, env, sign);
values are bytes-literal bodies without spaces ("\x20" for a space). "raw:HEX" is sent as is, STH included.

Every step but the last must pass: its octets reach the other side exactly.
expect: pass -> the last step passes too. esid NN -> the last step's sender
gets ESID NN from the proxy and the other side never sees that frame.
legacy NN -> the same, the ESID in the OFTP 1.x layout (F, NN, CR).
"""
import ast
import glob
import json
import os
import socket
import ssl
import sys

TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "2"))
INSIDE_ID = "O0013000000INSIDE"


def sth(oeb):
    n = len(oeb) + 4
    return bytes([0x10, n >> 16 & 255, n >> 8 & 255, n & 255]) + oeb


SSRM = sth(b"IODETTE FTP READY \r")


def ssid(code, opts):
    o = {"sdeb": "04096", "mode": "B", "cmpr": "N", "rest": "N", "cred": "064",
         "lev": "5", "tail": "\r", "rsv": "    ", "pswd": "SECRET", "auth": "N"}
    o.update(opts)
    return ("X" + o["lev"] + code.ljust(25) + o["pswd"].ljust(8) + o["sdeb"] +
            o["mode"] + o["cmpr"] + o["rest"] + "N" + o["cred"] + o["auth"] + o["rsv"] +
            " " * 8 + o["tail"]).encode("latin-1")


def sfid(code, opts):
    o = {"dsn": "INVOIC.TEST", "rsv": "   ", "date": "20240315",
         "time": "1430000001", "fmt": "U", "lrecl": "00000", "rest": "0",
         "sec": "00", "ciph": "00", "comp": "0", "env": "0", "sign": "N"}
    o.update(opts)
    return ("H" + o["dsn"].ljust(26) + o["rsv"] + o["date"] + o["time"] +
            " " * 8 + INSIDE_ID.ljust(25) + code.ljust(25) + o["fmt"] +
            o["lrecl"] + "0" * 12 + "1" + "0" * 12 + "1" + o["rest"].rjust(17, "0") +
            o["sec"] + o["ciph"] + o["comp"] + o["env"] + o["sign"] +
            "000").encode("latin-1")


def frame(text, code):
    text = text.strip()
    if text.startswith("raw:"):
        return bytes.fromhex(text[4:])
    if text.startswith("@"):
        parts = text.split()
        opts = {}
        for p in parts[1:]:
            k, v = p.split("=", 1)
            opts[k] = ast.literal_eval('"' + v + '"')
        if parts[0] == "@sfid":
            return sth(sfid(code, opts))
        who = code if parts[0] == "@ssid" else INSIDE_ID
        if parts[0] not in ("@ssid", "@issid"):
            raise ValueError("unknown template %s" % parts[0])
        return sth(ssid(who, opts))
    return sth(ast.literal_eval('b"' + text + '"'))


def load(path):
    case = {"name": os.path.basename(path)[:-5], "steps": [], "switches": [],
            "code": "O0013000000ACME"}
    lines = open(path, encoding="utf-8").read().splitlines()
    for ln in lines:
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        if ln.startswith("P> ") or ln.startswith("I> "):
            case["steps"].append([ln[0], ln[3:], None])
        elif ln.startswith("=> "):
            case["steps"][-1][2] = ln[3:]
        else:
            k, v = ln.split(":", 1)
            k, v = k.strip(), v.strip()
            if k == "switches":
                case[k] = [s.strip() for s in v.split(",") if s.strip()]
            else:
                case[k] = v
    for k in ("rfc", "title", "expect"):
        if k not in case:
            raise ValueError("%s: no '%s'" % (path, k))
    case["steps"] = [(w, frame(f, case["code"]),
                      frame(n, case["code"]) if n else None)
                     for w, f, n in case["steps"]]
    return case


def cases(d, only=()):
    out = [load(p) for p in sorted(glob.glob(os.path.join(d, "*.case")))]
    return [c for c in out if not only or c["name"] in only]


def config(d):
    per = {}
    for c in cases(d):
        sw = per.setdefault(c["code"], set(c["switches"]))
        if sw != set(c["switches"]):
            raise ValueError("%s: code %s has other switches in another case"
                             % (c["name"], c["code"]))
    parts = []
    for code, sw in sorted(per.items()):
        if sw:
            e = {"odette_id": code}
            e.update({s: True for s in sorted(sw)})
            parts.append(e)
    # ssid_timeout scaled: a loaded machine must not turn a case into 09.
    return {"ssid_timeout_ms": 10000 * TIME_FACTOR, "partners": parts}


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
    n = (h[1] << 16) | (h[2] << 8) | h[3]
    if n < 5:
        raise ValueError("bad STH %r" % h)
    return h + recv_exact(s, n - 4)


def read_all(s):
    """Everything until the proxy closes (bounded by the socket timeout)."""
    buf = b""
    try:
        while True:
            part = s.recv(65536)
            if not part:
                return buf
            buf += part
    except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
        return buf


class Run:
    def __init__(self, port, ca, ls):
        self.port, self.ca, self.ls = port, ca, ls
        self.p = self.i = None

    def partner(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=20 * TIME_FACTOR)
        self.p = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        got = recv_frame(self.p)
        if got != SSRM:
            raise ValueError("the proxy greeted with %r, not SSRM" % got)

    def inside(self):
        if self.i is None:
            self.ls.settimeout(20 * TIME_FACTOR)
            self.i, _ = self.ls.accept()
            self.i.settimeout(20 * TIME_FACTOR)
            self.i.sendall(SSRM)
        return self.i

    def close(self):
        for s in (self.p, self.i):
            if s is not None:
                s.close()


def run_case(c, port, ca, ls):
    r = Run(port, ca, ls)
    try:
        r.partner()
        steps = c["steps"]
        exp = c["expect"].split()
        for n, (who, f, norm) in enumerate(steps):
            last = n == len(steps) - 1
            src = r.p if who == "P" else r.inside()
            src.sendall(f)
            if last and exp[0] in ("esid", "legacy"):
                want = (b"\x10\x00\x00\x08F" + exp[1].encode() + b"\r"
                        if exp[0] == "legacy" else b"F" + exp[1].encode())
                src.settimeout(15 * TIME_FACTOR)
                got = read_all(src)
                if exp[0] == "legacy" and not got.endswith(want):
                    raise ValueError("step %d: no %r in the 1.x layout, got %r"
                                     % (n + 1, want, got[-24:]))
                if exp[0] == "esid" and want not in got:
                    raise ValueError("step %d: no ESID %s, got %r" % (n + 1, exp[1], got[-40:]))
                other = r.i if who == "P" else r.p
                if other is not None:
                    other.settimeout(15 * TIME_FACTOR)
                    seen = read_all(other)
                    if f in seen:
                        raise ValueError("step %d: the refused frame reached "
                                         "the other side" % (n + 1))
                elif who == "P":
                    # The inside leg must not be opened for a refused SSID.
                    r.ls.settimeout(0.0)
                    try:
                        conn, _ = r.ls.accept()
                        conn.close()
                        if f[4:5] == b"X":
                            raise ValueError("the inside was called for a "
                                             "refused SSID")
                    except (BlockingIOError, socket.timeout):
                        pass
                return
            dst = r.inside() if who == "P" else r.p
            got = recv_frame(dst)
            want = norm if norm is not None else f
            if got != want:
                raise ValueError("step %d (%s): the other side got %r, expected %r"
                                 % (n + 1, who, got[:48], want[:48]))
        if exp[0] != "pass":
            raise ValueError("all steps passed, expected %s" % c["expect"])
    finally:
        r.close()


def main():
    if sys.argv[1] == "config":
        print(json.dumps(config(sys.argv[2])))
        return 0
    d, port, ca, iport = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", iport))
    ls.listen(16)
    failed = 0
    todo = cases(d, set(sys.argv[6:]))
    for c in todo:
        try:
            run_case(c, port, ca, ls)
            print("ok   %-36s RFC %-8s %s" % (c["name"], c["rfc"], c["expect"]),
                  file=sys.stderr)
        except Exception as e:  # one failing case must not hide the others
            failed += 1
            print("FAIL %-36s RFC %-8s %s" % (c["name"], c["rfc"], e), file=sys.stderr)
    print("%d of %d cases passed" % (len(todo) - failed, len(todo)), file=sys.stderr)
    ls.close()
    return 1 if failed or not todo else 0


if __name__ == "__main__":
    sys.exit(main())
