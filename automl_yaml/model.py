"""The trained model users get: the best pipeline, speaking the data's own labels.

During the search a classification target is encoded as integer codes (the
positive class of a binary target is 1), so that every scikit-learn scorer
works without a ``pos_label``. :class:`TrainedModel` wraps the refitted
pipeline so that predictions come back as the original labels, and checks its
input: missing feature columns are an error naming them, extra columns are
ignored with a warning.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from .data.assemble import MAX_FINITE, parse_dates, parse_formatted_numbers
from .errors import DataError


class TrainedModel(BaseEstimator):
    """A fitted pipeline with its feature schema and class labels.

    Args:
        pipeline: The scikit-learn pipeline (fitted by :meth:`fit`, or already fitted).
        task: ``classification`` or ``regression``.
        classes: The original class labels; ``classes[code]`` is the label of a code.
        features: The feature columns the pipeline was trained on, in order.
        dtypes: Their training dtypes (as strings), to coerce inputs.
        target: The target's name (for output columns).
        date_formats: The format each column of date strings was read with in
            training (``Dataset.date_formats``): new rows are read the same way,
            not guessed again from their first value (``01/02`` month or day first).
    """

    def __init__(
        self,
        pipeline=None,
        task: str = "classification",
        classes=None,
        features=None,
        dtypes=None,
        target: str = "prediction",
        date_formats=None,
    ):
        self.pipeline = pipeline
        self.task = task
        self.classes = classes
        self.features = features
        self.dtypes = dtypes
        self.target = target
        self.date_formats = date_formats

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y):
        """Fit a clone of ``pipeline`` on ``X`` and original labels ``y``."""
        self.features = list(X.columns)
        self.dtypes = {c: str(t) for c, t in X.dtypes.items()}
        if self.task == "classification":
            codes = pd.Series(y)
            if self.classes is None:
                self.classes = sorted(pd.unique(codes).tolist(), key=str)
            lookup = {c: i for i, c in enumerate(self.classes)}
            y = codes.map(lookup).to_numpy()
        self.pipeline_ = clone(self.pipeline).fit(X, y)
        return self

    def fitted(self, X_train: pd.DataFrame) -> TrainedModel:
        """Adopt an already fitted ``pipeline`` (trained on encoded labels)."""
        self.features = list(X_train.columns)
        self.dtypes = {c: str(t) for c, t in X_train.dtypes.items()}
        self.pipeline_ = self.pipeline
        return self

    # -------------------------------------------------------------- predict
    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.classes, dtype=object) if self.classes is not None else None

    def check_input(self, X: Any) -> pd.DataFrame:
        """The input as a DataFrame with the training columns, in order."""
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X)
        missing = [c for c in self.features if c not in X.columns]
        if missing:
            shown = ", ".join(missing[:10]) + (f", … ({len(missing)} in all)" if len(missing) > 10 else "")
            hint = "give the same feature columns as the training data (the target may be left out)"
            if any(sep in str(c) for c in X.columns for sep in (";", "\t", "|")):
                # "x1;x2;cat": a file with another separator, read as one column
                hint = "the input seems to use another separator: read it as the training data was, with --input SPEC.yaml:SOURCE"
            raise DataError(
                f"the input lacks {len(missing)} column{'s' if len(missing) != 1 else ''} the model was trained on: {shown}",
                hint=hint,
                usage=True,
            )
        extra = [c for c in X.columns if c not in self.features]
        if extra and extra != [self.target]:
            warnings.warn(f"ignoring {len(extra)} column(s) the model was not trained on: {', '.join(map(str, extra[:10]))}", stacklevel=3)
        X = X[self.features].copy()
        for col, dtype in (self.dtypes or {}).items():
            if pd.api.types.is_timedelta64_dtype(X[col]) and not dtype.startswith("timedelta"):
                # Durations (an INTERVAL, a Parquet duration) were used as seconds in training.
                X[col] = X[col].dt.total_seconds()
            if str(X[col].dtype) != dtype:
                try:
                    fmt = (getattr(self, "date_formats", None) or {}).get(col)  # models saved before have none
                    if dtype.startswith("datetime") and fmt:
                        X[col] = parse_dates(X[col], fmt)
                    elif dtype.startswith("datetime"):
                        X[col] = pd.to_datetime(X[col], errors="coerce", utc="UTC" in dtype)
                    elif dtype in ("category",):
                        X[col] = X[col].astype("object")
                    else:
                        X[col] = X[col].astype(dtype)
                except (TypeError, ValueError):
                    # "10,344.74": read as the training data was (automl_yaml.data.assemble)
                    numbers = parse_formatted_numbers(X[col]) if dtype.startswith(("float", "int")) else None
                    if numbers is not None:
                        X[col] = numbers
                    # else the pipeline's own checks report what cannot be used
            if pd.api.types.is_float_dtype(X[col]):
                # As in training (automl_yaml.data.assemble): infinity is a missing value.
                with np.errstate(invalid="ignore"):
                    X[col] = X[col].mask(np.abs(X[col].to_numpy(dtype=float, na_value=np.nan)) > MAX_FINITE)
        return X

    def predict(self, X) -> np.ndarray:
        X = self.check_input(X)
        pred = self.pipeline_.predict(X)
        if self.task == "classification" and self.classes is not None:
            return self.classes_[np.asarray(pred, dtype=int)]
        return pred

    def predict_proba(self, X) -> np.ndarray:
        if self.task != "classification":
            raise DataError("probabilities only exist for classification models", usage=True)
        X = self.check_input(X)
        est = self.pipeline_
        if hasattr(est, "predict_proba"):
            try:
                return est.predict_proba(X)
            except AttributeError:
                pass
        raise DataError(
            "this model gives no class probabilities",
            hint="it was trained without them (e.g. an SVM with probability: false); predict labels instead",
            usage=True,
        )

    def decision_function(self, X) -> np.ndarray:
        return self.pipeline_.decision_function(self.check_input(X))

    def predict_frame(self, X, *, proba: bool = False) -> pd.DataFrame:
        """Predictions as a DataFrame: ``prediction`` (+ ``proba_<class>`` columns)."""
        X = self.check_input(X)
        out = pd.DataFrame({"prediction": self.predict(X)}, index=X.index)
        if proba:
            p = self.predict_proba(X)
            for i, c in enumerate(self.classes):
                out[f"proba_{c}"] = p[:, i]
        return out
