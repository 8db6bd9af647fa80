"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

Just enough to drive headless Chromium as a reader would: open a page, click a
link with the mouse, type into a field, read the DOM, take a screenshot. The pipe
carries NUL-terminated JSON messages; Chromium reads commands on fd 3 and writes
replies and events on fd 4.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe")


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self, user_data_dir: Path, binary: str = CHROMIUM,
                 size: tuple[int, int] = (1400, 1000)) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def wire() -> None:       # in the child: the pipe ends go to fds 3 and 4
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={user_data_dir}",
             f"--window-size={size[0]},{size[1]}", "about:blank"],
            preexec_fn=wire, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._id = 0
        self._events: list[dict[str, Any]] = []
        self.session: str | None = None

    # ------------------------------------------------------------ protocol

    def _send(self, method: str, params: dict[str, Any] | None = None,
              session: str | None = None) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, timeout: float) -> dict[str, Any] | None:
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._out_r], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise CDPError("Chromium closed the pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None,
             timeout: float = 30, page: bool = True) -> dict[str, Any]:
        ident = self._send(method, params, self.session if page else None)
        msg = self._read_until(lambda m: m.get("id") == ident, timeout)
        if msg is None:
            raise CDPError(f"{method}: no reply within {timeout}s")
        if "error" in msg:
            raise CDPError(f"{method}: {msg['error']}")
        return msg.get("result", {})

    def _read_until(self, wanted: Callable[[dict[str, Any]], bool],
                    timeout: float) -> dict[str, Any] | None:
        """The first message ``wanted`` accepts; events read on the way are kept."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = self._read(end - time.monotonic())
            if msg is None:
                break
            if wanted(msg):
                return msg
            if "method" in msg:
                self._events.append(msg)
        return None

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for i, ev in enumerate(self._events):
            if ev["method"] == method:
                return self._events.pop(i)
        msg = self._read_until(lambda m: m.get("method") == method, timeout)
        if msg is None:
            raise CDPError(f"no {method} within {timeout}s")
        return msg

    # ------------------------------------------------------------ page helpers

    def open_tab(self) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, page=False)
        self.session = attached["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def navigate(self, url: str, timeout: float = 30) -> None:
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", timeout)

    def eval(self, expression: str, timeout: float = 30) -> Any:
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, timeout)
        if "exceptionDetails" in res:
            raise CDPError(f"{expression!r}: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        raise CDPError(f"{expression!r} stayed false for {timeout}s")

    def click(self, selector: str, timeout: float = 30, same_page: bool = False) -> None:
        """Scroll to the element and click it with the mouse; wait for the next page
        (or, for a link within the page, for the navigation to its anchor). The
        scroll is instant: a page that scrolls smoothly would move the element
        away from where the mouse then clicks."""
        box = self.eval(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) "
            "return null; e.scrollIntoView({block: 'center', behavior: 'instant'}); const r = "
            "e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        if not box:
            raise CDPError(f"nothing matches {selector!r}")
        self._events.clear()
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})
        self.wait_event("Page.navigatedWithinDocument" if same_page else "Page.loadEventFired",
                        timeout)

    def type_text(self, selector: str, text: str) -> None:
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", {"text": text})

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                 "windowsVirtualKeyCode": 13, "text": "\r"})

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        finally:
            for fd in (self._cmd_w, self._out_r):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
