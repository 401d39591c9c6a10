#!/usr/bin/env python3
"""pause_relay.py - a TCP relay that holds one direction at set points, so a
transfer can be caught in the middle (tests/integration/live_metrics.sh).

  pause_relay.py LISTEN_PORT TARGET_PORT DIR STEP

Listens on 127.0.0.1:LISTEN_PORT (DIR/ready appears once bound) and joins
each connection to 127.0.0.1:TARGET_PORT. Bytes towards the target stop
after every STEP octets: the relay writes DIR/paused.N (N = 1, 2, ...) and
forwards nothing more that way until DIR/go.N exists. The other direction
flows freely. Waiting for the go file is the test's signal, not a timing.
"""
import os
import select
import socket
import sys
import time

TIME_FACTOR = int(os.environ.get("SP_TIME_FACTOR", "1"))


def wait_for(path):
    # A safety net against a hang, scaled like every limit of the harness.
    limit = time.monotonic() + 120 * TIME_FACTOR
    while not os.path.exists(path):
        if time.monotonic() > limit:
            sys.exit("pause_relay: %s never came" % path)
        time.sleep(0.05)


def relay(a, b, d, step):
    sent, pause = 0, 1
    a.setblocking(False)
    b.setblocking(False)
    while True:
        r, _, _ = select.select([a, b], [], [], 1.0)
        for s in r:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                return
            other = b if s is a else a
            if s is a:
                while sent + len(data) >= pause * step:
                    cut = pause * step - sent
                    other.setblocking(True)
                    other.sendall(data[:cut])
                    sent += cut
                    data = data[cut:]
                    with open(os.path.join(d, "paused.%d" % pause), "w") as f:
                        f.write("%d\n" % sent)
                    wait_for(os.path.join(d, "go.%d" % pause))
                    pause += 1
                sent += len(data)
            other.setblocking(True)
            other.sendall(data)
            other.setblocking(False)


def main():
    port, target, d, step = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    with open(os.path.join(d, "ready"), "w") as f:
        f.write("%d\n" % port)
    while True:
        a, _ = ls.accept()
        b = socket.create_connection(("127.0.0.1", target))
        try:
            relay(a, b, d, step)
        except OSError:
            pass
        a.close()
        b.close()


if __name__ == "__main__":
    main()
