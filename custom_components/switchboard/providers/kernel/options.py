"""Declarative per-action option schemas: which options an action takes, and checks.

A schema maps each action to its options, each option to a check. A check
returns None for a good value, else the reason it is refused ("must be ...").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from ..model import ARG_VOICEMAIL, CallAction, InvalidOptionError

type Check = Callable[[Any], str | None]
type OptionSchema = Mapping[CallAction, Mapping[str, Check]]


def check_options(
    schema: OptionSchema,
    action: CallAction,
    options: Mapping[str, Any],
    *,
    unknown: str,
    required: Mapping[CallAction, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Return a copy of `options` once every one passes its check.

    Raises InvalidOptionError naming the first `required` option missing for
    the action, the first option the action does not take (the reason is
    `unknown`) or whose value its check refuses. An action the schema does not
    name takes no options.
    """
    for name in (required or {}).get(action, ()):
        if name not in options:
            raise InvalidOptionError(name, "is required")
    allowed = schema.get(action, {})
    for name, value in options.items():
        check = allowed.get(name)
        if check is None:
            raise InvalidOptionError(name, unknown)
        if (reason := check(value)) is not None:
            raise InvalidOptionError(name, reason)
    return dict(options)


def refuse_voicemail(
    action: CallAction, options: Mapping[str, Any], reason: str
) -> None:
    """Refuse a transfer to voicemail on a provider that has no divert.

    Called before check_options, so that the reason given is the missing
    divert, not the `to` such a transfer leaves out. `voicemail: false` asks
    for nothing and passes.
    """
    if action is CallAction.TRANSFER and options.get(ARG_VOICEMAIL, False) is not False:
        raise InvalidOptionError(ARG_VOICEMAIL, reason)


# --- checks ---


def one_of(*values: str, ignore_case: bool = False) -> Check:
    """Accept one of `values` (compared in lower case with ignore_case)."""
    allowed = {value.lower() for value in values} if ignore_case else set(values)

    def check(value: Any) -> str | None:
        if ignore_case and isinstance(value, str):
            value = value.lower()
        if isinstance(value, str) and value in allowed:
            return None
        return f"must be one of {', '.join(values)}"

    return check


def non_empty_string(value: Any) -> str | None:
    """Accept a string of at least one character."""
    return None if isinstance(value, str) and value else "must be a non-empty string"


def text_length(low: int, high: int) -> Check:
    """Accept a string of `low` to `high` characters."""

    def check(value: Any) -> str | None:
        if isinstance(value, str) and low <= len(value) <= high:
            return None
        return f"must be {low} to {high} characters"

    return check


def boolean(value: Any) -> str | None:
    """Accept true or false."""
    return None if isinstance(value, bool) else "must be true or false"


def json_object(value: Any) -> str | None:
    """Accept a JSON object."""
    return None if isinstance(value, dict) else "must be an object"


def int_range(low: int, high: int | None = None) -> Check:
    """Accept a whole number from `low` up to `high` (or without a top)."""

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if value < low or (high is not None and value > high):
            if high is None:
                return f"must be {low} or more"
            return f"must be between {low} and {high}"
        return None

    return check


def dtmf_digits(alphabet: str, high: int) -> Check:
    """Accept 1 to `high` keys, each one of `alphabet` (e.g. "0123456789*#")."""

    def check(value: Any) -> str | None:
        if (
            isinstance(value, str)
            and 0 < len(value) <= high
            and all(key in alphabet for key in value)
        ):
            return None
        return f"must be 1 to {high} of {alphabet}"

    return check


def http_url(value: Any) -> str | None:
    """Accept an absolute http or https URL."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        rest = value.split("://", 1)[1]
        if rest and not rest.startswith("/") and not any(c.isspace() for c in value):
            return None
    return "must be an http or https URL"


def base64_string(value: Any) -> str | None:
    """Accept a string of standard base64."""
    if not isinstance(value, str):
        return "must be a base64 string"
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return "must be a valid base64 string"
    return None
