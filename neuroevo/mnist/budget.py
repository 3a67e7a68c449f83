"""Budget: the clock and forward-pass counter every method runs against, and the validation curve it records.

Each method stops at the same wall-clock seconds (or the same forward-pass equivalents: one image through the net
counts 1, a backprop image 3). Validation scoring is the lab's measurement, not training, so its time is taken off
the clock. The best net seen on validation is the one scored once on the test set at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..brain import Layout
from .data import Dataset
from .nets import accuracy


@dataclass
class Tracker:
    """Clock, forward counter, validation curve [(seconds, forwards, val_acc)] and the best net on validation."""

    layout: Layout
    data: Dataset
    activation: str
    budget_seconds: float | None = None  # stop after this much training time
    budget_forwards: float | None = None  # or after this many forward-pass equivalents
    n_points: int = 60  # validation points, spaced geometrically in progress (log x axes)
    desc: str = ""
    quiet: bool = True
    forwards: float = 0.0
    steps: int = 0
    curve: list[tuple[float, float, float]] = field(default_factory=list)
    best_val: float = -1.0
    best: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.budget_seconds is None and self.budget_forwards is None:
            raise ValueError("a budget in seconds or forwards is needed")
        self._marks = list(np.geomspace(1e-3, 1.0, self.n_points))
        self._eval_time = 0.0
        self._t0 = time.perf_counter()
        from tqdm import tqdm

        self._bar = tqdm(total=1000, disable=self.quiet, desc=self.desc, dynamic_ncols=True, leave=False,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}")
        self._shown = 0

    def seconds(self) -> float:
        """Training seconds so far (validation time excluded)."""
        return time.perf_counter() - self._t0 - self._eval_time

    def progress(self) -> float:
        p = 0.0
        if self.budget_seconds is not None:
            p = max(p, self.seconds() / self.budget_seconds)
        if self.budget_forwards is not None:
            p = max(p, self.forwards / self.budget_forwards)
        return p

    def batch(self, start: int, end: int) -> int:
        """Minibatch size now: start, or (end > start) growing linearly from start to end over the budget (an end
        of 0 or below start leaves the batch at start).

        Late in a run the members differ by less than one batch's sampling noise; a larger batch then ranks them
        better at a higher cost per generation (the step size falls over the budget for the same reason).
        """
        if end <= start:
            return start
        return max(1, int(round(start + (end - start) * min(1.0, self.progress()))))

    def evaluate(self, genome: np.ndarray) -> float:
        """Score genome on validation, add a curve point, keep it if it is the best so far."""
        t = time.perf_counter()
        sec = self.seconds()
        acc = accuracy(self.layout, genome, self.data.x_val, self.data.y_val, self.activation)
        self.curve.append((round(sec, 4), float(self.forwards), acc))
        if acc > self.best_val:
            self.best_val, self.best = acc, np.array(genome, dtype=np.float32, copy=True)
        self._bar.set_postfix_str(f"val {acc:.4f} best {self.best_val:.4f}", refresh=False)
        self._eval_time += time.perf_counter() - t
        return acc

    def step(self, forwards: float, current: Callable[[], np.ndarray]) -> bool:
        """Count one training step; score current() on validation when a curve mark is passed. True: stop."""
        self.steps += 1
        self.forwards += forwards
        p = self.progress()
        if self._marks and p >= self._marks[0]:
            while self._marks and p >= self._marks[0]:
                self._marks.pop(0)
            self.evaluate(current())
        shown = min(1000, int(p * 1000))
        if shown > self._shown:
            self._bar.update(shown - self._shown)
            self._shown = shown
        return p >= 1.0

    def finish(self, final: np.ndarray) -> dict:
        """Score the last net too, then the best-on-validation net once on test; the run's summary."""
        self.evaluate(final)
        self._bar.close()
        d = self.data
        test = accuracy(self.layout, self.best, d.x_test, d.y_test, self.activation)
        train = accuracy(self.layout, self.best, d.x_train, d.y_train, self.activation)
        return {"test_accuracy": test, "val_accuracy": self.best_val, "train_accuracy": train,
                "seconds": round(self.seconds(), 3), "forwards": self.forwards, "steps": self.steps,
                "curve": self.curve}
