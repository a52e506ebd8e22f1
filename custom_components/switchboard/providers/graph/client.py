"""The Graph calling-bot client: the Provider side, and its REST requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from http import HTTPStatus
import logging
import time
from typing import Any, ClassVar, Final
import uuid

import aiohttp

from ..kernel.http import Reply, bearer_headers, path_segment, read_object, send
from ..kernel.values import non_empty_text
from ..model import (
    ARG_DIGITS,
    ARG_TO,
    ARG_URL,
    Account,
    ActionNotAllowedError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    Device,
    Direction,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
)
from .auth import AccessTokens, NotificationTokens
from .const import CLOUDS, OPENID_CONFIGURATION_URL, REQUEST_TIMEOUT
from .errors import graph_error, operation_error
from .notifications import STATE_NAMES, TALKING_ACTIONS, TONES, NotificationReader
from .options import (
    APP_HOSTED,
    APPLICATION_INSTANCE,
    SERVICE_HOSTED,
    is_guid,
    phone_number,
    validate_options,
)

# "The bot is expected to Answer or Reject the call before the call times out
# (Current timeout value is 15 seconds)." Read at call time: tests patch it.
ANSWER_WINDOW = 15.0
BOT_NAME: Final = "Teams calling bot"
BOT_MODEL: Final = "Calling bot"
GRAPH: Final = "Microsoft Graph"
# What Graph documents for a bot's calls. Not here: hold and resume (Graph's
# startHoldMusic/stopHoldMusic act on a participant, and peer-to-peer calls
# list none), speak (no text-to-speech: play a .wav instead).
SUPPORTED: Final = frozenset(
    {
        CallAction.ANSWER,
        CallAction.REJECT,
        CallAction.HANGUP,
        CallAction.TRANSFER,
        CallAction.PLAY,
        CallAction.SEND_DIGITS,
        CallAction.DIAL,
    }
)
# sendDtmfTones "is available in the global cloud only".
GLOBAL_ONLY: Final = frozenset({CallAction.SEND_DIGITS})
# A key as sendDtmfTones names it: tone0-tone9, star, pound, a-d.
TONE_NAMES: Final = {key: name for name, key in TONES.items()}
IDENTITY: Final = "#microsoft.graph.identity"
IDENTITY_SET: Final = "#microsoft.graph.identitySet"
_LOGGER = logging.getLogger(__name__)


def _identity_set(kind: str, identity_id: str) -> dict[str, Any]:
    return {
        "@odata.type": IDENTITY_SET,
        kind: {"@odata.type": IDENTITY, "id": identity_id},
    }


def _invitee(target: str) -> dict[str, Any]:
    """Return an invitationParticipantInfo: a phone number, else a Teams user."""
    kind = "phone" if phone_number(target) else "user"
    return {
        "@odata.type": "#microsoft.graph.invitationParticipantInfo",
        "identity": _identity_set(kind, target),
    }


class GraphClient:
    """Talks to Microsoft Graph as one calling bot (one app registration)."""

    # SUPPORTED, without what the cloud lacks (set per client).
    supported_actions: frozenset[CallAction] = SUPPORTED
    webhook_requires_https = True
    # Our callback URL, named in answer, reject and new calls.
    # Tone notifications, on the calls the bot subscribes to.
    reports_digits: ClassVar[bool] = True
    redact_keys: ClassVar[frozenset[str]] = frozenset({"callbackUri"})

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
        scope: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep the session and credentials; nothing is sent yet.

        `graph_url` and `login_url` move where requests go (a proxy, a local
        simulator); the token is still asked for the cloud's own Graph
        (`https://graph.microsoft.com/.default`), which is what Entra ID
        issues tokens for, unless `scope` names another.
        """
        if cloud not in CLOUDS:
            raise ProviderError(f"unknown Microsoft cloud {cloud!r}")
        roots = CLOUDS[cloud]
        self._session = session
        self.client_id = client_id
        self._tenant_id = tenant_id
        lacking = frozenset() if cloud == "global" else GLOBAL_ONLY
        self.supported_actions = SUPPORTED - lacking
        self._warned_tones = False
        self._graph_url = (graph_url or roots.graph_url).rstrip("/")
        login = (login_url or roots.login_url).rstrip("/")
        self._clock = clock
        self._webhook_url: str | None = None
        self._tokens = AccessTokens(
            session,
            token_url=f"{login}/{path_segment(tenant_id)}/oauth2/v2.0/token",
            form={
                "client_id": client_id,
                # .default names the Graph the token is for: the cloud's, not
                # whatever address requests go through.
                "scope": scope or roots.scope,
                "client_secret": client_secret,
                "grant_type": "client_credentials",
            },
            clock=clock,
        )
        self._notification_tokens = NotificationTokens(
            session,
            audience=client_id,
            openid_configuration_url=openid_configuration_url,
            clock=clock,
        )
        self._reader = NotificationReader(client_id, TALKING_ACTIONS - lacking)

    # --- Provider ---

    async def async_get_account(self) -> Account:
        """Get a token, which checks tenant, client id and secret."""
        await self._tokens.token()
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
        """Act on a call; the bot is the only device."""
        del device
        if action not in self.supported_actions:
            raise ActionNotAllowedError(f"Microsoft Graph cannot {action} a call")
        path = _call_path(call)
        if action is CallAction.HANGUP:
            await self._request("DELETE", path, action=action)
            return
        options = validate_options(action, options)
        if action is CallAction.ANSWER:
            await self._answer(call, path, options)
        elif action is CallAction.REJECT:
            await self._reject(call, path, options)
        elif action is CallAction.TRANSFER:
            # 202, then transferring, transferAccepted and the call's end
            # (0/7015); a failed transfer comes back as established.
            target = {**_invitee(options[ARG_TO]), "endpointType": "default"}
            await self._request(
                "POST",
                f"{path}/transfer",
                body={"transferTarget": target},
                action=action,
            )
        elif action is CallAction.PLAY:
            prompt = {
                "@odata.type": "#microsoft.graph.mediaPrompt",
                "mediaInfo": {
                    "@odata.type": "#microsoft.graph.mediaInfo",
                    "uri": options[ARG_URL],
                },
            }
            await self._operation(path, "playPrompt", {"prompts": [prompt]}, action)
        elif action is CallAction.SEND_DIGITS:
            tones: dict[str, Any] = {
                "tones": [TONE_NAMES[key] for key in str(options[ARG_DIGITS])]
            }
            if "delay_ms" in options:
                tones["delayBetweenTonesMs"] = options["delay_ms"]
            await self._operation(path, "sendDtmfTones", tones, action)
        else:  # DIAL: a new call, not an action on this one (async_dial)
            raise ActionNotAllowedError(f"{action} is not an action on a call")

    async def _answer(self, call: Call, path: str, options: Mapping[str, Any]) -> None:
        callback = self._required_callback()
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
        # Marked first: the established notification may overtake the 202.
        notes = self._reader.notes(call.call_id, self._clock())
        notes.want_tones = True
        notes.app_hosted = options["media_config"]["@odata.type"] == APP_HOSTED
        await self._request(
            "POST", f"{path}/answer", body=body, action=CallAction.ANSWER
        )

    async def _reject(self, call: Call, path: str, options: Mapping[str, Any]) -> None:
        body = {"reason": options["reason"]}
        if (callback := self._https_webhook_url()) is not None:
            body["callbackUri"] = callback
        # Marked first: the deleted notification may overtake the 202.
        notes = self._reader.notes(call.call_id, self._clock())
        notes.rejected = True
        try:
            await self._request(
                "POST", f"{path}/reject", body=body, action=CallAction.REJECT
            )
        except ProviderError:
            notes.rejected = False
            raise

    async def _operation(
        self, path: str, name: str, body: dict[str, Any], action: CallAction
    ) -> None:
        """Start a media operation; one Graph says failed at once is an error.

        A running one ends in an operation notification, which carries no call
        news: Graph's own prompts and tones have no state of the call.
        """
        operation = await self._request(
            "POST", f"{path}/{name}", body=body, action=action
        )
        if str(operation.get("status", "")).lower() == "failed":
            raise operation_error(operation, action)

    async def async_dial(self, device: Device, options: Mapping[str, Any]) -> CallEvent:
        """Call a Teams user, or a phone number from the bot's application instance.

        201 with the new call (establishing), then establishing and
        established notifications once the far end answers.
        """
        options = validate_options(CallAction.DIAL, options)
        target = str(options[ARG_TO])
        body: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.call",
            "callbackUri": self._required_callback(),
            "targets": [_invitee(target)],
            "requestedModalities": ["audio"],
            "mediaConfig": {"@odata.type": SERVICE_HOSTED},
        }
        if (instance := options.get(APPLICATION_INSTANCE)) is not None:
            # "Application instance ID is the object ID of application
            # instance"; its displayName in the docs' example is left out
            # (UNCONFIRMED that Graph needs it).
            body["source"] = {
                "@odata.type": "#microsoft.graph.participantInfo",
                "identity": _identity_set("applicationInstance", str(instance)),
            }
        if is_guid(self._tenant_id):
            # The docs' PSTN example names the tenant by its id; a tenant
            # given by its domain name is left to the token (UNCONFIRMED).
            body["tenantId"] = self._tenant_id
        data = await self._request(
            "POST", "/communications/calls", body=body, action=CallAction.DIAL
        )
        call_id = non_empty_text(data.get("id"))
        if call_id is None:
            raise ProviderUnavailableError(f"{GRAPH} answered without a call id")
        now = self._clock()
        notes = self._reader.notes(call_id, now)
        notes.direction = Direction.OUTGOING
        notes.want_tones = True
        state = data.get("state")
        if not isinstance(state, str) or state.lower() not in STATE_NAMES:
            state = "establishing"  # a state we do not know: being set up
        data = {**data, "state": state, "direction": "outgoing"}
        event = self._reader.event(call_id, "created", data, now)
        if event is None:  # pragma: no cover - every known state makes one
            raise ProviderUnavailableError(f"{GRAPH} answered with an odd call")
        return dataclasses.replace(
            event,
            device_ids=(device.device_id,),
            direction=Direction.OUTGOING,
            remote_number=target,
            started_at=event.occurred_at,
        )

    def _required_callback(self) -> str:
        callback = self._https_webhook_url()
        if callback is None:
            raise ProviderError(
                "Home Assistant has no https URL for Microsoft to send this "
                "call's updates to: set up Home Assistant Cloud or an external "
                "https URL"
            )
        return callback

    async def _subscribe_tones(self) -> None:
        """Ask for the keys pressed on calls the bot just answered or placed.

        Done when such a call is established, as Microsoft's samples do (the
        docs do not say when a subscription may be made: UNCONFIRMED); a
        refusal is only logged: the call goes on, without digits.
        """
        for call_id in self._reader.take_tone_subscriptions():
            path = f"/communications/calls/{path_segment(call_id)}/subscribeToTone"
            try:
                await self._request(
                    "POST", path, body={"clientContext": str(uuid.uuid4())}
                )
            except PermissionDeniedError as err:
                log = _LOGGER.debug if self._warned_tones else _LOGGER.warning
                self._warned_tones = True
                log(
                    "Keys pressed on Teams calls are not reported: subscribing to"
                    " tones needs the Calls.AccessMedia.All permission (%s)",
                    err,
                )
            except ProviderError as err:
                _LOGGER.debug(
                    "Could not subscribe to the tones of %s: %s", call_id, err
                )

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Read the call; a call Graph no longer knows has ended."""
        now = self._clock()
        try:
            data = await self._request("GET", _call_path(call))
        except CallEndedError:
            return self._gone(call, now)
        event = self._reader.event(call.call_id, "get", data, now)
        await self._subscribe_tones()
        return event

    async def async_keep_alive(self, call: Call) -> CallEvent | None:
        """Tell Graph an answered call is still wanted; it ends it after 45 min.

        A call Graph no longer knows (404) has ended: its end is returned.
        """
        try:
            await self._request("POST", f"{_call_path(call)}/keepAlive")
        except CallEndedError:
            return self._gone(call, self._clock())
        return None

    def _gone(self, call: Call, now: float) -> CallEvent | None:
        data = {"state": "terminated"}
        return self._reader.event(call.call_id, "deleted", data, now, gone=True)

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
        await self._notification_tokens.verify(headers, now)
        events = self._reader.read(body, now)
        await self._subscribe_tones()
        return events

    # --- REST ---

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        action: CallAction | None = None,
    ) -> dict[str, Any]:
        token, fresh = await self._tokens.token()
        reply = await self._send(method, path, body, token)
        if reply.status == HTTPStatus.UNAUTHORIZED and not fresh:
            # A cached token Graph no longer takes: one more try with a new one.
            self._tokens.forget()
            token, _ = await self._tokens.token()
            reply = await self._send(method, path, body, token)
        return read_object(
            reply, service=GRAPH, errors=lambda failed: graph_error(failed, action)
        )

    async def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None, token: str
    ) -> Reply:
        return await send(
            self._session,
            method,
            f"{self._graph_url}/v1.0{path}",
            service=GRAPH,
            time_limit=REQUEST_TIMEOUT,
            headers=bearer_headers(token),
            json_body=body,
        )


def _call_path(call: Call) -> str:
    return f"/communications/calls/{path_segment(call.call_id)}"
