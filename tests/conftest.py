"""Fixtures: Home Assistant with its HTTP server on loopback, and the simulators."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from unittest.mock import patch

from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.switchboard.const import (
    CONF_APPLICATION_ID,
    CONF_PROVIDER,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    DOMAIN,
)
from tests.simulators.telnyx import TelnyxSimulator

from .const import FRONT_DESK, KITCHEN, WEBHOOK_ID
from .helpers import HAClient

pytest_plugins = [
    "tests.fixtures.cloud",
    "tests.fixtures.webex",
    "tests.fixtures.graph",
    "tests.fixtures.genesys",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/switchboard in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Store snapshots the way Home Assistant core does."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def fast_retries() -> Generator[None]:
    """Keep provider retry back-off short so fault tests stay quick."""
    with patch(
        "custom_components.switchboard.providers.kernel.retry.FIRST_BACKOFF", 0.01
    ):
        yield


@pytest.fixture
def short_request_timeout() -> Generator[None]:
    """Give up on a provider reply after 0.2 s instead of 10 s."""
    with patch("custom_components.switchboard.providers.telnyx.REQUEST_TIMEOUT", 0.2):
        yield


@pytest.fixture
async def ha_client(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> HAClient:
    """Serve Home Assistant on a loopback port; the client posts to it.

    Every component that adds HTTP routes is set up first: the router freezes
    once the server runs.
    """
    for component in ("http", "webhook", "diagnostics", "application_credentials"):
        assert await async_setup_component(hass, component, {})
    client: HAClient = await hass_client_no_auth()
    return client


@pytest.fixture
async def ha_url(hass: HomeAssistant, ha_client: HAClient) -> str:
    """Make Home Assistant's loopback address its external URL."""
    url = str(ha_client.make_url("")).rstrip("/")
    await hass.config.async_update(external_url=url)
    return url


@pytest.fixture
async def telnyx(socket_enabled: None) -> AsyncGenerator[TelnyxSimulator]:
    """A Telnyx simulator with one application and two numbers."""
    simulator = TelnyxSimulator(webhook_retry_delays=(0.02, 0.05, 0.1))
    app_id = simulator.add_application("Front desk")
    simulator.add_phone_number(app_id, FRONT_DESK)
    simulator.add_phone_number(app_id, KITCHEN)
    await simulator.start()
    yield simulator
    await simulator.close()


@pytest.fixture
def application_id(telnyx: TelnyxSimulator) -> str:
    """The id of the simulator's first application."""
    return next(iter(telnyx.applications))


@pytest.fixture
def telnyx_entry(
    hass: HomeAssistant, telnyx: TelnyxSimulator, application_id: str
) -> MockConfigEntry:
    """A config entry for the simulator's application, as the flow creates it."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Front desk",
        unique_id=application_id,
        data={
            CONF_PROVIDER: "telnyx",
            CONF_API_KEY: telnyx.api_key,
            CONF_PUBLIC_KEY: telnyx.public_key_b64,
            CONF_URL: telnyx.base_url,
            CONF_APPLICATION_ID: application_id,
            CONF_REGISTER_WEBHOOK: True,
            CONF_WEBHOOK_ID: WEBHOOK_ID,
        },
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def setup_telnyx(
    hass: HomeAssistant, ha_url: str, telnyx_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set the Telnyx entry up against the simulator, reachable both ways."""
    del ha_url
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    return telnyx_entry
