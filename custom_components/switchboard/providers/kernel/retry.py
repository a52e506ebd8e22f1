"""The one place that retries provider requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time

from ..model import ProviderUnavailableError, RateLimitedError

ATTEMPTS = 3
DEADLINE = 10.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 4.0


async def async_retry[T](
    request: Callable[[], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
    deadline: float = DEADLINE,
    first_backoff: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    retry_outages: bool = True,
) -> T:
    """Run `request`, retrying rate limits and outages within a deadline.

    A rate limit or outage waits what the provider asked (Retry-After), or else
    backs off exponentially. When the next wait would pass the
    deadline, the last error is raised instead of a doomed wait. Other errors
    are final and raised at once.

    `retry_outages` False is for a request whose repeat is not harmless (a
    transfer, a dial, a prompt): an outage or timeout may hide a request that
    went through, so only a rate limit, which refused it, is retried.
    """
    give_up_at = clock() + deadline
    # Read at call time, so a test can shorten it.
    backoff = FIRST_BACKOFF if first_backoff is None else first_backoff
    for attempt in range(1, attempts + 1):
        try:
            return await request()
        except (RateLimitedError, ProviderUnavailableError) as err:
            if not retry_outages and isinstance(err, ProviderUnavailableError):
                raise
            wait = backoff if err.retry_after is None else err.retry_after
            if attempt == attempts or clock() + wait > give_up_at:
                raise
        await asyncio.sleep(wait)
        backoff = min(backoff * 2, MAX_BACKOFF)
    raise AssertionError("unreachable")  # pragma: no cover
