#!/usr/bin/env python3
"""keyless_mem.py PID KEYFILE... - for each ECDSA key file, say whether its
private scalar is anywhere in the writable memory of process PID.

Prints one line per key: "<file> present" or "<file> absent". The scalar is
searched big-endian (as in DER and PEM) and little-endian (as GMP/nettle keep
their limbs on x86-64 and other little-endian machines): what an attacker who
can read the DMZ process's memory would look for."""
import re
import subprocess
import sys


def scalar(path):
    out = subprocess.run(["certtool", "-k", "--infile", path], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"private key:\s*\n((?:\s+[0-9a-f:]+\n)+)", out)
    if not m:
        raise SystemExit("no private key in certtool's report on " + path)
    b = bytes.fromhex(re.sub(r"[^0-9a-f]", "", m.group(1)))
    return b.lstrip(b"\0")


def regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if "w" in parts[1] and hi - lo < (1 << 31):
                yield lo, hi


def main():
    pid = int(sys.argv[1])
    keys = {p: scalar(p) for p in sys.argv[2:]}
    found = {p: False for p in keys}
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for lo, hi in regions(pid):
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except OSError:
                continue
            for p, k in keys.items():
                # 24 octets are plenty to be unique and survive a short top limb.
                if k[-24:] in chunk or k[::-1][:24] in chunk:
                    found[p] = True
    for p in keys:
        print("%s %s" % (p, "present" if found[p] else "absent"))


main()
