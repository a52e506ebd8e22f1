"""Where a transfer or a new call goes: a number, a phone, a recent caller.

A user names the destination as they would to a person: a number said aloud
("+1 555 0100 002", "plus 1 555..."), the name of another Switchboard phone
(its device name, area or Call sensor name: "the office"), or, for a call,
someone who called lately ("Pizza Place", "the last caller"). An LLM may also
give an address the provider takes as it is (a SIP URI, an e-mail address, a
Teams user's id).

A name that fits several numbers is not guessed: the reply lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import re
from typing import Final

from homeassistant.core import HomeAssistant, callback

from .phrases import Phrases, normalize
from .targets import Phone, RecentCaller, async_find_phones

# What may stand between a number's digits when said or typed.
_SEPARATORS: Final = re.compile(r"[\s\-./()]+")
_NUMBER: Final = re.compile(r"\+?\d{2,20}")
# A Teams user's object id, say: taken as it is.
_GUID: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the call goes, and how replies name it."""

    # What the provider gets as `to`.
    address: str
    # The phone's or the caller's name, else the number.
    shown: str
    # The Switchboard phone it is (a call is not placed from it to itself).
    phone: Phone | None = None
    # The phone a recent caller called (a call back goes out from there).
    called: Phone | None = None


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why a destination could not be found: a reply and what fills it."""

    key: str
    values: dict[str, str] = field(default_factory=dict)


type Resolved = Destination | Unresolved


def spoken_number(spoken: str, phrases: Phrases) -> str | None:
    """Return the number said, in digits (and a leading +), if it is one.

    "+1 (555) 0100-002" and "plus 1 555 0100 002" are both +15550100002, and
    filler words go ("le 06 12 34 56 78" in French).
    """
    words = [
        "+" if normalize(word) in phrases.plus else word
        for word in spoken.split()
        if normalize(word) not in phrases.filler
    ]
    number = _SEPARATORS.sub("", "".join(words))
    return number if _NUMBER.fullmatch(number) else None


def _address(spoken: str) -> str | None:
    """Return `spoken` if it is an address the provider takes as it is."""
    text = spoken.strip()
    if "@" in text or text.casefold().startswith(("sip:", "sips:", "tel:")):
        return text
    return text if _GUID.fullmatch(text) else None


def strip_back(spoken: str, phrases: Phrases) -> str:
    """Leave out "back" before or after a name: "call Ada back"."""
    words = spoken.split()
    while words and normalize(words[0]) in phrases.back:
        words.pop(0)
    while words and normalize(words[-1]) in phrases.back:
        words.pop()
    return " ".join(words)


def means_last_caller(spoken: str, phrases: Phrases) -> bool:
    """Tell whether `spoken` is the language's way to say the last caller."""
    return not spoken.strip() or phrases.without_filler(spoken) in phrases.last_caller


def _choose(spoken: str, phrases: Phrases, found: Sequence[Destination]) -> Resolved:
    """Return the first of `found` when all go to one address, else which can."""
    first: dict[str, Destination] = {}
    for destination in found:
        first.setdefault(destination.address, destination)
    if len(first) == 1:
        return next(iter(first.values()))
    choices = [
        phrases.say("caller_name_number", name=shown, number=address)
        for shown, address in dict.fromkeys((d.shown, d.address) for d in found)
    ]
    return Unresolved(
        "ambiguous",
        {"name": spoken.strip(), "choices": phrases.join(choices, "or")},
    )


@callback
def async_find_phone_destination(
    hass: HomeAssistant, phones: Sequence[Phone], spoken: str, phrases: Phrases
) -> Resolved | None:
    """Return the Switchboard phone `spoken` names, as a destination.

    None when no phone has that name.
    """
    named = async_find_phones(hass, phones, spoken, phrases)
    if not named:
        return None
    with_number = [phone for phone in named if phone.device.number]
    if not with_number:
        names = phrases.join(dict.fromkeys(phone.name for phone in named))
        return Unresolved("no_number", {"device": names})
    return _choose(
        spoken,
        phrases,
        [
            Destination(phone.device.number, phone.name, phone=phone)
            for phone in with_number
            if phone.device.number
        ],
    )


def _caller_destination(caller: RecentCaller) -> Destination:
    return Destination(caller.number, caller.name or caller.number, called=caller.phone)


def find_recent_caller(
    callers: Sequence[RecentCaller], spoken: str, phrases: Phrases
) -> Resolved | None:
    """Return the recent caller `spoken` names; None when none has that name.

    The whole name as said, else without filler words, else the words said
    among the words of the name ("Ada" for "Ada Lovelace").
    """
    said, bare = normalize(spoken), phrases.without_filler(spoken)
    named = [caller for caller in callers if caller.name]

    def _pick(matches: list[RecentCaller]) -> Resolved | None:
        if not matches:
            return None
        # The newest first: its phone calls back.
        return _choose(spoken, phrases, [_caller_destination(c) for c in matches])

    words = set(bare.split())
    return (
        _pick([c for c in named if normalize(c.name or "") == said])
        or _pick([c for c in named if phrases.without_filler(c.name or "") == bare])
        or _pick(
            [
                c
                for c in named
                if words and words <= set(phrases.without_filler(c.name or "").split())
            ]
        )
    )


def last_caller(callers: Sequence[RecentCaller]) -> Destination | None:
    """Return the newest caller who called in (not one called), if any."""
    return next(
        (_caller_destination(caller) for caller in callers if caller.incoming), None
    )


@callback
def async_resolve(
    hass: HomeAssistant,
    spoken: str,
    phrases: Phrases,
    *,
    phones: Sequence[Phone],
    callers: Sequence[RecentCaller] | None = None,
) -> Resolved:
    """Find where `spoken` means: a number, an address, a phone, a recent caller.

    Numbers first (a phone named "100" is rare), then the phones' names, then
    the recent callers' (when `callers` are given: a new call, not a transfer).
    """
    if number := spoken_number(spoken, phrases):
        return Destination(number, number)
    if address := _address(spoken):
        return Destination(address, address)
    if (found := async_find_phone_destination(hass, phones, spoken, phrases)) or (
        callers is not None and (found := find_recent_caller(callers, spoken, phrases))
    ):
        return found
    return Unresolved(
        "unknown_destination" if callers is None else "unknown_person",
        {"name": spoken.strip()},
    )
