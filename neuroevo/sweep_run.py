"""Running a sweep: one task in a process (`execute`), the engines (serial, a local process pool, Ray) and the
stored results that make a killed sweep resume (`run_sweep`).

A finished run's result.json is written whole (temp file + rename) and trusted on the next run only when it is
complete for exactly that task; a damaged one is reported and run again. Pool workers ignore Ctrl-C (the driver
cancels what is queued) and end themselves when the driver dies, even by SIGKILL. A local Ray listens on the
loopback interface only, with token authentication where Ray has it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .sweep import MNIST_METRICS, RUN_METRICS, Spec, SweepError, Task

RAY_MIN_VERSION = (2, 52)  # the first Ray with token authentication (RAY_AUTH_MODE=token)
SWEEP_FORMAT = "neuroevo-sweep"


# ---- running one task ------------------------------------------------------------------------------------------
def execute(task: Task) -> dict[str, Any]:
    """Run one task in this process and return its result (per-minute rows and every known metric).

    Pure: the result depends on the task only (one seeded Generator, bit-identical kernels at any thread count).
    """
    if task.command == "mnist":
        return _execute_mnist(task)
    from .observers import run_minutes
    from .sim import make

    overrides = dict(task.setting)
    if task.agents is not None:
        overrides["world.agents"] = task.agents
    sim = make(task.scenario, seed=task.seed, overrides=overrides)
    rows = run_minutes(sim, task.minutes)
    with np.errstate(all="ignore"):  # a run shorter than a metric's window gives NaN, not a warning
        metrics = {name: fn(rows) if rows else math.nan for name, (fn, _) in RUN_METRICS.items()}
    return {"key": task.key(), "command": task.command, "scenario": task.scenario, "minutes": task.minutes,
            "setting": [[k, v] for k, v in task.setting], "seed": task.seed, "metrics": metrics,
            "per_minute": rows, "genome_sha1": hashlib.sha1(sim.genomes.tobytes()).hexdigest()}


@functools.lru_cache(maxsize=2)
def _mnist_data(folder: str | None, n_val: int) -> Any:
    from .mnist.data import load_or_download

    return load_or_download(folder, n_val)


def _execute_mnist(task: Task) -> dict[str, Any]:
    """One `neuroevo mnist` training (method, hidden, seed) at a forward-pass budget; its accuracies."""
    from .mnist import compare

    opts, setting = dict(task.options), dict(task.setting)
    data = _mnist_data(opts["data"], int(opts["val"]))
    hidden = tuple(int(x) for x in str(setting.get("hidden", "32")).split(","))
    method = str(setting.get("method", "ga"))
    r = compare.run_one(method, task.seed, data, hidden, str(opts["activation"]), None,
                        float(opts["budget_forwards"]), compare.Configs())
    metrics = {k: float(r[k]) for k in MNIST_METRICS}
    return {"key": task.key(), "command": "mnist", "setting": [[k, v] for k, v in task.setting], "seed": task.seed,
            "metrics": metrics, "forwards": float(r["forwards"]), "steps": int(r["steps"]),
            "timing": {"seconds": float(r["seconds"])}}


def _worker_init(parent: int | None = None) -> None:
    """A worker among several runs one thread, so parallel runs do not fight over the cores; Ctrl-C is for the
    driver, which cancels what is queued (a worker that took it would fail its run and start the next). With the
    driver's pid, the worker also ends when the driver is gone, however it died."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["NUMBA_NUM_THREADS"] = "1"
    import numba

    numba.set_num_threads(1)
    if parent is not None:
        _follow_parent(parent)


def _follow_parent(parent: int) -> None:
    """End this process when `parent` dies: at once through the kernel where Linux offers it (PR_SET_PDEATHSIG),
    and by a watcher thread everywhere (a reparented process sees another parent pid)."""
    import threading
    import time

    with contextlib.suppress(Exception):  # Linux only; the watcher below covers the rest
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="neuroevo-parent-watch", daemon=True).start()


def _worker_execute(task: Task) -> dict[str, Any]:
    _worker_init()
    return execute(task)


# ---- stored results ----------------------------------------------------------------------------------------------
def _result_path(out: Path, task: Task) -> Path:
    return out / task.folder / f"seed-{task.seed}" / "result.json"


def _write_result(path: Path, result: dict[str, Any]) -> None:
    from .io import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(result, indent=1, default=_nan_safe))


def _nan_safe(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


def _complete(r: Any, task: Task, metrics: Iterable[str]) -> bool:
    """Whether r is a whole result of exactly this task: key, seed, setting, every metric a number (or null),
    per-minute rows as a run writes them."""
    from .validate import per_minute

    if not (isinstance(r, dict) and r.get("key") == task.key() and r.get("seed") == task.seed
            and r.get("setting") == json.loads(json.dumps([[k, v] for k, v in task.setting]))):
        return False
    m = r.get("metrics")
    if not isinstance(m, dict) or not all(
            m.get(name) is None or (isinstance(m.get(name), (int, float)) and not isinstance(m.get(name), bool))
            for name in metrics) or not all(name in m for name in metrics):
        return False
    if task.command == "run":
        try:
            per_minute(r.get("per_minute"))
        except ValueError:
            return False
    return True


def finished(out: Path, task: Task, metrics: Iterable[str] = ()) -> tuple[dict[str, Any] | None, bool]:
    """(the stored result of a task, if a complete one for exactly this task exists; whether a result.json of this
    task is there but damaged). A result of another task (an edited scenario, another version) is neither."""
    from .io import clean_temps

    p = _result_path(out, task)
    clean_temps(p.parent)  # temps of a run killed while writing its result
    try:
        r = json.loads(p.read_text())
    except FileNotFoundError:
        return None, False
    except (OSError, ValueError, RecursionError):
        return None, True
    if isinstance(r, dict) and r.get("key") != task.key():
        return None, False
    if _complete(r, task, metrics):
        return r, False
    return None, True


def identity(spec: Spec) -> dict[str, Any]:
    """What makes two sweeps the same sweep (grid values and seeds may be added; anything else is another sweep)."""
    return json.loads(json.dumps({"format": SWEEP_FORMAT, "command": spec.command, "scenario": spec.scenario,
                                  "minutes": spec.minutes, "agents": spec.agents, "options": spec.options},
                                 default=str))


def same_sweep(folder: Path, spec: Spec) -> bool:
    """Whether folder holds (a part of) this very sweep, so running the spec again resumes it there: its sweep.json
    says so or, for a folder without one, one of its result.json files is a task of this spec."""
    marker = folder / "sweep.json"
    if marker.exists():
        try:
            return json.loads(marker.read_text()) == identity(spec)
        except (OSError, ValueError, RecursionError):
            return False
    keys = {t.key() for t in spec.tasks()}
    for p in folder.glob("*/seed-*/result.json"):
        with contextlib.suppress(OSError, ValueError, RecursionError, AttributeError):
            if json.loads(p.read_text()).get("key") in keys:
                return True
    return False


def mark(folder: Path, spec: Spec) -> None:
    """Write folder/sweep.json: the identity of the sweep stored there."""
    from .io import write_json

    write_json(folder / "sweep.json", identity(spec))


def run_sweep(spec: Spec, out: Path, jobs: int = 2, engine: str = "local", address: str | None = None,
              progress: bool = True, on_damaged: Callable[[Path], None] | None = None,
              ) -> tuple[list[dict[str, Any]], int]:
    """Run every unfinished task; returns (all results in task order, how many were already finished). A damaged
    result file is run again, after on_damaged(its path) when given."""
    from tqdm import tqdm

    tasks = spec.tasks()
    results: dict[int, dict[str, Any]] = {}
    todo: list[int] = []
    for i, t in enumerate(tasks):
        r, bad = finished(out, t, spec.metrics)
        if bad and on_damaged is not None:
            on_damaged(_result_path(out, t))
        if r is None:
            todo.append(i)
        else:
            results[i] = r
    done_before = len(results)
    bar = tqdm(total=len(tasks), initial=done_before, unit="run", desc=f"sweep {spec.name}", disable=not progress,
               dynamic_ncols=True)

    failures: dict[int, str] = {}

    def store(i: int, r: dict[str, Any]) -> None:
        if "error" in r:  # not stored: the next run of the sweep tries it again
            failures[i] = r["error"]
        else:
            _write_result(_result_path(out, tasks[i]), r)
            results[i] = r
        bar.update(1)

    try:
        for i, r in _engine(engine, jobs, address)([tasks[i] for i in todo], todo):
            store(i, r)
    finally:
        bar.close()
    if failures:
        i, err = next(iter(sorted(failures.items())))
        raise SweepError(f"{spec.path}: {len(failures)} of {len(tasks)} runs failed ({len(results)} finished and "
                         f"kept); first: {tasks[i].label}, seed {tasks[i].seed}: {err}")
    return [results[i] for i in range(len(tasks))], done_before


# ---- engines -----------------------------------------------------------------------------------------------------
def _engine(engine: str, jobs: int, address: str | None) -> Callable[[list[Task], list[int]], Iterable]:
    if engine == "serial" or (engine == "local" and jobs == 1):
        return lambda tasks, ids: ((i, _guarded(t)) for i, t in zip(ids, tasks))
    if engine == "local":
        return lambda tasks, ids: _local_pool(tasks, ids, jobs)
    if engine == "ray":
        return lambda tasks, ids: _ray(tasks, ids, jobs, address)
    raise SweepError(f"unknown engine {engine!r} (local, ray, serial)")


def _local_pool(tasks: list[Task], ids: list[int], jobs: int) -> Iterable[tuple[int, dict[str, Any]]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if not tasks:
        return
    # spawn: a clean interpreter per worker (no forked numba/OpenMP state); no more workers than tasks
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    procs: list[Any] = []
    try:
        # Workers start with SIGINT blocked (a signal mask survives exec), so a Ctrl-C in the terminal reaches the
        # driver alone, even while a worker is still importing.
        with _sigint_blocked():
            futures = {pool.submit(execute, t): i for i, t in zip(ids, tasks)}
            procs = list((getattr(pool, "_processes", None) or {}).values())
        for f in as_completed(futures):
            try:
                yield futures[f], f.result()
            except Exception as e:  # noqa: BLE001 - one failing run must not throw away the others
                yield futures[f], _failure(e)
    except BaseException:
        procs = list((getattr(pool, "_processes", None) or {}).values()) or procs
        pool.shutdown(wait=False, cancel_futures=True)  # interrupted: drop what is queued, stop the workers
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.join(5)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def _sigint_blocked() -> Any:
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _failure(e: BaseException) -> dict[str, Any]:
    return {"error": f"{type(e).__name__}: {e}"}


def _guarded(task: Task) -> dict[str, Any]:
    try:
        return execute(task)
    except Exception as e:  # noqa: BLE001 - reported with the others at the end
        return _failure(e)


def ray_version_ok(version: str) -> bool:
    """Whether a Ray version has token authentication (2.52 or later)."""
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts) >= RAY_MIN_VERSION


def _reachable(address: str) -> None:
    """SweepError unless a TCP connection to a host:port address opens within 5 s (Ray itself retries for minutes)."""
    import socket

    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" and other forms are Ray's to resolve
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=5).close()
    except OSError as e:
        raise SweepError(f"--address {address}: no Ray cluster answers there ({e.strerror or e})") from None


def _ray(tasks: list[Task], ids: list[int], jobs: int, address: str | None) -> Iterable[tuple[int, dict[str, Any]]]:
    # Before Ray loads: a local Ray binds its servers to the loopback interface only (a Ray cluster is joined with
    # an explicit --address), and asks for token authentication (Ray >= 2.52; later versions have it by default).
    if not address:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if "ray" not in sys.modules:  # Ray reads its mode once, as it loads: a process that loaded it keeps its own
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    try:
        import ray
    except ImportError:
        raise SweepError("the ray engine needs Ray: pip install 'neuroevo[ray]'") from None
    if not ray_version_ok(ray.__version__):
        raise SweepError(f"the ray engine needs Ray >= {'.'.join(map(str, RAY_MIN_VERSION))} (token "
                         f"authentication); found {ray.__version__}: pip install -U 'neuroevo[ray]'")
    started = not ray.is_initialized()
    if started:
        if address:
            _reachable(address)
            ray.init(address=address, log_to_driver=False)
        else:
            with contextlib.suppress(Exception):  # Ray was imported before the variable was set: same setting
                from ray._private import ray_constants

                ray_constants.ENABLE_RAY_CLUSTER = os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] != "0"
            ray.init(num_cpus=jobs, log_to_driver=False, include_dashboard=False)
    try:
        remote = ray.remote(num_cpus=1)(_worker_execute)
        pending = {remote.remote(t): i for i, t in zip(ids, tasks)}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    yield i, ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a failed task; the others go on
                    yield i, _failure(e)
    finally:
        if started:
            ray.shutdown()
