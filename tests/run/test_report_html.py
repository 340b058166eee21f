"""The run report (report.html) says what the run found, once and plainly."""

from __future__ import annotations

import pandas as pd
import pytest

from automl_yaml.report.run import write_html


def summary(model: str, estimator: str) -> dict:
    return {
        "name": "job",
        "spec_hash": "abc",
        "task": "classification",
        "task_reason": "the target has 2 classes",
        "strategy": "random",
        "trials": {"ok": 3, "failed": 1},
        "stopped": "budget: trials",
        "data": {"rows_train": 80, "rows_test": 20, "features": 4},
        "best": {"trial": 2, "model": model, "estimator": estimator, "params": {"C": 1.0}, "options": {}, "cv": {"accuracy": {"mean": 0.9, "std": 0.01}}},
        "holdout": {"accuracy": 0.85},
        "versions": {"automl-yaml": "0"},
        "selected_features": [],
    }


@pytest.mark.parametrize(
    ("model", "estimator", "shown"),
    [
        ("logistic_regression", "logistic_regression", "<td>logistic_regression</td>"),  # was "logistic_regression (logistic_regression)"
        ("linear", "logistic_regression", "<td>linear (logistic_regression)</td>"),  # a model key of the user's own: both names
    ],
)
def test_the_best_model_is_named_once_when_its_key_is_the_estimator(tmp_path, model, estimator, shown):
    board = pd.DataFrame({"rank": [1], "trial": [2], "model": [model], "accuracy_mean": [0.9]})
    html = write_html(tmp_path / "report.html", summary(model, estimator), board, {}).read_text()
    assert shown in html
    assert "logistic_regression (logistic_regression)" not in html


def test_the_features_section_says_what_the_model_sees_not_a_selection(tmp_path):
    s = summary("logistic_regression", "logistic_regression")
    s["selected_features"] = ["island_Biscoe", "island_Dream", "bill_length_mm"]
    board = pd.DataFrame({"rank": [1], "trial": [2], "model": ["logistic_regression"]})
    html = write_html(tmp_path / "report.html", s, board, {}).read_text()
    assert "Features the model sees (3, after encoding and selection)" in html
    assert "Selected features" not in html  # the run had no selection step: nothing was selected
    assert "island_Biscoe, island_Dream, bill_length_mm" in html
