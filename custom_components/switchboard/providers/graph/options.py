"""The options of answer, reject and hang-up, and the defaults Graph needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..kernel.options import OptionSchema, check_options, one_of
from ..model import CallAction

SERVICE_HOSTED: Final = "#microsoft.graph.serviceHostedMediaConfig"
APP_HOSTED: Final = "#microsoft.graph.appHostedMediaConfig"
MODALITIES: Final = ("audio", "video", "videoBasedScreenSharing")
REJECT_REASONS: Final = ("none", "busy", "forbidden")
DEFAULT_MODALITIES: Final = ("audio",)


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
}


def validate_options(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check one action's options and fill in the defaults Graph needs."""
    validated = check_options(
        OPTIONS, action, options, unknown="is not a Graph option for this action"
    )
    if action is CallAction.ANSWER:
        validated.setdefault("accepted_modalities", list(DEFAULT_MODALITIES))
        config = dict(validated.get("media_config") or {"@odata.type": SERVICE_HOSTED})
        config["@odata.type"] = _media_type(config)
        validated["media_config"] = config
    elif action is CallAction.REJECT:
        validated["reason"] = str(validated.get("reason", "none")).lower()
    return validated
