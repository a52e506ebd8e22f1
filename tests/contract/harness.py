"""What the contract suite needs of a provider, behind one interface.

A harness sets one provider's entry up against its simulator and plays the far
side of its calls: the caller who rings, hangs up, gives up or presses keys,
the far end of a call placed or transferred, and the provider that refuses a
command, repeats or reorders its deliveries. The tests speak only to a
harness and to Home Assistant's public surface, so the same test runs for
every provider; what a provider can do beyond answering is its harness's
`capabilities`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER
from tests.helpers import call_action

CALLER_NAME = "Ada Lovelace"
SECOND_CALLER = "+15550001111"


class Fault(StrEnum):
    """A way a provider refuses a command."""

    AUTH = "auth"
    FORBIDDEN = "forbidden"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"


class Capability(StrEnum):
    """What a provider does beyond answering, as the suite tests it."""

    TRANSFER = "transfer"
    # A transfer to voicemail (transfer_call with voicemail: true).
    VOICEMAIL = "voicemail"
    # Hold and resume.
    HOLD = "hold"
    DIAL = "dial"
    SPEAK = "speak"
    PLAY = "play"
    SEND_DIGITS = "send_digits"
    # Reports the keys the caller presses: the `digits` event.
    DIGITS = "digits"


@dataclass(frozen=True)
class Command:
    """One call command the simulator received, in the neutral model's terms.

    `action` is None for a command the suite does not name (Graph's
    subscribeToTone, say); `call_id` is None for a dial. `argument` is what
    the action's field became in the provider's body: the destination of a
    transfer or dial, the text spoken, the audio URL, the digits sent.
    """

    action: CallAction | None
    call_id: str | None
    argument: Any = None
    voicemail: bool = False


@dataclass(frozen=True)
class Refusal:
    """How a simulator refuses the next answer, and what the user is told.

    `status` is the HTTP status of each of the `tries` refused attempts;
    `retry_after` goes out as Retry-After; `code` is the provider's own error
    code; `delay` holds each reply back that long (past the client's timeout).
    `key` is the translation key of the error the action raises.
    """

    status: int
    key: str
    tries: int = 1
    retry_after: float | None = None
    code: str | int | None = None
    delay: float = 0.0


class Harness(ABC):
    """One provider and its simulator, as the contract suite drives them."""

    provider: ClassVar[str]
    # The device the suite rings: its name in Home Assistant, and the slug its
    # entity ids start with.
    device_name: ClassVar[str]
    device_slug: ClassVar[str]
    shows_caller_name: ClassVar[bool] = True
    can_reject: ClassVar[bool] = True
    refusals: ClassVar[Mapping[Fault, Refusal]]
    # Beyond answering: what the provider does, where a transfer and a dial
    # go, and the options a dial there needs.
    capabilities: ClassVar[frozenset[Capability]]
    transfer_to: ClassVar[str]
    dial_to: ClassVar[str]
    dial_options: ClassVar[Mapping[str, Any]] = {}
    entry: MockConfigEntry

    def __init__(self, hass: HomeAssistant, request: pytest.FixtureRequest) -> None:
        """Drive the provider for the test that `request` belongs to."""
        self.hass = hass
        self.request = request

    def start(self) -> None:
        """Serve Home Assistant on loopback, then set the entry up.

        The HTTP server comes first for every provider: its router freezes
        once it runs, and the diagnostics download is served by it too.
        """
        self.fixture("ha_client")
        self.fixture("fast_retries")
        self.entry = self.set_up()

    def fixture(self, name: str) -> Any:
        """Get one of the test fixtures (simulators, entries, patches)."""
        return self.request.getfixturevalue(name)

    @property
    def sensor(self) -> str:
        """The device's call sensor."""
        return f"sensor.{self.device_slug}_call"

    @property
    def caller(self) -> str:
        """The device's caller sensor."""
        return f"sensor.{self.device_slug}_caller"

    @property
    def missed_calls(self) -> str:
        """The device's missed-call counter."""
        return f"sensor.{self.device_slug}_missed_calls"

    @property
    def last_call(self) -> str:
        """The device's last-call sensor."""
        return f"sensor.{self.device_slug}_last_call"

    def caller_shown(self, number: str = CALLER, name: str = CALLER_NAME) -> str:
        """The caller as the caller sensor shows it."""
        return f"{name} ({number})" if self.shows_caller_name else number

    @property
    def event(self) -> str:
        """The device's call activity event entity."""
        return f"event.{self.device_slug}_call_activity"

    @property
    def button(self) -> str:
        """The device's Answer button."""
        return self.button_for("answer")

    def button_for(self, key: str) -> str:
        """The device's button `key` (answer, decline, hang_up)."""
        return f"button.{self.device_slug}_{key}"

    def remote_name(self, name: str) -> str | None:
        """The caller's name as Home Assistant shows it."""
        return name if self.shows_caller_name else None

    @abstractmethod
    def set_up(self) -> MockConfigEntry:
        """Set the entry up against the simulator; return it, loaded."""

    async def reload(self) -> None:
        """Reload the entry, as Home Assistant does after a change; wait for it."""
        assert await self.hass.config_entries.async_reload(self.entry.entry_id)
        await self.settle()

    async def act(self, action: str, **data: Any) -> dict[str, Any]:
        """Run a Switchboard action on the call sensor; return its response."""
        response = await call_action(self.hass, action, entity_id=self.sensor, **data)
        assert response is not None
        assert set(response) == {self.sensor}
        return dict(response[self.sensor])

    async def press_answer(self) -> None:
        """Press the device's Answer button."""
        await self.hass.services.async_call(
            BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: self.button}, blocking=True
        )

    async def ring(self, number: str = CALLER, name: str = CALLER_NAME) -> str:
        """Ring the device from `number` (`name`); return the call id once known."""
        call_id = await self.start_ring(number, name)
        await self.settle()
        return call_id

    @abstractmethod
    async def start_ring(self, number: str, name: str) -> str:
        """Start a call to the device at the simulator; return its id."""

    @abstractmethod
    async def hang_up_remotely(self, call_id: str) -> None:
        """The far end hangs the call up."""

    async def abandon(self, call_id: str) -> None:
        """Leave the ringing call unanswered until it ends (given up, timed out)."""
        await self.hang_up_remotely(call_id)

    @abstractmethod
    async def settle(self) -> None:
        """Wait until all the simulator owes has arrived and been handled."""

    def fail_next_answer(self, fault: Fault) -> str:
        """Make the provider refuse the next answer; return the expected key."""
        refusal = self.refusals[fault]
        self.refuse_answers(refusal)
        return refusal.key

    @abstractmethod
    def refuse_answers(self, refusal: Refusal) -> None:
        """Tell the simulator to refuse the next answer attempts."""

    @abstractmethod
    def duplicate_deliveries(self) -> None:
        """From now on, deliver every event twice."""

    @abstractmethod
    def hold_deliveries(self) -> None:
        """Keep events back until released."""

    @abstractmethod
    async def release_deliveries(self, *, reverse: bool) -> None:
        """Deliver the events held back (newest first if `reverse`)."""

    @abstractmethod
    def secrets(self) -> list[str]:
        """The credentials and webhook ids the entry holds, to find in a leak."""

    def volatile(self) -> Mapping[str, str]:
        """Values that change from run to run, with what a snapshot shows instead."""
        return {}

    # --- beyond answering ---

    @abstractmethod
    def commands(self) -> list[Command]:
        """Every call command the simulator received so far, oldest first."""

    def sent(self, action: CallAction) -> list[Command]:
        """The commands for `action` the simulator received so far."""
        return [command for command in self.commands() if command.action is action]

    @abstractmethod
    async def pickup(self, call_id: str) -> None:
        """The far end of a call the device placed answers it."""

    async def complete_transfer(self, call_id: str) -> None:
        """The destination of the call's transfer answers, where that is waited for.

        A blind transfer needs nothing: it completes by itself.
        """
        del call_id
        await self.settle()

    async def press(self, call_id: str, digits: str) -> None:
        """The caller presses keys (on a provider that reports them)."""
        raise NotImplementedError(f"{self.provider} reports no keys pressed")

    @abstractmethod
    def refuse_next(
        self,
        action: CallAction,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `count` commands for `action` with HTTP `status`."""


class WebhookHarness(Harness):
    """A provider that posts its events to Home Assistant's webhook."""

    @abstractmethod
    async def forged_ring(self) -> list[int | None]:
        """Ring with deliveries that are not the provider's; the HTTP statuses."""
