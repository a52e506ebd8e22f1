"""Microsoft Teams calling bots end to end: the flow, calls, notifications, faults.

The real integration runs in Home Assistant against the Graph simulator over
real HTTP on loopback; the simulator also plays the https front Microsoft needs
(see tests/fixtures/graph.py).
"""

from __future__ import annotations

from functools import partial
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_URL,
    CONF_WEBHOOK_ID,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import json_dumps
from homeassistant.util import dt as dt_util
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.switchboard.const import (
    CONF_CLOUD,
    CONF_CLOUDHOOK_URL,
    CONF_PROVIDER,
    CONF_TENANT_ID,
    DOMAIN,
)
from custom_components.switchboard.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.switchboard.hub import (
    KEEP_ALIVE_INTERVAL,
    RECONCILE_INTERVAL,
)
from custom_components.switchboard.providers.graph import CLOUDS, GraphCloud
from tests import helpers
from tests.fixtures.cloud import CLOUDHOOK, FakeCloud
from tests.fixtures.graph import (
    GRAPH_CALLBACK_URL,
    GRAPH_HTTPS_ORIGIN,
    GRAPH_TITLE,
    GRAPH_WEBHOOK_ID,
    TEST_ANSWER_WINDOW,
    graph_credentials,
)
from tests.helpers import (
    HAClient,
    assert_press_refused,
    record_events,
    start_flow,
    state_of,
    suggested,
)
from tests.simulators.graph import GraphSimulator, SimRequest

SENSOR = "sensor.teams_calling_bot_call"
EVENT = "event.teams_calling_bot_call_activity"
BUTTON = "button.teams_calling_bot_answer"
SERVICE_HOSTED = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
UNREACHABLE = "http://127.0.0.1:9"


# --- helpers ---


async def settle(hass: HomeAssistant, graph: GraphSimulator) -> None:
    """Let every notification the simulator owes arrive and be handled."""
    await graph.wait_for_notifications()
    await hass.async_block_till_done()


async def ring(hass: HomeAssistant, graph: GraphSimulator, **kwargs: Any) -> str:
    """Call the bot and wait for Home Assistant to know."""
    call_id = await graph.ring(**kwargs)
    await settle(hass, graph)
    return call_id


call_action = partial(helpers.call_action, entity_id=SENSOR)


def commands(graph: GraphSimulator, method: str, suffix: str = "") -> list[SimRequest]:
    """The call commands Graph received (not tokens, keys or notifications)."""
    return [
        request
        for request in graph.requests
        if request.method == method
        and request.path.startswith("/v1.0/communications/calls/")
        and request.path.endswith(suffix)
    ]


def token_requests(graph: GraphSimulator) -> list[SimRequest]:
    return [r for r in graph.requests if r.path.endswith("/oauth2/v2.0/token")]


def call_item(call_id: str, change: str, **data: Any) -> dict[str, Any]:
    """One commsNotification about a call, as Graph posts it."""
    return {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change,
        "resourceUrl": f"/communications/calls/{call_id}",
        "resourceData": {"@odata.type": "#microsoft.graph.call", **data},
    }


def envelope(*items: dict[str, Any]) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.commsNotifications", "value": list(items)}


# --- config flow ---


@pytest.mark.usefixtures("graph_https_url")
async def test_flow_adds_the_bot_and_shows_its_callback_url(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    result = await start_flow(hass, "graph")
    assert result["data_schema"] is not None
    fields = {str(key): key for key in result["data_schema"].schema}
    assert list(fields) == [
        CONF_TENANT_ID,
        CONF_CLIENT_ID,
        CONF_CLIENT_SECRET,
        CONF_CLOUD,
        CONF_URL,
    ]
    assert fields[CONF_CLOUD].default() == "global"
    assert isinstance(fields[CONF_URL], vol.Optional)
    assert fields[CONF_URL].default is vol.UNDEFINED

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], graph_credentials(graph)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == GRAPH_TITLE
    assert result["result"].unique_id == graph.client_id
    data = dict(result["data"])
    webhook_id = data.pop(CONF_WEBHOOK_ID)
    assert len(webhook_id) == 64
    assert data == {**graph_credentials(graph), CONF_PROVIDER: "graph"}
    callback_url = f"{GRAPH_HTTPS_ORIGIN}/api/webhook/{webhook_id}"
    assert result["description"] == "graph_callback"
    assert result["description_placeholders"] == {"webhook_url": callback_url}
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED

    # The user pastes the address into the bot's calling webhook: calls arrive.
    graph.bot_webhook_url = callback_url
    await ring(hass, graph)
    assert state_of(hass, SENSOR).state == "ringing"


@pytest.mark.parametrize("cloud", ["global", "usgov", "dod"])
@pytest.mark.usefixtures("graph_https_url")
async def test_cloud_choice_picks_its_endpoints(
    hass: HomeAssistant, graph: GraphSimulator, cloud: str
) -> None:
    # Only the chosen cloud leads to the simulator; the others are Microsoft's,
    # which the tests cannot reach.
    with patch.dict(CLOUDS, {cloud: GraphCloud(graph.url, graph.url, graph.scope)}):
        result = await start_flow(hass, "graph")
        credentials = {**graph_credentials(graph), CONF_CLOUD: cloud}
        del credentials[CONF_URL]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], credentials
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CLOUD] == cloud
    assert CONF_URL not in result["data"]
    assert result["result"].state is ConfigEntryState.LOADED
    assert {r.body["scope"] for r in token_requests(graph)} == {graph.scope}


@pytest.mark.parametrize(
    ("changes", "fault", "errors"),
    [
        pytest.param(
            {CONF_CLIENT_SECRET: "wrong~secret"},
            None,
            {"base": "invalid_auth"},
            id="invalid secret",
        ),
        pytest.param(
            {CONF_TENANT_ID: "contoso.onmicrosoft.com"},
            None,
            {"base": "invalid_auth"},
            id="unknown tenant",
        ),
        pytest.param(
            {CONF_URL: UNREACHABLE}, None, {"base": "cannot_connect"}, id="unreachable"
        ),
        pytest.param({}, 503, {"base": "cannot_connect"}, id="entra id down"),
        pytest.param({}, 429, {"base": "cannot_connect"}, id="entra id throttling"),
        pytest.param({"path": "/not-microsoft"}, None, {"base": "unknown"}, id="404"),
    ],
)
@pytest.mark.usefixtures("graph_https_url")
async def test_flow_errors_then_recovery(
    hass: HomeAssistant,
    graph: GraphSimulator,
    changes: dict[str, str],
    fault: int | None,
    errors: dict[str, str],
) -> None:
    result = await start_flow(hass, "graph")
    if fault is not None:
        graph.fail_next(fault, path_contains="/token")
    entered = {**graph_credentials(graph), **changes}
    if path := entered.pop("path", None):
        entered[CONF_URL] += path
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "graph"
    assert result["errors"] == errors
    # What was entered is shown back, but never the secret.
    shown = suggested(result)
    assert shown[CONF_TENANT_ID] == changes.get(CONF_TENANT_ID, graph.tenant_id)
    assert CONF_CLIENT_SECRET not in shown
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], graph_credentials(graph)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    "external_url",
    [None, "http://ha.switchboard.invalid"],
    ids=["no external url", "http external url"],
)
async def test_flow_needs_an_https_url(
    hass: HomeAssistant, graph: GraphSimulator, external_url: str | None
) -> None:
    await hass.config.async_update(external_url=external_url, internal_url=None)
    result = await start_flow(hass, "graph")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], graph_credentials(graph)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_https_url"}
    assert hass.config_entries.async_entries(DOMAIN) == []

    # Fixed under Settings → System → Network; the same form goes on.
    await hass.config.async_update(external_url=GRAPH_HTTPS_ORIGIN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], graph_credentials(graph)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    webhook_id = result["data"][CONF_WEBHOOK_ID]
    assert result["description_placeholders"] == {
        "webhook_url": f"{GRAPH_HTTPS_ORIGIN}/api/webhook/{webhook_id}"
    }


async def test_flow_with_home_assistant_cloud(
    hass: HomeAssistant, graph: GraphSimulator, nabu_casa: FakeCloud
) -> None:
    result = await start_flow(hass, "graph")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], graph_credentials(graph)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    webhook_id = result["data"][CONF_WEBHOOK_ID]
    nabu_casa.async_get_or_create_cloudhook.assert_awaited_once_with(hass, webhook_id)
    assert result["data"][CONF_CLOUDHOOK_URL] == CLOUDHOOK
    assert result["description_placeholders"] == {"webhook_url": CLOUDHOOK}
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    # Removing the entry gives the cloudhook back.
    assert await hass.config_entries.async_remove(entry.entry_id)
    nabu_casa.async_delete_cloudhook.assert_awaited_once_with(hass, webhook_id)


async def test_bot_already_configured(
    hass: HomeAssistant, graph: GraphSimulator, graph_entry: MockConfigEntry
) -> None:
    del graph_entry
    result = await start_flow(hass, "graph")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], graph_credentials(graph)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("graph_https_url")
async def test_expired_secret_asks_for_a_new_one(
    hass: HomeAssistant, graph: GraphSimulator, graph_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        graph_entry, data={**graph_entry.data, CONF_CLIENT_SECRET: "expired~secret"}
    )
    assert not await hass.config_entries.async_setup(graph_entry.entry_id)
    await hass.async_block_till_done()
    assert graph_entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["step_id"] == "reauth_graph"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLIENT_SECRET: "still~wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["title"] == GRAPH_TITLE
    assert result["data_schema"] is not None
    assert [str(key) for key in result["data_schema"].schema] == [CONF_CLIENT_SECRET]

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLIENT_SECRET: graph.client_secret}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert graph_entry.data[CONF_CLIENT_SECRET] == graph.client_secret
    assert graph_entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("graph_https_url")
async def test_reconfigure(
    hass: HomeAssistant, graph: GraphSimulator, graph_entry: MockConfigEntry
) -> None:
    result = await graph_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_graph"
    # The callback URL is shown again, to check or paste into the bot.
    assert result["description_placeholders"] == {
        "title": GRAPH_TITLE,
        "webhook_url": GRAPH_CALLBACK_URL,
    }
    # The bot (its client id) stays; the secret is never shown back.
    assert suggested(result) == {
        CONF_TENANT_ID: graph.tenant_id,
        CONF_CLOUD: "global",
        CONF_URL: graph.url,
    }
    assert CONF_CLIENT_ID not in {str(key) for key in result["data_schema"].schema}

    entered = {
        CONF_TENANT_ID: graph.tenant_id,
        CONF_CLIENT_SECRET: "rotated~secret",
        CONF_CLOUD: "usgov",
        CONF_URL: graph.url,
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**entered, CONF_TENANT_ID: "contoso.onmicrosoft.com"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert suggested(result)[CONF_TENANT_ID] == "contoso.onmicrosoft.com"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**entered, CONF_URL: UNREACHABLE}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    graph.client_secret = "rotated~secret"  # a new secret, made in the portal
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert graph_entry.data[CONF_CLIENT_SECRET] == "rotated~secret"
    assert graph_entry.data[CONF_CLOUD] == "usgov"
    assert graph_entry.data[CONF_CLIENT_ID] == graph.client_id
    assert graph_entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("graph_https_url")
async def test_reconfigure_back_to_microsofts_endpoints(
    hass: HomeAssistant, graph: GraphSimulator, graph_entry: MockConfigEntry
) -> None:
    result = await graph_entry.start_reconfigure_flow(hass)
    # The simulator stands in for the global cloud, before and after the reload.
    with patch.dict(CLOUDS, {"global": GraphCloud(graph.url, graph.url, graph.scope)}):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_TENANT_ID: graph.tenant_id,
                CONF_CLIENT_SECRET: graph.client_secret,
                CONF_CLOUD: "global",
            },
        )
        await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert CONF_URL not in graph_entry.data
    assert graph_entry.state is ConfigEntryState.LOADED


# --- calls ---


@pytest.mark.usefixtures("setup_graph")
async def test_ring_answer_by_action_then_caller_hangs_up(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph, caller_name="Ada Lovelace")
    state = state_of(hass, SENSOR)
    assert state.state == "ringing"
    assert state.attributes["call_id"] == call_id
    assert state.attributes["direction"] == "incoming"
    assert state.attributes["remote_name"] == "Ada Lovelace"
    assert state.attributes["remote_number"] is None  # a Teams user, not a phone
    assert state.attributes["started_at"] is not None
    assert state.attributes["active_calls"] == 1
    assert state_of(hass, BUTTON).state != STATE_UNAVAILABLE
    [incoming] = graph.deliveries
    assert (incoming.url, incoming.status) == (GRAPH_CALLBACK_URL, 200)

    response = await call_action(hass, "answer_call")
    assert response == {SENSOR: {"call_id": call_id, "state": "ringing"}}
    [answer] = commands(graph, "POST", "/answer")
    assert answer.path == f"/v1.0/communications/calls/{call_id}/answer"
    assert answer.body == {
        "callbackUri": GRAPH_CALLBACK_URL,
        "acceptedModalities": ["audio"],
        "mediaConfig": SERVICE_HOSTED,
    }
    await settle(hass, graph)
    assert [d.changes for d in graph.deliveries[1:]] == [
        [("updated", "establishing")],
        [("updated", "established")],
    ]
    assert {d.status for d in graph.deliveries} == {200}
    state = state_of(hass, SENSOR)
    assert state.state == "talking"
    assert state.attributes["answered_at"] is not None
    await assert_press_refused(hass, BUTTON, "no_call_to_answer")

    await graph.remote_hangup(call_id)
    await settle(hass, graph)
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "answered", "ended"]
    event = state_of(hass, EVENT)
    assert event.attributes["call_id"] == call_id
    assert event.attributes["remote_name"] == "Ada Lovelace"


@pytest.mark.usefixtures("setup_graph")
async def test_phone_caller_answered_by_button_then_hung_up(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph, caller_name=None, phone="+15557654321")
    assert state_of(hass, SENSOR).attributes["remote_number"] == "+15557654321"
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )
    [answer] = commands(graph, "POST", "/answer")
    assert answer.body["callbackUri"] == GRAPH_CALLBACK_URL
    await settle(hass, graph)
    assert graph.calls[call_id].state == "established"
    assert state_of(hass, SENSOR).state == "talking"

    response = await call_action(hass, "hangup_call")
    assert response == {SENSOR: {"call_id": call_id, "state": "talking"}}
    [hangup] = commands(graph, "DELETE")
    assert hangup.path == f"/v1.0/communications/calls/{call_id}"
    await settle(hass, graph)
    # Both in one POST: terminating, then the deleted call.
    assert graph.deliveries[-1].changes == [
        ("updated", "terminating"),
        ("deleted", "terminated"),
    ]
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "answered", "ended"]


@pytest.mark.parametrize(
    ("options", "body"),
    [
        pytest.param(
            {"accepted_modalities": ["audio", "video"]},
            {"acceptedModalities": ["audio", "video"], "mediaConfig": SERVICE_HOSTED},
            id="modalities",
        ),
        pytest.param(
            {
                "media_config": {
                    "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
                    "preFetchMedia": [{"uri": "https://cdn.example/hello.wav"}],
                }
            },
            {
                "acceptedModalities": ["audio"],
                "mediaConfig": {
                    "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
                    "preFetchMedia": [{"uri": "https://cdn.example/hello.wav"}],
                },
            },
            id="service-hosted prompts",
        ),
        pytest.param(
            {
                "accepted_modalities": ["audio"],
                "media_config": {
                    "@odata.type": "microsoft.graph.appHostedMediaConfig",
                    "blob": "<media configuration blob>",
                },
            },
            {
                "acceptedModalities": ["audio"],
                "mediaConfig": {
                    "@odata.type": "#microsoft.graph.appHostedMediaConfig",
                    "blob": "<media configuration blob>",
                },
            },
            id="app-hosted",
        ),
    ],
)
@pytest.mark.usefixtures("setup_graph")
async def test_answer_options_reach_graph(
    hass: HomeAssistant,
    graph: GraphSimulator,
    options: dict[str, Any],
    body: dict[str, Any],
) -> None:
    graph.permissions.add("Calls.AccessMedia.All")
    call_id = await ring(hass, graph)
    await call_action(hass, "answer_call", call_id=call_id, options=options)
    [answer] = commands(graph, "POST", "/answer")
    assert answer.body == {"callbackUri": GRAPH_CALLBACK_URL, **body}
    await settle(hass, graph)
    assert state_of(hass, SENSOR).state == "talking"


@pytest.mark.usefixtures("setup_graph")
async def test_answer_after_the_window_fails_fast(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    await ring(hass, graph)
    # Any time at all since the ring is past a zero-second window.
    with (
        patch(
            "custom_components.switchboard.providers.graph.client.ANSWER_WINDOW", 0.0
        ),
        pytest.raises(HomeAssistantError) as raised,
    ):
        await call_action(hass, "answer_call")
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "refused_now"
    assert "answer window has passed" in str(raised.value)
    # Nothing reached Graph: no doomed answer, and no look-up either.
    assert [r.path for r in graph.requests if r.path.startswith("/v1.0/")] == []
    assert state_of(hass, SENSOR).state == "ringing"


@pytest.mark.usefixtures("setup_graph")
async def test_unanswered_call_times_out_as_missed(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    await graph.advance(TEST_ANSWER_WINDOW)
    await settle(hass, graph)
    [timeout] = graph.deliveries[1:]
    assert timeout.changes == [("deleted", "terminated")]
    result = timeout.body["value"][0]["resourceData"]["resultInfo"]
    assert (result["code"], result["subcode"]) == (408, 1106)
    assert graph.calls[call_id].ended
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "missed"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"reason": "busy"}, "busy"),
        ({"reason": "Forbidden"}, "forbidden"),
        ({}, "none"),
    ],
)
@pytest.mark.usefixtures("setup_graph")
async def test_reject_is_ended_not_missed(
    hass: HomeAssistant, graph: GraphSimulator, options: dict[str, str], reason: str
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    response = await call_action(hass, "reject_call", options=options)
    assert response == {SENSOR: {"call_id": call_id, "state": "ringing"}}
    [reject] = commands(graph, "POST", "/reject")
    assert reject.body == {"reason": reason, "callbackUri": GRAPH_CALLBACK_URL}
    await settle(hass, graph)
    assert graph.calls[call_id].reject_reason == reason
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "ended"]


@pytest.mark.usefixtures("setup_graph")
async def test_hold_and_resume(hass: HomeAssistant, graph: GraphSimulator) -> None:
    call_id = await ring(hass, graph)
    await call_action(hass, "answer_call")
    await settle(hass, graph)
    await graph.remote_hold(call_id)
    await settle(hass, graph)
    assert state_of(hass, SENSOR).state == "on_hold"
    await graph.remote_resume(call_id)
    await settle(hass, graph)
    assert state_of(hass, SENSOR).state == "talking"


@pytest.mark.usefixtures("setup_graph")
async def test_answer_in_progress_is_not_answered_again(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    # Graph's establishing notification, before the call is established.
    await graph.notify([call_item(call_id, "updated", state="establishing")])
    await settle(hass, graph)
    assert state_of(hass, SENSOR).state == "ringing"
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "action_not_allowed"
    assert commands(graph, "POST") == []
    assert fired == ["incoming"]
    # The button knows too: the call's actions no longer hold an answer.
    await assert_press_refused(hass, BUTTON, "action_not_allowed")
    assert commands(graph, "POST") == []


@pytest.mark.parametrize(
    ("action", "options", "field"),
    [
        ("answer_call", {"accepted_modalities": []}, "accepted_modalities"),
        ("answer_call", {"accepted_modalities": ["smell"]}, "accepted_modalities"),
        ("answer_call", {"media_config": {"@odata.type": "x"}}, "media_config"),
        ("answer_call", {"media_config": "service"}, "media_config"),
        ("answer_call", {"client_state": "ZnJvbnQ="}, "client_state"),
        ("reject_call", {"reason": "maybe"}, "reason"),
        ("hangup_call", {"reason": "busy"}, "reason"),
    ],
)
@pytest.mark.usefixtures("setup_graph")
async def test_invalid_options_change_nothing(
    hass: HomeAssistant,
    graph: GraphSimulator,
    action: str,
    options: dict[str, Any],
    field: str,
) -> None:
    await ring(hass, graph)
    if action == "hangup_call":
        await call_action(hass, "answer_call")
        await settle(hass, graph)
    before = state_of(hass, SENSOR).state
    sent = len(graph.requests)
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, action, options=options)
    assert raised.value.translation_key == "invalid_option"
    assert str(raised.value).startswith(f"The option {field} is not valid")
    assert len(graph.requests) == sent
    assert state_of(hass, SENSOR).state == before


# --- notifications ---


@pytest.mark.parametrize(
    "token",
    [
        pytest.param({"forged": True}, id="forged signature"),
        pytest.param(
            {"claims": {"exp": int(time.time()) - 3600, "iat": 0, "nbf": 0}},
            id="expired",
        ),
        pytest.param({"claims": {"aud": "another-bot"}}, id="wrong audience"),
        pytest.param({"claims": {"iss": "https://evil.example"}}, id="wrong issuer"),
        pytest.param({"kid": "unknown-kid", "forged": True}, id="unknown key"),
        pytest.param({"algorithm": "HS256"}, id="shared-secret algorithm"),
    ],
)
@pytest.mark.usefixtures("setup_graph")
async def test_bad_notification_tokens_get_401_and_change_nothing(
    hass: HomeAssistant, graph: GraphSimulator, token: dict[str, Any]
) -> None:
    fired = record_events(hass, EVENT)
    token = dict(token)
    if token.pop("forged", False):
        token["key"] = graph.foreign_key()
    graph.forge_next(**token)
    await ring(hass, graph)
    assert [d.status for d in graph.deliveries] == [401]
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == []
    # A genuine notification is still taken.
    call_id = await ring(hass, graph)
    assert graph.deliveries[-1].status == 200
    state = state_of(hass, SENSOR)
    assert state.state == "ringing"
    assert (state.attributes["call_id"], state.attributes["active_calls"]) == (
        call_id,
        1,
    )


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        pytest.param(None, 401, id="no token"),
        pytest.param("Basic Ym90OnNlY3JldA==", 401, id="not bearer"),
        pytest.param("Bearer not.a.jwt", 401, id="malformed token"),
        pytest.param("genuine", 200, id="genuine token"),
    ],
)
@pytest.mark.usefixtures("setup_graph")
async def test_notification_posted_directly(
    hass: HomeAssistant,
    ha_client: HAClient,
    graph: GraphSimulator,
    authorization: str | None,
    status: int,
) -> None:
    headers = {}
    if authorization == "genuine":
        headers["Authorization"] = f"Bearer {graph.notification_token()}"
    elif authorization is not None:
        headers["Authorization"] = authorization
    body = envelope(
        call_item("posted", "created", state="incoming", direction="incoming")
    )
    response = await ha_client.post(
        f"/api/webhook/{GRAPH_WEBHOOK_ID}", json=body, headers=headers
    )
    assert response.status == status
    await hass.async_block_till_done()
    expected = "ringing" if status == 200 else "idle"
    assert state_of(hass, SENSOR).state == expected


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not json"),
        pytest.param(
            json_dumps(envelope({"changeType": "teleported"})).encode(),
            id="no readable notification",
        ),
    ],
)
@pytest.mark.usefixtures("setup_graph")
async def test_unreadable_notification_gets_400(
    hass: HomeAssistant, ha_client: HAClient, graph: GraphSimulator, body: bytes
) -> None:
    response = await ha_client.post(
        f"/api/webhook/{GRAPH_WEBHOOK_ID}",
        data=body,
        headers={
            "Authorization": f"Bearer {graph.notification_token()}",
            "Content-Type": "application/json",
        },
    )
    assert response.status == 400
    await hass.async_block_till_done()
    assert state_of(hass, SENSOR).state == "idle"


@pytest.mark.usefixtures("setup_graph")
async def test_signing_keys_unavailable_gets_503(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    # Microsoft's key endpoint is down: not the sender's fault, so not a 401.
    graph.fail_next(503, path_contains="OpenIdConfiguration")
    await ring(hass, graph)
    assert [d.status for d in graph.deliveries] == [503]
    assert state_of(hass, SENSOR).state == "idle"


@pytest.mark.usefixtures("setup_graph")
async def test_legacy_first_delivery_is_resent_in_graph_format(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    graph.legacy_first = True
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    assert [(d.legacy, d.status) for d in graph.deliveries] == [
        (True, 204),
        (False, 200),
    ]
    state = state_of(hass, SENSOR)
    assert state.state == "ringing"
    assert state.attributes["call_id"] == call_id
    assert fired == ["incoming"]


@pytest.mark.usefixtures("setup_graph")
async def test_several_notifications_in_one_post(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    graph.batch_notifications = True
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    await call_action(hass, "answer_call")
    await settle(hass, graph)
    assert graph.deliveries[-1].changes == [
        ("updated", "establishing"),
        ("updated", "established"),
    ]
    assert state_of(hass, SENSOR).state == "talking"

    # An operation's notification carries no call state; the hold beside it does.
    operation = {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": "deleted",
        "resourceUrl": f"/communications/calls/{call_id}/operations/op-1",
        "resourceData": {
            "@odata.type": "#microsoft.graph.playPromptOperation",
            "status": "completed",
        },
    }
    hold = call_item(call_id, "updated", state="hold", **{"@odata.etag": 'W/"9"'})
    await graph.notify([operation, hold])
    await settle(hass, graph)
    assert graph.deliveries[-1].status == 200
    assert state_of(hass, SENSOR).state == "on_hold"
    assert fired == ["incoming", "answered"]


@pytest.mark.usefixtures("setup_graph")
async def test_duplicated_notifications_count_once(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    graph.duplicate_notifications = True
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    await call_action(hass, "answer_call")
    await settle(hass, graph)
    await graph.remote_hangup(call_id)
    await settle(hass, graph)
    assert len(graph.deliveries) == 8
    assert fired == ["incoming", "answered", "ended"]
    assert state_of(hass, SENSOR).state == "idle"


@pytest.mark.usefixtures("setup_graph")
async def test_established_overtaking_establishing_stays_talking(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    await ring(hass, graph)
    graph.hold_notifications()
    await call_action(hass, "answer_call")
    await graph.release_notifications(reverse=True)
    await settle(hass, graph)
    assert [d.changes for d in graph.deliveries[1:]] == [
        [("updated", "established")],
        [("updated", "establishing")],
    ]
    assert state_of(hass, SENSOR).state == "talking"
    await assert_press_refused(hass, BUTTON, "no_call_to_answer")
    assert fired == ["incoming", "answered"]


# --- Graph's errors ---


@pytest.mark.parametrize(
    ("status", "count", "key", "needle"),
    [
        (403, 1, "permission_denied", "Calls.AccessMedia.All"),
        (404, 1, "call_ended", "The call has already ended"),
        (429, 3, "rate_limited", "limiting requests"),
        (500, 3, "cannot_connect", "generalException"),
        (503, 3, "cannot_connect", "serviceNotAvailable"),
    ],
)
@pytest.mark.usefixtures("setup_graph", "fast_retries")
async def test_graph_faults_are_translated_and_change_nothing(
    hass: HomeAssistant,
    graph: GraphSimulator,
    status: int,
    count: int,
    key: str,
    needle: str,
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    graph.fail_next(status, path_contains="/answer", retry_after=0.01, count=count)
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == key
    assert needle in str(raised.value)
    assert len(commands(graph, "POST", "/answer")) == count
    await settle(hass, graph)
    assert graph.calls[call_id].state == "incoming"
    assert state_of(hass, SENSOR).state == "ringing"
    assert state_of(hass, BUTTON).state != STATE_UNAVAILABLE
    assert fired == ["incoming"]
    if status == 404:
        # Home Assistant looked the call up: it still rings at Graph too.
        assert len(commands(graph, "GET")) == 1


@pytest.mark.usefixtures("setup_graph")
async def test_app_hosted_media_without_its_permission(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    await ring(hass, graph)
    media = {"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "<b>"}
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call", options={"media_config": media})
    assert raised.value.translation_key == "permission_denied"
    assert "Calls.AccessMedia.All" in str(raised.value)
    assert state_of(hass, SENSOR).state == "ringing"


@pytest.mark.usefixtures("setup_graph")
async def test_permission_denied_names_what_hanging_up_needs(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    await ring(hass, graph)
    await call_action(hass, "answer_call")
    await settle(hass, graph)
    graph.fail_next(403, path_contains="/communications/calls/")
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "hangup_call")
    assert raised.value.translation_key == "permission_denied"
    assert "Calls.Initiate.All" in str(raised.value)
    assert state_of(hass, SENSOR).state == "talking"


@pytest.mark.usefixtures("setup_graph", "fast_retries")
async def test_fractional_retry_after_is_waited_then_retried(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    call_id = await ring(hass, graph)
    graph.fail_next(429, path_contains="/answer", retry_after=0.05)
    await call_action(hass, "answer_call")
    [throttled, answered] = commands(graph, "POST", "/answer")
    assert throttled.body == answered.body
    await settle(hass, graph)
    assert graph.calls[call_id].state == "established"
    assert state_of(hass, SENSOR).state == "talking"


@pytest.mark.usefixtures("setup_graph")
async def test_revoked_access_token_is_renewed_once(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    await ring(hass, graph)
    graph.revoke_tokens()
    await call_action(hass, "answer_call")
    assert len(token_requests(graph)) == 2
    assert len(commands(graph, "POST", "/answer")) == 2
    await settle(hass, graph)
    assert state_of(hass, SENSOR).state == "talking"


async def test_refused_credentials_start_reauth(
    hass: HomeAssistant, graph: GraphSimulator, setup_graph: MockConfigEntry
) -> None:
    await ring(hass, graph)
    graph.fail_next(401, path_contains="/answer", count=2)
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == setup_graph.entry_id
    assert state_of(hass, SENSOR).state == "ringing"


@pytest.mark.usefixtures("setup_graph")
async def test_call_gone_but_the_look_up_fails(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    call_id = await ring(hass, graph)
    graph.fail_next(404, path_contains="/answer")
    graph.fail_next(503, path_contains=f"/calls/{call_id}")
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "call_ended"
    assert len(commands(graph, "GET")) == 1
    # Not known to be over: it still rings here.
    assert state_of(hass, SENSOR).state == "ringing"


@pytest.mark.usefixtures("setup_graph")
async def test_call_that_really_ended_is_ended_here(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    # The caller gives up, but that notification never reaches Home Assistant.
    graph.hold_notifications()
    await graph.remote_hangup(call_id)
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "call_ended"
    await hass.async_block_till_done()
    assert [r.path for r in commands(graph, "GET")] == [
        f"/v1.0/communications/calls/{call_id}"
    ]
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "missed"]
    # The late notification changes nothing.
    await graph.release_notifications()
    await settle(hass, graph)
    assert fired == ["incoming", "missed"]


# --- the https callback ---


@pytest.mark.parametrize(
    "external_url",
    [None, "http://ha.switchboard.invalid"],
    ids=["no external url", "http external url"],
)
async def test_no_https_url_raises_a_repair_issue_until_fixed(
    hass: HomeAssistant,
    ha_client: HAClient,
    graph: GraphSimulator,
    graph_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    external_url: str | None,
) -> None:
    await hass.config.async_update(external_url=external_url, internal_url=None)
    assert await hass.config_entries.async_setup(graph_entry.entry_id)
    await hass.async_block_till_done()
    assert graph_entry.state is ConfigEntryState.LOADED
    issue_id = f"no_https_url_{graph_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "no_https_url"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {"title": GRAPH_TITLE}

    # Calls reach Home Assistant through a front it does not know of, but
    # Microsoft could not be told where to send the answered call's updates.
    graph.deliver_via[GRAPH_HTTPS_ORIGIN] = str(ha_client.make_url("")).rstrip("/")
    await ring(hass, graph)
    assert state_of(hass, SENSOR).state == "ringing"
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "provider_error"
    assert "no https URL" in str(raised.value)
    assert commands(graph, "POST") == []

    await hass.config.async_update(external_url=GRAPH_HTTPS_ORIGIN)
    assert await hass.config_entries.async_reload(graph_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await ring(hass, graph)
    await call_action(hass, "answer_call")
    [answer] = commands(graph, "POST", "/answer")
    assert answer.body["callbackUri"] == GRAPH_CALLBACK_URL


@pytest.mark.usefixtures("ha_url")
async def test_repair_issue_goes_with_the_entry(
    hass: HomeAssistant,
    graph_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    assert await hass.config_entries.async_setup(graph_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(
        DOMAIN, f"no_https_url_{graph_entry.entry_id}"
    )
    assert await hass.config_entries.async_remove(graph_entry.entry_id)
    await hass.async_block_till_done()
    assert not [key for key in issue_registry.issues if key[0] == DOMAIN]


# --- diagnostics ---


async def test_diagnostics_hold_no_secret(
    hass: HomeAssistant, graph: GraphSimulator, setup_graph: MockConfigEntry
) -> None:
    await ring(hass, graph)
    diagnostics = await async_get_config_entry_diagnostics(hass, setup_graph)
    assert diagnostics["devices"] == [
        {
            "device_id": graph.client_id,
            "name": GRAPH_TITLE,
            "model": "Calling bot",
            "number": None,
        }
    ]
    assert len(diagnostics["calls"]) == 1
    text = json_dumps(diagnostics)
    for secret in (graph.client_secret, GRAPH_WEBHOOK_ID):
        assert secret not in text


@pytest.mark.usefixtures("setup_graph")
async def test_answered_calls_are_kept_alive(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    call_id = await ring(hass, graph)
    async_fire_time_changed(hass, dt_util.utcnow() + KEEP_ALIVE_INTERVAL * 1.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert commands(graph, "POST", "/keepAlive") == []  # only answered calls
    await call_action(hass, "answer_call")
    await settle(hass, graph)
    async_fire_time_changed(hass, dt_util.utcnow() + KEEP_ALIVE_INTERVAL * 2.2)
    await hass.async_block_till_done(wait_background_tasks=True)
    [keep_alive] = commands(graph, "POST", "/keepAlive")
    assert keep_alive.path == f"/v1.0/communications/calls/{call_id}/keepAlive"
    assert state_of(hass, SENSOR).state == "talking"

    # Graph no longer knows it (its end was lost): ended here too.
    graph.hold_notifications()
    await graph.remote_hangup(call_id)
    async_fire_time_changed(hass, dt_util.utcnow() + KEEP_ALIVE_INTERVAL * 3.3)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, SENSOR).state == "idle"


@pytest.mark.usefixtures("setup_graph")
async def test_keep_alive_failure_keeps_the_call(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    await ring(hass, graph)
    await call_action(hass, "answer_call")
    await settle(hass, graph)
    graph.fail_next(503, "/keepAlive")
    async_fire_time_changed(hass, dt_util.utcnow() + KEEP_ALIVE_INTERVAL * 1.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, SENSOR).state == "talking"


@pytest.mark.usefixtures("setup_graph")
async def test_lost_end_of_a_ringing_call_is_looked_up(
    hass: HomeAssistant, graph: GraphSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, graph)
    graph.hold_notifications()  # the "deleted" never arrives
    await graph.remote_hangup(call_id)
    graph.fail_next(500, f"/calls/{call_id}")
    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL * 1.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, SENSOR).state == "ringing"  # the look-up failed
    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL * 2.2)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "missed"]
