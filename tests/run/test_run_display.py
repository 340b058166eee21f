"""The live search line: best so far with its model, pruned and timed out apart from failed."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from automl_yaml.runner import Display

METRIC = SimpleNamespace(name="roc_auc", greater_is_better=True, objective_only=False)


def _trial(number, status="ok", score=None, model=None, error=None):
    config = {"svm.C": 1.0} if model is None else {"model": model, f"{model}.C": 1.0}
    scores = {"roc_auc": {"mean": score}} if score is not None else {}
    return SimpleNamespace(number=number, status=status, scores=scores, config=config, error=error)


def _line(display: Display) -> str:
    return display._progress.tasks[0].fields["status"]


def test_pruned_trials_are_not_failures_and_one_model_is_named() -> None:
    d = Display(quiet=False, progress=True)
    d._console = Console(file=io.StringIO(), force_terminal=False)
    with d.search(10, None, METRIC, model_name="svm"):
        for t in (_trial(0, score=0.9), _trial(1, "pruned"), _trial(2, "pruned"), _trial(3, "failed"), _trial(4, "timeout"), _trial(5, "timeout")):
            d.trial(t)
        line = _line(d)
    assert "best roc_auc 0.9000 (svm, #0)" in line
    # named as the leaderboard and the summary line name them
    assert "2 pruned" in line and "1 failed" in line and "2 timed out" in line
    assert (d.pruned, d.failed, d.timed_out) == (2, 1, 2)


def test_a_tie_keeps_the_earlier_trial_as_the_leaderboard_does() -> None:
    d = Display(quiet=False, progress=True)
    d._console = Console(file=io.StringIO(), force_terminal=False)
    with d.search(None, 60, METRIC):
        d.trial(_trial(1, score=0.95, model="rf"))  # finished first (parallel trials)
        d.trial(_trial(0, score=0.95, model="hgb"))
        d.trial(_trial(2, score=0.95, model="et"))
        line = _line(d)
    assert "(hgb, #0)" in line


def test_a_trial_cut_by_the_time_budget_is_not_called_timed_out() -> None:
    from automl_yaml.search.driver import BUDGET_STOPPED

    d = Display(quiet=False, progress=True)
    d._console = Console(file=io.StringIO(), force_terminal=False)
    with d.search(None, 60, METRIC, model_name="svm"):
        d.trial(_trial(0, score=0.9))
        d.trial(_trial(1, "timeout", error=BUDGET_STOPPED))
        line = _line(d)
        assert "1 cut by the time budget" in line and "timed out" not in line
        d.trial(_trial(2, "timeout", error="TimeoutError: stopped after 5s (search.budget.trial_timeout)"))
        assert "1 timed out" in _line(d)
