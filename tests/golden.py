"""Golden values: hashes of short headless runs that a refactor must leave bit-identical.

    python tests/golden.py            print the current hashes as JSON
    python tests/golden.py --write    store them in tests/golden.json (only when behaviour is meant to change)

Every shipped scenario runs for 3 simulated minutes with seed 1 through the CLI, plus variants that reach the
generational, crossover, hall-of-fame and selection code. A run's hash covers metrics.json `per_minute` and every
array of its population.npz (genomes, hall of fame, icons, world state, counters) but not the settings text, so
adding a setting with a default that changes nothing keeps the hash.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden.json"

CASES: dict[str, list[str]] = {
    "edges": ["edges"],
    "cursor": ["cursor"],
    "icons": ["icons"],
    "crowd": ["crowd"],
    "teams": ["teams"],
    "raw_distance": ["raw_distance"],
    "sweeper": ["sweeper"],
    "edges-generational": ["edges", "--set", "evolution.mode=generational", "--set", "evolution.generation_s=10"],
    "cursor-crossover-hof": ["cursor", "--set", "evolution.crossover=0.5", "--set", "evolution.hof_size=5",
                             "--set", "evolution.selection=tournament"],
    "edges-rank-world": ["edges", "--set", "evolution.selection=rank", "--set", "brain.frame=world",
                         "--set", "cursor.source=random"],
    "edges-sus-trunc": ["edges", "--set", "evolution.selection=sus", "--set", "brain.hidden=8,4"],
    "icons-truncation": ["icons", "--set", "evolution.selection=truncation"],
}


def run_hashes(name: str, args: list[str], minutes: float = 3.0) -> dict[str, str]:
    from neuroevo.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        rc = main(["run", *args, "--seed", "1", "--minutes", str(minutes), "--out", str(out), "--quiet",
                   "--no-plot"])
        assert rc == 0, f"{name}: exit {rc}"
        metrics = json.loads((out / "metrics.json").read_text())
        h_metrics = hashlib.sha256(json.dumps(metrics["per_minute"], sort_keys=True).encode()).hexdigest()
        h_world = hashlib.sha256()
        with np.load(out / "population.npz", allow_pickle=False) as z:
            for k in sorted(z.files):
                if k == "meta":
                    continue
                a = z[k]
                h_world.update(k.encode())
                h_world.update(str(a.dtype).encode())
                h_world.update(str(a.shape).encode())
                h_world.update(np.ascontiguousarray(a).tobytes())
            meta = json.loads(str(z["meta"]))
        h_world.update(json.dumps(meta["rng"], sort_keys=True).encode())
    return {"per_minute": h_metrics[:16], "world": h_world.hexdigest()[:16]}


def replay_hash(minutes: float = 1.0) -> dict[str, str]:
    """A recorded cursor run: every array of every chunk, and meta.json without its timestamps and version."""
    from neuroevo.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rec"
        rc = main(["run", "cursor", "--seed", "1", "--minutes", str(minutes), "--out", str(out), "--quiet",
                   "--no-plot", "--record"])
        assert rc == 0, f"recording: exit {rc}"
        h = hashlib.sha256()
        for f in sorted((out / "replay").glob("chunk-*.npz")):
            with np.load(f, allow_pickle=False) as z:
                for k in sorted(z.files):
                    a = z[k]
                    h.update(k.encode())
                    h.update(str(a.dtype).encode())
                    h.update(np.ascontiguousarray(a).tobytes())
    return {"chunks": h.hexdigest()[:16]}


def all_hashes() -> dict[str, dict[str, str]]:
    out = {name: run_hashes(name, args) for name, args in CASES.items()}
    out["replay-cursor"] = replay_hash()
    return out


if __name__ == "__main__":
    got = all_hashes()
    if "--write" in sys.argv:
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    print(json.dumps(got, indent=1, sort_keys=True))
