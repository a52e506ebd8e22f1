"""A webhook that no longer reaches Home Assistant: unavailable, and a repair issue."""

from __future__ import annotations

from homeassistant.const import CONF_WEBHOOK_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.switchboard.const import DOMAIN
from custom_components.switchboard.webhook import REGISTRATION_CHECK_INTERVAL
from tests.helpers import BUTTON, SENSOR, call_action, press, ring, state_of
from tests.simulators.telnyx import TelnyxSimulator
from tests.simulators.webex import WebexSimulator

ELSEWHERE = "https://elsewhere.example.com/hooks/telnyx"


async def next_check(hass: HomeAssistant, times: int = 1) -> None:
    """Let the periodic check of the webhook registration run."""
    async_fire_time_changed(
        hass, dt_util.utcnow() + REGISTRATION_CHECK_INTERVAL * (times + 0.1)
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def issue(
    hass: HomeAssistant, key: str, entry: MockConfigEntry
) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{entry.entry_id}")


async def test_a_telnyx_application_pointed_elsewhere_is_left_to_the_user(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
) -> None:
    application = telnyx.applications[application_id]
    ours = application["webhook_event_url"]
    assert ours.endswith(setup_telnyx.data[CONF_WEBHOOK_ID])
    await ring(hass, telnyx)
    application["webhook_event_url"] = ELSEWHERE
    await next_check(hass)

    # The user's setting is theirs: left as it is, and said how to fix.
    assert application["webhook_event_url"] == ELSEWHERE
    assert state_of(hass, SENSOR).state == STATE_UNAVAILABLE
    raised = issue(hass, "webhook_elsewhere", setup_telnyx)
    assert raised is not None
    assert raised.translation_placeholders == {
        "title": setup_telnyx.title,
        "provider": "Telnyx",
        "webhook_url": ours,
    }
    with pytest.raises(HomeAssistantError) as refused:
        await call_action(hass, "answer_call", entity_id=SENSOR)
    assert refused.value.translation_key == "webhook_elsewhere"
    # The Answer button stays pressable, so its press is not skipped unsaid.
    assert state_of(hass, BUTTON).state != STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError) as refused:
        await press(hass, BUTTON)
    assert refused.value.translation_key == "webhook_elsewhere"
    assert not [r for r in telnyx.requests if r.path.endswith("/actions/answer")]

    application["webhook_event_url"] = ours
    await next_check(hass, times=2)
    assert state_of(hass, SENSOR).state == "ringing"
    assert issue(hass, "webhook_elsewhere", setup_telnyx) is None


async def test_a_failed_check_changes_nothing(
    hass: HomeAssistant, telnyx: TelnyxSimulator, setup_telnyx: MockConfigEntry
) -> None:
    telnyx.fail_next(503, path_contains="/call_control_applications", times=5)
    await next_check(hass)
    assert state_of(hass, SENSOR).state == "idle"
    assert issue(hass, "webhook_elsewhere", setup_telnyx) is None


@pytest.mark.usefixtures("fast_retries")
async def test_a_webex_webhook_turned_off_for_good_makes_the_devices_unavailable(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    desk = "sensor.cisco_8865_kitchen_call"
    [hook] = [h for h in webex.webhooks.values() if h["status"] == "active"]
    webex.disable_webhook(hook["id"])
    # Webex refuses to turn it back on (PUT /webhooks/{id}).
    webex.fail_next(403, "/webhooks/", count=1, message="Not allowed")
    await next_check(hass)
    assert state_of(hass, desk).state == STATE_UNAVAILABLE
    raised = issue(hass, "webhook_off", setup_webex)
    assert raised is not None
    assert raised.translation_placeholders is not None
    assert raised.translation_placeholders["provider"] == "Cisco Webex"

    await next_check(hass, times=2)
    assert webex.webhooks[hook["id"]]["status"] == "active"
    assert state_of(hass, desk).state == "idle"
    assert issue(hass, "webhook_off", setup_webex) is None
