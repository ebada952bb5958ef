"""Bounded, jittered retries for transient failures (OSS's, Config's), inside a time budget."""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from resource_repair.errors import TransientError
from resource_repair.logtext import untrusted

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Indirection so that tests can record the waits instead of sleeping through them.
_sleep: Callable[[float], None] = time.sleep

SHORTEST_ATTEMPT = 0.25
"""Seconds below which a request is not worth starting: it could not even connect."""


class Deadline:
    """The moment by which the function must have returned or raised."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def cut(self, timeout: float) -> float:
        """``timeout`` cut to the time left: the longest the next attempt may run, so that no
        attempt, the first included, runs past the deadline."""
        return max(0.0, min(timeout, self.remaining()))


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0
    throttled_delay: float = 1.0
    """Shortest wait after a throttling answer. OSS counts its request limits per second, so
    a retry within the same second is refused again (benchmarks/flood.py measured it)."""
    request_timeout: float = 5.0
    """Worst case of one more attempt; no retry starts unless this much time is left (the
    attempt itself keeps to the deadline by ``Deadline.cut``: a retry that only fits cut
    short is left to FC's next delivery, which gets a whole timeout)."""

    def delay(self, attempt: int, *, throttled: bool = False) -> float:
        """Full jitter, which spreads the retries of many deliveries apart; after throttling,
        at least ``throttled_delay`` and up to twice its doubling."""
        if throttled:
            low = self.throttled_delay * 2 ** (attempt - 1)
            return random.uniform(low, 2 * low)  # noqa: S311 - jitter, not cryptography
        return random.uniform(  # noqa: S311 - jitter, not cryptography
            0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        )

    def worst_case(self) -> float:
        """The longest ``call`` can take: every attempt at its timeout, every wait at its
        longest (a throttled one's)."""
        waits = sum(
            max(2.0 * self.throttled_delay * 2.0 ** (attempt - 1), self.max_delay)
            for attempt in range(1, self.max_attempts)
        )
        return self.max_attempts * self.request_timeout + waits

    def call(self, operation: Callable[[], T], deadline: Deadline) -> T:
        """Run ``operation``; retry a TransientError while attempts and time remain."""
        attempt = 1
        while True:
            try:
                return operation()
            except TransientError as exc:
                if attempt >= self.max_attempts:
                    raise
                wait = self.delay(attempt, throttled=exc.throttled)
                if deadline.remaining() < wait + self.request_timeout:
                    logger.warning("%s; no time left for another attempt", untrusted(exc))
                    raise
                logger.warning(
                    "%s (attempt %d of %d); retrying in %.2fs",
                    untrusted(exc),
                    attempt,
                    self.max_attempts,
                    wait,
                )
                _sleep(wait)
                attempt += 1
