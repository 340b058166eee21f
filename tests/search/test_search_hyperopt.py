"""The hyperopt strategy's space: every search-space form as a Hyperopt ``hp`` expression, and back.

The strategy's contract (budgets, failures, resume, seeds) is checked with
every other strategy's in test_search_strategies.py (``TestHyperopt``).
"""

from __future__ import annotations

import collections
import math

import pytest

from automl_yaml.search.base import Trial, TrialResult
from automl_yaml.search.hyperopt_search import HyperoptSearcher, hyperopt_space
from automl_yaml.search.space import MODEL, Dim, ModelCandidate, SearchSpace, compile_space
from automl_yaml.spec import load_spec
from automl_yaml.spec.models import HyperoptOptions

hyperopt = pytest.importorskip("hyperopt")

LAYERS = ([10], [20, 10], None, {"k": 1})


def every_form() -> SearchSpace:
    """Two models with their own dimensions (a conditional space) and shared ones: every form of the spec's syntax."""
    a = ModelCandidate(
        "a",
        "a_estimator",
        {"fixed": 1},
        (
            Dim("a.layers", "categorical", choices=LAYERS, model="a"),  # choice of YAML lists, mappings, null
            Dim("a.n", "int", low=2, high=9, model="a"),  # int
            Dim("a.trees", "int", low=30, high=330, step=75, model="a"),  # int, step
            Dim("a.leaves", "int", low=1, high=64, log=True, model="a"),  # int, log
            Dim("a.frac", "float", low=0.1, high=0.9, model="a"),  # float
            Dim("a.alpha", "float", low=0.0, high=1.0, step=0.25, model="a"),  # float, step
            Dim("a.lr", "float", low=1e-4, high=1.0, log=True, model="a"),  # float, log
            Dim("a.same", "float", low=0.5, high=0.5, model="a"),  # float, low == high
        ),
    )
    b = ModelCandidate("b", "b_estimator", {}, (Dim("b.depth", "int", low=1, high=4, model="b"),))
    shared = [
        Dim("preprocess.numeric.scale", "categorical", choices=("standard", "robust", None)),
        Dim("select[0].univariate.k", "int", low=1, high=5),
    ]
    return SearchSpace({"a": a, "b": b}, shared)


def test_every_dimension_is_one_hyperopt_label_of_the_right_kind():
    space = every_form()
    domain = hyperopt.Domain(lambda c: 0.0, hyperopt_space(space))
    kinds = {name: node.name for name, node in domain.params.items()}
    assert kinds == {
        MODEL: "randint",  # hp.choice
        "a.layers": "randint",
        "a.n": "quniform",
        "a.trees": "quniform",
        "a.leaves": "loguniform",
        "a.frac": "uniform",
        "a.alpha": "quniform",
        "a.lr": "loguniform",
        "b.depth": "quniform",
        "preprocess.numeric.scale": "randint",
        "select[0].univariate.k": "quniform",
    }
    # a.same is a constant: no label to search


def _drawn(space, n, algorithm="rand", seed=0):
    searcher = HyperoptSearcher(space, directions=["maximize"], seed=seed, options=HyperoptOptions(algorithm=algorithm))
    trials = []
    for _ in range(n):
        t = searcher.ask()
        searcher.tell(t, TrialResult(t.number, t.config, "ok", [0.0]))
        trials.append(t)
    return searcher, trials


def test_hyperopts_draws_are_configurations_of_the_space_and_round_trip():
    space = every_form()
    searcher, trials = _drawn(space, 300)
    dims = {d.name: d for d in space.dims()}
    seen = collections.defaultdict(set)
    for t, doc in zip(trials, searcher.trials.trials):
        config = t.config
        model = config[MODEL]
        # conditional: only the chosen model's labels have a value in Hyperopt's document
        active = {k for k, v in doc["misc"]["vals"].items() if v}
        assert active == {MODEL} | {d.name for d in space.active_dims(model) if d.name != "a.same"}
        assert set(config) == {MODEL} | {d.name for d in space.active_dims(model)}
        for k, v in config.items():
            assert dims[k].contains(v), (k, v)
            if dims[k].kind in ("int", "float"):
                assert type(v) is (int if dims[k].kind == "int" else float), (k, v)
            seen[k].add(repr(v))
        # configuration -> Hyperopt's values -> the same configuration
        assert searcher.to_config(searcher.to_vals(config)) == config
        assert searcher.to_config(doc["misc"]["vals"]) == config
    # every value of every discrete dimension is drawn, the ends of the ranges included
    for name in ("a.layers", "a.n", "a.trees", "a.alpha", "b.depth", "preprocess.numeric.scale", "select[0].univariate.k"):
        assert seen[name] == {repr(v) for v in dims[name].values()}, name
    assert seen[MODEL] == {"'a'", "'b'"}
    assert seen["a.same"] == {"0.5"}


def test_given_values_round_trip_at_the_ends_of_every_range():
    space = every_form()
    searcher = HyperoptSearcher(space, directions=["maximize"], seed=0)
    for layers in LAYERS:
        for n, trees, leaves, frac, alpha, lr in [(2, 30, 1, 0.1, 0.0, 1e-4), (9, 330, 64, 0.9, 1.0, 1.0), (5, 105, 7, 0.5, 0.25, 0.01)]:
            config = {
                MODEL: "a",
                "a.layers": layers,
                "a.n": n,
                "a.trees": trees,
                "a.leaves": leaves,
                "a.frac": frac,
                "a.alpha": alpha,
                "a.lr": lr,
                "a.same": 0.5,
                "preprocess.numeric.scale": None,
                "select[0].univariate.k": 5,
            }
            assert searcher.to_config(searcher.to_vals(config)) == config
    config = {MODEL: "b", "b.depth": 4, "preprocess.numeric.scale": "robust", "select[0].univariate.k": 1}
    vals = searcher.to_vals(config)
    assert [k for k, v in vals.items() if v] == [MODEL, "b.depth", "preprocess.numeric.scale", "select[0].univariate.k"]
    assert searcher.to_config(vals) == config


def test_ints_are_drawn_evenly_and_log_ranges_log_uniformly():
    space = SearchSpace(
        {
            "m": ModelCandidate(
                "m",
                "m",
                {},
                (Dim("m.k", "int", low=1, high=4), Dim("m.lr", "float", low=1e-4, high=1.0, log=True), Dim("m.j", "int", low=1, high=100, log=True)),
            )
        },
        [],
    )
    _, trials = _drawn(space, 800)
    counts = collections.Counter(t.config["m.k"] for t in trials)
    # 200 each on average; hp.quniform(1, 4, 1) would give the ends half as many (133)
    assert sorted(counts) == [1, 2, 3, 4] and min(counts.values()) > 165, counts
    # log-uniform on [1e-4, 1]: half below 1e-2 (uniform would put 1% there); on [1, 100]: half below 10
    assert 0.4 < sum(t.config["m.lr"] < 1e-2 for t in trials) / 800 < 0.6
    assert 0.4 < sum(t.config["m.j"] < 10 for t in trials) / 800 < 0.6


def test_one_model_has_no_model_label():
    space = SearchSpace({"m": ModelCandidate("m", "m", {}, (Dim("m.k", "int", low=1, high=4),))}, [])
    assert set(hyperopt.Domain(lambda c: 0.0, hyperopt_space(space)).params) == {"m.k"}
    _, trials = _drawn(space, 5)
    assert all(set(t.config) == {"m.k"} for t in trials)


def test_a_spec_compiles_to_a_hyperopt_space_with_its_searched_preprocessing_and_selection():
    spec = load_spec(
        {
            "sources": {"d": {"kind": "sample", "name": "iris"}},
            "data": {"target": "target"},
            "models": {
                "random_forest": {"params": {"n_estimators": {"int": [20, 80], "step": 20}, "max_depth": {"choice": [None, 4]}}},
                "logistic_regression": {"params": {"C": {"float": [0.01, 10], "log": True}}},
            },
            "preprocess": {"numeric": {"scale": {"choice": ["standard", "robust"]}}},
            "select": [{"univariate": {"k": {"int": [1, 4]}}}],
            "search": {"strategy": "hyperopt"},
        }
    ).spec
    space = compile_space(spec, "classification", 150)
    searcher = HyperoptSearcher(space, directions=["maximize"], seed=spec.seed, options=spec.search.options)
    shared = {d.name for d in space.shared}
    assert shared == {"preprocess.numeric.scale", "select[0].univariate.k"}
    assert set(searcher.domain.params) == {MODEL, *(d.name for d in space.dims() if d.name != MODEL)}
    # the first trials are the models' defaults (cheapest first), their missing dimensions drawn from the prior
    starts = space.starting_points()
    for start in starts:
        t = searcher.ask()
        assert {k: t.config[k] for k in start} == start
        assert set(t.config) == {MODEL} | {d.name for d in space.active_dims(start[MODEL])}
        searcher.tell(t, TrialResult(t.number, t.config, "ok", [0.5]))
    t = searcher.ask()
    assert isinstance(t, Trial) and t.number == len(starts)


def test_a_finite_space_ends_when_every_configuration_was_proposed():
    space = SearchSpace({"m": ModelCandidate("m", "m", {}, (Dim("m.k", "int", low=1, high=3),))}, [])
    searcher = HyperoptSearcher(space, directions=["maximize"], seed=0, options=HyperoptOptions(n_startup_trials=1))
    configs = []
    while (t := searcher.ask()) is not None and len(configs) < 1000:
        configs.append(t.config["m.k"])
        searcher.tell(t, TrialResult(t.number, t.config, "ok", [-math.fabs(t.config["m.k"] - 2)]))
    assert set(configs) == {1, 2, 3} and len(configs) < 1000
