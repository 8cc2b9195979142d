"""When and how long to wait before asking a registry again.

Retried: 429 (honouring ``Retry-After``), 500/502/503/504 and transport failures (resets, refused
connections, timeouts). Everything else is an answer. Backoff doubles with full jitter, capped.

Not retried: a host name that does not resolve. The resolver has retried already before it says so,
and its answer does not change a second later (offline, a typo, a name only a VPN knows): retrying
it made an offline audit wait out every attempt's backoff for every repository.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    #: A server asking for more than this is not waited for: the caller gets the error instead.
    max_retry_after: float = 120.0

    @staticmethod
    def retries(exc: BaseException) -> bool:
        """Whether a transport failure is worth another attempt: all but a name that did not resolve."""
        from nbcatalog.registry.wire import NameResolutionFailure  # not at start-up: wire loads httpx

        return not isinstance(exc, NameResolutionFailure)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))

    def delay(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None when the server asks too much."""
        wanted = parse_retry_after(retry_after) if retry_after else None
        if wanted is None:
            return self.backoff(attempt)
        if wanted > self.max_retry_after:
            return None
        return wanted + random.uniform(0, 0.1)


def parse_retry_after(value: str) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when unparseable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        import email.utils  # only for an HTTP-date Retry-After: the email package costs every start-up

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
