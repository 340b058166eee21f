"""The MLflow store itself: made once when runs start together, names MLflow accepts, failures said.

Real processes on a real SQLite store: MLflow creates a new store's tables
(and migrates them) the first time a process opens it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

OPEN_STORE = """
import sys, time
from pathlib import Path
from automl_yaml.spec import load_spec
from automl_yaml.tracking import MlflowTracker, _quiet_mlflow

_quiet_mlflow()  # MLflow imported before the start signal: the processes open the store together
tracker = MlflowTracker(load_spec(sys.argv[1]))
go = Path(sys.argv[2])
(go.parent / f"ready-{sys.argv[3]}").touch()
while not go.exists():
    time.sleep(0.01)
try:
    tracker._check()
    print("ok")
except Exception as exc:
    print("failed:", exc)
"""


def _store_spec(folder: Path) -> Path:
    folder.mkdir()
    path = folder / "spec.yaml"
    path.write_text(
        "name: store\nsources:\n  d: {kind: sample, name: iris}\ndata: {target: target}\n"
        "models: {decision_tree: {}}\nsearch: {strategy: random, budget: {trials: 1}}\n"
    )
    return path


def test_processes_opening_a_new_store_together_make_it_once(tmp_path: Path) -> None:
    """The default store (``mlflow.db`` beside the spec), new, opened by 3 processes at the same moment
    (two first ``mlx run`` in a project): each gets a working store, and so does everyone after them.
    Unserialised, MLflow's migrations collided (``duplicate column name: step``, ``table _alembic_tmp_...
    already exists``) and could leave the database broken for good."""
    spec = _store_spec(tmp_path / "project")
    go = spec.parent / "go"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN_STORE, str(spec), str(go), str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    deadline = time.monotonic() + 240
    while len(list(spec.parent.glob("ready-*"))) < len(procs) and time.monotonic() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.05)
    go.touch()
    outs = [p.communicate(timeout=240) for p in procs]
    assert [o.strip() for o, _ in outs] == ["ok"] * len(procs), outs
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{spec.parent / 'mlflow.db'}")  # complete: usable by anyone after them
    experiment = client.create_experiment("after")
    assert client.create_run(experiment).info.status == "RUNNING"


def _trial_runs(uri: str, experiment: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return parents, [r for r in runs if "mlflow.parentRunId" in r.data.tags]


def test_a_searched_selection_option_is_logged_under_a_name_mlflow_accepts(tmp_path, small_spec, capsys) -> None:
    """``select[1].univariate.k`` (the README's spec searches it) has brackets, which MLflow refuses:
    every trial's run stayed RUNNING twice, without params or metrics, and the run said nothing."""
    from automl_yaml.cli import main

    spec = small_spec(
        {
            "select": [{"variance": {"threshold": 0.0}}, {"univariate": {"k": {"int": [2, 4]}}}],
            "search": {"budget": {"trials": 4}},
            "tracking": {"experiment": "select"},
        }
    )
    assert main(["run", str(spec), "--quiet"]) == 0
    assert "could not be logged" not in capsys.readouterr().err
    parents, trials = _trial_runs(f"sqlite:///{tmp_path / 'mlflow.db'}", "select")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert sorted(int(r.data.tags["trial.number"]) for r in trials) == [0, 1, 2, 3]  # each once
    for run in trials:
        assert run.info.status in ("FINISHED", "FAILED")
        assert int(run.data.params["select.1.univariate.k"]) in (2, 3, 4)
        assert "duration" in run.data.metrics
    summary = json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())
    assert summary["tracking"]["trials_logged"] == 4 and "trials_not_logged" not in summary["tracking"]


def test_trials_mlflow_refuses_are_said_and_fail_the_command(tmp_path, small_spec, capsys, monkeypatch) -> None:
    """A store that refuses the trials' runs: no half-written run is left RUNNING, the terminal and
    summary.json say how many are missing and why, and ``mlx run`` exits 1 (its outputs are complete)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from automl_yaml.cli import main

    monkeypatch.setenv("MLX_TRACKING_SERVICE", "0")  # MLflow in this process, where the refusal is set
    monkeypatch.setenv("MLX_TRACKING_WRITER", "thread")
    real = MlflowClient.log_batch

    def log_batch(self, run_id, metrics=(), params=(), tags=(), *args, **kw):
        if any(p.key == "model" for p in params or ()):  # a trial's params (the parent's are spec.*)
            raise MlflowException("the store refused this batch")
        return real(self, run_id, metrics, params, tags, *args, **kw)

    monkeypatch.setattr(MlflowClient, "log_batch", log_batch)
    spec = small_spec({"tracking": {"experiment": "refused"}, "search": {"budget": {"trials": 3}}})
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "3 of 3 trials could not be logged to MLflow" in err and "the store refused this batch" in err
    assert "Traceback" not in err
    out = tmp_path / "runs" / "small"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tracking"]["trials_not_logged"] == 3
    assert any("the store refused this batch" in e for e in summary["tracking"]["tracking_errors"])
    assert (out / "model").is_dir() and len(pd.read_csv(out / "leaderboard.csv")) == 3
    parents, trials = _trial_runs(f"sqlite:///{tmp_path / 'mlflow.db'}", "refused")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert trials == []  # the half-written runs are deleted, not left RUNNING (twice)
