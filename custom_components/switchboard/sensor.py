"""The `call` sensor: what the device's line is doing, and the call actions."""

from __future__ import annotations

from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.core import HomeAssistant, ServiceResponse, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .calls import CallChange
from .const import ATTR_CALL_ID, ATTR_STATE
from .entity import SwitchboardEntity, call_attributes
from .hub import SwitchboardConfigEntry
from .providers.model import CallAction, CallState, Device

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

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: SensorEntityDescription,
    ) -> None:
        """Show the device's primary call from the start."""
        super().__init__(entry, device, description)
        self._show_primary_call()

    def _show_primary_call(self) -> None:
        """Work out once per change what the sensor shows."""
        calls = self.hub.calls
        call = calls.primary_call(self.device.device_id)
        self._attr_native_value = call.state.value if call else IDLE
        self._attr_extra_state_attributes = {
            **call_attributes(call),
            "started_at": call.started_at if call else None,
            "answered_at": call.answered_at if call else None,
            "active_calls": calls.count_on(self.device.device_id),
        }

    @callback
    @override
    def _handle_call_change(self, change: CallChange) -> None:
        self._show_primary_call()

    @override
    def shown(self) -> tuple[Any, ...]:
        return (
            self.available,
            self._attr_native_value,
            self._attr_extra_state_attributes,
        )

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
