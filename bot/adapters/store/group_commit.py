"""Group commit: concurrent writers hand their rows to one thread that writes them in a
single transaction (one fsync), and each caller returns only once its rows are durable."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[list[T]], list[R]], max_batch: int = 256) -> None:
        self._write = write
        self._max = max_batch
        self._queue: queue.Queue[tuple[T, Future[R]]] = queue.Queue()
        threading.Thread(target=self._run, name="hoist-group-commit", daemon=True).start()

    def submit(self, item: T) -> R:
        """Write item with whatever else is waiting; block until it is durable. The write's
        exception (store full, read-only) is raised to every caller of the batch."""
        return self.submit_future(item).result()

    def submit_future(self, item: T) -> Future[R]:
        """The same, without blocking: a future done once item is durable."""
        future: Future[R] = Future()
        self._queue.put((item, future))
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._write([item for item, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
