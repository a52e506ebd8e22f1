"""The `call` sensor: what the device's line is doing, and the call actions."""

from __future__ import annotations

from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import ATTR_CALL_ID, ATTR_STATE
from .entity import SwitchboardEntity, call_attributes
from .hub import SwitchboardConfigEntry
from .providers.model import CallAction, CallState

PARALLEL_UPDATES = 0

IDLE = "idle"

CALL_SENSOR = SensorEntityDescription(
    key="call",
    translation_key="call",
    device_class=SensorDeviceClass.ENUM,
    options=[
        IDLE,
        *(state.value for state in CallState if state is not CallState.ENDED),
    ],
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One call sensor per device."""
    async_add_entities(
        CallSensor(entry, device, CALL_SENSOR)
        for device in entry.runtime_data.devices.values()
    )


class CallSensor(SwitchboardEntity, SensorEntity):
    """The state of the device's primary call, or idle."""

    @property
    @override
    def native_value(self) -> str:
        call = self.hub.calls.primary_call(self.device.device_id)
        return call.state.value if call else IDLE

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        calls = self.hub.calls
        call = calls.primary_call(self.device.device_id)
        return {
            **call_attributes(call),
            "started_at": call.started_at if call else None,
            "answered_at": call.answered_at if call else None,
            "active_calls": calls.count_on(self.device.device_id),
        }

    @override
    def shown(self) -> tuple[Any, ...]:
        return (self.available, self.native_value, self.extra_state_attributes)

    async def _async_act(
        self, action: CallAction, call_id: str | None, options: dict[str, Any] | None
    ) -> ServiceResponse:
        call = await self.hub.async_act(self.device, action, call_id, options)
        return {ATTR_CALL_ID: call.call_id, ATTR_STATE: call.state.value}

    async def async_answer_call(
        self, call_id: str | None = None, options: dict[str, Any] | None = None
    ) -> ServiceResponse:
        """Answer the ringing call, or the one named."""
        return await self._async_act(CallAction.ANSWER, call_id, options)

    async def async_reject_call(
        self, call_id: str | None = None, options: dict[str, Any] | None = None
    ) -> ServiceResponse:
        """Reject the ringing call, or the one named."""
        return await self._async_act(CallAction.REJECT, call_id, options)

    async def async_hangup_call(
        self, call_id: str | None = None, options: dict[str, Any] | None = None
    ) -> ServiceResponse:
        """Hang up the active call, or the one named."""
        return await self._async_act(CallAction.HANGUP, call_id, options)
