"""Webex Calling end to end: sign-in, webhooks, calls on every endpoint, faults."""

from __future__ import annotations

from functools import partial
from http import HTTPStatus
import json
from pathlib import Path
import re
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import ATTR_ENTITY_ID, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.switchboard.application_credentials import (
    async_get_description_placeholders,
)
from custom_components.switchboard.const import (
    CONF_PROVIDER,
    CONF_REGISTERED_URL,
    CONF_WEBHOOK_SECRET,
)
from custom_components.switchboard.hub import RECONCILE_INTERVAL
from custom_components.switchboard.webhook import REGISTRATION_CHECK_INTERVAL
from tests.fixtures.webex import (
    WEBEX,
    WEBEX_DESK_PHONE,
    WEBEX_PERSON,
    WEBEX_WEBHOOK_ID,
)
from tests.helpers import (
    HAClient,
    assert_press_refused,
    call_action,
    record_events,
    start_flow,
    state_of,
)
from tests.simulators.webex import WebexSimulator, sign

DESK = "sensor.cisco_8865_kitchen_call"
DESK_EVENT = "event.cisco_8865_kitchen_call_activity"
DESK_BUTTON = "button.cisco_8865_kitchen_answer"
APP = "sensor.webex_desktop_application_call"
APP_BUTTON = "button.webex_desktop_application_answer"
CALLER = "+15557654321"
TRANSLATIONS = (
    Path(__file__).parent.parent.parent
    / "custom_components"
    / "switchboard"
    / "translations"
    / "en.json"
)


async def settle(hass: HomeAssistant, webex: WebexSimulator) -> None:
    await webex.wait_for_webhooks()
    await hass.async_block_till_done(wait_background_tasks=True)


async def ring(hass: HomeAssistant, webex: WebexSimulator) -> str:
    call_id = await webex.ring(CALLER, "Ada Lovelace")
    await settle(hass, webex)
    return call_id


act = partial(call_action, entity_id=DESK)


async def start_sign_in(hass: HomeAssistant, webex: WebexSimulator) -> ConfigFlowResult:
    """Pick Webex and submit its API URL: the browser goes to Webex next."""
    result = await start_flow(hass, "webex")
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: webex.base_url}
    )


def commands(webex: WebexSimulator, name: str) -> list[dict[str, Any]]:
    return [
        request.body
        for request in webex.requests
        if request.method == "POST" and request.path.endswith(f"/calls/{name}")
    ]


def our_webhooks(webex: WebexSimulator) -> list[dict[str, Any]]:
    return [
        hook
        for hook in webex.webhooks.values()
        if hook["name"].startswith("Home Assistant Switchboard")
    ]


# --- sign-in ---


async def authorize(
    hass: HomeAssistant,
    ha_client: HAClient,
    webex: WebexSimulator,
    result: ConfigFlowResult,
) -> ConfigFlowResult:
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = result["url"]
    query = parse_qs(urlsplit(url).query)
    assert query["scope"][0].split() == [
        "spark:calls_read",
        "spark:calls_write",
        "spark:telephony_config_read",
        "spark:people_read",
    ]
    # The user signs in at Webex; Webex sends the browser back with a code.
    async with ha_client.session.get(url, allow_redirects=False) as response:
        assert response.status == HTTPStatus.FOUND
        back = parse_qs(urlsplit(response.headers["Location"]).query)
    callback = await ha_client.get(
        "/auth/external/callback",
        params={"code": back["code"][0], "state": back["state"][0]},
    )
    assert callback.status == HTTPStatus.OK
    return await hass.config_entries.flow.async_configure(result["flow_id"])


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_creates_the_person_entry(
    hass: HomeAssistant, ha_client: HAClient, ha_url: str, webex: WebexSimulator
) -> None:
    del ha_url
    result = await start_sign_in(hass, webex)
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == WEBEX_PERSON
    entry = result["result"]
    assert entry.unique_id == webex.person["id"]
    assert entry.data[CONF_PROVIDER] == "webex"
    assert entry.data[CONF_URL] == webex.base_url
    assert len(entry.data[CONF_WEBHOOK_SECRET]) >= 43  # 32 random bytes
    assert entry.data["token"]["refresh_token"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    [hook] = our_webhooks(webex)
    assert hook["resource"] == "telephony_calls"
    assert hook["event"] == "all"
    assert hook["secret"] == entry.data[CONF_WEBHOOK_SECRET]
    assert hook["targetUrl"].endswith(f"/api/webhook/{entry.data['webhook_id']}")


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_twice_is_refused(
    hass: HomeAssistant,
    ha_client: HAClient,
    webex: WebexSimulator,
    webex_entry: MockConfigEntry,
) -> None:
    del webex_entry
    result = await start_sign_in(hass, webex)
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_when_webex_cannot_say_who(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    result = await start_sign_in(hass, webex)
    webex.fail_next(503, "/people/me", count=5)
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


@pytest.mark.usefixtures("webex", "current_request_with_host")
async def test_sign_in_needs_application_credentials(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    del ha_client
    result = await start_sign_in(hass, webex)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


@pytest.mark.usefixtures("current_request_with_host")
async def test_reauth_signs_the_same_person_in_again(
    hass: HomeAssistant,
    ha_client: HAClient,
    webex: WebexSimulator,
    setup_webex: MockConfigEntry,
) -> None:
    old_token = setup_webex.data["token"]["access_token"]
    result = await setup_webex.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_webex"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert setup_webex.data["token"]["access_token"] != old_token
    assert setup_webex.data[CONF_WEBHOOK_SECRET]  # kept


@pytest.mark.usefixtures("current_request_with_host")
async def test_reauth_as_someone_else_is_refused(
    hass: HomeAssistant,
    ha_client: HAClient,
    webex: WebexSimulator,
    setup_webex: MockConfigEntry,
) -> None:
    webex.person["id"] = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9zb21lb25lLWVsc2U"
    result = await setup_webex.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def test_reconfigure_without_credentials(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    result = await setup_webex.start_reconfigure_flow(hass)
    hass.config_entries.async_update_entry(
        setup_webex, data={**setup_webex.data, "auth_implementation": "gone"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: webex.base_url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


async def test_reconfigure_changes_the_api_url(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    result = await setup_webex.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_webex"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://127.0.0.1:9/v1"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: webex.base_url + "/"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert setup_webex.data[CONF_URL] == webex.base_url + "/"


# --- set-up and webhook registration ---


async def test_every_endpoint_is_a_device(
    hass: HomeAssistant, setup_webex: MockConfigEntry
) -> None:
    del setup_webex
    assert state_of(hass, DESK).state == "idle"
    assert state_of(hass, APP).state == "idle"
    refused = await assert_press_refused(hass, DESK_BUTTON, "no_call_to_answer")
    assert refused["device"] == "Cisco 8865 (Kitchen)"


async def test_disabled_webhook_is_reactivated_and_calls_reread(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    [hook] = our_webhooks(webex)
    webex.disable_webhook(hook["id"])
    call_id = await webex.ring(CALLER)  # Webex does not deliver to it now
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "idle"

    assert await hass.config_entries.async_reload(setup_webex.entry_id)
    await hass.async_block_till_done()
    [hook] = our_webhooks(webex)
    assert hook["status"] == "active"
    # Reconciled at start: the call that rang meanwhile shows.
    assert state_of(hass, DESK).state == "ringing"
    assert hass.states.get(DESK).attributes["call_id"] == call_id  # type: ignore[union-attr]


async def test_webhook_follows_a_new_url(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    [hook] = our_webhooks(webex)
    webex.webhooks[hook["id"]]["targetUrl"] = "https://old.example/api/webhook/x"
    assert await hass.config_entries.async_reload(setup_webex.entry_id)
    await hass.async_block_till_done()
    [hook] = our_webhooks(webex)
    assert hook["targetUrl"] == setup_webex.data[CONF_REGISTERED_URL]
    assert hook["targetUrl"].endswith(WEBEX_WEBHOOK_ID)


async def test_remove_deletes_our_webhook(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    webex.add_webhook("Someone else's", "https://elsewhere.example/hook")
    assert len(our_webhooks(webex)) == 1
    assert await hass.config_entries.async_remove(setup_webex.entry_id)
    await hass.async_block_till_done()
    assert our_webhooks(webex) == []
    assert [hook["name"] for hook in webex.webhooks.values()] == ["Someone else's"]


async def test_removed_credentials_ask_to_sign_in_again(
    hass: HomeAssistant, webex: WebexSimulator, webex_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        webex_entry, data={**webex_entry.data, "auth_implementation": "gone"}
    )
    assert not await hass.config_entries.async_setup(webex_entry.entry_id)
    assert webex_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    # Removing it still works; the webhook at Webex is left for the user.
    webex.add_webhook(
        f"Home Assistant Switchboard {webex_entry.entry_id}", "https://x.example/h"
    )
    hass.config_entries.async_update_entry(
        webex_entry,
        data={**webex_entry.data, CONF_REGISTERED_URL: "https://x.example/h"},
    )
    assert await hass.config_entries.async_remove(webex_entry.entry_id)
    assert len(our_webhooks(webex)) == 1


async def test_expired_token_is_refreshed(
    hass: HomeAssistant, webex: WebexSimulator, webex_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        webex_entry,
        data={
            **webex_entry.data,
            "token": {**webex_entry.data["token"], "expires_at": 0},
        },
    )
    webex.expire_access_tokens()
    assert await hass.config_entries.async_setup(webex_entry.entry_id)
    assert webex_entry.state is ConfigEntryState.LOADED
    assert webex_entry.data["token"]["expires_at"] > 0


# --- calls ---


@pytest.mark.usefixtures("setup_webex")
async def test_ring_shows_on_every_endpoint_and_answers_on_the_chosen_one(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, webex)
    assert state_of(hass, DESK).state == "ringing"
    assert state_of(hass, APP).state == "ringing"
    desk = hass.states.get(DESK)
    assert desk is not None
    assert desk.attributes["remote_number"] == CALLER
    assert desk.attributes["remote_name"] == "Ada Lovelace"
    assert desk.attributes["direction"] == "incoming"

    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: DESK_BUTTON}, blocking=True
    )
    await settle(hass, webex)
    [answer] = commands(webex, "answer")
    assert answer == {
        "callId": call_id,
        "endpointId": webex.endpoint_id(WEBEX_DESK_PHONE),
    }
    assert state_of(hass, DESK).state == "talking"
    assert state_of(hass, APP).state == "idle"

    await webex.remote_hangup(call_id)
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "idle"
    assert fired == ["incoming", "answered", "ended"]


@pytest.mark.usefixtures("setup_webex")
async def test_answered_elsewhere_is_not_missed(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, webex)
    await webex.answer_elsewhere(call_id)
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "idle"
    assert fired == ["incoming", "ended"]


@pytest.mark.usefixtures("setup_webex")
async def test_caller_giving_up_is_missed(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, webex)
    await webex.remote_hangup(call_id)
    await settle(hass, webex)
    assert fired == ["incoming", "missed"]


@pytest.mark.usefixtures("setup_webex")
async def test_reject_busy_and_hang_up(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    call_id = await ring(hass, webex)
    response = await act(hass, "reject_call", options={"action": "busy"})
    assert response == {DESK: {"call_id": call_id, "state": "ringing"}}
    await settle(hass, webex)
    assert commands(webex, "reject") == [{"callId": call_id, "action": "busy"}]
    assert state_of(hass, DESK).state == "idle"
    assert fired == ["incoming", "ended"]

    second = await ring(hass, webex)
    await act(hass, "answer_call", entity_id=APP)
    await settle(hass, webex)
    assert state_of(hass, APP).state == "talking"
    await act(hass, "hangup_call", entity_id=APP)
    await settle(hass, webex)
    assert commands(webex, "hangup") == [{"callId": second}]
    assert state_of(hass, APP).state == "idle"


@pytest.mark.usefixtures("setup_webex")
async def test_invalid_reject_option_changes_nothing(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    await ring(hass, webex)
    with pytest.raises(ServiceValidationError) as raised:
        await act(hass, "reject_call", options={"action": "voicemail"})
    assert raised.value.translation_key == "invalid_option"
    assert commands(webex, "reject") == []
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_webex", "fast_retries")
@pytest.mark.parametrize(
    ("status", "retry_after", "key"),
    [
        (500, None, "cannot_connect"),
        (503, None, "cannot_connect"),
        (429, 30, "rate_limited"),
        (423, 30, "rate_limited"),
        (403, None, "permission_denied"),
        (400, None, "refused_now"),
    ],
)
async def test_faults_are_translated_and_change_nothing(
    hass: HomeAssistant,
    webex: WebexSimulator,
    status: int,
    retry_after: int | None,
    key: str,
) -> None:
    await ring(hass, webex)
    webex.fail_next(status, "/calls/answer", retry_after=retry_after, count=3)
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "answer_call")
    assert raised.value.translation_key == key
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_webex", "fast_retries")
async def test_short_rate_limit_is_waited_out(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    await ring(hass, webex)
    webex.fail_next(429, "/calls/answer", retry_after=0.01)
    await act(hass, "answer_call")
    await settle(hass, webex)
    assert len(commands(webex, "answer")) == 2
    assert state_of(hass, DESK).state == "talking"


@pytest.mark.usefixtures("setup_webex")
async def test_call_gone_at_webex_ends_here(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    call_id = await ring(hass, webex)
    webex.drop_next_webhook()
    await webex.remote_hangup(call_id)
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "ringing"  # the end never arrived
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "answer_call")
    assert raised.value.translation_key == "call_ended"
    await hass.async_block_till_done()
    assert state_of(hass, DESK).state == "idle"


@pytest.mark.usefixtures("setup_webex")
async def test_revoked_token_is_refreshed_then_reauth(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    await ring(hass, webex)
    webex.expire_access_tokens()  # Webex refuses the token before its time
    await act(hass, "answer_call")
    assert setup_webex.data["token"]["access_token"] in webex.tokens
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "talking"

    webex.expire_access_tokens()
    webex.revoke_refresh_tokens()
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "hangup_call")
    assert raised.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert state_of(hass, DESK).state == "talking"


# --- webhook deliveries ---


@pytest.mark.usefixtures("setup_webex")
async def test_forged_signature_is_refused(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    body = json.dumps(
        {
            "id": "Y2lz",
            "resource": "telephony_calls",
            "event": "created",
            "data": {
                "callId": "Y2lzY29zcGFyazovL3VzL0NBTEwvZm9yZ2Vk",
                "eventType": "received",
                "eventTimestamp": "2026-11-21T10:00:00.000Z",
                "state": "alerting",
                "personality": "terminator",
                "remoteParty": {"number": CALLER, "callType": "external"},
            },
        }
    ).encode()
    for headers in (
        {"X-Spark-Signature": sign("not-our-secret", body)},
        {"X-Spark-Signature": "00"},
        {},
    ):
        response = await ha_client.post(
            f"/api/webhook/{WEBEX_WEBHOOK_ID}", data=body, headers=headers
        )
        assert response.status == HTTPStatus.UNAUTHORIZED
    await hass.async_block_till_done()
    assert state_of(hass, DESK).state == "idle"


@pytest.mark.usefixtures("setup_webex")
async def test_duplicate_and_reordered_deliveries(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    fired = record_events(hass, DESK_EVENT)
    webex.duplicate_webhooks = True
    call_id = await ring(hass, webex)
    webex.hold_webhooks()
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_DESK_PHONE))
    await webex.remote_hangup(call_id)
    await webex.release_webhooks(reverse=True)
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "idle"
    assert fired == ["incoming", "ended"]


@pytest.mark.usefixtures("setup_webex")
async def test_missed_begin_is_reconciled(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    webex.drop_next_webhook()  # the "received" event is lost
    call_id = await webex.ring(CALLER, "Ada Lovelace")
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_DESK_PHONE))
    await settle(hass, webex)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert any(
        request.method == "GET" and request.path.endswith("/telephony/calls")
        for request in webex.requests[-3:]
    )
    desk = hass.states.get(DESK)
    assert desk is not None
    assert desk.state == "talking"
    assert desk.attributes["remote_number"] == CALLER


@pytest.mark.usefixtures("setup_webex")
async def test_missed_end_is_reconciled_while_calls_are_live(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    call_id = await ring(hass, webex)
    webex.drop_next_webhook()
    await webex.remote_hangup(call_id)
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "ringing"
    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL * 1.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, DESK).state == "idle"
    # Idle entries do not poll.
    before = len(webex.requests)
    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL * 2.2)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(webex.requests) == before


@pytest.mark.usefixtures("setup_webex")
async def test_reconcile_failure_keeps_the_state(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    call_id = await ring(hass, webex)
    webex.drop_next_webhook()
    await webex.remote_hangup(call_id)
    await settle(hass, webex)
    webex.fail_next(500, "/telephony/calls")
    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL * 1.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_refused_by_webex(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    result = await start_sign_in(hass, webex)
    webex.fail_next(401, "/people/me")
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"


async def test_credentials_dialog_says_where_they_come_from(
    hass: HomeAssistant,
) -> None:
    placeholders = await async_get_description_placeholders(hass)
    description = json.loads(TRANSLATIONS.read_text())["application_credentials"][
        "description"
    ]
    assert set(placeholders) == set(re.findall(r"\{(\w+)\}", description))
    assert placeholders["redirect_url"] == "https://my.home-assistant.io/redirect/oauth"


@pytest.mark.usefixtures("setup_webex", "fast_retries")
async def test_token_endpoint_down_is_a_connection_error(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    await ring(hass, webex)
    hass.config_entries.async_update_entry(
        setup_webex,
        data={
            **setup_webex.data,
            "token": {**setup_webex.data["token"], "expires_at": 0},
        },
    )
    webex.fail_next(500, "/access_token", count=3)
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "answer_call")
    assert raised.value.translation_key == "cannot_connect"
    assert commands(webex, "answer") == []
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_webex")
async def test_unknown_end_stays_when_webex_cannot_be_asked(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    call_id = await ring(hass, webex)
    webex.drop_next_webhook()
    await webex.remote_hangup(call_id)
    await settle(hass, webex)
    webex.fail_next(503, f"/telephony/calls/{call_id}")
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "answer_call")
    assert raised.value.translation_key == "call_ended"
    await hass.async_block_till_done()
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_webex", "fast_retries")
async def test_answer_that_timed_out_but_went_through_succeeds(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    await ring(hass, webex)
    webex.slow_next(0.5, path_contains="/calls/answer")
    with patch(f"{WEBEX}.REQUEST_TIMEOUT", 0.2):
        response = await act(hass, "answer_call")
    assert response is not None
    # Webex answered the first try; the retry was refused as "not alerting".
    assert len(commands(webex, "answer")) == 2
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "talking"


@pytest.mark.usefixtures("setup_webex")
async def test_disabled_webhook_is_reactivated_while_running(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    [hook] = our_webhooks(webex)
    webex.disable_webhook(hook["id"])
    call_id = await webex.ring(CALLER)
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "idle"
    async_fire_time_changed(hass, dt_util.utcnow() + REGISTRATION_CHECK_INTERVAL * 1.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    [hook] = our_webhooks(webex)
    assert hook["status"] == "active"
    assert hass.states.get(DESK).attributes["call_id"] == call_id  # type: ignore[union-attr]
    webex.fail_next(500, "/webhooks", count=2)
    async_fire_time_changed(hass, dt_util.utcnow() + REGISTRATION_CHECK_INTERVAL * 2.2)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, DESK).state == "ringing"


@pytest.mark.usefixtures("setup_webex", "fast_retries")
async def test_answer_retry_refused_because_the_call_is_answered_succeeds(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    call_id = await ring(hass, webex)
    webex.hold_webhooks()
    # Answered at Webex (the first try was carried out but its reply lost, say)
    # while Home Assistant still shows it ringing.
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_DESK_PHONE))
    webex.fail_next(503, "/calls/answer")
    response = await act(hass, "answer_call")
    # Webex's own account of the call, read after the refused retry.
    assert response == {DESK: {"call_id": call_id, "state": "talking"}}
    assert state_of(hass, DESK).state == "talking"
    await webex.release_webhooks()
    await settle(hass, webex)
    assert state_of(hass, DESK).state == "talking"


@pytest.mark.usefixtures("setup_webex")
async def test_answer_refused_at_the_first_try_is_an_error(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    call_id = await ring(hass, webex)
    webex.hold_webhooks()
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_DESK_PHONE))
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "answer_call")
    assert raised.value.translation_key == "refused_now"
    await webex.release_webhooks()
