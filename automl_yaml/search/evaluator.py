"""Evaluate one configuration by cross-validation, fold by fold.

The same work as scikit-learn's ``cross_validate`` (a fresh ``clone`` of the
pipeline per fold, scorers from ``check_scoring`` so predictions are shared
between metrics), done by hand for three reasons: pruning needs the running
score after each fold, the secondary objectives (``fit_time``,
``predict_time``, ``model_size``) are measured here, and every exception must
become a recorded failure rather than stop the search.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import statistics
import time
from collections.abc import Callable

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring

from ..errors import DataError, one_line
from .base import Trial, TrialResult

_MEASURED = ("fit_time", "predict_time", "model_size")


def _take(data, idx):
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    return data[idx]


@dataclasses.dataclass
class FoldScores:
    """One fold of one trial: its raw metric values (each in its scorer's sense), or the error."""

    k: int
    raw: dict[str, float] = dataclasses.field(default_factory=dict)
    fit_time: float = 0.0
    score_time: float = 0.0
    error: str | None = None


def _stats(values: list[float]) -> dict:
    return {
        "mean": float(statistics.fmean(values)) if values else math.nan,
        "std": float(np.std(values)) if values else math.nan,
        "folds": [float(v) for v in values],
    }


class Evaluator:
    """Cross-validates a configuration; a picklable callable for the driver.

    Args:
        X: The training features (DataFrame, array or sparse matrix).
        y: The training target.
        groups: Group labels for group splits, or None.
        cv: A scikit-learn splitter (see :func:`automl_yaml.search.cv.make_cv`).
        metrics: The objectives, first one first
            (:func:`automl_yaml.components.metrics.resolve`).
        make_pipeline: ``config -> unfitted estimator``; picklable when trials
            run in other processes.
        error_score: ``"record"`` (default): a raising trial becomes a
            ``failed`` result and the search goes on. ``"raise"``: re-raise
            (for debugging a spec).

    Calling it returns a :class:`TrialResult`; ``report(step, value)`` (when
    given) is called after each fold but the last with the running mean of
    the first objective, and a True answer stops the trial as ``pruned``.
    """

    def __init__(self, *, X, y, groups=None, cv, metrics, make_pipeline: Callable[[dict], object], error_score="record"):
        if not metrics:
            raise ValueError("give at least one metric")
        if error_score not in ("record", "raise"):
            raise ValueError(f"error_score must be 'record' or 'raise', but got {error_score!r}")
        self.X = X
        self.y = y
        self.groups = groups
        self.cv = cv
        self.metrics = list(metrics)
        self.make_pipeline = make_pipeline
        self.error_score = error_score
        try:
            self.splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
        except ValueError as e:
            raise DataError(f"cannot make the cross-validation folds: {e}", hint="lower search.cv.folds") from e

    @property
    def directions(self) -> list[str]:
        return [m.direction for m in self.metrics]

    @property
    def n_folds(self) -> int:
        return len(self.splits)

    def __call__(self, trial: Trial, report: Callable[[int, float], bool] | None = None) -> TrialResult:
        started = time.time()
        t0 = time.perf_counter()
        folds: list[FoldScores] = []
        status, error = "ok", None
        try:
            pipeline, scorer = self._prepare(trial.config)
            last = len(self.splits) - 1
            for k in range(len(self.splits)):
                folds.append(self._fold(pipeline, scorer, k))
                if report is not None and k < last and report(k, self._running_mean(folds)):
                    status = "pruned"
                    break
        except Exception as e:  # noqa: BLE001 - every failure of a trial is recorded, the search goes on
            if self.error_score == "raise":
                raise
            status, error = "failed", one_line(e)
        return self.combine(trial, folds, status=status, error=error, started_at=started, duration=time.perf_counter() - t0)

    def fold(self, trial: Trial, k: int) -> FoldScores:
        """Fit and score fold ``k`` of ``trial`` alone: the driver's unit of work
        when a trial's folds run in several processes (see :meth:`combine`).

        Never raises for a failing fold: the error is in ``FoldScores.error``.
        """
        try:
            pipeline, scorer = self._prepare(trial.config)
            return self._fold(pipeline, scorer, k)
        except Exception as e:  # noqa: BLE001 - recorded, the search goes on
            return FoldScores(k, error=one_line(e))

    def combine(
        self, trial: Trial, folds: list[FoldScores], *, status: str = "ok", error: str | None = None, started_at: float, duration: float
    ) -> TrialResult:
        """The trial's result from its folds' scores (in any order), as :meth:`__call__` gives it."""
        folds = sorted(folds, key=lambda f: f.k)
        failed = next((f for f in folds if f.error), None)
        if failed is not None and status == "ok":
            status, error = "failed", failed.error
        folds = [f for f in folds if not f.error]
        raw = {m.name: [f.raw[m.name] for f in folds] for m in self.metrics}
        if status == "ok":
            bad = [m.name for m in self.metrics if not all(math.isfinite(v) for v in raw[m.name])]
            if bad:
                status, error = "failed", f"ValueError: the score '{bad[0]}' is not a finite number in some folds"
        values = [float(statistics.fmean(raw[m.name])) for m in self.metrics] if status == "ok" else None
        first = self.metrics[0].name
        return TrialResult(
            number=trial.number,
            config=trial.config,
            status=status,
            values=values,
            scores={m.name: _stats([m.display(v) for v in raw[m.name]]) for m in self.metrics if raw[m.name]},
            fit_time=float(statistics.fmean(f.fit_time for f in folds)) if folds else 0.0,
            score_time=float(statistics.fmean(f.score_time for f in folds)) if folds else 0.0,
            duration=duration,
            error=error,
            started_at=started_at,
            finished_at=time.time(),
            intermediate=[float(statistics.fmean(raw[first][: i + 1])) for i in range(len(raw[first]))],
        )

    def _prepare(self, config: dict):
        pipeline = self.make_pipeline(config)
        scored = {m.name: m.scorer_name for m in self.metrics if not m.objective_only}
        return pipeline, (check_scoring(pipeline, scoring=scored) if scored else None)

    def _running_mean(self, folds: list[FoldScores]) -> float:
        first = self.metrics[0].name
        return float(statistics.fmean(f.raw[first] for f in folds))

    def _fold(self, pipeline, scorer, k: int) -> FoldScores:
        """Fit a clone of ``pipeline`` on fold ``k``'s training rows; score it on the rest."""
        train, test = self.splits[k]
        est = clone(pipeline)
        X_test, y_test = _take(self.X, test), _take(self.y, test)
        t = time.perf_counter()
        est.fit(_take(self.X, train), _take(self.y, train))
        fit_time = time.perf_counter() - t
        t = time.perf_counter()
        scores = scorer(est, X_test, y_test) if scorer is not None else {}
        score_time = time.perf_counter() - t
        raw = {m.name: float(scores[m.name]) for m in self.metrics if not m.objective_only}
        wanted = {m.name for m in self.metrics if m.objective_only}
        if "fit_time" in wanted:
            raw["fit_time"] = fit_time
        if "predict_time" in wanted:
            t = time.perf_counter()
            est.predict(X_test)
            raw["predict_time"] = time.perf_counter() - t
        if "model_size" in wanted:
            raw["model_size"] = float(len(pickle.dumps(est)))
        return FoldScores(k, raw, fit_time, score_time)
