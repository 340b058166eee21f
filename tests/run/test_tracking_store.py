"""The MLflow store itself: made once when runs start together, names MLflow accepts, failures said.

Real processes on a real SQLite store: MLflow creates a new store's tables
(and migrates them) the first time a process opens it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

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
