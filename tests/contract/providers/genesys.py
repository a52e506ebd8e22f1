"""Genesys Web Services: an agent's device, events over CometD (no webhook)."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import ClassVar, Final

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.providers.model import CallAction
from tests.contract.harness import Capability, Command, Fault, Harness, Refusal
from tests.fixtures.genesys import GENESYS_DESK, genesys_settle
from tests.simulators.genesys import GenesysSimulator

# Call operations are POST /api/v2/me/calls/{id}; a dial POST
# /api/v2/me/devices/{id}/calls. The operation is named in the body.
OPERATIONS = "/me/calls/"
OPERATION_PATH: Final = re.compile(r".*/api/v2/me/calls/(?P<call>[^/]+)")
DIAL_PATH: Final = re.compile(r".*/api/v2/me/devices/[^/]+/calls")
ACTIONS: Final = {
    "Answer": CallAction.ANSWER,
    "Hangup": CallAction.HANGUP,
    "SingleStepTransfer": CallAction.TRANSFER,
    "Hold": CallAction.HOLD,
    "Retrieve": CallAction.RESUME,
    "SendDtmf": CallAction.SEND_DIGITS,
    "Dial": CallAction.DIAL,
}
# Enough duplicated messages for anything one test does.
DUPLICATES = 100


class GenesysHarness(Harness):
    """The agent's desk device 5005. Genesys shows callers by number only."""

    provider = "genesys"
    device_name = GENESYS_DESK
    device_slug = GENESYS_DESK
    shows_caller_name = False
    can_reject = False
    refusals: ClassVar[Mapping[Fault, Refusal]] = {
        Fault.AUTH: Refusal(401, "invalid_auth", code=20),
        Fault.FORBIDDEN: Refusal(403, "permission_denied", code=5),
        Fault.GONE: Refusal(404, "call_ended", code=6),
        Fault.RATE_LIMITED: Refusal(429, "rate_limited", retry_after=60),
        Fault.UNAVAILABLE: Refusal(503, "cannot_connect", tries=3),
    }
    capabilities = frozenset(
        {
            Capability.TRANSFER,
            Capability.HOLD,
            Capability.DIAL,
            Capability.SEND_DIGITS,
        }
    )
    transfer_to = "15002"
    dial_to = "+15551234567"
    simulator: GenesysSimulator

    def set_up(self) -> MockConfigEntry:
        """Set the agent's entry up; its event stream is connected."""
        self.simulator = self.fixture("genesys")
        # The far end of a call dialled answers when a test says (pickup).
        self.simulator.pickup_delay = None
        entry: MockConfigEntry = self.fixture("setup_genesys")
        return entry

    async def reload(self) -> None:
        """Reload the entry; wait until its new stream is connected."""
        handshakes = self.simulator.handshakes
        assert await self.hass.config_entries.async_reload(self.entry.entry_id)
        await self.simulator.wait_for_connected(handshakes=handshakes + 1)
        await self.settle()

    async def start_ring(self, number: str, name: str) -> str:
        """Ring the desk device (GWS carries no caller name)."""
        del name
        device_id = self.simulator.device_id(GENESYS_DESK)
        return self.simulator.ring(device_id, caller=number)

    async def hang_up_remotely(self, call_id: str) -> None:
        """The far end hangs up, or a ringing caller gives up."""
        self.simulator.remote_hangup(call_id)

    async def settle(self) -> None:
        """Wait for every CometD message, and for the re-reads they start."""
        await genesys_settle(self.hass, self.simulator)

    def refuse_answers(self, refusal: Refusal) -> None:
        """Refuse the next call operations."""
        self.simulator.fail_next(
            refusal.status,
            status_code=None if refusal.code is None else int(refusal.code),
            retry_after=refusal.retry_after,
            path_contains=OPERATIONS,
            count=refusal.tries,
        )

    def duplicate_deliveries(self) -> None:
        """Deliver each CometD message twice."""
        self.simulator.duplicate_next(DUPLICATES)

    def hold_deliveries(self) -> None:
        """Queue the CometD messages."""
        self.simulator.hold_messages()

    async def release_deliveries(self, *, reverse: bool) -> None:
        """Deliver the queued CometD messages."""
        self.simulator.release_messages(reverse=reverse)

    def secrets(self) -> list[str]:
        """The agent's user name and password."""
        return [self.entry.data[CONF_USERNAME], self.entry.data[CONF_PASSWORD]]

    def commands(self) -> list[Command]:
        """The call operations and dials, each named by its operationName."""
        commands: list[Command] = []
        for request in self.simulator.requests:
            if request.method != "POST":
                continue
            body = request.body if isinstance(request.body, dict) else {}
            destination = body.get("destination")
            number = (
                destination.get("phoneNumber")
                if isinstance(destination, dict)
                else None
            )
            action = ACTIONS.get(str(body.get("operationName")))
            if DIAL_PATH.fullmatch(request.path):
                commands.append(Command(action, None, number))
            elif match := OPERATION_PATH.fullmatch(request.path):
                argument = body.get("digits") if number is None else number
                commands.append(Command(action, match["call"], argument))
        return commands

    async def pickup(self, call_id: str) -> None:
        """The far end answers the call dialled."""
        self.simulator.pickup(call_id)
        await self.settle()

    def refuse_next(
        self,
        action: CallAction,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Refuse the next call operations, whichever they are (or the dials)."""
        self.simulator.fail_next(
            status,
            retry_after=retry_after,
            path_contains="/calls" if action is CallAction.DIAL else OPERATIONS,
            count=count,
        )
