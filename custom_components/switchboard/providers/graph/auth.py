"""Graph's tokens both ways: our access token, Microsoft's notification tokens.

The bot gets its access token from Microsoft Entra ID with client credentials.
Every notification Microsoft posts carries a Bearer JWT signed with a key of
Microsoft's OpenID configuration; it is checked before anything is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Final

import aiohttp
import jwt

from ..kernel.http import Reply, parse_object, send
from ..kernel.payload import load_json
from ..kernel.retry_after import retry_after
from ..kernel.values import finite_number, non_empty_text, trimmed_text
from ..model import (
    AuthenticationError,
    InvalidSignatureError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from .const import REQUEST_TIMEOUT

# Renew the access token this long before it expires (half its life if shorter).
TOKEN_RENEW_MARGIN: Final = 300.0
# Microsoft's sample refreshes the OpenID configuration every 2 hours.
OPENID_CACHE: Final = 7200.0
# An unknown key id re-fetches the keys, but not more often than this, so
# forged key ids cannot make us hammer the key endpoint.
KEY_REFRESH_INTERVAL: Final = 10.0
# Clock skew allowed on exp and nbf of notification tokens: 5 minutes, as
# Microsoft's own token validators allow by default.
TOKEN_LEEWAY: Final = 300.0
# The longest access token lifetime believed (Entra ID issues about an hour).
MAX_TOKEN_LIFETIME: Final = 86400.0
ISSUERS: Final = frozenset(
    {"https://graph.microsoft.com", "https://api.botframework.com"}
)
# The signing algorithm is UNCONFIRMED (the old Skype doc says "X509SHA2"):
# RS256 is what RSA keys with that name mean in a JWT.
ALGORITHMS: Final = ["RS256"]
ENTRA_ID: Final = "Microsoft Entra ID"


class AccessTokens:
    """The bot's access token: fetched with client credentials, renewed early."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        token_url: str,
        form: Mapping[str, str],
        clock: Callable[[], float],
    ) -> None:
        """Keep where and how to ask; nothing is sent yet."""
        self._session = session
        self._token_url = token_url
        self._form = dict(form)
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> tuple[str, bool]:
        """Return a token and whether it was just issued."""
        async with self._lock:
            now = self._clock()
            if self._token is not None and now < self._renew_at:
                return self._token, False
            token, lifetime = await self._fetch()
            self._token = token
            self._renew_at = now + lifetime - min(TOKEN_RENEW_MARGIN, lifetime / 2)
            return token, True

    def forget(self) -> None:
        """Drop the cached token (Graph refused it): the next one is new."""
        self._token = None

    async def _fetch(self) -> tuple[str, float]:
        reply = await send(
            self._session,
            "POST",
            self._token_url,
            service=ENTRA_ID,
            time_limit=REQUEST_TIMEOUT,
            form=self._form,
        )
        if reply.failed:
            raise token_error(reply)
        data = parse_object(reply.text) or {}
        token = non_empty_text(data.get("access_token"))
        # expires_in is a number of seconds; some servers send it as a string.
        lifetime = _seconds(data.get("expires_in"))
        if token is None or lifetime is None or lifetime <= 0:
            raise ProviderUnavailableError(f"{ENTRA_ID} answered without a token")
        return token, min(lifetime, MAX_TOKEN_LIFETIME)


def _seconds(value: Any) -> float | None:
    """Read a finite number of seconds, given as a number or a string."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    return finite_number(value)


def token_error(reply: Reply) -> ProviderError:
    """Map a failed token reply to the model."""
    # The token endpoint's error body is UNCONFIRMED in the reference; Entra ID
    # sends {"error", "error_description", "trace_id", ...}.
    status = reply.status
    error = description = trace_id = None
    if data := parse_object(reply.text):
        error = trimmed_text(data.get("error"))
        description = trimmed_text(data.get("error_description"))
        trace_id = trimmed_text(data.get("trace_id"))
    first_line = (description or f"{ENTRA_ID} error").splitlines()[0].strip()
    details = [f"HTTP {status}"]
    if error:
        details.append(error)
    if trace_id:
        details.append(f"trace id {trace_id}")
    described = f"{first_line} ({', '.join(details)})"
    wait = retry_after(reply.headers.get("Retry-After"))
    if status in {
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
    }:
        # Wrong secret, unknown client or tenant, or a scope of another cloud.
        return AuthenticationError(described)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(described, wait)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderUnavailableError(described, wait)
    return ProviderError(described)


def key_names(source: Mapping[str, Any]) -> list[str]:
    """Return what names a key in a JWT header or a JWKS entry: kid, then x5t.

    Microsoft names a key by its id, by its certificate's thumbprint, or both;
    a token naming it by x5t alone is as good as one naming its kid.
    """
    names = (source.get("kid"), source.get("x5t"))
    return [name for name in names if isinstance(name, str) and name]


class NotificationTokens:
    """Checks the Bearer JWT of Microsoft's notifications against its keys."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        audience: str,
        openid_configuration_url: str,
        clock: Callable[[], float],
    ) -> None:
        """Keep where the keys are; they are fetched on the first notification."""
        self._session = session
        self._audience = audience
        self._openid_url = openid_configuration_url
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._jwks_uri: str | None = None
        self._config_fetched_at: float | None = None
        self._keys_fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def verify(self, headers: Mapping[str, str], now: float) -> None:
        """Raise InvalidSignatureError unless the delivery's token checks out."""
        authorization = next(
            (v for k, v in headers.items() if k.lower() == "authorization"), ""
        )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidSignatureError("no Bearer token")
        token = token.strip()
        if not token.isascii():
            # A JWT is base64url and dots; undecodable header bytes arrive as
            # lone surrogates, which no JWT library can even encode.
            raise InvalidSignatureError("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise InvalidSignatureError("malformed token") from err
        if header.get("alg") not in ALGORITHMS:
            raise InvalidSignatureError("token not signed with RS256")
        key = await self._signing_key(key_names(header))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
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
        # NaN and infinity are numbers to JSON, but no time: such a token
        # would never expire.
        exp, nbf = finite_number(claims["exp"]), finite_number(claims.get("nbf", now))
        if exp is None or nbf is None:
            raise InvalidSignatureError("token times are not finite numbers")
        if exp <= now - TOKEN_LEEWAY:
            raise InvalidSignatureError("token expired")
        if nbf > now + TOKEN_LEEWAY:
            raise InvalidSignatureError("token not valid yet")

    async def _signing_key(self, names: list[str]) -> Any:
        """Return the key the token names (by kid, else x5t), fetching new keys."""
        if not names:
            raise InvalidSignatureError("token names no key id")
        async with self._lock:
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
            elif not any(name in self._keys for name in names) and due:
                await self._fetch_keys(now, with_config=False)
            key = next((self._keys[name] for name in names if name in self._keys), None)
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
        items = jwks.get("keys")
        keys: dict[str, Any] = {}
        for item in items if isinstance(items, list) else []:
            names = key_names(item) if isinstance(item, dict) else []
            if not names:
                continue
            try:
                key = jwt.PyJWK(item).key
            except jwt.PyJWTError, ValueError, TypeError:
                continue  # a key type we cannot use: not one Graph signs with
            # Found by its id and by its thumbprint, however a token names it.
            keys.update(dict.fromkeys(names, key))
        self._keys = keys
        if with_config:
            self._config_fetched_at = now

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        reply = await send(
            self._session,
            "GET",
            url,
            service="Microsoft",
            time_limit=REQUEST_TIMEOUT,
            unreachable=f"cannot read Microsoft's {what}",
        )
        if reply.status != HTTPStatus.OK:
            raise ProviderUnavailableError(
                f"cannot read Microsoft's {what}: HTTP {reply.status}"
            )
        try:
            data = load_json(reply.text)
        except ValueError as err:
            raise ProviderUnavailableError(f"Microsoft's {what} is not JSON") from err
        if not isinstance(data, dict):
            raise ProviderUnavailableError(f"Microsoft's {what} is not an object")
        return data
