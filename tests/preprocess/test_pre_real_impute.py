"""impute: knn on a column with no value in a training fold (a mostly missing column).

scikit-learn 1.9's KNNImputer keeps such a column (keep_empty_features) but
leaves it out of its output names: every such trial failed with "ValueError:
Length mismatch: Expected axis has 6 elements, new values have 5 elements".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_validate

from automl_yaml.preprocess import build_pipeline
from automl_yaml.preprocess.columnwise import KeepEmptyKNNImputer
from automl_yaml.spec import load_spec


@pytest.mark.parametrize("indicator", [False, True])
def test_an_empty_column_keeps_its_name(indicator):
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "empty": [np.nan] * 4, "c": [1.0, np.nan, 3.0, 4.0]})
    out = KeepEmptyKNNImputer(keep_empty_features=True, add_indicator=indicator).set_output(transform="pandas").fit_transform(X)
    names = ["a", "empty", "c"] + (["missingindicator_a", "missingindicator_empty", "missingindicator_c"] if indicator else [])
    assert list(out.columns) == names
    assert out["empty"].tolist() == [0.0] * 4 and out["a"].notna().all()
    # without keep_empty_features it is scikit-learn's: the column is dropped, names and values agree
    out = KeepEmptyKNNImputer().set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == ["a", "c"]


@pytest.mark.parametrize("indicator", [False, True])
def test_cross_validation_with_a_mostly_missing_column(indicator):
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({"x": rng.normal(size=n), "rare": np.where(np.arange(n) < 8, 1.0, np.nan)})  # only in the first rows
    y = X["x"] * 2 + rng.normal(size=n) * 0.1
    spec = load_spec(
        {"sources": {"d": "d.csv"}, "data": {"target": "y"}, "preprocess": {"numeric": {"impute": "knn", "missing_indicator": indicator}}}
    ).spec
    pipe = build_pipeline(spec, {"x": "numeric", "rare": "numeric"}, "regression", {}, Ridge(), seed=0)
    scores = cross_validate(pipe, X, y, cv=KFold(5), error_score="raise")  # fold 1 trains without a 'rare' value
    assert (scores["test_score"] > 0.9).all()
