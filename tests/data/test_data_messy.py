"""Typing messy values: infinity, numbers written as text, dates in local formats."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl_yaml.data import split
from automl_yaml.spec import load_spec


def spec_for(data: dict, folds: int = 3):
    return load_spec({"seed": 0, "sources": {"main": "main.csv"}, "data": {"from": "main", **data}, "search": {"cv": {"folds": folds}}})


def test_infinite_values_are_missing_and_said():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "y": rng.normal(size=60)})
    frame.loc[[1, 2], "x"] = [np.inf, 1e300]
    frame.loc[4, "y"] = -np.inf
    ds = split(spec_for({"target": "y"}), frame)
    assert len(ds.X_train) + len(ds.X_test) == 59
    assert not np.isinf(ds.X_train["x"]).any() and ds.frame["x"].isna().sum() == 2
    assert any("'x' has 2 infinite or too large values" in n for n in ds.notes)
    assert any("1 rows with an infinite or too large target 'y'" in n for n in ds.notes)
