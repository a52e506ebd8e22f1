"""A simulator served from a thread of its own, for a whole test module.

The tests' event loop lives for one test only; the simulator must outlive
every test of the module (and the `hass` restarts in between), so it gets a
loop and a thread of its own. Everything that touches it runs on that loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import threading
from typing import Any

from tests.simulators.telnyx import SimRequest, TelnyxSimulator

_STOP_TIMEOUT = 30.0


class SimulatorThread:
    """A Telnyx simulator on loopback, served by its own thread and loop."""

    def __init__(self) -> None:
        """Create the loop and its thread; `start` serves the simulator."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="e2e-telnyx-simulator", daemon=True
        )
        self._simulator: TelnyxSimulator | None = None

    @property
    def simulator(self) -> TelnyxSimulator:
        """The simulator; touch it only from code run on its loop."""
        assert self._simulator is not None
        return self._simulator

    def start(self, *numbers: str) -> str:
        """Serve one application with `numbers` on a free port; return its URL."""
        self._thread.start()

        async def _start() -> str:
            # Short retry delays: a webhook to a stopped hass gives up quickly.
            self._simulator = TelnyxSimulator(webhook_retry_delays=(0.02, 0.05, 0.1))
            app_id = self._simulator.add_application("Front desk")
            for number in numbers:
                self._simulator.add_phone_number(app_id, number)
            return await self._simulator.start()

        return self.run_sync(_start())

    def stop(self) -> None:
        """Close the simulator, then stop the loop and its thread."""
        try:
            if self._simulator is not None:
                self.run_sync(self._simulator.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_STOP_TIMEOUT)
            self._loop.close()

    def run_sync[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the simulator's loop; block until it is done."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(
            _STOP_TIMEOUT
        )

    async def run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the simulator's loop; await it from another loop."""
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        )

    async def read[T](self, read: Callable[[TelnyxSimulator], T]) -> T:
        """Read the simulator's state on its own loop."""

        async def _read() -> T:
            return read(self.simulator)

        return await self.run(_read())

    def read_sync[T](self, read: Callable[[TelnyxSimulator], T]) -> T:
        """Read the simulator's state on its own loop, from outside any loop."""

        async def _read() -> T:
            return read(self.simulator)

        return self.run_sync(_read())

    async def ring(self, to: str, from_: str, name: str) -> str:
        """Ring `to` from `from_`; return the call control id."""
        return await self.run(self.simulator.ring(to, from_, caller_id_name=name))

    async def hang_up_remotely(self, call_id: str) -> None:
        """The caller hangs up; wait until the webhooks are delivered or given up."""

        async def _hang_up() -> None:
            await self.simulator.remote_hangup(call_id)
            await self.simulator.wait_for_webhooks()

        await self.run(_hang_up())

    async def end_live_calls(self) -> None:
        """Let every caller still on the line hang up (after a failed test)."""

        async def _end() -> None:
            for call in list(self.simulator.calls.values()):
                if call.state != "hangup":
                    await self.simulator.remote_hangup(call.call_control_id)
            await self.simulator.wait_for_webhooks()

        await self.run(_end())

    async def wait_for_webhooks(self) -> None:
        """Wait until every webhook owed is delivered (or given up)."""
        await self.run(self.simulator.wait_for_webhooks())

    async def requests(self) -> list[SimRequest]:
        """Every API request the simulator received so far."""
        return await self.read(lambda simulator: list(simulator.requests))

    async def commands(self, call_id: str) -> list[str]:
        """The call commands (answer, hangup, ...) received for `call_id`."""
        prefix = f"/v2/calls/{call_id}/actions/"
        return [
            request.path.removeprefix(prefix)
            for request in await self.requests()
            if request.method == "POST" and request.path.startswith(prefix)
        ]
