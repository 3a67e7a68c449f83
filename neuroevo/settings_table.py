"""The README's settings table, generated from the declarations in config.py (a test keeps the README equal).

    python -m neuroevo.settings_table     prints it
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .config import SECTIONS, declared, names


def settings_table() -> str:
    """The README's settings table, from the declarations."""
    rows = ["| key | default | limits | meaning |", "|---|---|---|---|"]
    for section, cls in SECTIONS.items():
        for name, (_, meta) in declared(cls).items():
            f = next(f for f in fields(cls) if f.name == name)
            default = meta.get("shown") or (f'"{f.default}"' if isinstance(f.default, str) else f"{f.default!r}")
            rows.append(f"| `{section}.{name}` | {default} | {_limits(meta)} | {meta['doc']} |")
    return "\n".join(rows)


def _limits(meta: dict[str, Any]) -> str:
    if meta.get("limits"):
        return meta["limits"]
    if meta.get("choices") is not None:
        return " / ".join(names(meta["choices"]))
    if meta.get("items"):
        (lo, hi), (n_lo, n_hi) = meta["items"], meta["length"]
        return f"{n_lo}-{n_hi} widths, each {lo}..{hi:,}"
    fmt = lambda v: f"{int(v):,}" if float(v).is_integer() and abs(v) >= 1 else f"{v:g}"  # noqa: E731
    lo = f"> {fmt(meta['gt'])}" if meta.get("gt") is not None else (fmt(meta["ge"]) if meta.get("ge") is not None
                                                                    else "")
    hi = f"< {fmt(meta['lt'])}" if meta.get("lt") is not None else (fmt(meta["le"]) if meta.get("le") is not None
                                                                    else "")
    if lo.startswith(">") or hi.startswith("<"):
        return ", ".join(x for x in (lo if lo.startswith(">") else f">= {lo}", hi if hi.startswith("<") else
                                     f"<= {hi}") if x.strip("<>= "))
    return f"{lo} .. {hi}"


if __name__ == "__main__":
    print(settings_table())
