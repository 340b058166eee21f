"""The search space: one type that every strategy searches.

:func:`compile_space` turns a spec into a :class:`SearchSpace` — which model
(a categorical choice among the spec's models), each model's searched
hyperparameters (active only when that model is chosen: a conditional space),
and the searched preprocessing / selection options shared by all models.

A *configuration* is a flat mapping from dimension names to values::

    {"model": "random_forest",
     "random_forest.n_estimators": 212,
     "preprocess.numeric.scale": "robust",
     "select[1].univariate.k": 7}

Only the active dimensions appear. :meth:`SearchSpace.split` turns a
configuration back into the estimator, its params and the pipeline options.

This module is light (pydantic only): ``mlx plan`` uses it to count the space.
scikit-learn's ``ParameterGrid`` / ``ParameterSampler`` (lists of dicts for
conditional spaces) are served by :meth:`SearchSpace.grids` and
:meth:`SearchSpace.distributions`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel

from ..spec.loader import dotted
from ..spec.space import Choice, FloatRange, IntRange, is_space, walk_spaces

MODEL = "model"


@dataclasses.dataclass(frozen=True)
class Dim:
    """One searched dimension.

    Attributes:
        name: The configuration key.
        kind: ``categorical``, ``int`` or ``float``.
        choices: The values of a categorical dimension (any YAML value).
        low, high, log, step: The range of an int or float dimension.
        model: The model key this dimension belongs to (active only for it),
            or None for the model choice and shared dimensions.
        path: Where it is in the spec, for messages.
    """

    name: str
    kind: Literal["categorical", "int", "float"]
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    model: str | None = None
    path: tuple = ()

    @property
    def discrete(self) -> bool:
        return self.kind != "float" or self.step is not None or self.low == self.high

    def size(self) -> int | None:
        if self.kind == "categorical":
            return len(self.choices)
        if self.kind == "int":
            return int((self.high - self.low) // (self.step or 1)) + 1
        if self.step is None:
            return 1 if self.low == self.high else None
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def values(self) -> list:
        """Every value, for a grid. Raises ValueError for a continuous range."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        n = self.size()
        if n is None:
            raise ValueError(f"'{self.name}' is a continuous range")
        return [round(self.low + i * (self.step or 0), 12) for i in range(n)]

    def labels(self) -> list[str]:
        """A stable text label per choice (for samplers that need str/int/float choices)."""
        return [label(v) for v in self.choices]

    def from_label(self, text: str) -> Any:
        return self.choices[self.labels().index(text)]

    def contains(self, value: Any) -> bool:
        if self.kind == "categorical":
            return label(value) in self.labels()
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        return self.low - 1e-12 <= value <= self.high + 1e-12

    def describe(self) -> str:
        if self.kind == "categorical":
            return "{" + ", ".join(label(v) for v in self.choices) + "}"
        scale = ", log" if self.log else (f", step {self.step}" if self.step else "")
        return f"{self.kind} [{self.low}, {self.high}{scale}]"


def label(value: Any) -> str:
    """A compact, stable text for any YAML-like value (or spec model)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


@dataclasses.dataclass(frozen=True)
class ModelCandidate:
    """One entry of ``models`` (or of the zoo).

    ``start`` is the model's default configuration inside its dimensions
    (dimension name -> value; dimensions the zoo has no default for are left
    out), or None when the zoo does not know the estimator. ``cost`` is the
    zoo's rank of its cost to fit (1: cheapest), or None.
    """

    key: str
    estimator: str
    fixed: dict[str, Any]
    dims: tuple[Dim, ...]
    max_rows: int | None = None
    start: dict[str, Any] | None = None
    cost: int | None = None


@dataclasses.dataclass
class SearchSpace:
    models: dict[str, ModelCandidate]
    shared: list[Dim]

    # ------------------------------------------------------------ structure
    @property
    def model_dim(self) -> Dim | None:
        if len(self.models) <= 1:
            return None
        return Dim(MODEL, "categorical", tuple(self.models))

    def dims(self) -> list[Dim]:
        """All dimensions: the model choice, every model's, then the shared ones."""
        out = [self.model_dim] if self.model_dim else []
        for m in self.models.values():
            out.extend(m.dims)
        return out + list(self.shared)

    def active_dims(self, model: str) -> list[Dim]:
        return list(self.models[model].dims) + list(self.shared)

    def size(self) -> int | None:
        """The number of distinct configurations; None if any active range is continuous."""
        shared = 1
        for d in self.shared:
            n = d.size()
            if n is None:
                return None
            shared *= n
        total = 0
        for m in self.models.values():
            n_m = 1
            for d in m.dims:
                n = d.size()
                if n is None:
                    return None
                n_m *= n
            total += n_m
        return total * shared

    def continuous(self) -> list[Dim]:
        return [d for d in self.dims() if not d.discrete]

    def starting_points(self) -> list[dict[str, Any]]:
        """Each model's default configuration, cheapest model first (partial configurations).

        Models without a known default are left out; dimensions without one
        (the shared preprocessing ones among them) are absent, for the
        strategy to choose. Ties of cost keep the order of ``models``.
        """
        out = []
        ranked = sorted(self.models.values(), key=lambda m: m.cost if m.cost is not None else math.inf)
        for m in ranked:
            if m.start is None:
                continue
            config = {MODEL: m.key} if self.model_dim is not None else {}
            config.update(m.start)
            out.append(config)
        return out

    # ------------------------------------------------------------ configurations
    def split(self, config: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """``(model key, estimator params, pipeline options)`` of a configuration."""
        key = config.get(MODEL) or next(iter(self.models))
        m = self.models[key]
        params = dict(m.fixed)
        prefix = key + "."
        for d in m.dims:
            if d.name in config:
                params[d.name[len(prefix) :]] = config[d.name]
        options = {d.name: config[d.name] for d in self.shared if d.name in config}
        return key, params, options

    def complete(self, config: dict[str, Any]) -> dict[str, Any]:
        """Only the active dimensions of ``config``, in a canonical order."""
        key = config.get(MODEL) or next(iter(self.models))
        out: dict[str, Any] = {}
        if self.model_dim is not None:
            out[MODEL] = key
        for d in self.active_dims(key):
            if d.name in config:
                out[d.name] = config[d.name]
        return out

    def grids(self) -> list[dict[str, list]]:
        """scikit-learn ``ParameterGrid`` input: one dict per model.

        Raises:
            ValueError: naming a continuous dimension.
        """
        out = []
        for key, m in self.models.items():
            grid: dict[str, list] = {}
            if self.model_dim is not None:
                grid[MODEL] = [key]
            for d in list(m.dims) + list(self.shared):
                grid[d.name] = d.values()
            out.append(grid)
        return out

    def distributions(self) -> list[dict[str, Any]]:
        """scikit-learn ``ParameterSampler`` input: one dict per model (scipy distributions)."""
        from scipy import stats

        out = []
        for key, m in self.models.items():
            dist: dict[str, Any] = {}
            if self.model_dim is not None:
                dist[MODEL] = [key]
            for d in list(m.dims) + list(self.shared):
                if d.discrete and d.kind != "int":
                    dist[d.name] = d.values()
                elif d.kind == "int":
                    if d.step:
                        dist[d.name] = d.values()
                    elif d.log:
                        dist[d.name] = _IntLogUniform(int(d.low), int(d.high))
                    else:
                        dist[d.name] = stats.randint(int(d.low), int(d.high) + 1)
                elif d.log:
                    dist[d.name] = stats.loguniform(d.low, d.high)
                else:
                    dist[d.name] = stats.uniform(d.low, d.high - d.low)
            out.append(dist)
        return out

    def describe(self) -> list[dict[str, Any]]:
        """JSON-friendly description (for ``mlx plan``)."""
        rows = []
        if self.model_dim is not None:
            rows.append({"name": MODEL, "values": self.model_dim.describe(), "when": None})
        for m in self.models.values():
            for d in m.dims:
                rows.append({"name": d.name, "values": d.describe(), "when": f"model = {m.key}"})
        for d in self.shared:
            rows.append({"name": d.name, "values": d.describe(), "when": None})
        return rows


class _IntLogUniform:
    """Integers drawn log-uniformly in [low, high] (an ``rvs`` like scipy's)."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def rvs(self, random_state=None):
        from scipy import stats

        x = stats.loguniform(self.low, self.high + 1).rvs(random_state=random_state)
        return int(min(self.high, max(self.low, math.floor(x))))


# ------------------------------------------------------------------ compilation


def to_dim(name: str, value: Any, *, model: str | None = None, path: tuple = ()) -> Dim:
    if isinstance(value, Choice):
        return Dim(name, "categorical", tuple(value.choice), model=model, path=path)
    if isinstance(value, IntRange):
        return Dim(name, "int", low=value.low, high=value.high, log=value.log, step=value.step, model=model, path=path)
    if isinstance(value, FloatRange):
        return Dim(name, "float", low=value.low, high=value.high, log=value.log, step=value.step, model=model, path=path)
    raise TypeError(f"not a search space: {value!r}")


def _shared_dims(node: Any, path: tuple) -> Iterator[Dim]:
    for p, value in walk_spaces(node, path):
        yield to_dim(dotted(p), value, path=p)


def parse_params(params: dict[str, Any]) -> dict[str, Any]:
    """Spec-syntax params (plain dicts, as in the zoo) -> values and spaces."""
    from pydantic import TypeAdapter

    from ..spec.space import ParamValue

    return TypeAdapter(dict[str, ParamValue]).validate_python(params)


def model_entries(spec, task: str | None, n_rows: int | None = None) -> dict[str, tuple[str, dict[str, Any] | None, int | None]]:
    """``{key: (estimator name, params or None, max_rows)}`` — the spec's models or the zoo."""
    from ..components import zoo

    if spec.models is None:
        return {
            name: (name, parse_params(zoo.params_for_rows(entry["params"], n_rows)), zoo.ZOO[name].get("max_rows"))
            for name, entry in zoo.default_models(task, n_rows).items()
        }
    out = {}
    for key, m in spec.models.items():
        name = m.estimator or key
        params = m.params
        if params is None:
            zp = zoo.default_params(name)
            params = parse_params(zoo.params_for_rows(zp, n_rows)) if zp is not None else {}
        out[key] = (name, params, None)
    return out


_ABSENT = object()


def _inside(d: Dim, values: dict[str, Any], name: str) -> Any:
    """``values[name]`` moved into ``d``: clipped to a range and onto its step; a choice only if listed."""
    if name not in values:
        return _ABSENT
    v = values[name]
    if d.kind == "categorical":
        for c in d.choices:
            if label(c) == label(v):
                return c
        return _ABSENT
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return _ABSENT
    v = min(max(float(v), d.low), d.high)
    if d.step is not None:
        v = min(d.low + round((v - d.low) / d.step) * d.step, d.high)
    return int(round(v)) if d.kind == "int" else float(v)


def compile_space(spec, task: str | None = None, n_rows: int | None = None) -> SearchSpace:
    """The search space of a spec.

    Args:
        spec: A validated :class:`~automl_yaml.spec.models.Spec`.
        task: ``classification`` / ``regression``, or None when not known yet
            (the zoo then lists the models of both tasks).
        n_rows: Training rows, when known (drops zoo models too slow for them).
    """
    from ..components import zoo

    models: dict[str, ModelCandidate] = {}
    for key, (name, params, max_rows) in model_entries(spec, task, n_rows).items():
        fixed, dims = {}, []
        for pname, value in (params or {}).items():
            if is_space(value):
                dims.append(to_dim(f"{key}.{pname}", value, model=key, path=("models", key, "params", pname)))
            else:
                fixed[pname] = value
        start = zoo.start_params(name, task)
        if start is not None:
            start = {d.name: v for d in dims if (v := _inside(d, start, d.name[len(key) + 1 :])) is not _ABSENT}
        models[key] = ModelCandidate(key, name, fixed, tuple(dims), max_rows, start, zoo.cost(name))
    shared = list(_shared_dims(spec.preprocess, ("preprocess",)))
    for i, step in enumerate(spec.select):
        shared.extend(_shared_dims(step, ("select", i)))
    return SearchSpace(models, shared)
