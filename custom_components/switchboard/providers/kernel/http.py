"""The JSON request every provider client sends.

The transport part is the same for all of them: a timeout, unreachable hosts
and timeouts as ProviderUnavailableError, the body as text. What a status
means is the provider's: each passes its own error mapper. Auth headers,
token refreshes and CSRF retries stay in the providers too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

import aiohttp

from ..model import ProviderError, ProviderUnavailableError
from .payload import load_json


@dataclass(frozen=True, slots=True)
class Reply:
    """What a provider answered: status, headers, body and the next page's URL."""

    status: int
    headers: Mapping[str, str]
    text: str
    # From a `Link: <...>; rel="next"` header, when the reply has one.
    next_url: str | None = None

    @property
    def failed(self) -> bool:
        """True for a 4xx or 5xx."""
        return self.status >= HTTPStatus.BAD_REQUEST


type ErrorMapper = Callable[[Reply], ProviderError]


class Content(TypedDict, total=False):
    """What a request carries besides its method and URL; None is nothing."""

    headers: Mapping[str, str] | None
    params: Mapping[str, str] | None
    # A JSON body, or a form (application/x-www-form-urlencoded): one of them.
    json_body: Any
    form: Mapping[str, str] | None


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,
    time_limit: float,
    unreachable: str | None = None,
    **content: Unpack[Content],
) -> Reply:
    """Send one request within `time_limit` seconds and read the whole reply.

    A network failure or timeout raises ProviderUnavailableError "cannot
    reach <service>: <error type>" (or "<unreachable>: <error type>").
    """
    try:
        async with session.request(
            method,
            url,
            params=content.get("params"),
            json=content.get("json_body"),
            data=content.get("form"),
            headers=content.get("headers"),
            timeout=aiohttp.ClientTimeout(total=time_limit),
        ) as response:
            text = await response.text(errors="replace")
            link = response.links.get("next")
            return Reply(
                response.status,
                response.headers,
                text,
                str(link["url"]) if link else None,
            )
    except (aiohttp.ClientError, TimeoutError) as err:
        what = unreachable or f"cannot reach {service}"
        raise ProviderUnavailableError(f"{what}: {type(err).__name__}") from err


def parse_object(text: str) -> dict[str, Any] | None:
    """Return a body's JSON object: {} when empty or not an object, None if not JSON."""
    if not text.strip():
        return {}
    try:
        data = load_json(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else {}


def read_object(reply: Reply, *, service: str, errors: ErrorMapper) -> dict[str, Any]:
    """Return a successful reply's JSON object; raise what a failed one means.

    A 4xx or 5xx raises `errors(reply)`; a body that is not JSON raises
    ProviderUnavailableError "<service> answered with invalid JSON".
    """
    if reply.failed:
        raise errors(reply)
    data = parse_object(reply.text)
    if data is None:
        raise ProviderUnavailableError(f"{service} answered with invalid JSON")
    return data


async def request_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,
    errors: ErrorMapper,
    time_limit: float,
    **content: Unpack[Content],
) -> dict[str, Any]:
    """Send one request and return its JSON object (see `send`, `read_object`)."""
    reply = await send(
        session, method, url, service=service, time_limit=time_limit, **content
    )
    return read_object(reply, service=service, errors=errors)


def path_segment(value: str) -> str:
    """Quote an id for one segment of a URL path ("/" included)."""
    return quote(value, safe="")


def bearer_headers(token: str) -> dict[str, str]:
    """Return the headers of a JSON request with an OAuth2 or API bearer token."""
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}
