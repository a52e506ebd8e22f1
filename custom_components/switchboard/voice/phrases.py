"""What voice understands and says, per language, read from sentences/<lang>.yaml.

The files are data, not code: a translator edits one file per language. They
are read once, in the executor, and checked here: every reply and error of
English exists in every language, with no placeholder a reply cannot fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
import string
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.util import language as language_util
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.yaml import load_yaml_dict
import probatio as vol

SENTENCES_DIR: Final = Path(__file__).parent.parent / "sentences"
LANGUAGES: Final = ("en", "de", "fr", "es", "nl")
FALLBACK_LANGUAGE: Final = "en"

# Each reply, and the placeholders it may use.
REPLIES: Final[Mapping[str, frozenset[str]]] = {
    key: frozenset(fields)
    for key, fields in {
        "answered": ("caller", "device"),
        "answered_first": ("caller", "device", "others"),
        "rejected": ("caller", "device"),
        "hung_up": ("caller", "device"),
        "ringing_one": ("caller", "device"),
        "ringing_many": ("count", "calls"),
        "call_item": ("caller", "device"),
        "on_the_line": ("calls",),
        "nothing_ringing": (),
        "nothing_ringing_on": ("device",),
        "no_call": (),
        "no_call_on": ("device",),
        "unknown_call": ("call_id",),
        "unknown_device": ("name",),
        "not_exposed": ("device",),
        "no_phones": (),
        "caller_name_number": ("name", "number"),
        "unknown_caller": (),
        "and": (),
        "answer_failed": ("caller", "device", "reason"),
        "reject_failed": ("caller", "device", "reason"),
        "hang_up_failed": ("caller", "device", "reason"),
        "missed_count_one": (),
        "missed_count": ("count",),
        "no_missed": (),
        "no_missed_on": ("device",),
        "missed_on": ("missed", "device"),
        "missed_one_from": ("device", "caller"),
        "missed_on_last": ("missed", "device", "caller"),
        "missed_item": ("count", "device"),
        "missed_many": ("devices",),
        "missed_many_last": ("devices", "caller", "device"),
        "or": (),
        "transferred": ("caller", "device", "destination"),
        "transfer_failed": ("caller", "device", "destination", "reason"),
        "no_call_to_transfer": (),
        "no_call_to_transfer_on": ("device",),
        "calling": ("destination", "device"),
        "dial_failed": ("destination", "device", "reason"),
        "unknown_destination": ("name",),
        "unknown_person": ("name",),
        "ambiguous": ("name", "choices"),
        "no_number": ("device",),
        "no_last_caller": (),
        "no_last_caller_on": ("device",),
        "no_other_phone": ("destination",),
        "already_on": ("caller", "device"),
    }.items()
}
# Why an action failed, by the translation key of the hub's error.
ERRORS: Final[Mapping[str, frozenset[str]]] = {
    key: frozenset({"provider"})
    for key in (
        "cannot_connect",
        "rate_limited",
        "invalid_auth",
        "permission_denied",
        "call_ended",
        "refused_now",
        "action_not_supported",
        "transfer_not_supported",
        "dial_not_supported",
        "invalid_destination",
        "needs_options",
        "provider_error",
    )
}
# Words that help read a destination: "plus" for the + of a number, "back"
# around a name ("call Ada back"), and the ways to say the last caller.
WORDS: Final = ("plus", "back", "last_caller")

_DATA: HassKey[dict[str, Phrases]] = HassKey("switchboard_phrases")
_LOCK: HassKey[asyncio.Lock] = HassKey("switchboard_phrases_lock")


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _fills(allowed: Mapping[str, frozenset[str]]) -> Any:
    """Validate a mapping with exactly `allowed`'s keys and their placeholders."""

    def _check(value: Mapping[str, str]) -> Mapping[str, str]:
        for key, text in value.items():
            if unknown := _placeholders(text) - allowed[key]:
                raise vol.Invalid(f"{key} uses unknown placeholders {sorted(unknown)}")
        return value

    return vol.All(
        vol.Schema(
            {vol.Required(key): vol.All(str, vol.Length(min=1)) for key in allowed}
        ),
        _check,
    )


FILE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("language"): vol.In(LANGUAGES),
        vol.Required("sentences"): {str: [vol.All(str, vol.Length(min=1))]},
        vol.Required("filler"): [str],
        vol.Required("replies"): _fills(REPLIES),
        vol.Required("errors"): _fills(ERRORS),
        vol.Required("words"): vol.Schema(
            {vol.Required(key): [vol.All(str, vol.Length(min=1))] for key in WORDS}
        ),
    }
)


def normalize(text: str) -> str:
    """Fold a name for comparing: no case, no punctuation, single spaces."""
    kept = "".join(char if char.isalnum() else " " for char in text.casefold())
    return " ".join(kept.split())


@dataclass(frozen=True, slots=True)
class Phrases:
    """The sentences, replies and errors of one language."""

    language: str
    sentences: Mapping[str, tuple[str, ...]]
    filler: frozenset[str]
    replies: Mapping[str, str]
    errors: Mapping[str, str]
    # Each normalized, without filler (see WORDS).
    plus: frozenset[str]
    back: frozenset[str]
    last_caller: frozenset[str]

    def say(self, key: str, **values: object) -> str:
        """Return reply `key` with its placeholders filled."""
        return self.replies[key].format(**values)

    def reason(self, error_key: str | None, provider: str) -> str:
        """Say why the provider failed, from the key of the hub's error."""
        known = self.errors.get(error_key or "")
        return (known or self.errors["provider_error"]).format(provider=provider)

    def join(self, items: Iterable[str], conjunction: str = "and") -> str:
        """Join `items` as a list: "a, b and c" (or "a, b or c")."""
        *first, last = list(items) or [""]
        if not first:
            return last
        return f"{', '.join(first)} {self.replies[conjunction]} {last}"

    def without_filler(self, name: str) -> str:
        """Return a normalized name without this language's filler words."""
        return _without_filler(name, self.filler)


def _without_filler(name: str, filler: frozenset[str]) -> str:
    return " ".join(word for word in normalize(name).split() if word not in filler)


def read_phrases(path: Path) -> Phrases:
    """Read and check one language file (blocking: run it in the executor)."""
    data = FILE_SCHEMA(load_yaml_dict(path))
    filler = frozenset(normalize(word) for word in data["filler"])

    def _words(key: str) -> frozenset[str]:
        return frozenset(_without_filler(said, filler) for said in data["words"][key])

    return Phrases(
        language=data["language"],
        sentences={key: tuple(value) for key, value in data["sentences"].items()},
        filler=filler,
        replies=data["replies"],
        errors=data["errors"],
        plus=_words("plus"),
        back=_words("back"),
        last_caller=_words("last_caller"),
    )


def _read_all() -> dict[str, Phrases]:
    return {
        language: read_phrases(SENTENCES_DIR / f"{language}.yaml")
        for language in LANGUAGES
    }


async def async_get_phrases(hass: HomeAssistant) -> Mapping[str, Phrases]:
    """Return every language's phrases, read once without blocking the loop."""
    if (phrases := hass.data.get(_DATA)) is not None:
        return phrases
    lock = hass.data.setdefault(_LOCK, asyncio.Lock())
    async with lock:
        if (phrases := hass.data.get(_DATA)) is None:
            phrases = hass.data[_DATA] = await hass.async_add_executor_job(_read_all)
    return phrases


def supported_language(language: str) -> str | None:
    """Return the language of ours that best matches `language`, if any."""
    matches = language_util.matches(language, LANGUAGES)
    return matches[0] if matches else None


def phrases_for(phrases: Mapping[str, Phrases], language: str) -> Phrases:
    """Return the phrases of `language`, or English when we do not speak it."""
    return phrases[supported_language(language) or FALLBACK_LANGUAGE]
