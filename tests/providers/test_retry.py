"""The one retry policy: Retry-After, back-off and a deadline."""

from __future__ import annotations

import pytest

from custom_components.switchboard.providers.kernel.retry import async_retry
from custom_components.switchboard.providers.model import (
    AuthenticationError,
    ProviderUnavailableError,
    RateLimitedError,
)


class Flaky:
    """Fails with the given errors, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_outage_is_retried_then_succeeds() -> None:
    request = Flaky(ProviderUnavailableError("503"), ProviderUnavailableError("503"))
    assert await async_retry(request, first_backoff=0.001) == "ok"
    assert request.calls == 3


async def test_rate_limit_waits_what_the_provider_asked() -> None:
    request = Flaky(RateLimitedError("429", retry_after=0.01))
    assert await async_retry(request, first_backoff=5) == "ok"
    assert request.calls == 2


async def test_gives_up_after_the_attempts() -> None:
    request = Flaky(*(ProviderUnavailableError("503") for _ in range(5)))
    with pytest.raises(ProviderUnavailableError):
        await async_retry(request, attempts=3, first_backoff=0.001)
    assert request.calls == 3


async def test_wait_past_the_deadline_fails_at_once() -> None:
    request = Flaky(RateLimitedError("429", retry_after=60))
    with pytest.raises(RateLimitedError):
        await async_retry(request, deadline=10)
    assert request.calls == 1


async def test_other_errors_are_final() -> None:
    request = Flaky(AuthenticationError("401"))
    with pytest.raises(AuthenticationError):
        await async_retry(request)
    assert request.calls == 1


async def test_outage_is_final_when_a_repeat_is_not_harmless() -> None:
    request = Flaky(ProviderUnavailableError("timeout"))
    with pytest.raises(ProviderUnavailableError):
        await async_retry(request, first_backoff=0.001, retry_outages=False)
    assert request.calls == 1


async def test_rate_limit_is_retried_when_a_repeat_is_not_harmless() -> None:
    request = Flaky(RateLimitedError("429", retry_after=0.01))
    assert await async_retry(request, retry_outages=False) == "ok"
    assert request.calls == 2
