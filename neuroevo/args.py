"""Command-line pieces shared by every subcommand: the one-line-error parser, UsageError and argument types."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn


class UsageError(Exception):
    """Bad input the user can fix; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(lowest: int, highest: int | None = None):
    """argparse type: a whole number >= lowest (and <= highest, when given)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
        if v < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, got {v}")
        if highest is not None and v > highest:
            raise argparse.ArgumentTypeError(f"must be at most {highest:,}, got {text[:40]}")
        return v

    return parse


def float_at_most(highest: float, allow_zero: bool = False):
    """argparse type: a finite number > 0 (>= 0 with allow_zero) and <= highest."""

    def parse(text: str) -> float:
        v = number(text, allow_zero)
        if v > highest:
            raise argparse.ArgumentTypeError(f"must be at most {highest:g}, got {text[:40]}")
        return v

    return parse


def out_dir(text: str) -> Path:
    """argparse type: an output folder; an empty name (which would mean the current folder) is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name is not a folder (give a folder, e.g. --out results)")
    return Path(text)


def number(text: str, allow_zero: bool) -> float:
    """argparse type body: a finite number > 0 (or >= 0 with allow_zero)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not ((v >= 0 if allow_zero else v > 0) and v < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a {'number >= 0' if allow_zero else 'positive number'}, got {text}")
    return v


def positive_float(text: str) -> float:
    return number(text, allow_zero=False)


def nonnegative_float(text: str) -> float:
    return number(text, allow_zero=True)


MAX_WINDOW = 8192  # px per side


def window_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    try:
        size = (int(w), int(h))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, got {text[:40]!r}") from None
    if not sep or min(size) < 200 or max(size) > MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT from 200x200 to {MAX_WINDOW}x{MAX_WINDOW}, "
                                         f"got {text[:40]!r}")
    return size
