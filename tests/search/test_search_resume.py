"""Kill a real search process (SIGKILL, Ctrl+C), resume it, count the trials."""

from __future__ import annotations

import collections
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from fixtures._search_run import STRATEGIES
from fixtures.runs import session_processes
from fixtures.search import Peak, mixed_space

from automl_yaml.search.base import config_key
from automl_yaml.search.driver import run_search
from automl_yaml.search.journal import read_journal

TESTS = pathlib.Path(__file__).resolve().parents[1]
N = 16


def start(strategy: str, out: pathlib.Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    # 3 folds x 0.1 s: a trial runs long enough to be caught running.
    return subprocess.Popen(
        [sys.executable, "-m", "fixtures._search_run", strategy, str(out), str(N), "2", "0.1", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def events(journal: pathlib.Path) -> list[dict]:
    if not journal.exists():
        return []
    out = []
    for line in journal.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a line being written
    return out


def wait_until_running(proc: subprocess.Popen, journal: pathlib.Path, finished: int) -> None:
    """Until ``finished`` trials are done and another one is running."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ev = events(journal)
        done = {e["number"] for e in ev if e["event"] == "result"}
        running = {e["number"] for e in ev if e["event"] == "start"} - done
        if len(done) >= finished and running:
            return
        if proc.poll() is not None:
            pytest.fail(f"the search ended early: {proc.communicate()}")
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the search did not get going")


def run_here(strategy: str, out: pathlib.Path, *, resume: bool, n_jobs: int):
    """The same search as ``fixtures._search_run``, in this process."""
    searcher = STRATEGIES[strategy](mixed_space(), N, out)
    return run_search(
        searcher,
        Peak(),
        directions=["maximize"],
        n_trials=N,
        time_budget=None,
        trial_timeout=None,
        patience=None,
        n_jobs=n_jobs,
        journal=out / "trials.jsonl",
        resume=resume,
    )


@pytest.mark.parametrize("strategy", ["random", "genetic", "optuna", "hyperopt"])
def test_sigkill_then_resume_loses_and_repeats_no_trial(tmp_path, strategy):
    out = tmp_path / "run"
    journal = out / "trials.jsonl"
    proc = start(strategy, out)
    wait_until_running(proc, journal, finished=4)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)

    before, pending = read_journal(journal, mixed_space())
    assert pending, "a trial was running at the kill"
    resumed = run_here(strategy, out, resume=True, n_jobs=2)
    assert [r.number for r in resumed.results] == list(range(N))

    results = [e for e in events(journal) if e["event"] == "result"]
    per_number = collections.Counter(e["number"] for e in results)
    assert sorted(per_number) == list(range(N)), "no trial lost"
    assert set(per_number.values()) == {1}, "no trial run twice"
    after, left = read_journal(journal, mixed_space())
    assert left == []
    # Finished trials were kept as they were; running ones ran again, with their configuration.
    assert [r.to_dict() for r in after if r.number in {b.number for b in before}] == [b.to_dict() for b in before]
    for t in pending:
        assert after[t.number].config == t.config
    if strategy not in ("optuna", "hyperopt"):  # deterministic strategies: the same trials as a run never killed
        reference = run_here(strategy, tmp_path / "ref", resume=False, n_jobs=1)
        assert [(r.number, config_key(r.config)) for r in after] == [(r.number, config_key(r.config)) for r in reference.results]


def test_ctrl_c_stops_workers_and_keeps_the_journal(tmp_path):
    out = tmp_path / "run"
    journal = out / "trials.jsonl"
    proc = start("random", out)
    wait_until_running(proc, journal, finished=3)
    assert len(session_processes(proc.pid)) >= 4  # the search, its forkserver, two workers
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C reaches the whole foreground group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 30
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(proc.pid) == [], "worker processes were left behind"
    done, pending = read_journal(journal, mixed_space())
    assert len(done) >= 3 and pending
    run_here("random", out, resume=True, n_jobs=2)
    per_number = collections.Counter(e["number"] for e in events(journal) if e["event"] == "result")
    assert sorted(per_number) == list(range(N)) and set(per_number.values()) == {1}
