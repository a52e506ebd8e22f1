"""An action while the Genesys stream is down fails, and says why."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.switchboard.const import DOMAIN
from tests.fixtures.genesys import genesys_settle
from tests.helpers import press, state_of
from tests.simulators.genesys import GenesysSimulator

from .test_integration import DESK, DESK_BUTTON, call_action, ring, wait_for_state

OPERATIONS = "/me/calls/"


@pytest.mark.usefixtures("setup_genesys")
async def test_answer_while_the_stream_reconnects_is_an_error(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    call_id = await ring(hass, genesys)
    genesys.go_offline()
    await wait_for_state(hass, DESK, STATE_UNAVAILABLE)
    sent_before = len(genesys.requests)

    # Home Assistant would skip an unavailable entity without a word.
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "stream_down"
    assert raised.value.translation_placeholders == {"provider": "Genesys"}
    # So would it skip an unavailable button: the Answer button stays
    # pressable, and its press says the same.
    assert state_of(hass, DESK_BUTTON).state != STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass, DESK_BUTTON)
    assert raised.value.translation_key == "stream_down"
    assert not [
        request
        for request in genesys.requests[sent_before:]
        if OPERATIONS in request.path
    ]

    genesys.go_online()
    await wait_for_state(hass, DESK, "ringing")
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).attributes["call_id"] == call_id
    await call_action(hass, "answer_call")
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "talking"
