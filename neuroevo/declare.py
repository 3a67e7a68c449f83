"""Declared settings: a setting is a frozen-dataclass field made by `setting(default, doc, ...)`, with its limits,
choices and kernel mapping in the field's metadata; values from the command line (`--set key=value`) or from JSON
are converted to the declared type and checked against the declared limits. Generic over any such dataclass
(config.py declares the simulation's, mnist/cli.py applies it to the MNIST methods' configs).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import field, fields
from typing import Any

from .choices import IntEnum, names


class SettingsError(ValueError):
    """A user-caused settings problem (unknown key, bad value); the CLI prints it as one line."""


def setting(default: Any, doc: str, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None, choices: type[IntEnum] | None = None, kernel: str | None = None,
            to: str | None = None, items: tuple[int, int] | None = None, length: tuple[int, int] | None = None,
            shown: str | None = None, limits: str | None = None) -> Any:
    """Declare a setting: default, one-line meaning, limits (numbers: ge/gt/le/lt; tuples of ints: items=(lo, hi)
    for each and length=(lo, hi)), choices, and the Params field the kernels read (kernel=, converted by to=)."""
    meta = {"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "kernel": kernel, "to": to,
            "items": items, "length": length, "shown": shown, "limits": limits}
    return field(default=default, metadata=meta)


def declared(cls: type) -> dict[str, tuple[Any, dict[str, Any]]]:
    """{field name: (real type, metadata)} of a settings dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], dict(f.metadata)) for f in fields(cls)}


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.75)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def convert(key: str, ftype: Any, meta: dict[str, Any], value: Any) -> Any:
    """A JSON value or a command-line string -> the declared type, checked against the declared limits."""
    want = getattr(ftype, "__name__", str(ftype))
    origin, args = typing.get_origin(ftype), typing.get_args(ftype)
    try:
        if ftype is bool:
            if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
                out: Any = value.lower() in ("true", "1", "yes", "on")
            elif isinstance(value, bool):
                out = value
            else:
                raise ValueError
        elif ftype is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                value = int(value)
            if isinstance(value, str):
                f = float(value)
                if not f.is_integer():
                    raise ValueError
                value = int(f) if abs(f) < 2**62 else int(value)
            out = int(value)
        elif ftype is float:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        elif ftype is str:
            if not isinstance(value, str):
                raise ValueError
            out = value
        elif origin is tuple and args[:1] == (str,):
            want = "a comma-separated list of names"
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValueError
            out = tuple(value)
        elif origin is tuple:
            want = "whole numbers such as 16 or 16,8"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = [value]
            if isinstance(value, str):
                value = [v for v in value.replace("x", ",").split(",") if v.strip()]
            items = []
            for v in value:
                if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                    raise ValueError
                items.append(int(float(v)) if isinstance(v, str) else int(v))
            out = tuple(items)
        else:
            raise SettingsError(f"cannot set {key}")
    except (TypeError, ValueError, OverflowError):
        raise SettingsError(f"bad value for {key}: {value!r} (expected {want})") from None
    check(key, meta, out)
    return out


def check(key: str, meta: dict[str, Any], value: Any) -> None:
    """Declared limits of one value (SettingsError naming the key)."""
    def bad(why: str) -> SettingsError:
        return SettingsError(f"bad value for {key}: {value!r} ({why})")

    enum = meta.get("choices")
    if enum is not None and value not in names(enum):
        raise SettingsError(f"bad value for {key}: {value!r} (choose from {', '.join(names(enum))})"
                            f"{_suggest(str(value), list(names(enum)))}")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad("must be finite")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ge, gt, le, lt = meta.get("ge"), meta.get("gt"), meta.get("le"), meta.get("lt")
        if ge is not None and value < ge:
            raise bad(f"must be at least {ge:g}")
        if gt is not None and value <= gt:
            raise bad("must be positive" if gt == 0 else f"must be above {gt:g}")
        if le is not None and value > le:
            raise bad(f"must be at most {le:g}")
        if lt is not None and value >= lt:
            raise bad(f"must be below {lt:g}")
    if isinstance(value, tuple) and meta.get("items"):
        lo, hi = meta["items"]
        n_lo, n_hi = meta.get("length") or (0, 10**9)
        if not n_lo <= len(value) <= n_hi or any(not lo <= v <= hi for v in value):
            raise bad(f"{n_lo} to {n_hi} whole numbers in {lo}..{hi}, e.g. 16 or 16,8")


def override_dataclass(obj: Any, values: dict[str, Any], prefix: str = "") -> Any:
    """A frozen settings dataclass with {field: value} applied (strings as --set gives them, or JSON values)."""
    decl = declared(type(obj))
    changes = {}
    for name, raw in values.items():
        if name not in decl:
            raise SettingsError(f"unknown settings key {prefix + name!r}"
                                f"{_suggest(name, list(decl))}")
        ftype, meta = decl[name]
        changes[name] = convert(prefix + name, ftype, meta, raw)
    return dataclasses.replace(obj, **changes)


def parse_set(items: list[str]) -> dict[str, str]:
    """Parse ["key=value", ...] from the command line."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise SettingsError(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out
