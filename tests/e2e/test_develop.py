"""The parts of `scripts/develop` and `scripts/ring` that need no `hass` process.

`scripts/ring` against a real Telnyx simulator's control routes; the demo's
certificate in a real TLS handshake (in memory), verified as the simulators
verify it; port picking; the HTTP settings as Home Assistant's store reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
import socket
import ssl
from typing import Any

from homeassistant.components.http.config import (
    STORAGE_KEY,
    ActiveConfigType,
    async_get_and_load_store,
)
from homeassistant.core import HomeAssistant
import pytest
from yarl import URL

from tests.const import CALLER, FRONT_DESK, KITCHEN
from tests.develop import ring
from tests.develop.http_store import write_http_settings
from tests.develop.state import LOOPBACK, pick_port, save_state
from tests.develop.tls import ensure_certificates

from .simulator_thread import SimulatorThread

CALLER_NAME = "Grace Hopper"


def state_for(tmp_path: Path, telnyx: SimulatorThread) -> Path:
    """A state file as scripts/develop writes it, naming the simulator's port."""
    port = URL(telnyx.read_sync(lambda simulator: simulator.base_url)).port
    state_file = tmp_path / "state.json"
    save_state({"ports": {"telnyx": port}}, state_file)
    return state_file


def test_ring_and_hang_up_through_the_simulator(
    tmp_path: Path,
    telnyx_simulator: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state_file = state_for(tmp_path, telnyx_simulator)

    assert (
        ring.main(["telnyx", "--from", CALLER, "--name", CALLER_NAME], state_file) == 0
    )

    call_id = json.loads(state_file.read_text())["calls"]["telnyx"]
    assert call_id in capsys.readouterr().out
    call = telnyx_simulator.read_sync(
        lambda simulator: simulator.calls[call_id].__dict__.copy()
    )
    assert (call["to"], call["from_"], call["caller_id_name"]) == (
        FRONT_DESK,
        CALLER,
        CALLER_NAME,
    )

    assert ring.main(["--hangup", "telnyx"], state_file) == 0

    ended = telnyx_simulator.read_sync(lambda simulator: simulator.calls[call_id].state)
    assert ended == "hangup"


def test_ring_refuses_what_the_simulator_lacks(
    tmp_path: Path,
    telnyx_simulator: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state_file = state_for(tmp_path, telnyx_simulator)
    calls_before = telnyx_simulator.read_sync(lambda simulator: len(simulator.calls))

    assert ring.main(["telnyx", KITCHEN], state_file) == 1
    assert ring.main(["webex", "kitchen"], state_file) == 1
    assert ring.main(["genesys", "--name", CALLER_NAME], state_file) == 1
    assert ring.main(["genesys"], state_file) == 1
    assert ring.main(["--hangup", "telnyx"], state_file) == 1

    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"scripts/ring: telnyx has no device {KITCHEN} (it has {FRONT_DESK})",
        "scripts/ring: webex rings all its devices at once: name no device",
        "scripts/ring: genesys calls carry no caller name: leave out --name",
        f"scripts/ring: no {state_file}: start scripts/develop first",
        "scripts/ring: no telnyx call rung yet: name one",
    ]
    calls = telnyx_simulator.read_sync(lambda simulator: len(simulator.calls))
    assert calls == calls_before


def test_the_certificate_passes_strict_verification(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path / "tls", ["localhost", LOOPBACK])
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(files.certificate, files.key)
    client_context = files.client_context()
    assert client_context.verify_flags & ssl.VERIFY_X509_STRICT

    for name in ("localhost", LOOPBACK):
        handshake(client_context, server_context, name)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(client_context, server_context, "ha.example")
    # A second start keeps the certificate.
    made = files.certificate.read_bytes()
    assert ensure_certificates(tmp_path / "tls", ["localhost", LOOPBACK]) == files
    assert files.certificate.read_bytes() == made


def handshake(
    client_context: ssl.SSLContext, server_context: ssl.SSLContext, name: str
) -> None:
    """A TLS handshake between two in-memory ends; raises what the client checks."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, from_client, server_hostname=name)
    server = server_context.wrap_bio(to_server, from_server, server_side=True)
    done = {"client": False, "server": False}
    while not all(done.values()):
        for side, end in (("client", client), ("server", server)):
            if not done[side]:
                try:
                    end.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        to_server.write(from_client.read())
        to_client.write(from_server.read())


def test_a_taken_port_is_replaced(loopback_sockets: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        busy = taken.getsockname()[1]

        assert pick_port(busy, set()) != busy

    assert pick_port(busy, set()) == busy
    assert pick_port(busy, {busy}) != busy


async def test_the_http_settings_are_what_home_assistant_starts_with(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    files = ensure_certificates(tmp_path / "tls", ["localhost"])
    certificate, key = files.certificate, files.key
    write_http_settings(
        tmp_path, port=18123, certificate=certificate, key=key, host=LOOPBACK
    )
    hass_storage[STORAGE_KEY] = json.loads(
        (tmp_path / ".storage" / STORAGE_KEY).read_text()
    )

    store = await async_get_and_load_store(hass)
    settings = await store.async_activate_config()

    assert store.active_config_type is ActiveConfigType.STABLE
    assert store.yaml_migration_done
    assert settings["server_port"] == 18123
    assert settings["server_host"] == [LOOPBACK]
    assert (settings["ssl_certificate"], settings["ssl_key"]) == (
        str(certificate),
        str(key),
    )
