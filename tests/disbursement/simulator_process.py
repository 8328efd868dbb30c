"""The payout simulator as a real process on a free port, for the gateway tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent.parent
KEY_ID = "test-partner"
SECRET = "test-partner-request-secret"
CALLBACK_SECRET = "test-partner-callback-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimulatorProcess:
    def __init__(self, state: Path, *flags: str):
        self.state = state
        self.flags = flags
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> SimulatorProcess:
        # Its output goes to a file: a pipe nobody reads would fill up and block the server.
        self.log = open(self.state.with_suffix(".log"), "ab")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)  # its state is its own SQLite file, not the portal's database
        self.process = subprocess.Popen(
            [
                sys.executable, "manage.py", "payout_simulator", "--port", str(self.port),
                "--state", str(self.state), "--key-id", KEY_ID, "--secret", SECRET,
                "--callback-secret", CALLBACK_SECRET, *self.flags,
            ],
            cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"payout simulator exited: {self.state.with_suffix('.log').read_text()}")
            try:
                if requests.get(f"{self.url}/_sim/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("payout simulator did not start")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def restart(self) -> None:
        self.stop(signal.SIGKILL)
        self.start()

    # --- controls ---
    def faults(self, **faults) -> dict:
        return requests.post(f"{self.url}/_sim/faults", json=faults, timeout=5).json()

    def accounts(self, *accounts: dict) -> None:
        requests.post(f"{self.url}/_sim/accounts", json=list(accounts), timeout=5).raise_for_status()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_sim/stats", timeout=10).json()

    def disbursements(self) -> list[dict]:
        return requests.get(f"{self.url}/_sim/disbursements", timeout=30).json()
