#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT: a service manager's notification socket.

Binds a unix datagram socket at SOCKET and appends every datagram it gets to
OUT as one line, prefixed with the sender's PID (SO_PASSCRED), flushed at
once so a test can wait for a line. Ends on SIGTERM.
"""
import os
import socket
import struct
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
with open(out + ".tmp", "w"):
    pass
os.rename(out + ".tmp", out)
with open(out, "a", buffering=1) as f:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        for line in msg.decode("utf-8", "replace").splitlines():
            f.write("%d %s\n" % (pid, line))
