"""Group commit for asyncio callers: items submitted while a write is in flight are written
together by the next one (one transaction, one fsync), and each caller resumes only once
its item is durable. The writes run on one thread of their own; callers wait on plain
asyncio futures, so a burst of webhooks costs the event loop no thread per request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`write(items) -> results` (one per item, in order) is called with batches of at
    most `max_batch`; `written(items, results)` runs on the event loop after each."""

    def __init__(self, write: Callable[[list[T]], list[R]], max_batch: int = 512,
                 written: Callable[[list[T], list[R]], None] | None = None) -> None:
        self._write = write
        self._max = max_batch
        self._written = written
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hoist-group-commit")

    async def submit(self, item: T) -> R:
        """Write item with whatever else is waiting; return once it is durable. The
        write's exception (store full, read-only, unreachable) is raised to every caller
        of the batch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())  # held: a task may not be collected
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:self._max], self._pending[self._max:]
                items = [item for item, _ in batch]
                try:
                    results = await loop.run_in_executor(self._executor, self._write, items)
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # a caller that gave up (client gone) is skipped
                        future.set_result(result)
                if self._written is not None:
                    self._written(items, results)
        finally:
            self._draining = False
