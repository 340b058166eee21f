"""Durations and times of day written as text (a CSV export) or stored as times (Parquet time64, SQL TIME).

``"01:17:32"``, ``"0 days 00:11:25"`` (a pandas timedelta saved to CSV) or
``"08:30"`` were categories, one level per value (or free text, dropped): the
model could not learn from them. They are seconds, in training and at predict
time, as Parquet durations already were.
"""

from __future__ import annotations

import datetime
import json

import numpy as np
import pandas as pd

from automl_yaml.data import split
from automl_yaml.data.assemble import parse_durations
from automl_yaml.model import TrainedModel
from automl_yaml.spec import load_spec

N = 80


def spec_for(data: dict):
    return load_spec({"seed": 0, "sources": {"main": "main.csv"}, "data": {"from": "main", **data}, "search": {"cv": {"folds": 3}}})


def seconds_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    secs = rng.integers(0, 20_000, N)
    td = pd.to_timedelta(secs, unit="s")
    return pd.DataFrame(
        {
            "pandas_td": td.astype(str),  # "0 days 01:17:32"
            "hms": td.astype(str).str.replace("0 days ", ""),  # "01:17:32"
            "opens": [f"{h:02d}:{m:02d}" for h, m in zip(rng.integers(0, 24, N), rng.integers(0, 60, N))],  # "08:30"
            "clock": [datetime.time(int(s // 3600) % 24, int(s % 3600) // 60, int(s % 60)) for s in secs],
            "y": secs / 100.0,
        }
    )


def test_durations_and_times_of_day_as_text_or_times_are_seconds():
    def parse(values):
        out = parse_durations(pd.Series(values, dtype=object))
        return None if out is None else out.tolist()

    got = parse(["01:17:32", None, "0 days 01:17:32", "1 day, 2:03:04", "-1 days +23:00:00", "1 days 00:00:00.500000", "123:00:00"])
    assert got[0] == 4652.0 and np.isnan(got[1]) and got[2:] == [4652.0, 93784.0, -3600.0, 86400.5, 442800.0]
    assert parse(["08:30", "23:59"]) == [30600.0, 86340.0]  # h:mm is hours and minutes
    assert parse([datetime.time(8, 30), datetime.time(0, 0, 1, 500_000)]) == [30600.0, 1.5]
    assert parse(pd.Series(["12:30:00"], dtype="string[pyarrow]")) == [45000.0]
    assert parse(["01:17:32", "soon"]) is None  # one value that is not a duration: not durations
    assert parse(["3:61"]) is None and parse(["12:30 pm"]) is None
    assert parse_durations(pd.Series([1.0, 2.0])) is None and parse_durations(pd.Series(["a", "b"], dtype="category")) is None


def test_duration_columns_are_numeric_features_in_seconds_with_a_note():
    frame = seconds_table()
    ds = split(spec_for({"target": "y"}), frame)
    for col in ("pandas_td", "hms", "opens", "clock"):
        assert ds.column_types[col] == "numeric", col
        assert ds.X_train[col].dtype == "float64", col
    rows = ds.X_train.index
    assert np.allclose(ds.X_train["hms"], frame.loc[rows, "y"] * 100)
    assert ds.X_train["pandas_td"].tolist() == ds.X_train["hms"].tolist()
    notes = "\n".join(ds.notes)
    assert "column 'hms' holds durations or times of day (e.g. '" in notes and "they are used as seconds" in notes
    assert "column 'opens' holds durations or times of day" in notes and "read as hours:minutes" in notes
    assert "column 'clock' holds durations or times of day" in notes


def test_a_duration_column_typed_categorical_stays_categories():
    ds = split(spec_for({"target": "y", "types": {"opens": "categorical"}}), seconds_table())
    assert ds.column_types["opens"] == "categorical" and ds.X_train["opens"].tolist() == seconds_table().loc[ds.X_train.index, "opens"].tolist()
    assert not any("'opens' holds durations" in n for n in ds.notes)


def test_a_target_of_race_times_is_a_regression_in_seconds():
    rng = np.random.default_rng(1)
    x = rng.normal(size=N)
    secs = (3 * 3600 + 600 * x + rng.normal(size=N)).round()
    frame = pd.DataFrame({"x": x, "finish": pd.to_timedelta(secs, unit="s").astype(str).str.replace("0 days ", "")})
    ds = split(spec_for({"target": "finish"}), frame)
    assert ds.task == "regression" and ds.classes is None
    assert ds.y_train.tolist() == secs[ds.y_train.index].tolist()
    assert any("the target 'finish' holds durations or times of day" in n for n in ds.notes)


def test_predict_reads_durations_sent_as_text():
    frame = seconds_table()
    ds = split(spec_for({"target": "y"}), frame)
    model = TrainedModel(task="regression", date_formats=ds.date_formats).fitted(ds.X_train)
    new = pd.DataFrame({"pandas_td": ["0 days 00:11:25"], "hms": ["00:11:25"], "opens": ["08:30"], "clock": ["08:30:00"]})
    X = model.check_input(new)
    assert X.iloc[0].tolist() == [685.0, 685.0, 30600.0, 30600.0]
    assert all(X[c].dtype == "float64" for c in X.columns)


def test_a_run_learns_from_durations_in_a_csv_and_predicts_them(messy_run):
    frame = seconds_table()[["hms", "opens", "y"]]
    run = messy_run(frame, "y", spec={"models": {"random_forest": {"params": {"n_estimators": 20}}}})
    assert run.code == 0, run.err
    summary = json.loads((run.output / "summary.json").read_text())
    # as categories the 80 distinct durations were 20 one-hot columns and the holdout r2 was below 0.1
    assert summary["holdout"]["r2"] > 0.9, summary["holdout"]
    out = run.predict(frame.drop(columns="y").head(5))
    assert np.allclose(out["prediction"], frame["y"].head(5), rtol=0.2)
