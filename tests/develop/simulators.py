"""The four simulators as processes of their own, started from their command line."""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import subprocess
import sys
import time
from typing import IO, Final

from .state import LOOPBACK, REPOSITORY

# Hangs only: how long a simulator may take to print its banner.
START_TIMEOUT: Final = 60.0
STOP_TIMEOUT: Final = 15.0


class SimulatorError(RuntimeError):
    """A simulator did not start; the message ends with its output."""


@dataclass
class SimulatorProcess:
    """One standalone simulator (`python -m tests.simulators.<provider>`)."""

    provider: str
    port: int
    log_path: Path
    options: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    # What its banner printed: "listening on" URL, credentials, details.
    url: str = ""
    banner: dict[str, str] = field(default_factory=dict)
    _log: IO[bytes] | None = None

    @property
    def root(self) -> str:
        """Where its control routes (`/_sim/...`) are."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        """Start it on loopback and wait for its banner."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own simulators
            [
                sys.executable,
                "-m",
                f"tests.simulators.{self.provider}",
                "--host",
                LOOPBACK,
                "--port",
                str(self.port),
                *self.options,
            ],
            cwd=REPOSITORY,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_until_serving(self) -> None:
        """Wait for the banner (it ends with the control line); read it."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            output = self.log_path.read_text(errors="replace")
            if "\n  control:" in output:
                self._read_banner(output)
                return
            if self.process.poll() is not None:
                raise SimulatorError(
                    f"the {self.provider} simulator exited with"
                    f" {self.process.returncode}:\n{output[-2000:]}"
                )
            time.sleep(0.1)
        raise SimulatorError(f"the {self.provider} simulator did not start in time")

    def _read_banner(self, output: str) -> None:
        for line in output.splitlines():
            if " listening on " in line and not self.url:
                self.url = line.rsplit(" listening on ", 1)[1].strip()
            elif line.startswith("  ") and ":" in line:
                label, _, value = line.strip().partition(":")
                self.banner[label] = value.strip()

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after a while)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None
