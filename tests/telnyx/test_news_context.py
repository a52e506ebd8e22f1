"""The states one provider event changes share one context, as one automation's do."""

from __future__ import annotations

from homeassistant.core import Event, HomeAssistant, callback
import pytest

from custom_components.switchboard.const import EVENT_CALL_ACTIVITY
from tests.helpers import EVENT, SENSOR, ring, state_of
from tests.simulators.telnyx import TelnyxSimulator

pytestmark = pytest.mark.usefixtures("setup_telnyx")

CALLER_SENSOR = "sensor.15550100001_caller"


async def test_one_ring_one_context(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    activity: list[Event] = []

    @callback
    def _heard(event: Event) -> None:
        activity.append(event)

    hass.bus.async_listen(EVENT_CALL_ACTIVITY, _heard)
    await ring(hass, telnyx)
    await ring(hass, telnyx, to="+15550100002")

    shown = [state_of(hass, entity) for entity in (SENSOR, CALLER_SENSOR, EVENT)]
    assert len({state.context.id for state in shown}) == 1
    [front_desk, kitchen] = activity
    assert front_desk.context.id == shown[0].context.id
    # Another event, another context.
    assert kitchen.context.id != front_desk.context.id
    assert state_of(hass, "sensor.15550100002_call").context.id == kitchen.context.id
