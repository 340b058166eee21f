"""Each selector keeps the features it should, on data with known informative columns."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.linear_model import LogisticRegression, Ridge

from automl_yaml.preprocess import build_pipeline, selected_features
from automl_yaml.preprocess.selectors import CorrelationFilter

INFORMATIVE = ["f0", "f1", "f2"]


@pytest.fixture(scope="module")
def known():
    """10 independent features; the class depends on f0 + f1 + f2 only, equally."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 10)), columns=[f"f{i}" for i in range(10)])
    y = (X[INFORMATIVE].sum(axis=1) + rng.normal(0, 0.3, 300) > 0).astype(int).to_numpy()
    return X, y, {c: "numeric" for c in X.columns}


@pytest.fixture(scope="module")
def known_regression():
    X, y = make_regression(n_samples=300, n_features=10, n_informative=3, noise=1.0, shuffle=False, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    return X, y, {c: "numeric" for c in X.columns}


def select(spec, data, task="classification"):
    X, y, types = data
    est = LogisticRegression(max_iter=1000) if task == "classification" else Ridge()
    fitted = build_pipeline(spec, types, task, {}, est, seed=0).fit(X, y)
    return fitted, selected_features(fitted)


@pytest.mark.parametrize("score", ["auto", "f_classif", "mutual_info"])
def test_univariate_keeps_the_informative_features(pre_spec, known, score):
    fitted, kept = select(pre_spec(select=[{"univariate": {"k": 3, "score": score}}]), known)
    assert sorted(kept) == INFORMATIVE
    assert fitted.named_steps["select0"].warnings_ == []


def test_univariate_regression_and_percentile(pre_spec, known_regression):
    _, kept = select(pre_spec(select=[{"univariate": {"percentile": 30}}]), known_regression, "regression")
    assert sorted(kept) == INFORMATIVE
    _, kept = select(pre_spec(select=[{"univariate": {"k": 3, "score": "mutual_info"}}]), known_regression, "regression")
    assert sorted(kept) == INFORMATIVE


def test_univariate_chi2_on_non_negative_features(pre_spec, known):
    spec = pre_spec({"numeric": {"scale": "minmax"}}, select=[{"univariate": {"k": 3, "score": "chi2"}}])
    _, kept = select(spec, known)
    assert len(kept) == 3 and set(kept) & set(INFORMATIVE)


def test_univariate_k_larger_than_the_features_keeps_all_with_a_warning(pre_spec, known):
    spec = pre_spec(select=[{"univariate": {"k": 50}}])
    with pytest.warns(UserWarning, match="k=50 but only 10 features"):
        fitted, kept = select(spec, known)
    assert kept == list(known[0].columns)
    assert fitted.named_steps["select0"].warnings_ == ["select[0].univariate: k=50 but only 10 features reach this step; all are kept"]


def test_univariate_default_k_is_10(pre_spec, known):
    X, y, _ = known
    wide = pd.concat([X, X.add_prefix("copy_") * 0.5 + 1], axis=1)
    data = (wide, y, {c: "numeric" for c in wide.columns})
    _, kept = select(pre_spec(select=["univariate"]), data)
    assert len(kept) == 10


@pytest.mark.parametrize("estimator", ["random_forest", "decision_tree", "extra_trees"])
def test_importance_keeps_the_informative_features(pre_spec, known, estimator):
    spec = pre_spec(select=[{"importance": {"estimator": estimator, "threshold": "mean", "max_features": 3}}])
    _, kept = select(spec, known)
    assert set(kept) <= set(INFORMATIVE) and len(kept) >= 2


def test_importance_with_a_linear_model_and_too_large_max_features(pre_spec, known):
    spec = pre_spec(select=[{"importance": {"estimator": "logistic_regression", "threshold": 0.5, "max_features": 40}}])
    with pytest.warns(UserWarning, match="max_features=40"):
        fitted, kept = select(spec, known)
    coef = np.abs(fitted.named_steps["select0"].importances_)
    assert sorted(kept) == sorted(np.asarray(known[0].columns)[coef >= 0.5])
    assert set(INFORMATIVE) <= set(kept)


@pytest.mark.parametrize("cv", [0, 3])
def test_rfe_and_rfecv(pre_spec, known, cv):
    spec = pre_spec(select=[{"rfe": {"n_features": 3, "cv": cv}}])
    fitted, kept = select(spec, known)
    if cv:
        assert set(INFORMATIVE) <= set(kept)  # RFECV chooses how many, at least 3
    else:
        assert sorted(kept) == INFORMATIVE
        assert fitted.named_steps["select0"].ranking_[:3].tolist() == [1, 1, 1]


def test_rfe_default_keeps_half(pre_spec, known_regression):
    _, kept = select(pre_spec(select=[{"rfe": {"estimator": "ridge"}}]), known_regression, "regression")
    assert len(kept) == 5 and set(INFORMATIVE) <= set(kept)


@pytest.mark.parametrize(
    "options",
    [
        {"k_features": 3, "cv": 0},
        {"k_features": 3, "direction": "backward", "cv": 2},
        {"k_features": 3, "floating": True, "cv": 2},
        {"k_features": [2, 4], "cv": 2},
    ],
)
def test_sequential_keeps_the_informative_features(pre_spec, known, options):
    X, y, types = known
    cols = list(X.columns)[:6]  # few features: sequential selection fits many models
    small = (X.iloc[:150][cols], y[:150], {c: types[c] for c in cols})
    fitted, kept = select(pre_spec(select=[{"sequential": options}]), small)
    sfs = fitted.named_steps["select0"].sfs_
    if isinstance(options["k_features"], int):
        assert sorted(kept) == INFORMATIVE
    else:  # the best-scoring size in [2, 4]: the informative ones, maybe with one more
        assert set(INFORMATIVE) <= set(kept) and 3 <= len(kept) <= 4
        assert max(sfs.subsets_) == 4  # forward search stops at the maximum
    assert [f"f{i}" for i in sfs.k_feature_idx_] == kept


def test_sequential_best_and_parsimonious(pre_spec, known):
    X, y, types = known
    small = (X.iloc[:150, :6], y[:150], {c: types[c] for c in list(X.columns)[:6]})
    for k in ("best", "parsimonious"):
        _, kept = select(pre_spec(select=[{"sequential": {"k_features": k, "cv": 2}}]), small)
        assert 1 <= len(kept) <= 6


def test_variance_drops_constant_and_near_constant_features(pre_spec, known):
    X, y, _ = known
    X = X.assign(const=1.0, tiny=np.r_[np.zeros(299), 1e-3])
    data = (X, y, {c: "numeric" for c in X.columns})
    spec = pre_spec({"numeric": {"scale": "none"}}, select=[{"variance": {"threshold": 1e-4}}])
    fitted, kept = select(spec, data)
    assert kept == [f"f{i}" for i in range(10)]
    assert fitted.named_steps["select0"].variances_[-2] == 0


def test_correlation_drops_the_later_of_each_correlated_pair(pre_spec, known):
    X, y, _ = known
    rng = np.random.default_rng(0)
    X = X.assign(
        f0_twin=2 * X["f0"] + rng.normal(0, 0.01, len(X)),
        f5_neg=-X["f5"] + rng.normal(0, 0.01, len(X)),
        f1_loose=X["f1"] + rng.normal(0, 1.5, len(X)),
    )
    data = (X, y, {c: "numeric" for c in X.columns})
    for method in ("pearson", "spearman", "kendall"):
        fitted, kept = select(pre_spec(select=[{"correlation": {"threshold": 0.95, "method": method}}]), data)
        assert kept == [f"f{i}" for i in range(10)] + ["f1_loose"]
        dropped = fitted.named_steps["select0"].dropped_
        assert dropped.keys() == {"f0_twin", "f5_neg"} and dropped["f5_neg"][0] == "f5"


def test_correlation_filter_ignores_constant_features_and_clones():
    X = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [5.0, 5, 5, 5], "c": [2.0, 4, 6, 8.5]})
    sel = CorrelationFilter(threshold=0.9).fit(X)
    assert sel.get_feature_names_out().tolist() == ["a", "b"]
    twin = pickle.loads(pickle.dumps(clone(sel).fit(X)))
    assert twin.dropped_ == sel.dropped_


def test_steps_run_in_the_order_written(pre_spec, known):
    spec = pre_spec(select=[{"univariate": {"k": 6}}, {"rfe": {"n_features": 3}}])
    fitted, kept = select(spec, known)
    assert [n for n, _ in fitted.steps] == ["preprocess", "select0", "select1", "model"]
    assert fitted.named_steps["select1"].n_features_in_ == 6
    assert sorted(kept) == INFORMATIVE


def test_searched_k_comes_from_the_options(pre_spec, known):
    X, y, types = known
    spec = pre_spec(select=["variance", {"univariate": {"k": {"int": [2, 8]}}}])
    for k, expected in ((None, 2), (5, 5)):
        options = {} if k is None else {"select[1].univariate.k": k}
        fitted = build_pipeline(spec, types, "classification", options, LogisticRegression(), seed=0).fit(X, y)
        assert len(selected_features(fitted)) == expected


@pytest.mark.parametrize(
    "step,choices",
    [
        ("importance", ["random_forest", "extra_trees", "logistic_regression"]),
        ("rfe", ["auto", "decision_tree"]),
        ("sequential", ["auto", "knn"]),
    ],
)
def test_a_selectors_estimator_is_searched_like_any_option(pre_spec, known, step, choices):
    """One search syntax everywhere: `estimator: {choice: [...]}` was refused ("expected a string")."""
    from automl_yaml.search.space import compile_space

    X, y, types = known
    extra = {"n_features": 3} if step == "rfe" else {"k_features": 3} if step == "sequential" else {}
    spec = pre_spec(select=[{step: {"estimator": {"choice": choices}, **extra}}])
    [dim] = compile_space(spec, "classification").shared
    assert dim.name == f"select[0].{step}.estimator" and list(dim.choices) == choices
    inner = {"auto": "LogisticRegression", "random_forest": "RandomForestClassifier", "extra_trees": "ExtraTreesClassifier"}
    inner |= {"logistic_regression": "LogisticRegression", "decision_tree": "DecisionTreeClassifier", "knn": "KNeighborsClassifier"}
    for name in choices:
        options = {dim.name: name}
        fitted = build_pipeline(spec, types, "classification", options, LogisticRegression(), seed=0).fit(X, y)
        assert type(fitted.named_steps["select0"].estimator).__name__ == inner[name]
        assert len(selected_features(fitted)) >= 1
