"""Ctrl-C in a command that writes to buckets: the buckets in hand are finished first.

A bucket whose ACL was written but not yet read back, or whose policy went back but not its
ACL, is in a state nobody chose; a bucket written and read back whose record (audit line,
report line) was not yet written cannot be undone by ``restore``. So the first Ctrl-C stops
taking new buckets and lets those in hand finish (their writes, read-backs and records); the
command then prints its summary and exits 130. A second Ctrl-C aborts at once
(``os._exit``: the worker threads cannot be stopped, and waiting for them is what the user
refused) after one line naming the buckets in hand and what is known of them.

Commands that write: ``backfill``, ``restore``, ``sweep --apply``, and ``invoke`` when its
``dryRun`` is false and its requests go to an OSS server (``--oss real``, or
``ossEndpointOverride``). Commands that only read (``invoke`` as a dry run, ``whoami``,
``doctor``) need none of this: Ctrl-C raises KeyboardInterrupt, which ``cli.main`` turns
into one line and exit 130.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import FrameType, TracebackType
from typing import TextIO, TypeVar

from resource_repair.tools.terminal import shown_line

T = TypeVar("T")
R = TypeVar("R")

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C ended
# The abort line names every bucket in hand (a sweep holds one per worker).
_LINE_CHARS = 4000


@dataclasses.dataclass(eq=False)
class Hand:
    """One bucket in hand: its name, since when, what the command does to it, and whether
    that is done (only its record is then still to be written)."""

    name: str
    since: float
    steps: str = ""
    finished: bool = False


class FinishInHand:
    """A context in which the first SIGINT asks the command to stop after the buckets in
    hand, and the second ends the process at once. Outside the main thread (where signals
    are not delivered) it only offers :attr:`requested`, never set."""

    def __init__(self, err: TextIO, *, read_state: str) -> None:
        """``read_state``: how the user reads a bucket's state afterwards (a command)."""
        self._err = err
        self._read_state = read_state
        # Reentrant: the handler runs in the main thread, between any two of its bytecodes,
        # possibly while the main thread itself holds the lock (taking or releasing a bucket);
        # a plain lock would then wait for itself for ever.
        self._lock = threading.RLock()
        self._in_hand: set[Hand] = set()
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
        held: Hand | None = None
        try:
            for item in items:
                self.release(held)
                held = None
                if self.requested:
                    return
                held = self._hold(name(item), steps(item) if steps else "")
                yield item
        finally:
            self.release(held)

    def run(self, name: str, call: Callable[[], R]) -> R | None:
        """``call()`` with ``name`` in hand; None, without calling, after the first Ctrl-C."""
        if self.requested:
            return None
        hand = self._hold(name)
        try:
            return call()
        finally:
            self.release(hand)

    def run_kept(self, name: str, call: Callable[[], R]) -> tuple[Hand, R] | None:
        """As :meth:`run`, but ``name`` stays in hand, finished, until :meth:`release`: for
        a command whose record of the bucket is written elsewhere (the main thread) after
        ``call`` returns. A second Ctrl-C in between names it as finished but unrecorded."""
        if self.requested:
            return None
        hand = self._hold(name)
        try:
            result = call()
        except BaseException:
            self.release(hand)
            raise
        hand.finished = True
        return hand, result

    def release(self, hand: object) -> None:
        """``hand`` (a :class:`Hand`; anything else is ignored) is no longer in hand."""
        if isinstance(hand, Hand):
            with self._lock:
                self._in_hand.discard(hand)

    def summary(self) -> str:
        return (
            "stopped by Ctrl-C: the buckets in hand were finished, the others not reached"
            " (run the command again for them)"
        )

    def _hold(self, name: str, steps: str = "") -> Hand:
        hand = Hand(name, time.monotonic(), steps)
        with self._lock:
            self._in_hand.add(hand)
        return hand

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        with self._lock:
            in_hand = sorted(self._in_hand, key=lambda hand: hand.since)
        if not self.requested:
            self._requested.set()
            what = ", ".join(hand.name for hand in in_hand) or "none"
            self._say(
                f"interrupted: finishing the bucket(s) in hand first ({what});"
                " Ctrl-C again to abort at once"
            )
            return
        self._say(self._aborted(in_hand, time.monotonic()))
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)

    def _say(self, line: str) -> None:
        """One line from the handler. A bucket name may come from a message or a listing
        (terminal.py). Written to the file descriptor itself where there is one: the handler
        may run while the main thread is inside a write to the same stream (an audit line),
        and a buffered stream entered again raises "reentrant call"."""
        text = shown_line(line, limit=_LINE_CHARS) + "\n"
        try:
            descriptor = self._err.fileno()
        except (AttributeError, OSError, ValueError):  # a stream of a test, in memory
            print(text, end="", file=self._err, flush=True)
            return
        with contextlib.suppress(OSError):
            os.write(descriptor, text.encode("utf-8", errors="replace"))

    def _aborted(self, in_hand: list[Hand], now: float) -> str:
        """The one line the second Ctrl-C leaves: what is known of each bucket in hand."""
        unfinished = [hand for hand in in_hand if not hand.finished]
        finished = [hand for hand in in_hand if hand.finished]
        if not in_hand:
            return "aborted: no bucket was in hand"
        parts = []
        if len(unfinished) == 1:
            hand = unfinished[0]
            planned = f" (it was to {hand.steps})" if hand.steps else ""
            parts.append(
                f"aborted while {hand.name} was in hand ({now - hand.since:.1f}s in): its"
                f" writes{planned} may or may not have been made, and were not read back;"
                " its state is not known"
            )
        elif unfinished:
            names = ", ".join(
                f"{hand.name} ({now - hand.since:.1f}s in"
                f"{'; it was to ' + hand.steps if hand.steps else ''})"
                for hand in unfinished
            )
            parts.append(
                f"aborted while {len(unfinished)} buckets were in hand: {names}: their writes"
                " may or may not have been made, and were not read back; their state is not"
                " known"
            )
        if finished:
            names = ", ".join(hand.name for hand in finished)
            parts.append(
                f"{'aborted after ' if not unfinished else ''}{names}"
                f" {'was' if len(finished) == 1 else 'were'} finished but not recorded (no"
                " audit record says what was changed, so restore cannot undo it)"
            )
        return "; ".join(parts) + f". Read the state with: {self._read_state}"
