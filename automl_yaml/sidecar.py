"""Side processes that write the model and draw the plots, started early.

What ``mlx run`` does after the search that a hand-written script does not
costs a fixed 1.5-2 s on this kind of machine: MLflow's import (0.6 s) and
its model format (0.3-0.5 s), matplotlib's import (0.3 s) and the plots
(0.3-0.5 s). None of it needs this process. So a run starts two side
processes as it begins - one for the model (``mlflow.sklearn``, and
matplotlib), one for the plots (matplotlib) - which import their libraries
while this process reads the data and searches, at a lower CPU priority
(``nice``) so that they take the CPU the search leaves idle; after the
refit both work at once, on two cores (the model's process saves the model then draws about
half of the plots, the other the other half), while this process writes the
leaderboard.

When the run's trial workers take every core, the search leaves no CPU idle
and those imports would slow it: the run then starts only the model's
process, importing only MLflow's model format (``start(model_draws=False)``),
as the search ends, and draws the plots itself (see ``automl_yaml.runner``).
A job is written to a side process's pipe from a thread: a process still
importing does not hold the run until it reads a job of several MB.

The processes fork from multiprocessing's fork server (where scikit-learn is
already imported, :func:`automl_yaml.search.driver._context`) and live as
long as this process: a second run in the same process (the library, a
notebook, the test suite) reuses them with their imports done.

Nothing depends on them: a job whose process could not start, died, was
busy with another run, or raised is done again here, in this process, so
its error (if any) is the one the user would have seen without them.
``MLX_SIDECARS=0`` does every job here.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

# the modules each side process imports while it waits for its job
PRELOAD: dict[str, tuple[str, ...]] = {
    "model": ("automl_yaml.tracking:preload_model_format", "automl_yaml.report.run:preload_plots"),
    "plots": ("automl_yaml.report.run:preload_plots",),
}
# the model's process when the plots process draws every plot (start(model_draws=False))
PRELOAD_MODEL_ONLY = ("automl_yaml.tracking:preload_model_format",)
NICE = 10
# Seconds a job may take in a side process before it is given up and done here
# instead (a side process alive but stuck would otherwise hold the run for ever).
# Far above what a model's folder or a plot takes; MLX_SIDE_TIMEOUT changes it.
JOB_TIMEOUT = 600.0



def _job_timeout() -> float:
    try:
        return float(os.environ.get("MLX_SIDE_TIMEOUT", JOB_TIMEOUT))
    except ValueError:
        return JOB_TIMEOUT


def enabled() -> bool:
    return os.environ.get("MLX_SIDECARS", "1") != "0"


class _Terminated(SystemExit):
    """SIGTERM (multiprocessing's exit handler after Ctrl+C, ``stop()``) during a job: unwind, then exit.

    A ``SystemExit``: multiprocessing ends the process quietly (any other
    exception would print a traceback).
    """


# this process's state, for the SIGTERM handler
_STATE = {"job": False, "terminated": False}


def _terminate(signum, frame) -> None:
    _STATE["terminated"] = True
    if not _STATE["job"]:
        # Importing or waiting: nothing to unwind, so end now. An exception
        # raised from here can be lost (raised inside a weakref callback or
        # a __del__, it is only printed), and the process lived on while the
        # run's exit waited for it to end.
        os._exit(0)
    raise _Terminated(0)


@contextlib.contextmanager
def _job():
    """A job's time: SIGTERM unwinds it (its clean-up removes temporary files), even if the job loses the exception."""
    _STATE["job"] = True
    try:
        yield
    finally:
        _STATE["job"] = False
        if _STATE["terminated"]:
            raise _Terminated(0)


def _one_thread():
    """joblib's sequential backend for a job: a side process works on one core (see threadpool_limits).

    A model refitted with ``n_jobs: 2`` (a random forest) otherwise predicts
    through joblib's threads, whose polling cost a small test set's
    ``predict_proba`` 0.09-0.18 s instead of 0.03 s; every plot predicts.
    """
    from joblib import parallel_config  # a scikit-learn dependency

    return parallel_config(backend="sequential")


def _side_main(conn, parent: int, preload: tuple[str, ...]) -> None:
    from .search.driver import _watch_parent

    # Ctrl+C reaches the whole process group; the run decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Terminated mid-job (the run was interrupted): unwinding runs the jobs'
    # clean-up, so no half-written temporary file (plots/.history.png.XXXX.png) is left.
    signal.signal(signal.SIGTERM, _terminate)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # One thread each: the two side processes work at the same time, and a
    # model's OpenMP pool (HistGradientBoosting's predict) of one thread per
    # CPU in each oversubscribed the cores (a run's refit and report took
    # several times longer on a busy machine).
    with contextlib.suppress(Exception):
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=1)  # noqa: F841 - held for the process's life
    # A lower priority: the imports take the CPU the search leaves idle. Measured
    # on the 3-second grid: 3.6 s niced, 4.2 s not (the search shared its core).
    # On a machine busy with other work the jobs then wait longer for the CPU
    # (0.3-1.2 s at a load of 4 on 2 CPUs).
    with contextlib.suppress(OSError):
        os.nice(NICE)
    for ref in preload:  # our own constants above, never from a spec
        module, _, func = ref.partition(":")
        with contextlib.suppress(Exception):
            getattr(importlib.import_module(module), func)()
    try:
        _serve(conn)
    except _Terminated:
        pass
    os._exit(0)  # nothing to tear down: skip the interpreter's finalisation


def _serve(conn) -> None:
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        except Exception as exc:  # noqa: BLE001 - read whole but not unpicklable here (a class from the caller's __main__)
            with contextlib.suppress(Exception):
                conn.send(("error", f"the job could not be read: {type(exc).__name__}: {exc}"))
            continue
        if job is None:
            break
        fn, args = job
        with _job():
            try:
                with _one_thread():
                    reply: tuple = ("ok", fn(*args))
            except _Terminated:
                raise
            except BaseException as exc:  # noqa: BLE001 - reported; the caller does the job itself
                reply = ("error", f"{type(exc).__name__}: {exc}")
        del job, fn, args
        try:
            conn.send(reply)
        except Exception:  # noqa: BLE001 - an unpicklable value: the caller does the job itself
            with contextlib.suppress(Exception):
                conn.send(("error", "the result could not be sent back"))


class _Side:
    def __init__(self, name: str, preload: tuple[str, ...]):
        self.name = name
        self.preload = preload
        self.conn = None
        self.proc = None
        self.lock = threading.Lock()  # one job at a time
        self.ready = threading.Event()

    def start(self) -> None:
        from .search.driver import _context

        try:
            ctx = _context()
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=_side_main, args=(child, os.getpid(), self.preload), name=f"mlx-{self.name}", daemon=True)
            proc.start()  # blocks while the fork server starts (imports scikit-learn): run from a thread
            child.close()
            self.conn, self.proc = conn, proc
        except Exception:  # noqa: BLE001 - no side process: jobs run in the caller
            self.conn = self.proc = None
        finally:
            self.ready.set()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def stop(self, *, kill: bool = False) -> None:
        """Close the pipe and end the process (``kill``: SIGKILL, for one stuck where SIGTERM's handler cannot run)."""
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            self.proc.kill() if kill else self.proc.terminate()
        self.conn = self.proc = None


_SIDES: dict[str, _Side] = {}
_SIDES_LOCK = threading.Lock()


def start(names: tuple[str, ...] = ("model", "plots"), *, model_draws: bool = True) -> None:
    """Start the side processes not running yet (in the background: returns at once).

    ``model_draws=False``: the model's process imports only what the model's
    folder needs, not matplotlib (the plots process then draws every plot;
    see :func:`draws`).
    """
    if not enabled():
        return
    with _SIDES_LOCK:
        for name in names:
            side = _SIDES.get(name)
            if side is not None and (not side.ready.is_set() or side.alive()):
                continue
            side = _Side(name, PRELOAD_MODEL_ONLY if name == "model" and not model_draws else PRELOAD[name])
            _SIDES[name] = side
            threading.Thread(target=side.start, name=f"mlx-start-{name}", daemon=True).start()


def draws(name: str) -> bool:
    """Whether the side process ``name`` imported matplotlib as it started (is ready to draw)."""
    side = _SIDES.get(name) if enabled() else None
    return side is not None and "automl_yaml.report.run:preload_plots" in side.preload


class Job:
    """One job given to a side process (or run here); :meth:`result` waits for it."""

    def __init__(self, side: _Side | None, fn: Callable, args: tuple):
        self.side, self.fn, self.args = side, fn, args
        self.where = "here"
        # written to the pipe by a thread (see submit); an Event, not Thread.join:
        # a join interrupted by Ctrl+C can take the thread for ended (CPython 3.11)
        self._written = threading.Event()
        self._written.set()
        self._send_error: BaseException | None = None
        self._cut = False  # the job was written only in part

    @property
    def remote(self) -> bool:
        """Given to a side process (not yet collected)."""
        return self.side is not None

    def _send(self, conn) -> None:
        from multiprocessing.reduction import ForkingPickler  # what Connection.send pickles with

        try:
            payload = ForkingPickler.dumps((self.fn, self.args))
        except BaseException as exc:  # noqa: BLE001 - unpicklable: nothing written, done here
            self._send_error = exc
            self._written.set()
            return
        try:
            conn.send_bytes(payload)  # read by the side process's conn.recv()
        except BaseException as exc:  # noqa: BLE001 - the process died, maybe half-way through: done here
            self._send_error, self._cut = exc, True
        finally:
            self._written.set()

    def _sent(self, deadline: float | None = None) -> bool:
        """Wait for the job to be written to the side process's pipe; False if it could not be (by ``deadline``)."""
        # in short waits, as the answer's (Job.result): a Ctrl+C is seen at once
        while not self._written.wait(0.1):
            if deadline is not None and time.monotonic() > deadline:
                return False
        return self._send_error is None

    def result(self) -> Any:
        side, self.side = self.side, None
        if side is not None:
            free = False  # the side process answered (or is gone): it can take the next job
            deadline = time.monotonic() + _job_timeout()
            try:
                waiting = self._sent(deadline)
                if not waiting:
                    free = True
                    if not self._written.is_set() or self._cut:
                        # stuck before it read the whole job, or gone: part of
                        # a job may be in the pipe, the process is of no more use
                        side.stop(kill=True)
                    # else unpicklable: nothing was written (send pickles first), the process stays
                while waiting and side.conn is not None:
                    if time.monotonic() > deadline:  # stuck: end it, and do the job here
                        free = True
                        side.stop(kill=True)
                        break
                    if side.conn.poll(0.1):
                        free = True
                        status, value = side.conn.recv()
                        if status == "ok":
                            self.where = side.name
                            return value
                        break  # it raised there: again here, for the real error
                    if not side.alive():
                        free = True
                        side.stop()
                        break
                free = True  # stopped (shutdown)
            except (EOFError, OSError):
                free = True
                side.stop()
            finally:
                # Interrupted (Ctrl+C) while the side process still works on
                # this job: its answer is still to come, and must not be taken
                # for the next job's. It stays busy until it answers.
                if free:
                    side.lock.release()
                else:
                    _drain(side, self)
        return self.fn(*self.args)

    def abandon(self) -> None:
        """Not wanted any more: the side process is free again once it answers."""
        side, self.side = self.side, None
        if side is not None:
            _drain(side, self)


def _drain(side: _Side, job: Job | None = None) -> None:
    """Read (and drop) the answer to a job nobody waits for, then free ``side``, in a thread."""

    def drain() -> None:
        try:
            if job is not None and not job._sent():
                side.stop()
                return
            while side.conn is not None and side.alive():
                if side.conn.poll(0.5):
                    side.conn.recv()
                    break
        except Exception:  # noqa: BLE001 - EOF, a closed pipe (shutdown): the process is of no more use
            side.stop()
        finally:
            side.lock.release()

    threading.Thread(target=drain, name=f"mlx-drain-{side.name}", daemon=True).start()


def submit(name: str, fn: Callable, *args: Any) -> Job:
    """Run ``fn(*args)`` in the side process ``name`` if it is up and free, else (later) here.

    ``fn`` must be a module-level function and its arguments picklable.
    """
    side = _SIDES.get(name) if enabled() else None
    if side is not None:
        side.ready.wait(30.0)
        if side.alive() and side.lock.acquire(blocking=False):
            # Written to the pipe from a thread: a side process still importing
            # reads it only when it is ready, and a large job (a forest of
            # several MB) filled the pipe and held this process until then.
            job = Job(side, fn, args)
            job._written.clear()
            threading.Thread(target=job._send, args=(side.conn,), name=f"mlx-send-{name}", daemon=True).start()
            return job
    return Job(None, fn, args)


def shutdown() -> None:
    """Stop every side process (the tests; a normal exit needs nothing)."""
    with _SIDES_LOCK:
        for side in _SIDES.values():
            side.ready.wait(30.0)
            side.stop()
        _SIDES.clear()
