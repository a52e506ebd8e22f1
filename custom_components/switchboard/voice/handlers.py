"""The call intents: one implementation for Assist sentences and LLM tools.

Each handler finds the phones the request may act on (exposed to the asking
assistant, or the ones it names), picks the call, acts through the hub, and
says what it did in the request's language. It never raises for a user's or
a provider's problem: the reply says what went wrong, so Assist speaks it and
an LLM reads it.

Adding an intent is one handler class here, in HANDLERS, and its sentences
and replies in each language file.

Transfer and dial take a destination (voice/destinations.py): a number said
aloud, another phone's name, or, for a call, someone who called lately.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from heapq import merge
from typing import Any, ClassVar, Final, override

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, intent
from homeassistant.helpers.llm import ToolAnnotations
from homeassistant.util.hass_dict import HassKey
import probatio as vol

from ..calls import HANGUP_ORDER
from ..hub import SwitchboardHub
from ..providers.kernel.memory import BoundedSet
from ..providers.model import ARG_TO, Call, CallAction, CallState
from .destinations import (
    Destination,
    Unresolved,
    async_resolve,
    last_caller,
    means_last_caller,
    strip_back,
)
from .phrases import Phrases, async_get_phrases, phrases_for
from .targets import (
    MissedCalls,
    Phone,
    async_find_phones,
    async_missed_calls,
    async_phones,
    async_recent_callers,
)

INTENT_ANSWER_CALL: Final = "SwitchboardAnswerCall"
INTENT_REJECT_CALL: Final = "SwitchboardRejectCall"
INTENT_HANG_UP_CALL: Final = "SwitchboardHangUpCall"
INTENT_LIST_CALLS: Final = "SwitchboardListCalls"
INTENT_MISSED_CALLS: Final = "SwitchboardMissedCalls"
INTENT_TRANSFER_CALL: Final = "SwitchboardTransferCall"
INTENT_DIAL: Final = "SwitchboardDial"

SLOT_DEVICE: Final = "device"
SLOT_CALL_ID: Final = "call_id"
SLOT_DESTINATION: Final = "destination"

# Calls voice has acted on, remembered until the provider's events catch up.
REMEMBERED_CALLS = 256
# Hub errors whose reason another reason says.
_SAME_REASON: Final = {
    "call_gone": "call_ended",
    "call_not_found": "call_ended",
    "no_call_to_answer": "call_ended",
    "no_call_to_reject": "call_ended",
    "no_call_to_hangup": "call_ended",
    "no_call_to_transfer": "call_ended",
    "action_not_allowed": "refused_now",
    # Voice gives a transfer or a call only its destination.
    "invalid_option": "invalid_destination",
    "missing_option": "needs_options",
}
# The hub's error for an action the provider does not have.
_NOT_SUPPORTED: Final = "action_not_supported"
# Hang-up ends the call the user is in before one that only rings.
_NEVER: Final = datetime.max.replace(tzinfo=UTC)
_LONG_AGO: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class VoiceMemory:
    """What voice did that the calls do not show yet.

    An answered call rings on until the provider's event says otherwise; a
    second "answer the call" must take the next one, not the same one again.
    The lock keeps two requests from picking the same call at once.
    """

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    answered: BoundedSet[str] = field(
        default_factory=lambda: BoundedSet(REMEMBERED_CALLS)
    )
    ended: BoundedSet[str] = field(default_factory=lambda: BoundedSet(REMEMBERED_CALLS))

    def rings(self, call: Call) -> bool:
        """Tell whether a call still waits for an answer."""
        return (
            call.state is CallState.RINGING
            and call.call_id not in self.answered
            and call.call_id not in self.ended
        )


_MEMORY: HassKey[VoiceMemory] = HassKey("switchboard_voice")


def voice_memory(hass: HomeAssistant) -> VoiceMemory:
    """Return what voice remembers in this Home Assistant."""
    return hass.data.setdefault(_MEMORY, VoiceMemory())


@dataclass(frozen=True, slots=True)
class Ask:
    """One request as a handler takes it: where to act, and what was said."""

    # The exposed phones to act on: the ones named, if a phone was named.
    phones: list[Phone]
    # Every phone, exposed or not (a destination may be any of them).
    everyone: list[Phone]
    named: bool
    call_id: str | None
    # The area of the satellite or device that asked.
    area_id: str | None
    memory: VoiceMemory
    slots: dict[str, Any]

    def slot(self, name: str) -> str | None:
        """Return the value of slot `name`, if given."""
        value = self.slots.get(name, {}).get("value")
        return str(value) if value is not None else None

    @property
    def exposed(self) -> list[Phone]:
        """Every phone exposed to the assistant that asks."""
        return [phone for phone in self.everyone if phone.exposed]


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """A live call, and the phone voice acts on it with."""

    phone: Phone
    call: Call


def live_calls(phones: Sequence[Phone], area_id: str | None) -> list[PhoneCall]:
    """Return the live calls of `phones`, the one that rang first first.

    Each entry's calls keep the order its CallBook gives them; entries are
    merged by when their calls started. A call on several of the phones is
    listed once, on the phone in `area_id` (the asking satellite's), else on
    the first of its devices.
    """
    by_hub: dict[SwitchboardHub, dict[str, Phone]] = {}
    for phone in phones:
        by_hub.setdefault(phone.hub, {})[phone.device.device_id] = phone
    per_hub: list[list[PhoneCall]] = []
    for hub, on_device in by_hub.items():
        found: list[PhoneCall] = []
        for call in hub.calls.live_calls():
            candidates = [on_device[d] for d in call.device_ids if d in on_device]
            if not candidates:
                continue
            phone = next(
                (p for p in candidates if area_id and p.area_id == area_id),
                candidates[0],
            )
            found.append(PhoneCall(phone, call))
        per_hub.append(found)
    return list(
        merge(*per_hub, key=lambda found: found.call.started_at or _NEVER),
    )


def _requesting_area(hass: HomeAssistant, intent_obj: intent.Intent) -> str | None:
    """Return the area of the satellite or device that asked, if known."""
    device_id = intent_obj.device_id
    if intent_obj.satellite_id and (
        satellite := er.async_get(hass).async_get(intent_obj.satellite_id)
    ):
        if satellite.area_id:
            return satellite.area_id
        device_id = satellite.device_id or device_id
    if device_id and (device := dr.async_get(hass).async_get(device_id)):
        return dr.async_get_effective_area_id(hass, device)
    return None


class Reply:
    """The response to one intent, in the request's language."""

    def __init__(self, intent_obj: intent.Intent, phrases: Phrases) -> None:
        """Answer `intent_obj` in the language of `phrases`."""
        self.hass = intent_obj.hass
        self.response = intent_obj.create_response()
        self.phrases = phrases

    def text(self, key: str, **values: object) -> str:
        """Return reply `key`, starting with a capital."""
        said = self.phrases.say(key, **values)
        return said[:1].upper() + said[1:]

    def speak(self, key: str, **values: object) -> intent.IntentResponse:
        """Say reply `key`."""
        self.response.async_set_speech(self.text(key, **values))
        return self.response

    def refuse(
        self, code: intent.IntentResponseErrorCode, key: str, **values: object
    ) -> intent.IntentResponse:
        """Say reply `key` as an error."""
        self.response.async_set_error(code, self.text(key, **values))
        return self.response

    def caller(self, call: Call) -> str:
        """Name whom a call is with: the name, else the number."""
        return (
            call.remote_name or call.remote_number or self.phrases.say("unknown_caller")
        )

    def caller_in_full(self, call: Call) -> str:
        """Name whom a call is with by name and number, as far as known."""
        if call.remote_name and call.remote_number:
            return self.phrases.say(
                "caller_name_number", name=call.remote_name, number=call.remote_number
            )
        return self.caller(call)

    def items(self, calls: Sequence[PhoneCall], *, in_full: bool = False) -> str:
        """List calls: "Ada on Front desk and Charles on Kitchen"."""
        name = self.caller_in_full if in_full else self.caller
        return self.phrases.join(
            self.phrases.say(
                "call_item", caller=name(found.call), device=found.phone.name
            )
            for found in calls
        )

    def phones(self, phones: Sequence[Phone]) -> str:
        """List phones by name, each once."""
        return self.phrases.join(dict.fromkeys(phone.name for phone in phones))

    def failure(self, err: HomeAssistantError, phone: Phone, not_supported: str) -> str:
        """Say why the hub refused an action on `phone`."""
        key = err.translation_key or ""
        if key == _NOT_SUPPORTED:
            key = not_supported
        return self.phrases.reason(_SAME_REASON.get(key, key), phone.hub.provider_name)

    def about(self, found: PhoneCall) -> None:
        """Tell an LLM which call on which phone the response is about."""
        self.response.async_set_results(
            [
                intent.IntentResponseTarget(
                    name=found.phone.name,
                    type=intent.IntentResponseTargetType.DEVICE,
                    id=found.phone.device_entry_id,
                )
            ]
        )
        self.response.async_set_speech_slots(describe(found))


def describe(found: PhoneCall) -> dict[str, Any]:
    """Describe a call for an LLM."""
    call = found.call
    return {
        "call_id": call.call_id,
        "device": found.phone.name,
        "state": call.state.value,
        "direction": call.direction.value,
        "caller_name": call.remote_name,
        "caller_number": call.remote_number,
        "started_at": call.started_at.isoformat() if call.started_at else None,
    }


class SwitchboardIntentHandler(intent.IntentHandler):
    """What every call intent shares: its slots, the phones it may act on."""

    # The intent's sentences and replies in the language files.
    key: ClassVar[str]
    # What LLM agents see of it.
    title: ClassVar[str]
    annotations: ClassVar[ToolAnnotations]

    # Whether the intent may be about one call, given by its call_id.
    takes_call_id: ClassVar[bool] = True

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        schema: dict[Any, Any] = {
            vol.Optional(
                SLOT_DEVICE,
                description=(
                    "The phone: the name of a Switchboard device, its area, or"
                    " its Call sensor. Leave out to mean any exposed phone."
                ),
            ): intent.non_empty_string,
        }
        if self.takes_call_id:
            schema[
                vol.Optional(
                    SLOT_CALL_ID,
                    description=(
                        "One call, by the call_id that listing the calls gives."
                    ),
                )
            ] = intent.non_empty_string
        return schema

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        phrases = phrases_for(await async_get_phrases(hass), intent_obj.language)
        reply = Reply(intent_obj, phrases)
        everyone = phones = async_phones(hass, intent_obj.assistant)
        spoken: str | None = slots.get(SLOT_DEVICE, {}).get("value")
        if spoken:
            named = async_find_phones(hass, phones, spoken, phrases)
            if not named:
                return reply.refuse(
                    intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                    "unknown_device",
                    name=spoken.strip(),
                )
            phones = named
            if not any(phone.exposed for phone in named):
                return reply.refuse(
                    intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                    "not_exposed",
                    device=reply.phones(named),
                )
        exposed = [phone for phone in phones if phone.exposed]
        if not exposed:
            return reply.refuse(
                intent.IntentResponseErrorCode.NO_VALID_TARGETS, "no_phones"
            )
        ask = Ask(
            phones=exposed,
            everyone=everyone,
            named=bool(spoken),
            call_id=slots.get(SLOT_CALL_ID, {}).get("value"),
            area_id=_requesting_area(hass, intent_obj),
            memory=voice_memory(hass),
            slots=slots,
        )
        return await self.async_handle_phones(reply, ask)

    async def async_handle_phones(
        self, reply: Reply, ask: Ask
    ) -> intent.IntentResponse:
        """Handle the intent on `ask.phones` (exposed; the named ones if named)."""
        raise NotImplementedError


class CallActionHandler(SwitchboardIntentHandler):
    """Answer, reject, hang up or transfer one call."""

    action: ClassVar[CallAction]
    done: ClassVar[str]
    failed: ClassVar[str]
    # The reason said when the provider does not have the action.
    not_supported: ClassVar[str] = _NOT_SUPPORTED

    def candidates(
        self, calls: list[PhoneCall], memory: VoiceMemory
    ) -> list[PhoneCall]:
        """Return the calls the action may take, the most likely meant first."""
        return [found for found in calls if memory.rings(found.call)]

    def nothing(self, reply: Reply, phones: list[Phone], *, named: bool) -> str:
        """Say that there is nothing to act on."""
        if named:
            return reply.text("nothing_ringing_on", device=reply.phones(phones))
        return reply.text("nothing_ringing")

    def remember(self, memory: VoiceMemory, call: Call) -> None:
        """Remember that the provider agreed to act on `call`."""
        memory.ended.add(call.call_id)

    def prepare(
        self, reply: Reply, ask: Ask, found: PhoneCall
    ) -> tuple[dict[str, Any], dict[str, str]] | Unresolved:
        """Return the action's arguments and what the replies say of them.

        Or why the action cannot be asked for on `found`.
        """
        del reply, ask, found
        return {}, {}

    def said_done(
        self,
        reply: Reply,
        found: PhoneCall,
        others: list[PhoneCall],
        values: dict[str, str],
    ) -> str:
        """Say what was done."""
        del others
        return reply.text(
            self.done,
            caller=reply.caller(found.call),
            device=found.phone.name,
            **values,
        )

    @override
    async def async_handle_phones(
        self, reply: Reply, ask: Ask
    ) -> intent.IntentResponse:
        phones, named, call_id, memory = ask.phones, ask.named, ask.call_id, ask.memory
        async with memory.lock:
            calls = live_calls(phones, ask.area_id)
            candidates = self.candidates(calls, memory)
            if call_id is not None:
                if not any(found.call.call_id == call_id for found in calls):
                    return reply.refuse(
                        intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                        "unknown_call",
                        call_id=call_id,
                    )
                candidates = [c for c in candidates if c.call.call_id == call_id]
            if not candidates:
                reply.response.async_set_error(
                    intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                    self.nothing(reply, phones, named=named),
                )
                return reply.response
            found, others = candidates[0], candidates[1:]
            prepared = self.prepare(reply, ask, found)
            if isinstance(prepared, Unresolved):
                return reply.refuse(
                    intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                    prepared.key,
                    **prepared.values,
                )
            options, values = prepared
            try:
                await found.phone.hub.async_act(
                    found.phone.device,
                    self.action,
                    found.call.call_id,
                    options or None,
                )
            except HomeAssistantError as err:
                reply.about(found)
                return reply.refuse(
                    intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                    self.failed,
                    caller=reply.caller(found.call),
                    device=found.phone.name,
                    reason=reply.failure(err, found.phone, self.not_supported),
                    **values,
                )
            self.remember(memory, found.call)
        reply.about(found)
        reply.response.async_set_speech(self.said_done(reply, found, others, values))
        return reply.response


class AnswerCallHandler(CallActionHandler):
    """Answer the call that has rung longest, and say who it is."""

    intent_type = INTENT_ANSWER_CALL
    key = "answer_call"
    title = "Answer a phone call"
    description = (
        "Answers a ringing phone call: the one that has rung longest, on any"
        " exposed phone or on the device given. Says whom it answered."
    )
    annotations = ToolAnnotations(destructive=False)
    action = CallAction.ANSWER
    done = "answered"
    failed = "answer_failed"

    @override
    def remember(self, memory: VoiceMemory, call: Call) -> None:
        memory.answered.add(call.call_id)

    @override
    def said_done(
        self,
        reply: Reply,
        found: PhoneCall,
        others: list[PhoneCall],
        values: dict[str, str],
    ) -> str:
        if not others:
            return super().said_done(reply, found, others, values)
        return reply.text(
            "answered_first",
            caller=reply.caller(found.call),
            device=found.phone.name,
            others=reply.items(others),
        )


class RejectCallHandler(CallActionHandler):
    """Decline the call that has rung longest."""

    intent_type = INTENT_REJECT_CALL
    key = "reject_call"
    title = "Decline a phone call"
    description = (
        "Declines a ringing phone call: the one that has rung longest, on any"
        " exposed phone or on the device given."
    )
    annotations = ToolAnnotations()
    action = CallAction.REJECT
    done = "rejected"
    failed = "reject_failed"


def _in_progress_first(calls: list[PhoneCall], memory: VoiceMemory) -> list[PhoneCall]:
    """Return the calls not ended: answered here first, then in HANGUP_ORDER."""
    live = [found for found in calls if found.call.call_id not in memory.ended]

    def _rank(found: PhoneCall) -> int:
        if found.call.call_id in memory.answered:
            return 0
        return HANGUP_ORDER.index(found.call.state)

    return sorted(live, key=_rank)


class HangUpCallHandler(CallActionHandler):
    """End the call the user is in, or else one that rings."""

    intent_type = INTENT_HANG_UP_CALL
    key = "hang_up_call"
    title = "Hang up a phone call"
    description = (
        "Ends a phone call: the one in progress, else one that is still"
        " ringing, on any exposed phone or on the device given."
    )
    annotations = ToolAnnotations()
    action = CallAction.HANGUP
    done = "hung_up"
    failed = "hang_up_failed"

    @override
    def candidates(
        self, calls: list[PhoneCall], memory: VoiceMemory
    ) -> list[PhoneCall]:
        return _in_progress_first(calls, memory)

    @override
    def nothing(self, reply: Reply, phones: list[Phone], *, named: bool) -> str:
        if named:
            return reply.text("no_call_on", device=reply.phones(phones))
        return reply.text("no_call")


class ListCallsHandler(SwitchboardIntentHandler):
    """Say who is calling; give an LLM every live call."""

    intent_type = INTENT_LIST_CALLS
    key = "list_calls"
    title = "List the phone calls"
    description = (
        "Lists the current phone calls on the exposed phones (or the device"
        " given): for each its call_id, device, state and caller, and says who"
        " is calling."
    )
    annotations = ToolAnnotations(read_only=True, destructive=False, open_world=False)

    @override
    async def async_handle_phones(
        self, reply: Reply, ask: Ask
    ) -> intent.IntentResponse:
        phones, named, call_id, memory = ask.phones, ask.named, ask.call_id, ask.memory
        calls = [
            found
            for found in live_calls(phones, ask.area_id)
            if found.call.call_id not in memory.ended
            and call_id in (None, found.call.call_id)
        ]
        ringing = [found for found in calls if memory.rings(found.call)]
        reply.response.response_type = intent.IntentResponseType.QUERY_ANSWER
        reply.response.async_set_speech_slots(
            {"calls": [describe(found) for found in calls]}
        )
        if len(ringing) == 1:
            (found,) = ringing
            return reply.speak(
                "ringing_one",
                caller=reply.caller_in_full(found.call),
                device=found.phone.name,
            )
        if ringing:
            return reply.speak(
                "ringing_many",
                count=len(ringing),
                calls=reply.items(ringing, in_full=True),
            )
        if calls:
            return reply.speak("on_the_line", calls=reply.items(calls, in_full=True))
        if named:
            return reply.speak("nothing_ringing_on", device=reply.phones(phones))
        return reply.speak("nothing_ringing")


class MissedCallsHandler(SwitchboardIntentHandler):
    """Say how many calls went unanswered, per phone, and who called last."""

    intent_type = INTENT_MISSED_CALLS
    key = "missed_calls"
    title = "Count the missed calls"
    description = (
        "Says how many incoming calls went unanswered on the exposed phones (or"
        " the device given), per phone, and who called last; for each phone its"
        " count, last caller and when that call was missed."
    )
    annotations = ToolAnnotations(read_only=True, destructive=False, open_world=False)
    takes_call_id = False

    @override
    async def async_handle_phones(
        self, reply: Reply, ask: Ask
    ) -> intent.IntentResponse:
        phones, named = ask.phones, ask.named
        counted = async_missed_calls(reply.hass, phones)
        reply.response.response_type = intent.IntentResponseType.QUERY_ANSWER
        reply.response.async_set_speech_slots(
            {"missed_calls": [_describe_missed(missed) for missed in counted]}
        )
        missed = [found for found in counted if found.count]
        if len(missed) > 1:
            return _speak_for_phones(reply, missed)
        if missed:
            return _speak_for_phone(reply, missed[0])
        if named:
            return reply.speak("no_missed_on", device=reply.phones(phones))
        return reply.speak("no_missed")


class TransferCallHandler(CallActionHandler):
    """Send the call in progress on to a number or another phone (blind)."""

    intent_type = INTENT_TRANSFER_CALL
    key = "transfer_call"
    title = "Transfer a phone call"
    description = (
        "Transfers a phone call (blind) to the destination given: the call in"
        " progress, else one on hold or ringing, on any exposed phone or on the"
        " device given. Says whom it transferred where."
    )
    annotations = ToolAnnotations()
    action = CallAction.TRANSFER
    done = "transferred"
    failed = "transfer_failed"
    not_supported = "transfer_not_supported"

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        return {
            vol.Required(
                SLOT_DESTINATION,
                description=(
                    "Where the call goes: a phone number (digits, with + and the"
                    " country code), the name of another Switchboard phone, or an"
                    " address the provider takes as it is (a SIP URI, an e-mail"
                    " address, a Teams user's id)."
                ),
            ): intent.non_empty_string,
            **super().slot_schema,
        }

    @override
    def candidates(
        self, calls: list[PhoneCall], memory: VoiceMemory
    ) -> list[PhoneCall]:
        """Return the calls not ended, in progress first, transferable ones first.

        A call that cannot be transferred comes last, so that the reply says
        why when it is the only one.
        """
        return sorted(
            _in_progress_first(calls, memory),
            key=lambda found: CallAction.TRANSFER not in found.call.actions,
        )

    @override
    def nothing(self, reply: Reply, phones: list[Phone], *, named: bool) -> str:
        if named:
            return reply.text("no_call_to_transfer_on", device=reply.phones(phones))
        return reply.text("no_call_to_transfer")

    @override
    def remember(self, memory: VoiceMemory, call: Call) -> None:
        # The call stays on the phone until the provider says it went on,
        # and stays if the destination does not take it.
        del memory, call

    @override
    def prepare(
        self, reply: Reply, ask: Ask, found: PhoneCall
    ) -> tuple[dict[str, Any], dict[str, str]] | Unresolved:
        spoken = ask.slot(SLOT_DESTINATION) or ""
        # Not to the line the call is on (or one of its number): the others.
        here = [p for p in ask.everyone if _same_line(p, found.phone)]
        resolved = async_resolve(
            reply.hass,
            spoken,
            reply.phrases,
            phones=[p for p in ask.everyone if p not in here],
        )
        if isinstance(resolved, Unresolved):
            if resolved.key == "unknown_destination" and async_find_phones(
                reply.hass, here, spoken, reply.phrases
            ):
                return Unresolved(
                    "already_on",
                    {"caller": reply.caller(found.call), "device": found.phone.name},
                )
            return resolved
        return {ARG_TO: resolved.address}, {"destination": resolved.shown}


class DialHandler(SwitchboardIntentHandler):
    """Call a number, another phone or someone who called; or call back."""

    intent_type = INTENT_DIAL
    key = "dial"
    title = "Place a phone call"
    description = (
        "Places a phone call to the destination given (a number, another"
        " Switchboard phone, or someone who called lately, by name), or, without"
        " a destination, calls back the last caller. It calls from the device"
        " given, else from the phone the caller called, else from an exposed"
        " phone. Says whom it calls from which phone; the call starts dialing."
    )
    annotations = ToolAnnotations()
    takes_call_id = False

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        return {
            vol.Optional(
                SLOT_DESTINATION,
                description=(
                    "Whom to call: a phone number (digits, with + and the country"
                    " code), the name of another Switchboard phone, the name of"
                    " someone who called lately, or an address the provider takes"
                    " as it is. Leave out to call back the last caller."
                ),
            ): intent.non_empty_string,
            **super().slot_schema,
        }

    @override
    async def async_handle_phones(
        self, reply: Reply, ask: Ask
    ) -> intent.IntentResponse:
        found = self._destination(reply, ask)
        if isinstance(found, Unresolved):
            return reply.refuse(
                intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                found.key,
                **found.values,
            )
        line = _line(ask, found)
        if line is None:
            return reply.refuse(
                intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                "no_other_phone",
                destination=found.shown,
            )
        try:
            call = await line.hub.async_dial(line.device, {ARG_TO: found.address})
        except HomeAssistantError as err:
            return reply.refuse(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                "dial_failed",
                destination=found.shown,
                device=line.name,
                reason=reply.failure(err, line, "dial_not_supported"),
            )
        reply.about(PhoneCall(line, call))
        return reply.speak("calling", destination=found.shown, device=line.name)

    def _destination(self, reply: Reply, ask: Ask) -> Destination | Unresolved:
        """Whom to call: the one named, else the last caller."""
        phrases = reply.phrases
        spoken = strip_back(ask.slot(SLOT_DESTINATION) or "", phrases)
        callers = async_recent_callers(reply.hass, ask.exposed)
        if not means_last_caller(spoken, phrases):
            return async_resolve(
                reply.hass, spoken, phrases, phones=ask.everyone, callers=callers
            )
        if ask.named:
            # "Call back the last caller on the kitchen phone": that phone's.
            callers = async_recent_callers(reply.hass, ask.phones)
        if (last := last_caller(callers)) is not None:
            return last
        if ask.named:
            return Unresolved("no_last_caller_on", {"device": reply.phones(ask.phones)})
        return Unresolved("no_last_caller")


def _same_line(phone: Phone, other: Phone) -> bool:
    """Tell whether two phones are one, or lines of the same number."""
    return phone.device_entry_id == other.device_entry_id or (
        phone.device.number is not None and phone.device.number == other.device.number
    )


def _is_line_of(phone: Phone, destination: Destination) -> bool:
    """Tell whether calling `destination` from `phone` would call itself."""
    if destination.phone is not None and _same_line(phone, destination.phone):
        return True
    return phone.device.number is not None and phone.device.number == (
        destination.address
    )


def _line(ask: Ask, destination: Destination) -> Phone | None:
    """Return the phone to call from: named, else the one called, else near.

    The phone the destination is, or shares its number, is never one: a
    phone does not call itself.
    """
    lines = [phone for phone in ask.phones if not _is_line_of(phone, destination)]
    if not lines:
        return None
    preferred: list[Phone] = []
    if not ask.named and destination.called in lines:
        preferred.append(destination.called)
    preferred.extend(
        phone for phone in lines if ask.area_id and phone.area_id == ask.area_id
    )
    preferred.extend(lines)
    # One that cannot dial only when none can: the reply then says so.
    return next((phone for phone in preferred if phone.can_dial), preferred[0])


def _missed(reply: Reply, count: int) -> str:
    """Say a number of missed calls: "1 missed call", "2 missed calls"."""
    if count == 1:
        return reply.phrases.say("missed_count_one")
    return reply.phrases.say("missed_count", count=count)


def _speak_for_phone(reply: Reply, found: MissedCalls) -> intent.IntentResponse:
    """Say the missed calls of one phone: the count, the last caller."""
    device, caller = found.phone.name, found.last_caller
    if caller is None:
        return reply.speak(
            "missed_on", missed=_missed(reply, found.count), device=device
        )
    if found.count == 1:
        return reply.speak("missed_one_from", device=device, caller=caller)
    return reply.speak(
        "missed_on_last",
        missed=_missed(reply, found.count),
        device=device,
        caller=caller,
    )


def _speak_for_phones(reply: Reply, missed: list[MissedCalls]) -> intent.IntentResponse:
    """Say the missed calls of several phones: each count, the last caller.

    No total: a call that rang on several phones (Webex) counts on each. Such
    a call is the last on each of them, and the reply names them all.
    """
    devices = reply.phrases.join(
        reply.phrases.say("missed_item", count=found.count, device=found.phone.name)
        for found in missed
    )
    latest = max(missed, key=lambda found: found.last_missed_at or _LONG_AGO)
    if latest.last_missed_at is None or latest.last_caller is None:
        return reply.speak("missed_many", devices=devices)
    on = [
        found.phone
        for found in missed
        if (found.last_missed_at, found.last_caller)
        == (latest.last_missed_at, latest.last_caller)
    ]
    return reply.speak(
        "missed_many_last",
        devices=devices,
        caller=latest.last_caller,
        device=reply.phones(on),
    )


def _describe_missed(missed: MissedCalls) -> dict[str, Any]:
    """Describe a phone's missed calls for an LLM."""
    return {
        "device": missed.phone.name,
        "count": missed.count,
        "last_caller": missed.last_caller,
        "last_missed_at": missed.last_missed_at.isoformat()
        if missed.last_missed_at
        else None,
    }


HANDLERS: Final[tuple[SwitchboardIntentHandler, ...]] = (
    AnswerCallHandler(),
    RejectCallHandler(),
    HangUpCallHandler(),
    ListCallsHandler(),
    MissedCallsHandler(),
    TransferCallHandler(),
    DialHandler(),
)
