"""What ``mlx list`` shows: every registered component, by family."""

from __future__ import annotations

from typing import Any

from . import registry as R
from .components import catalog


def _estimators() -> list[dict[str, Any]]:
    catalog.ensure_estimators()
    rows = []
    for e in R.estimators:
        classes = e.meta.get("classes") or {}
        rows.append(
            {
                "name": e.name,
                "classification": classes.get("classification", "").rpartition(":")[2],
                "regression": classes.get("regression", "").rpartition(":")[2],
            }
        )
    return rows


def _models() -> list[dict[str, Any]]:
    from .components.zoo import ZOO

    rows = []
    for name, entry in ZOO.items():
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in entry["params"].items())
        cond = []
        if entry.get("needs"):
            cond.append(f"if {entry['needs']} is installed")
        if entry.get("max_rows"):
            cond.append(f"up to {entry['max_rows']:,} rows")
        rows.append({"name": name, "tasks": "/".join(entry["tasks"]), "when": "; ".join(cond), "space": params})
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, dict):
        (k, val), *rest = v.items()
        extra = "".join(f", {a}: {b}".replace("True", "true") for a, b in rest)
        return f"{{{k}: {val}{extra}}}".replace("None", "null")
    return str(v)


def _simple(reg: R.Registry, *extra: str) -> list[dict[str, Any]]:
    rows = []
    for e in reg:
        row = {"name": e.name}
        for k in extra:
            row[k] = e.meta.get(k, "")
        if e.aliases:
            row["aliases"] = ", ".join(e.aliases)
        rows.append(row)
    return rows


def _metrics() -> list[dict[str, Any]]:
    rows = []
    for e in R.metrics:
        m = e.meta
        note = "secondary objective (minimised)" if m.get("objective_only") else ("lower is better" if m.get("sign") == -1 else "higher is better")
        if m.get("scorer") and m["scorer"] != e.name:
            note += f"; scorer {m['scorer']}"
        if m.get("binary_only"):
            note += "; binary targets"
        rows.append({"name": e.name, "task": m.get("task"), "notes": note})
    return rows


def _templates() -> list[dict[str, Any]]:
    from .templates import templates

    return [{"name": n, "summary": s} for n, s in templates().items()]


def _plugins() -> list[dict[str, Any]]:
    from importlib.metadata import entry_points

    return [{"name": ep.name, "value": ep.value} for ep in entry_points(group=R.ENTRY_POINT_GROUP)]


def listing(family: str | None = None) -> dict[str, list[dict[str, Any]]]:
    makers = {
        "estimators": _estimators,
        "models": _models,
        "metrics": _metrics,
        "transforms": lambda: _simple(R.transforms, "help"),
        "selectors": lambda: _simple(R.selectors, "help"),
        "strategies": lambda: _simple(R.strategies, "help"),
        "sources": lambda: _simple(R.sources, "help"),
        "templates": _templates,
        "plugins": _plugins,
    }
    names = [family] if family else [f for f in makers if f not in ("plugins",)]
    return {f: makers[f]() for f in names}
