"""The sensors of a device: its call, its caller, missed calls and the last call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from .calls import CallChange, CallEventType
from .const import ATTR_CALL_ID, ATTR_STATE
from .entity import (
    SwitchboardEntity,
    async_add_device_entities,
    call_attributes,
    caller_of,
)
from .hub import ANSWERED_STATES, SwitchboardConfigEntry
from .providers.model import Call, CallAction, CallState, Device, EndReason

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
CALLER_SENSOR = SensorEntityDescription(key="caller", translation_key="caller")
MISSED_CALLS_SENSOR = SensorEntityDescription(
    key="missed_calls",
    translation_key="missed_calls",
    state_class=SensorStateClass.TOTAL_INCREASING,
)
LAST_CALL_SENSOR = SensorEntityDescription(key="last_call", translation_key="last_call")
MISSED_CALLS_ATTRIBUTES = ("last_caller", "last_missed_at")
DURATION_TICK = timedelta(seconds=1)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the four sensors of every device, and of each device that appears."""
    clock = DurationClock()
    clock.async_start(hass, entry)
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device: (
            CallSensor(entry, device, CALL_SENSOR),
            CallerSensor(entry, device, CALLER_SENSOR, clock),
            MissedCallsSensor(entry, device, MISSED_CALLS_SENSOR),
            LastCallSensor(entry, device, LAST_CALL_SENSOR),
        ),
    )


def _iso(moment: datetime | None) -> str | None:
    """Return a time as restored sensors keep it, the same after a restart."""
    return moment.isoformat() if moment else None


class _ShownSensor(SwitchboardEntity, SensorEntity):
    """A sensor whose state and attributes are all it shows."""

    @override
    def shown(self) -> tuple[Any, ...]:
        return (
            self.available,
            self._attr_native_value,
            self._attr_extra_state_attributes,
        )


class _PrimaryCallSensor(_ShownSensor):
    """A sensor that shows something of the device's primary call."""

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: SensorEntityDescription,
    ) -> None:
        """Show the device's primary call from the start."""
        super().__init__(entry, device, description)
        self._show()

    def _show(self) -> None:
        """Work out once per change what the sensor shows."""
        raise NotImplementedError

    @callback
    @override
    def _handle_call_change(self, change: CallChange) -> bool:
        self._show()
        return True


class CallSensor(_PrimaryCallSensor):
    """The state of the device's primary call, or idle; the call actions."""

    @override
    def _show(self) -> None:
        calls = self.hub.calls
        call = calls.primary_call(self.device.device_id)
        self._attr_native_value = call.state.value if call else IDLE
        self._attr_extra_state_attributes = {
            **call_attributes(call),
            "started_at": call.started_at if call else None,
            "answered_at": call.answered_at if call else None,
            "active_calls": calls.count_on(self.device.device_id),
        }

    async def async_act(
        self,
        action: CallAction,
        call_id: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Perform a call action on this device; say which call, and its state."""
        call = await self.hub.async_act(self.device, action, call_id, options)
        return {ATTR_CALL_ID: call.call_id, ATTR_STATE: call.state.value}

    async def async_dial(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Place a call from this device; say which call, and its state."""
        call = await self.hub.async_dial(self.device, options)
        return {ATTR_CALL_ID: call.call_id, ATTR_STATE: call.state.value}


class CallerSensor(_PrimaryCallSensor):
    """Who the device's primary call is with: "Name (number)"; unknown when idle.

    `duration` counts an answered call's seconds up, one write a second while
    it lasts. The recorder leaves it out: a row a second would fill the
    database with nothing the last-call sensor does not keep at the end.
    """

    _unrecorded_attributes = frozenset({"duration"})

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: SensorEntityDescription,
        clock: DurationClock,
    ) -> None:
        """Show the device's primary call; count its duration on the entry's clock."""
        self._clock = clock
        super().__init__(entry, device, description)

    @override
    def _show(self) -> None:
        call = self.hub.calls.primary_call(self.device.device_id)
        self._attr_native_value = caller_of(call)
        answered = call is not None and call.state in ANSWERED_STATES
        self._attr_extra_state_attributes = {
            **call_attributes(call),
            "state": call.state.value if call else None,
            "started_at": call.started_at if call else None,
            "answered_at": call.answered_at if call else None,
            "duration": _seconds_since(call.answered_at) if call and answered else None,
        }
        self._clock.follow(self, answered=answered)

    @override
    async def async_will_remove_from_hass(self) -> None:
        self._clock.follow(self, answered=False)
        await super().async_will_remove_from_hass()

    @callback
    def tick(self) -> None:
        """Count the answered call's duration up."""
        self._show()
        self.async_write_if_changed()


class DurationClock:
    """The clock of an entry's caller sensors: one tick a second for them all.

    It runs from the entry's set-up to its unload and refreshes only the
    sensors that show an answered call: a timer started and stopped per call
    would cost every answer and hang-up more than an idle tick costs.
    """

    def __init__(self) -> None:
        """Follow no sensor yet."""
        self._sensors: set[CallerSensor] = set()

    @callback
    def async_start(self, hass: HomeAssistant, entry: SwitchboardConfigEntry) -> None:
        """Tick until the entry unloads."""
        entry.async_on_unload(
            async_track_time_interval(
                hass, self._tick, DURATION_TICK, name="switchboard call duration"
            )
        )

    @callback
    def follow(self, sensor: CallerSensor, *, answered: bool) -> None:
        """Tick `sensor` while it shows an answered call."""
        if answered:
            self._sensors.add(sensor)
        else:
            self._sensors.discard(sensor)

    @callback
    def _tick(self, _now: datetime) -> None:
        for sensor in list(self._sensors):
            if sensor.hass is not None:
                sensor.tick()


class MissedCallsSensor(_ShownSensor, RestoreEntity):
    """How many incoming calls went unanswered; kept across restarts."""

    _attr_native_value: int

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: SensorEntityDescription,
    ) -> None:
        """Start at none missed, until the count before a restart is restored."""
        super().__init__(entry, device, description)
        self._count_none()

    def _count_none(self) -> None:
        self._attr_native_value = 0
        self._attr_extra_state_attributes = dict.fromkeys(MISSED_CALLS_ATTRIBUTES)

    @override
    async def async_added_to_hass(self) -> None:
        if (state := await self.async_get_last_state()) is not None:
            if state.state.isdigit():
                self._attr_native_value = int(state.state)
            attributes = self._attr_extra_state_attributes
            for name in attributes:
                attributes[name] = state.attributes.get(name)
        await super().async_added_to_hass()

    @callback
    @override
    def _handle_call_change(self, change: CallChange) -> bool:
        if change.event_type is not CallEventType.MISSED:
            return False
        self._attr_native_value += 1
        self._attr_extra_state_attributes = {
            "last_caller": caller_of(change.call),
            "last_missed_at": _iso(change.call.ended_at or dt_util.utcnow()),
        }
        return True

    @callback
    def reset(self) -> None:
        """Start counting again from none."""
        self._count_none()
        self.async_write_if_changed()


def _outcome(change: CallChange) -> str:
    """How a finished call went, as the last-call sensor names it."""
    call = change.call
    if change.event_type is CallEventType.MISSED:
        return "missed"
    if call.end_reason is EndReason.TRANSFERRED:
        # Sent on, answered or not (a ringing call diverted, say).
        return "transferred"
    if call.answered_at is not None or change.previous in (
        CallState.TALKING,
        CallState.ON_HOLD,
    ):
        return "answered"
    if call.end_reason in (
        EndReason.REJECTED,
        EndReason.ANSWERED_ELSEWHERE,
        EndReason.FAILED,
    ):
        return call.end_reason.value
    return "unanswered"


def _seconds_since(moment: datetime | None) -> int | None:
    """Whole seconds from `moment` until now."""
    if moment is None:
        return None
    return max(0, int((dt_util.utcnow() - moment).total_seconds()))


def _duration(call: Call) -> int | None:
    """Seconds talked, for a call that was answered."""
    if call.answered_at is None or call.ended_at is None:
        return None
    return max(0, round((call.ended_at - call.answered_at).total_seconds()))


class LastCallSensor(_ShownSensor, RestoreEntity):
    """The device's last finished call: who, which way, how it went, how long."""

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: SensorEntityDescription,
    ) -> None:
        """Know of no call until one ends, or the last one is restored."""
        super().__init__(entry, device, description)
        self._attr_native_value = None
        self._attr_extra_state_attributes = dict.fromkeys(LAST_CALL_ATTRIBUTES)

    @override
    async def async_added_to_hass(self) -> None:
        state = await self.async_get_last_state()
        if state is not None and state.state != STATE_UNAVAILABLE:
            if state.state != STATE_UNKNOWN:
                self._attr_native_value = state.state
            self._attr_extra_state_attributes = {
                name: state.attributes.get(name) for name in LAST_CALL_ATTRIBUTES
            }
        await super().async_added_to_hass()

    @callback
    @override
    def _handle_call_change(self, change: CallChange) -> bool:
        call = change.call
        if call.state is not CallState.ENDED:
            return False
        self._attr_native_value = caller_of(call)
        self._attr_extra_state_attributes = {
            **call_attributes(call),
            "outcome": _outcome(change),
            "duration": _duration(call),
            "started_at": _iso(call.started_at),
            "answered_at": _iso(call.answered_at),
            "ended_at": _iso(call.ended_at),
        }
        return True


LAST_CALL_ATTRIBUTES = (
    *call_attributes(None),
    "outcome",
    "duration",
    "started_at",
    "answered_at",
    "ended_at",
)
