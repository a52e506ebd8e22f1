"""Speaking to Assist, and reading what the simulators were told."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
)
import pytest

from tests.const import CALLER, KITCHEN
from tests.contract.harness import CALLER_NAME, Harness
from tests.contract.providers.genesys import GenesysHarness
from tests.contract.providers.graph import GraphHarness
from tests.contract.providers.telnyx import TelnyxHarness
from tests.contract.providers.webex import WebexHarness
from tests.helpers import KITCHEN_SENSOR, SENSOR, device_of

TELNYX = pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
FRONT_DESK_NAME = "Front desk line"
KITCHEN_NAME = "Kitchen phone"
SECOND_CALLER_NAME = "Charles Babbage"


@dataclass(frozen=True)
class Phones:
    """Telnyx's numbers as the user named them, and how to ring them."""

    hass: HomeAssistant
    harness: TelnyxHarness
    front_desk: str
    kitchen: str

    async def ring_kitchen(self, number: str, name: str) -> str:
        """Ring the kitchen number; return the call id once Home Assistant knows."""
        call_id = await self.harness.simulator.ring(
            KITCHEN, number, caller_id_name=name
        )
        await self.harness.settle()
        return call_id

    def put_kitchen_in(self, area_name: str) -> None:
        """Put the kitchen phone in the area `area_name` (made if new)."""
        self._put_in(self.kitchen, area_name)

    def put_front_desk_in(self, area_name: str) -> None:
        """Put the front desk line in the area `area_name` (made if new)."""
        self._put_in(self.front_desk, area_name)

    def _put_in(self, device_id: str, area_name: str) -> None:
        areas = ar.async_get(self.hass)
        area = areas.async_get_area_by_name(area_name) or areas.async_create(area_name)
        dr.async_get(self.hass).async_update_device(device_id, area_id=area.id)

    def expose_kitchen(self, exposed: bool) -> None:
        """Expose the kitchen's Call sensor to Assist, or not."""
        async_expose_entity(self.hass, "conversation", KITCHEN_SENSOR, exposed)

    def expose_front_desk(self, exposed: bool) -> None:
        """Expose the front desk's Call sensor to Assist, or not."""
        async_expose_entity(self.hass, "conversation", SENSOR, exposed)


def name_phones(hass: HomeAssistant, harness: TelnyxHarness) -> Phones:
    """Name Telnyx's numbers as a user would."""
    devices = dr.async_get(hass)
    front_desk = device_of(hass, SENSOR)
    kitchen = device_of(hass, KITCHEN_SENSOR)
    devices.async_update_device(front_desk, name_by_user=FRONT_DESK_NAME)
    devices.async_update_device(kitchen, name_by_user=KITCHEN_NAME)
    return Phones(hass, harness, front_desk, kitchen)


async def converse(
    hass: HomeAssistant, text: str, language: str = "en", **kwargs: str
) -> conversation.ConversationResult:
    """Say `text` to the built-in agent in `language`."""
    return await conversation.async_converse(
        hass, text, None, Context(), language, **kwargs
    )


async def say(hass: HomeAssistant, text: str, language: str = "en") -> str:
    """Say `text` to the built-in agent; return what it answers."""
    result = await converse(hass, text, language)
    speech: str = result.response.speech["plain"]["speech"]
    return speech


def commands(harness: Harness, call_id: str) -> list[str]:
    """The call commands (answer, reject, hangup) the provider received for a call."""
    received: list[str] = []
    if isinstance(harness, TelnyxHarness):
        prefix = f"/v2/calls/{call_id}/actions/"
        received = [
            request.path.removeprefix(prefix)
            for request in harness.simulator.requests
            if request.method == "POST" and request.path.startswith(prefix)
        ]
    elif isinstance(harness, WebexHarness):
        received = [
            request.path.rpartition("/")[2]
            for request in harness.simulator.requests
            if request.path.startswith("/v1/telephony/calls/")
            and isinstance(request.body, dict)
            and request.body.get("callId") == call_id
        ]
    elif isinstance(harness, GraphHarness):
        path = f"/v1.0/communications/calls/{call_id}"
        for request in harness.simulator.requests:
            if request.method == "DELETE" and request.path == path:
                received.append("hangup")
            elif request.method == "POST" and request.path.startswith(f"{path}/"):
                received.append(request.path.removeprefix(f"{path}/"))
    else:
        assert isinstance(harness, GenesysHarness)
        received = [
            str(request.body["operationName"]).lower()
            for request in harness.simulator.requests
            if request.path == f"/api/v2/me/calls/{call_id}"
            and isinstance(request.body, dict)
        ]
    return [
        command for command in received if command in {"answer", "reject", "hangup"}
    ]


def caller_said(harness: Harness) -> str:
    """How replies name the usual caller: by name where the provider tells it."""
    return harness.remote_name(CALLER_NAME) or CALLER
