"""Ctrl-C in a command that writes to buckets: the buckets in hand are finished first.

A bucket whose ACL was written but not yet read back, or whose policy went back but not its
ACL, is in a state nobody chose. So the first Ctrl-C stops taking new buckets and lets those
in hand finish (their writes and read-backs); the command then prints its summary and exits
130. A second Ctrl-C aborts at once (``os._exit``: the worker threads cannot be stopped, and
waiting for them is what the user refused) after naming the buckets in hand and what is
known of them.

Commands that only read (``invoke``, ``whoami``, ``doctor``) need none of this: Ctrl-C
raises KeyboardInterrupt, which ``cli.main`` turns into one line and exit 130.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import FrameType, TracebackType
from typing import TextIO, TypeVar

T = TypeVar("T")
R = TypeVar("R")

EXIT_INTERRUPTED = 130


class FinishInHand:
    """A context in which the first SIGINT asks the command to stop after the buckets in
    hand, and the second ends the process at once. Outside the main thread (where signals
    are not delivered) it only offers :attr:`requested`, never set."""

    def __init__(self, err: TextIO, *, read_state: str) -> None:
        """``read_state``: how the user reads a bucket's state afterwards (a command)."""
        self._err = err
        self._read_state = read_state
        self._lock = threading.Lock()
        self._in_hand: dict[str, tuple[float, str]] = {}
        self._requested = threading.Event()
        self._previous: object = None

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def __enter__(self) -> FinishInHand:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]

    def taking(
        self,
        items: Iterable[T],
        name: Callable[[T], str],
        steps: Callable[[T], str] | None = None,
    ) -> Iterator[T]:
        """``items`` one at a time, each in hand until the next is asked for; none after
        the first Ctrl-C. ``steps``: what the command does to an item, said if it is
        aborted in the middle of them."""
        held: str | None = None
        try:
            for item in items:
                self._release(held)
                held = None
                if self.requested:
                    return
                held = name(item)
                self._hold(held, steps(item) if steps else "")
                yield item
        finally:
            self._release(held)

    def run(self, name: str, call: Callable[[], R]) -> R | None:
        """``call()`` with ``name`` in hand; None, without calling, after the first Ctrl-C."""
        if self.requested:
            return None
        self._hold(name)
        try:
            return call()
        finally:
            self._release(name)

    def summary(self) -> str:
        return (
            "stopped by Ctrl-C: the buckets in hand were finished, the others not reached"
            " (run the command again for them)"
        )

    def _hold(self, name: str, steps: str = "") -> None:
        with self._lock:
            self._in_hand[name] = (time.monotonic(), steps)

    def _release(self, name: str | None) -> None:
        if name is not None:
            with self._lock:
                self._in_hand.pop(name, None)

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        with self._lock:
            in_hand = dict(self._in_hand)
        if not self.requested:
            self._requested.set()
            what = ", ".join(in_hand) or "none"
            print(
                f"interrupted: finishing the bucket(s) in hand first ({what});"
                " Ctrl-C again to abort at once",
                file=self._err,
                flush=True,
            )
            return
        now = time.monotonic()
        for name, (since, steps) in in_hand.items():
            planned = f" (it was to {steps})" if steps else ""
            print(
                f"aborted while {name} was in hand ({now - since:.1f}s in): its writes{planned}"
                " may or may not have been made, and were not read back; its state is not"
                f" known. Read it with: {self._read_state}",
                file=self._err,
                flush=True,
            )
        if not in_hand:
            print("aborted: no bucket was in hand", file=self._err, flush=True)
        sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)
