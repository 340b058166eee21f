"""A search's parent run in MLflow when its process is killed, interrupted or resumed (real `mlx run` processes).

One search is one parent run: ``--resume`` continues the interrupted one (its
id is in ``search/state.json``) and ends it ``FINISHED``, with every trial's
nested run once; a run that ends early never leaves it ``RUNNING`` where a
process is left to end it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def _spec(small_spec, trials: int) -> Path:
    return small_spec(
        {
            "models": {"random_forest": {"params": {"n_estimators": {"int": [60, 120]}}}},
            "search": {"strategy": "random", "budget": {"trials": trials}},
            "tracking": {"experiment": "resume"},
        }
    )


def _finished(out: Path) -> list[int]:
    journal = out / "search" / "trials.jsonl"
    if not journal.exists():
        return []
    numbers = []
    for line in journal.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line being written
        if event.get("event") == "result":
            numbers.append(event["number"])
    return numbers


def _start_and_stop(spec: Path, out: Path, finished: int, sig: int) -> subprocess.Popen:
    """`mlx run` in its own process group (a terminal's job), stopped by ``sig`` to the whole group
    once ``finished`` trials are done: SIGKILL also kills its tracking process."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_yaml", "run", str(spec)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and len(_finished(out)) < finished:
        time.sleep(0.1)
    assert proc.poll() is None, f"the run ended before it could be stopped:\n{proc.communicate()[1]}"
    os.killpg(proc.pid, sig)
    proc.communicate(timeout=120)
    return proc


def _runs(tmp_path: Path):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("resume")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = {r.info.run_id: r for r in runs if "mlflow.parentRunId" not in r.data.tags}
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, trials


def test_resume_after_sigkill_continues_and_finishes_the_same_parent_run(tmp_path, small_spec) -> None:
    spec = _spec(small_spec, trials=8)
    out = tmp_path / "runs" / "small"
    _start_and_stop(spec, out, finished=3, sig=signal.SIGKILL)
    before = _finished(out)
    assert 3 <= len(before) < 8
    parents, logged = _runs(tmp_path)
    (parent_id, parent), = parents.items()
    assert parent.info.status == "RUNNING"  # nothing was left to end it
    assert json.loads((out / "search" / "state.json").read_text())["tracking"]["run_id"] == parent_id
    # what a kill can leave besides: a trial written half-way (its writer killed between two calls),
    # and a finished trial never written at all
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert len(logged) >= 2
    client.update_run(logged[0].info.run_id, status="RUNNING")
    client.delete_run(logged[1].info.run_id)

    # resumed with a larger budget (a param MLflow will not change: the new value is a tag)
    assert main(["run", str(spec), "--resume", "--quiet", "--set", "search.budget.trials=9"]) == 0
    parents, trials = _runs(tmp_path)
    assert list(parents) == [parent_id], "the resumed search continued its parent run"
    parent = parents[parent_id]
    assert parent.info.status == "FINISHED"
    assert json.loads((out / "summary.json").read_text())["tracking"]["run_id"] == parent_id
    assert all(t.data.tags["mlflow.parentRunId"] == parent_id for t in trials)
    assert sorted(int(t.data.tags["trial.number"]) for t in trials) == list(range(9)), "every trial once, from both halves"
    assert {t.info.status for t in trials} == {"FINISHED"}
    assert "holdout_accuracy" in parent.data.metrics
    assert parent.data.params["spec.search.budget.trials"] == "8"
    assert parent.data.tags["resumed.spec.search.budget.trials"] == "9" and parent.data.tags["automl_yaml.resumed"] == "1"


def test_a_new_search_ends_the_parent_run_a_killed_one_left_running(tmp_path, small_spec) -> None:
    spec = _spec(small_spec, trials=8)
    out = tmp_path / "runs" / "small"
    _start_and_stop(spec, out, finished=1, sig=signal.SIGKILL)
    (killed,) = _runs(tmp_path)[0]
    assert main(["run", str(spec), "--quiet", "--set", "search.budget.trials=2"]) == 0  # the unfinished search is discarded
    parents, _ = _runs(tmp_path)
    assert parents[killed].info.status == "KILLED"
    (new,) = set(parents) - {killed}
    assert parents[new].info.status == "FINISHED"


def _tracking_process(sid: int) -> int:
    """The run's tracking process (``python -m automl_yaml.tracking service``), in the run's session."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[3]) == sid and b"automl_yaml.tracking" in cmdline and b"service" in cmdline:
            return int(stat.parent.name)
    raise AssertionError("no tracking process")


@pytest.mark.parametrize("how", ["sigterm", "tracking-process-killed"])
def test_a_stopped_run_ends_its_parent_run_killed_and_resume_finishes_it(tmp_path, small_spec, how) -> None:
    """SIGTERM sent to the whole group (``timeout``, a scheduler) reaches the tracking process too: it
    leaves the run to the command, which stops as on Ctrl+C. With the tracking process killed, Ctrl+C
    ends the parent run from the command itself. Either way the parent run is KILLED, not RUNNING,
    and ``--resume`` finishes it."""
    spec = _spec(small_spec, trials=6)
    out = tmp_path / "runs" / "small"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_yaml", "run", str(spec)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and len(_finished(out)) < 2:
        time.sleep(0.1)
    assert proc.poll() is None, f"the run ended before it could be stopped:\n{proc.communicate()[1]}"
    if how == "sigterm":
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        os.kill(_tracking_process(proc.pid), signal.SIGKILL)
        time.sleep(1)  # it is gone
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    parents, _ = _runs(tmp_path)
    (parent_id, parent), = parents.items()
    assert parent.info.status == "KILLED"

    assert main(["run", str(spec), "--resume", "--quiet"]) == 0
    parents, trials = _runs(tmp_path)
    assert list(parents) == [parent_id] and parents[parent_id].info.status == "FINISHED"
    assert sorted(int(t.data.tags["trial.number"]) for t in trials) == list(range(6))
