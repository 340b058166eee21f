"""`mlx run` and predictions on messy real-world tables, one difficulty each.

Every test is a user's table that once broke a run or gave silent nonsense;
the run must succeed with sensible results (and predict new rows), or fail
with a one-line message that says what to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def test_lightgbm_takes_any_column_names_and_category_values(messy_run):
    # One-hot names such as "age_[10-20)" and "city_Paris, FR", and "x 1" next
    # to "x_1", are refused or merged by LightGBM: every trial failed.
    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(3)
    frame = base_frame(200, 3).rename(columns={"x1": "x 1", "x2": "x_1"})
    frame["age"] = rng.choice(["[0-10)", "[10-20)", ">=20"], len(frame))
    frame["city"] = rng.choice(["Paris, FR", "{x}", 'a "b"'], len(frame))
    frame["y"] = np.where((frame["age"] == "[10-20)") | (frame["x 1"] > 1), "yes", "no")
    run = messy_run(frame, "y", spec={"models": {"lightgbm": {"params": {"n_estimators": 20}}}}, trials=2)
    assert run.code == 0, run.err
    summary = run.summary
    assert summary["trials"]["failed"] == 0 and summary["best"]["model"] == "lightgbm"
    assert "age_[10-20)" in summary["selected_features"] and "x 1" in summary["selected_features"]
    pred = run.predict(frame.drop(columns="y").head(20))
    assert set(pred["prediction"]) <= {"yes", "no"}


def test_amounts_written_with_thousands_separators(messy_run):
    # A price exported as "10,344.74" was read as 160 classes, and the run
    # failed on the cross-validation folds.
    frame = base_frame()
    frame["income"] = [f"{v:,.0f}" for v in 40_000 + 9_000 * frame["x2"]]
    frame["price"] = [f"{v:,.2f}" for v in 20_000 + 5_000 * frame["x1"] + 100 * frame["x2"]]
    run = messy_run(frame, "price")
    assert run.code == 0, run.err
    summary = run.summary
    assert summary["task"] == "regression" and summary["data"]["column_types"]["income"] == "numeric"
    assert summary["holdout"]["r2"] > 0.8
    pred = run.predict(frame.drop(columns="price").head(10))["prediction"]
    assert pred.between(5_000, 40_000).all()


def test_day_first_dates_are_read_the_same_way_at_predict_time(messy_run):
    # Training parsed 13/01/2021 day first; new rows such as 01/07/2021 were
    # guessed again from their first value, month first: January, not July.
    days = pd.date_range("2020-01-01", periods=400, freq="D")
    frame = pd.DataFrame({"day": days.strftime("%d/%m/%Y"), "y": np.where(days.month.isin([6, 7, 8]), "summer", "other")})
    run = messy_run(frame, "y", spec={"models": {"random_forest": {"params": {"n_estimators": 30}}}}, trials=1)
    assert run.code == 0, run.err
    assert run.summary["data"]["column_types"] == {"day": "datetime"}
    new = pd.DataFrame({"day": ["01/07/2021", "02/07/2021", "07/01/2021", "08/02/2021"]})  # July, July, January, February
    assert run.predict(new)["prediction"].tolist() == ["summer", "summer", "other", "other"]


def test_notes_quoting_the_data_are_not_markup(messy_run):
    # A column named "[/b]" in a note ("... has 1 infinite value") made rich
    # raise a MarkupError; "[10-20)" values vanished from the notes.
    frame = base_frame().rename(columns={"x2": "[/b]"})
    frame.loc[4, "[/b]"] = np.inf
    frame["y [bold]"] = np.where(frame["x1"] > 0, "[yes]", "no")
    run = messy_run(frame, "y [bold]", trials=1, quiet=False)
    assert run.code == 0, run.err
    shown = " ".join(run.err.split())
    assert "column '[/b]' has 1 infinite" in shown
    assert "the target 'y [bold]' has 2 distinct string values" in shown


def test_semicolon_csv_with_decimal_commas(messy_run, tmp_path, capsys):
    # Without sep: the ';' is found from the header and the decimal commas are
    # read as numbers; predicting the file so written gives the same numbers.
    from automl_yaml.cli import main

    frame = base_frame()
    frame["y"] = frame["x1"] * 1000 + 5
    frame.to_csv(tmp_path / "eu.csv", sep=";", decimal=",", index=False)
    run = messy_run(frame, "y", spec={"sources": {"d": "eu.csv"}}, quiet=False)
    assert run.code == 0, run.err
    assert "(csv, sep ';')" in " ".join(run.err.split())
    assert run.summary["data"]["column_types"]["x1"] == "numeric" and run.summary["holdout"]["r2"] > 0.8
    out, via_spec = tmp_path / "pred.csv", tmp_path / "pred_spec.csv"
    assert main(["predict", "-m", str(run.output), "-i", str(tmp_path / "eu.csv"), "-o", str(out)]) == 0
    assert main(["predict", "-m", str(run.output), "-i", f"{tmp_path / 'spec.yaml'}:d", "-o", str(via_spec)]) == 0
    got = pd.read_csv(out)["prediction"]
    pd.testing.assert_series_equal(got, pd.read_csv(via_spec)["prediction"])
    assert np.corrcoef(got, frame["y"])[0, 1] > 0.9


def test_a_table_of_free_text_only_stops_before_the_search(messy_run):
    """Text is left out by default: with nothing else, every trial would fail alike ("every trial failed", exit 1)."""
    words = ["red apple pie", "green tea leaves", "blue sky today", "big old house", "small quick fox"]
    frame = pd.DataFrame({"review": [f"{words[i % 5]} number {i}" for i in range(90)], "y": [i % 5 == 0 for i in range(90)]})
    run = messy_run(frame, "y")
    assert run.code == 2, run.err
    assert "every one is free text (review)" in run.err and "preprocess.text.encode: tfidf" in run.err
    assert not (run.output / "leaderboard.csv").exists()  # no search ran
    # with the text encoded the same table runs, and learns the words
    run = messy_run(frame, "y", spec={"preprocess": {"text": {"encode": "tfidf"}}})
    assert run.code == 0, run.err
    assert run.summary["trials"]["failed"] == 0


def test_a_rare_class_lowers_the_default_folds_for_the_whole_run(tmp_path, capsys):
    """The search, its folds and plan.json agree on the lowered folds (a spec that sets them fails instead)."""
    import json

    import yaml

    from automl_yaml.cli import main

    rng = np.random.default_rng(0)
    y = np.array(["a"] * 30 + ["b"] * 25 + ["c"] * 5)
    frame = pd.DataFrame({"x": np.where(y == "a", 0, np.where(y == "b", 3, 6)) + rng.normal(size=60), "y": y})
    frame.to_csv(tmp_path / "rare.csv", index=False)
    spec = {"name": "rare", "sources": {"d": "rare.csv"}, "data": {"target": "y"}, "models": ["logistic_regression"],
            "search": {"strategy": "random", "budget": {"trials": 2}}, "tracking": False, "execution": {"n_jobs": 1}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert main(["run", str(tmp_path / "spec.yaml")]) == 0
    err = capsys.readouterr().err
    assert "class 'c' has 4 training rows: 4-fold cross-validation instead of the default 5" in err and "4-fold CV" in err
    out = tmp_path / "runs" / "rare"
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["best"]["cv"]["accuracy"]["folds"]) == 4
    assert json.loads((out / "plan.json").read_text())["folds"] == 4
    assert main(["run", str(tmp_path / "spec.yaml"), "--set", "search.cv.folds=5", "--quiet"]) == 1
    assert "class 'c' has 4 rows in the training set; 5-fold" in capsys.readouterr().err


def test_a_tiny_regression_table_runs_with_fewer_default_folds(tmp_path, capsys):
    """statsmodels' china_smoking (8 rows): every trial failed on 1-row folds (r2 not a number); now 3-fold CV, and '1 feature'."""
    import json

    import yaml

    from automl_yaml.cli import main

    rng = np.random.default_rng(0)
    x = rng.normal(size=8)
    pd.DataFrame({"x": x, "y": 100 * x + rng.normal(size=8)}).to_csv(tmp_path / "tiny.csv", index=False)
    spec = {"name": "tiny", "sources": {"d": "tiny.csv"}, "data": {"target": "y"}, "models": ["ridge"],
            "search": {"strategy": "random", "budget": {"trials": 2}}, "tracking": False, "execution": {"n_jobs": 1}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert main(["run", str(tmp_path / "spec.yaml")]) == 0
    err = capsys.readouterr().err
    assert "train 6 rows / test 2 rows, 1 feature\n" in err.replace("·", "").replace("\r", "")
    assert "the training set has 6 rows: 3-fold cross-validation instead of the default 5" in err and "3-fold CV" in err
    summary = json.loads((tmp_path / "runs" / "tiny" / "summary.json").read_text())
    assert len(summary["best"]["cv"]["r2"]["folds"]) == 3


def test_a_one_row_test_set_says_why_its_r2_is_missing(tmp_path, capsys):
    """5 rows: one test row, whose r2 scikit-learn leaves undefined (a warning only): said, and shown as n/a, not nan."""
    import json

    import yaml

    from automl_yaml.cli import main

    pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "y": [1.1, 2.3, 2.9, 4.2, 5.1]}).to_csv(tmp_path / "five.csv", index=False)
    spec = {"name": "five", "sources": {"d": "five.csv"}, "data": {"target": "y"}, "models": ["ridge"],
            "search": {"strategy": "random", "budget": {"trials": 2}}, "tracking": False, "profile": False, "execution": {"n_jobs": 1}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert main(["run", str(tmp_path / "spec.yaml")]) == 0
    text = capsys.readouterr()
    err = (text.out + text.err).replace("·", "").replace("\r", "")
    assert "train 4 rows / test 1 row, 1 feature\n" in err and "the test set has 1 row:" in err
    assert "holdout r2 is not defined on a test set of 1 row" in err and "held-out test: r2 n/a" in err and " nan" not in err
    assert json.loads((tmp_path / "runs" / "five" / "summary.json").read_text())["holdout"]["r2"] is None
    assert main(["run", str(tmp_path / "spec.yaml"), "--quiet"]) == 0
    assert "test r2 n/a" in capsys.readouterr().out
