"""The search's validation: 5-fold CV or a holdout, by FLAML's rule on rows × features and the budget; search.cv wins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_yaml.data import split
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


# ---------------------------------------------------------------- with the data


def _frame(n: int, cols: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, cols)), columns=[f"x{i}" for i in range(cols)])
    frame["y"] = rng.choice(["a", "b"], size=n)
    return frame


def _loaded(search: dict, split_spec: dict | None = None):
    data = {"from": "main", "target": "y", **({"split": split_spec} if split_spec else {})}
    return load_spec({"seed": 1, "sources": {"main": "main.csv"}, "data": data, "search": search})


def test_the_split_chooses_from_training_rows_and_features():
    wide = _frame(500, 200)  # 400 training rows x 200 features = 80,000 values
    ds = split(_loaded({"budget": {"time": "30s"}}), wide)
    assert ds.validation.method == "holdout" and "400 training rows × 200 features" in ds.validation.reason
    assert split(_loaded({"budget": {"time": "60s"}}), wide).validation.method == "cv"  # 150,000 for a minute
    assert split(_loaded({"budget": {"time": "30s"}, "cv": {"folds": 5}}), wide).validation.chosen_by == "spec"


def test_a_holdout_does_not_lower_the_folds_for_a_rare_class():
    """A rare class lowers default folds (with a note) under CV; a holdout only needs 2 of its rows."""
    frame = _frame(500, 200)
    frame.loc[:3, "y"] = "rare"  # 4 rows: 3 in training
    ds = split(_loaded({"budget": {"time": "30s"}}), frame)
    assert ds.validation.method == "holdout" and ds.cv_folds is None
    assert not any("cross-validation instead" in n for n in ds.notes)
    cv = split(_loaded({"budget": {"trials": 5}}), frame)
    assert cv.validation.describe() == "3-fold CV" and cv.cv_folds == 3  # the lowered folds are the validation's


def test_a_resumed_search_keeps_the_validation_it_started_with():
    """--resume --set search.budget.time=... must not score the remaining trials another way."""
    wide = _frame(500, 200)
    started = split(_loaded({"budget": {"time": "30s"}}), wide).validation
    longer = _loaded({"budget": {"time": "10m"}})
    assert split(longer, wide).validation.method == "cv"
    resumed = split(longer, wide, keep_validation=started)
    assert resumed.validation == started
    assert any("the resumed search keeps the validation it started with: holdout" in n for n in resumed.notes)
    same = split(_loaded({"budget": {"time": "20s"}}), wide, keep_validation=started)
    assert same.validation.describe() == started.describe() and not any("resumed" in n for n in same.notes)  # the same choice: no note
