"""What the Webex client tests share: Home Assistant's webhook endpoint."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from aiohttp import web
import pytest


@dataclass
class Receiver:
    """Home Assistant's webhook endpoint, as far as the simulator can tell."""

    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def take(self) -> list[tuple[dict[str, str], bytes]]:
        taken, self.received = self.received, []
        return taken


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncGenerator[Receiver]:
    """Serve the endpoint on loopback; record what is posted to it."""
    state = Receiver()

    async def handle(request: web.Request) -> web.Response:
        state.received.append((dict(request.headers), await request.read()))
        return web.Response(status=state.status)

    app = web.Application()
    app.router.add_post("/api/webhook/abc", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/webhook/abc"
    yield state
    await runner.cleanup()
