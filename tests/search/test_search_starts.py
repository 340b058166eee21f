"""Starting points: the Optuna strategies try each model's default configuration first.

The zoo names each model's library defaults (``start``) and a cost rank;
:func:`compile_space` moves the defaults inside the spec's ranges, and
:class:`OptunaSearcher` hands them out as trials 0..k-1, cheapest first.
"""

from __future__ import annotations

import inspect

import pytest
from fixtures.search import mixed_space

from automl_yaml.components import zoo
from automl_yaml.components.estimators import estimator_class
from automl_yaml.search.base import TrialResult, config_key
from automl_yaml.search.driver import run_search
from automl_yaml.search.optuna_search import BayesianSearcher, OptunaSearcher
from automl_yaml.search.space import MODEL, compile_space
from automl_yaml.spec import load_spec
from automl_yaml.spec.models import OptunaOptions


def _spec(models=None, **extra):
    spec = {"sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "target"}, **extra}
    if models is not None:
        spec["models"] = models
    return load_spec(spec).spec


def _search(searcher, objective, n, **kw):
    return run_search(
        searcher,
        objective,
        directions=["maximize"],
        n_trials=n,
        time_budget=None,
        trial_timeout=None,
        patience=None,
        n_jobs=kw.pop("n_jobs", 1),
        journal=kw.pop("journal", None),
        **kw,
    )


def scored(trial, report=None):
    """A cheap, deterministic score of any configuration (picklable for workers)."""
    import zlib

    return TrialResult(trial.number, trial.config, "ok", [zlib.crc32(config_key(trial.config).encode()) / 2**32])


# ------------------------------------------------------------------ the zoo's defaults


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_zoo_starts_are_the_libraries_own_defaults(task):
    checked = 0
    models = list(zoo.default_models(task))
    for name in models:
        start = zoo.start_params(name, task)
        assert set(start) == set(zoo.ZOO[name]["params"]) - {k for k, v in zoo.ZOO[name]["params"].items() if not isinstance(v, dict)}
        cls = estimator_class(name, task)
        # CatBoost's get_params lists only the values set: its __init__ names the rest (None: its own default)
        library = {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()} | cls().get_params()
        for param, value in start.items():
            if library[param] is None and value is not None:
                continue  # XGBoost and CatBoost leave their defaults to the booster (None in get_params)
            assert library[param] == value, (name, param)
            checked += 1
    # Every zoo model has at least one default compared against its library (more than 15 in all).
    assert checked >= max(15, len(models))


def test_every_zoo_model_has_a_start_and_a_cost():
    for name in zoo.ZOO:
        assert zoo.start_params(name) is not None
        assert isinstance(zoo.cost(name), int)
    assert zoo.start_params("no_such_model") is None and zoo.cost("no_such_model") is None


# ------------------------------------------------------------------ compiled into the space


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_default_spec_starts_one_per_model_cheapest_first_inside_the_space(task):
    space = compile_space(_spec(), task, 500)
    starts = space.starting_points()
    assert [s[MODEL] for s in starts] == sorted(space.models, key=lambda k: space.models[k].cost)
    assert set(s[MODEL] for s in starts) == set(space.models)
    dims = {d.name: d for d in space.dims()}
    for s in starts:
        model = s[MODEL]
        assert set(s) == {MODEL} | {d.name for d in space.models[model].dims}  # the zoo has a default for every dimension
        for k, v in s.items():
            assert dims[k].contains(v), (k, v)
            if dims[k].kind == "int":
                assert type(v) is int
    first = starts[0][MODEL]
    assert first == ("logistic_regression" if task == "classification" else "ridge")
    assert starts[-1][MODEL] == "svm"


def test_defaults_move_inside_a_users_ranges():
    models = {
        "random_forest": {"params": {"n_estimators": {"int": [200, 400], "step": 50}, "max_depth": {"choice": [4, 8]}, "min_samples_leaf": 3}},
        "lightgbm": {"params": {"learning_rate": {"float": [0.2, 0.5]}, "reg_lambda": {"float": [1e-3, 10], "log": True}}},
        "hist_gradient_boosting": {"params": {"max_iter": {"int": [10, 60]}, "max_bins": {"int": [32, 255]}}},
    }
    space = compile_space(_spec(models), "classification", 500)
    starts = {s[MODEL]: s for s in space.starting_points()}
    # 100 trees -> the lowest value of the range; no listed max_depth is the default (None): left to the sampler.
    assert starts["random_forest"] == {MODEL: "random_forest", "random_forest.n_estimators": 200}
    # A fixed parameter stays the user's.
    assert space.models["random_forest"].fixed == {"min_samples_leaf": 3}
    assert starts["lightgbm"] == {MODEL: "lightgbm", "lightgbm.learning_rate": 0.2, "lightgbm.reg_lambda": 1e-3}
    # max_bins has no zoo default: absent, for the sampler.
    assert starts["hist_gradient_boosting"] == {MODEL: "hist_gradient_boosting", "hist_gradient_boosting.max_iter": 60}
    # Cheapest first; equal costs keep the spec's order.
    assert [s[MODEL] for s in space.starting_points()] == ["lightgbm", "hist_gradient_boosting", "random_forest"]


def test_a_step_range_gets_a_value_on_its_steps():
    space = compile_space(_spec({"random_forest": {"params": {"n_estimators": {"int": [30, 330], "step": 75}}}}), "classification", 500)
    # 30, 105, 180, ...: 100 is nearest to 105.
    assert space.starting_points() == [{"random_forest.n_estimators": 105}]


def test_models_the_zoo_does_not_know_have_no_start():
    space = mixed_space()
    assert space.starting_points() == []
    searcher = OptunaSearcher(space, directions=["maximize"], seed=0)
    assert searcher.starts == []


# ------------------------------------------------------------------ the Optuna strategies


@pytest.mark.parametrize("cls", [OptunaSearcher, BayesianSearcher])
def test_first_trials_are_the_starts_then_the_sampler(cls, tmp_path):
    if cls is BayesianSearcher:
        pytest.importorskip("torch")
    space = compile_space(_spec(["ridge", "knn", "hist_gradient_boosting"]), "regression", 500)
    starts = space.starting_points()
    searcher = cls(space, directions=["maximize"], seed=0, workdir=tmp_path)
    out = _search(searcher, scored, len(starts) + 4)
    configs = [r.config for r in out.results]
    assert configs[: len(starts)] == starts
    assert [c[MODEL] for c in configs[: len(starts)]] == ["ridge", "knn", "hist_gradient_boosting"]
    assert all(c not in starts for c in configs[len(starts) :])


def test_resume_does_not_repeat_the_starts(tmp_path):
    space = compile_space(_spec(), "classification", 500)
    starts = space.starting_points()
    journal = tmp_path / "trials.jsonl"
    first = _search(OptunaSearcher(space, directions=["maximize"], seed=1, workdir=tmp_path), scored, 3, journal=journal)
    assert [r.config for r in first.results] == starts[:3]
    again = _search(OptunaSearcher(space, directions=["maximize"], seed=1, workdir=tmp_path), scored, len(starts) + 2, journal=journal, resume=True)
    configs = [r.config for r in again.results]
    assert configs[: len(starts)] == starts
    assert configs[len(starts)] not in starts


def test_parallel_workers_get_the_starts_first(tmp_path):
    space = compile_space(_spec(["ridge", "knn", "hist_gradient_boosting"]), "regression", 500)
    starts = space.starting_points()
    out = _search(OptunaSearcher(space, directions=["maximize"], seed=0, workdir=tmp_path), scored, 5, n_jobs=2)
    assert [r.config for r in out.results[: len(starts)]] == starts


def test_a_search_with_starts_is_never_worse_than_each_default(tmp_path):
    """The point of starting points: with a budget of k + n trials, the best CV
    score is at least every model's default score, however the sampler fares."""
    from sklearn.datasets import load_diabetes

    from automl_yaml.components.metrics import resolve
    from automl_yaml.runner import PipelineFactory
    from automl_yaml.search.base import Trial
    from automl_yaml.search.cv import make_cv
    from automl_yaml.search.evaluator import Evaluator
    from automl_yaml.spec.models import CVSpec

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    spec = _spec(["ridge", "knn", "hist_gradient_boosting"])
    space = compile_space(spec, "regression", len(X))
    factory = PipelineFactory(spec, {c: "numeric" for c in X.columns}, "regression", space, 0)
    evaluate = Evaluator(X=X, y=y, cv=make_cv(CVSpec(folds=3), "random", "regression", 0), metrics=resolve(["r2"], "regression"), make_pipeline=factory)
    defaults = [evaluate(Trial(i, space.complete(s))).values[0] for i, s in enumerate(space.starting_points())]
    # A pruner that acts from the second trial on: the defaults are still evaluated in full.
    options = OptunaOptions(n_startup_trials=1)
    out = _search(OptunaSearcher(space, directions=["maximize"], seed=0, options=options, workdir=tmp_path), evaluate, 5)
    assert [r.status for r in out.results[:3]] == ["ok"] * 3
    assert [r.values[0] for r in out.results[:3]] == pytest.approx(defaults)
    assert out.best.values[0] >= max(defaults)


def test_knn_neighbours_stay_below_the_rows_a_small_data_set_trains_on():
    """k-NN fails above the fold's training rows ("Expected n_neighbors <= n_samples_fit"): the zoo's range shrinks."""

    def knn_range(spec, n_rows):
        (dim,) = [d for d in compile_space(spec, "classification", n_rows).models["knn"].dims if d.name == "knn.n_neighbors"]
        return dim.low, dim.high

    zoo_spec = _spec()  # no models: the zoo
    listed = _spec({"knn": {}})  # named without params: the zoo's space
    assert knn_range(zoo_spec, 72) == knn_range(listed, 72) == (3, 36)
    assert knn_range(listed, 5000) == (3, 50)  # unchanged where it fits
    (start,) = [s for s in [compile_space(listed, "classification", 72).models["knn"].start] if s]
    assert start["knn.n_neighbors"] == 5  # the default stays inside
    assert "knn.n_neighbors" not in [d.name for d in compile_space(listed, "classification", 5).models["knn"].dims]  # 2 rows: fixed
    own = _spec({"knn": {"params": {"n_neighbors": {"int": [3, 60]}}}})
    assert knn_range(own, 72) == (3, 60)  # a space the user wrote is theirs
