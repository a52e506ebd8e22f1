"""`scripts/ring`: ring one device through the running demo's simulator, or hang up.

It reads the simulators' ports from the state file `scripts/develop` writes
and talks to each simulator's control routes (``POST /_sim/ring``,
``POST /_sim/hangup``); the simulator then calls Home Assistant back as the
provider would.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import json
from pathlib import Path
import sys
from typing import Any, Final
import urllib.error

from .entries import post_control
from .state import LOOPBACK, PROVIDERS, STATE_FILE, load_state, save_state

CALLER: Final = "+15557654321"
CALLER_NAME: Final = "Ada Lovelace"


@dataclass(frozen=True)
class Ring:
    """Who calls: a number (None: the default one) and a name."""

    caller: str | None
    name: str

    @property
    def number(self) -> str:
        """The caller's number."""
        return self.caller or CALLER


@dataclass(frozen=True)
class Ringer:
    """How one simulator's control routes name a device, a caller and a call."""

    devices: tuple[str, ...]
    call_key: str
    body: Callable[[Ring, str | None], dict[str, Any]]
    takes_name: bool = True


def _telnyx(ring: Ring, device: str | None) -> dict[str, Any]:
    return {"to": device, "from": ring.number, "caller_id_name": ring.name}


def _webex(ring: Ring, device: str | None) -> dict[str, Any]:
    del device  # every endpoint of the person rings
    return {"number": ring.number, "name": ring.name}


def _graph(ring: Ring, device: str | None) -> dict[str, Any]:
    del device  # the bot is the one Teams device
    # Without --from, a Teams user calls; with it, a phone number.
    if ring.caller is None:
        return {"caller_name": ring.name}
    return {"caller_name": ring.name, "phone": ring.caller}


def _genesys(ring: Ring, device: str | None) -> dict[str, Any]:
    return {"device": device, "caller": ring.number}


RINGERS: Final[dict[str, Ringer]] = {
    "telnyx": Ringer(("+15550100001",), "call_control_id", _telnyx),
    "webex": Ringer((), "callId", _webex),
    "graph": Ringer((), "call_id", _graph),
    "genesys": Ringer(("5005", "+15550100777"), "call_id", _genesys, takes_name=False),
}
assert tuple(RINGERS) == PROVIDERS


class RingError(Exception):
    """What to tell the user instead of ringing."""


def parser() -> argparse.ArgumentParser:
    """The command line of `scripts/ring`."""
    devices = "; ".join(
        f"{provider}: {', '.join(ringer.devices) or 'no device to name (all ring)'}"
        for provider, ringer in RINGERS.items()
    )
    built = argparse.ArgumentParser(
        prog="scripts/ring",
        description="Ring one device of the running scripts/develop demo through"
        " its simulator, or (--hangup) let the caller hang up.",
        epilog=f"devices: {devices}. A first device is the default.",
    )
    built.add_argument("provider", choices=PROVIDERS)
    built.add_argument(
        "target",
        nargs="?",
        metavar="device|call",
        help="the device to ring; with --hangup, the call (default: the last rung)",
    )
    built.add_argument(
        "--hangup", action="store_true", help="the caller hangs up instead"
    )
    built.add_argument(
        "--from",
        dest="caller",
        metavar="NUMBER",
        help=f"the caller's number (default: {CALLER})",
    )
    built.add_argument(
        "--name", help=f"the caller's name (default: {CALLER_NAME}; not Genesys)"
    )
    return built


def main(argv: Sequence[str] | None = None, state_file: Path = STATE_FILE) -> int:
    """Ring or hang up; print the call id."""
    options = parser().parse_args(argv)
    try:
        sys.stdout.write(run(options, state_file) + "\n")
    except RingError as err:
        sys.stderr.write(f"scripts/ring: {err}\n")
        return 1
    return 0


def run(options: argparse.Namespace, state_file: Path = STATE_FILE) -> str:
    """Do what the options ask; the line to print."""
    ringer = RINGERS[options.provider]
    if not options.hangup:
        _check_ring(options, ringer)
    state = load_state(state_file)
    port = state.get("ports", {}).get(options.provider)
    if port is None:
        raise RingError(f"no {state_file}: start scripts/develop first")
    root = f"http://{LOOPBACK}:{port}"
    calls: dict[str, str] = state.setdefault("calls", {})
    if options.hangup:
        call = options.target or calls.get(options.provider)
        if call is None:
            raise RingError(f"no {options.provider} call rung yet: name one")
        _control(root, "hangup", {ringer.call_key: call})
        return f"{options.provider}: the caller hung up {call}"
    ring = Ring(options.caller, options.name or CALLER_NAME)
    body = ringer.body(ring, options.target or next(iter(ringer.devices), None))
    call = str(_control(root, "ring", body)[ringer.call_key])
    calls[options.provider] = call
    save_state(state, state_file)
    return (
        f"{options.provider}: ringing {json.dumps(body)}: call {call}\n"
        f"  hang up with: scripts/ring --hangup {options.provider}"
    )


def _check_ring(options: argparse.Namespace, ringer: Ringer) -> None:
    """Refuse a device or a name the provider's simulator has no use for."""
    if options.target is not None and not ringer.devices:
        raise RingError(
            f"{options.provider} rings all its devices at once: name no device"
        )
    if options.target is not None and options.target not in ringer.devices:
        raise RingError(
            f"{options.provider} has no device {options.target}"
            f" (it has {', '.join(ringer.devices)})"
        )
    if options.name and not ringer.takes_name:
        raise RingError(
            f"{options.provider} calls carry no caller name: leave out --name"
        )


def _control(root: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return post_control(root, name, body)
    except urllib.error.HTTPError as err:
        raise RingError(
            f"the simulator refused: {err.code} {err.read().decode(errors='replace')}"
        ) from err
    except OSError as err:
        raise RingError(
            f"no simulator answers at {root} ({err}): is scripts/develop running?"
        ) from err


if __name__ == "__main__":
    sys.exit(main())
