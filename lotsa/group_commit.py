"""Group commit: the inbound messages that arrive while one transaction is being written are stored
together in the next one.

On SQLite one transaction is written at a time, and each waits for the disk at its commit (fsync,
`synchronous=FULL`). A single writer task takes every message queued so far, runs each one's work
in a savepoint of one shared transaction (`Conversations.together()`), commits once, and only then
answers each caller: nothing is acknowledged before it is stored. A message whose work fails is
undone alone and its caller gets the error; the others are stored. There is no waiting for a batch
to fill: while one transaction commits, the next batch gathers by itself. A batch of one message
needs no savepoint: it is written as an ordinary change. What a batch's messages need of the CPU
before they are stored (their classification) is done once for the whole batch (`prepare`).
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

Work = Callable[[Change, Any], Awaitable[Any]]
"""A message's work in its change, given what `prepare` made of its input (the input itself without one)."""
Prepare = Callable[[list[Any]], list[Any]]
"""CPU work done for a whole batch at once before its transaction (one classifier call for all its
texts), one result per input in order."""
_Waiting = tuple[Work, asyncio.Future[Any], Any]
_Outcome = tuple[asyncio.Future[Any], BaseException | None, Any]


class GroupCommit:
    def __init__(self, conversations: Conversations, max_batch: int = MAX_BATCH, prepare: Prepare | None = None) -> None:
        self.conversations = conversations
        self.max_batch = max_batch
        self.prepare = prepare
        self._waiting: deque[_Waiting] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        """How many transactions were written (diagnostics)."""

    async def run(self, work: Work, given: Any = None) -> Any:
        """`work(change, prepared)` inside the next shared transaction, `prepared` what `prepare`
        made of `given` with the rest of the batch; its result once that committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future, given))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="group-commit")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            taken = [self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting)))]
            batch, failed = self._prepared(taken)
            try:
                outcomes = failed + await self._one_transaction(batch)
            except asyncio.CancelledError:
                for _, future, _ in [*taken, *self._waiting]:
                    future.cancel()
                raise
            except Exception as e:  # the transaction itself failed: nothing of the batch is stored
                log.warning("group commit failed", extra={"messages": len(batch), "error": type(e).__name__})
                outcomes = failed + [(future, e, None) for _, future, _ in batch]
            for future, error, result in outcomes:
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

    def _prepared(self, taken: list[_Waiting]) -> tuple[list[_Waiting], list[_Outcome]]:
        """The batch with each input replaced by what `prepare` made of it; an input `prepare`
        fails on is answered with its error at once (tried alone, so it fails no other)."""
        if self.prepare is None or not taken:
            return taken, []
        try:
            results: list[Any] = self.prepare([given for _, _, given in taken])
        except Exception:
            results = []
            for _, _, given in taken:
                try:
                    results.append(self.prepare([given])[0])
                except Exception as e:
                    results.append(_Failed(e))
        batch: list[_Waiting] = []
        failed: list[_Outcome] = []
        for (work, future, _), result in zip(taken, results, strict=True):
            if isinstance(result, _Failed):
                failed.append((future, result.error, None))
            else:
                batch.append((work, future, result))
        return batch, failed

    async def _one_transaction(self, batch: list[_Waiting]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        batch = [entry for entry in batch if not entry[1].cancelled()]
        if not batch:
            return outcomes
        if len(batch) == 1:
            # Alone in its transaction: a savepoint would undo nothing the rollback does not.
            work, future, prepared = batch[0]
            outcomes.append((future, *await _attempt(self.conversations.change, work, prepared)))
            self.batches += 1
            return outcomes
        async with self.conversations.together() as together:
            for work, future, prepared in batch:
                if future.cancelled():
                    continue   # its caller went away before it was stored: it was never acknowledged
                outcomes.append((future, *await _attempt(together.change, work, prepared)))
        self.batches += 1
        return outcomes


class _Failed:
    def __init__(self, error: Exception) -> None:
        self.error = error


async def _attempt(opening: Callable[[], AbstractAsyncContextManager[Change]], work: Work,
                   prepared: Any) -> tuple[BaseException | None, Any]:
    """One message's work in its own change: (the error, None) or (None, the result)."""
    try:
        async with opening() as change:
            return None, await work(change, prepared)
    except Exception as e:
        return e, None
