"""The options of each action, and the defaults Graph needs."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final
import uuid

from ..kernel.options import (
    OptionSchema,
    check_options,
    dtmf_digits,
    http_url,
    int_range,
    one_of,
)
from ..kernel.values import normalize_number
from ..model import (
    ARG_DIGITS,
    ARG_TO,
    ARG_URL,
    CallAction,
    InvalidOptionError,
)

SERVICE_HOSTED: Final = "#microsoft.graph.serviceHostedMediaConfig"
APP_HOSTED: Final = "#microsoft.graph.appHostedMediaConfig"
MODALITIES: Final = ("audio", "video", "videoBasedScreenSharing")
REJECT_REASONS: Final = ("none", "busy", "forbidden")
DEFAULT_MODALITIES: Final = ("audio",)
# toneInfo's tones: tone0-tone9, star, pound in its property table; a, b, c, d
# (and flash) only in its JSON representation (UNCONFIRMED that Graph sends
# A-D when asked to).
DIGITS: Final = "0123456789*#ABCD"
# sendDtmfTones documents no longest list (UNCONFIRMED): one a person would
# dial at most.
MAX_DIGITS: Final = 64
# No longest delayBetweenTonesMs either (UNCONFIRMED): up to 10 seconds.
MAX_TONE_DELAY_MS: Final = 10_000
# "Phone ID is the phone number in E.164 format": up to 15 digits.
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
TARGET_REASON: Final = (
    "must be a Teams user's object id (a GUID) or a phone number in E.164 form"
    " (+12025550123)"
)
APPLICATION_INSTANCE: Final = "application_instance_id"
GUID_LENGTH: Final = 36


def phone_number(value: str) -> str | None:
    """Return an E.164 number from a number with blanks or dashes; else None."""
    if not value.strip().startswith("+"):
        return None
    number = normalize_number(value)
    return number if _E164.fullmatch(number) else None


def is_guid(value: Any) -> bool:
    """Whether `value` is a GUID in its usual 36-character form."""
    if not isinstance(value, str) or len(value) != GUID_LENGTH:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _target(value: Any) -> str | None:
    """Accept a Teams user (its Entra object id) or a phone number."""
    if isinstance(value, str) and (is_guid(value) or phone_number(value)):
        return None
    return TARGET_REASON


def _guid(value: Any) -> str | None:
    return None if is_guid(value) else "must be an object id (a GUID)"


def _modalities(value: Any) -> str | None:
    if (
        isinstance(value, list)
        and value
        and all(item in MODALITIES for item in value)
        and len(set(value)) == len(value)
    ):
        return None
    return f"must be a non-empty list of distinct {', '.join(MODALITIES)}"


def _media_type(config: Mapping[str, Any]) -> str:
    """Return the config's @odata.type with its leading "#" (Graph takes both)."""
    return f"#{str(config['@odata.type']).removeprefix('#')}"


def _media_config(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be an object"
    if not isinstance(value.get("@odata.type"), str) or _media_type(value) not in {
        SERVICE_HOSTED,
        APP_HOSTED,
    }:
        return f"@odata.type must be {SERVICE_HOSTED} or {APP_HOSTED}"
    if _media_type(value) == APP_HOSTED:
        blob = value.get("blob")
        if not isinstance(blob, str) or not blob:
            return "appHostedMediaConfig needs the media platform's blob"
        return None
    media = value.get("preFetchMedia", [])
    if not isinstance(media, list) or not all(
        isinstance(item, dict) and isinstance(item.get("uri"), str) for item in media
    ):
        return "preFetchMedia must be a list of objects with a uri"
    return None


OPTIONS: Final[OptionSchema] = {
    CallAction.ANSWER: {
        "accepted_modalities": _modalities,
        "media_config": _media_config,
    },
    CallAction.REJECT: {"reason": one_of(*REJECT_REASONS, ignore_case=True)},
    # Graph has no divert to voicemail: ARG_VOICEMAIL is not an option here.
    CallAction.TRANSFER: {ARG_TO: _target},
    CallAction.DIAL: {ARG_TO: _target, APPLICATION_INSTANCE: _guid},
    # A .wav file: 16 kHz, 16-bit, mono ("Currently supports only Wave file").
    # Whether Graph fetches http as well as https is UNCONFIRMED: both pass.
    CallAction.PLAY: {ARG_URL: http_url},
    CallAction.SEND_DIGITS: {
        ARG_DIGITS: dtmf_digits(DIGITS, MAX_DIGITS),
        "delay_ms": int_range(0, MAX_TONE_DELAY_MS),
    },
}
REQUIRED: Final[Mapping[CallAction, tuple[str, ...]]] = {
    CallAction.TRANSFER: (ARG_TO,),
    CallAction.DIAL: (ARG_TO,),
    CallAction.PLAY: (ARG_URL,),
    CallAction.SEND_DIGITS: (ARG_DIGITS,),
}


def validate_options(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check one action's options and fill in the defaults Graph needs."""
    validated = check_options(
        OPTIONS,
        action,
        options,
        unknown="is not a Graph option for this action",
        required=REQUIRED,
    )
    if action is CallAction.ANSWER:
        validated.setdefault("accepted_modalities", list(DEFAULT_MODALITIES))
        config = dict(validated.get("media_config") or {"@odata.type": SERVICE_HOSTED})
        config["@odata.type"] = _media_type(config)
        validated["media_config"] = config
    elif action is CallAction.REJECT:
        validated["reason"] = str(validated.get("reason", "none")).lower()
    elif action in {CallAction.TRANSFER, CallAction.DIAL}:
        target = str(validated[ARG_TO])
        number = phone_number(target)
        # Ids are case-sensitive in Graph: a user id is kept as given.
        validated[ARG_TO] = number or target
        if (
            action is CallAction.DIAL
            and number is not None
            and APPLICATION_INSTANCE not in validated
        ):
            # "This call requires an application instance with a PSTN number
            # assigned": the bot calls from it.
            raise InvalidOptionError(
                APPLICATION_INSTANCE, "is required to call a phone number"
            )
    return validated
