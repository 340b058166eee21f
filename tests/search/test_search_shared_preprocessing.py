"""A fold's fitted preprocessing is shared by the trials that have the same: same numbers, fitted once."""

from __future__ import annotations

import functools
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from automl_yaml.components.metrics import resolve
from automl_yaml.preprocess import build_pipeline
from automl_yaml.search.base import Trial
from automl_yaml.search.evaluator import Evaluator

FOLDS = 4


def _evaluator(spec, data, model, *, task="classification", metrics=("roc_auc",), options_of=None, **kw):
    """An Evaluator over ``build_pipeline`` (the run's pipelines); ``model(config)`` makes the estimator."""
    y = data.y_class if task == "classification" else data.y_reg
    make = functools.partial(_make, spec, data.types, task, model, options_of)
    cv = StratifiedKFold(FOLDS, shuffle=True, random_state=0) if task == "classification" else KFold(FOLDS, shuffle=True, random_state=0)
    return Evaluator(X=data.X, y=y, cv=cv, metrics=resolve(list(metrics), task, n_classes=2), make_pipeline=make, **kw)


def _make(spec, types, task, model, options_of, config):
    options = options_of(config) if options_of else {}
    return build_pipeline(spec, types, task, options, model(config), seed=0)


def _scores(ev, configs) -> list:
    results = [ev(Trial(i, c)) for i, c in enumerate(configs)]
    assert all(r.status == "ok" for r in results), [r.error for r in results]
    return results


def _same(configs, make_evaluator):
    """Every fold's score, with the preprocessing shared and without."""
    shared, alone = make_evaluator(), make_evaluator(cache_bytes=0)
    a, b = _scores(shared, configs), _scores(alone, configs)
    for r, s in zip(a, b, strict=True):
        assert r.values == s.values  # exactly: the model saw the very same rows
        assert r.scores == s.scores
    return shared, alone, a


TREES = [{"depth": d, "leaf": leaf} for d in (2, 4, None) for leaf in (1, 5)]


def _tree(c):
    return DecisionTreeClassifier(max_depth=c["depth"], min_samples_leaf=c["leaf"], random_state=0)


@pytest.mark.parametrize(
    "preprocess, select",
    [
        ({}, None),  # median imputer + scaling, one-hot, booleans, date parts
        ({"numeric": {"impute": "knn", "outliers": "iqr"}, "categorical": {"encode": "target"}}, None),  # target encoding cross-fits in fit_transform
        ({"numeric": {"impute": "drop", "outliers": {"method": "zscore", "action": "drop"}}}, None),  # row filters
        ({"numeric": {"scale": "quantile"}}, [{"univariate": {"k": 4}}, {"importance": {"estimator": "random_forest", "max_features": 3}}]),
    ],
    ids=["defaults", "knn-target", "drop-rows", "selection"],
)
def test_the_scores_are_the_same_and_each_fold_is_preprocessed_once(pre_spec, pre_mixed, preprocess, select):
    spec = pre_spec(preprocess, select=select)
    shared, alone, _ = _same(TREES, lambda **kw: _evaluator(spec, pre_mixed, _tree, **kw))
    assert shared.cache_stats["misses"] == FOLDS  # the first trial fitted each fold's preprocessing...
    assert shared.cache_stats["hits"] == FOLDS * (len(TREES) - 1)  # ...every later one reused it
    assert shared.cache_stats["bytes"] > 0
    assert alone.cache_stats == {"hits": 0, "misses": 0, "bytes": 0}


def test_a_searched_preprocessing_option_is_one_entry_per_value(pre_spec, pre_mixed):
    spec = pre_spec({"numeric": {"scale": {"choice": ["standard", "robust", "minmax"]}}})
    configs = [{"C": c, "scale": s} for c in (0.1, 1.0) for s in ("standard", "robust", "minmax")]
    shared, _, _ = _same(
        configs,
        lambda **kw: _evaluator(
            spec,
            pre_mixed,
            lambda c: LogisticRegression(C=c["C"], max_iter=500),
            options_of=lambda c: {"preprocess.numeric.scale": c["scale"]},
            **kw,
        ),
    )
    assert shared.cache_stats["misses"] == 3 * FOLDS
    assert shared.cache_stats["hits"] == 3 * FOLDS


def test_regression_and_several_metrics(pre_spec, pre_mixed):
    spec = pre_spec({"categorical": {"encode": "frequency"}})
    configs = [{"alpha": a} for a in (0.01, 1.0, 100.0)]
    _same(configs, lambda **kw: _evaluator(spec, pre_mixed, lambda c: Ridge(alpha=c["alpha"]), task="regression", metrics=("r2", "rmse"), **kw))


def test_fit_time_counts_the_preprocessing_in_every_trial(pre_spec, pre_mixed):
    """A trial that reuses the preprocessing still reports its cost: fit times stay comparable (the fit_time objective)."""
    spec = pre_spec({"numeric": {"impute": "iterative"}})  # slow next to a stump
    ev = _evaluator(spec, pre_mixed, lambda c: DecisionTreeClassifier(max_depth=1), metrics=("roc_auc", "fit_time"))
    first, later = _scores(ev, [{}, {}])
    prepared = [ev._cache.get((k, ev._prepare({}).key)) for k in range(FOLDS)]
    assert all(p is not None for p in prepared)
    least = float(np.mean([p.fit_time for p in prepared]))
    assert later.fit_time >= least and first.fit_time >= least
    assert later.values[1] >= least  # the fit_time objective too


def test_objectives_that_measure_the_whole_pipeline_fit_it_whole(pre_spec, pre_mixed):
    spec = pre_spec({})
    ev = _evaluator(spec, pre_mixed, _tree, metrics=("roc_auc", "model_size"))
    (r,) = _scores(ev, TREES[:1])
    assert ev.cache_stats == {"hits": 0, "misses": 0, "bytes": 0}
    assert r.values[1] > len(pickle.dumps(_tree(TREES[0])))  # the pipeline's size, preprocessing included


def test_the_budget_holds(pre_spec, pre_mixed):
    spec = pre_spec({})
    tiny = _evaluator(spec, pre_mixed, _tree, cache_bytes=1000)  # less than one fold's rows: nothing kept, same scores
    (a,) = _scores(tiny, TREES[:1])
    assert tiny.cache_stats["bytes"] == 0
    one = _evaluator(spec, pre_mixed, _tree)
    _scores(one, TREES[:1])
    per_fold = one.cache_stats["bytes"] / FOLDS
    two = _evaluator(spec, pre_mixed, _tree, cache_bytes=int(2.5 * per_fold))  # two folds fit: the oldest go first
    _scores(two, TREES[:2])
    assert two.cache_stats["bytes"] <= 2.5 * per_fold
    assert two.cache_stats["hits"] == 0  # fold 1 of trial 2 was pushed out by folds 3 and 4 of trial 1
    (b,) = _scores(_evaluator(spec, pre_mixed, _tree, cache_bytes=0), TREES[:1])
    assert a.values == b.values


def test_a_pickled_evaluator_starts_empty(pre_spec, pre_mixed, monkeypatch):
    spec = pre_spec({})
    ev = _evaluator(spec, pre_mixed, _tree)
    _scores(ev, TREES[:1])
    copy = pickle.loads(pickle.dumps(ev))
    assert copy.cache_stats == {"hits": 0, "misses": 0, "bytes": 0}
    assert copy.cache_bytes == ev.cache_bytes
    ev.clear_cache()
    assert ev.cache_stats["bytes"] == 0
    monkeypatch.setenv("MLX_FOLD_CACHE_MB", "0")
    assert _evaluator(spec, pre_mixed, _tree).cache_bytes == 0
    monkeypatch.setenv("MLX_FOLD_CACHE_MB", "1.5")
    assert _evaluator(spec, pre_mixed, _tree).cache_bytes == int(1.5 * 2**20)


def test_the_default_budget_shares_a_quarter_of_the_memory_among_the_processes(monkeypatch):
    from automl_yaml.search import evaluator as E

    monkeypatch.delenv("MLX_FOLD_CACHE_MB", raising=False)
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 8 * 2**30 // 4096}  # 8 GB
    monkeypatch.setattr(E.os, "sysconf", lambda name: pages[name])
    assert E.fold_cache_bytes(1) == E.FOLD_CACHE_MB * 2**20
    assert E.fold_cache_bytes(16) == 2**30 // 8  # 2 GB among 16 workers: 128 MB each
    monkeypatch.setenv("MLX_FOLD_CACHE_MB", "64")
    assert E.fold_cache_bytes(16) == 64 * 2**20  # said outright: as said


def test_a_run_with_two_workers_gives_the_same_leaderboard_with_and_without_sharing(tmp_path, monkeypatch):
    """End to end: the trials' folds shared out among worker processes, each with its own cache."""
    import automl_yaml

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        """
version: 1
name: shared
seed: 0
sources:
  d: {kind: sample, name: breast_cancer}
data: {target: target}
preprocess:
  numeric: {scale: {choice: [standard, robust]}, outliers: {choice: [none, iqr]}}
models:
  decision_tree:
    params: {max_depth: {choice: [2, 4]}, min_samples_leaf: {choice: [1, 5]}}
search: {strategy: grid, metric: roc_auc, cv: {folds: 3}}
execution: {n_jobs: 2}
tracking: false
profile: false
"""
    )
    boards = {}
    for budget in ("512", "0"):
        monkeypatch.setenv("MLX_FOLD_CACHE_MB", budget)
        result = automl_yaml.run(spec, overrides=[f"output={tmp_path / ('out' + budget)}"])
        board = result.leaderboard
        assert len(board) == 16 and (board["status"] == "ok").all()
        params = [c for c in board.columns if c.startswith("param.")]
        assert len(params) == 4, list(board.columns)  # the two model parameters and the two preprocessing options
        boards[budget] = board.set_index(params).sort_index()[["roc_auc_mean", "roc_auc_std"]]
    assert boards["512"].equals(boards["0"])  # exactly the same scores, trial by trial
