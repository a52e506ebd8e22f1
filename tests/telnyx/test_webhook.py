"""Webhook deliveries: checked before anything is read, and applied once."""

from __future__ import annotations

import time

from aiohttp import ClientSession
from homeassistant.components import webhook
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.util.aiohttp import MockRequest
import pytest

from custom_components.switchboard.const import DOMAIN
from custom_components.switchboard.webhook import MAX_BODY
from tests.const import CALLER, FRONT_DESK, WEBHOOK_ID
from tests.helpers import (
    EVENT,
    SENSOR,
    HAClient,
    post_webhook,
    record_events,
    ring,
    settle,
    webhook_body,
)
from tests.simulators.telnyx import TelnyxSimulator

pytestmark = pytest.mark.usefixtures("setup_telnyx")


def initiated(application_id: str, event_id: str = "evt-1") -> bytes:
    return webhook_body(
        "call.initiated",
        {
            "call_control_id": "v3:posted",
            "connection_id": application_id,
            "from": CALLER,
            "to": FRONT_DESK,
            "direction": "incoming",
            "state": "parked",
        },
        event_id,
    )


async def test_signed_delivery_is_accepted(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    application_id: str,
) -> None:
    response = await post_webhook(ha_client, telnyx, initiated(application_id))
    assert response.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR).state == "ringing"  # type: ignore[union-attr]


async def test_a_delivery_through_a_cloudhook_is_handled(
    hass: HomeAssistant, telnyx: TelnyxSimulator, application_id: str
) -> None:
    """Home Assistant Cloud hands a cloudhook's delivery over as a MockRequest."""
    body = initiated(application_id)
    sent_at = str(int(time.time()))
    request = MockRequest(
        content=body,
        mock_source="cloud",
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Telnyx-Timestamp": sent_at,
            "Telnyx-Signature-Ed25519": telnyx.sign(sent_at, body),
        },
    )
    response = await webhook.async_handle_webhook(hass, WEBHOOK_ID, request)
    assert response.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR).state == "ringing"  # type: ignore[union-attr]


async def test_a_delivery_too_large_for_a_call_event_is_refused(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = await post_webhook(ha_client, telnyx, b"{" + b" " * MAX_BODY + b"}")
    assert response.status == 413
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert "Traceback" not in caplog.text


async def test_events_we_do_not_use_are_acknowledged(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
) -> None:
    body = webhook_body("call.speak.ended", {"call_control_id": "v3:x"}, "evt-2")
    response = await post_webhook(ha_client, telnyx, body)
    assert response.status == 200
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        pytest.param("forged", 401, id="forged signature"),
        pytest.param("stale", 401, id="timestamp outside the replay window"),
        pytest.param("malformed", 400, id="malformed json"),
        pytest.param("unknown", 400, id="unknown event type"),
    ],
)
async def test_bad_deliveries_are_refused_and_change_nothing(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    application_id: str,
    tamper: str,
    status: int,
) -> None:
    fired = record_events(hass, EVENT)
    body = initiated(application_id)
    if tamper == "forged":
        response = await post_webhook(
            ha_client, telnyx, body, signature=telnyx.sign("1", body)
        )
    elif tamper == "stale":
        response = await post_webhook(
            ha_client, telnyx, body, timestamp=int(time.time()) - 301
        )
    elif tamper == "malformed":
        response = await post_webhook(ha_client, telnyx, body[:-5])
    else:
        body = body.replace(b"call.initiated", b"call.teleported")
        response = await post_webhook(ha_client, telnyx, body)
    assert response.status == status
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == []


async def test_only_post_is_accepted(ha_client: HAClient) -> None:
    response = await ha_client.get("/api/webhook/" + "0123456789abcdef" * 4)
    assert response.status == 405


async def test_stale_deliveries_from_telnyx_are_retried_then_dropped(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    telnyx.timestamp_offset = -400
    await telnyx.ring(FRONT_DESK, CALLER)
    await settle(hass, telnyx)
    assert [d.status for d in telnyx.deliveries] == [401, 401, 401, 401]
    assert [d.attempt for d in telnyx.deliveries] == [1, 2, 3, 4]
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]


async def test_duplicated_webhooks_count_once(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    telnyx.duplicate_webhooks = True
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    await hass.services.async_call(
        DOMAIN, "answer_call", {ATTR_ENTITY_ID: SENSOR}, blocking=True
    )
    await settle(hass, telnyx)
    await telnyx.remote_hangup(call_id)
    await settle(hass, telnyx)
    assert len(telnyx.deliveries) == 6
    assert fired == ["incoming", "answered", "ended"]
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]


async def test_hangup_overtaking_answered_ends_the_call(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    telnyx.hold_webhooks()
    await hass.services.async_call(
        DOMAIN, "answer_call", {ATTR_ENTITY_ID: SENSOR}, blocking=True
    )
    await telnyx.remote_hangup(call_id)
    await telnyx.release_webhooks(reverse=True)
    await settle(hass, telnyx)
    assert [d.event_type for d in telnyx.deliveries][-2:] == [
        "call.hangup",
        "call.answered",
    ]
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == ["incoming", "ended"]


async def test_answered_overtaking_initiated(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    telnyx.hold_webhooks()
    call_id = await telnyx.ring(FRONT_DESK, CALLER, caller_id_name="Ada Lovelace")
    # Answered by another Telnyx client while Home Assistant heard nothing yet.
    async with ClientSession() as session:
        response = await session.post(
            f"{telnyx.base_url}/calls/{call_id}/actions/answer",
            json={},
            headers={"Authorization": f"Bearer {telnyx.api_key}"},
        )
        assert response.status == 200
    await telnyx.release_webhooks(reverse=True)
    await settle(hass, telnyx)
    assert [d.event_type for d in telnyx.deliveries] == [
        "call.answered",
        "call.initiated",
    ]
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "talking"
    assert state.attributes["remote_number"] == CALLER
    assert state.attributes["remote_name"] == "Ada Lovelace"
    assert fired == ["answered"]
