"""Fixtures: one real `hass` process and one Telnyx simulator per test module.

No in-process `hass` fixture here. The harness plugin blocks sockets before
every test; these tests need loopback sockets for the whole module, since the
simulator's thread serves (and posts webhooks to `hass`) between tests too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

import aiohttp
from homeassistant.const import CONF_API_KEY, CONF_URL
import pytest
import pytest_socket

from custom_components.switchboard.const import (
    CONF_APPLICATION_ID,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    DOMAIN,
)
from tests.const import FRONT_DESK, KITCHEN

from .api import FlowWalk, HassApi
from .hass_process import HassProcess, running_hass
from .simulator_thread import SimulatorThread

OWNER = {"name": "Owner", "username": "owner", "password": "e2e-owner-password"}


@pytest.fixture
def auto_enable_custom_integrations() -> None:
    """Replace the suite's autouse fixture: it needs the in-process `hass`."""


def _keep_sockets_enabled(allow_unix_socket: bool = False) -> None:
    """Stand in for pytest_socket.disable_socket while the module runs."""


@pytest.fixture(scope="module")
def loopback_sockets() -> Generator[None]:
    """Keep sockets enabled from the first test of the module to the last.

    The harness plugin disables sockets before each test (hosts stay limited
    to 127.0.0.1); with the module's simulator thread and `hass` process alive
    between tests, a connection made in that gap would fail the next test.
    """
    pytest_socket.enable_socket()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pytest_socket, "disable_socket", _keep_sockets_enabled)
        yield


@pytest.fixture(scope="module")
def telnyx_simulator(loopback_sockets: None) -> Generator[SimulatorThread]:
    """A Telnyx simulator with one application and two numbers."""
    simulator = SimulatorThread()
    try:
        simulator.start(FRONT_DESK, KITCHEN)
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def home_assistant(
    loopback_sockets: None, tmp_path_factory: pytest.TempPathFactory
) -> Generator[HassProcess]:
    """A running `hass` with a fresh config dir; stopped however the module ends."""
    with running_hass(tmp_path_factory.mktemp("hass") / "config") as hass:
        yield hass


@pytest.fixture(scope="module")
def owner_token(home_assistant: HassProcess) -> str:
    """Onboard as the frontend does; the owner's access token."""
    return home_assistant.onboard(OWNER)


@pytest.fixture(scope="module")
def telnyx_entry(
    home_assistant: HassProcess, owner_token: str, telnyx_simulator: SimulatorThread
) -> FlowWalk:
    """Add the Telnyx entry as a user does, through the config-flow REST API."""
    hass = home_assistant
    hass.wait_until_started(owner_token)
    flows = "/api/config/config_entries/flow"

    def step(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = hass.expect("POST", path, body, token=owner_token)
        return answer

    api_key, public_key, url, application_id = telnyx_simulator.read_sync(
        lambda simulator: (
            simulator.api_key,
            simulator.public_key_b64,
            simulator.base_url,
            next(iter(simulator.applications)),
        )
    )
    menu = step(flows, {"handler": DOMAIN, "show_advanced_options": False})
    flow = f"{flows}/{menu['flow_id']}"
    credentials_form = step(flow, {"next_step_id": "telnyx"})
    application_form = step(
        flow,
        {
            CONF_API_KEY: api_key,
            CONF_PUBLIC_KEY: public_key,
            CONF_URL: url,
        },
    )
    created = step(
        flow,
        {
            CONF_APPLICATION_ID: application_id,
            CONF_REGISTER_WEBHOOK: True,
        },
    )
    return FlowWalk(menu, credentials_form, application_form, created)


@pytest.fixture
async def api(
    home_assistant: HassProcess,
    owner_token: str,
    telnyx_entry: FlowWalk,
    telnyx_simulator: SimulatorThread,
) -> AsyncGenerator[HassApi]:
    """The owner's REST and websocket client, with the Telnyx entry added.

    Every test ends its calls; one that failed half-way may not have, and the
    next test would start with a phone that is not idle.
    """
    try:
        async with aiohttp.ClientSession() as session:
            yield HassApi(session, home_assistant.url, owner_token)
    finally:
        await telnyx_simulator.end_live_calls()
