"""Reading Graph's commsNotifications into call events, in order.

"Call establishing/established notifications may arrive out of order": the
reader remembers each call's phase, so a late notification of an earlier
phase never moves a call back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
import logging
import re
from typing import Any, Final

from ..kernel.memory import BoundedMap
from ..kernel.payload import load_payload
from ..kernel.raw import raw_fields
from ..kernel.values import (
    first_text,
    integer,
    non_empty_text,
    parse_direction,
    trimmed_text,
)
from ..model import (
    CallAction,
    CallEvent,
    CallState,
    Direction,
    EndReason,
    InvalidPayloadError,
    ResendRequestedError,
)

NOTIFICATIONS_TYPE: Final = "microsoft.graph.commsNotifications"
# How many calls the reader remembers (ordering, rejects) at once; read when
# the reader is made, so a test can shrink it first.
REMEMBERED_CALLS: Final = 512

RINGING_ACTIONS: Final = frozenset({CallAction.ANSWER, CallAction.REJECT})
ACTIVE_ACTIONS: Final = frozenset({CallAction.HANGUP})
NO_ACTIONS: Final[frozenset[CallAction]] = frozenset()

# Phases only move forward: a later event of a lower phase is out of order.
RANKS: Final = {
    "incoming": 0,
    "ringing": 0,
    "establishing": 1,
    "redirecting": 1,
    "established": 2,
    "hold": 2,
    "transferring": 2,
    "transferAccepted": 2,
    "terminating": 3,
    "terminated": 4,
}
ANSWERED_STATES: Final = frozenset(
    {"established", "hold", "transferring", "transferAccepted"}
)
# Graph's enums are camelCase, but case is not promised everywhere
# (UNCONFIRMED): state and change names are read in any case.
STATE_NAMES: Final = {name.lower(): name for name in RANKS}
CHANGES: Final = frozenset({"created", "updated", "deleted"})
SIP_DECLINE: Final = 603
# 408/1106: "An acknowledgement was not received for the call acceptance in the
# allotted time": nobody answered within the window.
NO_ACKNOWLEDGEMENT: Final = (408, 1106)
# What Call.raw keeps of a call's resourceData, besides the change, the result
# and the tone.
RAW_FIELDS: Final = ("state", "direction", "callChainId")

_CALL_PATH = re.compile(r"(?:^|/)calls/([^/?#]+)([^?#]*)")
_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class CallNotes:
    """What the reader remembers of one call between notifications."""

    rank: int
    rank_at: float
    direction: Direction | None = None
    answered: bool = False
    rejected: bool = False


class NotificationReader:
    """Turns the notifications of one bot into events, remembering recent calls."""

    def __init__(self, device_id: str) -> None:
        """Read for the bot `device_id`: every call is on it."""
        self._device_id = device_id
        self._calls: BoundedMap[str, CallNotes] = BoundedMap(REMEMBERED_CALLS)

    def read(self, body: bytes, now: float) -> list[CallEvent]:
        """Read a verified delivery: a commsNotifications envelope.

        Raises ResendRequestedError for anything else, and InvalidPayloadError
        when not one of its notifications is readable.
        """
        envelope = load_payload(body, "notification body")
        items = envelope.get("value") if isinstance(envelope, dict) else None
        kind = envelope.get("@odata.type") if isinstance(envelope, dict) else None
        if not isinstance(items, list) or (
            kind is not None
            and (
                not isinstance(kind, str)
                or kind.removeprefix("#").lower() != NOTIFICATIONS_TYPE.lower()
            )
        ):
            # The first delivery of an incoming call may come in the legacy
            # (Skype) format; answering 204 makes Microsoft resend it in the Graph
            # format. That format is undocumented (UNCONFIRMED): anything that is
            # not a commsNotifications envelope is taken for it.
            raise ResendRequestedError("not a commsNotifications envelope")
        events: list[CallEvent] = []
        unreadable = 0
        for index, item in enumerate(items):
            try:
                event = self._notification(item, now)
            except InvalidPayloadError as err:
                # One odd notification spoils only itself: the rest apply.
                _LOGGER.debug(
                    "Skipped notification %s of %s: %s", index, len(items), err
                )
                unreadable += 1
                continue
            if event is not None:
                events.append(event)
        if items and unreadable == len(items):
            raise InvalidPayloadError("no readable notification in the envelope")
        return events

    def notes(self, call_id: str, now: float) -> CallNotes:
        """Return what is remembered of a call (new notes for a new call)."""
        return self._calls.touch(call_id, lambda: CallNotes(rank=-1, rank_at=now))

    def event(
        self,
        call_id: str,
        change: str,
        data: dict[str, Any],
        now: float,
        *,
        gone: bool = False,
    ) -> CallEvent | None:
        """Read a call's resourceData (or a GET of the call) after a `change`.

        None when it carries no state, or one we do not know.
        """
        state_value = _state_name(data.get("state"))
        name = "terminated" if change == "deleted" else state_value
        if name is None:
            return None  # media, tones without state
        notes = self.notes(call_id, now)
        known = notes.rank >= 0
        if state_value in ANSWERED_STATES:
            notes.answered = True
        direction = parse_direction(data.get("direction"))
        if direction is not None and notes.direction is None:
            notes.direction = direction
        state, actions = _neutral(name, notes.direction)
        rank = RANKS[name]
        if rank < notes.rank:
            # Out of order: give it an order below the one already applied.
            order = (notes.rank_at, rank)
        else:
            if rank > notes.rank:
                notes.rank, notes.rank_at = rank, now
            order = (now, rank)
        at = datetime.fromtimestamp(now, UTC)
        remote_number, remote_name = _party(data.get("source"))
        etag = non_empty_text(data.get("@odata.etag"))
        return CallEvent(
            event_id=(
                f"{call_id}:{change}:{state_value or '-'}:{etag or '-'}"
                + (":gone" if gone else "")
            ),
            call_id=call_id,
            order=order,
            state=state,
            device_ids=(self._device_id,),
            direction=direction,
            remote_number=remote_number,
            remote_name=remote_name,
            local_number=_local(data.get("targets")),
            occurred_at=at,
            started_at=at if state_value == "incoming" else None,
            end_reason=(
                _end_reason(data.get("resultInfo"), notes, known=known)
                if state is CallState.ENDED
                else None
            ),
            actions=actions,
            raw=_raw(change, data),
        )

    def _notification(self, item: Any, now: float) -> CallEvent | None:
        if not isinstance(item, dict):
            raise InvalidPayloadError("notification is not an object")
        change = item.get("changeType")
        change = change.lower() if isinstance(change, str) else None
        data = item.get("resourceData")
        if change not in CHANGES:
            raise InvalidPayloadError("notification without a changeType")
        if isinstance(data, list):
            return None  # a collection: participants roster, no call state
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidPayloadError("resourceData is not an object")
        state = data.get("state")
        if state is not None and not isinstance(state, str):
            raise InvalidPayloadError("state is not a string")
        # `resource` is the older name of resourceUrl (UNCONFIRMED which
        # deliveries still send it): either names the call.
        resource = first_text(item, ("resourceUrl", "resource")) or non_empty_text(
            data.get("@odata.id")
        )
        match = _CALL_PATH.search(resource) if resource is not None else None
        if match is None:
            return None  # not a call (content sharing and the like)
        call_id, rest = match.group(1), match.group(2).strip("/")
        if rest:
            # Operations (playPrompt, ...) and participants carry no call state;
            # answer, reject and hang-up create no operation.
            return None
        return self.event(call_id, change, data, now)


def _state_name(value: Any) -> str | None:
    """Return a call state's name as RANKS spells it, in any case; else None."""
    return STATE_NAMES.get(value.lower()) if isinstance(value, str) else None


def _raw(change: str, data: dict[str, Any]) -> dict[str, Any]:
    result = data.get("resultInfo")
    result = result if isinstance(result, dict) else {}
    tone = data.get("toneInfo")
    tone = tone if isinstance(tone, dict) else {}
    return raw_fields(
        data,
        RAW_FIELDS,
        change=change,
        result_code=result.get("code"),
        result_subcode=result.get("subcode", result.get("subCode")),
        result_message=result.get("message"),
        tone=tone.get("tone"),
    )


def _neutral(
    state: str, direction: Direction | None
) -> tuple[CallState, frozenset[CallAction]]:
    outgoing = direction is Direction.OUTGOING
    if state in {"incoming", "ringing"}:
        return (
            (CallState.DIALING, ACTIVE_ACTIONS)
            if outgoing
            else (CallState.RINGING, RINGING_ACTIONS)
        )
    if state == "establishing":
        # Answer in progress: still ringing, but no longer answerable.
        return (CallState.DIALING if outgoing else CallState.RINGING), ACTIVE_ACTIONS
    if state == "redirecting":
        return CallState.RINGING, NO_ACTIONS
    if state == "hold":
        return CallState.ON_HOLD, ACTIVE_ACTIONS
    if state in {"terminating", "terminated"}:
        return CallState.ENDED, NO_ACTIONS
    # established, transferring, transferAccepted
    return CallState.TALKING, ACTIVE_ACTIONS


def _end_reason(result: Any, notes: CallNotes, *, known: bool) -> EndReason:
    code = subcode = None
    if isinstance(result, dict):
        # resultInfo codes come as ints or strings ("200") in the docs.
        code = integer(result.get("code"))
        subcode = integer(result.get("subcode", result.get("subCode")))
    if notes.rejected or code == SIP_DECLINE:
        return EndReason.REJECTED
    if (code, subcode) == NO_ACKNOWLEDGEMENT:
        return EndReason.MISSED
    if code is not None and (
        code >= HTTPStatus.INTERNAL_SERVER_ERROR or code == HTTPStatus.GONE
    ):
        return EndReason.FAILED  # media connectivity and server failures
    if known and not notes.answered:
        return EndReason.MISSED  # the caller gave up before it was answered
    return EndReason.COMPLETED


def _identity(identity_set: Any, *kinds: str) -> tuple[str | None, dict[str, Any]]:
    if isinstance(identity_set, dict):
        for kind in kinds:
            identity = identity_set.get(kind)
            if isinstance(identity, dict):
                return kind, identity
    return None, {}


def _party(source: Any) -> tuple[str | None, str | None]:
    """Read the caller from a participantInfo: (number, name)."""
    identity_set = source.get("identity") if isinstance(source, dict) else None
    # A PSTN caller's form is UNCONFIRMED: phone.id (E.164) is assumed.
    kind, identity = _identity(
        identity_set,
        "phone",
        "user",
        "guest",
        "application",
        "applicationInstance",
        "onPremises",
        "encrypted",
    )
    number = trimmed_text(identity.get("id")) if kind == "phone" else None
    return number, trimmed_text(identity.get("displayName"))


def _local(targets: Any) -> str | None:
    """Return the line called: a target's number, else its application instance."""
    if not isinstance(targets, list):
        return None
    for kinds in (("phone",), ("applicationInstance",)):
        for target in targets:
            identity_set = target.get("identity") if isinstance(target, dict) else None
            kind, identity = _identity(identity_set, *kinds)
            if kind == "phone" and (number := trimmed_text(identity.get("id"))):
                return number
            if kind == "applicationInstance" and (
                name := trimmed_text(identity.get("displayName"))
                or trimmed_text(identity.get("id"))
            ):
                return name
    return None
