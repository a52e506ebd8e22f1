"""CallBook: the calls of one account, kept current from provider events.

Idempotent (a repeated event changes nothing), ordered (an older event never
overwrites a newer state), several calls per device, and bounded: ended calls
are forgotten, keeping only their ids so a late event cannot bring them back.

Calls are indexed per device and state, and a change is told only to the
listeners of the devices it concerns, so an event costs the same with one
device or a thousand, and with no live call or thousands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .providers.kernel.memory import BoundedSet
from .providers.model import (
    Call,
    CallAction,
    CallEvent,
    CallState,
    Direction,
    EndReason,
)

SEEN_EVENTS = 2048
ENDED_CALLS = 512

# The primary call of a device is the one a user most likely means.
PRIMARY_ORDER = (
    CallState.RINGING,
    CallState.DIALING,
    CallState.TALKING,
    CallState.ON_HOLD,
)
# Hang-up means the call the user is on; a ringing call only when there is none.
HANGUP_ORDER = (
    CallState.TALKING,
    CallState.ON_HOLD,
    CallState.DIALING,
    CallState.RINGING,
)


class CallEventType(StrEnum):
    """What the `call` event entity fires."""

    INCOMING = "incoming"
    ANSWERED = "answered"
    ENDED = "ended"
    MISSED = "missed"
    # Keys the far end pressed; the call itself did not change.
    DIGITS = "digits"


@dataclass(frozen=True, slots=True)
class CallChange:
    """A call after an event changed it, and what that change means to a user.

    A DIGITS change is news, not a change: `call` is as it was, and `digits`
    holds the keys pressed.
    """

    call: Call
    previous: CallState | None
    event_type: CallEventType | None
    # Devices the call was on before this change and is not on now (answered
    # on another endpoint, say): they show it no longer.
    left_devices: tuple[str, ...] = ()
    digits: str | None = None


type CallListener = Callable[[CallChange], None]


def _event_type(
    previous: CallState | None, call: Call, *, answered_here: bool = False
) -> CallEventType | None:
    if previous is call.state:
        return None
    if call.state is CallState.ENDED:
        unanswered = (
            call.direction is Direction.INCOMING
            and call.answered_at is None
            and not answered_here
        )
        if unanswered and call.end_reason in (None, EndReason.MISSED):
            return CallEventType.MISSED
        return CallEventType.ENDED
    if previous is None and call.state is CallState.RINGING:
        return CallEventType.INCOMING
    if call.state is CallState.TALKING and previous in (
        None,
        CallState.RINGING,
        CallState.DIALING,
    ):
        return CallEventType.ANSWERED
    return None


def new_call(event: CallEvent, direction: Direction = Direction.INCOMING) -> Call:
    """Make the call an event begins (going `direction` unless the event says)."""
    call = Call(
        call_id=event.call_id,
        device_ids=event.device_ids,
        direction=event.direction or direction,
        state=event.state,
        actions=event.actions or frozenset(),
        raw=dict(event.raw),
    )
    _fill(call, event)
    _set_state_times(call, event)
    return call


def _fill(call: Call, event: CallEvent) -> bool:
    """Fill what the call does not know yet; an older event may do that."""
    learned = False
    for name in ("remote_number", "remote_name", "local_number", "started_at"):
        if getattr(call, name) is None and getattr(event, name) is not None:
            setattr(call, name, getattr(event, name))
            learned = True
    call.raw.update(event.raw)
    return learned


def _set_state_times(call: Call, event: CallEvent) -> None:
    when = event.occurred_at
    if call.started_at is None:
        call.started_at = when
    if call.state is CallState.TALKING and call.answered_at is None:
        call.answered_at = when
    if call.state is CallState.ENDED:
        call.ended_at = when


class _DeviceCalls:
    """The live calls of one device, by state, each bucket oldest first."""

    __slots__ = ("by_state", "count")

    def __init__(self) -> None:
        self.by_state: dict[CallState, dict[str, Call]] = {}
        self.count = 0

    def add(self, call: Call, placed: Mapping[str, tuple[Any, int]]) -> None:
        bucket = self.by_state.setdefault(call.state, {})
        newest = next(reversed(bucket), None)
        bucket[call.call_id] = call
        self.count += 1
        if newest is not None and placed[newest][1] > placed[call.call_id][1]:
            # An older call came back to this state (resumed from hold, say):
            # the rare case that costs a sort, so the oldest stays first.
            self.by_state[call.state] = dict(
                sorted(bucket.items(), key=lambda item: placed[item[0]][1])
            )

    def discard(self, call_id: str, state: CallState) -> None:
        bucket = self.by_state.get(state)
        if bucket is not None and bucket.pop(call_id, None) is not None:
            self.count -= 1
            if not bucket:
                del self.by_state[state]

    def oldest(
        self, state: CallState, allowing: CallAction | None = None
    ) -> Call | None:
        """Return the oldest call in `state` (that allows `allowing`, if given)."""
        bucket = self.by_state.get(state)
        if not bucket:
            return None
        if allowing is None:
            return next(iter(bucket.values()))
        return next(
            (call for call in bucket.values() if allowing in call.actions), None
        )


class CallBook:
    """The live calls of one config entry, by call id and by device."""

    def __init__(self) -> None:
        """Start empty."""
        self._calls: dict[str, Call] = {}
        # Per live call: the order of the event applied last, and when the call
        # was created ("oldest first" however often a call changes state).
        self._placed: dict[str, tuple[tuple[float, int], int]] = {}
        self._created_count = 0
        self._devices: dict[str, _DeviceCalls] = {}
        self._seen: BoundedSet[str] = BoundedSet(SEEN_EVENTS)
        self._ended: BoundedSet[str] = BoundedSet(ENDED_CALLS)
        # Calls the provider agreed to answer for us, before it says so in an
        # event: an end that overtakes that event is not a missed call.
        self._answered_here: set[str] = set()
        self._device_listeners: dict[str, list[CallListener]] = {}

    def listen_device(
        self, device_id: str, listener: CallListener
    ) -> Callable[[], None]:
        """Call `listener` with the changes that concern one device only.

        A change concerns the devices the call is on, and those it just left.
        """
        listeners = self._device_listeners.setdefault(device_id, [])
        listeners.append(listener)

        def _stop() -> None:
            listeners.remove(listener)
            if not listeners:
                del self._device_listeners[device_id]

        return _stop

    def get(self, call_id: str) -> Call | None:
        """Return a live call."""
        return self._calls.get(call_id)

    def live_calls(self) -> list[Call]:
        """Return every live call, oldest first."""
        return list(self._calls.values())

    def calls_on(self, device_id: str) -> list[Call]:
        """Return the live calls of a device, oldest first."""
        device = self._devices.get(device_id)
        if device is None:
            return []
        calls = [
            call for bucket in device.by_state.values() for call in bucket.values()
        ]
        return sorted(calls, key=lambda call: self._placed[call.call_id][1])

    def count_on(self, device_id: str) -> int:
        """Count the live calls of a device."""
        device = self._devices.get(device_id)
        return 0 if device is None else device.count

    def primary_call(self, device_id: str) -> Call | None:
        """Return the call a user most likely means: ringing first, then active."""
        return self._first_in(device_id, PRIMARY_ORDER)

    def _first_in(
        self,
        device_id: str,
        order: tuple[CallState, ...],
        allowing: CallAction | None = None,
    ) -> Call | None:
        """Return the oldest call in the first state of `order` that has one.

        With `allowing`, only a call whose actions include it counts.
        """
        device = self._devices.get(device_id)
        if device is None:
            return None
        for state in order:
            if (call := device.oldest(state, allowing)) is not None:
                return call
        return None

    def find_call(
        self, device_id: str, action: CallAction, call_id: str | None
    ) -> Call | None:
        """Return the call an action targets: the given one, or the natural one.

        Without a call id: answer and reject take the ringing call, hang-up the
        active call, or the ringing one when there is none. Resume takes the
        held call that can be resumed; the other actions (transfer, hold,
        speak...) the first call in HANGUP_ORDER that allows them now.
        """
        if call_id is not None:
            call = self._calls.get(call_id)
            return call if call and device_id in call.device_ids else None
        if action is CallAction.HANGUP:
            return self._first_in(device_id, HANGUP_ORDER)
        if action in (CallAction.ANSWER, CallAction.REJECT):
            return self._first_in(device_id, (CallState.RINGING,))
        if action is CallAction.RESUME:
            return self._first_in(device_id, (CallState.ON_HOLD,), action)
        return self._first_in(device_id, HANGUP_ORDER, action)

    def confirm_answered(self, call_id: str) -> None:
        """Remember that the provider accepted our answer of a live call."""
        if call_id in self._calls:
            self._answered_here.add(call_id)

    def knows(self, call_id: str) -> bool:
        """Tell whether a call is live, or ended recently."""
        return call_id in self._calls or call_id in self._ended

    def reconcile(
        self, events: Iterable[CallEvent], live_before: set[str], now: datetime
    ) -> list[CallChange]:
        """Apply a provider's list of its calls; end the calls it no longer has.

        Only calls live before the list was asked for can be missing from it: a
        call that began meanwhile may be too new for the list.
        """
        events = list(events)
        changes = self.apply_all(events)
        listed = {event.call_id for event in events}
        for call_id in live_before - listed:
            if call_id not in self._calls:
                continue
            ended = CallEvent(
                event_id=f"gone:{call_id}",
                call_id=call_id,
                order=self._placed[call_id][0],
                state=CallState.ENDED,
                occurred_at=now,
            )
            if change := self.apply(ended):
                changes.append(change)
        return changes

    def __len__(self) -> int:
        """Count the live calls."""
        return len(self._calls)

    def apply_all(self, events: Iterable[CallEvent]) -> list[CallChange]:
        """Apply events in the order given."""
        return [change for event in events if (change := self.apply(event))]

    def apply(self, event: CallEvent) -> CallChange | None:
        """Apply one event; return the change, or None when nothing changed."""
        if event.event_id in self._seen or event.call_id in self._ended:
            return None
        self._seen.add(event.event_id)
        call = self._calls.get(event.call_id)
        if event.digits is not None:
            # Keys pressed: news of the call, which stays where it is.
            return None if call is None else self._pressed(call, event.digits)
        if call is None:
            if event.state is CallState.ENDED:
                # An end we never saw begin: nothing to show, but remember it so
                # its late "initiated" cannot create a ghost call.
                self._ended.add(event.call_id)
                return None
            return self._create(event)
        return self._update(call, event)

    def _index(self, call: Call) -> None:
        for device_id in call.device_ids:
            device = self._devices.get(device_id)
            if device is None:
                device = self._devices[device_id] = _DeviceCalls()
            device.add(call, self._placed)

    def _unindex(self, call: Call) -> None:
        for device_id in call.device_ids:
            if device := self._devices.get(device_id):
                device.discard(call.call_id, call.state)
                if not device.count:
                    del self._devices[device_id]

    def _create(self, event: CallEvent) -> CallChange:
        call = new_call(event)
        self._calls[call.call_id] = call
        self._placed[call.call_id] = (event.order, self._created_count)
        self._created_count += 1
        self._index(call)
        return self._changed(call, None)

    def _update(self, call: Call, event: CallEvent) -> CallChange | None:
        previous = call.state
        learned = _fill(call, event)
        if (
            event.order < self._placed[call.call_id][0]
            and event.state is not CallState.ENDED
        ):
            return self._changed(call, previous) if learned else None
        order, created = self._placed[call.call_id]
        if event.order > order:
            self._placed[call.call_id] = (event.order, created)
        actions_before = call.actions
        self._unindex(call)
        if event.actions is not None:
            call.actions = event.actions
        if event.direction is not None:
            call.direction = event.direction
        left: tuple[str, ...] = ()
        if event.device_ids:
            left = tuple(d for d in call.device_ids if d not in event.device_ids)
            call.device_ids = event.device_ids
        call.state = event.state
        _set_state_times(call, event)
        if call.state is CallState.ENDED:
            call.end_reason = event.end_reason
            call.actions = frozenset()
            del self._calls[call.call_id]
            del self._placed[call.call_id]
            self._ended.add(call.call_id)
            change = self._changed(call, previous, left)
            self._answered_here.discard(call.call_id)
            return change
        self._index(call)
        if (
            previous is call.state
            and not learned
            and not left
            and call.actions == actions_before
        ):
            # Nothing a user sees changed (the answer button follows actions).
            return None
        return self._changed(call, previous, left)

    def _changed(
        self, call: Call, previous: CallState | None, left: tuple[str, ...] = ()
    ) -> CallChange:
        event_type = _event_type(
            previous, call, answered_here=call.call_id in self._answered_here
        )
        return self._tell(
            CallChange(call.copy(), previous, event_type, left),
            (*call.device_ids, *left),
        )

    def _pressed(self, call: Call, digits: str) -> CallChange:
        """Tell the call's devices of keys pressed on it; the call stays as it is.

        The event's own devices may be missing (Telnyx) or lack the rest of
        the call (Graph): the call's devices, as the book knows them, hear it.
        """
        change = CallChange(
            call.copy(), call.state, CallEventType.DIGITS, digits=digits
        )
        return self._tell(change, call.device_ids)

    def _tell(self, change: CallChange, device_ids: Iterable[str]) -> CallChange:
        for device_id in device_ids:
            for listener in list(self._device_listeners.get(device_id, ())):
                listener(change)
        return change
