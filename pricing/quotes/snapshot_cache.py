"""``SnapshotCache``: one value read from a store, kept for a TTL and refreshed ahead.

The quote state builder (:mod:`.state`) keeps its graph snapshot here. A request gets
the value in hand while it is fresh. Past the TTL there are two ways to read it again:

* **on the request path** (``refresh_ahead=False``, a TTL of 0, or the first read): the
  request reads the store and waits for it;
* **ahead** (``refresh_ahead=True``): the first request past the TTL starts one
  background thread and is answered with the value in hand, as are the requests after
  it, until the thread has read the new value, run ``prepare`` on it (e.g. warmed the
  policy for it) and swapped it in. Values are then at most TTL + the wait for the
  first request past it + the refresh's duration old, and never more than 2 x TTL: a
  request that finds the value older than that reads it itself.

:meth:`SnapshotCache.invalidate` is synchronous: the next request reads the store
itself (read-your-writes), and a refresh that began before it is discarded (a
generation counter), as is one that would replace a newer value. A refresh that raises
is logged and the value in hand kept; the next request past the TTL starts another.

:meth:`SnapshotCache.mark_stale` is for a stream of writes (events): the value in hand
is refreshed as if past the TTL once it is ``stale_refresh_s`` old, ahead when
``refresh_ahead`` (else by the request), so the writes reach the requests within about
``stale_refresh_s`` + a refresh, and a stream of them costs at most one refresh per
``stale_refresh_s``, off the request path. A value whose read began before the last
mark stays stale.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

logger = logging.getLogger("pricegraph.pricing")

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class _Entry(Generic[T]):
    value: T
    read_at: float
    """When the read began, in seconds of :attr:`SnapshotCache.monotonic`."""
    marks: int
    """How many :meth:`SnapshotCache.mark_stale` calls came before the read began."""


class SnapshotCache(Generic[T]):
    """A value read by ``read``, kept ``ttl_s`` seconds (see the module docstring).

    Args:
        read: Reads the value (from any thread when ``refresh_ahead``).
        ttl_s: Age in seconds after which the value is read again; ``0``: at every
            request; ``None``: only after :meth:`invalidate` or :meth:`mark_stale`.
        refresh_ahead: Read an expired value on a background thread while requests keep
            the one in hand.
        prepare: Called on the background thread with the new value and the time of the
            request that started the refresh, before the swap; an exception discards
            the new value.
        monotonic: The clock of the TTL, in seconds (tests pass their own).
        stale_refresh_s: Age in seconds at which a value marked stale by
            :meth:`mark_stale` is refreshed.
    """

    def __init__(
        self,
        read: Callable[[], T],
        *,
        ttl_s: float | None,
        refresh_ahead: bool = True,
        prepare: Callable[[T, datetime | None], object] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        stale_refresh_s: float = 1.0,
    ) -> None:
        self.read, self.ttl_s, self.refresh_ahead = read, ttl_s, refresh_ahead
        self.prepare, self.monotonic = prepare, monotonic
        self.stale_refresh_s = stale_refresh_s
        self._entry: _Entry[T] | None = None
        self._generation = 0  # bumped by invalidate(): reads begun before are not kept
        self._marks = 0  # bumped by mark_stale(): values read before are stale
        self._lock = threading.Lock()
        self._refresh: threading.Thread | None = None
        self._is_closed = False

    def get(self, now: datetime | None = None) -> T:
        """The value for a request at ``now`` (passed to ``prepare``): the one in hand
        while fresh, else read again, ahead or by this call."""
        entry, ttl = self._entry, self.ttl_s
        if entry is None or (ttl is not None and ttl <= 0):
            return self._read_now()
        age_s = self.monotonic() - entry.read_at
        is_stale = entry.marks != self._marks and age_s >= self.stale_refresh_s
        is_expired = ttl is not None and age_s > ttl
        if not (is_expired or is_stale):
            return entry.value
        is_too_old = ttl is not None and age_s > 2 * ttl
        if self.refresh_ahead and not is_too_old and self._start_refresh(now):
            return entry.value
        return self._read_now()

    def invalidate(self) -> None:
        """Drop the value: the next :meth:`get` reads it, and a refresh in flight is
        discarded."""
        with self._lock:
            self._generation += 1
            self._entry = None

    def mark_stale(self) -> None:
        """Say the store changed: the value in hand is refreshed once it is
        ``stale_refresh_s`` old (module docstring), not at the next request."""
        with self._lock:
            self._marks += 1

    @property
    def is_refreshing(self) -> bool:
        """Whether a background refresh is in flight."""
        thread = self._refresh
        return thread is not None and thread.is_alive()

    def wait_for_refresh(self, timeout_s: float | None = None) -> bool:
        """Wait for the background refresh in flight, if any, to end (swapped in,
        discarded or failed).

        Returns:
            Whether none is in flight any more (``False``: ``timeout_s`` ran out).
        """
        thread = self._refresh
        if thread is not None:
            thread.join(timeout_s)
        return not self.is_refreshing

    def close(self) -> None:
        """Start no more background refreshes and wait for the one in flight, so that none
        reads the store after it is closed; :meth:`get` still works (it reads on the
        calling thread once the value expires)."""
        with self._lock:
            self._is_closed = True
        self.wait_for_refresh()

    def _read_now(self) -> T:
        """Read on this thread (the request waits) and keep the value unless stale."""
        with self._lock:
            generation, marks = self._generation, self._marks
        read_at = self.monotonic()
        entry = _Entry(self.read(), read_at, marks)
        with self._lock:
            self._keep(entry, generation)
        return entry.value

    def _keep(self, entry: _Entry[T], generation: int) -> bool:
        """Swap ``entry`` in unless an invalidate came after its read began or a newer
        one is in hand (the caller holds the lock)."""
        held = self._entry
        if self._generation != generation or (held is not None and held.read_at > entry.read_at):
            return False
        self._entry = entry
        return True

    def _start_refresh(self, now: datetime | None) -> bool:
        """Start the background refresh unless one is in flight; ``False`` once closed."""
        with self._lock:
            if self._is_closed:
                return False
            if not self.is_refreshing:
                self._refresh = threading.Thread(
                    target=self._refresh_ahead,
                    args=(self._generation, self._marks, now),
                    name="pricegraph-snapshot-refresh",
                    daemon=True,  # close() joins it; a process exit need not
                )
                self._refresh.start()
        return True

    def _refresh_ahead(self, generation: int, marks: int, now: datetime | None) -> None:
        """The background refresh: read, prepare, swap (module docstring)."""
        try:
            read_at = self.monotonic()
            entry = _Entry(self.read(), read_at, marks)
            if self.prepare is not None:
                self.prepare(entry.value, now)
            with self._lock:
                self._keep(entry, generation)
        except Exception:
            logger.exception(
                "refreshing the graph snapshot in the background failed; quotes keep the "
                "snapshot in hand and the next request past the TTL tries again"
            )


__all__ = ["SnapshotCache"]
