"""The searcher base: what every strategy proposes and what it is told.

A :class:`Searcher` proposes :class:`Trial` objects (a trial number and a
configuration of the :class:`~automl_yaml.search.space.SearchSpace`) and is
told a :class:`TrialResult` for each. Like Optuna's ``BaseSampler``, the base
is tiny and the call order is documented, so that one driver
(:func:`automl_yaml.search.driver.run_search`) runs every strategy::

    searcher = GridSearcher(space, directions=["maximize"], seed=42,
                            options=None, budget_trials=20, workdir=None)
    searcher.restore(previous_results)          # only when resuming
    while (trial := searcher.ask()) is not None:
        searcher.tell(trial, evaluate(trial))  # asks may run ahead of tells
    searcher.close()

Configurations are plain dicts whose values may be any YAML value chosen by a
``choice`` (lists, mappings, spec models). :func:`encode_config` turns one into
JSON (values that are not str/int/float/bool/None become ``{"$label": ...}``,
:meth:`Dim.labels <automl_yaml.search.space.Dim.labels>`), and
:func:`decode_config` turns it back with the space.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import math
import pathlib
from collections.abc import Sequence
from typing import Any

from .space import Dim, SearchSpace, label

#: The statuses of a finished trial.
STATUSES = ("ok", "failed", "timeout", "pruned")
DIRECTIONS = ("maximize", "minimize")

_PLAIN = (str, int, float, bool, type(None))
_LABEL = "$label"


@dataclasses.dataclass
class Trial:
    """A configuration to evaluate, as handed out by :meth:`Searcher.ask`.

    Attributes:
        number: Unique within a search (and across resumes), from 0.
        config: A complete configuration (only the active dimensions).
    """

    number: int
    config: dict


@dataclasses.dataclass
class TrialResult:
    """The outcome of one trial.

    Attributes:
        number: The trial's number.
        config: Its configuration.
        status: ``ok``, ``failed``, ``timeout`` or ``pruned``.
        values: One per objective, each in its metric's own optimisation sense
            (scores: higher is better; fit_time, model_size...: lower is
            better); None unless ``status == "ok"``.
        scores: Metric name -> ``{"mean", "std", "folds"}`` of display values.
        fit_time: Mean seconds per fold to fit.
        score_time: Mean seconds per fold to score.
        duration: Wall seconds of the whole trial.
        error: ``"ValueError: ..."`` (one line) for failed and timed-out trials.
        started_at: ``time.time()`` when the trial started.
        finished_at: ``time.time()`` when it finished.
        intermediate: The values reported for pruning, one per fold (the
            running mean of the first objective); used to rebuild a pruner's
            history on resume.
    """

    number: int
    config: dict
    status: str
    values: list[float] | None = None
    scores: dict[str, dict] = dataclasses.field(default_factory=dict)
    fit_time: float = 0.0
    score_time: float = 0.0
    duration: float = 0.0
    error: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    intermediate: list[float] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        """A JSON-safe dict (configurations through :func:`encode_config`, NaN as null)."""
        d = dataclasses.asdict(self)
        d["config"] = encode_config(self.config)
        return _finite(d)

    @classmethod
    def from_dict(cls, d: dict, space: SearchSpace | None = None) -> TrialResult:
        """The inverse of :meth:`to_dict`; give ``space`` to decode labelled values."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if space is not None:
            kw["config"] = decode_config(space, kw.get("config", {}))
        return cls(**kw)


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def plain(value: Any) -> Any:
    """Numpy scalars -> Python scalars (configurations must be JSON-friendly)."""
    if type(value) not in _PLAIN and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()  # numpy.float64 is a float subclass: test the exact type
    return value


def encode_config(config: dict) -> dict:
    """A JSON-safe copy: values other than str/int/float/bool/None become ``{"$label": label}``."""
    return {k: (v if isinstance(v, _PLAIN) else {_LABEL: label(v)}) for k, v in config.items()}


def decode_config(space: SearchSpace, data: dict) -> dict:
    """The inverse of :func:`encode_config`: labels become the choices they name.

    Raises:
        KeyError, ValueError: when a value is not in the space (another spec).
    """
    dims = {d.name: d for d in space.dims()}
    out = {}
    for k, v in data.items():
        d = dims.get(k)
        if isinstance(v, dict) and set(v) == {_LABEL}:
            if d is None or d.kind != "categorical":
                raise ValueError(f"'{k}' is not a choice of this search space")
            v = d.from_label(v[_LABEL])
        elif d is not None and d.kind == "categorical":
            v = _same_choice(d, v)
        out[k] = v
    return out


def _same_choice(d: Dim, v: Any) -> Any:
    # JSON cannot tell 1 from 1.0 or True; give back the space's own object.
    for c in d.choices:
        if type(c) is type(v) and c == v:
            return c
    return v


def config_key(config: dict) -> str:
    """A hashable, order-independent identity of a configuration."""
    return json.dumps(encode_config(config), sort_keys=True)


def better(a: float, b: float, direction: str) -> bool:
    """Whether ``a`` is strictly better than ``b`` in ``direction``."""
    return a > b if direction == "maximize" else a < b


class Searcher(abc.ABC):
    """Proposes configurations of one search space; learns from their results.

    Call order (as Optuna's ``BaseSampler`` documents its own):
    ``__init__`` -> :meth:`restore` (only when resuming) -> repeated
    :meth:`ask` / :meth:`tell` -> :meth:`close`. With parallel trials, asks run
    ahead of tells: several trials are out at once and their results come back
    in any order.

    Subclasses implement :meth:`ask` and :meth:`tell`; the other methods are
    do-nothing hooks.

    Args:
        space: The search space.
        directions: ``"maximize"`` / ``"minimize"``, one per objective.
        seed: Seeds every random choice of the strategy.
        options: The strategy's options model from the spec (``GridOptions``,
            ``GeneticOptions``...), or None for the defaults.
        budget_trials: The trial budget when known (strategies may plan for
            it; the driver enforces it).
        workdir: A folder the strategy may keep state in (Optuna's journal),
            or None to keep everything in memory.
    """

    #: The spec model of ``options`` (its defaults are used when None is given).
    options_model: type | None = None

    def __init__(
        self,
        space: SearchSpace,
        *,
        directions: Sequence[str],
        seed: int,
        options: Any = None,
        budget_trials: int | None = None,
        workdir: pathlib.Path | None = None,
    ):
        directions = list(directions)
        if not directions or any(d not in DIRECTIONS for d in directions):
            raise ValueError(f"each direction must be 'maximize' or 'minimize', but got {directions}")
        if options is None and self.options_model is not None:
            options = self.options_model()
        self.space = space
        self.directions = directions
        self.seed = seed
        self.options = options
        self.budget_trials = budget_trials
        self.workdir = pathlib.Path(workdir) if workdir is not None else None

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    @abc.abstractmethod
    def ask(self) -> Trial | None:
        """The next trial to run, or None when there is nothing to propose now.

        None while trials are still out means "wait for their results" (a
        genetic generation is complete only when all its individuals are
        told); None with nothing out means the strategy is exhausted.
        """

    @abc.abstractmethod
    def tell(self, trial: Trial, result: TrialResult) -> None:
        """The result of a trial handed out by :meth:`ask`."""

    def restore(self, results: list[TrialResult], pending: Sequence[Trial] = ()) -> None:  # noqa: B027 - a do-nothing hook
        """Resume: learn the results of an earlier run before any :meth:`ask`.

        Args:
            results: The finished trials of the earlier run (any order).
            pending: Trials the earlier run started but never finished (the
                process died). :meth:`ask` hands each out again, with the same
                number and configuration; new trials are numbered after the
                highest number seen.
        """

    def size(self) -> int | None:
        """How many distinct trials the strategy can hand out in all, or None when it cannot tell.

        A strategy that never repeats a configuration of a finite space (grid,
        random) returns the space's size, so that the driver reports a search
        that ran all of them as exhausted rather than stopped by its trial
        budget. Strategies that may repeat one (Optuna) keep None.
        """
        return None

    @property
    def prunes(self) -> bool:
        """Whether :meth:`should_prune` may stop a trial (then a trial's folds run in order, in one process)."""
        return False

    def should_prune(self, trial: Trial, step: int, value: float) -> bool:
        """Whether a running trial should stop, given its value after ``step``."""
        return False

    def importances(self) -> dict[str, float] | None:
        """Parameter importances, where the strategy can tell them."""
        return None

    def close(self) -> None:  # noqa: B027 - a do-nothing hook
        """Release what the strategy holds (files, studies)."""
