"""What ``mlx list`` shows: every registered component, by family."""

from __future__ import annotations

from typing import Any

from . import registry as R
from .components import catalog


def _estimators() -> list[dict[str, Any]]:
    """One row per model, not per name: names that build the same classes share a row.

    Every class was listed twice (``RandomForestClassifier``,
    ``random_forest_classifier``) beside its family (``random_forest``), 330
    lines in all. A class's names now show in its family's row (``svm``:
    ``SVC``, ``SVR``, also ``svc``, ``svr``); a class without a family (or
    a common one, ``logistic_regression``) has its own row.
    """
    catalog.ensure_estimators()
    groups: dict[tuple, list[str]] = {}
    for e in R.estimators:
        classes = e.meta.get("classes") or {}
        groups.setdefault(tuple(sorted(classes.items())), []).append(e.name)
    families = {classes: names for classes, names in groups.items() if len(classes) > 1}
    rows: dict[tuple, list[str]] = dict(families)
    for classes, names in groups.items():
        if len(classes) > 1:
            continue
        home = [f for f in families if set(classes) <= set(f)]
        if home and not any(n in catalog._COMMON_ESTIMATORS for n in names):
            rows[home[0]] = rows[home[0]] + names  # a class of a family: its names join the family's row
        else:
            rows[classes] = names
    out = []
    for classes, names in rows.items():
        by_task = {task: target.rpartition(":")[2] for task, target in classes}
        class_names = {t.rpartition(":")[2] for _, t in classes}
        first = min(names, key=lambda n: (n not in catalog._COMMON_ESTIMATORS, n not in catalog._FAMILY_ALIASES, not n.islower(), len(n), n))
        # a class's name and its snake_case always work: only the other names are worth a column
        implied = class_names | {catalog.snake_case(c) for c in class_names}
        also = sorted(n for n in set(names) - implied - {first})
        out.append(
            {
                "name": first,
                "classification": by_task.get("classification", ""),
                "regression": by_task.get("regression", ""),
                "also": ", ".join(also),
            }
        )
    return sorted(out, key=lambda r: r["name"])


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


#: A line under a family's table.
CAPTIONS = {
    "estimators": "A class's own name (RandomForestClassifier) and its snake_case (random_forest_classifier) name it too, for one task.",
}


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
