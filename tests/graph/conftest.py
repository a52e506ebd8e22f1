"""Fixtures of the Graph tests."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import time

import aiohttp
import pytest

from custom_components.switchboard.providers.graph import GraphClient
from tests.providers.hostile import encode
from tests.simulators.graph import GraphSimulator

from .notifications import FrozenClock, bearer, call_data, envelope, item


@pytest.fixture
async def keyed_client(graph: GraphSimulator) -> AsyncGenerator[GraphClient]:
    """A client on the simulator that has fetched Microsoft's keys once.

    Its clock stands still, so the keys stay fresh and reading a delivery
    never waits: tests may drive `async_parse_webhook` without the loop.
    """
    async with aiohttp.ClientSession() as session:
        client = GraphClient(
            session,
            tenant_id=graph.tenant_id,
            client_id=graph.client_id,
            client_secret=graph.client_secret,
            graph_url=graph.url,
            login_url=graph.url,
            openid_configuration_url=graph.openid_configuration_url,
            clock=FrozenClock(),
        )
        body = encode(envelope(item("created", call_data("incoming"))))
        assert await client.async_parse_webhook(bearer(graph), body, time.time())
        yield client
