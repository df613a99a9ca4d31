"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages ending in a NUL byte on file descriptors 3 and 4), with the standard library
only: one browser serves many pages, each page is read with `Page.evaluate` (plotly's data
sits on each plot's element as ``.data`` and ``.layout``) and photographed with
`Page.screenshot`.

Needs Debian's ``chromium`` (``.ci/run`` installs it); `CHROMIUM` is None without it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


#: runs the browser with the pipe ends given as its fds 3 (commands in) and 4 (answers out);
#: a small exec wrapper, as preexec_fn is unsafe in a process with threads and dash's
#: redirections take one-digit descriptors only
ON_3_AND_4 = """
import fcntl, os, sys
ends = [fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]]
os.dup2(ends[0], 3)
os.dup2(ends[1], 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class BrowserError(RuntimeError):
    """The browser answered a command with an error, or a page's script threw."""


class Browser:
    """One headless Chromium (a fresh profile in `profile`) until `close`."""

    def __init__(self, profile):
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", ON_3_AND_4, str(to_browser), str(from_browser), CHROMIUM]
            + [*FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_browser, from_browser),
        )
        os.close(to_browser)
        os.close(from_browser)
        self._pending = b""
        self._next = 0

    def command(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command (to a page's `session`, else the browser); its result."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._message()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer["result"]

    def _message(self) -> dict:
        while b"\0" not in self._pending:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("the browser closed its pipe")
            self._pending += chunk
        message, self._pending = self._pending.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str, width=1400, height=1600) -> Page:
        """A new page (tab) at `url`, `width` x `height` CSS pixels."""
        target = self.command("Target.createTarget", url="about:blank")["targetId"]
        session = self.command("Target.attachToTarget", targetId=target, flatten=True)
        page = Page(self, target, session["sessionId"])
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.call("Page.navigate", url=url)
        return page

    def close(self) -> None:
        try:
            self.command("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


class Page:
    """One tab of a `Browser`."""

    def __init__(self, browser: Browser, target: str, session: str):
        self.browser, self.target, self.session = browser, target, session

    def call(self, method: str, **params) -> dict:
        return self.browser.command(method, self.session, **params)

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout=60.0):
        """Poll a JavaScript expression until it is truthy; its value (AssertionError after
        `timeout` seconds)."""
        end = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:  # e.g. before the page's script ran
                value = None
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"not within {timeout} s: {expression}")
            time.sleep(0.2)

    def screenshot(self) -> bytes:
        """The page as PNG bytes."""
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        self.browser.command("Target.closeTarget", targetId=self.target)
