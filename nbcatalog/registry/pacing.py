"""How many requests one registry host gets at once: wide from the start, narrower when it struggles.

Each host has its own :class:`HostPacer`. It starts wide (a loopback registry costs no round trips,
a remote one is mostly waiting for them), halves on a 429 and when answers take markedly longer
than the best seen (the registry, or the path to it, is queueing), and grows back by one slot per
round of answers that came about as fast as the best. A fixed ``--concurrency`` is a ceiling.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from types import TracebackType

from nbcatalog import limits
from nbcatalog.refs import is_loopback_host

#: Where a host starts and the most it may grow to. Loopback's ceiling is the 16 connections the
#: load test lets one command open to a registry; on a shared 2-core machine more only queues.
LOOPBACK_START, LOOPBACK_CEILING = 16, 16
REMOTE_START = 16  # and up to limits.registry_concurrency (32)
#: "Markedly longer": at least twice the best seen and this much more, so a loopback registry's
#: jitter and the client's own event-loop queueing (a few ms at 16 in flight) are not mistaken
#: for a struggling registry.
SLOWER_FACTOR, SLOWER_MARGIN_S = 3.0, 0.05
#: Slowness alone never narrows a host below this (a 429 may, down to one): a registry whose
#: answers queue at its CPUs still needs a few requests in flight to keep them busy (8: the old fixed figure).
LATENCY_FLOOR = 8
#: Answers this close to the best seen say the host is not queueing: room to grow.
FAST_FACTOR = 1.25
_SMOOTHING = 0.2
#: Per answer: the best seen doubles in ~350 answers unless answers as fast come again.
_BEST_DRIFT = 1.002


def ceiling_for(host: str, fixed: int | None) -> tuple[int, int]:
    """(start, ceiling) for ``host``; a fixed concurrency is both."""
    if fixed is not None:
        return fixed, fixed
    bound = limits.current().registry_concurrency  # the ceiling for remote hosts; loopback's is lower
    if is_loopback_host(host):
        start, ceiling = LOOPBACK_START, min(LOOPBACK_CEILING, bound)
    else:
        start, ceiling = REMOTE_START, bound
    return min(start, ceiling), ceiling


class HostPacer:
    """An async context manager like a semaphore whose size follows the host's answers.

    :meth:`observe` gets each attempt's status and seconds to its response head. ``peak`` is the
    most requests ever let through at once (for benchmarks and tests).
    """

    def __init__(self, start: int, ceiling: int) -> None:
        self.limit = max(1, start)
        self.ceiling = max(1, ceiling)
        self.in_flight = 0
        self.peak = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._best = float("inf")
        self._smoothed = 0.0
        self._good = 0  # fast answers since the last change
        self._last_cut = 0.0

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # woken and cancelled at once: hand the slot on
                self._wake()
            else:
                with contextlib.suppress(ValueError):  # a wake-up may have dropped it already
                    self._waiters.remove(waiter)
            raise

    def _take(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._take()
                waiter.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def observe(self, status: int, seconds: float) -> None:
        """One answer: 429 halves; a markedly slow one halves (not below :data:`LATENCY_FLOOR`);
        a round of answers about as fast as the best adds a slot."""
        if status == 429:
            self._cut(1)
            return
        if status >= 500:
            return
        # the best drifts up slowly, so a host that got slower for good is judged against its new pace
        self._best = min(self._best * _BEST_DRIFT, seconds)
        self._smoothed = seconds if not self._smoothed else self._smoothed + _SMOOTHING * (seconds - self._smoothed)
        if self._smoothed > SLOWER_FACTOR * self._best and self._smoothed - self._best > SLOWER_MARGIN_S:
            self._cut(LATENCY_FLOOR)
        elif self._smoothed <= FAST_FACTOR * self._best + 0.001:
            self._good += 1
            if self._good >= self.limit and self.limit < self.ceiling:
                self.limit += 1
                self._good = 0
                self._wake()

    def _cut(self, floor: int) -> None:
        """Halve, at most once per smoothed round trip: 32 answers of one burst are one signal."""
        now = time.monotonic()
        if now - self._last_cut < max(self._smoothed, 0.01):
            return
        if self.limit <= floor:
            return
        self._last_cut = now
        self.limit = max(floor, self.limit // 2)
        self._good = 0
        # the slow answers behind a cut are the queue it drains: start judging afresh from here
        self._smoothed = 0.0
