"""Group commit: the inbound messages that arrive while one transaction is being written are stored
together in the next one.

On SQLite one transaction is written at a time, and each waits for the disk at its commit (fsync,
`synchronous=FULL`). A single writer task takes every message queued so far, runs each one's work
in a savepoint of one shared transaction (`Conversations.together()`), commits once, and only then
answers each caller: nothing is acknowledged before it is stored. A message whose work fails is
undone alone and its caller gets the error; the others are stored. There is no waiting for a batch
to fill: while one transaction commits, the next batch gathers by itself. A batch of one message
needs no savepoint: it is written as an ordinary change.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from lotsa.conversations import Change, Conversations

log = logging.getLogger(__name__)

MAX_BATCH = 32
"""At most this many messages in one transaction: a long one delays its first message's answer and
every other writer (a counsellor's reply waits for the write lock). The commit's wait is shared
well enough by 32."""

Work = Callable[[Change], Awaitable[Any]]


class GroupCommit:
    def __init__(self, conversations: Conversations, max_batch: int = MAX_BATCH) -> None:
        self.conversations = conversations
        self.max_batch = max_batch
        self._waiting: deque[tuple[Work, asyncio.Future[Any]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        """How many transactions were written (diagnostics)."""

    async def run(self, work: Work) -> Any:
        """`work(change)` inside the next shared transaction; its result once that committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="group-commit")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch = [self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting)))]
            try:
                outcomes = await self._one_transaction(batch)
            except asyncio.CancelledError:
                for _, future in [*batch, *self._waiting]:
                    future.cancel()
                raise
            except Exception as e:  # the transaction itself failed: nothing of the batch is stored
                log.warning("group commit failed", extra={"messages": len(batch), "error": type(e).__name__})
                outcomes = [(future, e, None) for _, future in batch]
            for future, error, result in outcomes:
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

    async def _one_transaction(self, batch: list[tuple[Work, asyncio.Future[Any]]]
                               ) -> list[tuple[asyncio.Future[Any], BaseException | None, Any]]:
        outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        batch = [(work, future) for work, future in batch if not future.cancelled()]
        if len(batch) == 1:
            # Alone in its transaction: a savepoint would undo nothing the rollback does not.
            work, future = batch[0]
            outcomes.append((future, *await _attempt(self.conversations.change, work)))
            self.batches += 1
            return outcomes
        async with self.conversations.together() as together:
            for work, future in batch:
                if future.cancelled():
                    continue   # its caller went away before it was stored: it was never acknowledged
                outcomes.append((future, *await _attempt(together.change, work)))
        self.batches += 1
        return outcomes


async def _attempt(opening: Callable[[], AbstractAsyncContextManager[Change]],
                   work: Callable[[Change], Awaitable[Any]]) -> tuple[BaseException | None, Any]:
    """One message's work in its own change: (the error, None) or (None, the result)."""
    try:
        async with opening() as change:
            return None, await work(change)
    except Exception as e:
        return e, None
