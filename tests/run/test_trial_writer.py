"""The trial writer: nested runs written from a child process, none lost.

:class:`automl_yaml.tracking.TrialWriter` hands each finished trial to a
child process that writes it to MLflow; whatever the child did not write
(it died, or could not start) is written by the parent at ``close``.
"""

from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import pytest

from automl_yaml.tracking import TrialWriter, _fast_sqlite, trial_record

pytestmark = pytest.mark.slow


def _store(tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    _fast_sqlite(str(tmp_path / "mlflow.db"))
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("w", artifact_location=(tmp_path / "art").as_uri())
    parent = client.create_run(exp).info.run_id
    return uri, client, exp, parent


def _result(n: int, status: str = "ok"):
    now = time.time()
    return SimpleNamespace(
        number=n,
        config={"model": "ridge", "ridge.alpha": 0.1 * (n + 1)},
        status=status,
        error=None if status == "ok" else "ValueError: boom",
        scores={"r2": {"mean": 0.5 + n / 100, "std": 0.01}} if status == "ok" else {},
        fit_time=0.01,
        duration=0.02,
        started_at=now - 0.02,
        finished_at=now,
    )


def _children(client, exp, parent):
    runs = client.search_runs([exp], filter_string=f"tags.`mlflow.parentRunId` = '{parent}'", max_results=1000)
    return {int(r.data.tags["trial.number"]): r for r in runs}


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_every_trial_becomes_a_nested_run_with_its_numbers(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("MLX_TRACKING_WRITER", mode)
    uri, client, exp, parent = _store(tmp_path)
    writer = TrialWriter()
    assert (writer.proc is not None) == (mode == "process")
    writer.begin(uri, exp, parent, client)
    for n in range(12):
        writer.put(trial_record(_result(n, "failed" if n == 7 else "ok")))
    logged, errors = writer.close()
    assert (logged, errors) == (12, [])
    runs = _children(client, exp, parent)
    assert sorted(runs) == list(range(12))
    assert runs[3].data.metrics["cv_r2_mean"] == pytest.approx(0.53)
    assert runs[3].data.params["ridge.alpha"] == "0.4"
    assert runs[3].info.status == "FINISHED"
    assert runs[7].info.status == "FAILED" and runs[7].data.tags["trial.error"] == "ValueError: boom"
    assert "cv_r2_mean" not in runs[7].data.metrics
    if mode == "process":
        assert writer.proc.returncode == 0


def test_trials_the_child_could_not_write_are_written_by_the_parent(tmp_path):
    uri, client, exp, parent = _store(tmp_path)
    writer = TrialWriter()
    writer.begin(uri, exp, parent, client)
    for n in range(3):
        writer.put(trial_record(_result(n)))
    writer.proc.kill()  # the child dies (maybe before writing any of them)
    writer.proc.wait()
    for n in range(3, 8):
        writer.put(trial_record(_result(n)))
    logged, errors = writer.close()
    assert logged == 8
    assert any("writer process ended" in e for e in errors)
    assert sorted(_children(client, exp, parent)) == list(range(8))


def test_a_writer_never_begun_stops_its_child(tmp_path):
    writer = TrialWriter()
    assert writer.close() == (0, [])
    assert writer.proc.returncode == 0


def test_the_child_ignores_ctrl_c_and_finishes_what_it_was_sent(tmp_path):
    uri, client, exp, parent = _store(tmp_path)
    writer = TrialWriter()
    writer.begin(uri, exp, parent, client)
    for n in range(5):
        writer.put(trial_record(_result(n)))
    time.sleep(0.5)
    os.kill(writer.proc.pid, signal.SIGINT)  # what a terminal's Ctrl+C sends the whole process group
    logged, errors = writer.close()
    assert (logged, errors) == (5, [])
    assert writer.proc.returncode == 0
    assert sorted(_children(client, exp, parent)) == list(range(5))


def test_the_child_exits_when_its_parent_is_killed(tmp_path):
    import subprocess
    import sys

    code = (
        "import os, signal, sys\n"
        "from automl_yaml.tracking import TrialWriter\n"
        "w = TrialWriter()\n"
        "print(w.proc.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    child = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 60  # a bound against hanging, not a speed check
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # reaped by init; a zombie still answers kill(0): look at its state
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the writer process {child} outlived its killed parent")
