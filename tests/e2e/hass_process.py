"""A real `hass` process in a temporary config dir, on a loopback port.

Started from its config dir with the checkout's integration linked into
``custom_components``: a `hass` started from the checkout root would put the
checkout's own ``custom_components`` first on the path instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import socket
import ssl
import subprocess
import sys
import time
from typing import IO, Any, Final
import urllib.error
import urllib.parse
import urllib.request

REPOSITORY: Final = Path(__file__).resolve().parents[2]
HASS: Final = Path(sys.executable).with_name("hass")
INTEGRATION: Final = REPOSITORY / "custom_components" / "switchboard"
LOOPBACK: Final = "127.0.0.1"
# Hangs only: how long to wait for a start or a stop before giving up.
START_TIMEOUT: Final = 90.0
STOP_TIMEOUT: Final = 30.0
_LOG_TAIL: Final = 4000

# The components the tests use, and no more: default_config would also pull in
# discovery and hardware integrations that have nothing to find here.
CONFIGURATION: Final = """\
homeassistant:
  name: Switchboard e2e
  external_url: {url}
  internal_url: {url}
  country: US
  time_zone: UTC
  unit_system: metric
  latitude: 0
  longitude: 0
  elevation: 0
http:
  server_host: {host}
  server_port: {port}
api:
config:
conversation:
onboarding:
person:
logger:
  default: warning
  logs:
    custom_components.switchboard: info
"""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class HassError(AssertionError):
    """`hass` did not do what a test needs; the message ends with its log."""


@dataclass
class HttpReply:
    """One answer of Home Assistant's HTTP API."""

    status: int
    body: Any


@contextmanager
def running_hass(
    config_dir: Path, extra_configuration: str = ""
) -> Iterator[HassProcess]:
    """A started `hass` in a fresh `config_dir`; stopped however the block ends."""
    hass = HassProcess(config_dir)
    hass.write_config(extra_configuration)
    try:
        hass.start()
        yield hass
    finally:
        hass.stop()


@dataclass
class HassProcess:
    """One config dir, and the `hass` process currently running on it."""

    config_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # Set when `hass` serves TLS: the context that trusts its certificate.
    ssl_context: ssl.SSLContext | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Home Assistant's base URL (internal and external)."""
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the process's output goes (every start appends)."""
        return self.config_dir / "hass-output.log"

    def write_config(self, extra: str = "") -> None:
        """Write configuration.yaml (with `extra` YAML) and link the integration."""
        custom_components = self.config_dir / "custom_components"
        custom_components.mkdir(parents=True, exist_ok=True)
        (custom_components / "switchboard").symlink_to(
            INTEGRATION, target_is_directory=True
        )
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION.format(url=self.url, host=LOOPBACK, port=self.port) + extra
        )

    def start(self, token: str | None = None) -> None:
        """Start `hass`; wait until it answers (with `token`: until it runs).

        Home Assistant serves HTTP early in its start-up; only once its core
        state is RUNNING (GET /api/config) has every entry been set up.
        """
        assert self.process is None, "hass is already running"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's hass
            [str(HASS), "--config", str(self.config_dir), "--skip-pip"],
            cwd=self.config_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_hass_environment(),
        )
        self.wait_until_started(token)

    def wait_until_started(self, token: str | None = None) -> None:
        """Wait until HTTP answers (with `token`: until the core state is RUNNING)."""
        assert self.process is not None, "hass is not running"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.error(f"hass exited with {self.process.returncode}")
            try:
                # Any answer will do (401 without a token): HTTP is up.
                self.request("GET", "/api/")
            except OSError:
                time.sleep(0.2)
                continue
            if token is None or self._running(token):
                return
            time.sleep(0.2)
        raise self.error(f"hass did not start within {START_TIMEOUT} s")

    def _running(self, token: str) -> bool:
        reply = self.request("GET", "/api/config", token=token)
        return reply.status == 200 and reply.body["state"] == "RUNNING"

    def stop(self) -> int:
        """Stop `hass` as a service manager does (SIGTERM); return its exit code."""
        process, self.process = self.process, None
        if process is None:
            return 0
        try:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
                raise self.error("hass did not stop on SIGTERM") from None
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def log_tail(self) -> str:
        """The end of the process's output."""
        try:
            return self.log_path.read_text(errors="replace")[-_LOG_TAIL:]
        except FileNotFoundError:
            return ""

    def error(self, message: str) -> HassError:
        """An error for the test report, with the end of the log."""
        return HassError(f"{message}\n--- hass output (tail) ---\n{self.log_tail()}")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        """One blocking HTTP request (for set-up, outside any test's loop)."""
        headers = dict(headers or {})
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            self.url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=30, context=self.ssl_context
            ) as response:
                return HttpReply(response.status, _json(response.read()))
        except urllib.error.HTTPError as err:
            return HttpReply(err.code, _json(err.read()))

    def expect(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The JSON answer of a request that must succeed."""
        reply = self.request(method, path, body, **kwargs)
        if reply.status != 200:
            raise self.error(f"{method} {path} answered {reply.status}: {reply.body}")
        return reply.body

    def onboard(self, user: dict[str, str]) -> str:
        """Onboard as the frontend does, creating `user`; the owner's access token.

        `user` has the keys ``name``, ``username`` and ``password``.
        """
        client_id = f"{self.url}/"
        created = self.expect(
            "POST",
            "/api/onboarding/users",
            {**user, "client_id": client_id, "language": "en"},
        )
        token = self._token_for(created["auth_code"])
        self.expect("POST", "/api/onboarding/core_config", {}, token=token)
        self.expect("POST", "/api/onboarding/analytics", {}, token=token)
        self.expect(
            "POST",
            "/api/onboarding/integration",
            {"client_id": client_id, "redirect_uri": f"{self.url}/?auth_callback=1"},
            token=token,
        )
        return token

    def onboarded(self) -> bool:
        """Whether the owner was created already (onboarding's first step).

        Once onboarding is complete, a `hass` started afterwards serves no
        onboarding routes at all.
        """
        reply = self.request("GET", "/api/onboarding")
        if reply.status == 404:
            return True
        if reply.status != 200:
            raise self.error(f"GET /api/onboarding answered {reply.status}")
        return any(step["step"] == "user" and step["done"] for step in reply.body)

    def log_in(self, username: str, password: str) -> str:
        """Log in as the login page does; the user's access token."""
        client_id = f"{self.url}/"
        flow = self.expect(
            "POST",
            "/auth/login_flow",
            {
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.url}/?auth_callback=1",
            },
        )
        done = self.expect(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": client_id, "username": username, "password": password},
        )
        if done.get("type") != "create_entry":
            raise self.error(f"logging in as {username} failed: {done}")
        return self._token_for(done["result"])

    def _token_for(self, code: str) -> str:
        tokens = self.expect(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": f"{self.url}/",
            },
        )
        token: str = tokens["access_token"]
        return token


def _hass_environment() -> dict[str, str]:
    """The environment for `hass`: unbuffered, without starting coverage.

    Coverage measures the test process only; measuring `hass` too would slow
    its start and mix its data files into the suite's.
    """
    return {
        **{
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("COVERAGE_", "COV_CORE_"))
        },
        "PYTHONUNBUFFERED": "1",
    }


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
