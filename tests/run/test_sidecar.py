"""The side processes that write the model and draw the plots (automl_yaml.sidecar).

They only move work off the run's process: every job must give the same
result wherever it runs, and a side process that is missing, busy, killed
or failing must cost nothing but time.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from automl_yaml import sidecar


def where_and_modules() -> tuple[int, bool]:
    return os.getpid(), "matplotlib.pyplot" in sys.modules


def fails_elsewhere(parent: int) -> str:
    if os.getpid() != parent:
        raise RuntimeError("only in the side process")
    return "here"


def slow(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def raises() -> None:
    raise ValueError("the job's own error")


@pytest.fixture
def sides():
    sidecar.shutdown()
    sidecar.start(("plots",))
    yield sidecar._SIDES
    sidecar.shutdown()


def _ready(sides) -> None:
    side = sides["plots"]
    assert side.ready.wait(60)
    assert side.alive()


def test_a_job_runs_in_the_side_process_with_its_library_imported(sides) -> None:
    _ready(sides)
    job = sidecar.submit("plots", where_and_modules)
    pid, has_pyplot = job.result()
    assert pid == sides["plots"].proc.pid != os.getpid()
    assert has_pyplot  # imported while waiting (report.run.preload_plots)
    assert job.where == "plots"
    # the process is reused for the next job
    assert sidecar.submit("plots", where_and_modules).result()[0] == pid


def test_a_killed_side_process_costs_nothing_but_time(sides) -> None:
    _ready(sides)
    job = sidecar.submit("plots", slow, 1.0)
    sides["plots"].proc.kill()
    assert job.result() == os.getpid()  # done again, here
    assert job.where == "here"


def test_a_failing_job_is_run_again_here_with_its_own_error(sides) -> None:
    _ready(sides)
    assert sidecar.submit("plots", fails_elsewhere, os.getpid()).result() == "here"
    with pytest.raises(ValueError, match="the job's own error"):
        sidecar.submit("plots", raises).result()
    # and the side process still serves
    assert sidecar.submit("plots", where_and_modules).result()[0] != os.getpid()


def test_a_busy_side_process_leaves_the_job_to_the_caller(sides) -> None:
    _ready(sides)
    first = sidecar.submit("plots", slow, 1.0)
    second = sidecar.submit("plots", where_and_modules)
    assert second.result()[0] == os.getpid()
    assert first.result() != os.getpid()


def test_an_abandoned_job_frees_the_side_process_when_it_answers(sides) -> None:
    _ready(sides)
    sidecar.submit("plots", slow, 0.5).abandon()
    deadline = time.monotonic() + 10
    while sides["plots"].lock.locked() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sidecar.submit("plots", where_and_modules).result()[0] == sides["plots"].proc.pid


def test_switched_off(monkeypatch) -> None:
    sidecar.shutdown()
    monkeypatch.setenv("MLX_SIDECARS", "0")
    sidecar.start()
    assert sidecar._SIDES == {}
    job = sidecar.submit("plots", where_and_modules)
    assert job.result()[0] == os.getpid()


def _spec(tmp_path):
    spec = f"""
version: 1
name: sides
seed: 0
sources:
  d: {{kind: sample, name: breast_cancer}}
data: {{target: target}}
models:
  decision_tree:
    params: {{max_depth: {{choice: [2, 4]}}}}
search: {{strategy: grid, metric: roc_auc, cv: {{folds: 3}}}}
tracking: false
profile: false
output: {tmp_path / "out"}
"""
    path = tmp_path / "spec.yaml"
    path.write_text(spec)
    return path


def _check_outputs(result) -> None:
    import sklearn.datasets

    import automl_yaml

    plots = result.summary["paths"]["plots"]
    assert list(plots) == ["history", "confusion_matrix", "roc", "feature_importance"]  # the report's order
    for rel in plots.values():
        assert (result.output_dir / rel).stat().st_size > 1000
    data = sklearn.datasets.load_breast_cancer(as_frame=True).frame.drop(columns="target")
    predictions = automl_yaml.predict(result.output_dir / "model", data.head(7))
    assert len(predictions) == 7


@pytest.mark.parametrize("kill", [False, True], ids=["in the side processes", "side processes killed"])
def test_a_run_writes_its_model_and_plots_wherever_the_jobs_run(tmp_path, monkeypatch, kill) -> None:
    """The same outputs when the side processes do the jobs, and when they die and the run's process does."""
    import automl_yaml

    path = _spec(tmp_path)
    sidecar.shutdown()
    sidecar.start()
    assert all(side.ready.wait(60) for side in sidecar._SIDES.values())
    submitted = []
    real_submit = sidecar.submit

    def submit_and_watch(name, fn, *args):
        job = real_submit(name, fn, *args)
        submitted.append(job)
        if kill and job.side is not None:
            job.side.proc.kill()
        return job

    monkeypatch.setattr(sidecar, "submit", submit_and_watch)
    result = automl_yaml.run(path)
    sidecar.shutdown()
    assert [j.where for j in submitted] == (["here", "here"] if kill else ["model", "plots"])
    _check_outputs(result)


def _sides_at_search_start(monkeypatch) -> list:
    """The side processes already started each time a search starts (filled as runs go)."""
    from automl_yaml.search import driver

    seen: list = []
    real_run_search = driver.run_search

    def run_search(*args, **kwargs):
        seen.append(sorted(sidecar._SIDES))
        return real_run_search(*args, **kwargs)

    monkeypatch.setattr(driver, "run_search", run_search)
    return seen


def test_with_workers_on_every_core_the_model_process_starts_when_the_search_ends(tmp_path, monkeypatch) -> None:
    """Its imports would take CPU from the trials; the plots are drawn in the run's process meanwhile."""
    import automl_yaml

    path = _spec(tmp_path)
    sidecar.shutdown()
    started_during_search = _sides_at_search_start(monkeypatch)
    submitted = []
    real_submit = sidecar.submit

    def submit_and_watch(name, fn, *args):
        job = real_submit(name, fn, *args)
        submitted.append(job)
        return job

    monkeypatch.setattr(sidecar, "submit", submit_and_watch)
    result = automl_yaml.run(path, overrides=["execution.n_jobs=-1"])  # one worker per core
    sides = dict(sidecar._SIDES)
    sidecar.shutdown()
    assert started_during_search == [[]]
    assert sorted(sides) == ["model"]
    assert sides["model"].preload == sidecar.PRELOAD_MODEL_ONLY  # no matplotlib there
    assert [j.where for j in submitted] == ["model", "here"]
    _check_outputs(result)


def test_with_a_core_to_spare_both_start_with_the_run(tmp_path, monkeypatch) -> None:
    import automl_yaml

    path = _spec(tmp_path)
    sidecar.shutdown()
    started_during_search = _sides_at_search_start(monkeypatch)
    automl_yaml.run(path, overrides=["execution.n_jobs=1"])  # the trials in the run's process
    sidecar.shutdown()
    assert started_during_search == [["model", "plots"]]


def test_plots_drawn_in_the_run_s_process_leave_its_matplotlib_as_they_found_it(tmp_path, monkeypatch) -> None:
    """A notebook's backend is not switched to Agg, and no figure is left open (the plots use Figure, not pyplot)."""
    import matplotlib
    import matplotlib.pyplot as plt

    import automl_yaml

    before = matplotlib.get_backend()
    matplotlib.use("svg")  # a backend of the user's (a notebook's inline one, say)
    try:
        monkeypatch.setenv("MLX_SIDECARS", "0")  # every job in this process
        result = automl_yaml.run(_spec(tmp_path))
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == []
        _check_outputs(result)
    finally:
        matplotlib.use(before)


def joblib_backend() -> str:
    from joblib import Parallel, delayed

    with Parallel(n_jobs=2) as parallel:
        parallel(delayed(abs)(i) for i in range(2))
        return type(parallel._backend).__name__


def test_jobs_use_one_core_joblib_included(sides) -> None:
    """A model refitted with n_jobs: 2 predicts through joblib: sequentially in a side process, which has one core's share."""
    _ready(sides)
    assert sidecar.submit("plots", joblib_backend).result() == "SequentialBackend"
    assert joblib_backend() != "SequentialBackend"  # here, as configured
