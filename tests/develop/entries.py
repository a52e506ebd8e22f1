"""One entry per provider, added the way a user adds it: the config-flow REST API.

Webex signs in through an application credential (made over the websocket API,
as the credentials page does) and the OAuth redirect the simulator answers;
Teams ends by showing the calling webhook, which goes into the simulated bot
registration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
from typing import Any, Final
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

from custom_components.switchboard.const import DOMAIN
from tests.e2e.hass_process import HassProcess

from .simulators import SimulatorProcess

FLOWS: Final = "/api/config/config_entries/flow"
CREDENTIAL_NAME: Final = "Webex simulator"


class EntryError(RuntimeError):
    """A config flow did not end in a new entry."""


class FlowClient:
    """The owner's walk through config flows, over REST."""

    def __init__(self, hass: HassProcess, token: str) -> None:
        """Walk flows on `hass` as the owner with `token`."""
        self.hass = hass
        self.token = token

    def step(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Post one step; an abort or an error on the form stops the walk."""
        answer: dict[str, Any] = self.hass.expect(
            "POST",
            path,
            body,
            token=self.token,
            # Where the OAuth sign-in sends the browser back to.
            headers={"HA-Frontend-Base": self.hass.url},
        )
        if answer.get("type") == "abort":
            raise EntryError(f"the flow stopped: {answer.get('reason')}")
        if answer.get("errors"):
            raise EntryError(f"the form answered {answer['errors']}")
        return answer

    def start(self, provider: str) -> tuple[str, dict[str, Any]]:
        """Start adding Switchboard and pick `provider`; the flow path and form."""
        menu = self.step(FLOWS, {"handler": DOMAIN, "show_advanced_options": False})
        flow = f"{FLOWS}/{menu['flow_id']}"
        return flow, self.step(flow, {"next_step_id": provider})


def created_entry_id(answer: dict[str, Any]) -> str:
    """The new entry's id from the flow's last answer."""
    if answer.get("type") != "create_entry":
        raise EntryError(f"the flow did not add an entry: {answer}")
    return str(answer["result"]["entry_id"])


def add_telnyx(flows: FlowClient, simulator: SimulatorProcess) -> dict[str, Any]:
    """API key, public key, URL; then the application, registering the webhook."""
    api_key = simulator.banner["api key"]
    flow, _ = flows.start("telnyx")
    flows.step(
        flow,
        {
            "api_key": api_key,
            "public_key": simulator.banner["public key"],
            "url": simulator.url,
        },
    )
    [application] = _get_json(
        f"{simulator.url}/call_control_applications",
        {"Authorization": f"Bearer {api_key}"},
    )["data"]
    done = flows.step(
        flow, {"application_id": application["id"], "register_webhook": True}
    )
    return {"entry_id": created_entry_id(done)}


def add_genesys(flows: FlowClient, simulator: SimulatorProcess) -> dict[str, Any]:
    """URL, user name and password of the agent."""
    flow, _ = flows.start("genesys")
    done = flows.step(
        flow,
        {
            "url": simulator.url,
            "username": simulator.banner["username"],
            "password": simulator.banner["password"],
            "verify_ssl": True,
        },
    )
    return {"entry_id": created_entry_id(done)}


def add_graph(flows: FlowClient, simulator: SimulatorProcess) -> dict[str, Any]:
    """The bot's tenant, client id and secret; the webhook goes into the bot."""
    flow, _ = flows.start("graph")
    done = flows.step(
        flow,
        {
            "tenant_id": simulator.banner["tenant id"],
            "client_id": simulator.banner["client id"],
            "client_secret": simulator.banner["client secret"],
            "cloud": "global",
            "url": simulator.url,
        },
    )
    entry_id = created_entry_id(done)
    webhook_url = done["description_placeholders"]["webhook_url"]
    register_graph_webhook(simulator, webhook_url)
    return {"entry_id": entry_id, "webhook_url": webhook_url}


def register_graph_webhook(simulator: SimulatorProcess, webhook_url: str) -> None:
    """Paste the calling webhook into the simulated bot registration."""
    post_control(simulator.root, "webhook", {"url": webhook_url})


def add_webex(flows: FlowClient, simulator: SimulatorProcess) -> dict[str, Any]:
    """Application credential, then the OAuth sign-in against the simulator."""
    ensure_webex_credential(
        flows.hass,
        flows.token,
        simulator.banner["client id"],
        simulator.banner["client secret"],
    )
    flow, _ = flows.start("webex")
    external = flows.step(flow, {"url": simulator.url})
    if external.get("type") != "external":
        raise EntryError(f"expected the Webex sign-in, got {external}")
    # The user signs in at Webex, which sends the browser back with a code.
    back = _redirect_query(external["url"])
    callback = flows.hass.request(
        "GET",
        "/auth/external/callback?"
        + urllib.parse.urlencode({"code": back["code"], "state": back["state"]}),
    )
    if callback.status != 200:
        raise EntryError(f"the OAuth callback answered {callback.status}")
    done = flows.step(flow, {})
    return {"entry_id": created_entry_id(done)}


def ensure_webex_credential(
    hass: HassProcess, token: str, client_id: str, client_secret: str
) -> None:
    """Create the application credential unless one holds `client_id`."""

    async def _ensure() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                hass.url.replace("http", "ws", 1) + "/api/websocket",
                ssl=hass.ssl_context or True,
            ) as websocket,
        ):
            await websocket.receive_json()
            await websocket.send_json({"type": "auth", "access_token": token})
            if (await websocket.receive_json())["type"] != "auth_ok":
                raise EntryError("the websocket API refused the owner's token")
            await websocket.send_json({"id": 1, "type": "application_credentials/list"})
            listed = await websocket.receive_json()
            if any(
                item["domain"] == DOMAIN and item["client_id"] == client_id
                for item in listed["result"]
            ):
                return
            await websocket.send_json(
                {
                    "id": 2,
                    "type": "application_credentials/create",
                    "domain": DOMAIN,
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "name": CREDENTIAL_NAME,
                }
            )
            created = await websocket.receive_json()
            if not created.get("success"):
                raise EntryError(f"creating the credential failed: {created}")

    asyncio.run(_ensure())


ADDERS: Final[dict[str, Callable[[FlowClient, SimulatorProcess], dict[str, Any]]]] = {
    "telnyx": add_telnyx,
    "webex": add_webex,
    "graph": add_graph,
    "genesys": add_genesys,
}


def post_control(root: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to a simulator's control route `/_sim/<name>`; its JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - a loopback simulator
        f"{root}/_sim/{name}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _get_json(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs


def _redirect_query(url: str) -> dict[str, str]:
    """Open the sign-in page; the query of where it sends the browser."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=30)
    except urllib.error.HTTPError as err:
        if err.code == 302:
            location = err.headers["Location"]
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
            return {key: values[0] for key, values in query.items()}
        raise
    raise EntryError("the Webex sign-in did not send the browser back")
