"""Command-line pieces shared by every subcommand: the one-line-error parser, UsageError and argument types."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """Bad input the user can fix; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(lowest: int):
    """argparse type: a whole number >= lowest."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if v < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, got {v}")
        return v

    return parse


def number(text: str, allow_zero: bool) -> float:
    """argparse type body: a finite number > 0 (or >= 0 with allow_zero)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not ((v >= 0 if allow_zero else v > 0) and v < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a {'number >= 0' if allow_zero else 'positive number'}, got {text}")
    return v


def positive_float(text: str) -> float:
    return number(text, allow_zero=False)


def nonnegative_float(text: str) -> float:
    return number(text, allow_zero=True)


def window_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    try:
        size = (int(w), int(h))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}") from None
    if not sep or min(size) < 200:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT of at least 200x200, got {text!r}")
    return size
