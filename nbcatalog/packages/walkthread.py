"""A layer walk in its own thread, fed through a small bounded queue.

The event loop then only moves bytes (the backend hashes them off the loop too), while
decompression, which releases the GIL, and the tar scan run beside it: on two cores the download and
the walk overlap instead of taking turns. The queue bounds memory to a few batches per layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import Generic, TypeVar

from nbcatalog.packages.layer import LayerReader, LayerResult

T = TypeVar("T")

#: Compressed batches waiting for the walker, per layer.
QUEUE_DEPTH = 4


class LayerWalkThread(Generic[T]):
    """``await put(batch)`` compressed bytes, then ``await finish()``; ``abort()`` on any failure."""

    def __init__(self, reader: LayerReader[T], depth: int = QUEUE_DEPTH) -> None:
        self._reader = reader
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._aborted = threading.Event()
        self._error: BaseException | None = None
        self._result: LayerResult[T] | None = None
        self._thread = threading.Thread(target=self._run, name="nbcatalog-layer-walk", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ended = False
        try:
            while (batch := self._queue.get()) is not None:
                if not self._aborted.is_set():
                    self._reader.feed(batch)
            ended = True
            if not self._aborted.is_set():
                self._result = self._reader.finish()
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop by put()/finish()
            self._error = exc
            while not ended and self._queue.get() is not None:  # drain: the producer must never block
                pass

    async def put(self, batch: bytes) -> None:
        if self._error is not None:
            raise self._error
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            await asyncio.to_thread(self._queue.put, batch)

    async def finish(self) -> LayerResult[T]:
        await self.put_end()
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    async def put_end(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            await asyncio.to_thread(self._queue.put, None)

    def abort(self) -> None:
        """Stop at once without waiting: queued batches are dropped and the thread ends."""
        self._aborted.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with contextlib.suppress(queue.Full):  # only this side puts, and the queue was just emptied
            self._queue.put_nowait(None)
