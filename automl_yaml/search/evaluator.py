"""Evaluate one configuration by cross-validation, fold by fold.

The same work as scikit-learn's ``cross_validate`` (a fresh ``clone`` of the
pipeline per fold, scorers from ``check_scoring`` so predictions are shared
between metrics), done by hand for three reasons: pruning needs the running
score after each fold, the secondary objectives (``fit_time``,
``predict_time``, ``model_size``) are measured here, and every exception must
become a recorded failure rather than stop the search.

**Fitted preprocessing is shared between trials.** A grid or a random search
over a model's parameters fits the same preprocessing (imputation, encoding,
scaling, outlier rules, feature selection) on the same training fold in every
trial; ``GridSearchCV`` refits it each time. Here a fold's preprocessing is
fitted once per distinct configuration of it, and its outputs (the transformed
training rows and validation rows) are kept in memory, so each later trial
that has the same preprocessing only fits and scores its model. It is what
``Pipeline(memory=...)`` does, without the disk, and with the validation rows'
transform kept too. The numbers are the same: the model is fitted on the very
data the whole pipeline would have given it (the preprocessing is fitted with
``fit_transform``, as ``Pipeline.fit`` does), and a trial's ``fit_time`` and
``score_time`` include the preprocessing's time, as measured when it was
fitted. A configuration of preprocessing is known by the hash of its unfitted
steps (``joblib.hash``), so any change of a searched preprocessing option is a
different entry. The outputs kept are bounded per process (least recently used
first out): 512 MB, or less when the search's processes would hold more than
a quarter of the machine's memory (:func:`fold_cache_bytes`);
``MLX_FOLD_CACHE_MB`` sets it (0 turns the sharing off).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
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
#: Megabytes of fitted fold preprocessing each process keeps by default (see the module's doc).
FOLD_CACHE_MB = 512


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


def fold_cache_bytes(processes: int = 1) -> int:
    """The preprocessing cache's size in bytes, per process.

    ``MLX_FOLD_CACHE_MB`` when set (0 turns it off); else :data:`FOLD_CACHE_MB`,
    or less when ``processes`` of them would hold more than a quarter of
    the machine's memory (16 workers on 8 GB: 128 MB each).
    """
    raw = os.environ.get("MLX_FOLD_CACHE_MB", "").strip()
    try:
        return max(0, int(float(raw) * 2**20))
    except ValueError:
        pass
    budget = FOLD_CACHE_MB * 2**20
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows): the default
        return budget
    return int(min(budget, memory / 4 / max(1, processes)))


def _nbytes(data) -> int:
    if data is None:
        return 0
    if hasattr(data, "memory_usage"):  # a DataFrame or a Series; object columns counted shallowly
        usage = data.memory_usage(index=True, deep=False)
        return int(usage.sum()) if hasattr(usage, "sum") else int(usage)
    if hasattr(data, "nbytes"):
        return int(data.nbytes)
    if hasattr(data, "data") and hasattr(data, "indices"):  # a scipy sparse matrix
        return int(data.data.nbytes + data.indices.nbytes + getattr(data, "indptr", data.indices).nbytes)
    return 0


@dataclasses.dataclass
class _Prepared:
    """One fold's fitted preprocessing: what its model is fitted and scored on."""

    X_train: object
    y_train: object
    X_test: object
    fit_time: float  # seconds to fit the preprocessing (and the row filters) and transform the training rows
    score_time: float  # seconds to transform the validation rows
    nbytes: int = 0


class _PreparedFolds:
    """The fitted preprocessing of the folds, least recently used first out, within a byte budget."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._entries: collections.OrderedDict = collections.OrderedDict()

    def get(self, key) -> _Prepared | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry

    def put(self, key, entry: _Prepared) -> None:
        entry.nbytes = _nbytes(entry.X_train) + _nbytes(entry.y_train) + _nbytes(entry.X_test)
        if entry.nbytes > self.budget:
            return
        while self._entries and self.used + entry.nbytes > self.budget:
            _, old = self._entries.popitem(last=False)
            self.used -= old.nbytes
        self._entries[key] = entry
        self.used += entry.nbytes

    def clear(self) -> None:
        self._entries.clear()
        self.used = 0


def _split_model(pipeline):
    """``(row filter, preprocessing, model)`` of an unfitted pipeline whose preprocessing can be shared, else None.

    A scikit-learn ``Pipeline`` of at least two steps, maybe inside a row
    filter (an estimator with ``training_rows(X, y)`` and the pipeline as its
    ``estimator``, as :class:`~automl_yaml.preprocess.rows.DropTrainingRows`).
    """
    from sklearn.pipeline import Pipeline

    rows = None
    if callable(getattr(pipeline, "training_rows", None)):
        rows, pipeline = pipeline, getattr(pipeline, "estimator", None)
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2 or pipeline.memory is not None:
        return None
    if any(est is None or est == "passthrough" for _, est in pipeline.steps):
        return None
    return rows, pipeline[:-1], pipeline.steps[-1][1]


@dataclasses.dataclass
class _Plan:
    """A trial's pipeline, ready for its folds: the whole, or its shareable parts and their key."""

    pipeline: object
    scorer: object
    parts: tuple | None = None
    key: str | None = None


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
        cache_bytes: The budget of the shared fold preprocessing (see the
            module's doc), per process; None: :func:`fold_cache_bytes`; 0: off.

    Calling it returns a :class:`TrialResult`; ``report(step, value)`` (when
    given) is called after each fold but the last with the running mean of
    the first objective, and a True answer stops the trial as ``pruned``.
    """

    def __init__(
        self, *, X, y, groups=None, cv, metrics, make_pipeline: Callable[[dict], object], error_score="record", cache_bytes: int | None = None
    ):
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
        self.cache_bytes = fold_cache_bytes() if cache_bytes is None else max(0, int(cache_bytes))
        self._cache = _PreparedFolds(self.cache_bytes)
        try:
            self.splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
        except ValueError as e:
            raise DataError(f"cannot make the cross-validation folds: {e}", hint="lower search.cv.folds") from e

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = None  # each process fills its own
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._cache = _PreparedFolds(self.cache_bytes)

    def clear_cache(self) -> None:
        """Free the fitted preprocessing kept for later trials (after the search)."""
        self._cache.clear()

    @property
    def cache_stats(self) -> dict:
        """``{"hits", "misses", "bytes"}`` of the shared fold preprocessing in this process."""
        return {"hits": self._cache.hits, "misses": self._cache.misses, "bytes": self._cache.used}

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
            plan = self._prepare(trial.config)
            last = len(self.splits) - 1
            for k in range(len(self.splits)):
                folds.append(self._fold(plan, k))
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
            return self._fold(self._prepare(trial.config), k)
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

    def _prepare(self, config: dict) -> _Plan:
        pipeline = self.make_pipeline(config)
        scored = {m.name: m.scorer_name for m in self.metrics if not m.objective_only}
        plan = _Plan(pipeline, check_scoring(pipeline, scoring=scored) if scored else None)
        # predict_time and model_size measure the whole fitted pipeline: those searches fit it whole
        whole = any(m.name in ("predict_time", "model_size") for m in self.metrics if m.objective_only)
        if self.cache_bytes and not whole:
            plan.parts = _split_model(pipeline)
            if plan.parts is not None:
                import joblib  # a scikit-learn dependency; its hash is Pipeline(memory=...)'s key too

                rows, prefix, _ = plan.parts
                plan.key = joblib.hash((rows.filters if rows is not None else None, prefix.steps))
        return plan

    def _running_mean(self, folds: list[FoldScores]) -> float:
        first = self.metrics[0].name
        return float(statistics.fmean(f.raw[first] for f in folds))

    def _prepared(self, plan: _Plan, k: int) -> _Prepared:
        """Fold ``k``'s preprocessing fitted, from the cache or fitted now (and kept)."""
        key = (k, plan.key)
        entry = self._cache.get(key)
        if entry is not None:
            return entry
        rows, prefix, _ = plan.parts
        train, test = self.splits[k]
        t = time.perf_counter()
        X, y = _take(self.X, train), _take(self.y, train)
        if rows is not None:
            kept = clone(rows).training_rows(X, y)
            X, y = _take(X, kept), _take(y, kept)
        fitted = clone(prefix)
        Xt = fitted.fit_transform(X, y)  # as Pipeline.fit transforms the rows its last step is fitted on
        fit_time = time.perf_counter() - t
        t = time.perf_counter()
        Xt_test = fitted.transform(_take(self.X, test))
        entry = _Prepared(Xt, y, Xt_test, fit_time, time.perf_counter() - t)
        self._cache.put(key, entry)
        return entry

    def _fold(self, plan: _Plan, k: int) -> FoldScores:
        """Fit a clone of the trial's pipeline on fold ``k``'s training rows; score it on the rest.

        With shared preprocessing, only the model is fitted here, on the
        fold's preprocessed rows (:meth:`_prepared`), and scored on its
        preprocessed validation rows: the same numbers as the whole pipeline's.
        """
        train, test = self.splits[k]
        scorer = plan.scorer
        y_test = _take(self.y, test)
        if plan.key is not None:
            prepared = self._prepared(plan, k)
            est, X_test = clone(plan.parts[2]), prepared.X_test
            t = time.perf_counter()
            est.fit(prepared.X_train, prepared.y_train)
            fit_time = prepared.fit_time + time.perf_counter() - t
            t = time.perf_counter()
            scores = scorer(est, X_test, y_test) if scorer is not None else {}
            score_time = prepared.score_time + time.perf_counter() - t
        else:
            est = clone(plan.pipeline)
            X_test = _take(self.X, test)
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
