"""The few column transformers scikit-learn lacks.

Each follows the estimator contract (``__init__`` only stores its arguments,
what ``fit`` learns ends in ``_``, ``get_feature_names_out`` names the output)
so that ``clone()``, pickling, ``set_output(transform="pandas")`` and
``cross_validate`` work, and everything is learnt on the training fold only.

Where scikit-learn has the transformer, :mod:`automl_yaml.preprocess.transforms`
uses it directly; the classes here are only:

* :class:`MissingAsNaN` — ``None`` / ``pd.NA`` in object columns become NaN;
* :class:`OutlierClipper` — IQR / z-score bounds learnt on the fold, then clipping;
* :class:`FrequencyEncoder` — a category's share of the training fold (unseen: 0);
* :class:`CategoryDtype` — ``encode: none``: pandas ``category`` columns with the
  fold's categories, for models with native categorical support;
* :class:`BooleanEncoder` — two-valued columns to 0/1;
* :class:`DatetimeParts` — datetime columns to numeric parts;
* :class:`TfidfColumns` — one ``TfidfVectorizer`` per text column, dense, named;
* :class:`ModelFeatureNames` — feature names that LightGBM and XGBoost accept;
* :class:`FoldQuantileTransformer` — ``QuantileTransformer`` whose ``n_quantiles``
  is capped by the fold size without a warning;
* :class:`BoundedOneHotEncoder` — ``OneHotEncoder`` that refuses a dense output
  too large for memory, naming the column.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.impute import KNNImputer
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ..errors import DataError

#: A one-hot output larger than this many cells (rows x columns) is refused:
#: 200 million float64 cells are 1.6 GB, before any model copies them.
MAX_ONEHOT_CELLS = 200_000_000

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "on"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "off"}


def as_frame(X, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``X`` as a DataFrame (a no-op for DataFrames; arrays get ``x0, x1, ...`` names)."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    names = list(columns) if columns is not None else [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=names)


class _FrameTransformer(TransformerMixin, BaseEstimator):
    """Shared input bookkeeping: ``feature_names_in_`` / ``n_features_in_`` like scikit-learn."""

    def _remember_input(self, X) -> pd.DataFrame:
        df = as_frame(X)
        self.n_features_in_ = df.shape[1]
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return df

    def _input(self, X) -> pd.DataFrame:
        check_is_fitted(self, "n_features_in_")
        df = as_frame(X, getattr(self, "feature_names_in_", None))
        if df.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {df.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input."
            )
        return df

    def _names_in(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"x{i}" for i in range(self.n_features_in_)]
        return [str(n) for n in names]


# ------------------------------------------------------------------------ outliers


class OutlierClipper(OneToOneFeatureMixin, _FrameTransformer):
    """Clip numeric columns to bounds learnt on the training fold.

    Args:
        method: ``"iqr"`` — ``[Q1 - factor*IQR, Q3 + factor*IQR]``; ``"zscore"`` —
            ``mean ± factor*std``.
        factor: The multiplier; None means 1.5 for IQR and 3 for z-scores.

    Attributes:
        lower_, upper_: The bounds per column (NaN-aware; missing values stay missing).
    """

    def __init__(self, method: str = "iqr", factor: float | None = None):
        self.method = method
        self.factor = factor

    def fit(self, X, y=None):
        df = self._remember_input(X)
        values = df.to_numpy(dtype=float, na_value=np.nan)
        self.lower_, self.upper_ = outlier_bounds(values, self.method, self.factor)
        return self

    def transform(self, X):
        values = self._input(X).to_numpy(dtype=float, na_value=np.nan)
        return np.clip(values, self.lower_, self.upper_)

    def outlier_mask(self, X) -> np.ndarray:
        """True for rows with any value outside the bounds."""
        values = self._input(X).to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            return ((values < self.lower_) | (values > self.upper_)).any(axis=1)


def outlier_bounds(values: np.ndarray, method: str, factor: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ``(lower, upper)`` bounds of a 2-D float array, ignoring NaN.

    An all-missing column gets infinite bounds (nothing is an outlier).
    """
    if method not in ("iqr", "zscore"):
        raise ValueError(f"The 'method' parameter of OutlierClipper must be 'iqr' or 'zscore'. Got {method!r} instead.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        if method == "iqr":
            f = 1.5 if factor is None else float(factor)
            q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
            lower, upper = q1 - f * (q3 - q1), q3 + f * (q3 - q1)
        else:
            f = 3.0 if factor is None else float(factor)
            mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            lower, upper = mean - f * std, mean + f * std
    lower = np.where(np.isnan(lower), -np.inf, lower)
    upper = np.where(np.isnan(upper), np.inf, upper)
    return lower, upper


# ------------------------------------------------------------------------ encoders


class MissingAsNaN(OneToOneFeatureMixin, _FrameTransformer):
    """Make every missing marker NaN: ``None`` and ``pd.NA`` in object columns,
    and the ``pd.NA`` of pandas' nullable dtypes.

    Database sources give object columns whose missing values are ``None``;
    Parquet files give nullable ``string``, ``Int64`` and ``boolean`` columns
    whose missing value is ``pd.NA``, which cannot be compared (``NA != NA``
    is NA, not True). scikit-learn's imputers and encoders look for NaN only:
    they would take ``None`` for one more category and fail on ``pd.NA``.
    Nullable columns become object columns with NaN; other dtypes pass
    through untouched (no copy). Nothing is learnt.
    """

    def fit(self, X, y=None):
        self._remember_input(X)
        return self

    def transform(self, X):
        df = self._input(X)
        fix = [c for c in df.columns if df[c].dtype == object or getattr(df[c].dtype, "na_value", None) is pd.NA]
        if not fix:
            return df
        df = df.copy()
        for c in fix:
            s = df[c].astype(object)
            df[c] = s.where(s.notna(), np.nan)
        return df


class FrequencyEncoder(OneToOneFeatureMixin, _FrameTransformer):
    """Replace each category by its share of the training fold.

    Missing values are a category of their own; a category never seen in the
    training fold (unseen at predict time) becomes 0 — it was that rare.

    Attributes:
        frequencies_: One ``{category: share}`` dict per column.
        missing_share_: The share of missing values per column.
    """

    def fit(self, X, y=None):
        df = self._remember_input(X)
        self.frequencies_, self.missing_share_ = [], []
        n = max(len(df), 1)
        for col in df.columns:
            s = df[col]
            counts = s.value_counts(dropna=True)
            self.frequencies_.append({k: v / n for k, v in counts.items()})
            self.missing_share_.append(float(s.isna().sum()) / n)
        return self

    def transform(self, X):
        df = self._input(X)
        out = np.empty(df.shape, dtype=float)
        for j, col in enumerate(df.columns):
            s = df[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype(object)
            mapped = s.map(self.frequencies_[j]).astype(float)
            mapped = mapped.where(s.notna(), self.missing_share_[j])
            out[:, j] = mapped.fillna(0.0).to_numpy()
        return out


class CategoryDtype(OneToOneFeatureMixin, _FrameTransformer):
    """``encode: none``: keep categories, as pandas ``category`` columns.

    The categories are fixed to those of the training fold, so a category
    unseen at predict time becomes missing (NaN). Models with native
    categorical support read the dtype: ``HistGradientBoosting*``
    (``categorical_features="from_dtype"``, at most 255 categories), LightGBM,
    XGBoost with ``enable_categorical``. Other models fail on these columns.

    Attributes:
        categories_: The sorted categories of each column.
    """

    def fit(self, X, y=None):
        df = self._remember_input(X)
        self.categories_ = []
        for col in df.columns:
            values = pd.unique(df[col].dropna())
            try:
                values = sorted(values)
            except TypeError:  # mixed types: keep first-seen order
                values = list(values)
            self.categories_.append(values)
        return self

    def transform(self, X):
        df = self._input(X)
        out = {}
        for name, col, cats in zip(self._names_in(), df.columns, self.categories_, strict=True):
            s = df[col].astype(object)
            out[name] = pd.Categorical(s.where(s.isin(cats)), categories=cats)  # unseen -> missing
        return pd.DataFrame(out, index=df.index)


class BooleanEncoder(OneToOneFeatureMixin, _FrameTransformer):
    """Two-valued columns to 0.0 / 1.0; missing and unseen values become NaN.

    True/False, 1/0 and the words true/false, yes/no, y/n, t/f, on/off map as
    they read; any other pair of values maps in sorted order (first -> 0).

    Attributes:
        mappings_: One ``{value: 0.0 or 1.0}`` dict per column.
    """

    def fit(self, X, y=None):
        df = self._remember_input(X)
        self.mappings_ = [_boolean_mapping(df[col], str(name)) for name, col in zip(self._names_in(), df.columns, strict=True)]
        return self

    def transform(self, X):
        df = self._input(X)
        out = np.empty(df.shape, dtype=float)
        for j, col in enumerate(df.columns):
            s = df[col]
            if s.dtype == bool:
                out[:, j] = s.to_numpy(dtype=float)
                continue
            keys = s.astype(object).map(_bool_key)
            out[:, j] = keys.map(self.mappings_[j]).astype(float).to_numpy()
        return out


def _bool_key(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, float, np.integer, np.floating)) and float(v) in (0.0, 1.0):
        return "true" if float(v) == 1.0 else "false"
    return str(v).strip().lower()


def _boolean_mapping(s: pd.Series, name: str) -> dict:
    keys = pd.unique(s.astype(object).map(_bool_key).dropna())
    keys = [k for k in keys if k is not None]
    if set(keys) <= _TRUE | _FALSE:
        return {k: (1.0 if k in _TRUE else 0.0) for k in _TRUE | _FALSE}
    if len(keys) > 2:
        shown = ", ".join(map(repr, sorted(keys)[:5]))
        raise DataError(
            f"column '{name}' is typed boolean but has {len(keys)} values in the training rows ({shown}{', ...' if len(keys) > 5 else ''})",
            hint=f"type it as categorical: data.types: {{{name}: categorical}}",
        )
    return {k: float(i) for i, k in enumerate(sorted(keys))}


# ------------------------------------------------------------------------ datetime

#: Spec names of the parts whose pandas attribute is spelled differently.
_DT_ATTRIBUTE = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "quarter", "is_weekend", "timestamp")


class DatetimeParts(_FrameTransformer):
    """Expand datetime columns into numeric parts named ``<column>_<part>``.

    Strings are parsed with ``pandas.to_datetime`` (unparseable values become
    missing); time-zone aware values are converted to UTC first. ``timestamp``
    is seconds since 1970-01-01; ``is_weekend`` is 1.0 on Saturday and Sunday.
    Nothing is learnt: ``fit`` only records the input columns.
    """

    def __init__(self, parts: Sequence[str] = ("year", "month", "day", "dayofweek")):
        self.parts = parts

    def fit(self, X, y=None):
        bad = [p for p in self.parts if p not in DATETIME_PARTS]
        if bad:
            raise ValueError(f"The 'parts' parameter of DatetimeParts must be a subset of {DATETIME_PARTS}. Got {bad!r} instead.")
        self._remember_input(X)
        return self

    def transform(self, X):
        df = self._input(X)
        blocks = []
        for col in df.columns:
            d = _to_datetime(df[col])
            for part in self.parts:
                if part == "is_weekend":
                    v = (d.dt.day_of_week >= 5).astype(float).where(d.notna())
                elif part == "timestamp":
                    v = (d - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
                else:
                    v = getattr(d.dt, _DT_ATTRIBUTE.get(part, part))
                blocks.append(np.asarray(v, dtype=float))
        if not blocks:
            return np.empty((len(df), 0))
        return np.column_stack(blocks)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "n_features_in_")
        names = self._names_in() if input_features is None else [str(c) for c in input_features]
        return np.asarray([f"{c}_{p}" for c in names for p in self.parts], dtype=object)


def _to_datetime(s: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
            s = pd.to_datetime(s, errors="coerce", utc=_has_tz_strings(s))
    if getattr(s.dtype, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s


def _has_tz_strings(s: pd.Series) -> bool:
    first = s.dropna().head(20).astype(str)
    return bool(first.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).any())


# ---------------------------------------------------------------------------- text


class TfidfColumns(_FrameTransformer):
    """TF-IDF terms of each text column: a thin wrapper over ``TfidfVectorizer``.

    One vectorizer per column (fitted on the training fold), missing text is
    empty text, and the output is dense with names ``<column>_<term>`` so that
    it joins the pandas output of the other columns.

    Attributes:
        vectorizers_: The fitted ``TfidfVectorizer`` of each column.
    """

    def __init__(self, max_features: int = 100):
        self.max_features = max_features

    def fit(self, X, y=None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        df = self._remember_input(X)
        self.vectorizers_ = []
        for name, col in zip(self._names_in(), df.columns, strict=True):
            vec = TfidfVectorizer(max_features=self.max_features)
            try:
                vec.fit(_text(df[col]))
            except ValueError as exc:  # "empty vocabulary"
                raise DataError(
                    f"text column '{name}' has no words in the training rows ({exc})",
                    hint=f"drop it: preprocess.columns: {{{name}: {{drop: true}}}}",
                ) from None
            self.vectorizers_.append(vec)
        return self

    def transform(self, X):
        df = self._input(X)
        blocks = [vec.transform(_text(df[col])).toarray() for vec, col in zip(self.vectorizers_, df.columns, strict=True)]
        return np.hstack(blocks) if blocks else np.empty((len(df), 0))

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "vectorizers_")
        names = self._names_in() if input_features is None else [str(c) for c in input_features]
        return np.asarray(
            [f"{c}_{t}" for c, vec in zip(names, self.vectorizers_, strict=True) for t in vec.get_feature_names_out()], dtype=object
        )


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


# ------------------------------------------------------------------- feature names

#: Characters LightGBM (JSON) or XGBoost refuse in feature names, and whitespace,
#: which LightGBM silently turns into "_" (so "x 1" and "x_1" collide).
_UNSAFE_NAME = re.compile(r'[\s\[\]{}<>",:]')


def safe_feature_names(names: Sequence[str]) -> list[str]:
    """``names`` with the characters some libraries refuse replaced by ``_``, made unique.

    ``"age_[10-20)"`` becomes ``"age__10-20)"``; when two names become one,
    the later ones get ``__2``, ``__3``, ...
    """
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = _UNSAFE_NAME.sub("_", str(name)) or "_"
        safe, i = base, 1
        while safe in seen:
            i += 1
            safe = f"{base}__{i}"
        seen.add(safe)
        out.append(safe)
    return out


class ModelFeatureNames(_FrameTransformer):
    """Rename the features to names every model library accepts (the step before the model).

    LightGBM refuses ``[]{}",:`` in feature names and merges whitespace into
    ``_``; XGBoost refuses ``[``, ``]`` and ``<``. One-hot encoding makes such
    names from ordinary data (``age_[10-20)``, ``city_New York``). The values
    and dtypes pass through untouched; only the names change, as
    :func:`safe_feature_names` makes them. Nothing is learnt.

    Attributes:
        names_out_: The new name of each input column.
    """

    def fit(self, X, y=None):
        df = self._remember_input(X)
        self.names_out_ = np.asarray(safe_feature_names([str(c) for c in df.columns]), dtype=object)
        return self

    def transform(self, X):
        df = self._input(X)
        return df.set_axis(list(self.names_out_), axis=1)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "names_out_")
        return self.names_out_.copy()


# ------------------------------------------------------------------ thin subclasses


class FoldQuantileTransformer(QuantileTransformer):
    """``QuantileTransformer`` whose ``n_quantiles`` is capped by the fold size.

    scikit-learn already caps it, with a warning on every small fold; the cap
    is expected here, so the warning is silenced (nothing else changes).
    """

    def fit(self, X, y=None):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"n_quantiles \(\d+\) is greater than the total number of samples")
            return super().fit(X, y)


class BoundedOneHotEncoder(OneHotEncoder):
    """``OneHotEncoder`` that refuses an output too large to hold densely.

    The pipeline's output is a dense pandas frame, so a column with tens of
    thousands of categories (and ``max_categories: null``) would exhaust
    memory; ``fit`` raises a :class:`~automl_yaml.errors.DataError` naming the
    column instead.
    """

    def fit(self, X, y=None):
        super().fit(X, y)
        infrequent = getattr(self, "infrequent_categories_", None) or [None] * len(self.categories_)
        # Infrequent categories share one output column.
        widths = [
            len(c) - (len(inf) - 1 if inf is not None and len(inf) else 0) for c, inf in zip(self.categories_, infrequent, strict=True)
        ]
        n_rows = X.shape[0]
        if widths and n_rows * sum(widths) > MAX_ONEHOT_CELLS:
            names = getattr(self, "feature_names_in_", None)
            j = int(np.argmax(widths))
            name = str(names[j]) if names is not None else f"x{j}"
            raise DataError(
                f"preprocess: one-hot encoding column '{name}' makes {widths[j]} columns "
                f"({sum(widths)} in all for {n_rows} rows): too large to hold in memory",
                hint="set preprocess.categorical.max_categories, or encode it with target or frequency",
            )
        return self


class KeepEmptyKNNImputer(KNNImputer):
    """``KNNImputer`` whose output names match its output when a column has no value.

    With ``keep_empty_features=True``, scikit-learn 1.9's ``transform`` keeps a
    column without any observed value in the training fold (as zeros) but
    ``get_feature_names_out`` leaves it out: with pandas output the trial
    failed with "Length mismatch: Expected axis has 6 elements, new values have
    5 elements" (a mostly missing column, one fold without a value in it).
    """

    def get_feature_names_out(self, input_features=None):
        names = super().get_feature_names_out(input_features)
        if not self.keep_empty_features:
            return names
        every = np.asarray(_check_feature_names_in(self, input_features), dtype=object)
        indicators = names[int(np.sum(self._valid_mask)) :] if self.add_indicator else names[:0]
        return np.concatenate([every, indicators])
