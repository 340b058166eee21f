"""`mlx run` and predictions on messy real-world tables, one difficulty each.

Every test is a user's table that once broke a run or gave silent nonsense;
the run must succeed with sensible results (and predict new rows), or fail
with a one-line message that says what to do.
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.messy import base_frame, nullable_frame

pytestmark = pytest.mark.slow


def test_parquet_nullable_dtypes_with_missing_values(messy_run):
    # string[pyarrow] / string columns hold pd.NA, which imputers cannot compare.
    frame = nullable_frame()
    run = messy_run(frame, "y", fmt="parquet")
    assert run.code == 0, run.err
    assert run.summary["trials"]["failed"] == 0
    assert run.summary["data"]["column_types"]["plan"] == "categorical"
    pred = run.predict(frame.drop(columns="y").head(20))
    assert pred["prediction"].notna().all() and set(pred["prediction"]) <= {0, 1}


def test_infinite_and_too_large_values_are_missing(messy_run):
    frame = base_frame()
    frame.loc[[3, 9], "x2"] = [np.inf, -np.inf]
    frame["sentinel"] = np.where(np.arange(len(frame)) % 7 == 0, np.finfo(np.float64).max, frame["x1"])
    frame["y"] = frame["x1"] * 3 + 1
    frame.loc[5, "y"] = np.inf
    run = messy_run(frame, "y")
    assert run.code == 0, run.err
    summary = run.summary
    assert summary["task"] == "regression" and summary["trials"]["failed"] == 0
    assert summary["holdout"]["r2"] > 0.5
    new = frame.drop(columns="y").head(10)
    pred = run.predict(new)["prediction"]
    assert pred.notna().all() and np.isfinite(pred).all()
