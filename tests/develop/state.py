"""The demo's one folder (`.develop/` at the checkout root) and its state file.

`scripts/develop` writes the ports, the login and the entries it made into
``state.json``; a second run reuses them and `scripts/ring` reads the ports.
"""

from __future__ import annotations

import json
from pathlib import Path
import socket
from typing import Any, Final

REPOSITORY: Final = Path(__file__).resolve().parents[2]
FOLDER: Final = REPOSITORY / ".develop"
STATE_FILE: Final = FOLDER / "state.json"
LOOPBACK: Final = "127.0.0.1"

# The usual ports; a taken one is replaced by a free one.
HASS_PORT: Final = 8123
SIMULATOR_PORTS: Final = {"telnyx": 8089, "webex": 8090, "graph": 8091, "genesys": 8092}
PROVIDERS: Final = tuple(SIMULATOR_PORTS)


def load_state(path: Path = STATE_FILE) -> dict[str, Any]:
    """The state a former run left, or an empty one."""
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return state


def save_state(state: dict[str, Any], path: Path = STATE_FILE) -> None:
    """Write the state readable by its owner only (it holds the login)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on `port` now (as aiohttp does: reusing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(preferred: int, taken: set[int], host: str = LOOPBACK) -> int:
    """`preferred` when it is free, else a free port the system picks."""
    if preferred not in taken and port_is_free(preferred, host):
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
        if port not in taken:
            return port
