"""A side process that writes the model and draws the plots, started early.

What ``mlx run`` does after the search that a hand-written script does not
costs a fixed 1.5-2 s on this kind of machine: MLflow's import (0.6 s) and
its model format (0.3-0.5 s), matplotlib's import (0.3 s) and the plots
(0.3-0.5 s). None of it needs this process. So a run starts a side process
as it begins. While this process reads the data and searches, it imports
matplotlib, forks a *twin* (a copy of itself, for half of the plots), then
imports MLflow, in a thread of lower CPU priority (``nice``) so that it takes
the CPU the search leaves idle. After the refit, one job goes to the side process,
which hands it to the twin as well: the side process saves the model and
draws about half of the plots, the twin draws the other half, on two cores,
while this process writes the leaderboard.

A twin rather than a second process from the fork server: matplotlib's
import and warm-up are paid once, not twice, and the job's data (the fitted
pipeline, the test set) is pickled once. With ``n_jobs: 2`` the trial
workers keep both cores busy, so every second of the side processes' CPU
was taken from the search (measured: the second process cost the 24-trial
search of ``benchmarks/search.py --parallel`` 0.3 s).

The processes fork from multiprocessing's fork server (where scikit-learn is
already imported, :func:`automl_yaml.search.driver._context`) and live as
long as this process: a second run in the same process (the library, a
notebook, the test suite) reuses them with their imports done.

Nothing depends on them: a job whose process could not start, died, was
busy with another run, or raised is done again here, in this process, so
its error (if any) is the one the user would have seen without them; a
twin that died or raised leaves its half to the side process, likewise.
``MLX_SIDECARS=0`` does every job here.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

# What each side process imports while it waits for its job: first what its
# twin shares (imported before the twin forks), then what only it needs.
PRELOAD: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "model": (("automl_yaml.report.run:preload_plots",), ("automl_yaml.tracking:preload_model_format",)),
}
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
_STATE = {"job": False, "terminated": False, "twin": 0}


def _terminate(signum, frame) -> None:
    _STATE["terminated"] = True
    if not _STATE["job"]:
        # Importing or waiting: nothing to unwind, so end now. An exception
        # raised from here can be lost (raised inside a weakref callback or
        # a __del__, it is only printed), and the process lived on while the
        # run's exit waited for it to end.
        if _STATE["twin"]:
            with contextlib.suppress(OSError):
                os.kill(_STATE["twin"], signal.SIGTERM)
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


def _preload(refs: tuple[str, ...]) -> None:
    for ref in refs:  # our own constants above, never from a spec
        module, _, func = ref.partition(":")
        with contextlib.suppress(Exception):
            getattr(importlib.import_module(module), func)()


def _side_main(conn, parent: int, preload: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    # Ctrl+C reaches the whole process group; the run decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Terminated mid-job (the run was interrupted): unwinding runs the jobs'
    # clean-up, so no half-written temporary file (plots/.history.png.XXXX.png) is left.
    signal.signal(signal.SIGTERM, _terminate)
    # One thread each: the side process and its twin work at the same time, and a
    # model's OpenMP pool (HistGradientBoosting's predict) of one thread per
    # CPU in each oversubscribed the cores (a run's refit and report took
    # several times longer on a busy machine).
    with contextlib.suppress(Exception):
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=1)  # noqa: F841 - held for the process's life
    shared, own = preload
    twin = None
    try:
        _import_niced(shared).join()
        twin = _fork_twin(conn, parent)  # no other thread here now: fork copies only the calling thread
        _watch(parent)
        # Jobs are read (and the twin's halves handed over) as they come, even
        # while this process still imports: with n_jobs: 2 the search leaves
        # it little CPU, and the twin must not wait for MLflow's import.
        jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=_read_jobs, args=(conn, twin, jobs), name="mlx-jobs", daemon=True).start()
        _import_niced(own)
        _serve(conn, twin, jobs)
    except _Terminated:
        pass
    finally:
        if twin is not None:
            _end_twin(twin)
    os._exit(0)  # nothing to tear down: skip the interpreter's finalisation


def _import_niced(refs: tuple[str, ...]) -> threading.Thread:
    """Import ``refs`` in a thread of lower CPU priority (started; join it to wait).

    The imports take the CPU the search leaves idle: measured on the 3-second
    grid, 3.6 s niced, 4.2 s not (the search shared its core). On Linux a
    thread's nice value is its own: the thread that does the jobs, and the
    twin forked from it, keep the normal priority, as the run waits for
    them (on a machine busy with other work, niced jobs took 0.3-1.2 s
    longer at a load of 4 on 2 CPUs). Elsewhere the whole process is niced.
    """

    def run() -> None:
        with contextlib.suppress(OSError):
            os.nice(NICE)
        _preload(refs)

    thread = threading.Thread(target=run, name="mlx-imports", daemon=True)
    thread.start()
    return thread


def _watch(pid: int, on_gone: Callable[[], None] | None = None) -> None:
    """End this process when ``pid`` is gone (after ``on_gone``)."""
    from .search.driver import _watch_parent

    threading.Thread(target=_watch_parent, args=(pid, on_gone), daemon=True).start()


class _Twin:
    def __init__(self, conn, pid: int):
        self.conn, self.pid = conn, pid
        self.alive = True


def _fork_twin(conn, parent: int) -> _Twin | None:
    """Fork this side process's twin (in the twin: serve its halves of the jobs, then exit)."""
    from multiprocessing import Pipe

    if not hasattr(os, "fork"):  # Windows: the side process draws every plot itself
        return None
    try:
        mine, theirs = Pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the twin
        try:
            # the run's end of the pipe stays with the side process alone: the
            # run sees it closed when the side process dies, whatever the twin does
            conn.close()
            mine.close()
            _STATE["twin"] = 0
            _watch(parent)
            _watch(os.getppid(), _unwind_self)
            _serve_twin(theirs)
        except BaseException:  # noqa: BLE001 - SIGTERM (_Terminated), EOF: the twin just ends
            pass
        os._exit(0)
    theirs.close()
    _STATE["twin"] = pid
    return _Twin(mine, pid)


def _unwind_self() -> None:
    """A twin whose side process is gone (killed): end as if terminated, unwinding a job (its temporary files)."""
    with contextlib.suppress(OSError):
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(TWIN_GRACE)


# Seconds the side process waits for its terminated twin to unwind (and a twin
# whose side process is gone waits for itself) before it is ended without.
TWIN_GRACE = 30.0


def _end_twin(twin: _Twin) -> None:
    """Terminate the twin and wait until it has unwound: its temporary files are gone with it."""
    with contextlib.suppress(Exception):
        twin.conn.close()
    with contextlib.suppress(OSError):
        os.kill(twin.pid, signal.SIGTERM)
    deadline = time.monotonic() + TWIN_GRACE
    while time.monotonic() < deadline:
        try:
            if os.waitpid(twin.pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.02)
    with contextlib.suppress(OSError):
        os.kill(twin.pid, signal.SIGKILL)  # stuck: it must not outlive the run


def _loads(raw: bytes):
    from multiprocessing.reduction import ForkingPickler

    return ForkingPickler.loads(raw)


def _read_jobs(conn, twin: _Twin | None, jobs: queue.SimpleQueue) -> None:
    """The side process's reader thread: each job into ``jobs`` as ``(fn, args, twin_fn, handed)``
    (``handed``: its twin got it), an error's text if it cannot be read here; None when the pipe closes.

    A job is two messages (:func:`submit`): its twin's function, pickled (empty
    for none), then ``(fn, args)``, pickled. Both go to the twin as they
    came, before this process reads them: it reads the job at the same time.
    """
    while True:
        try:
            header = conn.recv_bytes()
            body = conn.recv_bytes()
        except (EOFError, OSError):
            break
        handed = False
        if header and twin is not None and twin.alive:
            try:
                twin.conn.send_bytes(header)
                twin.conn.send_bytes(body)
                handed = True
            except OSError:
                twin.alive = False
        try:
            twin_fn = _loads(header) if header else None
            fn, args = _loads(body)
        except Exception as exc:  # noqa: BLE001 - read whole but not unpicklable here (a class from the caller's __main__)
            jobs.put((f"the job could not be read: {type(exc).__name__}: {exc}", handed))
            continue
        finally:
            del header, body
        jobs.put((fn, args, twin_fn, handed))
    jobs.put(None)


def _serve(conn, twin: _Twin | None, jobs: queue.SimpleQueue) -> None:
    """Answer the jobs until the pipe closes: ``fn(*args)``, and, when the job has
    a ``twin_fn``, ``twin_fn(*args)`` in the twin at the same time (here if the
    twin is gone or raised); the answer is then both values."""
    while True:
        item = jobs.get()
        if item is None:
            break
        if len(item) == 2:  # unreadable here
            error, handed = item
            if handed:
                _twin_answer(twin)  # not to be taken for the next job's
            _reply(conn, ("error", error))
            continue
        fn, args, twin_fn, handed = item
        del item
        with _job():
            reply = _call(fn, args)
            if twin_fn is not None:
                # the twin's answer is read even when fn raised: it must not be taken for the next job's
                theirs = _twin_answer(twin) if handed else ("error", "no twin")
                if theirs[0] != "ok":
                    theirs = _call(twin_fn, args)  # here: the same result, or the real error
                if reply[0] == "ok":
                    reply = ("ok", (reply[1], theirs[1])) if theirs[0] == "ok" else theirs
        del fn, args, twin_fn
        _reply(conn, reply)


def _serve_twin(conn) -> None:
    """The twin's loop: ``twin_fn(*args)`` of each job handed over, until the pipe closes."""
    while True:
        try:
            header = conn.recv_bytes()
            body = conn.recv_bytes()
        except (EOFError, OSError):
            break
        try:
            twin_fn = _loads(header)
            _, args = _loads(body)
        except Exception as exc:  # noqa: BLE001 - the side process does it itself
            _reply(conn, ("error", f"{type(exc).__name__}: {exc}"))
            continue
        finally:
            del header, body
        with _job():
            reply = _call(twin_fn, args)
        del args, twin_fn
        _reply(conn, reply)


def _call(fn: Callable, args: tuple) -> tuple:
    try:
        with _one_thread():
            return ("ok", fn(*args))
    except _Terminated:
        raise
    except BaseException as exc:  # noqa: BLE001 - reported; the caller does the job itself
        return ("error", f"{type(exc).__name__}: {exc}")


def _one_thread():
    """joblib's sequential backend for a job: a side process works on one core (see threadpool_limits above).

    A model refitted with ``n_jobs: 2`` (a random forest) otherwise predicts
    through joblib's threads, whose polling cost a small test set's
    ``predict_proba`` 0.09-0.18 s instead of 0.03 s; every plot predicts.
    """
    try:
        from joblib import parallel_config
    except ImportError:
        return contextlib.nullcontext()
    return parallel_config(backend="sequential")


def _reply(conn, reply: tuple) -> None:
    try:
        conn.send(reply)
    except Exception:  # noqa: BLE001 - an unpicklable value: the caller does the job itself
        with contextlib.suppress(Exception):
            conn.send(("error", "the result could not be sent back"))


def _twin_answer(twin: _Twin) -> tuple:
    try:
        return twin.conn.recv()
    except (EOFError, OSError):
        twin.alive = False
        return ("gone", None)
    except Exception as exc:  # noqa: BLE001 - an answer this process cannot read
        return ("error", f"{type(exc).__name__}: {exc}")


class _Side:
    def __init__(self, name: str):
        self.name = name
        self.conn = None
        self.proc = None
        self.lock = threading.Lock()  # one job at a time
        self.ready = threading.Event()

    def start(self) -> None:
        from .search.driver import _context

        try:
            ctx = _context()
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=_side_main, args=(child, os.getpid(), PRELOAD[self.name]), name=f"mlx-{self.name}", daemon=True)
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


def start(names: tuple[str, ...] = ("model",)) -> None:
    """Start the side processes not running yet (in the background: returns at once)."""
    if not enabled():
        return
    with _SIDES_LOCK:
        for name in names:
            side = _SIDES.get(name)
            if side is not None and (not side.ready.is_set() or side.alive()):
                continue
            side = _Side(name)
            _SIDES[name] = side
            threading.Thread(target=side.start, name=f"mlx-start-{name}", daemon=True).start()


class Job:
    """One job given to a side process (or run here); :meth:`result` waits for it."""

    def __init__(self, side: _Side | None, fn: Callable, args: tuple, twin: Callable | None = None):
        self.side, self.fn, self.args, self.twin = side, fn, args, twin
        self.where = "here"

    def result(self) -> Any:
        side, self.side = self.side, None
        if side is not None:
            free = False  # the side process answered (or is gone): it can take the next job
            deadline = time.monotonic() + _job_timeout()
            try:
                while side.conn is not None:
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
                    _drain(side)
        value = self.fn(*self.args)
        return value if self.twin is None else (value, self.twin(*self.args))

    def abandon(self) -> None:
        """Not wanted any more: the side process is free again once it answers."""
        side, self.side = self.side, None
        if side is not None:
            _drain(side)


def _drain(side: _Side) -> None:
    """Read (and drop) the answer to a job nobody waits for, then free ``side``, in a thread."""

    def drain() -> None:
        try:
            while side.conn is not None and side.alive():
                if side.conn.poll(0.5):
                    side.conn.recv()
                    break
        except Exception:  # noqa: BLE001 - EOF, a closed pipe (shutdown): the process is of no more use
            side.stop()
        finally:
            side.lock.release()

    threading.Thread(target=drain, name=f"mlx-drain-{side.name}", daemon=True).start()


def submit(name: str, fn: Callable, *args: Any, twin: Callable | None = None) -> Job:
    """Run ``fn(*args)`` in the side process ``name`` if it is up and free, else (later) here.

    With ``twin``, also ``twin(*args)``, at the same time in the side
    process's twin, and the result is the pair of their values.
    ``fn`` and ``twin`` must be module-level functions and the arguments picklable.
    """
    side = _SIDES.get(name) if enabled() else None
    if side is not None:
        side.ready.wait(30.0)
        if side.alive() and side.lock.acquire(blocking=False):
            try:
                from multiprocessing.reduction import ForkingPickler

                # two messages (see _read_jobs): the twin's function, then the job
                header = bytes(ForkingPickler.dumps(twin)) if twin is not None else b""
                body = ForkingPickler.dumps((fn, args))
                side.conn.send_bytes(header)
                side.conn.send_bytes(body)
                return Job(side, fn, args, twin)
            except Exception:  # noqa: BLE001 - unpicklable, or the process just died
                side.lock.release()
            except BaseException:
                # Ctrl+C, maybe half-way through a large job (the test set):
                # the process would wait for the rest for ever. The next run starts another.
                side.stop()
                side.lock.release()
                raise
    return Job(None, fn, args, twin)


def shutdown() -> None:
    """Stop every side process (the tests; a normal exit needs nothing)."""
    with _SIDES_LOCK:
        for side in _SIDES.values():
            side.ready.wait(30.0)
            side.stop()
        _SIDES.clear()
