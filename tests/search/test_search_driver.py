"""The driver: budgets, timeouts, patience, pruning, interrupts, worker deaths."""

from __future__ import annotations

import json

import pytest
from fixtures.search import SCALE, Breaks, Flat, Peak, grid_space, mixed_space

from automl_yaml.errors import SearchError
from automl_yaml.search.base import Trial, TrialResult
from automl_yaml.search.driver import _Book, run_search
from automl_yaml.search.grid import GridSearcher, RandomSearcher
from automl_yaml.search.journal import read_journal
from automl_yaml.search.optuna_search import OptunaSearcher
from automl_yaml.search.pareto import pareto_front
from automl_yaml.spec.models import OptunaOptions

MAX = ["maximize"]
SCALE_DIM = mixed_space().shared[0]


def search(searcher, objective, **kw):
    args = dict(directions=MAX, n_trials=None, time_budget=None, trial_timeout=None, patience=None, n_jobs=1, journal=None)
    args.update(kw)
    return run_search(searcher, objective, **args)


def random_searcher(seed=0, space=None):
    return RandomSearcher(space or mixed_space(), directions=MAX, seed=seed)


# ------------------------------------------------------------------ timeouts


def test_trial_timeout_stops_one_trial_and_the_search_goes_on():
    # minmax trials hang for 60 s; the trial timeout is 5 s, far above what the
    # other trials take even on a loaded machine (their worker's start included).
    out = search(random_searcher(), Peak(hang_scale="minmax", hang=60), n_trials=8, trial_timeout=5.0, n_jobs=2)
    assert len(out.results) == 8
    hung = [r for r in out.results if r.config[SCALE] == "minmax"]
    assert hung, "seed 0 draws minmax configurations"
    assert all(r.status == "timeout" for r in hung)
    assert all(r.error == "TimeoutError: stopped after 5s (search.budget.trial_timeout)" for r in hung)
    assert all(r.ok for r in out.results if r.config[SCALE] != "minmax")
    assert out.stopped == "budget: trials"


def test_time_budget_stops_running_trials_and_starts_no_new_one(tmp_path):
    # Every trial would take 30 s: those running at the deadline are
    # stopped, no other one starts, and with no success the search fails.
    # (Both workers normally start within the budget; on a loaded machine the
    # second may not have started its trial yet, which is no failure.)
    with pytest.raises(SearchError) as e:
        search(
            random_searcher(),
            Peak(hang_scale="standard", hang=30, sleep=30),
            n_trials=50,
            time_budget=3.0,
            n_jobs=2,
            journal=tmp_path / "t.jsonl",
        )
    out = e.value.outcome
    assert out.stopped == "budget: time"
    assert [r.status for r in out.results] in (["timeout", "timeout"], ["timeout"])
    assert "search.budget.time" in out.results[0].error
    # a budget shorter than one trial: said so, and the hint is the budget (no trial_timeout was set)
    assert "no trial finished within the time budget" in e.value.message
    assert "raise search.budget.time" in e.value.hint and "trial_timeout" not in e.value.hint
    lines = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert sum(x["event"] == "start" for x in lines) == len(out.results)  # every trial started was recorded, none more


def test_time_budget_with_one_job_runs_in_a_killable_worker():
    with pytest.raises(SearchError) as e:
        search(random_searcher(), Peak(sleep=30), n_trials=5, time_budget=1.0, n_jobs=1)
    assert [r.status for r in e.value.outcome.results] == ["timeout"]
    assert "the 1 trial(s) started were still running" in e.value.message


# ------------------------------------------------------------------ patience, best, pareto


def test_patience_stops_after_trials_without_improvement():
    out = search(random_searcher(), Flat(), n_trials=50, patience=4)
    # Trial 0 sets the best; trials 1-4 do not improve it.
    assert len(out.results) == 5
    assert out.stopped == "patience"
    assert out.best.number == 0


def test_patience_counts_from_the_last_improvement():
    # Grid order with one model: scores rise, then stay flat.
    out = search(GridSearcher(grid_space(), directions=MAX, seed=0), Peak(), patience=69)
    assert out.stopped == "exhausted"
    best_at = out.best.number
    out = search(GridSearcher(grid_space(), directions=MAX, seed=0), Peak(), patience=3)
    assert out.stopped == "patience"
    last_improvement = max(
        r.number for r in out.results if r.ok and all(r.values[0] > q.values[0] for q in out.results if q.number < r.number)
    )
    assert len(out.results) == last_improvement + 4
    assert out.best.number <= best_at


def test_best_ties_go_to_the_earlier_trial():
    book = _Book(MAX)
    for n in (2, 0, 1):  # results arrive in any order with parallel trials
        book.add(TrialResult(n, {}, "ok", [0.7]))
    assert book.best.number == 0


def test_pareto_front():
    points = [[0.9, 3.0], [0.8, 1.0], [0.7, 2.0], [0.9, 3.0], [0.95, 5.0]]
    assert pareto_front(points, ["maximize", "minimize"]) == [0, 1, 3, 4]
    assert pareto_front(points, ["minimize", "maximize"]) == [0, 2, 3, 4]
    assert pareto_front([[1.0, 1.0], [2.0, 2.0]], ["minimize", "minimize"]) == [0]


# ------------------------------------------------------------------ pruning


@pytest.mark.parametrize("pruner", ["median", "successive_halving", "hyperband"])
def test_pruners_stop_bad_trials_early(pruner):
    searcher = OptunaSearcher(mixed_space(), directions=MAX, seed=0, options=OptunaOptions(pruner=pruner, n_startup_trials=3))
    out = search(searcher, Peak(folds=5), n_trials=30)
    pruned = [r for r in out.results if r.status == "pruned"]
    assert len(pruned) >= 5
    for r in pruned:
        assert r.values is None
        assert 1 <= len(r.intermediate) < 5
        assert len(r.scores["score"]["folds"]) == len(r.intermediate)
    # Pruning keeps the good trials: the best one ran all its folds.
    assert out.best.ok and len(out.best.intermediate) == 5
    assert max(r.intermediate[-1] for r in pruned) < out.best.values[0]


def test_no_pruner_prunes_nothing():
    searcher = OptunaSearcher(mixed_space(), directions=MAX, seed=0, options=OptunaOptions(pruner="none", n_startup_trials=3))
    out = search(searcher, Peak(folds=5), n_trials=30)
    assert all(r.ok for r in out.results)


def test_pruning_works_across_worker_processes():
    # The random sampler keeps proposing poor configurations whatever the
    # timing of parallel results, so there is always something to prune.
    searcher = OptunaSearcher(
        mixed_space(), directions=MAX, seed=0, options=OptunaOptions(sampler="random", pruner="median", n_startup_trials=3)
    )
    out = search(searcher, Peak(folds=5), n_trials=24, n_jobs=2)
    assert len(out.results) == 24
    assert sum(r.status == "pruned" for r in out.results) >= 3


# ------------------------------------------------------------------ failures of the machinery


def test_a_worker_that_dies_fails_its_trial_only():
    out = search(random_searcher(), Breaks(at=2, how="exit"), n_trials=6, n_jobs=2)
    assert len(out.results) == 6
    dead = out.results[2]
    assert dead.status == "failed"
    assert dead.error == "WorkerError: the trial's process died (exit code 3)"
    assert all(r.ok for r in out.results if r.number != 2)


def test_an_evaluation_returning_garbage_is_a_failed_trial():
    out = search(random_searcher(), Breaks(at=1, how="garbage"), n_trials=3)
    assert out.results[1].status == "failed"
    assert out.results[1].error == "TypeError: the evaluation returned float, not a TrialResult"


def test_results_are_told_and_journaled_in_the_driving_process(tmp_path):
    seen = []
    out = search(random_searcher(), Peak(sleep=0.01), n_trials=10, n_jobs=2, journal=tmp_path / "j.jsonl", on_result=seen.append)
    assert sorted(r.number for r in seen) == list(range(10))
    assert [r.number for r in out.results] == list(range(10))
    results, pending = read_journal(tmp_path / "j.jsonl", mixed_space())
    assert [r.to_dict() for r in results] == [r.to_dict() for r in out.results] and pending == []


def test_the_search_says_once_when_a_worker_is_left_idle_at_its_end():
    """What follows the search (the model's process) may start on the freed core while the last trial runs."""
    seen, calls = [], []
    out = search(
        random_searcher(),
        Peak(sleep=0.01, slow_trial=9, hang=0.5),
        n_trials=10,
        n_jobs=2,
        on_result=seen.append,
        on_draining=lambda: calls.append(len(seen)),
    )
    assert len(out.results) == 10
    assert len(calls) == 1 and calls[0] < 10  # once, while the slow last trial still ran
    calls.clear()
    search(random_searcher(), Peak(), n_trials=3, on_draining=lambda: calls.append(1))  # one job, in this process
    assert calls == []


def test_n_jobs_minus_one_uses_every_cpu():
    out = search(random_searcher(), Peak(), n_trials=4, n_jobs=-1)
    assert len(out.results) == 4


# ------------------------------------------------------------------ Ctrl+C


def test_keyboard_interrupt_stops_cleanly_and_resume_reruns_the_interrupted_trial(tmp_path):
    journal = tmp_path / "j.jsonl"
    with pytest.raises(KeyboardInterrupt) as e:
        search(random_searcher(), Breaks(at=4, how="interrupt"), n_trials=10, journal=journal)
    so_far = e.value.search_outcome
    assert so_far.stopped == "interrupted"
    assert [r.number for r in so_far.results] == [0, 1, 2, 3]
    results, pending = read_journal(journal, mixed_space())
    assert [r.number for r in results] == [0, 1, 2, 3]
    assert [t.number for t in pending] == [4]
    seen = []
    out = search(random_searcher(), Peak(), n_trials=10, journal=journal, resume=True, on_result=seen.append)
    assert [r.number for r in out.results] == list(range(10))
    assert [r.number for r in seen] == [4, 5, 6, 7, 8, 9]
    assert out.results[4].config == pending[0].config


def test_restore_receives_finished_and_pending_trials(tmp_path):
    journal = tmp_path / "j.jsonl"
    search(random_searcher(), Peak(), n_trials=3, journal=journal)
    with open(journal, "a") as f:
        f.write(json.dumps({"event": "start", "number": 3, "config": {"model": "b", "b.depth": 2, SCALE: "robust"}, "time": 0}) + "\n")
        f.write('{"event": "result", "numb')  # torn by a kill

    class Spy(RandomSearcher):
        def restore(self, results, pending=()):
            self.got = ([r.number for r in results], [t.number for t in pending])
            super().restore(results, pending)

    spy = Spy(mixed_space(), directions=MAX, seed=0)
    search(spy, Peak(), n_trials=5, journal=journal, resume=True)
    assert spy.got == ([0, 1, 2], [3])
    results, pending = read_journal(journal)
    assert [r.number for r in results] == [0, 1, 2, 3, 4] and pending == []


def test_resuming_with_another_space_is_refused(tmp_path):
    journal = tmp_path / "j.jsonl"
    search(random_searcher(seed=0), Peak(), n_trials=3, journal=journal)
    with pytest.raises(SearchError) as e:
        search(random_searcher(seed=1), Peak(), n_trials=5, journal=journal, resume=True)
    assert "does not match" in e.value.message


def test_trial_result_round_trips_through_json():
    r = TrialResult(
        3, {"model": "a", "x": [1, 2]}, "ok", [0.5], {"acc": {"mean": float("nan"), "std": 0.0, "folds": [0.5]}}, intermediate=[0.5]
    )
    d = json.loads(json.dumps(r.to_dict()))
    assert d["config"]["x"] == {"$label": "[1, 2]"}
    assert d["scores"]["acc"]["mean"] is None
    back = TrialResult.from_dict(d)
    assert back.number == 3 and back.values == [0.5] and back.intermediate == [0.5]
    assert Trial(1, {}).number == 1


def test_a_last_line_without_newline_is_kept_when_whole(tmp_path):
    journal = tmp_path / "j.jsonl"
    search(random_searcher(), Peak(), n_trials=3, journal=journal)
    journal.write_text(journal.read_text().rstrip("\n"))  # killed between a record and its newline
    results, _ = read_journal(journal)
    assert [r.number for r in results] == [0, 1, 2]
    out = search(random_searcher(), Peak(), n_trials=5, journal=journal, resume=True)
    assert [r.number for r in out.results] == [0, 1, 2, 3, 4]
    results, pending = read_journal(journal)
    assert [r.number for r in results] == [0, 1, 2, 3, 4] and pending == []


@pytest.mark.parametrize("strategy", ["grid", "random", "genetic", "optuna", "hyperopt"])
def test_a_finite_space_is_exhausted(strategy):
    from automl_yaml.search.genetic import GeneticSearcher
    from automl_yaml.search.hyperopt_search import HyperoptSearcher
    from automl_yaml.search.space import Dim, ModelCandidate, SearchSpace

    space = SearchSpace({"m": ModelCandidate("m", "m", {}, (Dim("m.k", "categorical", choices=("x", "y")),))}, [SCALE_DIM])
    cls = {"grid": GridSearcher, "random": RandomSearcher, "genetic": GeneticSearcher, "optuna": OptunaSearcher, "hyperopt": HyperoptSearcher}[strategy]
    out = search(cls(space, directions=MAX, seed=0), lambda t, report=None: TrialResult(t.number, t.config, "ok", [1.0]), n_trials=100)
    assert out.stopped == "exhausted"
    assert len({json.dumps(r.config, sort_keys=True) for r in out.results}) == 6
    if strategy not in ("optuna", "hyperopt"):  # their samplers may repeat a configuration before they run out
        assert len(out.results) == 6


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("cls", [GridSearcher, RandomSearcher])
def test_a_trial_budget_equal_to_the_space_size_is_exhausted_not_budget(cls, n_jobs):
    # The planner gives a grid a budget of exactly its size: running every
    # configuration is "exhausted"; a budget below the size is the budget.
    out = search(cls(grid_space(), directions=MAX, seed=0, budget_trials=69), Flat(), n_trials=69, n_jobs=n_jobs)
    assert len(out.results) == 69 and out.stopped == "exhausted"
    out = search(cls(grid_space(), directions=MAX, seed=0, budget_trials=68), Flat(), n_trials=68, n_jobs=n_jobs)
    assert len(out.results) == 68 and out.stopped == "budget: trials"


def test_a_trial_budget_on_a_continuous_space_is_the_budget():
    out = search(random_searcher(), Peak(), n_trials=6)
    assert len(out.results) == 6 and out.stopped == "budget: trials"


def test_a_strategy_handing_out_a_number_twice_is_caught():
    class Buggy(RandomSearcher):
        def ask(self):
            t = super().ask()
            return Trial(0, t.config) if t is not None else None

    with pytest.raises(RuntimeError, match="handed out trial 0 twice"):
        search(Buggy(mixed_space(), directions=MAX, seed=0), Peak(), n_trials=3)


def test_an_evaluation_that_cannot_be_pickled_is_a_search_error():
    with pytest.raises(SearchError) as e:
        search(random_searcher(), lambda t, report=None: Peak()(t), n_trials=3, n_jobs=2)
    assert e.value.message.startswith("the trials cannot be sent to worker processes: ")
    assert "execution.n_jobs: 1" in e.value.hint


def test_a_worker_that_cannot_load_the_evaluation_fails_each_trial_with_the_reason():
    from fixtures.search import Unloadable

    with pytest.raises(SearchError) as e:
        search(random_searcher(), Unloadable(), n_trials=3, n_jobs=2)
    errors = {r.error for r in e.value.outcome.results}
    assert errors == {
        "WorkerError: a worker process cannot load the evaluation: RuntimeError: this object only loads in the driving process"
    }


def test_warm_up_then_search():
    from automl_yaml.search.driver import warm_up

    warm_up().join(60)
    out = search(random_searcher(), Peak(), n_trials=4, n_jobs=2)
    assert len(out.results) == 4
