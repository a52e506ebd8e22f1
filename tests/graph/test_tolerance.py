"""What Microsoft may send that we take: keys by thumbprint, skew, names in any case.

And the token scope: Graph's own, wherever requests go, unless set otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import time

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from custom_components.switchboard.providers.graph import GraphClient
from custom_components.switchboard.providers.model import (
    CallState,
    InvalidSignatureError,
)
from tests.helpers import state_of
from tests.providers.hostile import encode
from tests.simulators.graph import GRAPH_SCOPE, GraphSimulator

from .notifications import bearer, call_data, envelope, item, parse

SENSOR = "sensor.teams_calling_bot_call"
INCOMING = encode(envelope(item("created", call_data("incoming"))))


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


# --- the signing key named by x5t ---


async def test_a_key_named_by_its_thumbprint_alone(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    [event] = parse(keyed_client, bearer(graph, kid="", x5t=graph.x5t), INCOMING)
    assert event.state is CallState.RINGING
    # A kid we do not know, with the thumbprint of a key we do.
    assert parse(keyed_client, bearer(graph, kid="other", x5t=graph.x5t), INCOMING)


async def test_an_unknown_thumbprint_is_refused(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    with pytest.raises(InvalidSignatureError, match="unknown key"):
        parse(keyed_client, bearer(graph, kid="", x5t="bm90LWEta2V5"), INCOMING)
    # The thumbprint of our key on a token signed by another is a forgery.
    forged = bearer(graph, kid="", x5t=graph.x5t, key=graph.foreign_key())
    with pytest.raises(InvalidSignatureError, match="InvalidSignatureError"):
        parse(keyed_client, forged, INCOMING)


async def test_keys_are_fetched_for_a_new_thumbprint(
    session: aiohttp.ClientSession, graph: GraphSimulator
) -> None:
    client = GraphClient(
        session,
        tenant_id=graph.tenant_id,
        client_id=graph.client_id,
        client_secret=graph.client_secret,
        graph_url=graph.url,
        login_url=graph.url,
        openid_configuration_url=graph.openid_configuration_url,
    )
    headers = bearer(graph, kid="", x5t=graph.x5t)
    assert await client.async_parse_webhook(headers, INCOMING, time.time())


# --- five minutes of clock skew ---


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        pytest.param({"exp": -240}, True, id="expired 4 minutes ago"),
        pytest.param({"exp": -360}, False, id="expired 6 minutes ago"),
        pytest.param({"nbf": 240}, True, id="valid in 4 minutes"),
        pytest.param({"nbf": 360}, False, id="valid in 6 minutes"),
    ],
)
async def test_five_minutes_of_clock_skew(
    keyed_client: GraphClient,
    graph: GraphSimulator,
    claims: dict[str, int],
    accepted: bool,
) -> None:
    now = int(time.time())
    headers = bearer(
        graph, claims={name: now + offset for name, offset in claims.items()}
    )
    if accepted:
        assert parse(keyed_client, headers, INCOMING)
    else:
        with pytest.raises(InvalidSignatureError):
            parse(keyed_client, headers, INCOMING)


# --- names in any case, and the older `resource` ---


@pytest.mark.parametrize(
    ("change", "state", "expected"),
    [
        ("Created", "Incoming", CallState.RINGING),
        ("UPDATED", "Established", CallState.TALKING),
        ("updated", "HOLD", CallState.ON_HOLD),
        ("updated", "transferaccepted", CallState.TALKING),
        ("Deleted", "Terminated", CallState.ENDED),
    ],
)
async def test_state_and_change_names_in_any_case(
    keyed_client: GraphClient,
    graph: GraphSimulator,
    change: str,
    state: str,
    expected: CallState,
) -> None:
    body = encode(envelope(item(change, call_data(state))))
    [event] = parse(keyed_client, bearer(graph), body)
    assert event.state is expected
    assert state.lower() in event.event_id.lower()


async def test_the_envelope_type_in_any_case(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    body = encode(
        {
            **envelope(item("created", call_data("incoming"))),
            "@odata.type": "#Microsoft.Graph.CommsNotifications",
        }
    )
    [event] = parse(keyed_client, bearer(graph), body)
    assert event.state is CallState.RINGING


async def test_the_older_resource_key_names_the_call(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    notification = item("created", call_data("incoming", "/other/calls/x"))
    notification["resource"] = notification.pop("resourceUrl").replace("x", "old")
    data = notification["resourceData"]
    del data["@odata.id"]
    [event] = parse(keyed_client, bearer(graph), encode(envelope(notification)))
    assert (event.call_id, event.state) == ("old", CallState.RINGING)
    # resourceUrl wins over resource when a notification has both.
    notification["resourceUrl"] = "/communications/calls/new"
    [event] = parse(keyed_client, bearer(graph), encode(envelope(notification)))
    assert event.call_id == "new"


@pytest.mark.usefixtures("setup_graph")
async def test_resource_and_case_through_home_assistant(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    data = call_data("Incoming", "/communications/calls/older")
    del data["@odata.id"]
    notification = {
        "changeType": "Created",
        "resource": "/communications/calls/older",
        "resourceData": data,
    }
    await graph.notify([notification])
    await graph.wait_for_notifications()
    await hass.async_block_till_done()
    assert graph.deliveries[-1].status == 200
    call = state_of(hass, SENSOR)
    assert call.state == "ringing"
    assert call.attributes["call_id"] == "older"


# --- the token scope ---


async def test_a_url_override_asks_for_graphs_own_scope(
    session: aiohttp.ClientSession, graph: GraphSimulator
) -> None:
    proxy = "https://graph-proxy.example/.default"
    graph.scopes = {GRAPH_SCOPE, proxy}
    default = GraphClient(
        session,
        tenant_id=graph.tenant_id,
        client_id=graph.client_id,
        client_secret=graph.client_secret,
        graph_url=graph.url,
        login_url=graph.url,
    )
    await default.async_get_account()
    chosen = GraphClient(
        session,
        tenant_id=graph.tenant_id,
        client_id=graph.client_id,
        client_secret=graph.client_secret,
        graph_url=graph.url,
        login_url=graph.url,
        scope=proxy,
    )
    await chosen.async_get_account()
    scopes = [r.body["scope"] for r in graph.requests if r.path.endswith("/token")]
    assert scopes == [GRAPH_SCOPE, proxy]


@pytest.mark.usefixtures("setup_graph")
async def test_an_entry_with_a_url_asks_for_graphs_own_scope(
    graph: GraphSimulator,
) -> None:
    scopes = {r.body["scope"] for r in graph.requests if r.path.endswith("/token")}
    assert scopes == {GRAPH_SCOPE}
