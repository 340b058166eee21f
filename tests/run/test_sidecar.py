"""The side processes that write the model and draw the plots (automl_yaml.sidecar).

They only move work off the run's process: every job must give the same
result wherever it runs, and a side process that is missing, busy, killed
or failing must cost nothing but time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

import pytest
from fixtures.sides import side_importing

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
    sidecar.start(("model",))
    yield sidecar._SIDES
    sidecar.shutdown()


def _ready(sides) -> None:
    side = sides["model"]
    assert side.ready.wait(60)
    assert side.alive()


def test_a_job_runs_in_the_side_process_with_its_library_imported(sides) -> None:
    _ready(sides)
    job = sidecar.submit("model", where_and_modules)
    pid, has_pyplot = job.result()
    assert pid == sides["model"].proc.pid != os.getpid()
    assert has_pyplot  # imported while waiting (report.run.preload_plots)
    assert job.where == "model"
    # the process is reused for the next job
    assert sidecar.submit("model", where_and_modules).result()[0] == pid


def test_a_killed_side_process_costs_nothing_but_time(sides) -> None:
    _ready(sides)
    job = sidecar.submit("model", slow, 1.0)
    sides["model"].proc.kill()
    assert job.result() == os.getpid()  # done again, here
    assert job.where == "here"


def test_a_failing_job_is_run_again_here_with_its_own_error(sides) -> None:
    _ready(sides)
    assert sidecar.submit("model", fails_elsewhere, os.getpid()).result() == "here"
    with pytest.raises(ValueError, match="the job's own error"):
        sidecar.submit("model", raises).result()
    # and the side process still serves
    assert sidecar.submit("model", where_and_modules).result()[0] != os.getpid()


def test_a_busy_side_process_leaves_the_job_to_the_caller(sides) -> None:
    _ready(sides)
    first = sidecar.submit("model", slow, 1.0)
    second = sidecar.submit("model", where_and_modules)
    assert second.result()[0] == os.getpid()
    assert first.result() != os.getpid()


def test_an_abandoned_job_frees_the_side_process_when_it_answers(sides) -> None:
    _ready(sides)
    sidecar.submit("model", slow, 0.5).abandon()
    deadline = time.monotonic() + 10
    while sides["model"].lock.locked() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sidecar.submit("model", where_and_modules).result()[0] == sides["model"].proc.pid


def test_switched_off(monkeypatch) -> None:
    sidecar.shutdown()
    monkeypatch.setenv("MLX_SIDECARS", "0")
    sidecar.start()
    assert sidecar._SIDES == {}
    job = sidecar.submit("model", where_and_modules)
    assert job.result()[0] == os.getpid()
    assert sidecar.submit("model", span, 0.0, twin=span).result()[1][0] == os.getpid()


# ------------------------------------------------------------------ the twin


def span(seconds: float, *_) -> tuple[int, float, float]:
    """Which process, and when it worked (wall clock)."""
    start = time.time()
    time.sleep(seconds)
    return os.getpid(), start, time.time()


def fails_in_other_processes(seconds: float, side_pid: int) -> tuple[int, float, float]:
    if os.getpid() != side_pid:
        raise RuntimeError("only in the side process")
    return span(seconds)


def twin_fails_everywhere(seconds: float, side_pid: int):
    raise ValueError("the twin's own error")


def fails_in_the_side_process(seconds: float, side_pid: int):
    if os.getpid() == side_pid:
        raise RuntimeError("only in the side process")
    return span(seconds)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.split()[:2] == ["State:", "Z"] for line in f)
    except FileNotFoundError:
        return True


def _imported_marker(pid: int):
    import tempfile
    from pathlib import Path

    return Path(tempfile.gettempdir()) / f"mlx-test-imported-{pid}"


def slow_import() -> None:
    time.sleep(3.0)
    _imported_marker(os.getpid()).touch()


def test_jobs_are_done_while_the_side_process_still_imports(monkeypatch) -> None:
    """With n_jobs: 2 the search leaves the side process little CPU for MLflow's import; the plots must not wait for it."""
    with side_importing(monkeypatch, f"{__name__}:slow_import") as side:
        side_pid = side.proc.pid
        (a, *_), (b, *_) = sidecar.submit("model", span, 0.0, twin=span).result()
        assert a == side_pid and b not in (a, os.getpid())
        assert not _imported_marker(side_pid).exists()  # answered before its own imports were done
        deadline = time.monotonic() + 30
        while not _imported_marker(side_pid).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _imported_marker(side_pid).exists()
        _imported_marker(side_pid).unlink()


def test_the_side_process_imports_at_a_lower_priority_and_does_its_jobs_at_the_normal_one(monkeypatch) -> None:
    with side_importing(monkeypatch, f"{__name__}:slow_import") as side:
        _check_priorities(side.proc.pid)


def _check_priorities(pid: int) -> None:
    deadline = time.monotonic() + 30
    niced = {}
    while time.monotonic() < deadline and not niced:  # the import thread, while it runs
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                stat = open(f"/proc/{pid}/task/{task}/stat").read()
                if stat.rsplit(")", 1)[1].split()[16] == "10":
                    niced[task] = stat
        time.sleep(0.01)
    assert niced, "no thread of the side process was niced"
    assert sidecar.submit("model", priority).result() == 0
    assert sidecar.submit("model", priority, twin=priority).result() == (0, 0)
    _imported_marker(pid).unlink(missing_ok=True)


def priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)  # Linux: the calling thread's


def _twin_pid(sides) -> int:
    (mine, *_), (theirs, *_) = sidecar.submit("model", span, 0.0, twin=span).result()
    assert mine == sides["model"].proc.pid
    assert theirs not in (mine, os.getpid())
    return theirs


def test_a_job_with_a_twin_runs_its_halves_at_the_same_time_in_two_processes(sides) -> None:
    _ready(sides)
    sidecar.submit("model", span, 0.0).result()  # answered once the side process's imports are done
    job = sidecar.submit("model", span, 0.5, twin=span)
    (a, a0, a1), (b, b0, b1) = job.result()
    assert a == sides["model"].proc.pid
    assert b not in (a, os.getpid())
    assert a0 < b1 and b0 < a1  # overlapping: at the same time
    assert job.where == "model"
    assert _twin_pid(sides) == b  # the same twin serves the next job


def test_a_dead_twin_leaves_its_half_to_the_side_process(sides) -> None:
    _ready(sides)
    os.kill(_twin_pid(sides), signal.SIGKILL)
    (a, *_), (b, *_) = sidecar.submit("model", span, 0.0, twin=span).result()
    assert a == b == sides["model"].proc.pid
    # and it goes on serving, without a twin
    (a, *_), (b, *_) = sidecar.submit("model", span, 0.0, twin=span).result()
    assert a == b == sides["model"].proc.pid


def test_a_twin_that_raises_leaves_its_half_to_the_side_process(sides) -> None:
    _ready(sides)
    side_pid = sides["model"].proc.pid
    (a, *_), (b, *_) = sidecar.submit("model", span, 0.0, side_pid, twin=fails_in_other_processes).result()
    assert a == b == side_pid
    # raising there too: the whole job is done here, for the real error
    job = sidecar.submit("model", span, 0.0, side_pid, twin=twin_fails_everywhere)
    with pytest.raises(ValueError, match="the twin's own error"):
        job.result()
    assert job.where == "here"
    assert _twin_pid(sides) != side_pid  # the twin still serves


def test_when_the_side_process_raises_the_twins_answer_is_not_left_for_the_next_job(sides) -> None:
    _ready(sides)
    side_pid = sides["model"].proc.pid
    (a, *_), (b, *_) = sidecar.submit("model", fails_in_the_side_process, 0.3, side_pid, twin=fails_in_the_side_process).result()
    assert a == b == os.getpid()  # done here
    (a, *_), (b, *_) = sidecar.submit("model", span, 0.0, twin=span).result()
    assert a == side_pid and b not in (side_pid, os.getpid())


def test_the_twin_ends_with_its_side_process(sides) -> None:
    _ready(sides)
    twin = _twin_pid(sides)
    sidecar.shutdown()
    deadline = time.monotonic() + 10
    while not _gone(twin) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(twin)


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

    def submit_and_watch(name, fn, *args, **kwargs):
        job = real_submit(name, fn, *args, **kwargs)
        submitted.append(job)
        if kill and job.side is not None:
            job.side.proc.kill()
        return job

    monkeypatch.setattr(sidecar, "submit", submit_and_watch)
    result = automl_yaml.run(path)
    sidecar.shutdown()
    assert [j.where for j in submitted] == (["here"] if kill else ["model"])
    _check_outputs(result)


def joblib_backend() -> str:
    from joblib import Parallel, delayed

    with Parallel(n_jobs=2) as parallel:
        parallel(delayed(abs)(i) for i in range(2))
        return type(parallel._backend).__name__


def test_jobs_use_one_core_joblib_included(sides) -> None:
    """A model refitted with n_jobs: 2 predicts through joblib: sequentially in a side process, which has one core's share."""
    _ready(sides)
    assert sidecar.submit("model", joblib_backend, twin=joblib_backend).result() == ("SequentialBackend", "SequentialBackend")
    assert joblib_backend() != "SequentialBackend"  # here, as configured


def test_without_fork_there_is_no_twin(monkeypatch) -> None:
    """Windows has no fork: the side process must still start and serve whole jobs."""
    monkeypatch.delattr(os, "fork")
    assert sidecar._fork_twin(None, os.getpid()) is None
