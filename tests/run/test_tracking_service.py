"""The tracking service: MLflow in a child process, nothing lost when it fails.

:class:`automl_yaml.tracking.ServiceTracker` runs the run's
:class:`MlflowTracker` in ``python -m automl_yaml.tracking service``, so the
run's process never imports MLflow; if the child dies or cannot start, the
run tracks from its own process in the same parent run and writes the trials
the child did not acknowledge.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

import automl_yaml
from automl_yaml import tracking
from automl_yaml.errors import EXIT_RUNTIME

pytestmark = pytest.mark.slow

SPEC = """\
version: 1
name: service
seed: 0
sources:
  d: {{kind: sample, name: breast_cancer}}
data: {{target: target}}
models:
  decision_tree:
    params: {{max_depth: {{choice: [2, 3, 4, 5]}}, min_samples_leaf: {{choice: [1, 5]}}}}
search: {{strategy: grid, metric: roc_auc, cv: {{folds: 3}}}}
tracking: {{uri: "{uri}", experiment: svc}}
profile: false
output: out
"""


def _spec(tmp_path: Path, uri: str | None = None) -> Path:
    uri = uri or f"sqlite:///{tmp_path / 'mlflow.db'}"
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(uri=uri))
    return path


def _runs(tmp_path: Path):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("svc")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [int(r.data.tags["trial.number"]) for r in runs if "mlflow.parentRunId" in r.data.tags]
    models = client.search_logged_models([exp.experiment_id])
    return parents, trials, models


def test_the_run_never_imports_mlflow_and_everything_is_logged(tmp_path: Path) -> None:
    _spec(tmp_path)
    script = textwrap.dedent(
        """
        import sys
        import automl_yaml
        result = automl_yaml.run("spec.yaml", quiet=True)
        print("mlflow imported:", "mlflow" in sys.modules)
        print("run:", result.tracking["run_id"])
        """
    )
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "mlflow imported: False" in r.stdout
    parents, trials, models = _runs(tmp_path)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert f"run: {parents[0].info.run_id}" in r.stdout
    assert sorted(trials) == list(range(8))  # 4 x 2 grid, each trial once
    assert "holdout_roc_auc" in parents[0].data.metrics
    assert len(models) == 1 and models[0].source_run_id == parents[0].info.run_id


def test_a_child_killed_mid_search_loses_and_repeats_no_trial(tmp_path: Path, monkeypatch) -> None:
    path = _spec(tmp_path)
    killed = []
    real = tracking.ServiceTracker.log_trial

    def log_trial(self, result, **kw):
        real(self, result, **kw)
        if result.number == 3 and self.proc is not None:
            self.proc.kill()
            killed.append(result.number)

    monkeypatch.setattr(tracking.ServiceTracker, "log_trial", log_trial)
    result = automl_yaml.run(path, quiet=True)
    assert killed == [3]
    parents, trials, models = _runs(tmp_path)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert sorted(trials) == list(range(8))  # the parent wrote what the child had not acknowledged
    assert len(models) == 1
    assert result.tracking["run_id"] == parents[0].info.run_id


def test_no_child_tracks_from_the_run_itself(tmp_path: Path, monkeypatch) -> None:
    path = _spec(tmp_path)
    monkeypatch.setattr(tracking.ServiceTracker, "_spawn", lambda self: False)
    automl_yaml.run(path, quiet=True)
    parents, trials, models = _runs(tmp_path)
    assert len(parents) == 1 and sorted(trials) == list(range(8)) and len(models) == 1


def test_a_store_that_cannot_be_used_fails_before_the_search(tmp_path: Path, capsys) -> None:
    from automl_yaml.cli import main

    (tmp_path / "mlflow.db").write_text("this is not a database\n" * 100)
    path = _spec(tmp_path)
    assert main(["run", str(path)]) == EXIT_RUNTIME
    err = capsys.readouterr().err
    assert "cannot use the tracking store" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "search").exists()


def test_switched_off_keeps_tracking_in_the_run(monkeypatch, tmp_path: Path) -> None:
    from automl_yaml.spec import load_spec

    loaded = load_spec(_spec(tmp_path))
    monkeypatch.setenv("MLX_TRACKING_SERVICE", "0")
    assert type(tracking.make_tracker(loaded)) is tracking.MlflowTracker
    monkeypatch.delenv("MLX_TRACKING_SERVICE")
    assert type(tracking.make_tracker(loaded)) is tracking.ServiceTracker


@pytest.mark.parametrize("service", ["1", "0"])
def test_a_copy_of_the_database_file_alone_holds_the_run(tmp_path: Path, service: str) -> None:
    """`mlx` ends without closing MLflow's connections: the write-ahead log must be in mlflow.db by then."""
    import os
    import shutil
    import sqlite3
    import time

    _spec(tmp_path)
    env = {**os.environ, "MLX_TRACKING_SERVICE": service}
    r = subprocess.run([sys.executable, "-m", "automl_yaml", "run", "spec.yaml", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    time.sleep(2)  # the tracking child (service) ends after the run: its exit closes the connections
    shutil.copy(tmp_path / "mlflow.db", tmp_path / "copy.db")
    con = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert con.execute("select count(*) from runs").fetchone()[0] == 1 + 8
        assert con.execute("select count(*) from runs where status = 'FINISHED'").fetchone()[0] >= 1
    finally:
        con.close()


def test_runs_of_one_process_share_the_child_and_each_gets_its_own_parent_run(tmp_path: Path) -> None:
    path = _spec(tmp_path)
    tracking._SERVICE = None
    automl_yaml.run(path, quiet=True)
    first = tracking._SERVICE
    assert first is not None and first.usable() and not first.lock.locked()
    automl_yaml.run(path, quiet=True, overrides=["seed=3"])
    assert tracking._SERVICE is first  # MLflow imported once
    parents, trials, models = _runs(tmp_path)
    assert len(parents) == 2 and all(p.info.status == "FINISHED" for p in parents)
    assert sorted(trials) == sorted(list(range(8)) * 2)
    assert len(models) == 2


def test_a_late_answer_is_never_taken_for_another_call() -> None:
    """A call interrupted by Ctrl+C gets its answer later: the next call must skip it."""
    import queue as q

    tracker = tracking.ServiceTracker.__new__(tracking.ServiceTracker)
    svc = SimpleNamespace(replies=q.Queue(), dead=False)
    tracker._svc = svc
    svc.replies.put((4, "ok", ("run-of-the-interrupted-call", "1")))
    svc.replies.put((5, "ok", "mine"))
    assert tracker._reply(5) == "mine"
    svc.replies.put((6, "error", ("TrackingError", "the store refused", "a hint")))
    with pytest.raises(tracking.TrackingError, match="the store refused"):
        tracker._reply(6)
    with pytest.raises(tracking._ServiceDied):
        tracker._reply(7, timeout=0.1)  # no answer in time: the child is not reused
    assert svc.dead
