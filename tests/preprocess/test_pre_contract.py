"""The estimator contract, checked the same way for every transformer and selector of our own.

``__init__`` only stores its arguments; ``clone()`` copies them; fitting sets
learnt state; the fitted object pickles; ``get_feature_names_out`` names
exactly the columns ``transform`` returns; pandas output works.
"""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from automl_yaml.preprocess import columnwise as C
from automl_yaml.preprocess import rows as R
from automl_yaml.preprocess import selectors as S


def _frame(n: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.exponential(size=n)})
    X["d"] = X["a"] * 2 + rng.normal(0, 0.01, n)
    X.loc[::9, "c"] = np.nan
    y = (X["a"] + rng.normal(0, 0.5, n) > 0).astype(int).to_numpy()
    return X, y


def _cats(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {"u": pd.array(rng.choice(["x", "y", "z"], n), dtype="str"), "v": rng.choice(np.array(["p", "q", None], dtype=object), n)}
    )


CASES = [
    (C.OutlierClipper(method="zscore", factor=2.0), "num"),
    (C.FrequencyEncoder(), "cat"),
    (C.CategoryDtype(), "cat"),
    (C.MissingAsNaN(), "cat"),
    (C.BooleanEncoder(), "bool"),
    (C.DatetimeParts(parts=("year", "month", "is_weekend")), "date"),
    (C.TfidfColumns(max_features=3), "text"),
    (C.FoldQuantileTransformer(n_quantiles=500), "num_full"),
    (C.BoundedOneHotEncoder(sparse_output=False), "cat"),
    (C.ModelFeatureNames(), "num"),
    (S.CorrelationFilter(threshold=0.9), "num_full"),
    (S.VarianceFilter(threshold=0.1), "num_full"),
    (S.UnivariateSelector(k=2), "num_full"),
    (S.ImportanceSelector(estimator=LogisticRegression(), max_features=2), "num_full"),
    (S.RfeSelector(estimator=LogisticRegression(), n_features=2), "num_full"),
    (S.SequentialSelector(estimator=LogisticRegression(), k_features=2, cv=0), "num_full"),
]


def _data(kind: str):
    X, y = _frame()
    n = len(X)
    if kind == "num":
        return X, y
    if kind == "num_full":
        return X.fillna(0.0), y
    if kind == "cat":
        return _cats(n), y
    if kind == "bool":
        return pd.DataFrame({"flag": np.where(y == 1, "yes", "no").astype(object)}), y
    if kind == "date":
        return pd.DataFrame({"when": pd.date_range("2024-01-01", periods=n, freq="13h")}), y
    return pd.DataFrame({"txt": np.where(y == 1, "good fast service", "slow bad service").astype(object)}), y


@pytest.mark.parametrize("est, kind", CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_estimator_contract(est, kind):
    X, y = _data(kind)
    params = est.get_params(deep=False)
    # __init__ stores its arguments and nothing else
    init_owner = next(k for k in type(est).__mro__ if "__init__" in vars(k))
    if init_owner.__module__.startswith("automl_yaml"):
        assert set(inspect.signature(type(est).__init__).parameters) - {"self"} == set(params)
    assert not [k for k in vars(est) if k.endswith("_")]
    twin = clone(est)
    assert type(twin) is type(est) and twin.get_params(deep=False).keys() == params.keys()
    # fit, transform, name the output
    fitted = clone(est).set_output(transform="pandas").fit(X, y)
    out = fitted.transform(X)
    assert isinstance(out, pd.DataFrame) and len(out) == len(X)
    assert list(out.columns) == list(fitted.get_feature_names_out())
    # the fitted object pickles and transforms the same way
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.transform(X), out)


@pytest.mark.parametrize(
    "flt",
    [
        R.MissingRows(columns=("c",)),
        R.OutlierRows(columns=("a", "c"), method="iqr"),
        R.OutlierRows(columns=("a",), method="isolation_forest", random_state=0),
    ],
    ids=["missing", "iqr", "isolation_forest"],
)
def test_row_filter_contract(flt):
    X, y = _frame()
    assert not [k for k in vars(flt) if k.endswith("_")]
    fitted = clone(flt).fit(X, y)
    keep = fitted.keep(X)
    assert keep.dtype == bool and keep.shape == (len(X),) and 0 < keep.sum() < len(X)
    assert np.array_equal(pickle.loads(pickle.dumps(fitted)).keep(X), keep)


def test_safe_feature_names_are_accepted_and_unique():
    names = C.safe_feature_names(["x 1", "x_1", "age_[10-20)", "city_Paris, FR", 'q"{t}', "a<b", "Ω", ""])
    assert names == ["x_1", "x_1__2", "age__10-20)", "city_Paris__FR", "q__t_", "a_b", "Ω", "_"]
    assert len(set(names)) == len(names)
