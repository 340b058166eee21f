"""`mlx plan` is what `mlx run` executes; multi-objective runs; plugins."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

import automl_yaml
from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def test_run_executes_exactly_the_printed_plan(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": {"experiment": "plan", "register": "plan-model"}, "profile": True})
    assert main(["plan", str(spec), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [s["kind"] for s in printed["steps"]] == ["load", "assemble", "split", "profile", "pipeline", "search", "evaluate", "report", "track", "register"]
    result = automl_yaml.run(spec, quiet=True)
    assert result.summary["steps"] == [s["id"] for s in printed["steps"]]
    written = json.loads((tmp_path / "runs" / "small" / "plan.json").read_text())
    assert [s["id"] for s in written["steps"]] == result.summary["steps"]
    assert printed["fits"] == 5 * 3 + 1 and printed["trials"] == 5


def test_plan_ids_change_downstream_of_a_change(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": False})

    def ids(*overrides):
        args = ["plan", str(spec), "--format", "json"]
        for o in overrides:
            args += ["--set", o]
        assert main(args) == 0
        return {s["kind"]: s["id"] for s in json.loads(capsys.readouterr().out)["steps"]}

    base = ids()
    folds = ids("search.cv.folds=4")
    assert folds["load"] == base["load"] and folds["split"] == base["split"]
    assert folds["search"] != base["search"] and folds["evaluate"] != base["evaluate"]
    split = ids("data.split.test_size=0.3")
    assert split["load"] == base["load"] and split["split"] != base["split"] and split["search"] != base["search"]


def test_grid_plan_counts(capsys):
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "examples" / "strategy-grid" / "spec.yaml"
    assert main(["plan", str(spec), "--format", "json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["space_size"] == 32 and p["trials"] == 32 and p["fits"] == 32 * 5 + 1
    assert main(["plan", str(spec), "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD") and "-->" in out


def test_multi_objective_pareto_front(tmp_path, small_spec):
    spec = small_spec(
        {
            "tracking": False,
            "models": {"random_forest": {"params": {"n_estimators": {"int": [5, 200], "log": True}, "max_depth": {"int": [1, 8]}}}},
            "search": {"strategy": "optuna", "metric": ["accuracy", "fit_time"], "budget": {"trials": 10}},
        }
    )
    result = automl_yaml.run(spec, quiet=True)
    board = result.leaderboard
    assert "pareto" in board.columns and board["pareto"].any()
    ok = board[board["status"] == "ok"]
    front = ok[ok["pareto"]]
    # no point of the front is dominated by another trial (higher accuracy and lower fit time)
    for _, p in front.iterrows():
        dominated = ((ok["accuracy_mean"] >= p["accuracy_mean"]) & (ok["fit_time_mean"] <= p["fit_time_mean"]) & ((ok["accuracy_mean"] > p["accuracy_mean"]) | (ok["fit_time_mean"] < p["fit_time_mean"]))).any()
        assert not dominated
    assert result.summary["pareto"] == sorted(front["trial"].tolist()) or set(result.summary["pareto"]) == set(front["trial"])
    assert "fit_time" in result.holdout and result.holdout["fit_time"] > 0


def test_entry_point_plugin_adds_an_estimator(tmp_path, monkeypatch, small_spec):
    """A plugin registers components through the `automl_yaml.plugins` entry point group."""
    site = tmp_path / "site"
    pkg = site / "mlx_demo_plugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            """
            from sklearn.dummy import DummyClassifier

            class AlwaysFirst(DummyClassifier):
                def __init__(self, strategy="most_frequent", constant=None, random_state=None):
                    super().__init__(strategy=strategy, constant=constant, random_state=random_state)

            def register(registry):
                registry.estimators.register("always_first", "mlx_demo_plugin:AlwaysFirst", task="classification")
            """
        )
    )
    dist = site / "mlx_demo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mlx-demo-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[automl_yaml.plugins]\ndemo = mlx_demo_plugin:register\n")
    monkeypatch.syspath_prepend(str(site))
    import automl_yaml.registry as R

    monkeypatch.setattr(R, "_plugins_loaded", False)
    spec = small_spec({"tracking": False, "models": {"always_first": {"params": {"strategy": "prior"}}}, "search": {"budget": {"trials": 1}}})
    assert main(["validate", str(spec)]) == 0
    result = automl_yaml.run(spec, quiet=True)
    assert result.best_model == "always_first"
    assert "always_first" in R.estimators.names()
    sys.modules.pop("mlx_demo_plugin", None)
