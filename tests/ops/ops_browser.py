"""Open a page in real headless Chromium and drive it over the DevTools protocol: console messages,
uncaught exceptions, browser log errors and network requests are collected, and expressions evaluated."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class PageSession:
    def __init__(self, url: str, timeout: float = 30.0):
        self.url, self.timeout = url, timeout
        self.console: list[dict] = []       # Runtime.consoleAPICalled: {type, text}
        self.exceptions: list[str] = []     # Runtime.exceptionThrown
        self.log_errors: list[str] = []     # Log.entryAdded at level error (CSP, failed loads, ...)
        self.requests: list[str] = []       # every URL the page asked for
        self._id = 0

    def __enter__(self):
        from websockets.sync.client import connect

        self._profile = tempfile.mkdtemp(prefix="pshub-chromium-")
        self._proc = subprocess.Popen([chromium_path(), *FLAGS, f"--user-data-dir={self._profile}",
                                       "--remote-debugging-port=0", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split("\n")[0])
        targets = self._http_json(port)
        page = next(t for t in targets if t["type"] == "page")
        self._ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=self.timeout)
        for domain in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            self.call(domain)
        self.call("Page.navigate", url=self.url)
        self._wait_for("Page.loadEventFired")
        return self

    def __exit__(self, *exc):
        try:
            self._ws.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            shutil.rmtree(self._profile, ignore_errors=True)

    @staticmethod
    def _http_json(port: int) -> list[dict]:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            return json.loads(r.read())

    def _record(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append({"type": params.get("type"), "text": text})
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.log_errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def _wait_for(self, event: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            self._record(message)
            if message.get("method") == event:
                return
        raise TimeoutError(event)

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._record(message)
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    @property
    def errors(self) -> list[str]:
        return ([f"console.{c['type']}: {c['text']}" for c in self.console if c["type"] in ("error", "assert")]
                + [f"exception: {e}" for e in self.exceptions] + [f"log: {e}" for e in self.log_errors])
