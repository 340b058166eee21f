"""Run a search: ask, evaluate (in parallel), tell, journal; with hard budgets.

:func:`run_search` drives any :class:`~automl_yaml.search.base.Searcher` with
any evaluation callable (normally an
:class:`~automl_yaml.search.evaluator.Evaluator`)::

    outcome = run_search(searcher, evaluator, directions=["maximize"],
                         n_trials=50, time_budget=600, trial_timeout=None,
                         patience=None, n_jobs=2, journal=out / "trials.jsonl")

How it runs trials:

* ``n_jobs == 1`` without a time limit: in this process, one after the other
  (no overhead).
* Otherwise in worker processes (``n_jobs`` of them; -1: one per CPU), started
  from a ``forkserver`` (``spawn`` where there is none) so that threads of the
  driving process (BLAS, OpenMP) never reach a forked child. A worker gets the
  evaluation callable once, then one piece of work at a time: a fold of a
  trial when the evaluation can score folds alone and the strategy does not
  prune (:func:`_run_folds`: a free worker takes the next fold of a running
  trial before a new trial is asked, as ``GridSearchCV`` shares out
  (candidate, fold) pairs), else a whole trial (:func:`_run_pool`; pruning
  questions travel back to the driver, which asks the searcher). New trials
  are asked as workers free up (asynchronous ask/tell). A worker is the unit
  of cancellation: a trial past ``trial_timeout`` or the time budget is
  stopped by terminating its processes (fresh workers take their place).

Only the driving process tells the searcher and writes the journal.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import multiprocessing
import multiprocessing.connection
import os
import pathlib
import pickle
import signal
import threading
import time
from collections.abc import Callable

from ..errors import SearchError, one_line
from .base import STATUSES, Searcher, Trial, TrialResult, better
from .journal import Journal, read_journal
from .pareto import pareto_front

Evaluate = Callable[[Trial, "Callable[[int, float], bool] | None"], TrialResult]

#: Why a search ended (``SearchOutcome.stopped``).
STOP_TRIALS = "budget: trials"
STOP_TIME = "budget: time"
STOP_PATIENCE = "patience"
STOP_EXHAUSTED = "exhausted"
STOP_INTERRUPTED = "interrupted"



def describe_stop(stopped: str, strategy: str | None = None) -> str:
    """Why a search ended, in words for the run's result lines and report.

    >>> describe_stop("budget: trials")
    'stopped by budget: trials'
    >>> describe_stop("exhausted", "grid")
    'search space exhausted (every configuration ran)'
    """
    if stopped == STOP_EXHAUSTED:
        # A genetic search ends after its generations, not when the space runs out.
        return "all generations ran" if strategy == "genetic" else "search space exhausted (every configuration ran)"
    if stopped == STOP_INTERRUPTED:
        return "interrupted"
    return f"stopped by {stopped}"


#: The error of a trial still running when the time budget ran out.
BUDGET_STOPPED = "TimeoutError: stopped at the end of the search's time budget (search.budget.time)"


@dataclasses.dataclass
class SearchOutcome:
    """What a search found.

    Attributes:
        results: Every trial (restored ones included), in trial-number order.
        best: The best ``ok`` trial by the first objective (ties: the earlier
            trial), or None.
        pareto: Trial numbers on the Pareto front of the ``ok`` trials (several
            objectives); ``[best.number]`` with one objective.
        stopped: Why the search ended: ``"budget: trials"``, ``"budget: time"``,
            ``"patience"``, ``"exhausted"`` or ``"interrupted"``.
        elapsed: Wall seconds of this run (not counting a resumed earlier run).
    """

    results: list[TrialResult]
    best: TrialResult | None
    pareto: list[int]
    stopped: str
    elapsed: float

    def counts(self) -> dict[str, int]:
        """Trials per status."""
        c = collections.Counter(r.status for r in self.results)
        return {s: c.get(s, 0) for s in STATUSES}


# ------------------------------------------------------------------ bookkeeping


class _Book:
    """Results so far, the best trial, and the patience counter."""

    def __init__(self, directions: list[str]):
        self.directions = directions
        self.results: dict[int, TrialResult] = {}
        self.best: TrialResult | None = None
        self.since_best = 0

    def add(self, r: TrialResult) -> None:
        self.results[r.number] = r
        best = self.best
        if r.ok and (best is None or better(r.values[0], best.values[0], self.directions[0])):
            self.best = r
            self.since_best = 0
            return
        if r.ok and r.values[0] == best.values[0] and r.number < best.number:
            self.best = r  # ties go to the earlier trial (results arrive in any order)
        self.since_best += 1

    def outcome(self, stopped: str, elapsed: float) -> SearchOutcome:
        results = [self.results[n] for n in sorted(self.results)]
        ok = [r for r in results if r.ok]
        if len(self.directions) > 1:
            pareto = [ok[i].number for i in pareto_front([r.values for r in ok], self.directions)]
        else:
            pareto = [self.best.number] if self.best else []
        return SearchOutcome(results, self.best, pareto, stopped, elapsed)


def _failed(trial: Trial, error: str, started: float, status: str = "failed", duration: float | None = None) -> TrialResult:
    now = time.time()
    return TrialResult(
        number=trial.number,
        config=trial.config,
        status=status,
        error=error,
        duration=now - started if duration is None else duration,
        started_at=started,
        finished_at=now,
    )


class _Broken(Exception):
    """A worker that could not load the evaluation (the message is the error line)."""


class _BrokenEvaluation:
    """What a worker that could not load the evaluation runs instead: each trial or fold fails with the reason."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, trial, report=None):
        raise _Broken(self.message)

    def fold(self, trial, k):
        raise _Broken(self.message)


def _evaluate(evaluate: Evaluate, trial: Trial, report, n_objectives: int) -> TrialResult:
    """Call ``evaluate``; whatever goes wrong becomes a ``failed`` result."""
    started = time.time()
    try:
        result = evaluate(trial, report)
    except _Broken as e:
        return _failed(trial, str(e), started)
    except Exception as e:  # noqa: BLE001 - a failing trial is recorded, the search goes on
        return _failed(trial, one_line(e), started)
    return _checked(result, trial, n_objectives, started)


def _checked(result, trial: Trial, n_objectives: int, started: float) -> TrialResult:
    """``result`` if it is a well-formed result of ``trial``, else a ``failed`` one saying what is wrong."""
    if not isinstance(result, TrialResult):
        return _failed(trial, f"TypeError: the evaluation returned {type(result).__name__}, not a TrialResult", started)
    result.number, result.config = trial.number, trial.config
    if result.status not in STATUSES:
        return _failed(trial, f"ValueError: unknown trial status {result.status!r}", started)
    if result.status == "ok":
        values = result.values
        if values is None or len(values) != n_objectives:
            n = 0 if values is None else len(values)
            return _failed(trial, f"ValueError: the evaluation gave {n} values for {n_objectives} objectives", started)
        result.values = [float(v) for v in values]
        if not all(math.isfinite(v) for v in result.values):
            return _failed(trial, f"ValueError: the objective values {result.values} are not all finite", started)
    return result


# ------------------------------------------------------------------ workers


def _watch_parent(pid: int) -> None:
    # A worker whose driver was killed (SIGKILL leaves no chance to clean up)
    # must not keep a CPU busy for nothing.
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _worker_main(conn, payload: bytes, n_objectives: int, parent: int, threads: int | None = None) -> None:
    # Ctrl+C reaches the whole process group; the driver decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    limits = None
    if threads:
        # Trials running side by side must share the cores: each worker's BLAS
        # and OpenMP pools (HistGradientBoosting, linear models) would otherwise
        # start one thread per CPU each, and oversubscription made fits 10-30x
        # slower on 2 cores. threadpoolctl (a scikit-learn dependency) does it.
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=threads)  # noqa: F841 - held for the process's life
    try:
        evaluate = pickle.loads(payload)
    except Exception as e:  # noqa: BLE001 - e.g. a plugin module this process cannot import
        evaluate = _BrokenEvaluation(f"WorkerError: a worker process cannot load the evaluation: {one_line(e)}")

    while True:
        try:
            trial = conn.recv()
        except (EOFError, OSError):
            return
        if trial is None:
            return
        if isinstance(trial, tuple):  # ("fold", trial, k): one fold of a trial shared out (_run_folds)
            _, trial, k = trial
            try:
                scores = evaluate.fold(trial, k)
            except Exception as e:  # noqa: BLE001 - Evaluator.fold records its errors; anything else, here
                scores = str(e) if isinstance(e, _Broken) else one_line(e)
            try:
                conn.send(("fold", scores))
            except (BrokenPipeError, OSError):
                return
            continue

        def report(step: int, value: float) -> bool:
            conn.send(("report", step, value))
            return bool(conn.recv())

        result = _evaluate(evaluate, trial, report, n_objectives)
        try:
            conn.send(("result", result))
        except (BrokenPipeError, OSError):
            return
        except Exception as e:  # noqa: BLE001 - an unpicklable result must not kill the worker
            conn.send(("result", _failed(trial, f"PicklingError: cannot send the result back: {one_line(e)}", result.started_at)))


# What the fork server imports as it starts: its own set-up first, then what
# every process forked from it needs (see preload).
_PRELOAD = ["automl_yaml.search._fork_main", "automl_yaml.search.evaluator"]


def preload(modules) -> None:
    """Have the fork server import ``modules`` as it starts (no effect once it runs).

    Each trial worker and side process imports what the trials' pipelines are
    made of (the estimators' modules, the preprocessing) when the first one
    reaches it: 0.1-0.3 s of CPU in every process, taken from the trials
    when they run in parallel. Imported once in the fork server, they are
    shared by every process forked from it. A module that cannot be imported
    is skipped there (and fails where it is used, as before).
    """
    for m in modules:
        if m not in _PRELOAD:
            _PRELOAD.append(m)


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # Takes effect when the server starts: workers fork from a process
        # that already imported scikit-learn, and that does not run the
        # user's main script again in each of them (see _fork_main).
        from multiprocessing import spawn

        prep = spawn.get_preparation_data("mlx")
        for key, var in (("init_main_from_path", "MLX_MP_MAIN_PATH"), ("init_main_from_name", "MLX_MP_MAIN_NAME")):
            if key in prep:
                os.environ[var] = prep[key]  # read by the server when it starts
            else:
                os.environ.pop(var, None)  # inherited from another program's run
        ctx.set_forkserver_preload(list(_PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def _noop() -> None:
    pass


def warm_up() -> threading.Thread:
    """Start the process that worker processes fork from, in the background.

    Importing scikit-learn there takes about a second; a caller that will
    run trials in workers can call this early (before loading data, say) so
    that the second overlaps other work. Optional: the first worker starts
    it anyway. Returns the thread (join it to wait).
    """

    def start() -> None:
        ctx = _context()
        if ctx.get_start_method() == "forkserver":
            p = ctx.Process(target=_noop)
            p.start()
            p.join()

    thread = threading.Thread(target=start, name="mlx-warm-up", daemon=True)
    thread.start()
    return thread


class _Worker:
    def __init__(self, ctx, payload: bytes, n_objectives: int, threads: int | None = None):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, payload, n_objectives, os.getpid(), threads), name="mlx-trial")
        self.proc.start()
        child.close()
        self.trial: Trial | None = None
        self.t0 = 0.0  # monotonic start of the current trial
        self.started_at = 0.0

    def run(self, trial: Trial, fold: int | None = None) -> None:
        """Evaluate ``trial`` (all its folds), or only its fold ``fold``."""
        self.trial = trial
        self.t0 = time.monotonic()
        self.started_at = time.time()
        self.conn.send(trial if fold is None else ("fold", trial, fold))

    def stop(self) -> None:
        """End the process now (a running trial is lost)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(1.0)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(1.0)
        self.conn.close()

    def close(self) -> None:
        """Ask an idle worker to exit."""
        try:
            self.conn.send(None)
        except OSError:
            pass


class _Pool:
    """At most ``size`` worker processes, started on demand and replaced when stopped."""

    def __init__(self, evaluate: Evaluate, size: int, n_objectives: int):
        self.size = size
        self.n_objectives = n_objectives
        try:
            self.payload = pickle.dumps(evaluate)
        except Exception as e:  # noqa: BLE001 - pickling raises many kinds (PicklingError, TypeError, AttributeError)
            raise SearchError(
                f"the trials cannot be sent to worker processes: {one_line(e)}",
                hint="set execution.n_jobs: 1 (and no search.budget.time / trial_timeout), or make the model picklable",
            ) from e
        self.ctx = _context()
        self.workers: list[_Worker] = []
        # native threads per worker: the CPUs shared out (None: a lone worker keeps them all)
        self.threads = max(1, (os.cpu_count() or 1) // size) if size > 1 else None

    @property
    def busy(self) -> list[_Worker]:
        return [w for w in self.workers if w.trial is not None]

    def free(self) -> bool:
        return len(self.busy) < self.size

    def submit(self, trial: Trial, fold: int | None = None) -> _Worker:
        idle = [w for w in self.workers if w.trial is None]
        w = idle[0] if idle else _Worker(self.ctx, self.payload, self.n_objectives, self.threads)
        if not idle:
            self.workers.append(w)
        w.run(trial, fold)
        return w

    def wait(self, timeout: float | None) -> list[_Worker]:
        busy = {w.conn: w for w in self.busy}
        sentinels = {w.proc.sentinel: w for w in self.busy}
        ready = multiprocessing.connection.wait(list(busy) + list(sentinels), timeout)
        out = []
        for r in ready:
            w = busy.get(r) or sentinels.get(r)
            if w not in out:
                out.append(w)
        return out

    def remove(self, w: _Worker) -> None:
        w.stop()
        self.workers.remove(w)

    def shutdown(self) -> None:
        for w in self.workers:
            if w.trial is None and w.proc.is_alive():
                w.close()
        deadline = time.monotonic() + 2.0
        for w in self.workers:
            if w.trial is None:
                w.proc.join(max(0.0, deadline - time.monotonic()))
            w.stop()
        self.workers = []


# ------------------------------------------------------------------ the driver


def _n_workers(n_jobs: int) -> int:
    if n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive number or -1, but got {n_jobs}")
    return n_jobs


def in_workers(n_jobs: int, time_budget: float | None, trial_timeout: float | None) -> bool:
    """Whether :func:`run_search` runs the trials in worker processes (else in the calling process).

    One job and no time limit: in this process. A time budget or a
    per-trial timeout needs a worker it can stop, even with one job.
    """
    return _n_workers(n_jobs) > 1 or time_budget is not None or trial_timeout is not None


def run_search(
    searcher: Searcher,
    evaluate: Evaluate,
    *,
    directions: list[str],
    n_trials: int | None,
    time_budget: float | None,
    trial_timeout: float | None,
    patience: int | None,
    n_jobs: int,
    journal: pathlib.Path | None,
    resume: bool = False,
    on_result: Callable[[TrialResult], None] | None = None,
    on_draining: Callable[[], None] | None = None,
) -> SearchOutcome:
    """Run trials until a budget, patience or the strategy ends the search.

    Args:
        searcher: The strategy (fresh: :meth:`Searcher.restore` is called here
            when resuming).
        evaluate: ``(trial, report) -> TrialResult``; picklable when trials run
            in worker processes. An exception it raises is recorded as a
            ``failed`` trial.
        directions: One per objective, as the searcher's.
        n_trials: At most this many trials in all (resumed ones count).
        time_budget: Seconds of this run; no trial starts after it and running
            ones are stopped and recorded as ``timeout``.
        trial_timeout: Seconds one trial may run before it is stopped
            (``timeout``; the search goes on).
        patience: Stop after this many finished trials in a row that do not
            improve the best first objective.
        n_jobs: Trials at once (worker processes); -1: one per CPU.
        journal: A JSON Lines file of the trials (see
            :mod:`automl_yaml.search.journal`), or None.
        resume: Read ``journal``: its finished trials are not run again, the
            ones it started but did not finish are.
        on_result: Called in this process with each new result, after the
            journal has it.
        on_draining: Called once, in this process, when the search has
            ended (a budget, the strategy) but trials still run in workers,
            as a worker is left with nothing to do: a core is free for what
            follows the search.

    Returns:
        The :class:`SearchOutcome`.

    Raises:
        SearchError: no trial succeeded (``.outcome`` holds what happened).
        KeyboardInterrupt: re-raised after stopping the workers; the journal
            is intact and ``.search_outcome`` holds the outcome so far.
    """
    directions = list(directions)
    workers = _n_workers(n_jobs)
    t_start = time.monotonic()
    deadline = t_start + time_budget if time_budget is not None else None
    book = _Book(directions)

    resumed_pending: set[int] = set()
    if resume and journal is not None:
        done, pending = read_journal(journal, searcher.space)
        resumed_pending = {t.number for t in pending}
        if done or pending:
            searcher.restore(done, pending)
        for r in done:
            book.add(r)
    jr = Journal(journal) if journal is not None else None
    if jr is not None:
        jr.open(fresh=not resume)

    handed_out = set(book.results)

    def started(trial: Trial) -> None:
        # A guard on the strategies: a number handed out twice would be a
        # duplicate trial in the journal.
        if trial.number in handed_out and trial.number not in resumed_pending:
            raise RuntimeError(f"{type(searcher).__name__} handed out trial {trial.number} twice")
        resumed_pending.discard(trial.number)
        handed_out.add(trial.number)
        if jr is not None:
            jr.started(trial)

    def finish(trial: Trial, result: TrialResult) -> None:
        searcher.tell(trial, result)
        if jr is not None:
            jr.finished(result)
        book.add(result)
        if on_result is not None:
            on_result(result)

    space_size = searcher.size()

    def stop_reason(running: int) -> str | None:
        handed = len(book.results) + running
        if n_trials is not None and handed >= n_trials:
            # A budget as large as the space (a grid's budget is its size):
            # every configuration ran, the budget did not cut the search short.
            return STOP_EXHAUSTED if space_size is not None and handed >= space_size else STOP_TRIALS
        if deadline is not None and time.monotonic() >= deadline:
            return STOP_TIME
        if patience is not None and book.since_best >= patience:
            return STOP_PATIENCE
        return None

    drained: list = []

    def draining() -> None:
        if on_draining is not None and not drained:
            drained.append(True)
            on_draining()

    try:
        if not in_workers(n_jobs, time_budget, trial_timeout):
            stopped = _run_inline(searcher, evaluate, started, finish, stop_reason, len(directions))
        elif workers > 1 and _shares_folds(searcher, evaluate):
            stopped = _run_folds(searcher, evaluate, started, finish, stop_reason, workers, deadline, trial_timeout, len(directions), draining)
        else:
            stopped = _run_pool(searcher, evaluate, started, finish, stop_reason, workers, deadline, trial_timeout, len(directions), draining)
    except KeyboardInterrupt as e:
        e.search_outcome = book.outcome(STOP_INTERRUPTED, time.monotonic() - t_start)
        raise
    finally:
        if jr is not None:
            jr.close()
    outcome = book.outcome(stopped, time.monotonic() - t_start)
    if outcome.best is None:
        raise _no_success(outcome, journal)
    return outcome


def _run_inline(searcher, evaluate, started, finish, stop_reason, n_objectives) -> str:
    while True:
        reason = stop_reason(0)
        if reason:
            return reason
        trial = searcher.ask()
        if trial is None:
            return STOP_EXHAUSTED
        started(trial)

        def report(step: int, value: float, trial=trial) -> bool:
            return searcher.should_prune(trial, step, value)

        finish(trial, _evaluate(evaluate, trial, report, n_objectives))


def _run_pool(searcher, evaluate, started, finish, stop_reason, workers, deadline, trial_timeout, n_objectives, draining=_noop) -> str:
    pool = _Pool(evaluate, workers, n_objectives)
    stopped: str | None = None
    try:
        while True:
            # Start trials while workers are free.
            while stopped is None and pool.free():
                reason = stop_reason(len(pool.busy))
                if reason:
                    stopped = reason
                    break
                trial = searcher.ask()
                if trial is None:
                    # Nothing now: wait for results (a generation completes)
                    # or, with nothing out, the strategy is done.
                    if not pool.busy:
                        stopped = STOP_EXHAUSTED
                    break
                started(trial)
                pool.submit(trial)
            if not pool.busy:
                return stopped or STOP_EXHAUSTED
            if stopped is not None and pool.free():
                draining()
            now = time.monotonic()
            limits = [deadline] if deadline is not None else []
            if trial_timeout is not None:
                limits += [w.t0 + trial_timeout for w in pool.busy]
            timeout = max(0.0, min(limits) - now) if limits else None
            for w in pool.wait(timeout):
                _handle(w, pool, searcher, finish)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                for w in pool.busy:
                    _stop(w, pool, finish, BUDGET_STOPPED)
                stopped = stopped or STOP_TIME
            if trial_timeout is not None:
                for w in pool.busy:
                    if now - w.t0 >= trial_timeout:
                        _stop(w, pool, finish, f"TimeoutError: stopped after {trial_timeout:g}s (search.budget.trial_timeout)")
    finally:
        pool.shutdown()


def _shares_folds(searcher: Searcher, evaluate: Evaluate) -> bool:
    """Whether a trial's folds may run in several workers at once.

    The evaluation must offer it (``fold``/``combine``/``n_folds``, as
    :class:`~automl_yaml.search.evaluator.Evaluator` does), and the strategy
    must not prune: a pruner judges a trial fold after fold, in order.
    """
    return (
        not searcher.prunes
        and callable(getattr(evaluate, "fold", None))
        and callable(getattr(evaluate, "combine", None))
        and getattr(evaluate, "n_folds", 0) > 1
        and getattr(evaluate, "error_score", "record") == "record"
    )


@dataclasses.dataclass
class _Shared:
    """A running trial whose folds are shared out among the workers."""

    trial: Trial
    todo: collections.deque  # fold numbers not handed out yet
    started_at: float  # time.time() of its first fold
    t0: float  # time.monotonic() of its first fold
    folds: list = dataclasses.field(default_factory=list)  # FoldScores back so far
    workers: set = dataclasses.field(default_factory=set)  # the workers computing one of its folds


def _run_folds(searcher, evaluate, started, finish, stop_reason, workers, deadline, trial_timeout, n_objectives, draining=_noop) -> str:
    """Like :func:`_run_pool`, with the unit of work a fold, not a trial.

    A free worker takes the next fold of the oldest running trial that has
    one left, and asks the strategy for a new trial only when none has. So
    the last trials of a search (or of a genetic generation) do not run on
    one worker while the others wait: with 3 folds and 2 workers, a trial
    takes two fold-times instead of three (scikit-learn's ``GridSearchCV``
    shares out (candidate, fold) pairs the same way). Each fold is computed
    exactly as in one process (:meth:`Evaluator.fold`) and the trial's result
    assembled from them (:meth:`Evaluator.combine`): the same numbers.
    """
    pool = _Pool(evaluate, workers, n_objectives)
    n_folds = evaluate.n_folds
    running: dict[int, _Shared] = {}  # by trial number, oldest first
    stopped: str | None = None

    def end(job: _Shared, result: TrialResult) -> None:
        del running[job.trial.number]
        finish(job.trial, result)

    def combined(job: _Shared) -> TrialResult:
        result = evaluate.combine(job.trial, job.folds, started_at=job.started_at, duration=time.monotonic() - job.t0)
        return _checked(result, job.trial, n_objectives, job.started_at)

    def timed_out(job: _Shared, error: str) -> None:
        for w in list(job.workers):
            pool.remove(w)
        end(job, _failed(job.trial, error, job.started_at, status="timeout", duration=time.monotonic() - job.t0))

    try:
        while True:
            while pool.free():
                job = next((j for j in running.values() if j.todo), None)
                if job is None:
                    stopped = stopped or stop_reason(len(running))
                    if stopped:
                        break
                    trial = searcher.ask()
                    if trial is None:
                        if not running:
                            stopped = STOP_EXHAUSTED
                        break
                    started(trial)
                    job = _Shared(trial, collections.deque(range(n_folds)), time.time(), time.monotonic())
                    running[trial.number] = job
                job.workers.add(pool.submit(job.trial, job.todo.popleft()))
            if not pool.busy:
                return stopped or STOP_EXHAUSTED
            if stopped is not None and pool.free():
                draining()
            limits = [deadline] if deadline is not None else []
            if trial_timeout is not None:
                limits += [j.t0 + trial_timeout for j in running.values()]
            timeout = max(0.0, min(limits) - time.monotonic()) if limits else None
            for w in pool.wait(timeout):
                job = running.get(w.trial.number) if w.trial is not None else None
                scores = _fold_reply(w, pool)
                if scores is _PENDING:
                    continue
                if job is None or w not in job.workers:
                    continue  # a fold of a trial that already ended (another fold failed)
                job.workers.discard(w)
                if scores is None:  # the worker died
                    end(job, _failed(job.trial, f"WorkerError: the trial's process died (exit code {w.proc.exitcode})", job.started_at))
                    continue
                if isinstance(scores, str):
                    end(job, _failed(job.trial, scores, job.started_at))
                    continue
                job.folds.append(scores)
                if scores.error or len(job.folds) == n_folds:
                    end(job, combined(job))  # a failed fold fails the trial at once
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                for job in list(running.values()):
                    timed_out(job, BUDGET_STOPPED)
                for w in pool.busy:  # folds of trials that already ended
                    pool.remove(w)
                stopped = stopped or STOP_TIME
            if trial_timeout is not None:
                for job in list(running.values()):
                    if now - job.t0 >= trial_timeout:
                        timed_out(job, f"TimeoutError: stopped after {trial_timeout:g}s (search.budget.trial_timeout)")
    finally:
        pool.shutdown()


_PENDING = object()


def _fold_reply(w: _Worker, pool: _Pool):
    """What a ready worker sent for its fold (FoldScores, or an error line), freeing it;
    None when it died (it is removed), ``_PENDING`` when it has sent nothing yet."""
    try:
        if w.conn.poll():
            msg = w.conn.recv()
            w.trial = None
            return msg[1]
        if w.proc.is_alive():
            return _PENDING
    except (EOFError, OSError):
        pass
    w.proc.join(1.0)
    pool.remove(w)
    return None


def _stop(w: _Worker, pool: _Pool, finish, error: str) -> None:
    trial, started, t0 = w.trial, w.started_at, w.t0
    pool.remove(w)
    finish(trial, _failed(trial, error, started, status="timeout", duration=time.monotonic() - t0))


def _handle(w: _Worker, pool: _Pool, searcher: Searcher, finish) -> None:
    """Serve every message a worker has sent; a dead worker fails its trial."""
    trial = w.trial
    try:
        while w.conn.poll():
            msg = w.conn.recv()
            if msg[0] == "report":
                w.conn.send(bool(searcher.should_prune(trial, msg[1], msg[2])))
            else:
                w.trial = None
                finish(trial, msg[1])
                return
        if w.proc.is_alive():
            return
    except (EOFError, OSError):
        pass
    # The process ended without a result (killed by the system, crashed).
    w.proc.join(1.0)
    code = w.proc.exitcode
    pool.remove(w)
    finish(trial, _failed(trial, f"WorkerError: the trial's process died (exit code {code})", w.started_at))


def _no_success(outcome: SearchOutcome, journal: pathlib.Path | None) -> SearchError:
    results = outcome.results
    where = f"; every trial's error is in {journal}" if journal is not None else ""
    if not results:
        err = SearchError(
            f"no trial finished ({outcome.stopped})",
            hint="raise search.budget.time or search.budget.trials",
        )
    else:
        errors = collections.Counter(r.error for r in results if r.error)
        statuses = collections.Counter(r.status for r in results)
        top, n = errors.most_common(1)[0] if errors else ("no error message", 0)
        if errors.get(BUDGET_STOPPED, 0) == len(results):
            # The budget is shorter than one trial: nothing failed, nothing finished.
            err = SearchError(
                f"no trial finished within the time budget (search.budget.time, {outcome.elapsed:.0f}s): "
                f"the {len(results)} trial(s) started were still running when it ran out",
                hint="raise search.budget.time: one trial fits the model once per CV fold on every training row; "
                "or lower search.cv.folds, or list only fast models (models: {logistic_regression: {}})",
            )
            err.outcome = outcome
            return err
        if statuses.get("timeout", 0) == len(results):
            hint = "raise search.budget.trial_timeout or search.budget.time, or search smaller models"
        else:
            hint = "fix what the error names (a model's parameters, the preprocessing) or drop that model" + where
        err = SearchError(
            f"every trial failed ({len(results)} of {len(results)}); the most common error ({n} trials): {top}",
            hint=hint,
        )
    err.outcome = outcome
    return err
