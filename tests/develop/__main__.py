"""`scripts/develop`: Home Assistant, the four simulators and one entry each.

Everything lives under `.develop/` at the checkout root: the Home Assistant
config dir, the demo CA and certificate, the simulators' logs and
``state.json`` (ports, login, entries). A second run reuses it: the same
ports when free, the onboarded user, the entries that still load (one that
does not, because its simulator started afresh, is removed and added again).
Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
import secrets
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any, Final

from tests.e2e.hass_process import INTEGRATION, HassProcess

from .dashboard import DASHBOARD, create_dashboard
from .entries import ADDERS, EntryError, FlowClient, register_graph_webhook
from .http_store import write_http_settings
from .simulators import SimulatorProcess
from .state import (
    FOLDER,
    HASS_PORT,
    LOOPBACK,
    PROVIDERS,
    SIMULATOR_PORTS,
    STATE_FILE,
    load_state,
    pick_port,
    save_state,
)
from .tls import TlsFiles, ensure_certificates

ENTRIES: Final = "/api/config/config_entries/entry"
# Hangs only: how long the new entries may take to load.
LOAD_TIMEOUT: Final = 60.0
# Home Assistant's own address. A name, not 127.0.0.1: once Home Assistant
# serves TLS it offers no IP address as an external URL (webhooks need one).
HOST_NAME: Final = "localhost"
# The simulators that call Home Assistant back, over https.
DELIVERING: Final = ("telnyx", "webex", "graph")
DEFAULT_CALLER: Final = "+15557654321"

# frontend and the integrations its pages need, no more: default_config would
# also start discovery and hardware integrations that want system binaries.
# No http: block (see http_store).
CONFIGURATION: Final = """\
# Written by scripts/develop at every start: edits here are lost.
homeassistant:
  name: Switchboard demo
  external_url: {url}
  internal_url: {url}
  country: US
  time_zone: UTC
  unit_system: metric
  latitude: 0
  longitude: 0
  elevation: 0
frontend:
api:
config:
onboarding:
person:
conversation:
automation:
script:
history:
logbook:
logger:
  default: warning
  logs:
    custom_components.switchboard: debug
    homeassistant.setup: info
"""


class Stop(Exception):  # noqa: N818 - a signal, not an error
    """SIGTERM arrived: stop as on Ctrl-C."""


def main(argv: Sequence[str] | None = None) -> int:
    """Start everything, print the summary, run until Ctrl-C."""
    options = _parser().parse_args(argv)
    # Also when started in the background, where SIGINT comes in ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    demo = Demo(public=options.public)
    try:
        demo.start()
        demo.print_summary()
        demo.wait()
    except KeyboardInterrupt, Stop:
        say("\n==> stopping")
        return 0
    except (EntryError, RuntimeError, AssertionError, OSError) as err:
        complain(err)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.stop()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=(
            "Run Home Assistant (https, with its frontend) with Switchboard and the"
            " Telnyx, Webex, Teams (Graph) and Genesys simulators, one entry each,"
            f" everything under {FOLDER.name}/. Ctrl-C stops it all."
        ),
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="let Home Assistant listen on every interface, not only 127.0.0.1"
        " (anyone on the network then sees the printed login)",
    )
    return parser


def say(text: str) -> None:
    """Tell the user, at once."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def complain(err: Exception) -> None:
    """Tell the user what went wrong."""
    sys.stderr.write(f"scripts/develop: {err}\n")
    sys.stderr.flush()


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise Stop


class Demo:
    """The processes of one run, and what they were given."""

    def __init__(self, *, public: bool, folder: Path = FOLDER) -> None:
        """Plan the run: ports, certificate, login, from the folder's state.

        `folder` is `.develop/` but for the end-to-end test of the demo.
        """
        self.public = public
        self.folder = folder
        self.state_file = folder / STATE_FILE.name
        self.state: dict[str, Any] = load_state(self.state_file)
        self.simulators: dict[str, SimulatorProcess] = {}
        self.hass: HassProcess | None = None
        self.token = ""
        self.tls: TlsFiles | None = None
        self.url = ""
        self.moved: list[str] = []
        self.cards = 0

    # --- start ---

    def start(self) -> None:
        """Start the simulators and `hass`; onboard; add the entries."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._plan()
        for simulator in self.simulators.values():
            simulator.start()
        assert self.hass is not None
        say(f"==> starting Home Assistant at {self.url}")
        self.hass.start()
        for simulator in self.simulators.values():
            simulator.wait_until_serving()
        self.token = self._owner_token()
        self.hass.wait_until_started(self.token)
        self._add_entries()
        assert self.tls is not None
        self.cards = create_dashboard(self.url, self.token, self.tls.client_context())

    def _plan(self) -> None:
        listen = "0.0.0.0" if self.public else LOOPBACK  # noqa: S104 - asked for
        taken: set[int] = set()
        hass_port = self._port("hass", HASS_PORT, taken, listen)
        ports = {
            provider: self._port(provider, usual, taken, LOOPBACK)
            for provider, usual in SIMULATOR_PORTS.items()
        }
        names = [HOST_NAME, LOOPBACK]
        if self.public:
            names.append(socket.gethostname())
        self.tls = ensure_certificates(self.folder / "tls", names)
        login = self.state.setdefault(
            "login",
            {
                "name": "Demo",
                "username": "demo",
                "password": secrets.token_urlsafe(12),
            },
        )
        self.state["login"] = login
        self.hass = HassProcess(
            self.folder / "config",
            port=hass_port,
            ssl_context=self.tls.client_context(),
        )
        self.url = origin = f"https://{HOST_NAME}:{hass_port}"
        self._write_config(listen)
        for provider, port in ports.items():
            options: list[str] = []
            if provider in DELIVERING:
                options += ["--trust-ca", str(self.tls.ca_certificate)]
            if provider == "graph":
                # Straight to Home Assistant's own https origin, certificate checked.
                options += ["--deliver-via", f"{origin}={origin}"]
            self.simulators[provider] = SimulatorProcess(
                provider, port, self.folder / "logs" / f"{provider}.log", options
            )
        self.state["hass"] = {"port": hass_port, "url": origin}
        save_state(self.state, self.state_file)

    def _port(self, name: str, usual: int, taken: set[int], host: str) -> int:
        before = self.state.get("ports", {}).get(name, usual)
        port = pick_port(before, taken, host)
        taken.add(port)
        self.state.setdefault("ports", {})[name] = port
        if port != usual:
            self.moved.append(f"{name} on {port} (instead of {usual})")
        return port

    def _write_config(self, listen: str) -> None:
        assert self.hass is not None
        assert self.tls is not None
        config = self.hass.config_dir
        custom_components = config / "custom_components"
        custom_components.mkdir(parents=True, exist_ok=True)
        link = custom_components / "switchboard"
        if link.is_symlink() and link.resolve() != INTEGRATION:
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(INTEGRATION, target_is_directory=True)
        (config / "configuration.yaml").write_text(CONFIGURATION.format(url=self.url))
        write_http_settings(
            config,
            port=self.hass.port,
            certificate=self.tls.certificate,
            key=self.tls.key,
            host=None if self.public else listen,
        )

    def _owner_token(self) -> str:
        assert self.hass is not None
        login = self.state["login"]
        if self.hass.onboarded():
            return self.hass.log_in(login["username"], login["password"])
        say("==> onboarding the owner")
        return self.hass.onboard(login)

    def _add_entries(self) -> None:
        assert self.hass is not None
        flows = FlowClient(self.hass, self.token)
        recorded: dict[str, dict[str, Any]] = self.state.setdefault("entries", {})
        present = {entry["entry_id"]: entry for entry in self._entries()}
        for provider in PROVIDERS:
            simulator = self.simulators[provider]
            known = recorded.get(provider)
            entry = present.get(known["entry_id"]) if known else None
            if known and entry and entry["state"] == "loaded":
                if provider == "graph":
                    register_graph_webhook(simulator, known["webhook_url"])
                continue
            if entry is not None:
                # Its simulator started afresh (new ids, tokens): add it again.
                self.hass.expect(
                    "DELETE", f"{ENTRIES}/{entry['entry_id']}", token=self.token
                )
            say(f"==> adding the {provider} entry")
            recorded[provider] = ADDERS[provider](flows, simulator)
            save_state(self.state, self.state_file)
        self._wait_until_loaded()

    def _entries(self) -> list[dict[str, Any]]:
        assert self.hass is not None
        entries: list[dict[str, Any]] = self.hass.expect(
            "GET", f"{ENTRIES}?domain=switchboard", token=self.token
        )
        return entries

    def _wait_until_loaded(self) -> None:
        wanted = {known["entry_id"] for known in self.state["entries"].values()}
        deadline = time.monotonic() + LOAD_TIMEOUT
        while time.monotonic() < deadline:
            states = {e["entry_id"]: e["state"] for e in self._entries()}
            if all(states.get(entry_id) == "loaded" for entry_id in wanted):
                return
            time.sleep(0.5)
        raise EntryError(f"not every entry loaded: {states}")

    # --- run ---

    def print_summary(self) -> None:
        """What to open, the login, the simulators, how to ring."""
        assert self.hass is not None
        assert self.tls is not None
        login = self.state["login"]
        titles = {e["entry_id"]: (e["title"], e["state"]) for e in self._entries()}
        lines = [
            "",
            "==> Switchboard demo running (Ctrl-C stops everything)",
            "",
            f"Home Assistant  {self.url}",
            f"  login         {login['username']} / {login['password']}",
            f"  dashboard     {self.url}/{DASHBOARD} ({self.cards} call cards)",
            (
                f"  certificate   of the demo CA {self.tls.ca_certificate}"
                " (import it in the browser, or accept the warning)"
            ),
        ]
        if self.public:
            lines.append(
                "  WARNING       --public: listening on every interface; anyone on"
                " the network reaches it, and the login above is all it takes"
            )
        lines += ["", "Simulators (loopback only; fake demo credentials):"]
        for provider, simulator in self.simulators.items():
            lines.append(f"  {provider:<8}{simulator.url}")
            lines += [
                f"            {label}: {value}"
                for label, value in simulator.banner.items()
                if label not in {"access token", "refresh token", "control"}
            ]
        lines += ["", "Entries:"]
        for provider, known in self.state["entries"].items():
            title, state = titles.get(known["entry_id"], ("?", "missing"))
            lines.append(f"  {provider:<8}{title} ({state})")
        if self.moved:
            lines += [
                "",
                "Ports moved (the usual ones were taken): " + ", ".join(self.moved),
            ]
        lines += [
            "",
            "Ring (another terminal):",
            "  scripts/ring telnyx [+15550100001] [--from NUMBER --name NAME]",
            "  scripts/ring webex | scripts/ring graph | scripts/ring genesys [5005]",
            "  scripts/ring --hangup <provider> [call]   (default: the last one rung)",
            "",
            f"Logs: {self.hass.log_path}, {self.folder / 'logs'}/",
            "",
        ]
        say("\n".join(lines))

    def wait(self) -> None:
        """Run until interrupted, or until one of the processes ends by itself."""
        assert self.hass is not None
        while True:
            time.sleep(1)
            if self.hass.process is None or self.hass.process.poll() is not None:
                raise RuntimeError(f"Home Assistant stopped; see {self.hass.log_path}")
            for simulator in self.simulators.values():
                if simulator.process is None or simulator.process.poll() is not None:
                    raise RuntimeError(
                        f"the {simulator.provider} simulator stopped;"
                        f" see {simulator.log_path}"
                    )

    def stop(self) -> None:
        """Stop `hass`, then the simulators."""
        if self.hass is not None and self.hass.process is not None:
            try:
                self.hass.stop()
            except AssertionError as err:
                complain(err)
        for simulator in self.simulators.values():
            simulator.stop()


if __name__ == "__main__":
    sys.exit(main())
