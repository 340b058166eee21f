"""Dropping training rows: ``impute: drop`` and ``outliers: {action: drop}``.

A scikit-learn ``Pipeline`` maps rows to rows; it cannot drop any. So row
filters live in a meta-estimator, :class:`DropTrainingRows`, that wraps the
whole pipeline: ``fit`` removes the rows its filters reject from the
*training* data and fits the inner pipeline on the rest; ``predict`` (and
``predict_proba``, ``decision_function``, ``score``, ...) use every row, so
each input row still gets a prediction. Inside ``cross_validate`` the filters
therefore see the training fold only, and the validation fold is scored whole.

Filters are small estimators with ``fit(X, y)`` and ``keep(X) -> bool array``:
:class:`MissingRows` and :class:`OutlierRows`. They run in order, each on the
rows the previous ones kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError
from .columnwise import as_frame, outlier_bounds


class MissingRows(BaseEstimator):
    """Reject rows with a missing value in any of ``columns`` (``impute: drop``).

    Args:
        columns: The columns whose missing values drop a row.
    """

    def __init__(self, columns: Sequence[str] = ()):
        self.columns = columns

    def fit(self, X, y=None):
        self.columns_ = list(self.columns)
        return self

    def keep(self, X) -> np.ndarray:
        check_is_fitted(self, "columns_")
        if not self.columns_:
            return np.ones(len(X), dtype=bool)
        return ~as_frame(X)[self.columns_].isna().any(axis=1).to_numpy()

    def describe(self) -> str:
        return "impute: drop (" + ", ".join(map(str, self.columns)) + ")"


class OutlierRows(BaseEstimator):
    """Reject training rows with an outlier in any of ``columns``.

    Args:
        columns: Numeric columns to check.
        method: ``iqr``, ``zscore`` (bounds as in
            :class:`~automl_yaml.preprocess.columnwise.OutlierClipper`) or
            ``isolation_forest`` (rows IsolationForest labels -1).
        factor: The IQR multiplier or z-score threshold (None: 1.5 / 3).
        contamination: IsolationForest's expected outlier share.
        random_state: Seeds IsolationForest.

    Attributes:
        lower_, upper_: The bounds (``iqr`` / ``zscore``).
        forest_: The fitted IsolationForest (``isolation_forest``).
    """

    def __init__(
        self, columns: Sequence[str] = (), method: str = "iqr", factor: float | None = None, contamination="auto", random_state=None
    ):
        self.columns = columns
        self.method = method
        self.factor = factor
        self.contamination = contamination
        self.random_state = random_state

    def _values(self, X) -> np.ndarray:
        return as_frame(X)[list(self.columns)].to_numpy(dtype=float, na_value=np.nan)

    def fit(self, X, y=None):
        values = self._values(X)
        if self.method == "isolation_forest":
            from sklearn.ensemble import IsolationForest

            # IsolationForest accepts missing values (they never split).
            self.forest_ = IsolationForest(contamination=self.contamination, random_state=self.random_state).fit(values)
        else:
            self.lower_, self.upper_ = outlier_bounds(values, self.method, self.factor)
        return self

    def keep(self, X) -> np.ndarray:
        values = self._values(X)
        if self.method == "isolation_forest":
            check_is_fitted(self, "forest_")
            return self.forest_.predict(values) == 1
        check_is_fitted(self, "lower_")
        with np.errstate(invalid="ignore"):
            return ~((values < self.lower_) | (values > self.upper_)).any(axis=1)

    def describe(self) -> str:
        return f"outliers: {self.method}, action: drop (" + ", ".join(map(str, self.columns)) + ")"


def _inner_has(attr: str):
    def check(self) -> bool:
        target = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return hasattr(target, attr)

    return check


class DropTrainingRows(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` on the training rows that every filter keeps.

    Args:
        estimator: The pipeline to fit (unfitted; it is cloned).
        filters: ``(name, filter)`` pairs, applied in order on the rows kept so far.

    Attributes:
        estimator_: The fitted clone of ``estimator``.
        filters_: The fitted filters.
        n_rows_in_: Training rows given to ``fit``.
        n_rows_dropped_: ``{filter name: rows it dropped}``.

    Example:
        >>> model = DropTrainingRows(pipeline, [("impute_drop", MissingRows(["age"]))])
        >>> model.fit(X_train, y_train).predict(X_test)  # one prediction per test row
    """

    def __init__(self, estimator, filters: Sequence[tuple[str, BaseEstimator]] = ()):
        self.estimator = estimator
        self.filters = filters

    def fit(self, X, y=None, **fit_params):
        """Drop rows from the training data, then fit the inner estimator on the rest.

        Fit parameters that are arrays with one value per row (``sample_weight``)
        are filtered with the rows; others pass through unchanged.
        """
        n = len(X)
        idx = self.training_rows(X, y)
        params = {k: (_take(v, idx) if _per_row(v, n) else v) for k, v in fit_params.items()}
        self.estimator_ = clone(self.estimator).fit(_take(X, idx), None if y is None else _take(y, idx), **params)
        return self

    def training_rows(self, X, y=None) -> np.ndarray:
        """Fit the filters on ``X``; the positions of the rows they keep, which :meth:`fit` fits the pipeline on.

        The search's evaluator calls it to fit a fold's preprocessing once for
        the trials that share it (:class:`~automl_yaml.search.evaluator.Evaluator`).

        Raises:
            DataError: when the filters drop every row, or every row of a class.
        """
        n = len(X)
        self.n_rows_in_ = n
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        keep = np.ones(n, dtype=bool)
        self.filters_, self.n_rows_dropped_ = [], {}
        for name, flt in self.filters:
            idx = np.flatnonzero(keep)
            Xk = _take(X, idx)
            yk = None if y is None else _take(y, idx)
            fitted = clone(flt).fit(Xk, yk)
            kept = np.asarray(fitted.keep(Xk), dtype=bool)
            self.n_rows_dropped_[name] = int((~kept).sum())
            keep[idx[~kept]] = False
            self.filters_.append((name, fitted))
        if not keep.any():
            worst = max(self.n_rows_dropped_, key=self.n_rows_dropped_.get)
            what = dict(self.filters)[worst]
            raise DataError(
                f"preprocess: {what.describe() if hasattr(what, 'describe') else worst} drops all {n} training rows",
                hint="impute these columns instead of dropping rows, or loosen the outlier rule",
            )
        if y is not None and get_tags(self.estimator).estimator_type == "classifier":
            self._check_classes_kept(X, y, keep, n)
        return np.flatnonzero(keep)

    def _check_classes_kept(self, X, y, keep: np.ndarray, n: int) -> None:
        """Every class of the training rows must keep a row: a model that never saw a class
        cannot predict it, and its probabilities would have a column too few (misaligned)."""
        labels = np.asarray(y)
        lost = np.setdiff1d(np.unique(labels), np.unique(labels[keep]))
        if not len(lost):
            return
        dropping = [dict(self.filters)[name] for name, rows in self.n_rows_dropped_.items() if rows]
        what = " and ".join((f.describe() if hasattr(f, "describe") else type(f).__name__).split(" (")[0] for f in dropping)
        most = ""
        missing = [c for _, f in self.filters_ if isinstance(f, MissingRows) for c in f.columns_]
        if missing:
            shares = as_frame(X)[missing].isna().mean()
            col = shares.idxmax()
            if shares[col] > 0:
                most = f" ('{col}' is missing on {shares[col]:.0%} of them)"
        raise DataError(
            f"preprocess: {what} leave{'s' if len(dropping) == 1 else ''} {int(keep.sum())} of {n} training rows{most}, "
            f"with no row of {len(lost)} of the {len(np.unique(labels))} classes: the model could not predict them",
            hint="impute these columns instead of dropping rows (leave out a mostly missing column with data.drop), or loosen the outlier rule",
        )

    # Everything below uses all rows: rows are only ever dropped from training data.
    @available_if(_inner_has("predict"))
    def predict(self, X, **params):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X, **params)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, **params):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X, **params)

    @available_if(_inner_has("predict_log_proba"))
    def predict_log_proba(self, X, **params):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X, **params)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    @available_if(_inner_has("transform"))
    def transform(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.transform(X)

    @available_if(_inner_has("score"))
    def score(self, X, y, **params):
        check_is_fitted(self, "estimator_")
        return self.estimator_.score(X, y, **params)

    @property
    def classes_(self):
        check_is_fitted(self, "estimator_")
        return self.estimator_.classes_

    @property
    def named_steps(self):
        """The fitted pipeline's steps (or the unfitted ones before ``fit``)."""
        return getattr(self, "estimator_", self.estimator).named_steps

    def __sklearn_tags__(self):
        # Look like the wrapped pipeline: scorers and cross-validation ask whether
        # this is a classifier (stratified folds, predict_proba for roc_auc).
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        tags.input_tags = inner.input_tags
        return tags


def _per_row(value, n: int) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, (str, bytes, dict)) and len(value) == n


def _take(data, idx: np.ndarray):
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    return np.asarray(data)[idx]
