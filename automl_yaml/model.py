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

from .data.assemble import (
    MAX_FINITE,
    MISSING_MARKERS,
    date_format,
    parse_dates,
    parse_durations,
    parse_formatted_numbers,
    parse_unit_numbers,
)
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
        ignored: Columns of the training table that were deliberately not used
            (row ids, constant or empty columns, ``data.drop``): new rows that
            still carry them are read without a warning about them.
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
        ignored=None,
    ):
        self.pipeline = pipeline
        self.task = task
        self.classes = classes
        self.features = features
        self.dtypes = dtypes
        self.target = target
        self.date_formats = date_formats
        self.ignored = ignored

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
        self.categories_ = _seen_categories(X)
        return self

    def fitted(self, X_train: pd.DataFrame) -> TrainedModel:
        """Adopt an already fitted ``pipeline`` (trained on encoded labels)."""
        self.features = list(X_train.columns)
        self.dtypes = {c: str(t) for c, t in X_train.dtypes.items()}
        self.pipeline_ = self.pipeline
        self.categories_ = _seen_categories(X_train)
        return self

    # -------------------------------------------------------------- predict
    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.classes, dtype=object) if self.classes is not None else None

    def check_input(self, X: Any) -> pd.DataFrame:
        """The input as a DataFrame with the training columns, in order."""
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X)
        X = self._as_read(X)
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
        known = {self.target, *(getattr(self, "ignored", None) or ())}  # a model saved before 'ignored' has none
        extra = [c for c in X.columns if c not in self.features and c not in known]
        if extra:
            warnings.warn(f"ignoring {len(extra)} column(s) the model was not trained on: {', '.join(map(str, extra[:10]))}", stacklevel=3)
        X = X[self.features].copy()
        for col, dtype in (self.dtypes or {}).items():
            X[col] = self._as_trained(col, X[col], dtype)
        self._warn_unseen(X)
        return X

    def _as_read(self, X: pd.DataFrame) -> pd.DataFrame:
        """The columns as a source gives them to training (``BaseSource._normalise``): names as text,
        and an index that training had as a column (a DataFrame indexed by ``customer``, or by dates) as that column.

        A DataFrame with columns 0, 1, 2 trained a model on "0", "1", "2", and
        the same DataFrame then "lacked 3 columns: 0, 1, 2".
        """
        if not all(isinstance(c, str) for c in X.columns):
            from .data.sources import column_names

            X = X.set_axis(column_names(X.columns), axis=1)
        features = self.features or []
        if not isinstance(X.index, pd.RangeIndex) and any(c not in X.columns for c in features):
            index_names = ["index" if n is None and X.index.nlevels == 1 else n if n is not None else f"level_{i}" for i, n in enumerate(X.index.names)]
            if any(str(n) in features and str(n) not in X.columns for n in index_names):
                X = X.reset_index()
                X = X.set_axis([str(c) for c in X.columns], axis=1)
        return X

    def _warn_unseen(self, X: pd.DataFrame) -> None:
        """A warning naming categories the model never saw ('Atlantis', 'MALE' for 'male'): the encoders read them as unknown."""
        seen = getattr(self, "categories_", None) or {}  # models saved before have none
        said = []
        for col, known in seen.items():
            if col not in X.columns:
                continue
            values = X[col].dropna()
            if values.empty:
                continue
            known_set = set(known)
            unseen = values[~values.astype(str).isin(known_set)]
            if unseen.empty:
                continue
            folded = {k.casefold().strip(): k for k in known}
            shown = []
            for v in pd.unique(unseen.astype(str))[:3]:
                twin = folded.get(v.casefold().strip())
                shown.append(f"{v!r} (training had {twin!r})" if twin is not None else repr(v))
            said.append(f"'{col}': {len(unseen)} row{'s' if len(unseen) != 1 else ''} such as {', '.join(shown)}")
        if said:
            warnings.warn(
                f"values not seen in training, read as unknown categories: {'; '.join(said[:5])}" + (f"; and {len(said) - 5} more columns" if len(said) > 5 else ""),
                stacklevel=4,
            )

    def _as_trained(self, col: str, values: pd.Series, dtype: str) -> pd.Series:
        """One column read as training read it (``automl_yaml.data.assemble``).

        Blank strings are missing values (``read_csv`` reads them so); numbers
        may come as text (``"3.5"``, ``"10,344.74"``) or as ints where the
        model saw floats and back; dates in the training format, else in the
        one format the new values fit. Booleans stay as sent: the pipeline's
        encoder reads True/False, 1/0 and the words (``astype(bool)`` would read
        ``"false"`` as True and a missing value as False). A value that cannot
        be what the column held in training is an error naming the column.
        """
        values = _blanks_as_missing(values)
        if pd.api.types.is_timedelta64_dtype(values) and not dtype.startswith("timedelta"):
            # Durations (an INTERVAL, a Parquet duration) were used as seconds in training.
            values = values.dt.total_seconds()
        if str(values.dtype) == dtype or dtype in ("bool", "boolean"):
            pass
        elif dtype.startswith(("float", "int", "uint", "Float", "Int", "UInt")):
            values = self._as_numbers(col, values, dtype)
        elif dtype.startswith("datetime"):
            values = self._as_dates(col, values, dtype)
        elif dtype == "category":
            values = values.astype("object")
        else:
            try:
                values = values.astype(dtype)
            except (TypeError, ValueError):
                pass  # the pipeline's encoders read what they can
        if pd.api.types.is_float_dtype(values):
            # As in training (automl_yaml.data.assemble): infinity is a missing value.
            with np.errstate(invalid="ignore"):
                values = values.mask(np.abs(values.to_numpy(dtype=float, na_value=np.nan)) > MAX_FINITE)
        return values

    @staticmethod
    def _as_numbers(col: str, values: pd.Series, dtype: str) -> pd.Series:
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            values = _blanks_as_missing(values, words=True)
            numbers = pd.to_numeric(values.astype(object) if pd.api.types.is_bool_dtype(values) else values, errors="coerce")
            bad = values.notna() & numbers.isna()
            if bad.any():
                # "10,344.74", or a duration ("01:17:32", "0 days 00:11:25"): read as the training data was
                formatted = parse_formatted_numbers(values)
                if formatted is None:
                    formatted = parse_durations(values)
                if formatted is None and (with_unit := parse_unit_numbers(values)) is not None:
                    formatted = with_unit[0]  # "1248 CC", as training read them
                if formatted is None:
                    raise DataError(
                        f"column '{col}' held numbers in training, but the input has values such as {values[bad].iloc[0]!r} ({int(bad.sum())} in all)",
                        hint='send numbers (or numbers as text, such as "3.5"); leave a value empty when it is missing',
                        usage=True,
                    )
                numbers = formatted
            values = numbers
        if dtype.startswith(("int", "uint")) and not values.isna().any() and (values.dtype.kind in "iu" or (values % 1 == 0).all()):
            return values.astype(dtype)
        return values.astype("float64") if values.dtype.kind != "f" else values

    def _as_dates(self, col: str, values: pd.Series, dtype: str) -> pd.Series:
        utc = "UTC" in dtype
        if pd.api.types.is_datetime64_any_dtype(values):
            try:
                return values.astype(dtype)
            except (TypeError, ValueError):
                return values  # another time zone: the pipeline converts to UTC
        values = _blanks_as_missing(values, words=True)
        fmt = (getattr(self, "date_formats", None) or {}).get(col)  # models saved before have none
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
            dates = parse_dates(values, fmt) if fmt else pd.to_datetime(values, errors="coerce", utc=utc)
            bad = values.notna() & dates.isna()
            if bad.any() and not pd.api.types.is_numeric_dtype(values):  # a number is never guessed as an epoch (20241301 is no date)
                # Dates written another way than in training ("31/01/2020" for "2020-01-31"):
                # read them in the one format they all fit, as training guessed its own.
                other = date_format(values[bad])
                again = parse_dates(values[bad], other) if other else pd.to_datetime(values[bad], errors="coerce", utc=utc)
                if again.notna().all():
                    if getattr(again.dtype, "tz", None) is not None and getattr(dates.dtype, "tz", None) is None:
                        again = again.dt.tz_convert("UTC").dt.tz_localize(None)
                    dates = dates.mask(bad, again.reindex(dates.index))
                    bad = values.notna() & dates.isna()
        if bad.any():
            example = values[bad].iloc[0]
            raise DataError(
                f"column '{col}' held dates in training, but the input has values such as {example.item() if isinstance(example, np.generic) else example!r} "
                f"({int(bad.sum())} in all)",
                hint="send dates such as "
                + (pd.Timestamp("2024-01-31").strftime(fmt) if fmt else "2024-01-31")
                + "; leave a value empty when it is missing",
                usage=True,
            )
        try:
            return dates.astype(dtype)
        except (TypeError, ValueError):
            return dates

    def predict(self, X) -> np.ndarray:
        return self._predict(self.check_input(X))

    def predict_proba(self, X) -> np.ndarray:
        if self.task != "classification":
            raise DataError(
                "probabilities only exist for classification models", hint="this model predicts numbers: leave out --proba", usage=True
            )
        return self._predict_proba(self.check_input(X))

    def decision_function(self, X) -> np.ndarray:
        return self.pipeline_.decision_function(self.check_input(X))

    def predict_frame(self, X, *, proba: bool = False) -> pd.DataFrame:
        """Predictions as a DataFrame: ``prediction`` (+ ``proba_<class>`` columns)."""
        if proba and self.task != "classification":
            self.predict_proba(X)  # the error, before any work
        X = self.check_input(X)
        out = pd.DataFrame({"prediction": self._predict(X)}, index=X.index)
        if proba:
            p = self._predict_proba(X)
            for i, c in enumerate(self.classes):
                out[f"proba_{c}"] = p[:, i]
        return out

    def _all_classes(self, p: np.ndarray) -> np.ndarray:
        """Probabilities with a column per class of ``classes``, in order.

        A pipeline fitted without some class (a model saved before row filters
        had to keep every class) gives fewer columns: its own ``classes_``
        codes say which; the others have probability 0 (they were shifted, or
        raised an IndexError, before).
        """
        n = len(self.classes)
        if p.ndim != 2 or p.shape[1] == n:
            return p
        codes = np.asarray(getattr(self.pipeline_, "classes_", np.arange(p.shape[1])), dtype=int)
        full = np.zeros((p.shape[0], n), dtype=p.dtype)
        full[:, codes] = p
        return full

    # The two below take checked input (check_input), once per call.
    def _predict(self, X: pd.DataFrame) -> np.ndarray:
        classify = self.task == "classification" and self.classes is not None
        if len(X) == 0:  # a header without rows: scikit-learn refuses 0 samples
            return np.empty(0, dtype=object if classify else float)
        pred = self.pipeline_.predict(X)
        if classify:
            return self.classes_[np.asarray(pred, dtype=int)]
        return pred

    def _predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        est = self.pipeline_
        if hasattr(est, "predict_proba"):
            if len(X) == 0:
                return np.empty((0, len(self.classes)))
            try:
                p = est.predict_proba(X)
            except AttributeError:
                pass
            else:
                return self._all_classes(p)
        raise DataError(
            "this model gives no class probabilities",
            hint="it was trained without them (models.<name>.probabilities: false in its spec); predict labels instead",
            usage=True,
        )


#: Columns with more distinct values than this (or than half the training rows) are not checked for unseen values.
MAX_SEEN_CATEGORIES = 1000


def _seen_categories(X: pd.DataFrame) -> dict[str, list[str]]:
    """The categories of each categorical column of the training rows, as text, for :meth:`TrainedModel._warn_unseen`.

    Free text and codes with a value on most rows (new rows bring new ones by
    nature) and booleans (the encoder reads the words) are left out.
    """
    seen = {}
    for col in X.columns:
        s = X[col]
        if not (isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        values = pd.unique(s.dropna())
        if len(values) == 0 or len(values) > min(MAX_SEEN_CATEGORIES, len(s) / 2) or all(isinstance(v, (bool, np.bool_)) for v in values):
            continue
        seen[str(col)] = sorted(str(v) for v in values)
    return seen


#: The words ``read_csv`` reads as a missing value (its default ``na_values``), as clients send them.
_MISSING_WORDS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


def _blanks_as_missing(values: pd.Series, *, words: bool = False) -> pd.Series:
    """``""`` and ``"  "`` (with ``words``: also ``"NaN"``, ``"null"``...) as missing values, as ``read_csv`` reads them in training.

    ``words`` is for columns of numbers and dates, where such a word cannot be a value.
    """
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)) or isinstance(values.dtype, pd.CategoricalDtype):
        return values
    if words:
        # and '?', '-', '#DIV/0!' (MISSING_MARKERS), which training reads as missing among numbers too
        blank = np.fromiter(
            (isinstance(v, str) and (v.strip() in _MISSING_WORDS or v.strip().casefold() in MISSING_MARKERS) for v in values), dtype=bool, count=len(values)
        )
    else:
        blank = np.fromiter((isinstance(v, str) and not v.strip() for v in values), dtype=bool, count=len(values))
    return values.mask(blank) if blank.any() else values
