"""Interrupts and time limits around code that must not be cut short, or must not run forever.

Ctrl-C: `deferred()` marks a stretch (the compiled step and the Python around it) in which a SIGINT only sets a flag.
Raising KeyboardInterrupt inside numba's dispatcher can crash the process (numba issue #2324), and cutting a step
or a save in half would leave a state that no resume reproduces. The flag is read between steps (`pending()`), and
KeyboardInterrupt is raised when the outermost deferred stretch ends, at a point where the world is whole. Outside
such stretches Ctrl-C behaves as usual. Only the main thread installs the handler, and only while the process uses
Python's own (no other library replaced it).

Time limits: `time_limit(seconds, what)` runs scenario code (a hook, a scenario file's import) under an interval
timer; code that is still running when it fires gets a `TimeLimit` exception, again every quarter second after that
if it swallows the first, so a hook stuck in a loop stops with one line instead of hanging the program.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

DEFAULT_HOOK_SECONDS = 5.0  # a scenario hook or import that runs longer than this stops the run

_depth = 0  # nesting of deferred() stretches
_pending = False  # a Ctrl-C arrived inside one
_hook_seconds = DEFAULT_HOOK_SECONDS


class TimeLimit(BaseException):  # noqa: N818 - a BaseException, so `except Exception` in scenario code lets it by
    """Scenario code ran past its time limit (derives from BaseException so that scenario code cannot catch it by
    accident with `except Exception`)."""


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_sigint(signum: int, frame: Any) -> None:
    global _pending
    if _depth > 0:
        _pending = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C until the outermost deferred stretch ends, then raise KeyboardInterrupt there."""
    global _depth, _pending
    previous = None
    if _depth == 0 and _main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    _depth += 1
    try:
        yield
    except BaseException:
        _leave(previous)
        if _depth == 0:
            _pending = False  # the error that is on its way out ends this stretch (and usually the program)
        raise
    _leave(previous)
    if _depth == 0 and _pending:
        _pending = False
        raise KeyboardInterrupt


def _leave(previous: Any) -> None:
    global _depth
    _depth -= 1
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def pending() -> bool:
    """Whether a Ctrl-C waits for the current deferred stretch to end (loops check this between steps)."""
    return _pending


def set_hook_seconds(seconds: float | None) -> None:
    """The per-call time limit for scenario hooks and imports (None or 0: no limit)."""
    global _hook_seconds
    _hook_seconds = float(seconds) if seconds else 0.0


def hook_seconds() -> float:
    return _hook_seconds


def _on_alarm(signum: int, frame: Any) -> None:
    raise TimeLimit


@contextlib.contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Run the block under a time limit (default: the hook limit); TimeLimit when it is exceeded. Without an
    interval timer (not the main thread, another timer already running, no setitimer) the block runs unlimited."""
    limit = _hook_seconds if seconds is None else seconds
    if not limit or not _main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):  # someone else's timer, or a limit already running
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit, 0.25)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
