"""An event touches only its own device, and writes only what changed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.entity import SwitchboardEntity
from tests.const import KITCHEN
from tests.helpers import BUTTON, EVENT, SENSOR, call_action, ring, settle
from tests.simulators.telnyx import TelnyxSimulator

CALLER = "sensor.15550100001_caller"
LAST_CALL = "sensor.15550100001_last_call"
MISSED_CALLS = "sensor.15550100001_missed_calls"


@pytest.fixture
def writes() -> Generator[Counter[str]]:
    """Count the state writes of every Switchboard entity, by entity id."""
    counted: Counter[str] = Counter()
    original = SwitchboardEntity.async_write_ha_state

    def _count(entity: SwitchboardEntity, *args: Any, **kwargs: Any) -> None:
        counted[entity.entity_id] += 1
        original(entity, *args, **kwargs)

    with patch.object(SwitchboardEntity, "async_write_ha_state", _count):
        yield counted


async def test_a_ring_writes_only_its_own_device(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    writes: Counter[str],
) -> None:
    del setup_telnyx
    await ring(hass, telnyx)
    # The call and caller sensors show the ringing call and the event fires;
    # the buttons, the missed and last call show nothing that changed, and the
    # kitchen line hears nothing of it.
    assert writes == Counter({SENSOR: 1, CALLER: 1, EVENT: 1})


async def test_an_entity_writes_only_when_what_it_shows_changed(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    writes: Counter[str],
) -> None:
    del setup_telnyx
    await ring(hass, telnyx)
    await call_action(hass, "answer_call", entity_id=SENSOR)
    await settle(hass, telnyx)
    # Talking: the call and caller sensors changed and the event fired.
    assert writes == Counter({SENSOR: 2, CALLER: 2, EVENT: 2})
    await call_action(hass, "hangup_call", entity_id=SENSOR)
    await settle(hass, telnyx)
    # Idle again. The buttons stayed available all along (they say why when
    # there is nothing to act on), so no call stage is worth a write of theirs.
    # The call ended: it is the last call now; it was not missed.
    assert writes == Counter({SENSOR: 3, CALLER: 3, EVENT: 3, LAST_CALL: 1})
    assert writes[BUTTON] == writes[MISSED_CALLS] == 0


async def test_a_call_on_another_number_leaves_this_one_alone(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    writes: Counter[str],
) -> None:
    del setup_telnyx
    await ring(hass, telnyx, to=KITCHEN)
    assert writes[SENSOR] == writes[CALLER] == writes[EVENT] == writes[BUTTON] == 0
    assert sum(writes.values()) == 3  # the kitchen's call and caller, its event
