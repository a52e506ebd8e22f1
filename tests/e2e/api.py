"""Home Assistant's public APIs as a user's client sees them: REST and websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
import itertools
from typing import Any, Final

import aiohttp

# Hangs only: how long a wait for Home Assistant may take before the test fails.
WAIT_TIMEOUT: Final = 30.0


@dataclass(frozen=True)
class FlowWalk:
    """The answers of the config-flow REST API, step by step."""

    menu: dict[str, Any]
    credentials_form: dict[str, Any]
    application_form: dict[str, Any]
    created: dict[str, Any]


class StateChanges:
    """The `state_changed` events of one websocket subscription, in order."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Read events from an authenticated websocket that subscribed."""
        self._websocket = websocket

    async def wait_for(self, entity_id: str, state: str) -> dict[str, Any]:
        """Read events until `entity_id` changes to `state`; return its new state."""
        async with asyncio.timeout(WAIT_TIMEOUT):
            while True:
                message = await self._websocket.receive_json()
                if message.get("type") != "event":
                    continue
                data = message["event"]["data"]
                new_state = data.get("new_state")
                if (
                    data["entity_id"] == entity_id
                    and new_state is not None
                    and new_state["state"] == state
                ):
                    new: dict[str, Any] = new_state
                    return new


class HassApi:
    """An owner's REST and websocket client of one running Home Assistant."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        """Talk to Home Assistant at `url` with the owner's access token."""
        self._session = session
        self._url = url
        self._token = token
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str) -> Any:
        """GET a REST path that must answer 200; its JSON body."""
        async with self._session.get(self._url + path, headers=self._headers) as reply:
            assert reply.status == 200, (path, reply.status, await reply.text())
            return await reply.json()

    async def post(self, path: str, body: Any) -> Any:
        """POST to a REST path that must answer 200; its JSON body."""
        async with self._session.post(
            self._url + path, json=body, headers=self._headers
        ) as reply:
            assert reply.status == 200, (path, reply.status, await reply.text())
            return await reply.json()

    async def state(self, entity_id: str) -> dict[str, Any]:
        """An entity's state object through GET /api/states/<entity_id>."""
        state: dict[str, Any] = await self.get(f"/api/states/{entity_id}")
        return state

    async def call_service(
        self, domain: str, service: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Call an action and return what it answers (changed states and response)."""
        reply: dict[str, Any] = await self.post(
            f"/api/services/{domain}/{service}?return_response", data
        )
        return reply

    async def press(self, entity_id: str) -> None:
        """Press a button entity."""
        async with self._session.post(
            f"{self._url}/api/services/button/press",
            json={"entity_id": entity_id},
            headers=self._headers,
        ) as reply:
            assert reply.status == 200, (reply.status, await reply.text())

    async def converse(self, text: str) -> dict[str, Any]:
        """Say `text` to the default agent through POST /api/conversation/process."""
        reply: dict[str, Any] = await self.post(
            "/api/conversation/process", {"text": text, "language": "en"}
        )
        return reply

    async def entries(self) -> list[dict[str, Any]]:
        """The integration's config entries."""
        entries: list[dict[str, Any]] = await self.get(
            "/api/config/config_entries/entry?domain=switchboard"
        )
        return entries

    @contextlib.asynccontextmanager
    async def websocket(
        self,
    ) -> AsyncIterator[Callable[[dict[str, Any]], Awaitable[Any]]]:
        """An authenticated websocket: ask a command, get its result."""
        async with self._session.ws_connect(f"{self._url}/api/websocket") as websocket:
            assert (await websocket.receive_json())["type"] == "auth_required"
            await websocket.send_json({"type": "auth", "access_token": self._token})
            assert (await websocket.receive_json())["type"] == "auth_ok"
            ids = itertools.count(1)

            async def ask(message: dict[str, Any]) -> Any:
                await websocket.send_json({"id": next(ids), **message})
                while (answer := await websocket.receive_json())["type"] != "result":
                    pass
                assert answer["success"], answer
                return answer["result"]

            yield ask

    @contextlib.asynccontextmanager
    async def state_changes(self) -> AsyncIterator[StateChanges]:
        """Subscribe to `state_changed` over the websocket API."""
        async with self._session.ws_connect(f"{self._url}/api/websocket") as websocket:
            assert (await websocket.receive_json())["type"] == "auth_required"
            await websocket.send_json({"type": "auth", "access_token": self._token})
            assert (await websocket.receive_json())["type"] == "auth_ok"
            await websocket.send_json(
                {"id": 1, "type": "subscribe_events", "event_type": "state_changed"}
            )
            subscribed = await websocket.receive_json()
            assert subscribed["success"], subscribed
            yield StateChanges(websocket)
