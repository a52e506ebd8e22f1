"""A provider refusing an answer: a translated error, and nothing changes."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.switchboard.const import DOMAIN
from tests.helpers import record_events, state_of

from .harness import Fault, Harness
from .providers import FAULT_CASES


@pytest.mark.parametrize(("harness", "fault"), FAULT_CASES, indirect=["harness"])
async def test_refused_answer_is_translated_and_changes_nothing(
    hass: HomeAssistant, harness: Harness, fault: Fault
) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    key = harness.fail_next_answer(fault)
    with pytest.raises(HomeAssistantError) as raised:
        await harness.act("answer_call")
    # The provider failed, not the user's input.
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == key
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == call_id
    assert state_of(hass, harness.button).state != STATE_UNAVAILABLE
    assert fired == ["incoming"]
