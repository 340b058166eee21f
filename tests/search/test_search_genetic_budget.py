"""A genetic search whose budget ends inside generation 0 never evolves: the user is told (issue 16).

Generation 0 is ``population`` random individuals; breeding starts with
generation 1. A trial budget at or below the population is found by
validation (``mlx validate`` and the run's opening warnings); a time budget or
patience that ends the search there is said when the search ends.
"""

from __future__ import annotations

import json

import pytest

GENETIC = "\n".join(
    [
        "sources: {penguins: {kind: sample, name: penguins}}",
        "data: {target: species}",
        "search:",
        "  strategy: genetic",
        "  options: {population: 12, tournament: 3}",
    ]
)


def _warnings(cli, tmp_path, budget: str) -> list[dict]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(GENETIC + ("\n  budget: " + budget if budget else "") + "\n")
    res = cli("validate", str(spec), "--format", "json")
    assert res.code == 0, res
    report = json.loads(res.out)
    return [p for p in report["problems"] if p["severity"] == "warning"]


@pytest.mark.parametrize("budget,located", [("{trials: 8}", "search.budget.trials"), ("{trials: 12}", "search.budget.trials")])
def test_a_trial_budget_within_generation_0_is_warned_of(cli, tmp_path, budget, located):
    [w] = _warnings(cli, tmp_path, budget)
    assert w["path"] == located and "never evolves" in w["message"] and "one generation of 12" in w["message"]
    assert "search.budget.trials to 24" in w["hint"]
    assert w["line"] == 6


@pytest.mark.parametrize("budget", ["{trials: 13}", "{time: 10s}", ""])
def test_a_budget_beyond_generation_0_is_not(cli, tmp_path, budget):
    assert _warnings(cli, tmp_path, budget) == []


def test_a_search_stopped_in_generation_0_says_so(small_spec, cli):
    """Patience (or time) ends it before generation 1: known only when the search ends."""
    spec = small_spec(
        {
            "models": {"logistic_regression": {"params": {"C": {"float": [0.01, 10], "log": True}, "max_iter": 500}}},
            "search": {"strategy": "genetic", "options": {"population": 20}, "budget": {"trials": 40, "patience": 2}},
            "tracking": False,
        }
    )
    res = cli("run", str(spec))
    assert res.code == 0, res
    assert "stopped in generation 0" in res.err and "never evolved" in res.err
