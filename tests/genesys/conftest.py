"""What the Genesys client tests share: quick timings, the client, its stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
import pytest

from custom_components.switchboard.providers import bayeux, genesys as genesys_module
from custom_components.switchboard.providers.genesys import GenesysClient
from tests.simulators.genesys import GenesysSimulator

from .streaming import Listener, make_client, streaming


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short back-offs, margins and dial wait: everything takes milliseconds."""
    monkeypatch.setattr(genesys_module, "REQUEST_TIMEOUT", 2.0)
    monkeypatch.setattr(genesys_module, "DIAL_TIMEOUT", 2.0)
    monkeypatch.setattr(bayeux, "REQUEST_TIMEOUT", 2.0)
    monkeypatch.setattr(bayeux, "CONNECT_MARGIN", 1.0)
    monkeypatch.setattr(bayeux, "FIRST_BACKOFF", 0.01)
    monkeypatch.setattr(bayeux, "MAX_BACKOFF", 0.04)


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    # As Home Assistant builds it for a Genesys entry: cookies on IP hosts too.
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as client_session:
        yield client_session


@pytest.fixture
def client(session: aiohttp.ClientSession, genesys: GenesysSimulator) -> GenesysClient:
    return make_client(session, genesys)


@pytest.fixture
async def stream(
    client: GenesysClient, genesys: GenesysSimulator
) -> AsyncGenerator[Listener]:
    """The client streaming from the simulator, connected and subscribed."""
    await client.async_get_devices()
    async with streaming(client) as listener:
        await genesys.wait_for_connected()
        yield listener
