"""Genesys Web Services end to end: the flow, agent devices, calls, the CometD stream.

The real integration runs in Home Assistant against the GWS simulator over
real HTTP on loopback. There is no webhook: Home Assistant long-polls the
simulator's CometD server, so the stream itself is under test (drops, unknown
clients, stale CSRF tokens, refused credentials, a clean disconnect).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
import json
import logging
from typing import Any

from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_PASSWORD,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    STATE_UNAVAILABLE,
)
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import CONF_PROVIDER, DOMAIN
from custom_components.switchboard.diagnostics import (
    async_get_config_entry_diagnostics,
)
from tests import helpers
from tests.fixtures.genesys import (
    GENESYS,
    GENESYS_DESK,
    GENESYS_PUBLIC,
    GENESYS_TITLE,
    genesys_credentials,
    genesys_reconciled,
    genesys_settle,
)
from tests.helpers import assert_press_refused, start_flow, state_of, suggested
from tests.simulators.genesys import GenesysSimulator, SimRequest

DESK = "sensor.5005_call"
DESK_EVENT = "event.5005_call_activity"
DESK_BUTTON = "button.5005_answer"
DESK_HANG_UP = "button.5005_hang_up"
PUBLIC = "sensor.15550100777_call"
PUBLIC_EVENT = "event.15550100777_call_activity"
PUBLIC_BUTTON = "button.15550100777_answer"
PUBLIC_HANG_UP = "button.15550100777_hang_up"
GLANCE_SENSORS = ("caller", "missed_calls", "last_call")
# Genesys cannot reject, so no device has a Decline button.
DESK_ENTITIES = (
    DESK,
    *(f"sensor.5005_{key}" for key in GLANCE_SENSORS),
    DESK_EVENT,
    DESK_BUTTON,
    DESK_HANG_UP,
)
PUBLIC_ENTITIES = (
    PUBLIC,
    *(f"sensor.15550100777_{key}" for key in GLANCE_SENSORS),
    PUBLIC_EVENT,
    PUBLIC_BUTTON,
    PUBLIC_HANG_UP,
)
ENTITIES = DESK_ENTITIES + PUBLIC_ENTITIES
# What goes unavailable with the stream: all but the buttons, which stay
# pressable to say why they cannot act.
SHOWING_ENTITIES = tuple(e for e in ENTITIES if not e.startswith("button."))
CALLER = "+15557654321"
UNREACHABLE = "http://127.0.0.1:9"
STREAM_LOST = "Lost the event stream of Kristi Sippola"
STREAM_BACK = "The event stream of Kristi Sippola is back"
STREAM_TASK = f"switchboard stream {GENESYS_TITLE}"
# Safety net of wait_for_state(): far longer than anything here should take.
WAIT_LIMIT = 5.0


# --- helpers ---


async def wait_for_state(hass: HomeAssistant, entity_id: str, wanted: str) -> None:
    """Wait until the entity is in state `wanted` (the stream's own pace)."""
    reached = asyncio.Event()

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.state == wanted:
            reached.set()

    unsubscribe = async_track_state_change_event(hass, entity_id, _changed)
    try:
        if state_of(hass, entity_id).state != wanted:
            async with asyncio.timeout(WAIT_LIMIT):
                await reached.wait()
    finally:
        unsubscribe()


def record_events(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Collect the event types an event entity fires from now on.

    An event entity shows its last event again when it becomes available
    after the stream's return: that is not a new event (its time is the old
    one), so it is not collected.
    """
    fired: list[str] = []
    last: list[str] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is None or "event_type" not in state.attributes:
            return
        if last and state.state == last[-1]:
            return
        last.append(state.state)
        fired.append(state.attributes["event_type"])

    async_track_state_change_event(hass, entity_id, _changed)
    return fired


async def ring(
    hass: HomeAssistant, genesys: GenesysSimulator, number: str = GENESYS_DESK
) -> str:
    """Ring one of the agent's devices and wait for Home Assistant to know."""
    call_id = genesys.ring(genesys.device_id(number), caller=CALLER)
    await genesys_settle(hass, genesys)
    return call_id


call_action = partial(helpers.call_action, entity_id=DESK)


async def press(hass: HomeAssistant, entity_id: str = DESK_BUTTON) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def operations(genesys: GenesysSimulator) -> list[SimRequest]:
    """The call operations GWS received (accepted or not)."""
    return [
        request
        for request in genesys.requests
        if request.method == "POST" and request.path.startswith("/api/v2/me/calls/")
    ]


def call_lists(genesys: GenesysSimulator) -> list[SimRequest]:
    """The reads of the agent's calls (the reconciliation)."""
    return [
        request
        for request in genesys.requests
        if request.method == "GET" and request.path == "/api/v2/me/calls"
    ]


def cometd(genesys: GenesysSimulator, channel: str) -> list[SimRequest]:
    return [request for request in genesys.requests if channel in request.channels]


def logged(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == level and text in record.getMessage()
    ]


def stream_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name() == STREAM_TASK and not task.done()
    ]


async def reloaded(
    hass: HomeAssistant, genesys: GenesysSimulator, handshakes: int
) -> None:
    """Wait until a reloaded entry's new stream is up, its devices idle again.

    The simulator counts a client as connected while any connect is pending,
    so the new handshake is awaited, then the devices' return.
    """
    await genesys.wait_for_connected(handshakes=handshakes + 1)
    await wait_for_state(hass, DESK, "idle")
    await genesys_reconciled(hass)


async def go_down_and_back(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    while_down: Callable[[], object],
) -> None:
    """Take GWS offline until the devices are unavailable, then bring it back.

    The CometD session expires meanwhile, so whatever `while_down` does on the
    server never reaches Home Assistant as a message: only re-reading the calls
    after the return can tell.
    """
    genesys.go_offline()
    await wait_for_state(hass, DESK, STATE_UNAVAILABLE)
    genesys.expire_clients()
    while_down()
    handshakes = genesys.handshakes
    genesys.go_online()
    await genesys.wait_for_connected(handshakes=handshakes + 1)
    await genesys_settle(hass, genesys)


# --- config flow ---


@pytest.mark.usefixtures("genesys_fast")
async def test_flow_adds_the_agent(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    result = await start_flow(hass, "genesys")
    assert result["data_schema"] is not None
    fields = {str(key): key for key in result["data_schema"].schema}
    assert list(fields) == [CONF_URL, CONF_USERNAME, CONF_PASSWORD, CONF_VERIFY_SSL]
    assert fields[CONF_VERIFY_SSL].default() is True

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == GENESYS_TITLE
    entry = result["result"]
    assert entry.unique_id == genesys.user_id
    assert dict(result["data"]) == {
        CONF_URL: genesys.base_url,
        CONF_USERNAME: "ksippo",
        CONF_PASSWORD: genesys.password,
        CONF_VERIFY_SSL: True,
        CONF_PROVIDER: "genesys",
    }
    await genesys.wait_for_connected()
    await genesys_reconciled(hass)
    assert entry.state is ConfigEntryState.LOADED
    # The agent's contact-centre session is not ours: nobody was logged in.
    assert genesys.contact_center_operations == []

    await ring(hass, genesys)
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.parametrize(
    ("changes", "fault", "errors"),
    [
        pytest.param(
            {CONF_PASSWORD: "not-the-password"},
            None,
            {"base": "invalid_auth"},
            id="wrong password",
        ),
        pytest.param(
            {CONF_USERNAME: "someone"}, None, {"base": "invalid_auth"}, id="wrong user"
        ),
        pytest.param(
            {CONF_URL: UNREACHABLE}, None, {"base": "cannot_connect"}, id="unreachable"
        ),
        pytest.param({}, 503, {"base": "cannot_connect"}, id="gws down"),
        pytest.param({}, 403, {"base": "unknown"}, id="gws forbids"),
        # /gws/api/v2/me is not found: the URL is not Web Services' own.
        pytest.param({"path": "/gws"}, None, {"base": "wrong_api_url"}, id="not gws"),
    ],
)
@pytest.mark.usefixtures("genesys_fast")
async def test_flow_errors_then_recovery(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    changes: dict[str, str],
    fault: int | None,
    errors: dict[str, str],
) -> None:
    result = await start_flow(hass, "genesys")
    if fault is not None:
        genesys.fail_next(fault, path_contains="/api/v2/me")
    entered = genesys_credentials(genesys)
    if path := changes.pop("path", None):
        entered[CONF_URL] += path
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**entered, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "genesys"
    assert result["errors"] == errors
    # What was entered is shown back, but never the password.
    shown = suggested(result)
    assert shown[CONF_URL] == changes.get(CONF_URL, entered[CONF_URL])
    assert shown[CONF_USERNAME] == changes.get(CONF_USERNAME, "ksippo")
    assert CONF_PASSWORD not in shown

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await genesys.wait_for_connected()
    await genesys_reconciled(hass)


@pytest.mark.usefixtures("genesys_fast")
async def test_flow_with_a_self_signed_certificate(
    hass: HomeAssistant, genesys_tls: GenesysSimulator
) -> None:
    assert genesys_tls.base_url.startswith("https://")
    result = await start_flow(hass, "genesys")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys_tls)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_certificate"}
    assert genesys_tls.requests == []  # refused before anything was sent

    # The agent trusts this server: turn the check off.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys_tls, verify_ssl=False)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_VERIFY_SSL] is False
    # REST and CometD both go over TLS with the check off.
    await genesys_tls.wait_for_connected()
    await genesys_reconciled(hass)
    assert result["result"].state is ConfigEntryState.LOADED
    await ring(hass, genesys_tls)
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("genesys_entry")
async def test_agent_already_configured(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    result = await start_flow(hass, "genesys")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_new_password_after_the_stream_refused_the_old_one(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    setup_genesys: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [stream] = stream_tasks()
    genesys.password = "N3w-password"  # changed in Genesys
    genesys.drop_connections()  # the stream comes back with the old password
    # ... and gives up: no polling on with a password GWS refuses.
    await asyncio.wait([stream])
    await hass.async_block_till_done()
    assert all(
        state_of(hass, entity).state == STATE_UNAVAILABLE for entity in SHOWING_ENTITIES
    )
    assert len(logged(caplog, logging.WARNING, STREAM_LOST)) == 1

    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["step_id"] == "reauth_genesys"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "still-the-old-one"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["title"] == GENESYS_TITLE
    assert placeholders["username"] == "ksippo"
    assert result["data_schema"] is not None
    assert [str(key) for key in result["data_schema"].schema] == [CONF_PASSWORD]

    handshakes = genesys.handshakes
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "N3w-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert setup_genesys.data[CONF_PASSWORD] == "N3w-password"
    assert setup_genesys.data[CONF_URL] == genesys.base_url
    assert setup_genesys.state is ConfigEntryState.LOADED
    await reloaded(hass, genesys, handshakes)


async def test_reauth_as_another_agent_is_refused(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    genesys.user_id = (
        "0d1f2a3b4c5d6e7f8091a2b3c4d5e6f7"  # the name now means someone else
    )
    result = await setup_genesys.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_genesys"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: genesys.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert setup_genesys.unique_id == "63630bbebf4840d7a0bffd6312bc29ff"


async def test_reconfigure(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    result = await setup_genesys.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_genesys"
    # The examples in the URL help are placeholders: hassfest refuses URLs in
    # translations.
    assert result["description_placeholders"] == {
        "title": GENESYS_TITLE,
        "example_url": "https://gws.example.com",
        "example_context_url": "https://gws.example.com/cloud-web",
        "api_path": "/api/v2",
        # For the error of a URL that does not answer as Web Services.
        "api_name": "Genesys Web Services",
        "api_url_example": "https://gws.example.com",
    }
    # The current settings are shown; the password never is.
    assert suggested(result) == {
        CONF_URL: genesys.base_url,
        CONF_USERNAME: "ksippo",
        CONF_VERIFY_SSL: True,
    }

    entered = genesys_credentials(genesys, url=f"{genesys.base_url}/api/v2/")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**entered, CONF_URL: UNREACHABLE}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert suggested(result)[CONF_URL] == UNREACHABLE
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**entered, CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    handshakes = genesys.handshakes
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert setup_genesys.data[CONF_URL] == f"{genesys.base_url}/api/v2/"
    assert setup_genesys.state is ConfigEntryState.LOADED
    # Reloaded on the new address, which names the same server.
    await reloaded(hass, genesys, handshakes)
    await ring(hass, genesys)
    assert state_of(hass, DESK).state == "ringing"


async def test_reconfigure_to_another_agent_is_refused(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    result = await setup_genesys.start_reconfigure_flow(hass)
    genesys.user_id = "0d1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert setup_genesys.data[CONF_URL] == genesys.base_url


# --- set-up ---


async def test_every_agent_device_is_a_device(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    setup_genesys: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    devices = {
        device.name: device
        for device in dr.async_entries_for_config_entry(
            device_registry, setup_genesys.entry_id
        )
    }
    assert {name: device.model for name, device in devices.items()} == {
        GENESYS_DESK: "Agent device",
        GENESYS_PUBLIC: "Agent device (public network)",
    }
    desk_id = genesys.device_id(GENESYS_DESK)
    desk = devices[GENESYS_DESK]
    assert desk.manufacturer == "Genesys"
    assert desk.identifiers == {(DOMAIN, f"{genesys.user_id}_{desk_id}")}
    for name, entities in (
        (GENESYS_DESK, DESK_ENTITIES),
        (GENESYS_PUBLIC, PUBLIC_ENTITIES),
    ):
        on_device = er.async_entries_for_device(entity_registry, devices[name].id)
        assert sorted(entity.entity_id for entity in on_device) == sorted(entities)
    assert state_of(hass, DESK).state == "idle"
    assert state_of(hass, PUBLIC).state == "idle"
    assert state_of(hass, DESK_EVENT).state != STATE_UNAVAILABLE
    # Nothing rings: the button is there, and says so when pressed.
    refused = await assert_press_refused(hass, DESK_BUTTON, "no_call_to_answer")
    assert refused["device"] == GENESYS_DESK
    # Set-up read the agent, the devices and the calls, and follows both channels.
    assert [(r.path, r.query) for r in genesys.requests if r.method == "GET"][:3] == [
        ("/api/v2/me", {}),
        ("/api/v2/me/devices", {"fields": "*"}),
        ("/api/v2/me/calls", {"fields": "*"}),
    ]
    subscribed = {
        message["subscription"]
        for request in cometd(genesys, "/meta/subscribe")
        for message in request.body
    }
    assert subscribed == {"/v2/me/calls", "/v2/me/devices"}


@pytest.mark.usefixtures("genesys_fast")
async def test_call_ringing_before_set_up_shows(
    hass: HomeAssistant, genesys: GenesysSimulator, genesys_entry: MockConfigEntry
) -> None:
    call_id = genesys.ring(genesys.device_id(GENESYS_DESK), caller=CALLER)
    assert await hass.config_entries.async_setup(genesys_entry.entry_id)
    await genesys.wait_for_connected()
    await genesys_reconciled(hass)
    desk = state_of(hass, DESK)
    assert desk.state == "ringing"
    assert desk.attributes["call_id"] == call_id
    assert desk.attributes["remote_number"] == CALLER
    assert state_of(hass, DESK_BUTTON).state != STATE_UNAVAILABLE


@pytest.mark.parametrize(
    ("fault", "path"),
    [
        pytest.param(503, "/api/v2/me", id="user"),
        pytest.param(500, "/api/v2/me/devices", id="devices"),
    ],
)
@pytest.mark.usefixtures("genesys_fast")
async def test_gws_down_retries_set_up(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    genesys_entry: MockConfigEntry,
    fault: int,
    path: str,
) -> None:
    genesys.fail_next(fault, path_contains=path)
    assert not await hass.config_entries.async_setup(genesys_entry.entry_id)
    assert genesys_entry.state is ConfigEntryState.SETUP_RETRY
    assert cometd(genesys, "/meta/handshake") == []


@pytest.mark.usefixtures("genesys_fast")
async def test_first_read_of_the_calls_failing_is_made_up_by_the_stream(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    genesys_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call_id = genesys.ring(genesys.device_id(GENESYS_DESK), caller=CALLER)
    genesys.fail_next(503, path_contains="/api/v2/me/calls")
    assert await hass.config_entries.async_setup(genesys_entry.entry_id)
    assert genesys_entry.state is ConfigEntryState.LOADED
    assert len(logged(caplog, logging.WARNING, "Could not re-read the calls")) == 1
    # Once the stream is up, the calls are read again.
    await genesys.wait_for_connected()
    await genesys_reconciled(hass)
    assert len(call_lists(genesys)) == 2
    assert state_of(hass, DESK).state == "ringing"
    assert state_of(hass, DESK).attributes["call_id"] == call_id


@pytest.mark.usefixtures("genesys_fast")
async def test_unreachable_gws_retries_set_up(
    hass: HomeAssistant, genesys: GenesysSimulator, genesys_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        genesys_entry, data={**genesys_entry.data, CONF_URL: UNREACHABLE}
    )
    assert not await hass.config_entries.async_setup(genesys_entry.entry_id)
    assert genesys_entry.state is ConfigEntryState.SETUP_RETRY
    assert genesys.requests == []


@pytest.mark.usefixtures("genesys_fast")
async def test_devices_gws_forbids_are_a_set_up_error(
    hass: HomeAssistant, genesys: GenesysSimulator, genesys_entry: MockConfigEntry
) -> None:
    genesys.fail_next(403, status_code=5, path_contains="/api/v2/me/devices")
    assert not await hass.config_entries.async_setup(genesys_entry.entry_id)
    assert genesys_entry.state is ConfigEntryState.SETUP_ERROR
    assert genesys_entry.reason is not None
    assert "does not have permission" in genesys_entry.reason


@pytest.mark.usefixtures("genesys_fast")
async def test_wrong_password_asks_to_sign_in_again(
    hass: HomeAssistant, genesys: GenesysSimulator, genesys_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        genesys_entry, data={**genesys_entry.data, CONF_PASSWORD: "expired"}
    )
    assert not await hass.config_entries.async_setup(genesys_entry.entry_id)
    assert genesys_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert [flow["step_id"] for flow in flows] == ["reauth_genesys"]
    assert cometd(genesys, "/meta/handshake") == []


async def test_unload_leaves_the_cometd_session_and_the_agent_logged_in(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    setup_genesys: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert len(stream_tasks()) == 1
    assert await hass.config_entries.async_unload(setup_genesys.entry_id)
    await hass.async_block_till_done()
    assert setup_genesys.state is ConfigEntryState.NOT_LOADED
    # The stream said goodbye and stopped; nothing keeps polling.
    assert len(cometd(genesys, "/meta/disconnect")) == 1
    await genesys.wait_for_disconnected()
    assert stream_tasks() == []
    before = len(genesys.requests)
    await asyncio.sleep(0.1)  # a stream still running would poll again at once
    assert len(genesys.requests) == before
    # Leaving is not logging the agent out of the contact centre.
    assert genesys.contact_center_operations == []
    assert not [
        r for r in genesys.requests if r.path == "/api/v2/me" and r.method == "POST"
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert state_of(hass, DESK).state == STATE_UNAVAILABLE


async def test_remove_leaves_gws_as_it_was(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_remove(setup_genesys.entry_id)
    await hass.async_block_till_done()
    assert hass.config_entries.async_get_entry(setup_genesys.entry_id) is None
    # The stream said goodbye; there is nothing to unregister (no webhook),
    # and the agent stays logged in.
    assert [r for r in genesys.requests if r.method == "POST"][-1].channels == [
        "/meta/disconnect"
    ]
    await genesys.wait_for_disconnected()
    assert genesys.contact_center_operations == []


async def test_device_gone_from_gws_loses_its_device(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    setup_genesys: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    del genesys.devices[genesys.device_id(GENESYS_PUBLIC)]
    handshakes = genesys.handshakes
    assert await hass.config_entries.async_reload(setup_genesys.entry_id)
    await reloaded(hass, genesys, handshakes)
    devices = dr.async_entries_for_config_entry(device_registry, setup_genesys.entry_id)
    assert [device.name for device in devices] == [GENESYS_DESK]
    assert state_of(hass, DESK).state == "idle"


async def test_diagnostics_hold_no_secret(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    call_id = await ring(hass, genesys)
    genesys.calls[call_id].user_data["CustomerAccount"] = "4711-0815"
    genesys.answer(call_id)
    await genesys_settle(hass, genesys)
    diagnostics = await async_get_config_entry_diagnostics(hass, setup_genesys)
    text = json.dumps(diagnostics, default=str)
    assert genesys.password not in text
    assert "ksippo" not in text
    assert "4711-0815" not in text  # attached data may name the customer
    assert diagnostics["entry"][CONF_PASSWORD] == "**REDACTED**"
    assert diagnostics["entry"][CONF_URL] == genesys.base_url
    assert [device["name"] for device in diagnostics["devices"]] == [
        GENESYS_DESK,
        GENESYS_PUBLIC,
    ]
    [call] = diagnostics["calls"]
    assert call["call_id"] == call_id
    assert call["state"] == "talking"
    assert call["actions"] == ["hangup", "hold", "send_digits", "transfer"]


# --- calls ---


@pytest.mark.usefixtures("setup_genesys")
async def test_ring_answer_by_button_hold_retrieve_and_caller_hangs_up(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, genesys)
    desk = state_of(hass, DESK)
    assert desk.state == "ringing"
    assert desk.attributes["call_id"] == call_id
    assert desk.attributes["direction"] == "incoming"
    assert desk.attributes["remote_number"] == CALLER
    assert desk.attributes["local_number"] == GENESYS_DESK
    assert desk.attributes["active_calls"] == 1
    assert state_of(hass, PUBLIC).state == "idle"
    assert state_of(hass, DESK_BUTTON).state != STATE_UNAVAILABLE
    event = state_of(hass, DESK_EVENT)
    assert event.attributes["event_type"] == "incoming"
    assert event.attributes["call_id"] == call_id
    assert event.attributes["remote_number"] == CALLER

    await press(hass)
    await genesys_settle(hass, genesys)
    [answer] = operations(genesys)
    assert answer.path == f"/api/v2/me/calls/{call_id}"
    assert answer.body == {"operationName": "Answer"}
    assert answer.headers["X-CSRF-TOKEN"] in genesys._sessions.values()
    assert genesys.calls[call_id].state == "Established"
    desk = state_of(hass, DESK)
    assert desk.state == "talking"
    assert desk.attributes["answered_at"] is not None
    await assert_press_refused(hass, DESK_BUTTON, "no_call_to_answer")

    genesys.hold(call_id)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "on_hold"
    genesys.retrieve(call_id)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "talking"

    genesys.remote_hangup(call_id)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "idle"
    assert state_of(hass, DESK).attributes["active_calls"] == 0
    assert fired == ["incoming", "answered", "ended"]


@pytest.mark.usefixtures("setup_genesys")
async def test_answer_by_action_then_hang_up(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, genesys)
    response = await call_action(hass, "answer_call")
    assert response == {DESK: {"call_id": call_id, "state": "ringing"}}
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "talking"

    response = await call_action(hass, "hangup_call")
    assert response == {DESK: {"call_id": call_id, "state": "talking"}}
    await genesys_settle(hass, genesys)
    assert [request.body for request in operations(genesys)] == [
        {"operationName": "Answer"},
        {"operationName": "Hangup"},
    ]
    assert all("X-CSRF-TOKEN" in request.headers for request in operations(genesys))
    assert genesys.calls[call_id].state == "Released"
    assert state_of(hass, DESK).state == "idle"
    assert fired == ["incoming", "answered", "ended"]


@pytest.mark.usefixtures("setup_genesys")
async def test_answered_on_the_phone_shows_talking(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, genesys)
    genesys.answer(call_id)  # the agent picks up the handset
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "talking"
    assert operations(genesys) == []
    genesys.remote_hangup(call_id)
    await genesys_settle(hass, genesys)
    assert fired == ["incoming", "answered", "ended"]


@pytest.mark.usefixtures("setup_genesys")
async def test_unanswered_call_is_missed(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, genesys)
    genesys.remote_hangup(call_id)  # the caller gives up
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "idle"
    await assert_press_refused(hass, DESK_HANG_UP, "no_call_to_hangup")
    assert fired == ["incoming", "missed"]
    assert state_of(hass, DESK_EVENT).attributes["call_id"] == call_id


@pytest.mark.usefixtures("setup_genesys")
async def test_reject_is_not_a_genesys_action(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    await ring(hass, genesys)
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, "reject_call")
    assert raised.value.translation_key == "action_not_supported"
    assert raised.value.translation_placeholders == {
        "action": "reject",
        "provider": "Genesys",
    }
    assert operations(genesys) == []
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_genesys")
async def test_public_network_device_cannot_answer(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    fired = record_events(hass, PUBLIC_EVENT)
    call_id = await ring(hass, genesys, GENESYS_PUBLIC)
    public = state_of(hass, PUBLIC)
    assert public.state == "ringing"
    assert public.attributes["call_id"] == call_id
    assert public.attributes["local_number"] == GENESYS_PUBLIC
    assert state_of(hass, DESK).state == "idle"
    # GWS offers no Answer there: the button and the action say why.
    await assert_press_refused(hass, PUBLIC_BUTTON, "action_not_allowed")
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, "answer_call", entity_id=PUBLIC)
    assert raised.value.translation_key == "action_not_allowed"
    assert operations(genesys) == []
    assert state_of(hass, PUBLIC).state == "ringing"
    # Picked up on the phone itself, it is followed like any other call.
    genesys.answer(call_id)
    await genesys_settle(hass, genesys)
    assert state_of(hass, PUBLIC).state == "talking"
    assert fired == ["incoming", "answered"]


@pytest.mark.usefixtures("setup_genesys")
async def test_stale_csrf_token_is_renewed_and_the_answer_goes_through(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    call_id = await ring(hass, genesys)
    genesys.invalidate_csrf()  # the HTTP session expired at GWS
    await press(hass)
    await genesys_settle(hass, genesys)
    refused, accepted = operations(genesys)
    assert refused.body == accepted.body == {"operationName": "Answer"}
    assert refused.headers["X-CSRF-TOKEN"] != accepted.headers["X-CSRF-TOKEN"]
    assert accepted.headers["X-CSRF-TOKEN"] in genesys._sessions.values()
    assert genesys.calls[call_id].state == "Established"
    assert state_of(hass, DESK).state == "talking"
    # The stream carries on with the new session.
    genesys.remote_hangup(call_id)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "idle"


@pytest.mark.parametrize(
    ("status", "status_code", "key", "tries"),
    [
        pytest.param(500, 4, "cannot_connect", 3, id="internal error"),
        pytest.param(503, None, "cannot_connect", 3, id="proxy 503"),
        pytest.param(403, 5, "permission_denied", 1, id="no permission"),
        pytest.param(400, 2, "refused_now", 1, id="invalid for state"),
        pytest.param(401, 20, "invalid_auth", 1, id="not authenticated"),
    ],
)
@pytest.mark.usefixtures("setup_genesys", "fast_retries")
async def test_faults_are_translated_and_change_nothing(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    status: int,
    status_code: int | None,
    key: str,
    tries: int,
) -> None:
    call_id = await ring(hass, genesys)
    # Outages are retried (3 tries in all); refusals are final.
    genesys.fail_next(
        status, status_code=status_code, path_contains="/me/calls/", count=tries
    )
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == key
    await genesys_settle(hass, genesys)
    assert len(operations(genesys)) == tries
    assert genesys.calls[call_id].state == "Ringing"
    assert genesys.calls[call_id].operations == []
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_genesys", "fast_retries")
async def test_slow_replies_time_out_and_change_nothing(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call_id = await ring(hass, genesys)
    monkeypatch.setattr(f"{GENESYS}.REQUEST_TIMEOUT", 0.1)
    # Each try is answered long after the client gave up (and then refused,
    # so that no late answer is carried out behind the test's back).
    genesys.slow_next(0.5, path_contains="/me/calls/", count=3)
    genesys.fail_next(503, path_contains="/me/calls/", count=3)
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "cannot_connect"
    assert len(operations(genesys)) == 3
    assert genesys.calls[call_id].operations == []
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_genesys", "fast_retries")
async def test_slow_answer_that_went_through_counts_as_done(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call_id = await ring(hass, genesys)
    monkeypatch.setattr(f"{GENESYS}.REQUEST_TIMEOUT", 0.1)
    genesys.slow_next(0.3, path_contains="/me/calls/")
    # The first try times out but is carried out late; whichever of it and
    # the retry comes second is refused (no longer ringing), and the call is
    # answered all the same, once.
    response = await call_action(hass, "answer_call")
    assert response is not None
    assert response[DESK]["call_id"] == call_id
    await genesys_settle(hass, genesys)
    assert len(operations(genesys)) == 2
    assert genesys.calls[call_id].operations == [{"operationName": "Answer"}]
    assert state_of(hass, DESK).state == "talking"


@pytest.mark.usefixtures("setup_genesys")
async def test_refused_password_on_answer_asks_to_sign_in_again(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    await ring(hass, genesys)
    genesys.password = "changed-in-genesys"
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


# --- the stream ---


@pytest.mark.usefixtures("setup_genesys")
async def test_stream_drop_and_return_reconciles_what_changed_meanwhile(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fired = record_events(hass, DESK_EVENT)
    gone = await ring(hass, genesys)
    lists = len(call_lists(genesys))
    news: list[str] = []

    def meanwhile() -> None:
        # Every entity of the agent that shows a call is unavailable; the
        # drop is logged once.
        assert all(
            state_of(hass, entity).state == STATE_UNAVAILABLE
            for entity in SHOWING_ENTITIES
        )
        assert len(logged(caplog, logging.WARNING, STREAM_LOST)) == 1
        assert logged(caplog, logging.INFO, STREAM_BACK) == []
        # The caller gives up and another rings, while nothing reaches us.
        genesys.remote_hangup(gone)
        news.append(
            genesys.ring(genesys.device_id(GENESYS_DESK), caller="+15550001111")
        )

    await go_down_and_back(hass, genesys, meanwhile)

    # Back: the calls were read again, and show what happened while down.
    assert len(call_lists(genesys)) == lists + 1
    desk = state_of(hass, DESK)
    assert desk.state == "ringing"
    assert desk.attributes["call_id"] == news[0]
    assert desk.attributes["remote_number"] == "+15550001111"
    assert desk.attributes["active_calls"] == 1
    assert state_of(hass, DESK_BUTTON).state != STATE_UNAVAILABLE
    assert state_of(hass, PUBLIC).state == "idle"
    # The second call rang, the first was missed (in the order of the re-read).
    assert fired == ["incoming", "incoming", "missed"]
    # Logged once each way, however many reconnection attempts it took.
    assert len(logged(caplog, logging.WARNING, STREAM_LOST)) == 1
    assert len(logged(caplog, logging.INFO, STREAM_BACK)) == 1


@pytest.mark.usefixtures("setup_genesys")
async def test_call_that_ended_while_down_is_idle(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    call_id = await ring(hass, genesys)
    await press(hass)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "talking"
    await go_down_and_back(hass, genesys, lambda: genesys.remote_hangup(call_id))
    assert state_of(hass, DESK).state == "idle"
    assert state_of(hass, DESK).attributes["active_calls"] == 0


@pytest.mark.usefixtures("setup_genesys")
async def test_dropped_connection_resumes_the_session(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lists = len(call_lists(genesys))
    genesys.drop_connections()  # a proxy cuts the long-poll
    call_id = genesys.ring(genesys.device_id(GENESYS_DESK), caller=CALLER)
    await genesys.wait_for_connected()
    await genesys_settle(hass, genesys)
    # The same CometD session goes on (no new handshake), what it queued
    # arrives, and the calls are read again to be sure.
    assert genesys.handshakes == 1
    assert len(call_lists(genesys)) == lists + 1
    assert state_of(hass, DESK).state == "ringing"
    assert state_of(hass, DESK).attributes["call_id"] == call_id
    assert len(logged(caplog, logging.WARNING, STREAM_LOST)) == 1
    assert len(logged(caplog, logging.INFO, STREAM_BACK)) == 1


@pytest.mark.usefixtures("setup_genesys")
async def test_unknown_client_handshakes_again(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    genesys.expire_clients()  # GWS forgot the CometD session: 402 on the next connect
    await genesys.wait_for_connected(handshakes=2)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "idle"
    call_id = await ring(hass, genesys)
    assert state_of(hass, DESK).state == "ringing"
    assert state_of(hass, DESK).attributes["call_id"] == call_id


@pytest.mark.usefixtures("setup_genesys")
async def test_duplicated_and_reordered_messages(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    lists = len(call_lists(genesys))
    genesys.duplicate_next()
    first = await ring(hass, genesys)  # its message arrives twice
    genesys.remote_hangup(first)
    await genesys_settle(hass, genesys)
    assert fired == ["incoming", "missed"]

    genesys.hold_messages()
    second = genesys.ring(genesys.device_id(GENESYS_DESK), caller=CALLER)
    genesys.answer(second)
    genesys.release_messages(reverse=True)  # "answered" before "ringing"
    await genesys_settle(hass, genesys)
    # A call answered before it was seen ringing: the calls are read again,
    # and the late ring cannot make it ring again.
    assert len(call_lists(genesys)) == lists + 1
    desk = state_of(hass, DESK)
    assert desk.state == "talking"
    assert desk.attributes["call_id"] == second
    assert desk.attributes["remote_number"] == CALLER
    assert fired == ["incoming", "missed", "answered"]
