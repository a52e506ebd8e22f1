"""Reading Graph's commsNotifications into call events, in order.

"Call establishing/established notifications may arrive out of order": the
reader remembers each call's phase, so a late notification of an earlier
phase never moves a call back. It also remembers what the bot did to a call
(placed it, answered it with app-hosted media, asked for its tones), and turns
the tone notifications of subscribeToTone into events carrying the digits.
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
from .errors import result_codes

NOTIFICATIONS_TYPE: Final = "microsoft.graph.commsNotifications"
# How many calls the reader remembers (ordering, rejects) at once; read when
# the reader is made, so a test can shrink it first.
REMEMBERED_CALLS: Final = 512

RINGING_ACTIONS: Final = frozenset({CallAction.ANSWER, CallAction.REJECT})
ACTIVE_ACTIONS: Final = frozenset({CallAction.HANGUP})
NO_ACTIONS: Final[frozenset[CallAction]] = frozenset()
# What an established call allows, where the cloud has it all (sendDtmfTones
# is global-only); playPrompt needs service-hosted media.
TALKING_ACTIONS: Final = frozenset(
    {
        CallAction.HANGUP,
        CallAction.TRANSFER,
        CallAction.PLAY,
        CallAction.SEND_DIGITS,
    }
)

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
# "Call ended as the transfer completed successfully": 200/7015 in call-delete's
# table, 0/7015 "GracefulTransferCompleted" in call-transfer's example.
TRANSFER_COMPLETED: Final = 7015
# A consultative transfer's end names it instead of a resultInfo.
APP_TRANSFERRED: Final = "apptransferred"
# toneInfo.tone -> the key pressed; "flash" is no key.
TONES: Final = {
    **{f"tone{digit}": str(digit) for digit in range(10)},
    "star": "*",
    "pound": "#",
    "a": "A",
    "b": "B",
    "c": "C",
    "d": "D",
}
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
    # The neutral state of the last event that moved the call.
    state: CallState | None = None
    # Answered with app-hosted media: no prompts, no tones.
    app_hosted: bool = False
    # Answered or placed by this bot: its tones are subscribed to once it is
    # established (tones_asked).
    want_tones: bool = False
    tones_asked: bool = False
    transfer_accepted: bool = False


class NotificationReader:
    """Turns the notifications of one bot into events, remembering recent calls."""

    def __init__(
        self, device_id: str, talking_actions: frozenset[CallAction] = TALKING_ACTIONS
    ) -> None:
        """Read for the bot `device_id`: every call is on it.

        `talking_actions` are what an established call allows on this cloud.
        """
        self._device_id = device_id
        self._talking = talking_actions
        self._calls: BoundedMap[str, CallNotes] = BoundedMap(REMEMBERED_CALLS)
        self._tones_due: list[str] = []

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

    def take_tone_subscriptions(self) -> list[str]:
        """Return the calls whose tones to subscribe to now, each only once."""
        due, self._tones_due = self._tones_due, []
        return due

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
        tone = data.get("toneInfo")
        if name is None:
            if tone is not None:
                return self._tone(call_id, change, tone, data, now)
            return None  # media, and the like
        notes = self.notes(call_id, now)
        known = notes.rank >= 0
        if state_value in ANSWERED_STATES:
            notes.answered = True
        if state_value == "transferAccepted":
            notes.transfer_accepted = True
        direction = parse_direction(data.get("direction"))
        if direction is not None and notes.direction is None:
            notes.direction = direction
        state, actions = self._neutral(name, notes)
        if RANKS[name] >= notes.rank:
            notes.state = state
        order = _order(notes, RANKS[name], now)
        if (
            state_value == "established"
            and notes.want_tones
            and not notes.tones_asked
            and not notes.app_hosted
        ):
            notes.tones_asked = True
            self._tones_due.append(call_id)
        if tone is not None and name != "terminated":
            digits = self._tone(call_id, change, tone, data, now, state=state)
            if digits is not None:
                return digits
        at = datetime.fromtimestamp(now, UTC)
        if notes.direction is Direction.OUTGOING:
            # The bot placed it: the far end is its target, the bot the source.
            remote_number, remote_name = _party(_first(data.get("targets")))
            local_number = _local([data.get("source")])
        else:
            remote_number, remote_name = _party(data.get("source"))
            local_number = _local(data.get("targets"))
        etag = non_empty_text(data.get("@odata.etag"))
        codes = result_codes(data.get("resultInfo"))
        result = _result_id(codes)
        return CallEvent(
            event_id=(
                f"{call_id}:{change}:{state_value or '-'}:{etag or '-'}"
                + (f":{result}" if result else "")
                + (":gone" if gone else "")
            ),
            call_id=call_id,
            order=order,
            state=state,
            device_ids=(self._device_id,),
            direction=direction,
            remote_number=remote_number,
            remote_name=remote_name,
            local_number=local_number,
            occurred_at=at,
            started_at=at if state_value == "incoming" else None,
            end_reason=(
                _end_reason(data, notes, codes, known=known)
                if state is CallState.ENDED
                else None
            ),
            actions=actions,
            raw=_raw(change, data),
        )

    def _tone(
        self,
        call_id: str,
        change: str,
        tone_info: Any,
        data: dict[str, Any],
        now: float,
        *,
        state: CallState | None = None,
    ) -> CallEvent | None:
        """Read a key pressed (subscribeToTone's toneInfo) into a digits event.

        A tone without a key, or without the sequence id that orders and
        de-duplicates it, is skipped.
        """
        tone = tone_info.get("tone") if isinstance(tone_info, dict) else None
        digit = TONES.get(tone.lower()) if isinstance(tone, str) else None
        sequence = (
            integer(tone_info.get("sequenceId"))
            if isinstance(tone_info, dict)
            else None
        )
        if digit is None or sequence is None:
            _LOGGER.debug("Skipped a tone of call %s: no key or no sequence", call_id)
            return None
        notes = self.notes(call_id, now)
        if state is None:
            # A tone without the call's state (every documented one has it:
            # UNCONFIRMED that it can come): the call is where it was.
            state = notes.state or CallState.TALKING
        return CallEvent(
            event_id=f"{call_id}:tone:{sequence}",
            call_id=call_id,
            order=_order(notes, max(notes.rank, 0), now),
            state=state,
            device_ids=(self._device_id,),
            occurred_at=datetime.fromtimestamp(now, UTC),
            digits=digit,
            raw=_raw(change, data),
        )

    def _neutral(
        self, state: str, notes: CallNotes
    ) -> tuple[CallState, frozenset[CallAction]]:
        outgoing = notes.direction is Direction.OUTGOING
        if state in {"incoming", "ringing"}:
            return (
                (CallState.DIALING, ACTIVE_ACTIONS)
                if outgoing
                else (CallState.RINGING, RINGING_ACTIONS)
            )
        if state == "establishing":
            # Answer in progress: still ringing, but no longer answerable.
            return (
                CallState.DIALING if outgoing else CallState.RINGING
            ), ACTIVE_ACTIONS
        if state == "redirecting":
            return CallState.RINGING, NO_ACTIONS
        if state == "hold":
            # Held by the far end: only it can resume.
            return CallState.ON_HOLD, ACTIVE_ACTIONS
        if state in {"terminating", "terminated"}:
            return CallState.ENDED, NO_ACTIONS
        if state in {"transferring", "transferAccepted"}:
            # Being sent on: nothing more until it ends or fails back.
            return CallState.TALKING, ACTIVE_ACTIONS
        # established (also after a failed transfer)
        actions = self._talking
        if notes.app_hosted:
            actions = actions - {CallAction.PLAY}
        return CallState.TALKING, actions

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
            # Operations (playPrompt, sendDtmfTones, ...) and participants carry
            # no call state; answer, reject, transfer and hang-up create no
            # operation. A failed one is only logged: the call goes on.
            if rest.lower().startswith("operations") and data.get("status") == "failed":
                result = data.get("resultInfo")
                _LOGGER.debug(
                    "Operation %s of call %s failed: %s",
                    rest,
                    call_id,
                    result.get("message") if isinstance(result, dict) else None,
                )
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
        termination_reason=data.get("terminationReason"),
        tone=tone.get("tone"),
    )


def _order(notes: CallNotes, rank: int, now: float) -> tuple[float, int]:
    """Order an event of phase `rank` after what the call has seen."""
    if rank < notes.rank:
        # Out of order: give it an order below the one already applied.
        return (notes.rank_at, rank)
    if rank > notes.rank:
        notes.rank, notes.rank_at = rank, now
    return (now, rank)


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def _result_id(codes: tuple[int | None, int | None]) -> str | None:
    """Name a resultInfo in an event id: a failed transfer is news of its own."""
    code, subcode = codes
    if code is None and subcode is None:
        return None
    return f"{code}.{subcode}"


def _end_reason(
    data: dict[str, Any],
    notes: CallNotes,
    codes: tuple[int | None, int | None],
    *,
    known: bool,
) -> EndReason:
    code, subcode = codes
    if notes.rejected or code == SIP_DECLINE:
        return EndReason.REJECTED
    reason = data.get("terminationReason")
    if (
        subcode == TRANSFER_COMPLETED
        or (isinstance(reason, str) and reason.lower() == APP_TRANSFERRED)
        # Accepted and then ended without an error: sent on (UNCONFIRMED that
        # every completed transfer names itself as above).
        or (notes.transfer_accepted and (code is None or code < HTTPStatus.BAD_REQUEST))
    ):
        return EndReason.TRANSFERRED
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
