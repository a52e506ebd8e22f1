"""The neutral call model every provider maps into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CallState(StrEnum):
    """Where a call stands."""

    RINGING = "ringing"
    DIALING = "dialing"
    TALKING = "talking"
    ON_HOLD = "on_hold"
    ENDED = "ended"


class Direction(StrEnum):
    """Who placed the call, seen from the device."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


class CallAction(StrEnum):
    """What a user can ask a provider to do with a call."""

    ANSWER = "answer"
    REJECT = "reject"
    HANGUP = "hangup"
    TRANSFER = "transfer"
    HOLD = "hold"
    RESUME = "resume"
    SPEAK = "speak"
    PLAY = "play"
    SEND_DIGITS = "send_digits"
    # Not an action on a call: placing a new one (Provider.async_dial).
    DIAL = "dial"


# What an action acts with, beside the provider's own options. They arrive in
# the same mapping as those options, so validate_options checks them too.
ARG_TO = "to"  # transfer, dial: a number or an address the provider understands
ARG_VOICEMAIL = "voicemail"  # transfer: to the callee's voicemail instead
ARG_MESSAGE = "message"  # speak: the text to say
ARG_LANGUAGE = "language"  # speak: e.g. "en-US"
ARG_VOICE = "voice"  # speak: the provider's voice name
ARG_URL = "url"  # play: an audio file the provider fetches
ARG_DIGITS = "digits"  # send_digits: 0-9, *, # (and A-D where allowed)


class EndReason(StrEnum):
    """Why a call ended, as far as the provider says."""

    COMPLETED = "completed"
    MISSED = "missed"
    REJECTED = "rejected"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    # Sent on by a transfer: the call goes on, but no longer on this device.
    TRANSFERRED = "transferred"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Device:
    """The thing a user answers on: a number, an endpoint, a bot or an agent device."""

    device_id: str
    name: str
    model: str
    number: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """Who the credentials belong to; account_id is the config entry's unique id."""

    account_id: str
    name: str


@dataclass(slots=True)
class Call:
    """One call as the integration knows it."""

    call_id: str
    device_ids: tuple[str, ...]
    direction: Direction
    state: CallState
    remote_number: str | None = None
    remote_name: str | None = None
    local_number: str | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    actions: frozenset[CallAction] = frozenset()
    raw: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Call:
        """Return a copy listeners may keep (by hand: replace() is slow here)."""
        return Call(
            self.call_id,
            self.device_ids,
            self.direction,
            self.state,
            self.remote_number,
            self.remote_name,
            self.local_number,
            self.started_at,
            self.answered_at,
            self.ended_at,
            self.end_reason,
            self.actions,
            dict(self.raw),
        )


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A provider's news about one call.

    `order` sorts events of one call: a provider timestamp or sequence number. An
    event whose order is lower than what was applied last never moves the state.
    `event_id` de-duplicates; providers without one derive it from the content.
    Fields left None carry no news.
    """

    event_id: str
    call_id: str
    order: tuple[float, int]
    state: CallState
    device_ids: tuple[str, ...] = ()
    direction: Direction | None = None
    remote_number: str | None = None
    remote_name: str | None = None
    local_number: str | None = None
    occurred_at: datetime | None = None
    started_at: datetime | None = None
    end_reason: EndReason | None = None
    actions: frozenset[CallAction] | None = None
    # Keys pressed on the call (DTMF); an event with digits moves no state.
    digits: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider refused or failed a request; the message is the provider's own."""


class AuthenticationError(ProviderError):
    """The credentials are wrong, revoked or expired: the user must sign in again."""


class PermissionDeniedError(ProviderError):
    """The credentials are valid but lack a permission this request needs."""


class CallNotFoundError(ProviderError):
    """The provider does not know the call."""


class NotTheApiError(ProviderError):
    """The address answers, but not as the provider's API (a URL of the wrong form).

    Raised by an account check whose request the API always answers, when it
    comes back 404.
    """


class CallEndedError(CallNotFoundError):
    """The call has already ended."""


class ActionNotAllowedError(ProviderError):
    """The call does not allow this action now."""


class RateLimitedError(ProviderError):
    """Too many requests; retry_after is the wait the provider asked for, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the provider's requested wait."""
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """Network failure, timeout or a 5xx: worth retrying later.

    retry_after is the wait the provider asked for (a 503's Retry-After), if any.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the provider's requested wait."""
        super().__init__(message)
        self.retry_after = retry_after


class InvalidSignatureError(ProviderError):
    """A webhook whose signature, token or timestamp does not check out."""


class InvalidPayloadError(ProviderError):
    """A webhook that is signed but not a call event we can read."""


class ResendRequestedError(InvalidPayloadError):
    """An authentic delivery in a format we ask the sender to send again in another.

    Graph sends incoming calls in a legacy format first and resends them in the
    Graph format when the bot answers 204.
    """


class InvalidOptionError(ProviderError):
    """An action option the provider's API would refuse; `field` names it."""

    def __init__(self, option: str, reason: str) -> None:
        """Name the offending option."""
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason
