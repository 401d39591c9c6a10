# cdp.py - drive Debian's Chromium headless through the DevTools protocol
# over --remote-debugging-pipe (fd 3: commands to the browser, fd 4: answers
# and events, each one JSON text ended by a NUL). Only python3 is needed:
# no npm, no Playwright, no websocket library.
#
#   b = Browser("/usr/bin/chromium", profile_dir, extra_args)
#   page = b.new_page()
#   page.goto(url); page.wait("document.querySelector('#x')", 10)
#   page.eval("...")  -> the value (returnByValue), exceptions raise
#   page.screenshot(path)
#   b.close()          # ends the browser (its PID, never by name)
import base64
import json
import os
import queue
import subprocess
import threading
import time


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, exe, profile, args=(), timeout=30):
        self.timeout = timeout
        to_r, to_w = os.pipe()      # we write, the browser reads on fd 3
        from_r, from_w = os.pipe()  # the browser writes on fd 4, we read

        def child():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                "--remote-debugging-pipe"] + list(args) + ["about:blank"]
        self.log = open(os.path.join(profile, "..", "chromium.log"), "ab")
        self.proc = subprocess.Popen(argv, preexec_fn=child, pass_fds=(3, 4),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        os.close(to_r)
        os.close(from_w)
        self.w = os.fdopen(to_w, "wb", buffering=0)
        self.r = os.fdopen(from_r, "rb", buffering=0)
        self.next_id = 0
        self.answers = {}
        self.events = queue.Queue()
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.r.read(65536)
            if not chunk:
                with self.cv:
                    self.answers[-1] = None
                    self.cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                text, buf = buf.split(b"\0", 1)
                msg = json.loads(text)
                if "id" in msg:
                    with self.cv:
                        self.answers[msg["id"]] = msg
                        self.cv.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method, params=None, session=None, timeout=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + (timeout or self.timeout)
        with self.cv:
            while mid not in self.answers:
                if -1 in self.answers:
                    raise CDPError("the browser closed the pipe (see chromium.log)")
                left = end - time.monotonic()
                if left <= 0:
                    raise CDPError("no answer to %s within %ss" % (method, timeout or self.timeout))
                self.cv.wait(left)
            ans = self.answers.pop(mid)
        if "error" in ans:
            raise CDPError("%s: %s" % (method, ans["error"]))
        return ans.get("result", {})

    def new_page(self):
        tid = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        return Page(self, sid)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except CDPError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.s = session
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Network.enable")

    def send(self, method, params=None, timeout=None):
        return self.b.send(method, params, self.s, timeout)

    def goto(self, url):
        self.send("Page.navigate", {"url": url})

    def eval(self, expr, await_promise=False):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": await_promise})
        if "exceptionDetails" in r:
            raise CDPError("%s: %s" % (expr[:120], r["exceptionDetails"].get("exception", {}).get(
                "description", r["exceptionDetails"].get("text"))))
        return r["result"].get("value")

    def wait(self, expr, timeout, what=None):
        """Poll `expr` until it is truthy (a positive signal); its value."""
        end = time.monotonic() + timeout
        last = None
        while True:
            try:
                v = self.eval(expr)
                if v:
                    return v
            except CDPError as e:
                last = e
            if time.monotonic() > end:
                raise CDPError("no %s within %ss%s" % (what or expr[:100], timeout,
                                                       " (%s)" % last if last else ""))
            time.sleep(0.1)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def accept_dialog(self, timeout):
        """Wait for a JavaScript dialog (confirm) of this page, accept it."""
        end = time.monotonic() + timeout
        while True:
            try:
                ev = self.b.events.get(timeout=max(0.1, end - time.monotonic()))
            except queue.Empty:
                raise CDPError("no dialog within %ss" % timeout)
            if ev.get("method") == "Page.javascriptDialogOpening" and ev.get("sessionId") == self.s:
                self.send("Page.handleJavaScriptDialog", {"accept": True})
                return ev["params"].get("message")
            if time.monotonic() > end:
                raise CDPError("no dialog within %ss" % timeout)

    def cookies(self, url):
        return self.send("Network.getCookies", {"urls": [url]})["cookies"]
