"""What Microsoft Graph's error replies mean in the model."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

from ..kernel.http import Reply
from ..kernel.payload import load_json
from ..kernel.retry_after import retry_after
from ..kernel.values import integer, trimmed_text
from ..model import (
    ActionNotAllowedError,
    AuthenticationError,
    CallAction,
    CallEndedError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)

# What each action needs (reference section 2.2), named in a 403's message.
PERMISSIONS: Final = {
    CallAction.ANSWER: (
        "answering a peer-to-peer call needs no permission; app-hosted media needs "
        "Calls.AccessMedia.All and a meeting invite Calls.JoinGroupCall.All or "
        "Calls.JoinGroupCallAsGuest.All"
    ),
    CallAction.REJECT: (
        "rejecting needs no application permission; check the bot's admin consent"
    ),
    CallAction.HANGUP: (
        "hanging up needs Calls.Initiate.All (and Calls.AccessMedia.All for "
        "app-hosted media)"
    ),
    CallAction.TRANSFER: "transferring a call needs Calls.Initiate.All",
    CallAction.DIAL: (
        "placing a call needs Calls.Initiate.All; calling a phone number also "
        "needs an application instance with a phone number"
    ),
    CallAction.PLAY: (
        "playing a prompt needs Calls.Initiate.All (and Calls.AccessMedia.All "
        "for app-hosted media)"
    ),
    CallAction.SEND_DIGITS: (
        "sending tones needs Calls.Initiate.All (and Calls.AccessMedia.All for "
        "app-hosted media)"
    ),
    None: "reading a call needs Calls.Initiate.All or Calls.AccessMedia.All",
}
# What the bot was doing, for an operation Graph says failed.
DOING: Final = {
    CallAction.PLAY: "play the prompt",
    CallAction.SEND_DIGITS: "send the tones",
}


def graph_error(reply: Reply, action: CallAction | None) -> ProviderError:
    """Map a failed Graph reply to the model; a 403 names what `action` needs."""
    status = reply.status
    code, message, request_id = _error_fields(reply.text)
    details = [f"HTTP {status}"]
    if code:
        details.append(f"code {code}")
    if request_id:
        details.append(f"request-id {request_id}")
    described = f"{message} ({', '.join(details)})"
    # Seen as integers and as fractions ("2.128"); an HTTP-date is UNCONFIRMED
    # for Graph and falls back to the caller's own back-off.
    wait = retry_after(reply.headers.get("Retry-After"))
    if status == HTTPStatus.UNAUTHORIZED:
        return AuthenticationError(described)
    if status == HTTPStatus.FORBIDDEN:
        needs = PERMISSIONS.get(action, PERMISSIONS[None])
        return PermissionDeniedError(f"{described}: {needs}")
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(described, wait)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderUnavailableError(described, wait)
    if status in {HTTPStatus.NOT_FOUND, HTTPStatus.GONE}:
        return CallEndedError(described)
    # The error for a call in the wrong state is undocumented (UNCONFIRMED):
    # a conflict or a notAllowed code is taken to mean it.
    if status == HTTPStatus.CONFLICT or code == "notAllowed":
        return ActionNotAllowedError(described)
    return ProviderError(described)


def result_codes(result: Any) -> tuple[int | None, int | None]:
    """Read a resultInfo's code and subcode (ints or strings, "200", in the docs)."""
    if not isinstance(result, dict):
        return None, None
    return (
        integer(result.get("code")),
        integer(result.get("subcode", result.get("subCode"))),
    )


def operation_error(operation: dict[str, Any], action: CallAction) -> ProviderError:
    """Describe a commsOperation Graph answered with as failed."""
    result = operation.get("resultInfo")
    code, subcode = result_codes(result)
    result = result if isinstance(result, dict) else {}
    message = trimmed_text(result.get("message")) or "the operation failed"
    details = f" (code {code}/{subcode})" if code is not None else ""
    return ProviderError(
        f"Microsoft Graph could not {DOING.get(action, action)}: {message}{details}"
    )


def _error_fields(text: str) -> tuple[str | None, str, str | None]:
    """Read Graph's {"error": {...}}: its code, message and request id."""
    try:
        error = load_json(text)["error"]
    except ValueError, KeyError, TypeError:
        return None, "Microsoft Graph error", None
    if not isinstance(error, dict):
        return None, "Microsoft Graph error", None
    code = trimmed_text(error.get("code"))
    message = trimmed_text(error.get("message")) or "Microsoft Graph error"
    inner = error.get("innerError", error.get("innererror"))
    request_id = None
    if isinstance(inner, dict):
        request_id = trimmed_text(inner.get("request-id")) or trimmed_text(
            inner.get("client-request-id")
        )
    return code, message, request_id
