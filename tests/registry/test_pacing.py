"""The per-host pacer: wide at first, halved by a 429 or by answers markedly slower than the best,
never below its floor for slowness alone, grown back by fast rounds, and a fair semaphore meanwhile."""

from __future__ import annotations

import asyncio

from nbcatalog.registry import pacing
from nbcatalog.registry.pacing import HostPacer, ceiling_for


def test_loopback_starts_wide_and_a_fixed_concurrency_is_both_start_and_ceiling() -> None:
    assert ceiling_for("127.0.0.1:5000", None) == (pacing.LOOPBACK_START, pacing.LOOPBACK_CEILING)
    assert ceiling_for("quay.io", None) == (pacing.REMOTE_START, 32)
    assert ceiling_for("quay.io", 4) == (4, 4)


def test_the_registry_concurrency_limit_bounds_every_host() -> None:
    from nbcatalog import limits

    limits.configure(limits.Limits().replace(registry_concurrency=64))
    try:
        assert ceiling_for("quay.io", None) == (pacing.REMOTE_START, 64)
        assert ceiling_for("127.0.0.1:5000", None)[1] == pacing.LOOPBACK_CEILING
        limits.configure(limits.Limits().replace(registry_concurrency=4))
        assert ceiling_for("quay.io", None) == (4, 4) and ceiling_for("127.0.0.1:5000", None) == (4, 4)
    finally:
        limits.configure(None)


def test_a_429_halves_once_per_burst_and_slowness_stops_at_the_floor() -> None:
    pacer = HostPacer(32, 32)
    for _ in range(32):  # one burst of 429s is one signal
        pacer.observe(429, 0.01)
    assert pacer.limit == 16
    pacer._last_cut = 0.0
    pacer.observe(200, 0.01)
    for _ in range(50):
        pacer._last_cut = 0.0
        pacer.observe(200, 1.0)  # 100x the best and far over the margin
    assert pacer.limit == pacing.LATENCY_FLOOR


def test_fast_rounds_grow_back_to_the_ceiling_and_no_further() -> None:
    pacer = HostPacer(4, 6)
    for _ in range(200):
        pacer.observe(200, 0.05)
    assert pacer.limit == 6


async def test_it_bounds_what_runs_at_once_and_survives_cancelled_waiters() -> None:
    pacer = HostPacer(3, 3)
    running = 0
    most = 0

    async def work() -> None:
        nonlocal running, most
        async with pacer:
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.001)
            running -= 1

    tasks = [asyncio.ensure_future(work()) for _ in range(30)]
    await asyncio.sleep(0)
    for task in tasks[10:15]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert most == 3 == pacer.peak and pacer.in_flight == 0 and not pacer._waiters
