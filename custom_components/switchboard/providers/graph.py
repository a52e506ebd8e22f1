"""Microsoft Graph calling-bot client: client-credentials REST and JWT notifications.

A Teams calling bot is one device. Microsoft posts call notifications (the
`commsNotifications` envelope) to the bot's calling webhook and to the
`callbackUri` named when answering; every POST carries a Bearer JWT signed with
the keys of Microsoft's OpenID configuration, which is checked before anything
is read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
import json
import re
import time
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import jwt

from .model import (
    Account,
    ActionNotAllowedError,
    AuthenticationError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    CallState,
    Device,
    Direction,
    EndReason,
    InvalidOptionError,
    InvalidPayloadError,
    InvalidSignatureError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    ResendRequestedError,
)


@dataclass(frozen=True, slots=True)
class GraphCloud:
    """The roots of one Microsoft cloud."""

    graph_url: str
    login_url: str
    scope: str


CLOUDS: Final[dict[str, GraphCloud]] = {
    "global": GraphCloud(
        "https://graph.microsoft.com",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com/.default",
    ),
    # US Government L4 (GCC High).
    "usgov": GraphCloud(
        "https://graph.microsoft.us",
        "https://login.microsoftonline.us",
        "https://graph.microsoft.us/.default",
    ),
    # US Government L5 (DoD). The scope follows the documented rule that .default
    # uses the national Graph domain; no DoD example is given (UNCONFIRMED).
    "dod": GraphCloud(
        "https://dod-graph.microsoft.us",
        "https://login.microsoftonline.us",
        "https://dod-graph.microsoft.us/.default",
    ),
}
# Notification tokens are signed with these keys; the national-cloud equivalents
# are undocumented (UNCONFIRMED), so the URL can be overridden.
OPENID_CONFIGURATION_PATH: Final = "/v1/.well-known/OpenIdConfiguration"
OPENID_CONFIGURATION_URL: Final = (
    f"https://api.aps.skype.com{OPENID_CONFIGURATION_PATH}"
)
# "The bot is expected to Answer or Reject the call before the call times out
# (Current timeout value is 15 seconds)." Read at call time: tests patch it.
ANSWER_WINDOW = 15.0
REQUEST_TIMEOUT: Final = 10.0
# Renew the access token this long before it expires (half its life if shorter).
TOKEN_RENEW_MARGIN: Final = 300.0
# Microsoft's sample refreshes the OpenID configuration every 2 hours.
OPENID_CACHE: Final = 7200.0
# An unknown key id re-fetches the keys, but not more often than this, so
# forged key ids cannot make us hammer the key endpoint.
KEY_REFRESH_INTERVAL: Final = 10.0
# Clock skew allowed on exp and nbf of notification tokens.
TOKEN_LEEWAY: Final = 60.0
ISSUERS: Final = frozenset(
    {"https://graph.microsoft.com", "https://api.botframework.com"}
)
# The signing algorithm is UNCONFIRMED (the old Skype doc says "X509SHA2"):
# RS256 is what RSA keys with that name mean in a JWT.
ALGORITHMS: Final = ["RS256"]
# How many calls the client remembers (ordering, rejects) at once.
REMEMBERED_CALLS: Final = 512

BOT_NAME: Final = "Teams calling bot"
BOT_MODEL: Final = "Calling bot"
NOTIFICATIONS_TYPE: Final = "microsoft.graph.commsNotifications"
SERVICE_HOSTED: Final = "#microsoft.graph.serviceHostedMediaConfig"
APP_HOSTED: Final = "#microsoft.graph.appHostedMediaConfig"
MODALITIES: Final = ("audio", "video", "videoBasedScreenSharing")
REJECT_REASONS: Final = ("none", "busy", "forbidden")
DEFAULT_MODALITIES: Final = ("audio",)

RINGING_ACTIONS: Final = frozenset({CallAction.ANSWER, CallAction.REJECT})
ACTIVE_ACTIONS: Final = frozenset({CallAction.HANGUP})
NO_ACTIONS: Final[frozenset[CallAction]] = frozenset()

# Phases only move forward: a later event of a lower phase is out of order
# ("Call establishing/established notifications may arrive out of order").
RANKS: Final = {
    "incoming": 0,
    "ringing": 0,
    "establishing": 1,
    "redirecting": 1,
    "established": 2,
    "hold": 2,
    "transferring": 2,
    "transferAccepted": 2,
    "terminating": 3,
    "terminated": 4,
}
ENDED_RANK: Final = 4
ANSWERED_STATES: Final = frozenset(
    {"established", "hold", "transferring", "transferAccepted"}
)
SIP_DECLINE: Final = 603
# 408/1106: "An acknowledgement was not received for the call acceptance in the
# allotted time": nobody answered within the window.
NO_ACKNOWLEDGEMENT: Final = (408, 1106)

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
    None: "reading a call needs Calls.Initiate.All or Calls.AccessMedia.All",
}

_CALL_PATH = re.compile(r"(?:^|/)calls/([^/?#]+)([^?#]*)")


# --- options ---


def _modalities(value: Any) -> str | None:
    if (
        isinstance(value, list)
        and value
        and all(item in MODALITIES for item in value)
        and len(set(value)) == len(value)
    ):
        return None
    return f"must be a non-empty list of distinct {', '.join(MODALITIES)}"


def _media_config(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be an object"
    kind = value.get("@odata.type")
    if not isinstance(kind, str) or f"#{kind.removeprefix('#')}" not in {
        SERVICE_HOSTED,
        APP_HOSTED,
    }:
        return f"@odata.type must be {SERVICE_HOSTED} or {APP_HOSTED}"
    if f"#{kind.removeprefix('#')}" == APP_HOSTED:
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


def validate_options(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check one action's options and fill in the defaults Graph needs."""
    validated = dict(options)
    if action is CallAction.ANSWER:
        checks = {"accepted_modalities": _modalities, "media_config": _media_config}
    elif action is CallAction.REJECT:
        checks = {"reason": _reason}
    else:
        checks = {}
    for name, value in options.items():
        if name not in checks:
            raise InvalidOptionError(name, "is not a Graph option for this action")
        if (reason := checks[name](value)) is not None:
            raise InvalidOptionError(name, reason)
    if action is CallAction.ANSWER:
        validated.setdefault("accepted_modalities", list(DEFAULT_MODALITIES))
        config = dict(validated.get("media_config") or {"@odata.type": SERVICE_HOSTED})
        config["@odata.type"] = f"#{str(config['@odata.type']).removeprefix('#')}"
        validated["media_config"] = config
    elif action is CallAction.REJECT:
        validated["reason"] = str(validated.get("reason", "none")).lower()
    return validated


def _reason(value: Any) -> str | None:
    if isinstance(value, str) and value.lower() in REJECT_REASONS:
        return None
    return f"must be one of {', '.join(REJECT_REASONS)}"


# --- the client ---


@dataclass(slots=True)
class _Memory:
    """What the client remembers of one call between notifications."""

    rank: int
    rank_at: float
    direction: Direction | None = None
    answered: bool = False
    rejected: bool = False


class GraphClient:
    """Talks to Microsoft Graph as one calling bot (one app registration)."""

    supported_actions = frozenset(
        {CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP}
    )
    webhook_requires_https = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        cloud: str = "global",
        graph_url: str | None = None,
        login_url: str | None = None,
        openid_configuration_url: str = OPENID_CONFIGURATION_URL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep the session and credentials; nothing is sent yet."""
        if cloud not in CLOUDS:
            raise ProviderError(f"unknown Microsoft cloud {cloud!r}")
        roots = CLOUDS[cloud]
        self._session = session
        self._tenant_id = tenant_id
        self.client_id = client_id
        self._client_secret = client_secret
        self._graph_url = (graph_url or roots.graph_url).rstrip("/")
        self._login_url = (login_url or roots.login_url).rstrip("/")
        # .default must name the Graph root the token is for.
        self._scope = f"{self._graph_url}/.default" if graph_url else roots.scope
        self._openid_url = openid_configuration_url
        self._clock = clock
        self._webhook_url: str | None = None
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock = asyncio.Lock()
        self._keys: dict[str, Any] = {}
        self._jwks_uri: str | None = None
        self._config_fetched_at: float | None = None
        self._keys_fetched_at: float | None = None
        self._keys_lock = asyncio.Lock()
        self._memory: OrderedDict[str, _Memory] = OrderedDict()

    # --- Provider ---

    async def async_get_account(self) -> Account:
        """Get a token, which checks tenant, client id and secret."""
        await self._access_token()
        return Account(self.client_id, BOT_NAME)

    async def async_get_devices(self) -> list[Device]:
        """Return the one device: the bot."""
        return [Device(self.client_id, BOT_NAME, BOT_MODEL)]

    def validate_options(
        self, action: CallAction, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Check the options of one user action."""
        return validate_options(action, options)

    async def async_perform(
        self,
        action: CallAction,
        call: Call,
        device: Device,
        options: Mapping[str, Any],
    ) -> None:
        """Answer, reject or hang up; the bot is the only device."""
        del device
        path = f"/communications/calls/{quote(call.call_id, safe='')}"
        if action is CallAction.HANGUP:
            await self._request("DELETE", path, action=action)
            return
        options = validate_options(action, options)
        if action is CallAction.ANSWER:
            callback = self._https_webhook_url()
            if callback is None:
                raise ProviderError(
                    "Home Assistant has no https URL for Microsoft to send this "
                    "call's updates to: set up Home Assistant Cloud or an external "
                    "https URL"
                )
            if call.started_at is not None and (
                self._clock() - call.started_at.timestamp() > ANSWER_WINDOW
            ):
                raise ActionNotAllowedError(
                    f"the {ANSWER_WINDOW:g}-second answer window has passed"
                )
            body: dict[str, Any] = {
                "callbackUri": callback,
                "acceptedModalities": options["accepted_modalities"],
                "mediaConfig": options["media_config"],
            }
            await self._request("POST", f"{path}/answer", body=body, action=action)
            return
        body = {"reason": options["reason"]}
        if (callback := self._https_webhook_url()) is not None:
            body["callbackUri"] = callback
        # Marked first: the deleted notification may overtake the 202.
        memory = self._remember(call.call_id, self._clock())
        memory.rejected = True
        try:
            await self._request("POST", f"{path}/reject", body=body, action=action)
        except ProviderError:
            memory.rejected = False
            raise

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Read the call; a call Graph no longer knows has ended."""
        now = self._clock()
        path = f"/communications/calls/{quote(call.call_id, safe='')}"
        try:
            data = await self._request("GET", path)
        except CallEndedError:
            data = {"state": "terminated"}
            return self._event(call.call_id, "deleted", data, now, gone=True)
        return self._event(call.call_id, "get", data, now)

    async def async_keep_alive(self, call: Call) -> CallEvent | None:
        """Tell Graph an answered call is still wanted; it ends it after 45 min.

        A call Graph no longer knows (404) has ended: its end is returned.
        """
        path = f"/communications/calls/{quote(call.call_id, safe='')}/keepAlive"
        try:
            await self._request("POST", path)
        except CallEndedError:
            data = {"state": "terminated"}
            return self._event(call.call_id, "deleted", data, self._clock(), gone=True)
        return None

    # --- WebhookProvider ---

    def use_webhook_url(self, url: str | None) -> None:
        """Keep the URL named as callbackUri when answering and rejecting."""
        self._webhook_url = url

    def _https_webhook_url(self) -> str | None:
        url = self._webhook_url
        return url if url and url.lower().startswith("https://") else None

    async def async_parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Verify the Bearer token, then read the commsNotifications envelope."""
        await self._verify(headers, now)
        try:
            envelope = json.loads(body)
        except ValueError as err:
            raise InvalidPayloadError("notification body is not JSON") from err
        items = envelope.get("value") if isinstance(envelope, dict) else None
        kind = envelope.get("@odata.type") if isinstance(envelope, dict) else None
        if not isinstance(items, list) or (
            kind is not None and str(kind).removeprefix("#") != NOTIFICATIONS_TYPE
        ):
            # The first delivery of an incoming call may come in the legacy
            # (Skype) format; answering 204 makes Microsoft resend it in the Graph
            # format. That format is undocumented (UNCONFIRMED): anything that is
            # not a commsNotifications envelope is taken for it.
            raise ResendRequestedError("not a commsNotifications envelope")
        events: list[CallEvent] = []
        unreadable = 0
        for item in items:
            try:
                event = self._notification(item, now)
            except InvalidPayloadError:
                unreadable += 1
                continue
            if event is not None:
                events.append(event)
        if items and unreadable == len(items):
            raise InvalidPayloadError("no readable notification in the envelope")
        return events

    # --- notification tokens ---

    async def _verify(self, headers: Mapping[str, str], now: float) -> None:
        authorization = next(
            (v for k, v in headers.items() if k.lower() == "authorization"), ""
        )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidSignatureError("no Bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise InvalidSignatureError("malformed token") from err
        if header.get("alg") not in ALGORITHMS:
            raise InvalidSignatureError("token not signed with RS256")
        key = await self._signing_key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.client_id,
                issuer=ISSUERS,
                options={
                    "require": ["exp", "aud", "iss", "tid"],
                    # Checked below against `now`, the time of receipt.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as err:
            raise InvalidSignatureError(f"token refused: {type(err).__name__}") from err
        exp, nbf = claims["exp"], claims.get("nbf", now)
        if not _number(exp) or not _number(nbf):
            raise InvalidSignatureError("token times are not numbers")
        if exp <= now - TOKEN_LEEWAY:
            raise InvalidSignatureError("token expired")
        if nbf > now + TOKEN_LEEWAY:
            raise InvalidSignatureError("token not valid yet")

    async def _signing_key(self, kid: Any) -> Any:
        if not isinstance(kid, str) or not kid:
            raise InvalidSignatureError("token names no key id")
        async with self._keys_lock:
            now = self._clock()
            stale = (
                self._config_fetched_at is None
                or now - self._config_fetched_at > OPENID_CACHE
            )
            due = (
                self._keys_fetched_at is None
                or now - self._keys_fetched_at >= KEY_REFRESH_INTERVAL
            )
            if stale and due:
                await self._fetch_keys(now, with_config=True)
            elif kid not in self._keys and due:
                await self._fetch_keys(now, with_config=False)
            key = self._keys.get(kid)
        if key is None and self._config_fetched_at is None:
            # The last fetch failed a moment ago: not the sender's fault.
            raise ProviderUnavailableError("Microsoft's signing keys are unavailable")
        if key is None:
            raise InvalidSignatureError("token signed with an unknown key")
        return key

    async def _fetch_keys(self, now: float, *, with_config: bool) -> None:
        # Counted as a fetch even when it fails: no hammering on errors either.
        self._keys_fetched_at = now
        if with_config or self._jwks_uri is None:
            config = await self._get_json(self._openid_url, "OpenID configuration")
            jwks_uri = config.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ProviderUnavailableError("OpenID configuration has no jwks_uri")
            self._jwks_uri = jwks_uri
        jwks = await self._get_json(self._jwks_uri, "signing keys")
        keys: dict[str, Any] = {}
        for item in jwks.get("keys") or []:
            if not isinstance(item, dict) or not isinstance(item.get("kid"), str):
                continue
            try:
                keys[item["kid"]] = jwt.PyJWK(item).key
            except jwt.PyJWTError:
                continue  # a key type we cannot use: not one Graph signs with
        self._keys = keys
        if with_config:
            self._config_fetched_at = now

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._session.get(
                url, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderUnavailableError(
                f"cannot read Microsoft's {what}: {type(err).__name__}"
            ) from err
        if status != HTTPStatus.OK:
            raise ProviderUnavailableError(
                f"cannot read Microsoft's {what}: HTTP {status}"
            )
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ProviderUnavailableError(f"Microsoft's {what} is not JSON") from err
        if not isinstance(data, dict):
            raise ProviderUnavailableError(f"Microsoft's {what} is not an object")
        return data

    # --- notifications -> events ---

    def _notification(self, item: Any, now: float) -> CallEvent | None:
        if not isinstance(item, dict):
            raise InvalidPayloadError("notification is not an object")
        change = item.get("changeType")
        data = item.get("resourceData")
        if change not in {"created", "updated", "deleted"}:
            raise InvalidPayloadError("notification without a changeType")
        if isinstance(data, list):
            return None  # a collection: participants roster, no call state
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidPayloadError("resourceData is not an object")
        resource = item.get("resourceUrl") or data.get("@odata.id")
        match = _CALL_PATH.search(resource) if isinstance(resource, str) else None
        if match is None:
            return None  # not a call (content sharing and the like)
        call_id, rest = match.group(1), match.group(2).strip("/")
        if rest:
            # Operations (playPrompt, ...) and participants carry no call state;
            # answer, reject and hang-up create no operation.
            return None
        return self._event(call_id, str(change), data, now)

    def _remember(self, call_id: str, now: float) -> _Memory:
        memory = self._memory.get(call_id)
        if memory is None:
            memory = self._memory[call_id] = _Memory(rank=-1, rank_at=now)
            while len(self._memory) > REMEMBERED_CALLS:
                self._memory.popitem(last=False)
        self._memory.move_to_end(call_id)
        return memory

    def _event(
        self,
        call_id: str,
        change: str,
        data: dict[str, Any],
        now: float,
        *,
        gone: bool = False,
    ) -> CallEvent | None:
        state_value = data.get("state")
        deleted = change == "deleted"
        if not deleted and state_value not in RANKS:
            return None  # no state (media, tones without state) or one we do not know
        memory = self._remember(call_id, now)
        known = memory.rank >= 0
        if state_value in ANSWERED_STATES:
            memory.answered = True
        direction = _direction(data.get("direction"))
        if direction is not None and memory.direction is None:
            memory.direction = direction
        state, actions = _neutral(
            "terminated" if deleted else str(state_value), memory.direction
        )
        rank = ENDED_RANK if deleted else RANKS[str(state_value)]
        if rank < memory.rank:
            # Out of order: give it an order below the one already applied.
            order = (memory.rank_at, rank)
        else:
            if rank > memory.rank:
                memory.rank, memory.rank_at = rank, now
            order = (now, rank)
        at = datetime.fromtimestamp(now, UTC)
        remote_number, remote_name = _party(data.get("source"))
        etag = data.get("@odata.etag")
        return CallEvent(
            event_id=(
                f"{call_id}:{change}:{state_value or '-'}:{etag or '-'}"
                + (":gone" if gone else "")
            ),
            call_id=call_id,
            order=order,
            state=state,
            device_ids=(self.client_id,),
            direction=direction,
            remote_number=remote_number,
            remote_name=remote_name,
            local_number=_local(data.get("targets")),
            occurred_at=at,
            started_at=at if state_value == "incoming" else None,
            end_reason=(
                _end_reason(data.get("resultInfo"), memory, known=known)
                if state is CallState.ENDED
                else None
            ),
            actions=actions,
            raw={str(state_value or change): data},
        )

    # --- REST ---

    async def _access_token(self) -> tuple[str, bool]:
        """Return a token and whether it was just issued."""
        async with self._token_lock:
            now = self._clock()
            if self._token is not None and now < self._token_renew_at:
                return self._token, False
            token, lifetime = await self._fetch_token()
            self._token = token
            self._token_renew_at = (
                now + lifetime - min(TOKEN_RENEW_MARGIN, lifetime / 2)
            )
            return token, True

    async def _fetch_token(self) -> tuple[str, float]:
        url = f"{self._login_url}/{quote(self._tenant_id, safe='')}/oauth2/v2.0/token"
        form = {
            "client_id": self.client_id,
            "scope": self._scope,
            "client_secret": self._client_secret,
            "grant_type": "client_credentials",
        }
        try:
            async with self._session.post(
                url, data=form, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            ) as response:
                text = await response.text()
                status = response.status
                headers = response.headers
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderUnavailableError(
                f"cannot reach Microsoft Entra ID: {type(err).__name__}"
            ) from err
        if status >= HTTPStatus.BAD_REQUEST:
            raise _token_error(status, headers, text)
        try:
            data = json.loads(text)
            token = data["access_token"]
            lifetime = float(data["expires_in"])
        except (ValueError, KeyError, TypeError) as err:
            raise ProviderUnavailableError(
                "Microsoft Entra ID answered without a token"
            ) from err
        if not isinstance(token, str) or not token:
            raise ProviderUnavailableError(
                "Microsoft Entra ID answered without a token"
            )
        return token, lifetime

    async def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None, token: str
    ) -> tuple[int, Mapping[str, str], str]:
        try:
            async with self._session.request(
                method,
                f"{self._graph_url}/v1.0{path}",
                json=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json",
                },
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            ) as response:
                return response.status, response.headers, await response.text()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderUnavailableError(
                f"cannot reach Microsoft Graph: {type(err).__name__}"
            ) from err

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        action: CallAction | None = None,
    ) -> dict[str, Any]:
        token, fresh = await self._access_token()
        status, headers, text = await self._send(method, path, body, token)
        if status == HTTPStatus.UNAUTHORIZED and not fresh:
            # A cached token Graph no longer takes: one more try with a new one.
            self._token = None
            token, _ = await self._access_token()
            status, headers, text = await self._send(method, path, body, token)
        if status >= HTTPStatus.BAD_REQUEST:
            raise _graph_error(status, headers, text, action)
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ProviderUnavailableError(
                "Microsoft Graph answered with invalid JSON"
            ) from err
        return data if isinstance(data, dict) else {}


# --- helpers ---


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _direction(value: Any) -> Direction | None:
    if value == "incoming":
        return Direction.INCOMING
    if value == "outgoing":
        return Direction.OUTGOING
    return None


def _neutral(
    state: str, direction: Direction | None
) -> tuple[CallState, frozenset[CallAction]]:
    outgoing = direction is Direction.OUTGOING
    if state in {"incoming", "ringing"}:
        return (
            (CallState.DIALING, ACTIVE_ACTIONS)
            if outgoing
            else (
                CallState.RINGING,
                RINGING_ACTIONS,
            )
        )
    if state == "establishing":
        # Answer in progress: still ringing, but no longer answerable.
        return (CallState.DIALING if outgoing else CallState.RINGING), ACTIVE_ACTIONS
    if state == "redirecting":
        return CallState.RINGING, NO_ACTIONS
    if state == "hold":
        return CallState.ON_HOLD, ACTIVE_ACTIONS
    if state in {"terminating", "terminated"}:
        return CallState.ENDED, NO_ACTIONS
    # established, transferring, transferAccepted
    return CallState.TALKING, ACTIVE_ACTIONS


def _int(value: Any) -> int | None:
    # resultInfo codes come as ints or strings ("200") in the docs.
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except TypeError, ValueError:
        return None


def _end_reason(result: Any, memory: _Memory, *, known: bool) -> EndReason:
    code = subcode = None
    if isinstance(result, dict):
        code = _int(result.get("code"))
        subcode = _int(result.get("subcode", result.get("subCode")))
    if memory.rejected or code == SIP_DECLINE:
        return EndReason.REJECTED
    if (code, subcode) == NO_ACKNOWLEDGEMENT:
        return EndReason.MISSED
    if code is not None and (
        code >= HTTPStatus.INTERNAL_SERVER_ERROR or code == HTTPStatus.GONE
    ):
        return EndReason.FAILED  # media connectivity and server failures
    if known and not memory.answered:
        return EndReason.MISSED  # the caller gave up before it was answered
    return EndReason.COMPLETED


def _identity(identity_set: Any, *kinds: str) -> tuple[str | None, dict[str, Any]]:
    if isinstance(identity_set, dict):
        for kind in kinds:
            identity = identity_set.get(kind)
            if isinstance(identity, dict):
                return kind, identity
    return None, {}


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _party(source: Any) -> tuple[str | None, str | None]:
    """Read the caller from a participantInfo: (number, name)."""
    identity_set = source.get("identity") if isinstance(source, dict) else None
    # A PSTN caller's form is UNCONFIRMED: phone.id (E.164) is assumed.
    kind, identity = _identity(
        identity_set,
        "phone",
        "user",
        "guest",
        "application",
        "applicationInstance",
        "onPremises",
        "encrypted",
    )
    number = _text(identity.get("id")) if kind == "phone" else None
    return number, _text(identity.get("displayName"))


def _local(targets: Any) -> str | None:
    """Return the line called: a target's number, else its application instance."""
    if not isinstance(targets, list):
        return None
    for kinds in (("phone",), ("applicationInstance",)):
        for target in targets:
            identity_set = target.get("identity") if isinstance(target, dict) else None
            kind, identity = _identity(identity_set, *kinds)
            if kind == "phone" and (number := _text(identity.get("id"))):
                return number
            if kind == "applicationInstance" and (
                name := _text(identity.get("displayName")) or _text(identity.get("id"))
            ):
                return name
    return None


def _error_fields(text: str) -> tuple[str | None, str, str | None]:
    """Read Graph's {"error": {...}}: its code, message and request id."""
    try:
        error = json.loads(text)["error"]
    except ValueError, KeyError, TypeError:
        return None, "Microsoft Graph error", None
    if not isinstance(error, dict):
        return None, "Microsoft Graph error", None
    code = _text(error.get("code"))
    message = _text(error.get("message")) or "Microsoft Graph error"
    inner = error.get("innerError", error.get("innererror"))
    request_id = None
    if isinstance(inner, dict):
        request_id = _text(inner.get("request-id")) or _text(
            inner.get("client-request-id")
        )
    return code, message, request_id


def _retry_after(headers: Mapping[str, str]) -> float | None:
    # Seen as integers and as fractions ("2.128"); an HTTP-date is UNCONFIRMED
    # for Graph and falls back to the caller's own back-off.
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _graph_error(
    status: int, headers: Mapping[str, str], text: str, action: CallAction | None
) -> ProviderError:
    code, message, request_id = _error_fields(text)
    details = [f"HTTP {status}"]
    if code:
        details.append(f"code {code}")
    if request_id:
        details.append(f"request-id {request_id}")
    described = f"{message} ({', '.join(details)})"
    if status == HTTPStatus.UNAUTHORIZED:
        return AuthenticationError(described)
    if status == HTTPStatus.FORBIDDEN:
        return PermissionDeniedError(f"{described}: {PERMISSIONS[action]}")
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(described, _retry_after(headers))
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderUnavailableError(described, _retry_after(headers))
    if status in {HTTPStatus.NOT_FOUND, HTTPStatus.GONE}:
        return CallEndedError(described)
    # The error for a call in the wrong state is undocumented (UNCONFIRMED):
    # a conflict or a notAllowed code is taken to mean it.
    if status == HTTPStatus.CONFLICT or code == "notAllowed":
        return ActionNotAllowedError(described)
    return ProviderError(described)


def _token_error(status: int, headers: Mapping[str, str], text: str) -> ProviderError:
    # The token endpoint's error body is UNCONFIRMED in the reference; Entra ID
    # sends {"error", "error_description", "trace_id", ...}.
    error = description = trace_id = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = _text(data.get("error"))
        description = _text(data.get("error_description"))
        trace_id = _text(data.get("trace_id"))
    first_line = (description or "Microsoft Entra ID error").splitlines()[0].strip()
    details = [f"HTTP {status}"]
    if error:
        details.append(error)
    if trace_id:
        details.append(f"trace id {trace_id}")
    described = f"{first_line} ({', '.join(details)})"
    if status in {
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
    }:
        # Wrong secret, unknown client or tenant, or a scope of another cloud.
        return AuthenticationError(described)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(described, _retry_after(headers))
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderUnavailableError(described, _retry_after(headers))
    return ProviderError(described)
