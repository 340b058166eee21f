"""Feature selectors: the targets of the ``selectors`` registry.

Each selector of the ``select`` section is built by a factory here, called as
``factory(options, task=..., seed=..., step=..., discrete=...)`` where
``options`` is the step's options model with searched values already resolved
(see :func:`automl_yaml.preprocess.pipeline.resolve_option`), ``step`` the
step's dotted path for messages (``select[1].univariate``) and ``discrete`` the
names of features that hold encoded categories. Factories accept and ignore
context they do not need.

The selectors wrap scikit-learn (``VarianceThreshold``, ``SelectKBest`` /
``SelectPercentile``, ``SelectFromModel``, ``RFE`` / ``RFECV``) and mlxtend
(``SequentialFeatureSelector``) thinly. The wrappers exist for what those lack
here: the inner selector is built in ``fit`` once the number of features that
reach the step is known, so that a ``k`` larger than that keeps every feature
with a warning recorded in ``warnings_`` (univariate, importance) or raises a
:class:`~automl_yaml.errors.DataError` naming the step (sequential, RFE, whose
counts are exact requests), and so that library errors become messages that
name the step. :class:`CorrelationFilter` is our own.

Every selector is a scikit-learn ``SelectorMixin``: ``get_support()`` and
``get_feature_names_out()`` tell what reaches the model.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import AutomlYamlError, DataError, UsageError

#: Mutual information is refused for an encoded categorical feature with more
#: than this many categories *and* fewer than ``MI_MIN_ROWS_PER_CATEGORY``
#: training rows per category on average: its estimate then mostly measures
#: the number of categories (the plug-in bias grows with categories / rows).
MI_MAX_CATEGORIES = 100
MI_MIN_ROWS_PER_CATEGORY = 20

#: The default ``k`` of the univariate selector.
DEFAULT_K = 10


class _Selector(SelectorMixin, BaseEstimator):
    """Shared bookkeeping: input names, the support mask and recorded warnings."""

    def _start(self, X) -> None:
        # validate_data(skip_check_array=True) records feature_names_in_ /
        # n_features_in_ exactly as scikit-learn does, without copying X.
        validate_data(self, X, reset=True, skip_check_array=True)
        self.warnings_: list[str] = []

    def _names(self, X) -> list[str]:
        if isinstance(X, pd.DataFrame):
            return [str(c) for c in X.columns]
        return [f"x{i}" for i in range(X.shape[1])]

    def _warn(self, message: str) -> None:
        self.warnings_.append(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # selecting columns never looks at values
        return tags


def _fit_error(step: str, exc: Exception) -> DataError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "NaN" in text or "missing" in text.lower():
        return DataError(f"{step}: the features contain missing values ({text})", hint="impute them: preprocess.numeric.impute is 'none'?")
    return DataError(f"{step}: {text}", hint="check the options of this selection step")


def _values(X) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(X, dtype=float)


# ----------------------------------------------------------------------- correlation


class CorrelationFilter(_Selector):
    """Drop one feature of each pair whose |correlation| exceeds ``threshold``.

    Features are visited in order; a feature is dropped when it correlates
    above the threshold with a feature kept before it, so the first of each
    correlated group stays. Correlations are learnt on the training fold;
    a constant feature correlates with nothing.

    Args:
        threshold: Drop above this absolute correlation (0 to 1).
        method: ``pearson``, ``spearman`` or ``kendall``.

    Attributes:
        dropped_: ``{dropped feature: (the kept feature it duplicates, correlation)}``.
    """

    def __init__(self, threshold: float = 0.95, method: str = "pearson", step: str = "select.correlation"):
        self.threshold = threshold
        self.method = method
        self.step = step

    def fit(self, X, y=None):
        self._start(X)
        names = self._names(X)
        corr = np.abs(_correlation(X, self.method))
        corr = np.nan_to_num(corr, nan=0.0)
        kept: list[int] = []
        self.dropped_: dict[str, tuple[str, float]] = {}
        for j in range(corr.shape[0]):
            if kept:
                partner = kept[int(np.argmax(corr[kept, j]))]
                if corr[partner, j] > self.threshold:
                    self.dropped_[names[j]] = (names[partner], float(corr[partner, j]))
                    continue
            kept.append(j)
        self.support_ = np.zeros(corr.shape[0], dtype=bool)
        self.support_[kept] = True
        return self


def _correlation(X, method: str) -> np.ndarray:
    if method not in ("pearson", "spearman", "kendall"):
        raise ValueError(f"The 'method' parameter of CorrelationFilter must be 'pearson', 'spearman' or 'kendall'. Got {method!r} instead.")
    values = _values(X)
    if values.shape[1] < 2:
        return np.ones((values.shape[1], values.shape[1]))
    if method == "kendall" or np.isnan(values).any():
        return pd.DataFrame(values).corr(method=method).to_numpy()
    if method == "spearman":
        values = pd.DataFrame(values).rank().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(values, rowvar=False)


# -------------------------------------------------------------------------- variance


class VarianceFilter(_Selector):
    """``VarianceThreshold``, with an error naming the step when nothing is left.

    Attributes:
        variances_: The training variance of each feature.
    """

    def __init__(self, threshold: float = 0.0, step: str = "select.variance"):
        self.threshold = threshold
        self.step = step

    def fit(self, X, y=None):
        from sklearn.feature_selection import VarianceThreshold

        self._start(X)
        try:
            inner = VarianceThreshold(threshold=self.threshold).fit(_values(X))
        except ValueError as exc:
            if "No feature in X meets the variance threshold" in str(exc):
                raise DataError(
                    f"{self.step}: no feature has a training variance above {self.threshold}", hint=f"lower {self.step}.threshold"
                ) from None
            raise _fit_error(self.step, exc) from None
        self.variances_ = inner.variances_
        self.support_ = inner.get_support()
        return self


# ------------------------------------------------------------------------ univariate


class UnivariateSelector(_Selector):
    """Keep the ``k`` best features (or a ``percentile``) by a univariate test.

    Args:
        score: ``auto`` (``f_classif`` / ``f_regression`` by task), ``f_classif``,
            ``f_regression``, ``chi2`` (non-negative features only) or
            ``mutual_info`` (``mutual_info_classif`` / ``_regression``, seeded).
        k: Features to keep; None means 10; ``"all"`` keeps all. A ``k`` larger
            than the features that reach the step keeps them all and records a
            warning in ``warnings_``.
        percentile: Keep this percentage instead of ``k``.
        task: ``classification`` or ``regression``.
        random_state: Seeds mutual information.
        discrete: Features holding encoded categories (mutual information
            treats them as discrete; one with too many categories for its
            rows is refused, naming it).

    Attributes:
        scores_: The test's score per feature.
        warnings_: What the selector had to adjust.
    """

    def __init__(
        self,
        score: str = "auto",
        k: int | str | None = None,
        percentile: float | None = None,
        task: str = "classification",
        random_state: int | None = None,
        discrete: Sequence[str] = (),
        step: str = "select.univariate",
    ):
        self.score = score
        self.k = k
        self.percentile = percentile
        self.task = task
        self.random_state = random_state
        self.discrete = discrete
        self.step = step

    def _score_func(self, X, names: list[str]):
        from sklearn import feature_selection as fs

        score = self.score
        if score == "auto":
            score = "f_classif" if self.task == "classification" else "f_regression"
        if score == "mutual_info":
            mask = np.isin(names, list(self.discrete))
            self._check_discrete(X, names, mask)
            func = fs.mutual_info_classif if self.task == "classification" else fs.mutual_info_regression
            return functools.partial(func, discrete_features=mask, random_state=self.random_state)
        if score == "chi2":
            values = _values(X)
            neg = np.flatnonzero(np.nanmin(values, axis=0) < 0) if values.size else []
            if len(neg):
                raise DataError(
                    f"{self.step}: chi2 needs non-negative features, and '{names[neg[0]]}' has negative values",
                    hint="use preprocess.numeric.scale: minmax, or score: f_classif",
                )
        funcs = {"f_classif": fs.f_classif, "f_regression": fs.f_regression, "chi2": fs.chi2}
        if score not in funcs:
            raise UsageError(f"{self.step}.score: unknown test '{score}'", hint="use auto, f_classif, f_regression, chi2 or mutual_info")
        return funcs[score]

    def _check_discrete(self, X, names: list[str], mask: np.ndarray) -> None:
        n_rows = X.shape[0]
        for j in np.flatnonzero(mask):
            col = X.iloc[:, j] if isinstance(X, pd.DataFrame) else pd.Series(np.asarray(X)[:, j])
            k = col.nunique()
            if k > MI_MAX_CATEGORIES and n_rows / k < MI_MIN_ROWS_PER_CATEGORY:
                raise DataError(
                    f"{self.step}: mutual information cannot score categorical column '{names[j]}': "
                    f"{k} categories for {n_rows} training rows (fewer than {MI_MIN_ROWS_PER_CATEGORY} rows each)",
                    hint="group rare categories (preprocess.categorical.max_categories or min_frequency), or use score: auto",
                )

    def fit(self, X, y):
        from sklearn.feature_selection import SelectKBest, SelectPercentile

        self._start(X)
        names = self._names(X)
        func = self._score_func(X, names)
        n = X.shape[1]
        if self.percentile is not None:
            inner = SelectPercentile(func, percentile=self.percentile)
        else:
            k = DEFAULT_K if self.k is None else self.k
            if k != "all" and int(k) > n:
                self._warn(f"{self.step}: k={k} but only {n} features reach this step; all are kept")
                k = "all"
            inner = SelectKBest(func, k=k)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # constant features score NaN: ranked last
                inner.fit(X, y)
        except ValueError as exc:
            raise _fit_error(self.step, exc) from None
        self.scores_ = inner.scores_
        self.support_ = inner.get_support()
        return self


# ------------------------------------------------------------------------ sequential


class SequentialSelector(_Selector):
    """Sequential forward/backward (floating) selection: mlxtend's ``SequentialFeatureSelector``.

    Args:
        estimator: The model that scores feature subsets.
        k_features: An int, a ``(min, max)`` tuple, ``"best"`` or ``"parsimonious"``
            (mlxtend's meaning). An int or a minimum above the number of features
            that reach the step raises a DataError; a maximum above it is capped
            (recorded in ``warnings_``).
        forward, floating: The variant (SFS, SBS, SFFS, SBFS).
        cv: Folds used to score each subset (0: score on the training fold).
        scoring: A scikit-learn scorer name; None: accuracy / r2.

    Attributes:
        sfs_: The fitted mlxtend selector (``subsets_`` holds every step's scores).
    """

    def __init__(
        self,
        estimator=None,
        k_features: Any = "best",
        forward: bool = True,
        floating: bool = False,
        cv: int = 3,
        scoring: str | None = None,
        step: str = "select.sequential",
    ):
        self.estimator = estimator
        self.k_features = k_features
        self.forward = forward
        self.floating = floating
        self.cv = cv
        self.scoring = scoring
        self.step = step

    def _k(self, n: int):
        k = self.k_features
        if isinstance(k, str):
            return k
        if isinstance(k, (tuple, list)):
            low, high = int(k[0]), int(k[1])
            if low > n:
                raise DataError(
                    f"{self.step}: k_features={list(k)} but only {n} features reach this step", hint=f"lower {self.step}.k_features"
                )
            if high > n:
                self._warn(f"{self.step}: k_features max {high} but only {n} features reach this step; capped at {n}")
                high = n
            return (low, high)
        if int(k) > n:
            raise DataError(
                f"{self.step}: k_features={k} but only {n} features reach this step", hint=f"lower {self.step}.k_features, or use 'best'"
            )
        return int(k)

    def fit(self, X, y):
        from mlxtend.feature_selection import SequentialFeatureSelector

        self._start(X)
        n = X.shape[1]
        sfs = SequentialFeatureSelector(
            clone(self.estimator),
            k_features=self._k(n),
            forward=self.forward,
            floating=self.floating,
            cv=self.cv,
            scoring=self.scoring,
            n_jobs=1,
        )
        try:
            sfs.fit(_values(X), np.asarray(y))
        except ValueError as exc:
            raise _fit_error(self.step, exc) from None
        self.sfs_ = sfs
        self.support_ = np.zeros(n, dtype=bool)
        self.support_[list(sfs.k_feature_idx_)] = True
        return self


# ------------------------------------------------------------------------ importance


class ImportanceSelector(_Selector):
    """Keep features important to a model: scikit-learn's ``SelectFromModel``.

    Args:
        estimator: A model with ``feature_importances_`` or ``coef_``.
        threshold: A number, ``"mean"``, ``"median"`` or ``"1.5*mean"``.
        max_features: Keep at most this many (capped at the features that
            reach the step, recorded in ``warnings_``).

    Attributes:
        importances_: The fitted model's importance per feature.
    """

    def __init__(self, estimator=None, threshold: Any = "median", max_features: int | None = None, step: str = "select.importance"):
        self.estimator = estimator
        self.threshold = threshold
        self.max_features = max_features
        self.step = step

    def fit(self, X, y):
        from sklearn.feature_selection import SelectFromModel

        self._start(X)
        n = X.shape[1]
        max_features = self.max_features
        if max_features is not None and max_features > n:
            self._warn(f"{self.step}: max_features={max_features} but only {n} features reach this step; capped at {n}")
            max_features = n
        inner = SelectFromModel(clone(self.estimator), threshold=self.threshold, max_features=max_features)
        try:
            inner.fit(X, y)
        except ValueError as exc:
            raise _fit_error(self.step, exc) from None
        est = inner.estimator_
        imp = getattr(est, "feature_importances_", None)
        if imp is None:
            imp = np.abs(np.asarray(est.coef_))
            imp = imp.sum(axis=0) if imp.ndim > 1 else imp
        self.importances_ = np.asarray(imp, dtype=float)
        self.support_ = inner.get_support()
        return self


# ------------------------------------------------------------------------------- rfe


class RfeSelector(_Selector):
    """Recursive feature elimination: scikit-learn's ``RFE``, or ``RFECV`` when ``cv >= 2``.

    Args:
        estimator: A model with ``feature_importances_`` or ``coef_``.
        n_features: Features to keep: a count, or a share in (0, 1); None: half.
            With RFECV, the smallest number it may choose. A count above the
            features that reach the step raises a DataError.
        step: Features removed per round (a count, or a share).
        cv: 0 for RFE; folds for RFECV.

    Attributes:
        ranking_: 1 for kept features, higher for those eliminated earlier.
    """

    def __init__(self, estimator=None, n_features: int | float | None = None, step: int | float = 1, cv: int = 0, name: str = "select.rfe"):
        self.estimator = estimator
        self.n_features = n_features
        self.step = step
        self.cv = cv
        self.name = name

    def fit(self, X, y):
        from sklearn.feature_selection import RFE, RFECV

        self._start(X)
        n = X.shape[1]
        count = self.n_features
        if isinstance(count, (int, np.integer)) and not isinstance(count, bool) and count > n:
            raise DataError(f"{self.name}: n_features={count} but only {n} features reach this step", hint=f"lower {self.name}.n_features")
        if self.cv and self.cv >= 2:
            minimum = count if isinstance(count, (int, np.integer)) else 1
            inner = RFECV(clone(self.estimator), step=self.step, cv=self.cv, min_features_to_select=int(minimum))
        else:
            inner = RFE(clone(self.estimator), n_features_to_select=count, step=self.step)
        try:
            inner.fit(_values(X), np.asarray(y))
        except ValueError as exc:
            raise _fit_error(self.name, exc) from None
        self.ranking_ = inner.ranking_
        self.support_ = inner.get_support()
        return self


# ------------------------------------------------------------------------- factories


def _estimator(name: str, task: str, seed: int | None, step: str, *, auto: str = "linear"):
    from ..components.estimators import make_estimator

    params: dict[str, Any] = {}
    if name == "auto":
        name = auto
        if auto == "linear":
            params = {"max_iter": 1000}  # logistic regression's default 100 often stops short
    try:
        # n_jobs=None leaves the library default (one job; LogisticRegression
        # warns about an explicit n_jobs since scikit-learn 1.8).
        return make_estimator(name, params, task, seed=seed, n_jobs=None)
    except AutomlYamlError as exc:
        raise UsageError(f"{step}.estimator: {exc.message}", hint=exc.hint) from None


def correlation(options, *, task: str, seed: int | None = None, step: str = "select.correlation", **_: Any):
    """``select: [{correlation: {threshold, method}}]``."""
    return CorrelationFilter(threshold=float(options.threshold), method=options.method, step=step)


def variance(options, *, task: str, seed: int | None = None, step: str = "select.variance", **_: Any):
    """``select: [{variance: {threshold}}]``."""
    return VarianceFilter(threshold=float(options.threshold), step=step)


def univariate(options, *, task: str, seed: int | None = None, step: str = "select.univariate", discrete: Sequence[str] = (), **_: Any):
    """``select: [{univariate: {score, k | percentile}}]``."""
    return UnivariateSelector(
        score=options.score,
        k=options.k,
        percentile=options.percentile,
        task=task,
        random_state=seed,
        discrete=tuple(discrete),
        step=step,
    )


def sequential(options, *, task: str, seed: int | None = None, step: str = "select.sequential", **_: Any):
    """``select: [{sequential: {direction, floating, k_features, estimator, cv}}]``."""
    k = options.k_features
    return SequentialSelector(
        estimator=_estimator(options.estimator, task, seed, step),
        k_features=tuple(k) if isinstance(k, list) else k,
        forward=options.direction == "forward",
        floating=bool(options.floating),
        cv=int(options.cv),
        step=step,
    )


def importance(options, *, task: str, seed: int | None = None, step: str = "select.importance", **_: Any):
    """``select: [{importance: {estimator, threshold, max_features}}]``."""
    return ImportanceSelector(
        estimator=_estimator(options.estimator, task, seed, step, auto="random_forest"),
        threshold=options.threshold,
        max_features=options.max_features,
        step=step,
    )


def rfe(options, *, task: str, seed: int | None = None, step: str = "select.rfe", **_: Any):
    """``select: [{rfe: {estimator, n_features, step, cv}}]``."""
    return RfeSelector(
        estimator=_estimator(options.estimator, task, seed, step),
        n_features=options.n_features,
        step=options.step,
        cv=int(options.cv),
        name=step,
    )
