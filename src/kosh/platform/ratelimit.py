"""A small sliding-window rate limit, kept in the memory of one process.

Each web worker process counts on its own: with N workers a client may make up to N times the
limit, and a restart forgets every count. That is enough to make guessing slow on the public
pages that have no account (kosh.flows.selfservice); a shared store would be needed for more.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds (per process: see the module)."""

    # Keys kept at most: past it, keys with no hit left in the window are dropped first, then the
    # oldest keys (a flood of new keys must not grow memory without bound).
    MAX_KEYS = 100_000

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> int:
        """Seconds until `key` may hit again (0: it may now); does not count a hit."""
        with self._lock:
            return self._wait(key, self.clock())

    def hit(self, key: str) -> int:
        """Count a hit for `key` if it is allowed and return 0; else the seconds to wait (the hit is
        not counted, so a client that waits is not kept out for longer)."""
        with self._lock:
            now = self.clock()
            wait = self._wait(key, now)
            if wait == 0:
                if len(self._hits) >= self.MAX_KEYS and key not in self._hits:
                    self._prune(now)
                self._hits.setdefault(key, deque()).append(now)
            return wait

    def _wait(self, key: str, now: float) -> int:
        hits = self._hits.get(key)
        if not hits:
            return 0
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            return 0
        return max(1, math.ceil(hits[0] + self.window - now))

    def _prune(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]
        while len(self._hits) >= self.MAX_KEYS:
            del self._hits[next(iter(self._hits))]
