"""Compile a spec into the graph of steps that ``mlx run`` executes.

The planner is pure: a validated spec and the registries in, a :class:`Plan`
out, no I/O. ``mlx plan`` prints exactly the plan the runner executes.

Every step's id is a hash of its kind, its configuration and the ids of the
steps it depends on, so a change anywhere upstream changes the ids downstream:
that is what caching and ``--resume`` key on (as DVC's stage cache does).
The order comes from the standard library's ``graphlib.TopologicalSorter``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Any

from . import registry as R
from .spec import LoadedSpec, redact
from .spec.models import Spec

if TYPE_CHECKING:
    from .search.cv import Validation

DEFAULT_TRIALS = 50


@dataclasses.dataclass(frozen=True)
class Step:
    """One node of the plan.

    Attributes:
        id: ``<kind>-<hash>``; the hash covers ``config`` and the ids of ``deps``.
        kind: load, assemble, split, profile, pipeline, search, evaluate, report, track, register.
        name: A readable label (``load penguins``).
        config: What the step does, JSON-friendly and free of secrets.
        deps: Ids of the steps it needs.
    """

    id: str
    kind: str
    name: str
    config: dict[str, Any]
    deps: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "deps": list(self.deps), "config": self.config}


@dataclasses.dataclass
class Plan:
    """The compiled graph, in execution order, and what the search implies."""

    name: str
    steps: list[Step]
    task: str | None
    metrics: list[str]
    strategy: str
    space_size: int | None
    space: list[dict[str, Any]]
    models: list[str]
    trials: int | None
    time_budget: float | None
    folds: int
    fits: int | None
    notes: list[str]
    validation: dict[str, Any] = dataclasses.field(default_factory=dict)

    def step(self, kind: str) -> Step | None:
        return next((s for s in self.steps if s.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "metrics": self.metrics,
            "strategy": self.strategy,
            "models": self.models,
            "space_size": self.space_size,
            "space": self.space,
            "trials": self.trials,
            "time_budget_s": self.time_budget,
            "folds": self.folds,
            "validation": self.validation,
            "fits": self.fits,
            "notes": self.notes,
            "steps": [s.to_dict() for s in self.steps],
        }

    def mermaid(self) -> str:
        lines = ["flowchart TD"]
        for s in self.steps:
            label = s.name.replace('"', "'")
            lines.append(f'    {_node(s.id)}["{label}"]')
        for s in self.steps:
            for d in s.deps:
                lines.append(f"    {_node(d)} --> {_node(s.id)}")
        return "\n".join(lines)

    def text(self) -> str:
        out = [f"plan for '{self.name}'"]
        w = max(len(s.name) for s in self.steps)
        for i, s in enumerate(self.steps, 1):
            deps = ", ".join(d.split("-")[0] + "-" + d.split("-")[1][:6] for d in s.deps)
            out.append(f"  {i:>2}. {s.name:<{w}}  {s.id.split('-')[0]}-{s.id.split('-')[1][:6]}" + (f"  <- {deps}" if deps else ""))
        out.append("")
        out.append(f"task:        {self.task or 'inferred from the target at run time'}")
        out.append(f"metric:      {', '.join(self.metrics) if self.metrics else 'default for the task (roc_auc / accuracy / r2)'}")
        out.append(f"strategy:    {self.strategy}")
        out.append(f"models:      {', '.join(self.models)}")
        size = "continuous (unbounded)" if self.space_size is None else f"{self.space_size:,} configurations"
        out.append(f"space:       {size}")
        for row in self.space:
            when = f"   (when {row['when']})" if row["when"] else ""
            out.append(f"               {row['name']}: {row['values']}{when}")
        budget = []
        if self.trials is not None:
            budget.append(f"{self.trials} trials")
        if self.time_budget is not None:
            budget.append(f"{_fmt_seconds(self.time_budget)}")
        out.append(f"budget:      {' or '.join(budget) if budget else 'none'}" + (" (whichever comes first)" if len(budget) > 1 else ""))
        v = self.validation
        if v.get("method") in ("cv", "holdout"):
            out.append(f"validation:  {v['description']} — {v['reason']}")
        else:
            out.append(f"validation:  chosen on the data: {v['reason']}")
        fits = f"{self.fits:,}" if self.fits is not None else "unbounded (time budget)"
        if v.get("method") == "holdout":
            out.append(f"model fits:  {fits} (1 holdout fit per trial, + 1 refit)")
        elif v.get("method") == "cv":
            out.append(f"model fits:  {fits} ({self.folds} CV folds per trial, + 1 refit)")
        else:
            out.append(f"model fits:  {'at most ' if self.fits is not None else ''}{fits} ({self.folds} CV folds per trial, or 1 with a holdout; + 1 refit)")
        for n in self.notes:
            out.append(f"note:        {n}")
        return "\n".join(out)


def _node(step_id: str) -> str:
    return step_id.replace("-", "_")


def _fmt_seconds(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:g}h"
    if s >= 60:
        return f"{s / 60:g}m"
    return f"{s:g}s"


def _hash(kind: str, config: Any, deps: tuple[str, ...]) -> str:
    text = json.dumps({"kind": kind, "config": config, "deps": list(deps)}, sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _dump(model: Any) -> Any:
    if hasattr(model, "model_dump"):
        return redact(model.model_dump(by_alias=True, mode="json"))
    return redact(model)


def static_task(spec: Spec) -> str | None:
    """The task if the spec alone says it (explicitly, or through its metric or models)."""
    if spec.data.task != "auto":
        return spec.data.task
    for m in spec.search.metrics():
        t = R.metrics.get(m).meta.get("task")
        if t in ("classification", "regression"):
            return t
    if spec.models:
        from .components.catalog import estimator_classes

        tasks = set()
        for key, m in spec.models.items():
            classes = estimator_classes(m.estimator or key)
            if len(classes) == 1:
                tasks |= set(classes)
        if len(tasks) == 1:
            return tasks.pop()
    return None


def trial_budget(spec: Spec, space_size: int | None) -> int | None:
    """How many trials the search may run: the budget, a grid's size, or the default."""
    b = spec.search.budget
    if spec.search.strategy == "grid" and space_size is not None:
        return min(space_size, b.trials) if b.trials else space_size
    if b.trials is not None:
        return b.trials
    if b.time is not None:
        return None
    return DEFAULT_TRIALS


def plan(loaded: LoadedSpec, *, task: str | None = None, n_rows: int | None = None, validation: Validation | None = None) -> Plan:
    """Compile a loaded spec into its :class:`Plan`.

    Args:
        task: The task when already known (the runner passes the inferred one).
        n_rows: Training rows when known (the zoo leaves out slow models above a size).
        validation: The search's validation when the data is known
            (``Dataset.validation``: the folds the data lowered, or a holdout).
            Without it, a spec that sets ``search.cv`` shows its folds, and one
            that does not shows the rule that the data will decide by
            (:func:`automl_yaml.search.cv.choose_validation`).
    """
    from .search.cv import describe_rule
    from .search.space import compile_space

    spec: Spec = loaded.spec
    steps: list[Step] = []

    def add(kind: str, name: str, config: dict[str, Any], deps: tuple[str, ...] = ()) -> str:
        sid = _hash(kind, config, deps)
        steps.append(Step(sid, kind, name, config, deps))
        return sid

    used = [spec.main_source] + [j.source for j in spec.data.join]
    loads = {}
    for name in used:
        src = spec.sources[name]
        loads[name] = add("load", f"load {name} ({src.kind})", {"source": name, "spec": _dump(src)})
    data_cfg = _dump(spec.data)
    data_cfg.pop("split", None)
    assemble = add("assemble", "assemble the table" + (" (join)" if spec.data.join else ""), {"data": data_cfg}, tuple(loads.values()))
    split = add("split", f"split off the test set ({spec.data.split.by})", {"split": _dump(spec.data.split), "seed": spec.seed}, (assemble,))
    profile_id = None
    if spec.profile_spec.enabled:
        profile_id = add("profile", "profile the data", {"profile": _dump(spec.profile_spec)}, (assemble,))
    pipeline = add(
        "pipeline",
        "compile preprocessing" + (" + selection" if spec.select else ""),
        {"preprocess": _dump(spec.preprocess), "select": [_dump(s) for s in spec.select]},
        (split,),
    )
    task = task or static_task(spec)
    space = compile_space(spec, task, n_rows)
    size = space.size()
    trials = trial_budget(spec, size)
    # only what the spec says: `mlx plan` (before any data is read) and `mlx run`
    # (which knows the task and size) must compute the same ids
    search_cfg = {
        "search": _dump(spec.search),
        "models": _dump(spec.models) if spec.models is not None else "zoo",
        "seed": spec.seed,
    }
    search = add("search", f"search ({spec.search.strategy}, {trials or 'time-bounded'} trials)", search_cfg, (pipeline,))
    evaluate = add("evaluate", "refit the best, score the test set", {"metrics": spec.search.metrics()}, (search, split))
    report_deps = (evaluate,) + ((profile_id,) if profile_id else ())
    report = add("report", "write model, leaderboard, plots, summary", {"output": spec.output}, report_deps)
    if spec.tracking.enabled:
        t = _dump(spec.tracking)
        track = add("track", "track in MLflow", {"tracking": t}, (report,))
        if spec.tracking.register_as:
            add("register", f"register '{spec.tracking.register_as}'", {"name": spec.tracking.register_as, "alias": spec.tracking.alias}, (track,))

    ts = TopologicalSorter({s.id: set(s.deps) for s in steps})
    order = list(ts.static_order())
    by_id = {s.id: s for s in steps}
    ordered = [by_id[i] for i in order]

    if validation is None:
        known = describe_rule(spec.search)
        validation = known if not isinstance(known, str) else None
        shown = validation.to_dict() if validation is not None else {"method": "auto", "reason": known}
    else:
        shown = validation.to_dict()
    folds = validation.splits if validation is not None else spec.search.cv.folds * spec.search.cv.repeats
    fits = trials * folds + 1 if trials is not None else None
    notes = []
    if spec.models is None:
        notes.append("models: the default zoo" + (f" for {task}" if task else " (for the task found in the data)") + "; `mlx list models` shows it")
    if any(m.max_rows for m in space.models.values()):
        slow = [m.key for m in space.models.values() if m.max_rows]
        notes.append(f"{', '.join(slow)} only run on small data (see max_rows in the zoo)")
    if spec.search.strategy == "grid" and size is not None and spec.search.budget.trials and spec.search.budget.trials < size:
        notes.append(f"the trial budget covers {spec.search.budget.trials} of the grid's {size:,} configurations")
    if any(hasattr(s, "sequential") for s in spec.select):
        notes.append("sequential selection fits its estimator many times inside every fit")
    return Plan(
        name=spec.name,
        steps=ordered,
        task=task,
        metrics=spec.search.metrics(),
        strategy=spec.search.strategy,
        space_size=size,
        space=space.describe(),
        models=list(space.models),
        trials=trials,
        time_budget=spec.search.budget.time,
        folds=folds,
        fits=fits,
        notes=notes,
        validation=shown,
    )
