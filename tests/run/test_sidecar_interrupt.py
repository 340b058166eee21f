"""Ctrl+C while the run waits for a side process's answer (the 'saving the model, drawing plots' phase).

The side process keeps working on the job: its answer, when it comes, must
not be taken for the next job's (a second run in the same process would get
the first run's plots, and return before its own model is written), and the
other side process's job must be given up, not left holding it busy.
"""

from __future__ import annotations

import _thread
import os
import threading
import time

import pytest

from automl_yaml import sidecar


def tagged(seconds: float, tag: str) -> tuple[str, int]:
    time.sleep(seconds)
    return tag, os.getpid()


@pytest.fixture
def sides():
    sidecar.shutdown()
    sidecar.start(("plots",))
    assert sidecar._SIDES["plots"].ready.wait(60)
    yield sidecar._SIDES
    sidecar.shutdown()


def _wait_free(side, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while side.lock.locked() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not side.lock.locked()


def _interrupted_result(job) -> None:
    """Ctrl+C 0.3 s into the wait for ``job``'s answer."""
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        job.result()
    timer.join()


def test_an_interrupted_wait_does_not_hand_its_answer_to_the_next_job(sides) -> None:
    _interrupted_result(sidecar.submit("plots", tagged, 1.0, "first"))
    assert sidecar.submit("plots", tagged, 0.0, "second").result()[0] == "second"  # busy: done here
    _wait_free(sides["plots"])
    tag, pid = sidecar.submit("plots", tagged, 0.0, "third").result()
    assert tag == "third" and pid == sides["plots"].proc.pid


def _spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"""
version: 1
name: sides
sources: {{d: {{kind: sample, name: breast_cancer}}}}
data: {{target: target}}
models: {{decision_tree: {{params: {{max_depth: {{choice: [2, 4]}}}}}}}}
search: {{strategy: grid, cv: {{folds: 3}}}}
tracking: false
profile: false
output: {tmp_path / "out"}
"""
    )
    return path


def test_an_interrupted_report_gives_up_both_jobs(tmp_path, monkeypatch) -> None:
    import automl_yaml

    sidecar.shutdown()
    sidecar.start()
    assert all(side.ready.wait(60) for side in sidecar._SIDES.values())
    real_result = sidecar.Job.result

    def interrupted(self):
        if self.side is not None and self.side.name == "model":
            real_result(self)
            raise KeyboardInterrupt
        return real_result(self)

    monkeypatch.setattr(sidecar.Job, "result", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            automl_yaml.run(_spec(tmp_path), quiet=True)
        for side in sidecar._SIDES.values():
            _wait_free(side)
    finally:
        sidecar.shutdown()


def test_ctrl_c_as_the_run_begins_prints_no_traceback_of_the_fork_server(tmp_path) -> None:
    """The side processes start multiprocessing's fork server, which imports scikit-learn before it ignores Ctrl+C."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import os, signal, time
        from automl_yaml import sidecar

        sidecar.start()
        time.sleep(0.4)                                 # the fork server is importing scikit-learn
        try:
            os.killpg(0, signal.SIGINT)                 # Ctrl+C: the whole process group
            time.sleep(1)
        except KeyboardInterrupt:
            print("interrupted")
        for side in sidecar._SIDES.values():
            side.ready.wait(60)
        time.sleep(0.5)
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120, start_new_session=True,
        env={**os.environ, "MLX_FULL_EXIT": "1"},
    )
    assert r.stdout == "interrupted\n", r.stderr
    assert "Traceback" not in r.stderr and "KeyboardInterrupt" not in r.stderr, r.stderr


def _only_in(pid: int) -> str:
    if os.getpid() != pid:
        raise AttributeError("Can't get attribute 'Mine' on <module '__main__'>")  # what a notebook's class gives
    return "readable"


class _ReadableOnlyHere:
    """Pickles in the caller, fails to unpickle in the side process (a component defined in a notebook)."""

    def __reduce__(self):
        return _only_in, (os.getpid(),)


def echo(value):
    return value


def test_a_job_the_side_process_cannot_read_is_done_here_and_the_process_lives_on(sides, capfd) -> None:
    job = sidecar.submit("plots", echo, _ReadableOnlyHere())
    assert isinstance(job.result(), _ReadableOnlyHere)
    assert job.where == "here"
    time.sleep(0.3)
    assert sides["plots"].alive()
    assert "Traceback" not in capfd.readouterr().err
    tag, pid = sidecar.submit("plots", tagged, 0.0, "next").result()
    assert tag == "next" and pid == sides["plots"].proc.pid


class _CutPipe:
    """A pipe that breaks half-way through a job (the side process died while a large test set was written)."""

    def __init__(self, conn):
        self.conn = conn

    def send_bytes(self, buf):
        self.conn.send_bytes(b"\x80\x04\x95")  # the start of a pickle: the side process waits for the rest
        raise BrokenPipeError(32, "Broken pipe")

    def __getattr__(self, name):
        return getattr(self.conn, name)


def test_a_job_cut_half_way_is_done_here_and_its_process_replaced(sides) -> None:
    side = sides["plots"]
    side.conn = _CutPipe(side.conn)
    job = sidecar.submit("plots", tagged, 0.0, "cut")
    tag, pid = job.result()
    assert (tag, pid, job.where) == ("cut", os.getpid(), "here")
    assert not side.lock.locked()
    deadline = time.monotonic() + 10
    while side.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not side.alive()  # stopped: it could never read a job again
    sidecar.start(("plots",))  # the next run's start replaces it
    assert sidecar._SIDES["plots"] is not side
    assert sidecar._SIDES["plots"].ready.wait(60)
    tag, pid = sidecar.submit("plots", tagged, 0.0, "next").result()
    assert tag == "next" and pid == sidecar._SIDES["plots"].proc.pid != os.getpid()


class _SlowPipe:
    """A pipe whose reader is not reading yet (a side process still importing, a job of several MB)."""

    def __init__(self, conn):
        self.conn = conn
        self.go = threading.Event()

    def send_bytes(self, buf):
        assert self.go.wait(30)
        self.conn.send_bytes(buf)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def test_a_job_is_written_to_the_pipe_without_holding_this_process(sides) -> None:
    side = sides["plots"]
    pipe = side.conn = _SlowPipe(side.conn)
    job = sidecar.submit("plots", tagged, 0.0, "slow")  # returns while the job is still being written
    assert job.remote and not pipe.go.is_set()
    pipe.go.set()
    tag, pid = job.result()
    assert (tag, pid, job.where) == ("slow", side.proc.pid, "plots")
    assert not side.lock.locked()


def test_ctrl_c_while_a_job_is_still_written_frees_the_side_process_once_it_answers(sides) -> None:
    side = sides["plots"]
    pipe = side.conn = _SlowPipe(side.conn)
    _interrupted_result(sidecar.submit("plots", tagged, 0.0, "abandoned"))
    assert side.lock.locked()  # the job is still on its way: the process is not free for another
    pipe.go.set()
    _wait_free(side)
    side.conn = pipe.conn
    tag, pid = sidecar.submit("plots", tagged, 0.0, "next").result()
    assert tag == "next" and pid == side.proc.pid  # the abandoned job's answer was not taken for this one


def test_a_failed_save_leaves_no_temporary_folder(tmp_path) -> None:
    import pandas as pd
    from sklearn.dummy import DummyClassifier

    from automl_yaml.model import TrainedModel
    from automl_yaml.tracking import save_model

    X = pd.DataFrame({"x": [0.0, 1.0]})
    model = TrainedModel(pipeline=DummyClassifier().fit(X, [0, 1]), task="classification", classes=[0, 1], target="y").fitted(X)
    (tmp_path / "model").mkdir()
    (tmp_path / ".model.old").write_text("in the way")  # a file where the previous model is moved to
    with pytest.raises(OSError):
        save_model(model, X, tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.old", "model"]


def write_slowly(path: str, started: str) -> str:
    from automl_yaml.io import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        tmp.write_bytes(b"half a plot")
        open(started, "w").close()
        time.sleep(30)
    return path


def test_a_side_process_terminated_mid_job_leaves_no_temporary_file(sides, tmp_path, capfd) -> None:
    """Ctrl+C in the final phase: multiprocessing's exit handler terminates the side processes mid-plot."""
    started = tmp_path / "started"
    plots = tmp_path / "plots"
    job = sidecar.submit("plots", write_slowly, str(plots / "history.png"), str(started))
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in plots.iterdir()][0].startswith(".history.png.")  # the temporary file, being written
    proc = sides["plots"].proc
    proc.terminate()
    proc.join(10)
    assert proc.exitcode == 0  # unwound and ended (not killed by the signal)
    assert list(plots.iterdir()) == []
    assert "Traceback" not in capfd.readouterr().err
    job.abandon()


def test_a_side_process_that_does_not_answer_in_time_is_ended_and_the_job_done_here(sides, monkeypatch) -> None:
    """Alive but stuck: the run must not wait for ever (MLX_SIDE_TIMEOUT, 600 s by default)."""
    monkeypatch.setenv("MLX_SIDE_TIMEOUT", "1")
    side = sides["plots"]
    proc = side.proc
    job = sidecar.submit("plots", tagged, 30.0, "slow")  # in the side process, far beyond the timeout
    started = time.monotonic()
    monkeypatch.setattr(job, "args", (0.0, "here"))  # what it does when done here instead
    tag, pid = job.result()
    assert (tag, pid) == ("here", os.getpid())
    assert time.monotonic() - started < 10
    proc.join(10)
    assert not proc.is_alive() and side.proc is None
    assert not side.lock.locked()  # free for a new process (start() makes one)


def swallows(started: str) -> str:
    """A job that loses the exception SIGTERM raises (as one raised inside a weakref callback is lost)."""
    open(started, "w").close()
    try:
        time.sleep(30)
    except BaseException:  # noqa: BLE001 - the point of the test
        pass
    return "finished"


def test_a_side_process_ends_when_terminated_even_if_its_job_loses_the_signal(sides, tmp_path) -> None:
    """The run's exit terminates the side process and waits for it: it must end, whatever the job did."""
    started = tmp_path / "started"
    job = sidecar.submit("plots", swallows, str(started))
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc = sides["plots"].proc
    proc.terminate()
    proc.join(10)
    assert proc.exitcode == 0
    job.abandon()


def swallowing_import() -> None:
    try:
        time.sleep(30)
    except BaseException:  # noqa: BLE001 - the point of the test
        pass
    time.sleep(30)


def test_a_side_process_terminated_while_it_imports_ends_at_once(monkeypatch) -> None:
    """Terminated while it imports (Ctrl+C as the run begins): an exception raised there could be lost."""
    monkeypatch.setitem(sidecar.PRELOAD, "plots", (f"{__name__}:swallowing_import",))
    sidecar.shutdown()
    sidecar.start(("plots",))
    try:
        side = sidecar._SIDES["plots"]
        assert side.ready.wait(60)
        time.sleep(1.0)  # it sleeps in its import
        proc = side.proc
        proc.terminate()
        proc.join(10)
        assert proc.exitcode == 0
    finally:
        sidecar.shutdown()
