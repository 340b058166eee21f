"""The search's validation: 5-fold CV or a holdout, by FLAML's rule on rows × features and the budget; search.cv wins."""

from __future__ import annotations

import numpy as np
import pytest

from automl_yaml.search.cv import HoldoutSplit, Validation, choose_validation, holdout_share, make_cv
from automl_yaml.spec import load_spec
from automl_yaml.spec.models import CVSpec


def _search(search: dict):
    return load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}, "search": search}).spec.search


# ------------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    "budget, rows, cols, method",
    [
        # the cases: 15k / 54k / 327k rows with 30 s ran 6, 4 and 2 trials of 5-fold CV
        ({"time": "30s"}, 15_000, 10, "holdout"),
        ({"time": "30s"}, 54_000, 10, "holdout"),
        ({"time": "30s"}, 327_000, 10, "holdout"),
        ({"time": "30s"}, 275, 7, "cv"),  # the penguins: 1,925 values
        # 30 s allows 75,000 values (FLAML: rows x cols / 0.9 < 1e7 x 30 / 3600)
        ({"time": "30s"}, 7_499, 10, "cv"),
        ({"time": "30s"}, 7_501, 10, "holdout"),
        ({"time": "1h"}, 15_000, 10, "cv"),  # 9 million for an hour
        ({"time": "1h"}, 99_999, 10, "cv"),
        ({"time": "1h"}, 100_000, 10, "holdout"),  # FLAML's CV_HOLDOUT_THRESHOLD
        ({"trials": 50}, 54_000, 40, "cv"),  # no time budget: FLAML cross-validates
        ({"trials": 50}, 327_000, 10, "holdout"),  # but not 100,000 rows or more
        ({}, 99_999, 1000, "cv"),
    ],
)
def test_the_rule_on_data_sizes_and_budgets(budget, rows, cols, method):
    v = choose_validation(_search({"budget": budget}), rows, cols)
    assert v.method == method and v.chosen_by == "rule"
    assert (v.folds, v.share is None) == ((5, True) if method == "cv" else (1, False))
    assert v == choose_validation(_search({"budget": budget}), rows, cols)  # deterministic


def test_the_reason_names_the_numbers():
    v = choose_validation(_search({"budget": {"time": "30s"}}), 15_000, 10)
    assert "15,000 training rows × 10 features = 150,000 values" in v.reason and "75,000 for 30s" in v.reason and "FLAML" in v.reason
    assert v.describe() == "holdout (20% of the training rows)"
    big = choose_validation(_search({"budget": {"trials": 5}}), 327_000, 10)
    assert "327,000 training rows, 100,000 or more" in big.reason and big.describe() == "holdout (2% of the training rows)"
    assert "no time budget" in choose_validation(_search({}), 500, 5).reason


@pytest.mark.parametrize("rows, share", [(100, 0.2), (4_999, 0.2), (25_000, 0.2), (50_000, 0.1), (100_000, 0.05), (250_000, 0.02), (10**6, 0.02)])
def test_the_holdout_share_is_autogluons(rows, share):
    """default_holdout_frac(rows, hyperparameter_tune=True): 20% up to 25,000 rows, then 5,000 rows, at least 2%."""
    assert holdout_share(rows) == pytest.approx(share)


@pytest.mark.parametrize("cv", [{"folds": 3}, {}, {"repeats": 2}, {"shuffle": True}])
def test_a_spec_that_writes_search_cv_keeps_it(cv):
    """Even `cv: {}` (the defaults, written) is the user's choice: the rule does not override it."""
    v = choose_validation(_search({"cv": cv, "budget": {"time": "30s"}}), 327_000, 10)
    assert v.method == "cv" and v.chosen_by == "spec" and "search.cv" in v.reason
    assert (v.folds, v.repeats) == (cv.get("folds", 5), cv.get("repeats", 1))


def test_a_set_option_counts_as_written():
    loaded = load_spec(
        {"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}, "search": {"budget": {"time": "30s"}}},
        overrides=("search.cv.folds=4",),
    )
    assert choose_validation(loaded.spec.search, 327_000, 10).describe() == "4-fold CV"


def test_validation_round_trips_through_json():
    v = choose_validation(_search({"budget": {"time": "30s"}}), 15_000, 10)
    d = v.to_dict()
    assert d["method"] == "holdout" and d["description"] == v.describe()
    assert Validation.from_dict(d) == v


# ------------------------------------------------------------------ the holdout


def _holdout(split_by: str, task: str, share: float = 0.2, groups=None):
    v = Validation("holdout", 1, 1, share, "test", "rule")
    return make_cv(CVSpec(), split_by, task, seed=0, groups=groups, validation=v)


def test_a_classification_holdout_is_stratified():
    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    cv = _holdout("random", "classification")
    assert isinstance(cv, HoldoutSplit) and cv.get_n_splits() == 1
    [(train, test)] = list(cv.split(np.zeros((100, 1)), y))
    assert len(test) == 20 and not set(train) & set(test) and len(train) + len(test) == 100
    assert np.bincount(y[test]).tolist() == [16, 3, 1]  # the classes' shares, as StratifiedShuffleSplit keeps them


def test_a_holdout_holds_every_class_and_two_regression_rows():
    y = np.array([0] * 40 + [1, 1] + [2, 2] + [3, 3])
    [(_, test)] = list(_holdout("random", "classification", share=0.02).split(np.zeros((46, 1)), y))
    assert set(y[test]) == {0, 1, 2, 3}
    [(_, test)] = list(_holdout("random", "regression", share=0.02).split(np.zeros((30, 1)), np.arange(30.0)))
    assert len(test) == 2  # r2 needs two rows


def test_a_time_holdout_validates_on_the_latest_rows():
    [(train, test)] = list(_holdout("time", "regression").split(np.zeros((50, 1)), np.arange(50.0)))
    assert train.tolist() == list(range(40)) and test.tolist() == list(range(40, 50))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_group_holdout_keeps_groups_apart(task):
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), 5)
    y = rng.integers(0, 2, size=100)
    [(train, test)] = list(_holdout("group", task, groups=groups).split(np.zeros((100, 1)), y, groups))
    assert len(test) and not set(groups[train]) & set(groups[test])

