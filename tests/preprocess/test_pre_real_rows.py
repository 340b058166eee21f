"""Dropping training rows (impute: drop, outliers: {action: drop}) must keep every class.

A column missing on most rows and ``impute: drop`` left the first rows of a
sorted file, all of one species: the trials "succeeded" with one class (the
best model scored the majority share), and ``mlx predict --proba`` then
failed with "internal error: IndexError: index 1 is out of bounds".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from automl_yaml.errors import EXIT_RUNTIME, DataError
from automl_yaml.model import TrainedModel
from automl_yaml.preprocess.rows import DropTrainingRows, MissingRows, OutlierRows

N = 90


def table() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], N // 3)  # sorted by class, as files often are
    X = pd.DataFrame({"a": rng.normal(size=N) + y, "rare": np.where(np.arange(N) < 12, 1.0, np.nan)})
    return X, y


def test_dropping_every_row_of_a_class_is_an_error_naming_the_column():
    X, y = table()
    model = DropTrainingRows(Pipeline([("m", DummyClassifier())]), [("impute_drop", MissingRows(["a", "rare"]))])
    with pytest.raises(DataError) as info:
        model.fit(X, y)
    assert info.value.message == (
        "preprocess: impute: drop leaves 12 of 90 training rows ('rare' is missing on 87% of them), "
        "with no row of 2 of the 3 classes: the model could not predict them"
    )
    assert "data.drop" in info.value.hint


def test_two_filters_are_named_and_regression_or_kept_classes_are_fine():
    X, y = table()
    both = [("impute_drop", MissingRows(["rare"])), ("outliers", OutlierRows(["a"], method="iqr", factor=0.01))]
    with pytest.raises(DataError, match=r"^preprocess: impute: drop and outliers: iqr, action: drop leave \d+ of 90 training rows"):
        DropTrainingRows(Pipeline([("m", DummyClassifier())]), both).fit(X, y)
    # a regression has no classes to lose
    assert DropTrainingRows(Pipeline([("m", DummyRegressor())]), both[:1]).fit(X, y.astype(float)).estimator_ is not None
    # rows dropped from every class: fitted
    X2 = X.assign(rare=np.where(np.arange(N) % 3 == 0, np.nan, 1.0))
    fitted = DropTrainingRows(Pipeline([("m", DummyClassifier())]), [("impute_drop", MissingRows(["rare"]))]).fit(X2, y)
    assert fitted.n_rows_dropped_ == {"impute_drop": 30} and list(fitted.classes_) == [0, 1, 2]


def test_probabilities_of_a_model_missing_a_class_stay_aligned():
    # a model saved before the check: fitted on classes 0 and 2 of three
    X, y = table()
    keep = y != 1
    pipe = Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]).fit(X[["a"]][keep], y[keep])
    model = TrainedModel(pipeline=pipe, task="classification", classes=["Adelie", "Chinstrap", "Gentoo"]).fitted(X[["a"]])
    out = model.predict_frame(X[["a"]].iloc[[0, 89]], proba=True)
    assert list(out.columns) == ["prediction", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    assert out["proba_Chinstrap"].tolist() == [0.0, 0.0]
    assert out["prediction"].tolist() == ["Adelie", "Gentoo"]
    assert out["proba_Adelie"].iloc[0] > 0.5 and out["proba_Gentoo"].iloc[1] > 0.5
    assert np.allclose(out.filter(like="proba_").sum(axis=1), 1.0)


def test_a_run_that_drops_a_class_fails_saying_why(messy_run):
    X, y = table()
    frame = X.assign(y=np.array(["Adelie", "Chinstrap", "Gentoo"])[y])
    run = messy_run(frame, "y", spec={"preprocess": {"numeric": {"impute": "drop"}}, "search": {"cv": {"folds": 2}}})
    assert run.code == EXIT_RUNTIME, run.err
    assert "every trial failed" in run.err and "'rare' is missing on" in run.err and "with no row of 2 of the 3 classes" in run.err
    assert "Traceback" not in run.err and not (run.output / "model").exists()
