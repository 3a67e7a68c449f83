"""Plots: matplotlib figures of a run (imported lazily; never in a frame loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def learning_figure(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    """Deaths per minute by cause, and lifetimes, against simulated minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [r["minute"] for r in rows]
    causes = sorted({k for r in rows for k in r["deaths"]})
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True, constrained_layout=True)
    for cause in causes:
        ax1.plot(minutes, [r["deaths"].get(cause, 0) for r in rows], marker=".", label=cause)
    ax1.set_ylabel("deaths / minute")
    ax1.set_yscale("symlog", linthresh=1)
    ax1.legend(title="cause")
    ax1.grid(alpha=0.3)
    ax2.plot(minutes, [r["mean_lifetime_s"] for r in rows], marker=".", label="mean age of the living")
    ax2.plot(minutes, [r["max_lifetime_s"] for r in rows], marker=".", label="oldest living")
    at_death = [(m, r["mean_lifetime_at_death_s"]) for m, r in zip(minutes, rows) if r["mean_lifetime_at_death_s"]]
    if at_death:
        ax2.plot(*zip(*at_death), marker=".", linestyle=":", label="mean lifetime at death")
    ax2.set_ylabel("lifetime (s)")
    ax2.set_xlabel("simulated minute")
    ax2.set_yscale("log")
    ax2.legend()
    ax2.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
