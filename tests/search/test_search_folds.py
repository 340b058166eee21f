"""A trial's folds shared out among the worker processes (``n_jobs > 1``, no pruner).

The last trials of a search, or of a genetic generation, used to run one per
worker while the other workers waited; a free worker now takes the next fold
of a running trial. The numbers must be those of one process; failures,
timeouts and dead workers must behave as with whole trials per worker.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from fixtures.search import SCALE, FoldPeak, Peak, mixed_space

from automl_yaml.errors import SearchError
from automl_yaml.search.driver import _shares_folds, run_search
from automl_yaml.search.grid import RandomSearcher
from automl_yaml.search.optuna_search import OptunaSearcher
from automl_yaml.spec.models import OptunaOptions

MAX = ["maximize"]


def search(searcher, objective, **kw):
    args = dict(directions=MAX, n_trials=None, time_budget=None, trial_timeout=None, patience=None, n_jobs=2, journal=None)
    args.update(kw)
    return run_search(searcher, objective, **args)


def random_searcher(seed=0):
    return RandomSearcher(mixed_space(), directions=MAX, seed=seed)


def folds_run(log):
    """(trial, fold) -> the pids that computed it, from FoldPeak's log folder."""
    out: dict = {}
    for name in os.listdir(log):
        trial, k, pid = map(int, name.split("-"))
        out.setdefault((trial, k), []).append(pid)
    return out


def test_one_trial_runs_its_folds_in_every_worker(tmp_path):
    # A lone trial of 6 folds (each 0.3 s) on 2 workers: both compute some of
    # its folds, each fold exactly once, and the result is that of one process.
    out = search(random_searcher(), FoldPeak(folds=6, sleep=0.3, log=str(tmp_path)), n_trials=1)
    ran = folds_run(tmp_path)
    assert sorted(ran) == [(0, k) for k in range(6)]
    assert all(len(pids) == 1 for pids in ran.values())
    assert len({pids[0] for pids in ran.values()}) == 2
    alone = run_search(random_searcher(), FoldPeak(folds=6), directions=MAX, n_trials=1, time_budget=None,
                       trial_timeout=None, patience=None, n_jobs=1, journal=None)
    r, a = out.results[0], alone.results[0]
    assert (r.status, r.values, r.scores, r.intermediate) == (a.status, a.values, a.scores, a.intermediate)


def test_every_fold_of_every_trial_runs_once_and_results_match_one_process(tmp_path):
    (tmp_path / "log").mkdir()
    shared = search(random_searcher(), FoldPeak(folds=3, log=str(tmp_path / "log")), n_trials=12, journal=tmp_path / "j.jsonl")
    ran = folds_run(tmp_path / "log")
    assert sorted(ran) == [(t, k) for t in range(12) for k in range(3)]
    assert all(len(p) == 1 for p in ran.values())
    inline = search(random_searcher(), FoldPeak(folds=3), n_trials=12, n_jobs=1)
    assert [(r.number, r.config, r.values, r.scores) for r in shared.results] == [
        (r.number, r.config, r.values, r.scores) for r in inline.results
    ]
    assert shared.best.number == inline.best.number


def test_the_real_evaluator_gives_the_same_numbers_in_one_or_two_processes():
    from sklearn.datasets import make_classification

    from automl_yaml.components.metrics import resolve
    from automl_yaml.search.cv import make_cv
    from automl_yaml.search.evaluator import Evaluator
    from automl_yaml.spec.models import CVSpec

    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    evaluate = Evaluator(
        X=X,
        y=pd.Series(y),
        cv=make_cv(CVSpec(folds=4), "random", "classification", 0),
        metrics=resolve(["roc_auc", "accuracy", "fit_time"], "classification"),
        make_pipeline=_tree,
    )
    assert _shares_folds(random_searcher(), evaluate)
    kw = dict(directions=["maximize", "maximize", "minimize"], n_trials=6, time_budget=None, trial_timeout=None, patience=None, journal=None)
    two = run_search(RandomSearcher(mixed_space(), directions=kw["directions"], seed=1), evaluate, n_jobs=2, **kw)
    one = run_search(RandomSearcher(mixed_space(), directions=kw["directions"], seed=1), evaluate, n_jobs=1, **kw)
    for a, b in zip(two.results, one.results, strict=True):
        assert a.status == b.status == "ok"
        assert a.values[:2] == b.values[:2]  # the scores; fit_time is measured, not equal
        assert a.scores["roc_auc"] == b.scores["roc_auc"] and a.scores["accuracy"] == b.scores["accuracy"]
        assert len(a.scores["fit_time"]["folds"]) == 4
        assert a.intermediate == b.intermediate
        assert a.fit_time > 0 and a.duration > 0


def _tree(config):
    from sklearn.tree import DecisionTreeClassifier

    depth = config.get("a.n", config.get("b.depth", 3))
    return DecisionTreeClassifier(max_depth=int(depth), random_state=0)


def test_a_failing_fold_fails_its_trial_and_the_search_goes_on():
    out = search(random_searcher(), FoldPeak(folds=3, fail_scale="minmax", fail_fold=1), n_trials=10)
    failed = [r for r in out.results if r.config[SCALE] == "minmax"]
    assert failed, "seed 0 draws minmax configurations"
    assert all(r.status == "failed" and r.error == "ValueError: scale minmax is not supported" for r in failed)
    assert all(r.ok for r in out.results if r.config[SCALE] != "minmax")
    assert len(out.results) == 10


def test_a_worker_dying_in_a_fold_fails_that_trial_only():
    out = search(random_searcher(), FoldPeak(folds=3, die_scale="minmax"), n_trials=8)
    dead = [r for r in out.results if r.config[SCALE] == "minmax"]
    assert dead
    assert all(r.status == "failed" and r.error == "WorkerError: the trial's process died (exit code 3)" for r in dead)
    assert all(r.ok for r in out.results if r.config[SCALE] != "minmax")
    assert len(out.results) == 8


def test_trial_timeout_stops_every_fold_of_the_trial():
    out = search(random_searcher(), FoldPeak(folds=3, hang_scale="minmax", hang=60), n_trials=8, trial_timeout=5.0)
    hung = [r for r in out.results if r.config[SCALE] == "minmax"]
    assert hung
    assert all(r.status == "timeout" and "search.budget.trial_timeout" in r.error for r in hung)
    assert all(r.ok for r in out.results if r.config[SCALE] != "minmax")
    assert len(out.results) == 8


def test_time_budget_stops_the_running_trials_and_starts_no_new_one(tmp_path):
    with pytest.raises(SearchError) as e:
        search(random_searcher(), FoldPeak(folds=3, sleep=30), n_trials=50, time_budget=3.0, journal=tmp_path / "t.jsonl")
    out = e.value.outcome
    assert out.stopped == "budget: time"
    # both workers are on the first trial's folds: one trial started, stopped at the deadline
    assert [r.status for r in out.results] == ["timeout"]
    assert "search.budget.time" in out.results[0].error


def test_a_worker_that_cannot_load_the_evaluation_fails_each_trial_with_the_reason():
    with pytest.raises(SearchError) as e:
        search(random_searcher(), UnloadableFolds(), n_trials=3)
    assert {r.error for r in e.value.outcome.results} == {
        "WorkerError: a worker process cannot load the evaluation: RuntimeError: this object only loads in the driving process"
    }


class UnloadableFolds(FoldPeak):
    def __reduce__(self):
        from fixtures.search import _refuse_outside

        return (_refuse_outside, (os.getpid(),))


def test_pruning_strategies_and_plain_callables_keep_whole_trials():
    pruning = OptunaSearcher(mixed_space(), directions=MAX, seed=0, options=OptunaOptions(pruner="median"))
    plain = OptunaSearcher(mixed_space(), directions=MAX, seed=0, options=OptunaOptions(pruner="none"))
    assert pruning.prunes and not plain.prunes
    assert not _shares_folds(pruning, FoldPeak())
    assert _shares_folds(plain, FoldPeak())
    assert not _shares_folds(random_searcher(), Peak())  # no fold API
    assert not _shares_folds(random_searcher(), FoldPeak(folds=1))  # nothing to share
