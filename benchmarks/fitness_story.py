"""Selection fitness other than lifetime, and rtNEAT-style removal of the worst, through a scenario's hooks, on the
story / hunter / edges targets (README: "What reaches the story").

    NUMBA_NUM_THREADS=1 python benchmarks/fitness_story.py --targets story,hunter --fits base,cullonly_agile_k2 \
        [--seeds 10] [--first-seed 101] [--json out.json]      (--load out.json ...: the table again)

Mirrors benchmarks/story.py run_one (same seeds, minute windows and ok criteria) for edges, hunter and story, but
builds each world from a Scenario class (edges or cursor settings) with hooks that keep, per slot, since the slot's
last birth (a changed genome_id resets it), sampled every `hook_every` steps:
    T  seconds alive, S  integral of speed (px), E  seconds within R px of the cursor while the cursor is present
and return a selection fitness (see FITS). `cull_*` fits also remove, every `cull_s` seconds while the cursor is
present, the living agent at least `cull_age_s` old with the lowest fitness per second of life (death cause "rule").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from story import interval  # noqa: E402

# name: dict(kind, parameters). kind: "life" (no hook: plain lifetime), "danger" (age + w E), "speed"
# (age (S/T/vmax)^k), "danger_speed" (age (S/T/vmax)^k + w E). Any kind takes cull_s/cull_age_s.
FITS: dict[str, dict[str, Any]] = {
    "base": {"kind": "life"},
    "hooklife": {"kind": "hooklife"},  # lifetime through the hook: the hook machinery's own effect (sampling)
    "danger_w10": {"kind": "danger", "w": 10.0, "R": 80.0},
    "danger_w30": {"kind": "danger", "w": 30.0, "R": 80.0},
    "danger_w100": {"kind": "danger", "w": 100.0, "R": 80.0},
    "danger_w300": {"kind": "danger", "w": 300.0, "R": 80.0},
    "danger_r40_w100": {"kind": "danger", "w": 100.0, "R": 40.0},
    "speed_k1": {"kind": "speed", "k": 1.0},
    "speed_k2": {"kind": "speed", "k": 2.0},
    "speed_k4": {"kind": "speed", "k": 4.0},
    "cull_danger_w100": {"kind": "danger", "w": 100.0, "R": 80.0, "cull_s": 5.0, "cull_age_s": 20.0},
    "cull_danger_w30": {"kind": "danger", "w": 30.0, "R": 80.0, "cull_s": 5.0, "cull_age_s": 20.0},
    "cull_speed_k2": {"kind": "speed", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0},
    "ds_k2_w100": {"kind": "danger_speed", "k": 2.0, "w": 100.0, "R": 80.0},
    # agility: A = integral of |turn output| * speed / max_speed; fitness age * (A/T)^k (a tight fast circle: 1)
    "agile_k1": {"kind": "agile", "k": 1.0},
    "agile_k2": {"kind": "agile", "k": 2.0},
    "agile_k4": {"kind": "agile", "k": 4.0},
    "cull_agile_k2": {"kind": "agile", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0},
    "cull2_agile_k2": {"kind": "agile", "k": 2.0, "cull_s": 2.0, "cull_age_s": 20.0},
    "cullall_agile_k2": {"kind": "agile", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0, "cull_always": True},
    "cullall_speed_k2": {"kind": "speed", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0, "cull_always": True},
    "cull15_agile_k2": {"kind": "agile", "k": 2.0, "cull_s": 15.0, "cull_age_s": 20.0},
    # cull the least agile (agile_k2's rate) but draw parents on plain lifetime
    "cullonly_agile_k2": {"kind": "hooklife", "cull_by": "agile", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0},
    # culling stops at 600 s of simulated time (story: after minute 5 of clicking, so the measured minutes 6-10 have
    # no culls at all: what is left is what the population learned)
    "cullstop_agile_k2": {"kind": "agile", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0, "cull_until_s": 600.0},
    "cullstop_only_agile": {"kind": "hooklife", "cull_by": "agile", "k": 2.0, "cull_s": 5.0, "cull_age_s": 20.0,
                            "cull_until_s": 600.0},
    # cull the least agile under threat: agility measured only while the cursor is within R px (agents that spent
    # less than 1 s that close are not judged); parents on lifetime
    "cull_threat_agile": {"kind": "hooklife", "cull_by": "threat_agile", "R": 150.0, "cull_s": 5.0,
                          "cull_age_s": 20.0},
    "cull_threat_agile_r80": {"kind": "hooklife", "cull_by": "threat_agile", "R": 80.0, "cull_s": 5.0,
                              "cull_age_s": 20.0},
    # control: the same turnover, the culled agent drawn at random among those old enough (parents on lifetime)
    "cull_random": {"kind": "hooklife", "cull_by": "random", "cull_s": 5.0, "cull_age_s": 20.0},
    # cull the agent that spent the largest share of its life within R px of the cursor (parents on lifetime)
    "cull_exposed": {"kind": "hooklife", "cull_by": "exposed", "R": 80.0, "cull_s": 5.0, "cull_age_s": 20.0},
    "cull_exposed_r150": {"kind": "hooklife", "cull_by": "exposed", "R": 150.0, "cull_s": 5.0, "cull_age_s": 20.0},
    "cull2_danger_w100": {"kind": "danger", "w": 100.0, "R": 80.0, "cull_s": 2.0, "cull_age_s": 20.0},
}
HOOK_EVERY = 6  # 0.1 s at dt = 1/60


def scenario_class(base: str, fit: dict[str, Any]) -> Any:
    from neuroevo.scenario import load_scenario

    base_cls = load_scenario(base)
    if fit["kind"] == "life":
        return base_cls
    from neuroevo.state import C_PRESENT, CX, CY

    class Fit(base_cls):  # type: ignore[misc, valid-type]
        hook_every = HOOK_EVERY

        def _init(self, sim) -> None:
            n = sim.state.n
            self._gid = sim.state.genome_id.copy()
            self._T, self._S, self._E, self._A = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
            self._AN = np.zeros(n)

        def on_step(self, sim, step) -> None:
            st = sim.state
            if not hasattr(self, "_gid"):
                self._init(sim)
            new = st.genome_id != self._gid
            self._T[new] = self._S[new] = self._E[new] = self._A[new] = self._AN[new] = 0.0
            self._gid[:] = st.genome_id
            h = HOOK_EVERY * sim.settings.world.dt
            a = st.alive
            self._T[a] += h
            self._S[a] += h * st.speed[a]
            ag = np.abs(sim.outputs[:, 0]) * st.speed / sim.settings.world.max_speed
            self._A[a] += h * ag[a]
            if st.cursor[C_PRESENT] > 0.0:
                d = np.hypot(st.pos[:, 0] - st.cursor[CX], st.pos[:, 1] - st.cursor[CY])
                near = a & (d < fit.get("R", 80.0))
                self._E[near] += h
                self._AN[near] += h * ag[near]

        def _fit(self, sim, kind=None) -> np.ndarray:
            st = sim.state
            age = st.age * sim.settings.world.dt
            kind = kind or fit["kind"]
            if kind == "hooklife":
                f = age.astype(np.float64)
            elif kind == "agile":
                f = age * np.where(self._T > 0, self._A / np.maximum(self._T, 1e-9), 0.5) ** fit["k"]
            elif kind == "danger":
                f = age + fit["w"] * self._E
            else:
                v = np.where(self._T > 0, self._S / np.maximum(self._T, 1e-9), sim.settings.world.birth_speed)
                f = age * (v / sim.settings.world.max_speed) ** fit["k"]
                if kind == "danger_speed":
                    f = f + fit["w"] * self._E
            return np.maximum(f, 0.0).astype(np.float64)

        def extra_deaths(self, sim) -> np.ndarray:
            st = sim.state
            out = np.zeros(st.n, np.bool_)
            cs = fit.get("cull_s")
            if not cs or (st.cursor[C_PRESENT] <= 0.0 and not fit.get("cull_always")):
                return out
            if sim.sim_seconds >= fit.get("cull_until_s", np.inf):
                return out
            every = int(round(cs / sim.settings.world.dt))
            if sim.step_count % every != 0:
                return out
            age = st.age * sim.settings.world.dt
            ok = st.alive & (age >= fit["cull_age_s"])
            if ok.sum() < 2:
                return out
            if fit.get("cull_by") == "exposed":
                rate = np.where(ok, -self._E / np.maximum(self._T, 1e-9), np.inf)
            elif fit.get("cull_by") == "threat_agile":
                ok &= self._E >= 1.0
                if ok.sum() < 2:
                    return out
                rate = np.where(ok, self._AN / np.maximum(self._E, 1e-9), np.inf)
            elif fit.get("cull_by") == "random":
                rate = np.where(ok, sim.rng.random(st.n), np.inf)
            else:
                rate = np.where(ok, self._fit(sim, fit.get("cull_by")) / np.maximum(age, 1e-9), np.inf)
            out[int(np.argmin(rate))] = True
            return out

        def fitness(self, sim) -> np.ndarray:
            return self._fit(sim)

    Fit.__name__ = f"{base_cls.__name__}Fit"
    Fit.name = base_cls.name
    return Fit


def _deaths(rows: list[dict], cause: str) -> np.ndarray:
    return np.array([r["deaths"].get(cause, 0) for r in rows], float)


def run_one(job: tuple[str, str, int, dict[str, Any]]) -> dict[str, Any]:
    from neuroevo.observers import run_minutes
    from neuroevo.sim import make

    target, fitname, seed, kv = job
    fit = FITS[fitname]
    t0 = time.perf_counter()
    out: dict[str, Any] = {"target": target, "variant": fitname, "seed": seed}
    if target == "edges":
        sim = make(scenario_class("edges", fit), seed=seed, overrides=kv)
        rows = run_minutes(sim, 10)
        e = _deaths(rows, "edge")
        out.update(late_edge_deaths=float(e[3:10].sum()), curve=e.tolist(), ok=bool(e[3:10].sum() <= 1),
                   rule=float(_deaths(rows, "rule").sum()))
    elif target == "hunter":
        sim = make(scenario_class("cursor", fit), seed=seed, overrides=kv)
        rows = run_minutes(sim, 20)
        c = _deaths(rows, "cursor")
        first, last = c[0:3].mean(), c[15:20].mean()
        out.update(curve=c.tolist(), first=first, last=last, ratio=last / first if first > 0 else np.nan,
                   ok=bool(last <= first / 10), rule=float(_deaths(rows, "rule").sum()),
                   edge_late=float(_deaths(rows, "edge")[15:20].mean()))
    elif target == "story":
        sim = make(scenario_class("edges", fit), seed=seed, overrides=kv)
        r0 = run_minutes(sim, 5)
        sim.apply_settings({"cursor.source": "mouse"})
        rows = run_minutes(sim, 10)
        c = _deaths(rows, "cursor")
        out.update(curve=c.tolist(), first_minute=c[0], late=c[5:10].mean(), ok=bool(c[5:10].mean() <= 0.5),
                   rule=float(_deaths(rows, "rule").sum()), edge_first5=float(_deaths(r0, "edge").sum()),
                   edge_late=float(_deaths(rows, "edge")[5:10].mean()))
    st = sim.state
    out["speed_end"] = float(st.speed[st.alive].mean())
    out["turn_end"] = float(np.abs(sim.outputs[st.alive, 0]).mean())
    out["wall_s"] = time.perf_counter() - t0
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| target | fitness | seeds passing | figure: median / worst seed / mean [95% t interval] | other |",
             "|---|---|---|---|---|"]
    key = {"edges": "late_edge_deaths", "hunter": "ratio", "story": "late"}
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["target"], r["variant"]), []).append(r)
    for (target, v), rs in groups.items():
        name = key[target]
        x = np.array([r[name] for r in rs], float)
        xf = x[np.isfinite(x)]
        fig = f"{np.median(xf):.2f} / {xf.max():.2f} / {interval(xf)}" if xf.size else "n/a"

        def mean(k: str, rs: list[dict] = rs) -> float:
            return float(np.mean([r[k] for r in rs]))

        other = f"speed at end {mean('speed_end'):.0f} px/s; wall {mean('wall_s'):.1f} s/run"
        if target == "hunter":
            other = (f"kills/min 1-3 {interval([r['first'] for r in rs])}, 16-20 {interval([r['last'] for r in rs])}; "
                     f"rule deaths {mean('rule'):.0f}; " + other)
        elif target == "story":
            other = (f"first minute {interval([r['first_minute'] for r in rs])}; rule deaths {mean('rule'):.0f}; "
                     f"late edge/min {mean('edge_late'):.2f}; " + other)
        elif target == "edges":
            other = f"rule deaths {np.mean([r['rule'] for r in rs]):.0f}; " + other
        lines.append(f"| {target} | {v} | {sum(r['ok'] for r in rs)}/{len(rs)} | {name}: {fig} | {other} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=101)
    ap.add_argument("--fits", default="base")
    ap.add_argument("--targets", default="story,hunter")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--load", nargs="*", type=Path)
    args = ap.parse_args()
    if args.load:
        print(table([r for f in args.load for r in json.loads(f.read_text())]))
        return
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from neuroevo.io import write_text

    # the hooks' rules are measured alone: the built-in periodic replacement (on by default) stays off unless --set
    kv = {"evolution.replace": "none", **dict(s.split("=", 1) for s in args.set)}
    t0 = time.perf_counter()
    results = []
    for target in args.targets.split(","):
        for f in args.fits.split(","):
            for s in range(args.first_seed, args.first_seed + args.seeds):
                r = run_one((target, f, s, kv))
                print(f"{target} {f} seed {s}: ok={r['ok']} "
                      f"{ {k: round(v, 2) for k, v in r.items() if isinstance(v, float)} }", flush=True)
                results.append(r)
                if args.json:  # after every run, through a temp file and a rename
                    write_text(args.json, json.dumps(results, indent=1, default=float))
    print(f"\n## seeds {args.first_seed}..{args.first_seed + args.seeds - 1} ({time.perf_counter() - t0:.0f} s wall)\n")
    print(table(results))


if __name__ == "__main__":
    main()
