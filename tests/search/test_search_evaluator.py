"""The evaluator against scikit-learn's cross_validate, and make_cv's splitters."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from automl_yaml.components.metrics import resolve
from automl_yaml.errors import DataError, UsageError
from automl_yaml.search.base import Trial
from automl_yaml.search.cv import RepeatedGroupSplit, make_cv
from automl_yaml.search.driver import run_search
from automl_yaml.search.evaluator import Evaluator
from automl_yaml.search.grid import GridSearcher
from automl_yaml.search.space import Dim, ModelCandidate, SearchSpace
from automl_yaml.spec.models import CVSpec


def logistic(config: dict):
    return make_pipeline(StandardScaler(), LogisticRegression(C=config.get("lr.C", 1.0), max_iter=1000))


def ridge(config: dict):
    return make_pipeline(StandardScaler(), Ridge(alpha=config.get("alpha", 1.0)))


def broken(config: dict):
    return LogisticRegression(C=-1.0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def evaluator(iris, names, **kw):
    X, y = iris
    cv = make_cv(CVSpec(folds=5), "random", "classification", seed=0)
    return Evaluator(
        X=X, y=y, groups=None, cv=cv, metrics=resolve(names, "classification", n_classes=3), make_pipeline=kw.pop("make", logistic), **kw
    )


# ------------------------------------------------------------------ evaluator


def test_fold_scores_are_those_of_cross_validate(iris):
    X, y = iris
    ev = evaluator(iris, ["accuracy", "f1_macro", "log_loss"])
    r = ev(Trial(0, {"lr.C": 0.3}))
    assert r.status == "ok" and r.error is None
    cv = make_cv(CVSpec(folds=5), "random", "classification", seed=0)
    ref = cross_validate(
        logistic({"lr.C": 0.3}), X, y, cv=cv, scoring={"accuracy": "accuracy", "f1_macro": "f1_macro", "log_loss": "neg_log_loss"}
    )
    np.testing.assert_allclose(r.scores["accuracy"]["folds"], ref["test_accuracy"], rtol=1e-12)
    np.testing.assert_allclose(r.scores["f1_macro"]["folds"], ref["test_f1_macro"], rtol=1e-12)
    # log_loss is shown as a loss (lower is better) and optimised as its negative.
    np.testing.assert_allclose(r.scores["log_loss"]["folds"], -ref["test_log_loss"], rtol=1e-12)
    assert r.values == pytest.approx([ref["test_accuracy"].mean(), ref["test_f1_macro"].mean(), ref["test_log_loss"].mean()], rel=1e-12)
    assert r.scores["accuracy"]["mean"] == pytest.approx(ref["test_accuracy"].mean(), rel=1e-12)
    assert r.scores["accuracy"]["std"] == pytest.approx(ref["test_accuracy"].std(), rel=1e-9)
    # Pruning sees the running mean of the first objective after each fold.
    running = np.cumsum(ref["test_accuracy"]) / np.arange(1, 6)
    np.testing.assert_allclose(r.intermediate, running, rtol=1e-12)
    assert r.fit_time > 0 and r.score_time > 0 and r.duration >= 5 * r.fit_time
    assert ev.directions == ["maximize", "maximize", "maximize"]


def test_regression_scores_and_error_display():
    X, y = load_diabetes(return_X_y=True)
    cv = make_cv(CVSpec(folds=4, repeats=2), "random", "regression", seed=1)
    ev = Evaluator(X=X, y=y, groups=None, cv=cv, metrics=resolve(["rmse", "r2"], "regression"), make_pipeline=ridge)
    r = ev(Trial(0, {"alpha": 2.0}))
    ref = cross_validate(ridge({"alpha": 2.0}), X, y, cv=cv, scoring={"rmse": "neg_root_mean_squared_error", "r2": "r2"})
    assert len(r.scores["rmse"]["folds"]) == 8
    np.testing.assert_allclose(r.scores["rmse"]["folds"], -ref["test_rmse"], rtol=1e-12)
    assert min(r.scores["rmse"]["folds"]) > 0
    assert r.values[0] == pytest.approx(ref["test_rmse"].mean(), rel=1e-12)


def test_measured_objectives(iris):
    X, y = iris
    ev = evaluator(iris, ["accuracy", "fit_time", "model_size", "predict_time"])
    r = ev(Trial(0, {"lr.C": 1.0}))
    assert ev.directions == ["maximize", "minimize", "minimize", "minimize"]
    sizes = [len(pickle.dumps(clone(logistic({})).fit(X.iloc[tr], y.iloc[tr]))) for tr, _ in ev.splits]
    assert r.values[2] == pytest.approx(np.mean(sizes))
    assert r.scores["model_size"]["folds"] == pytest.approx(sizes)
    assert r.values[1] == pytest.approx(r.fit_time)
    assert r.values[3] > 0 and len(r.scores["predict_time"]["folds"]) == 5


def test_a_failing_pipeline_is_a_failed_trial_with_a_one_line_error(iris):
    r = evaluator(iris, ["accuracy"], make=broken)(Trial(4, {}))
    assert r.status == "failed" and r.values is None and r.number == 4
    assert r.error.startswith("InvalidParameterError: The 'C' parameter of LogisticRegression must be")
    assert "\n" not in r.error
    with pytest.raises(ValueError):
        evaluator(iris, ["accuracy"], make=broken, error_score="raise")(Trial(4, {}))


def test_report_can_prune_after_a_fold(iris):
    steps = []

    def report(step, value):
        steps.append((step, value))
        return step == 1

    r = evaluator(iris, ["accuracy"])(Trial(0, {}), report)
    assert r.status == "pruned" and r.values is None
    assert [s for s, _ in steps] == [0, 1]
    assert len(r.scores["accuracy"]["folds"]) == 2
    assert r.intermediate == [v for _, v in steps]


def test_evaluator_runs_in_worker_processes_with_the_same_scores(iris):
    ev = evaluator(iris, ["accuracy"])
    assert pickle.loads(pickle.dumps(ev))(Trial(0, {"lr.C": 0.1})).values == ev(Trial(0, {"lr.C": 0.1})).values
    space = SearchSpace(
        {"lr": ModelCandidate("lr", "logistic_regression", {}, (Dim("lr.C", "categorical", choices=(0.01, 0.1, 1.0, 10.0), model="lr"),))},
        [],
    )
    kw = dict(directions=["maximize"], n_trials=None, time_budget=None, trial_timeout=None, patience=None, journal=None)
    one = run_search(GridSearcher(space, directions=["maximize"], seed=0), ev, n_jobs=1, **kw)
    two = run_search(GridSearcher(space, directions=["maximize"], seed=0), ev, n_jobs=2, **kw)
    assert [r.scores for r in two.results] == [r.scores for r in one.results]
    assert one.best.number == two.best.number


def test_cross_validation_that_cannot_be_made_is_a_data_error(iris):
    X, y = iris
    with pytest.raises(DataError) as e:
        Evaluator(
            X=X.iloc[:4], y=y.iloc[:4], cv=StratifiedKFold(5), metrics=resolve(["accuracy"], "classification"), make_pipeline=logistic
        )
    assert "search.cv.folds" in e.value.hint


# ------------------------------------------------------------------ make_cv


@pytest.mark.parametrize(
    "task, repeats, shuffle, kind",
    [
        ("classification", 1, True, StratifiedKFold),
        ("regression", 1, True, KFold),
        ("classification", 3, True, RepeatedStratifiedKFold),
        ("regression", 3, True, RepeatedKFold),
    ],
)
def test_random_splits(task, repeats, shuffle, kind):
    cv = make_cv(CVSpec(folds=4, repeats=repeats, shuffle=shuffle), "random", task, seed=7)
    assert type(cv) is kind
    assert cv.get_n_splits() == 4 * repeats
    assert cv.random_state == 7


def test_unshuffled_folds_are_unseeded():
    cv = make_cv(CVSpec(folds=3, shuffle=False), "random", "classification", seed=7)
    assert type(cv) is StratifiedKFold and cv.shuffle is False and cv.random_state is None


@pytest.mark.parametrize("task, kind", [("classification", StratifiedGroupKFold), ("regression", GroupKFold)])
def test_group_splits_keep_groups_apart(task, kind):
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 5)
    X = rng.normal(size=(60, 2))
    y = rng.integers(0, 2, size=60)
    cv = make_cv(CVSpec(folds=3), "group", task, seed=0, groups=groups)
    assert type(cv) is kind and cv.n_splits == 3
    for train, test in cv.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])


def test_repeated_group_splits():
    groups = np.repeat(np.arange(10), 3)
    X, y = np.zeros((30, 1)), np.tile([0, 1, 1], 10)
    cv = make_cv(CVSpec(folds=5, repeats=2), "group", "regression", seed=0, groups=groups)
    assert isinstance(cv, RepeatedGroupSplit) and cv.get_n_splits() == 10
    splits = list(cv.split(X, y, groups))
    assert len(splits) == 10
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    first = [frozenset(groups[te]) for _, te in splits[:5]]
    second = [frozenset(groups[te]) for _, te in splits[5:]]
    assert first != second, "each repeat shuffles the groups differently"


def test_too_few_groups_is_a_data_error():
    with pytest.raises(DataError) as e:
        make_cv(CVSpec(folds=5), "group", "classification", seed=0, groups=[1, 1, 2, 2, 3])
    assert "3 groups" in e.value.message and "search.cv.folds" in e.value.message


def test_time_splits_train_on_the_past():
    cv = make_cv(CVSpec(folds=4), "time", "regression", seed=0)
    assert type(cv) is TimeSeriesSplit and cv.n_splits == 4
    for train, test in cv.split(np.zeros((40, 1))):
        assert train.max() < test.min()
    with pytest.raises(UsageError) as e:
        make_cv(CVSpec(folds=4, repeats=2), "time", "regression", seed=0)
    assert "repeats" in e.value.message
