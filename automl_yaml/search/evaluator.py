"""Evaluate one configuration by cross-validation, fold by fold.

The same work as scikit-learn's ``cross_validate`` (a fresh ``clone`` of the
pipeline per fold, scorers from ``check_scoring`` so predictions are shared
between metrics), done by hand for three reasons: pruning needs the running
score after each fold, the secondary objectives (``fit_time``,
``predict_time``, ``model_size``) are measured here, and every exception must
become a recorded failure rather than stop the search.
"""

from __future__ import annotations

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

    def __call__(self, trial: Trial, report: Callable[[int, float], bool] | None = None) -> TrialResult:
        started = time.time()
        t0 = time.perf_counter()
        scored = [m for m in self.metrics if not m.objective_only]
        wanted = {m.name for m in self.metrics if m.objective_only}
        raw: dict[str, list[float]] = {m.name: [] for m in self.metrics}
        fit_times: list[float] = []
        score_times: list[float] = []
        intermediate: list[float] = []
        status, error = "ok", None
        first = self.metrics[0].name
        try:
            pipeline = self.make_pipeline(trial.config)
            scorer = check_scoring(pipeline, scoring={m.name: m.scorer_name for m in scored}) if scored else None
            last = len(self.splits) - 1
            for k, (train, test) in enumerate(self.splits):
                est = clone(pipeline)
                X_test, y_test = _take(self.X, test), _take(self.y, test)
                t = time.perf_counter()
                est.fit(_take(self.X, train), _take(self.y, train))
                fit_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                scores = scorer(est, X_test, y_test) if scorer is not None else {}
                score_times.append(time.perf_counter() - t)
                for m in scored:
                    raw[m.name].append(float(scores[m.name]))
                if "fit_time" in wanted:
                    raw["fit_time"].append(fit_times[-1])
                if "predict_time" in wanted:
                    t = time.perf_counter()
                    est.predict(X_test)
                    raw["predict_time"].append(time.perf_counter() - t)
                if "model_size" in wanted:
                    raw["model_size"].append(float(len(pickle.dumps(est))))
                intermediate.append(float(statistics.fmean(raw[first])))
                if report is not None and k < last and report(k, intermediate[-1]):
                    status = "pruned"
                    break
            if status == "ok":
                bad = [m.name for m in self.metrics if not all(math.isfinite(v) for v in raw[m.name])]
                if bad:
                    status, error = "failed", f"ValueError: the score '{bad[0]}' is not a finite number in some folds"
        except Exception as e:  # noqa: BLE001 - every failure of a trial is recorded, the search goes on
            if self.error_score == "raise":
                raise
            status, error = "failed", one_line(e)
        values = None
        if status == "ok":
            values = [float(statistics.fmean(raw[m.name])) for m in self.metrics]
        scores = {m.name: _stats([m.display(v) for v in raw[m.name]]) for m in self.metrics if raw[m.name]}
        return TrialResult(
            number=trial.number,
            config=trial.config,
            status=status,
            values=values,
            scores=scores,
            fit_time=float(statistics.fmean(fit_times)) if fit_times else 0.0,
            score_time=float(statistics.fmean(score_times)) if score_times else 0.0,
            duration=time.perf_counter() - t0,
            error=error,
            started_at=started,
            finished_at=time.time(),
            intermediate=intermediate,
        )
