"""Every strategy against one contract (like Optuna's sampler test classes).

:class:`SearcherContract` holds the checks; each strategy's class subclasses it
and says how to build the searcher, its budget and how close to the known
optimum of :func:`fixtures.search.peak` it must get.
"""

from __future__ import annotations

import json
import random

import pytest
from fixtures.search import SCALE, AlwaysFails, Peak, grid_space, mixed_space, peak

from automl_yaml.errors import SearchError
from automl_yaml.search.base import TrialResult, config_key
from automl_yaml.search.driver import run_search
from automl_yaml.search.genetic import GeneticSearcher
from automl_yaml.search.grid import GridSearcher, RandomSearcher
from automl_yaml.search.hyperopt_search import HyperoptSearcher
from automl_yaml.search.journal import read_journal
from automl_yaml.search.optuna_search import BayesianSearcher, OptunaSearcher
from automl_yaml.search.pareto import dominates
from automl_yaml.spec.models import BayesianOptions, GeneticOptions, HyperoptOptions, OptunaOptions


class SearcherContract:
    """The behaviour every strategy owes the driver."""

    searcher_cls: type
    options = None
    budget = 40
    #: Trials of the tests that check mechanics rather than search quality.
    small = 14
    #: The best score found must be at least ``1 - tolerance`` (the optimum is 1.0).
    tolerance = 0.05
    #: Whether n_jobs=2 must evaluate exactly the trials n_jobs=1 does.
    same_set_in_parallel = True

    def space(self):
        return mixed_space()

    def make(self, tmp_path, *, seed=0, budget=None, directions=("maximize",), space=None, options=None):
        return self.searcher_cls(
            space or self.space(),
            directions=list(directions),
            seed=seed,
            options=options if options is not None else self.options,
            budget_trials=budget or self.budget,
            workdir=tmp_path,
        )

    def run(self, tmp_path, objective=None, *, seed=0, n_trials=None, n_jobs=1, resume=False, directions=("maximize",), **kw):
        searcher = self.make(tmp_path, seed=seed, budget=n_trials, directions=directions)
        outcome = run_search(
            searcher,
            objective or Peak(),
            directions=list(directions),
            n_trials=n_trials or self.budget,
            time_budget=kw.pop("time_budget", None),
            trial_timeout=kw.pop("trial_timeout", None),
            patience=kw.pop("patience", None),
            n_jobs=n_jobs,
            journal=tmp_path / "trials.jsonl",
            resume=resume,
            **kw,
        )
        return searcher, outcome

    # ------------------------------------------------------------ finds the optimum
    def test_finds_the_known_optimum(self, tmp_path):
        _, out = self.run(tmp_path)
        assert len(out.results) == self.budget
        best = out.best
        assert best.values[0] == max(r.values[0] for r in out.results if r.ok)
        assert best.values[0] >= 1 - self.tolerance, best.config
        assert best.config["model"] == "a"
        assert best.config[SCALE] == "robust"
        assert best.values[0] == pytest.approx(peak(best.config), abs=1e-9)

    def test_configurations_are_complete_and_in_the_space(self, tmp_path):
        space = self.space()
        _, out = self.run(tmp_path, n_trials=self.small)
        dims = {d.name: d for d in space.dims()}
        for r in out.results:
            assert r.config == space.complete(r.config)
            model = r.config["model"]
            assert set(r.config) == {"model"} | {d.name for d in space.active_dims(model)}
            for k, v in r.config.items():
                assert dims[k].contains(v), (k, v)
                if dims[k].kind == "int":
                    assert type(v) is int
                if dims[k].kind == "float":
                    assert type(v) is float

    # ------------------------------------------------------------ reproducible
    def test_same_seed_same_sequence_and_best(self, tmp_path):
        _, a = self.run(tmp_path / "a", seed=7, n_trials=self.small)
        _, b = self.run(tmp_path / "b", seed=7, n_trials=self.small)
        assert [r.config for r in a.results] == [r.config for r in b.results]
        assert a.best.number == b.best.number

    def test_parallel_runs_evaluate_the_same_trials(self, tmp_path):
        if not self.same_set_in_parallel:
            pytest.skip("adaptive strategy: parallel trials see other results")
        _, one = self.run(tmp_path / "one", seed=5, n_trials=self.small)
        _, two = self.run(tmp_path / "two", seed=5, n_trials=self.small, n_jobs=2)
        assert {(r.number, config_key(r.config)) for r in two.results} == {(r.number, config_key(r.config)) for r in one.results}
        assert two.best.number == one.best.number

    # ------------------------------------------------------------ budgets
    def test_trial_budget_is_exact(self, tmp_path):
        _, out = self.run(tmp_path, n_trials=7)
        assert [r.number for r in out.results] == list(range(7))
        assert out.stopped == "budget: trials"
        lines = (tmp_path / "trials.jsonl").read_text().splitlines()
        assert sum(json.loads(x)["event"] == "result" for x in lines) == 7

    def test_time_budget_ends_the_search(self, tmp_path):
        # Each trial takes 0.15 s: 1.5 s cannot hold 100 of them.
        _, out = self.run(tmp_path, Peak(folds=3, sleep=0.05), n_trials=100, time_budget=1.5, n_jobs=1)
        assert out.stopped == "budget: time"
        assert 0 < len(out.results) < 100
        assert {r.status for r in out.results} <= {"ok", "timeout"}
        assert [r.number for r in out.results] == list(range(len(out.results)))

    # ------------------------------------------------------------ failures
    def test_failing_trials_are_recorded_and_the_search_goes_on(self, tmp_path):
        _, out = self.run(tmp_path, Peak(fail_scale="minmax"), n_trials=self.small)
        failed = [r for r in out.results if r.status == "failed"]
        assert len(out.results) == self.small
        assert failed, "the space has minmax configurations: some must have been tried"
        assert all(r.config[SCALE] == "minmax" for r in failed)
        assert all(r.error == "ValueError: scale minmax is not supported" for r in failed)
        assert all(r.values is None for r in failed)
        assert all(r.ok for r in out.results if r.config[SCALE] != "minmax")
        assert out.best.config[SCALE] != "minmax"

    def test_every_trial_failing_raises_search_error(self, tmp_path):
        with pytest.raises(SearchError) as e:
            self.run(tmp_path, AlwaysFails(), n_trials=5)
        assert "every trial failed (5 of 5)" in e.value.message
        assert "RuntimeError: this estimator cannot fit" in e.value.message
        assert e.value.hint
        assert [r.status for r in e.value.outcome.results] == ["failed"] * 5

    # ------------------------------------------------------------ resume
    def test_resume_continues_without_running_trials_again(self, tmp_path):
        half = self.small // 2
        _, first = self.run(tmp_path, n_trials=half)
        _, second = self.run(tmp_path, n_trials=self.small, resume=True)
        assert [r.number for r in second.results] == list(range(self.small))
        # The first ones are the journal's, not new runs.
        assert [r.started_at for r in second.results[:half]] == [r.started_at for r in first.results]
        results, pending = read_journal(tmp_path / "trials.jsonl")
        assert [r.number for r in results] == list(range(self.small)) and pending == []

    def test_resume_runs_a_trial_that_never_finished_once(self, tmp_path):
        n = self.small
        self.run(tmp_path, n_trials=n)
        # As if the process died while the last two trials ran: their start
        # lines stay, their results are gone.
        path = tmp_path / "trials.jsonl"
        lines = path.read_text().splitlines()
        keep = [x for x in lines if not (json.loads(x)["event"] == "result" and json.loads(x)["number"] >= n - 2)]
        path.write_text("\n".join(keep) + "\n")
        results, pending = read_journal(path, self.space())
        assert [t.number for t in pending] == [n - 2, n - 1]
        _, second = self.run(tmp_path, n_trials=n, resume=True)
        assert [r.number for r in second.results] == list(range(n))
        assert [r.config for r in second.results[n - 2 :]] == [t.config for t in pending]
        results, pending = read_journal(path)
        assert [r.number for r in results] == list(range(n)) and pending == []

    # ------------------------------------------------------------ several objectives
    def test_multi_objective_pareto_front(self, tmp_path):
        directions = ("maximize", "minimize")
        _, out = self.run(tmp_path, Peak(second=True), n_trials=self.small, directions=directions)
        ok = {r.number: r for r in out.results if r.ok}
        assert all(len(r.values) == 2 for r in ok.values())
        front = set(out.pareto)
        assert front and front <= set(ok)
        for n, r in ok.items():
            dominated = any(dominates(q.values, r.values, directions) for q in ok.values())
            assert dominated == (n not in front)
        assert out.best.values[0] == max(r.values[0] for r in ok.values())


class TestGrid(SearcherContract):
    searcher_cls = GridSearcher
    budget = 69  # the grid's size
    tolerance = 0.0

    def space(self):
        return grid_space()

    def test_runs_exactly_the_grid(self, tmp_path):
        from sklearn.model_selection import ParameterGrid

        searcher, out = self.run(tmp_path, n_trials=1000)
        assert out.stopped == "exhausted"
        assert len(out.results) == len(searcher) == 69
        expected = [config_key(grid_space().complete(c)) for c in ParameterGrid(grid_space().grids())]
        assert [config_key(r.config) for r in out.results] == expected
        assert len(set(expected)) == 69

    def test_a_continuous_dimension_is_a_usage_error(self, tmp_path):
        from automl_yaml.errors import UsageError

        with pytest.raises(UsageError) as e:
            GridSearcher(mixed_space(), directions=["maximize"], seed=0)
        assert "'models.a.params.lr'" in e.value.message
        assert "step" in e.value.hint


class TestRandom(SearcherContract):
    searcher_cls = RandomSearcher
    budget = 60
    tolerance = 0.1

    def test_a_finite_space_never_repeats(self, tmp_path):
        # 69 configurations, a budget of 69: every one exactly once.
        searcher = RandomSearcher(grid_space(), directions=["maximize"], seed=1, budget_trials=100)
        out = run_search(
            searcher,
            Peak(),
            directions=["maximize"],
            n_trials=100,
            time_budget=None,
            trial_timeout=None,
            patience=None,
            n_jobs=1,
            journal=None,
        )
        keys = [config_key(r.config) for r in out.results]
        assert len(keys) == 69 == len(set(keys))
        assert out.stopped == "exhausted"

    def test_a_finite_space_with_int_ranges_never_repeats(self, tmp_path):
        from automl_yaml.search.space import Dim, ModelCandidate, SearchSpace

        space = SearchSpace(
            {"m": ModelCandidate("m", "m", {}, (Dim("m.k", "int", low=1, high=4), Dim("m.j", "int", low=1, high=8, log=True)))}, []
        )
        searcher = RandomSearcher(space, directions=["maximize"], seed=0)
        configs = []
        while (t := searcher.ask()) is not None:
            configs.append(config_key(t.config))
        assert len(configs) == 32 == len(set(configs))

    def test_log_scale_is_sampled_log_uniformly(self):
        searcher = RandomSearcher(mixed_space(), directions=["maximize"], seed=0)
        lrs = []
        while len(lrs) < 300:
            t = searcher.ask()
            if t.config["model"] == "a":
                lrs.append(t.config["a.lr"])
        # Log-uniform on [1e-4, 1]: half below 1e-2; uniform would put 1% there.
        share = sum(x < 1e-2 for x in lrs) / len(lrs)
        assert 0.4 < share < 0.6


class TestGenetic(SearcherContract):
    searcher_cls = GeneticSearcher
    options = GeneticOptions(population=10, generations=10)
    budget = 60
    tolerance = 0.05

    def test_does_not_touch_the_global_random_state(self, tmp_path):
        random.seed(123)
        state = random.getstate()
        _, a = self.run(tmp_path / "a", n_trials=25)
        assert random.getstate() == state
        random.seed(999)  # another global state must not change the search
        _, b = self.run(tmp_path / "b", n_trials=25)
        assert [r.config for r in a.results] == [r.config for r in b.results]

    def test_generations_improve_with_elitism(self, tmp_path):
        searcher = self.make(tmp_path, budget=1000)
        best_by_generation = {}
        while (t := searcher.ask()) is not None:
            r = Peak()(t)
            searcher.tell(t, r)
            g = searcher.generation
            best_by_generation[g] = max(best_by_generation.get(g, -1.0), r.values[0])
        assert searcher.generation == self.options.generations
        running = [max(v for k, v in best_by_generation.items() if k <= g) for g in sorted(best_by_generation)]
        assert running[-1] > running[0]

    def test_operators_follow_the_options(self, tmp_path):
        # No crossover and no mutation: offspring are copies of their parents,
        # so after the first generation nothing new is ever proposed.
        searcher = self.make(tmp_path, options=GeneticOptions(population=8, generations=5, crossover=0.0, mutation=0.0))
        numbers = []
        while (t := searcher.ask()) is not None:
            numbers.append(t.number)
            searcher.tell(t, Peak()(t))
        assert numbers == list(range(8))


class TestOptuna(SearcherContract):
    searcher_cls = OptunaSearcher
    options = OptunaOptions(n_startup_trials=10)
    budget = 50
    tolerance = 0.03
    same_set_in_parallel = False

    def test_study_is_kept_in_a_journal_file(self, tmp_path):
        import optuna

        searcher, out = self.run(tmp_path, n_trials=12)
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "optuna.journal")))
        study = optuna.load_study(study_name="mlx", storage=storage)
        assert len(study.trials) == 12
        assert [t.user_attrs["mlx_number"] for t in study.trials] == list(range(12))
        assert study.best_value == out.best.values[0]

    def test_importances_after_enough_trials(self, tmp_path):
        searcher = self.make(tmp_path)
        assert searcher.importances() is None
        searcher, _ = self.run(tmp_path, n_trials=20)
        imp = searcher.importances()
        assert imp and set(imp) <= {d.name for d in mixed_space().dims()}
        assert sum(imp.values()) == pytest.approx(1.0)

    def test_nsga2_is_the_default_for_several_objectives(self, tmp_path):
        import optuna

        s = self.make(tmp_path, directions=("maximize", "minimize"), options=OptunaOptions())
        assert isinstance(s.sampler, optuna.samplers.NSGAIISampler)
        s = self.make(tmp_path, directions=("maximize", "minimize"), options=OptunaOptions(sampler="tpe"))
        assert isinstance(s.sampler, optuna.samplers.TPESampler)

    @pytest.mark.parametrize("sampler", ["tpe", "nsga2", "qmc", "random"])
    def test_each_sampler_searches(self, tmp_path, sampler):
        searcher = self.make(tmp_path, options=OptunaOptions(sampler=sampler, pruner="none", n_startup_trials=5))
        out = run_search(
            searcher,
            Peak(),
            directions=["maximize"],
            n_trials=15,
            time_budget=None,
            trial_timeout=None,
            patience=None,
            n_jobs=1,
            journal=None,
        )
        assert len(out.results) == 15 and all(r.ok for r in out.results)

    def test_cmaes_needs_its_package(self, tmp_path):
        import importlib.util

        from automl_yaml.errors import MissingDependencyError

        if importlib.util.find_spec("cmaes") is not None:
            import optuna

            assert isinstance(self.make(tmp_path, options=OptunaOptions(sampler="cmaes")).sampler, optuna.samplers.CmaEsSampler)
            return
        with pytest.raises(MissingDependencyError) as e:
            self.make(tmp_path, options=OptunaOptions(sampler="cmaes"))
        assert e.value.hint == "pip install cmaes"

    def test_choices_optuna_cannot_store_travel_as_labels(self, tmp_path):
        from automl_yaml.search.space import Dim, ModelCandidate, SearchSpace

        layers = Dim("mlp.hidden_layer_sizes", "categorical", choices=([10], [20, 10], None), model="mlp")
        alpha = Dim("mlp.alpha", "float", low=1e-5, high=1.0, log=True, model="mlp")
        space = SearchSpace({"mlp": ModelCandidate("mlp", "mlp", {}, (layers, alpha))}, [])

        def objective(trial, report=None):
            return TrialResult(trial.number, trial.config, "ok", [float(len(trial.config["mlp.hidden_layer_sizes"] or []))])

        searcher = OptunaSearcher(space, directions=["maximize"], seed=0, workdir=tmp_path)
        out = run_search(
            searcher,
            objective,
            directions=["maximize"],
            n_trials=8,
            time_budget=None,
            trial_timeout=None,
            patience=None,
            n_jobs=1,
            journal=tmp_path / "j.jsonl",
        )
        assert {type(r.config["mlp.hidden_layer_sizes"]) for r in out.results} <= {list, type(None)}
        assert out.best.config["mlp.hidden_layer_sizes"] == [20, 10]
        # The journal stores labels and resume gives the lists back.
        results, _ = read_journal(tmp_path / "j.jsonl", space)
        assert [r.config for r in results] == [r.config for r in out.results]
        searcher = OptunaSearcher(space, directions=["maximize"], seed=0, workdir=tmp_path)
        again = run_search(
            searcher,
            objective,
            directions=["maximize"],
            n_trials=10,
            time_budget=None,
            trial_timeout=None,
            patience=None,
            n_jobs=1,
            journal=tmp_path / "j.jsonl",
            resume=True,
        )
        assert len(again.results) == 10
        assert [r.config for r in again.results[:8]] == [r.config for r in out.results]


class TestHyperopt(SearcherContract):
    searcher_cls = HyperoptSearcher
    options = HyperoptOptions(n_startup_trials=10)
    budget = 50
    tolerance = 0.03
    same_set_in_parallel = False

    @pytest.mark.parametrize("algorithm", ["tpe", "anneal", "rand"])
    def test_each_algorithm_is_hyperopts_own(self, tmp_path, algorithm, monkeypatch):
        import hyperopt

        calls = []
        real = getattr(hyperopt, algorithm).suggest

        def spy(new_ids, domain, trials, seed, **kw):
            calls.append(list(new_ids))
            return real(new_ids, domain, trials, seed, **kw)

        monkeypatch.setattr(getattr(hyperopt, algorithm), "suggest", spy)
        searcher = self.make(tmp_path, options=HyperoptOptions(algorithm=algorithm, n_startup_trials=5))
        out = run_search(
            searcher, Peak(), directions=["maximize"], n_trials=15, time_budget=None, trial_timeout=None, patience=None, n_jobs=1, journal=None
        )
        assert len(out.results) == 15 and all(r.ok for r in out.results)
        # every trial was proposed by the algorithm, one document per ask, numbered as the trials are
        assert calls == [[n] for n in range(15)]
        assert [t["tid"] for t in searcher.trials.trials] == list(range(15))
        assert [t["result"]["loss"] for t in searcher.trials.trials] == [-r.values[0] for r in out.results]

    def test_a_minimised_metric_is_hyperopts_loss_as_is(self, tmp_path):
        searcher, out = self.run(tmp_path, Peak(second=True), n_trials=6, directions=("minimize", "maximize"))
        assert [t["result"]["loss"] for t in searcher.trials.trials] == [r.values[0] for r in out.results]

    def test_failed_trials_are_failures_to_hyperopt(self, tmp_path):
        searcher, out = self.run(tmp_path, Peak(fail_scale="minmax"), n_trials=self.small)
        statuses = {r.number: r.status for r in out.results}
        for doc in searcher.trials.trials:
            assert doc["result"]["status"] == ("fail" if statuses[doc["tid"]] == "failed" else "ok")

    def test_different_seeds_search_differently(self, tmp_path):
        _, a = self.run(tmp_path / "a", seed=1, n_trials=self.small)
        _, b = self.run(tmp_path / "b", seed=2, n_trials=self.small)
        assert [r.config for r in a.results] != [r.config for r in b.results]

    def test_resume_rebuilds_hyperopts_history_from_the_journal(self, tmp_path):
        half = self.small // 2
        self.run(tmp_path, n_trials=half)
        searcher, second = self.run(tmp_path, n_trials=self.small, resume=True)
        docs = searcher.trials.trials
        assert [d["tid"] for d in docs] == list(range(self.small))
        # the journal's trials are in Hyperopt's history with their losses, as the new ones are
        assert [d["result"]["loss"] for d in docs] == [-r.values[0] for r in second.results]
        assert [searcher.to_config(d["misc"]["vals"]) for d in docs] == [r.config for r in second.results]
        keys = [config_key(r.config) for r in second.results]
        assert len(set(keys)) == len(keys)

    def test_without_hyperopt_says_how_to_install_it(self, tmp_path, monkeypatch):
        import sys

        from automl_yaml.errors import MissingDependencyError

        monkeypatch.setitem(sys.modules, "hyperopt", None)  # import hyperopt -> ImportError
        with pytest.raises(MissingDependencyError) as e:
            self.make(tmp_path)
        assert "'hyperopt'" in e.value.message and "hyperopt strategy" in e.value.message
        assert e.value.hint == 'pip install "automl-yaml[hyperopt]"'


def _needs_torch():
    """The GP needs PyTorch: skip without it locally, fail on CI (a missing install step)."""
    import importlib.util
    import os

    if importlib.util.find_spec("torch") is None:
        message = 'the bayesian strategy needs PyTorch: pip install "torch==2.13.0+cpu"'
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class TestBayesian(SearcherContract):
    searcher_cls = BayesianSearcher

    @pytest.fixture(autouse=True)
    def _torch(self, request):
        if request.node.originalname != "test_without_torch_says_how_to_install_it":
            _needs_torch()

    # Optuna's GP takes ~0.7 s per trial on 2 CPUs: small budgets.
    options = BayesianOptions(n_startup_trials=6)
    budget = 16
    small = 8
    tolerance = 0.03
    same_set_in_parallel = False

    def test_uses_optunas_gp_sampler(self, tmp_path):
        import optuna

        assert isinstance(self.make(tmp_path).sampler, optuna.samplers.GPSampler)

    def test_without_torch_says_how_to_install_it(self, tmp_path, monkeypatch):
        import sys

        from automl_yaml.errors import TORCH_PIP, MissingDependencyError

        monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
        with pytest.raises(MissingDependencyError) as e:
            self.make(tmp_path)
        assert "'torch'" in e.value.message and "GPSampler" in e.value.message
        # +cpu builds are not on PyPI: the hint names PyTorch's CPU index (issue 15.11)
        assert e.value.hint == TORCH_PIP and "--index-url https://download.pytorch.org/whl/cpu" in TORCH_PIP


def test_a_run_without_torch_fails_before_reading_its_data(tmp_path, monkeypatch, capsys):
    """`mlx validate` only warns (torch may be installed later); `mlx run` stops before the data is read."""
    from importlib import util

    import automl_yaml.data.assemble as assemble
    from automl_yaml.cli import main

    real = util.find_spec
    monkeypatch.setattr(util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setattr(assemble, "load_source", lambda *a, **k: pytest.fail("the data was read"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\n"
        "models: [logistic_regression]\nsearch: {strategy: bayesian, budget: {trials: 3}}\ntracking: false\n"
    )
    assert main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    flat = " ".join(err.split())
    assert "'torch'" in err and "pip install torch --index-url https://download.pytorch.org/whl/cpu" in flat and "Traceback" not in err


@pytest.mark.parametrize("command", ["validate", "run"])
def test_without_hyperopt_validate_and_run_refuse_before_anything_runs(tmp_path, monkeypatch, capsys, command):
    """The hyperopt strategy is an optional extra: the spec cannot run without it, so `mlx validate` says so (exit 2)."""
    from importlib import util

    import automl_yaml.data.assemble as assemble
    from automl_yaml.cli import main
    from automl_yaml.spec import semantic

    real = util.find_spec
    missing = lambda name, *a: None if name == "hyperopt" else real(name, *a)  # noqa: E731
    monkeypatch.setattr(util, "find_spec", missing)
    monkeypatch.setattr(semantic, "find_spec", missing)
    monkeypatch.setattr(assemble, "load_source", lambda *a, **k: pytest.fail("the data was read"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\nmodels: [logistic_regression]\n"
        "search:\n  strategy: hyperopt\n  budget: {trials: 3}\ntracking: false\n"
    )
    assert main([command, str(spec)]) == 2
    err = capsys.readouterr().err
    assert "spec.yaml:5" in err and "search.strategy" in err
    assert "the hyperopt strategy needs the hyperopt package, which is not installed" in err
    assert 'pip install "automl-yaml[hyperopt]"' in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_a_run_of_a_loaded_spec_without_hyperopt_fails_before_reading_its_data(tmp_path, monkeypatch):
    """A spec loaded (validated) where hyperopt was found, then run without it: the run refuses before the data."""
    from importlib import util

    import automl_yaml.data.assemble as assemble
    from automl_yaml.errors import MissingDependencyError
    from automl_yaml.runner import run
    from automl_yaml.spec import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\nsearch: {strategy: hyperopt}\ntracking: false\n")
    loaded = load_spec(spec)
    real = util.find_spec
    monkeypatch.setattr(util, "find_spec", lambda name, *a: None if name == "hyperopt" else real(name, *a))
    monkeypatch.setattr(assemble, "load_source", lambda *a, **k: pytest.fail("the data was read"))
    with pytest.raises(MissingDependencyError) as e:
        run(loaded, quiet=True, progress=False)
    assert e.value.exit_code == 2
    assert "'hyperopt' is needed for the hyperopt strategy" in e.value.message and e.value.hint == 'pip install "automl-yaml[hyperopt]"'


def test_hyperopt_with_several_metrics_warns_that_the_first_one_steers():
    from automl_yaml.spec import load_spec

    base = {"sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "target"}}
    loaded = load_spec({**base, "search": {"strategy": "hyperopt", "metric": ["accuracy", "fit_time"]}})
    (w,) = [p for p in loaded.warnings if p.path == "search.metric"]
    assert "the first metric (accuracy) steers the search" in w.message and "strategy: optuna" in w.hint
    assert not [p for p in load_spec({**base, "search": {"strategy": "hyperopt", "metric": "accuracy"}}).warnings if p.path == "search.metric"]


_NO_GREENLET = """
import sys
sys.modules["greenlet"] = None  # import greenlet -> ImportError, as where it is not installed
"""

_GP_SEARCH = """
from automl_yaml.search.base import TrialResult
from automl_yaml.search.driver import run_search
from automl_yaml.search.optuna_search import BayesianSearcher
from automl_yaml.search.space import Dim, ModelCandidate, SearchSpace
from automl_yaml.spec.models import BayesianOptions
import optuna

space = SearchSpace({"m": ModelCandidate("m", "m", {}, (Dim("m.x", "float", low=0.0, high=1.0),))}, [])
searcher = BayesianSearcher(space, directions=["maximize"], seed=0, options=BayesianOptions(n_startup_trials=2))
run_search(searcher, lambda t, report=None: TrialResult(t.number, t.config, "ok", [-(t.config["m.x"] - 0.3) ** 2]),
           directions=["maximize"], n_trials=4, time_budget=None, trial_timeout=None, patience=None, n_jobs=1, journal=None)
assert "optuna._gp.batched_lbfgsb" in sys.modules  # the GP's suggestions went through the module that warns
optuna.logging.get_logger("optuna._gp.batched_lbfgsb").warning("another warning of that module")
"""


def test_optunas_greenlet_notice_is_filtered_and_nothing_else():
    import subprocess
    import sys

    _needs_torch()

    def stderr(code: str) -> str:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    # without our filter, Optuna warns as soon as its GP code is imported
    assert "'greenlet' package is unavailable" in stderr(_NO_GREENLET + "import optuna._gp.batched_lbfgsb\n")
    # a bayesian search shows no such line; other warnings of that logger still show
    err = stderr(_NO_GREENLET + _GP_SEARCH)
    assert "greenlet" not in err
    assert "another warning of that module" in err
