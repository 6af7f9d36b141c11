"""`portfoliowise serve` processes for the fault and load tests: started on a free port of
127.0.0.1 over a given data directory (sample prices only: no network; dev login on;
scheduler off), waited for with a deadline, signed in with the dev login."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {
            **os.environ,
            "QUOTE_SOURCES": "sample",
            "FX_SOURCES": "sample",
            "HISTORY_SOURCES": "funds",
        }
        command = [sys.executable, "-m", "portfoliowise.handlers.cli", "serve"]
        options = ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(
            [*command, *options, "--dev-login", "--no-scheduler"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"serve did not start on {self.url}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def sign_in(url: str, email: str) -> dict[str, str]:
    """The headers of a signed-in user (session cookie and CSRF token)."""
    answer = httpx.post(f"{url}/auth/dev-login", json={"email": email}, timeout=10)
    answer.raise_for_status()
    session = answer.headers["set-cookie"].split(";", 1)[0]
    return {"Cookie": session, "X-CSRF-Token": str(answer.json()["csrfToken"])}
