"""MLflow tracking: one parent run per ``mlx run``, one nested run per trial.

Everything goes through :class:`mlflow.MlflowClient`, never from many
workers at once into SQLite, and from one child process of the run
(:class:`ServiceTracker`, ``python -m automl_yaml.tracking service``): the
run's own process does not import MLflow. The child writes the parent run,
and from a thread the trials' nested runs, each as three calls
(``create_run`` with its tags, one ``log_batch`` with params and metrics,
``set_terminated``). The search does not wait for the database, and the
writer is drained before the run ends. Without the child
(``MLX_TRACKING_SERVICE=0``, or it could not start) :class:`MlflowTracker`
works in the run's process, with the trials written by one writer process
(:class:`TrialWriter`).

The default store needs no server: ``tracking.uri``, else
``$MLFLOW_TRACKING_URI``, else ``sqlite:///<spec folder>/mlflow.db`` with
artifacts in ``<spec folder>/mlartifacts``. A remote server that does not
answer fails the run *before* the search starts.

Secrets never reach MLflow: params come from the spec as written (``${VAR}``
unresolved) with literal passwords masked, and the saved spec is the same
redacted copy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from .errors import TrackingError, UsageError
from .spec import LoadedSpec, mask_url

MAX_PARAM = 6000  # MLflow's limit on a param value
MAX_KEY = 250


def resolve_uri(loaded: LoadedSpec) -> str:
    """The tracking URI a run uses (relative SQLite paths are relative to the spec)."""
    uri = loaded.spec.tracking.uri or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        rel = uri[len("sqlite:///") :]
        if rel and not rel.startswith(":memory:"):
            uri = "sqlite:///" + str((loaded.base_dir / rel).resolve())
    elif "://" not in uri:  # a plain folder: MLflow's (deprecated) file store; keep it absolute
        uri = str((loaded.base_dir / uri).resolve())
    return uri


_INDEX = re.compile(r"\[(\d+)\]")
_NOT_IN_NAMES = re.compile(r"[^\w.\- /]")


def mlflow_name(key: str) -> str:
    """``key`` as a param, metric or tag name MLflow accepts (the same key, the same name).

    MLflow takes letters, digits, ``_ - . /`` and spaces (a colon too, but not
    on Windows), and refuses a name a path would read otherwise (``a//b``,
    ``/a``, ``..``). A searched option of a selection step is
    ``select[1].univariate.k``: its index becomes a part, ``select.1.univariate.k``;
    any other character is ``_``.
    """
    name = _NOT_IN_NAMES.sub("_", _INDEX.sub(r".\1", str(key)))
    name = "/".join(part if part not in ("", ".", "..") else "_" for part in name.split("/"))
    return name[:MAX_KEY]


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``; lists are kept as JSON-ish text.

    The names are MLflow's (:func:`mlflow_name`); two keys that would get the
    same name (``a[1]`` and ``a.1``) are told apart by a suffix (``a.1_2``).
    """
    out: dict[str, str] = {}
    for key, value in _flat(data, prefix).items():
        name = mlflow_name(key)
        n = 1
        while name in out:
            n += 1
            name = f"{mlflow_name(key)[: MAX_KEY - len(str(n)) - 1]}_{n}"
        out[name] = value if len(value) <= MAX_PARAM else value[: MAX_PARAM - 1] + "…"
    return out


def _flat(data: Any, prefix: str = "") -> dict[str, str]:
    import json

    out: dict[str, str] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v and not _is_space(v):
                out.update(_flat(v, key))
            else:
                out[key] = v if isinstance(v, str) else json.dumps(v, default=str)
    else:
        out[prefix or "value"] = json.dumps(data, default=str)
    return out


def _is_space(d: dict) -> bool:
    return any(k in d for k in ("choice", "int", "float"))


def _quiet_mlflow() -> None:
    """MLflow's INFO chatter off. Importing mlflow configures its logger, so
    import it first, then set the levels."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import mlflow  # noqa: F401

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # we choose cloudpickle on purpose (the model carries its own code); skops
    # cannot load our wrapper without a trust list, and MLflow gates both alike
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*pickle or cloudpickle format.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="mlflow.*")
    warnings.filterwarnings("ignore", message=".*Hint: Inferred schema contains integer column.*")


@contextlib.contextmanager
def _pinned_requirements():
    """Skip MLflow's check that the model's requirements match this environment, while saving.

    Our requirements are read from this environment's installed versions
    (:func:`_requirements`), so they match it by construction; but MLflow's
    check (``warn_dependency_requirement_mismatches``, run by every
    ``save_model``/``log_model`` with ``pip_requirements``) first maps every
    installed distribution's files to its modules: 0.7 s of CPU per process
    here (75 distributions), more than the save itself, and only to print a
    warning. MLflow has no setting for it (``MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK``
    is another check), so the name MLflow's save calls is replaced for the
    duration. Where a later MLflow moves it, nothing is replaced and the save
    just takes longer (a test says so).
    """
    try:
        from mlflow.utils import environment
    except ImportError:  # pragma: no cover - mlflow is a dependency
        yield
        return
    original = getattr(environment, "warn_dependency_requirement_mismatches", None)
    if original is None:
        yield
        return
    environment.warn_dependency_requirement_mismatches = lambda requirements: None
    try:
        yield
    finally:
        environment.warn_dependency_requirement_mismatches = original


def git_commit(folder: Path) -> tuple[str | None, bool]:
    """The commit of the git checkout ``folder`` is in, and whether it has changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None, False
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True, timeout=5)
        return sha.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, False


_FAST_SQLITE: set[str] = set()


def _fast_sqlite(path: str) -> None:
    """WAL journal and ``synchronous=NORMAL`` for the tracking database only.

    MLflow commits several times per run; with SQLite's default rollback
    journal every commit waits for an fsync, which dominates the cost of
    logging a trial (measured: ~70% of it). In WAL mode with NORMAL sync a
    commit survives a crash of the process (not of the machine's power),
    which is what experiment tracking needs; ``mlflow ui`` reads a WAL
    database like any other. The listener touches no other SQLite file.
    """
    target = os.path.realpath(path)
    if target in _FAST_SQLITE:
        return
    first = not _FAST_SQLITE
    _FAST_SQLITE.add(target)
    if not first:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        import sqlite3

        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        cur = dbapi_conn.cursor()
        try:
            row = cur.execute("PRAGMA database_list").fetchone()
            if row and row[2] and os.path.realpath(row[2]) in _FAST_SQLITE:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            pass
        finally:
            cur.close()


def _sqlite_path(uri: str) -> str | None:
    """The file of a ``sqlite:///`` store, or None (another store, or an in-memory one)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    return None if not path or path.startswith(":memory:") else path


@contextlib.contextmanager
def _store_lock(uri: str):
    """Hold ``<database>.lock`` (a file lock beside a SQLite store) for a block.

    MLflow creates a new store's tables, and runs its schema migrations, the
    first time a process opens it, with nothing to stop another process doing
    the same at once: two first ``mlx run`` in one folder failed with
    ``duplicate column name`` or ``table _alembic_tmp_... already exists``,
    and could leave the database half-migrated for good. Every process of a
    run opens the store under this lock, so one creates it and the others
    find it made. A folder where the lock cannot be created (read-only)
    cannot hold a new store either: the store's own error says so.
    """
    path = _sqlite_path(uri)
    if path is None:
        yield
        return
    from filelock import FileLock, Timeout

    lock = FileLock(path + ".lock", timeout=300)
    try:
        lock.acquire()
    except (OSError, Timeout):  # no lock to be had: open it as MLflow would
        yield
        return
    try:
        yield
    finally:
        lock.release()


def open_client(uri: str):
    """An :class:`mlflow.MlflowClient` on ``uri`` whose store is created (or found made), under :func:`_store_lock`."""
    _quiet_mlflow()
    path = _sqlite_path(uri)
    if path is not None:
        _fast_sqlite(path)
    from mlflow import MlflowClient

    with _store_lock(uri):
        return MlflowClient(tracking_uri=uri)  # MLflow opens the store here: creates its tables, migrates them


@contextlib.contextmanager
def using_uri(uri: str | None):
    """Point MLflow's fluent API at ``uri`` for a block, then put back what was there.

    ``mlflow.set_tracking_uri`` also sets ``MLFLOW_TRACKING_URI`` in the
    environment; without restoring it, one run (or one ``predict``) would
    redirect every later one in the same process.
    """
    import mlflow

    if not uri:
        yield
        return
    old_tracking = os.environ.get("MLFLOW_TRACKING_URI")
    old_registry = os.environ.get("MLFLOW_REGISTRY_URI")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(old_tracking)  # None unsets it
        mlflow.set_registry_uri(old_registry)
        if old_registry is None:
            os.environ.pop("MLFLOW_REGISTRY_URI", None)


# ------------------------------------------------------------------ trial writer


def trial_record(result, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One trial as plain data (picklable, no numpy): what its nested run holds."""
    scores = {}
    for name, s in (result.scores or {}).items():
        scores[name] = {stat: float(s[stat]) for stat in ("mean", "std") if s.get(stat) is not None and math.isfinite(s[stat])}
    return {
        "number": int(result.number),
        "status": result.status,
        "error": result.error,
        "start": int((result.started_at or time.time()) * 1000),
        "end": int((result.finished_at or time.time()) * 1000),
        "scores": scores,
        "fit_time": float(result.fit_time or 0.0),
        "duration": float(result.duration or 0.0),
        "params": flatten(params if params is not None else result.config),
    }


def write_trial(client, experiment_id: str, parent_run_id: str, rec: dict[str, Any]) -> None:
    """A trial's nested run in three client calls: ``create_run`` with its tags,
    one ``log_batch`` (params and metrics), ``set_terminated``."""
    from mlflow.entities import Metric, Param, RunTag

    tags = {
        "mlflow.parentRunId": parent_run_id,
        "mlflow.runName": f"trial-{rec['number']}",
        "trial.number": str(rec["number"]),
        "trial.status": rec["status"],
    }
    if rec["error"]:
        tags["trial.error"] = rec["error"][:4000]
    run = client.create_run(experiment_id, start_time=rec["start"], tags=tags)
    end = rec["end"]
    metrics = [Metric(mlflow_name(f"cv_{name}_{stat}"), v, end, 0) for name, s in rec["scores"].items() for stat, v in s.items()]
    metrics.append(Metric("fit_time", rec["fit_time"], end, 0))
    metrics.append(Metric("duration", rec["duration"], end, 0))
    params = [Param(mlflow_name(k), v) for k, v in rec["params"].items()][:100]
    status = "FINISHED" if rec["status"] == "ok" else ("KILLED" if rec["status"] in ("pruned", "timeout") else "FAILED")
    try:
        client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=[RunTag("trial.duration", f"{rec['duration']:.3f}")])
        client.set_terminated(run.info.run_id, status, end_time=end)
    except BaseException:
        # no half-written trial left RUNNING under the parent (the trial is reported as not logged)
        with contextlib.suppress(Exception):
            client.delete_run(run.info.run_id)
        raise


class TrialWriter:
    """Writes the trials' nested runs from a separate process, off the search's path.

    Each nested run costs MLflow's client three transactions (~8 ms of
    Python in SQLAlchemy). Written from a thread of the process that runs
    the search, that time competes with the search for the GIL; written
    from a child process (``python -m automl_yaml.tracking``), it runs on
    another core and the search only pickles a small dict into a pipe.
    The child starts when the run checks its store, before the data is
    read, and imports MLflow meanwhile (``begin`` then sends it the parent
    run, when that exists); it ignores Ctrl+C and finishes what it was sent
    when the pipe closes (also when this process is killed), so no trial
    the search finished is lost.

    The child reports which trials it logged; any it could not (it failed
    to start, or died) are written here, in this process, by ``close``.
    ``MLX_TRACKING_WRITER=thread`` keeps the writer in-process.
    """

    def __init__(self) -> None:
        self.config: dict[str, str] = {}
        self.client = None
        self.sent: list[dict[str, Any]] = []
        self.logged: set[int] = set()  # by this process
        self.attempted: set[int] = set()  # by this process: a trial it could not write is not tried again (no second half-run)
        self.errors: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self.proc: subprocess.Popen | None = None
        if os.environ.get("MLX_TRACKING_WRITER", "process") != "thread":
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "automl_yaml.tracking"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                self.proc = None
        self._thread: threading.Thread | None = None
        self.on_logged = None  # called with each trial number written here (the tracking service acks it)

    def begin(self, uri: str, experiment_id: str, parent_run_id: str, client) -> None:
        """Start writing: trials go under ``parent_run_id``."""
        self.config = {"uri": uri, "experiment_id": experiment_id, "parent_run_id": parent_run_id}
        self.client = client
        self._thread = threading.Thread(target=self._feed, name="mlx-mlflow-writer", daemon=True)
        self._thread.start()

    def put(self, rec: dict[str, Any]) -> None:
        self.sent.append(rec)
        self._queue.put(rec)

    def _feed(self) -> None:
        """Pickle records into the child's stdin (blocking writes release the GIL)."""
        import pickle

        pipe = self.proc.stdin if self.proc is not None else None
        if pipe is not None:
            try:
                pickle.dump(self.config, pipe)
                pipe.flush()
            except OSError:
                pipe = None
        while True:
            rec = self._queue.get()
            if rec is None:
                break
            if pipe is not None:
                try:
                    pickle.dump(rec, pipe)
                    pipe.flush()
                except OSError:  # the child died: close() writes the rest here
                    pipe = None
            elif self.proc is None:  # no child: write from this thread
                self._write(rec)
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()

    def _write(self, rec: dict[str, Any]) -> None:
        self.attempted.add(rec["number"])
        try:
            write_trial(self.client, self.config["experiment_id"], self.config["parent_run_id"], rec)
            self.logged.add(rec["number"])
            if self.on_logged is not None:
                self.on_logged(rec["number"])
        except Exception as exc:  # tracking must never break the search
            self.errors.append(f"{type(exc).__name__}: {mask_url(str(exc)).splitlines()[0]}")

    def close(self) -> tuple[int, list[str]]:
        """Wait for every trial to be written; returns (trials logged, errors)."""
        import json

        if self._thread is None:  # never begun (the run failed before its search): stop the child
            if self.proc is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
                self.proc.wait()
            return 0, []
        self._queue.put(None)
        self._thread.join()
        logged = self.logged
        errors = self.errors
        if self.proc is not None:
            out = self.proc.stdout.read() if self.proc.stdout else b""
            self.proc.wait()
            try:
                report = json.loads(out.decode("utf-8").strip().splitlines()[-1])
                logged |= set(report["logged"])
                errors += report["errors"]
            except (ValueError, IndexError, KeyError):
                if self.sent:
                    errors.append(f"the MLflow writer process ended with code {self.proc.returncode}; its trials were written here")
        for rec in self.sent:  # anything the child did not log
            if rec["number"] not in logged and rec["number"] not in self.attempted:
                self._write(rec)
        return len(logged), list(dict.fromkeys(errors))  # one line per cause, not per trial


def _writer_main() -> int:
    """The child of :class:`TrialWriter`: read pickled records from stdin until
    it closes, write each as a nested run, print a JSON report."""
    import json
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C and SIGTERM are the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (it ends when the pipe closes)
    stdin = sys.stdin.buffer
    logged: list[int] = []
    errors: list[str] = []
    _quiet_mlflow()  # the slow part (importing MLflow), while the parent reads the data

    try:
        config = pickle.load(stdin)
    except Exception:
        print(json.dumps({"logged": [], "errors": []}))
        return 0
    client = None
    while True:
        try:
            rec = pickle.load(stdin)
        except (EOFError, pickle.UnpicklingError, OSError):
            break
        try:
            if client is None:
                client = open_client(config["uri"])
            write_trial(client, config["experiment_id"], config["parent_run_id"], rec)
            logged.append(rec["number"])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {mask_url(str(exc)).splitlines()[0]}")
            if len(errors) > 20:  # something is wrong with the store: leave the rest to the parent
                break
    print(json.dumps({"logged": logged, "errors": errors[:5]}))
    return 0


class NullTracker:
    """Tracking turned off (``tracking: false``): every call does nothing."""

    enabled = False
    run_id: str | None = None
    uri: str | None = None

    def check(self) -> None:
        pass

    def wait_checked(self) -> None:
        pass

    def start(self, **_: Any) -> None:
        pass

    def log_trial(self, result: Any, **_: Any) -> None:
        pass

    def finish(self, **_: Any) -> dict[str, Any]:
        return {}

    def register(self, holdout: Any, gate: Any = None) -> dict[str, Any]:
        return {}

    def check_champion(self, uri: str) -> str:
        return ""

    def close(self) -> None:
        pass

    def fail(self, error: str, status: str = "FAILED") -> None:
        pass


class MlflowTracker:
    """Tracks a run in MLflow; see the module docstring."""

    enabled = True

    def __init__(self, loaded: LoadedSpec):
        self.loaded = loaded
        self.spec = loaded.spec
        self.uri = resolve_uri(loaded)
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self._writer: TrialWriter | None = None
        self._errors: list[str] = []
        self._client = None
        self.trials_logged = 0
        self.trials_not_logged = 0  # sent to the writer, not in the store: said at the end of the run (exit 1)

    # ------------------------------------------------------------------ set-up
    @property
    def client(self):
        if self._client is None:
            self._client = open_client(self.uri)
        return self._client

    def check(self) -> None:
        """Fail fast, before any work, if the tracking store cannot be used.

        Also starts the trial writer's process, so that it imports MLflow
        while this process checks the store and reads the data.
        """
        if self.spec.tracking.log_trials is True and self._writer is None:
            self._writer = TrialWriter()
        try:
            self._check()
        except BaseException:
            self.drain()
            raise

    def _check(self) -> None:
        shown = mask_url(self.uri)
        self._check_without_mlflow(self.uri)
        if self.uri.startswith(("http://", "https://")):
            return
        try:
            self.client.search_experiments(max_results=1)
        except Exception as exc:
            text = mask_url(str(exc)).splitlines()[0] if str(exc) else ""
            hint = None
            if "_alembic_tmp_" in text or "duplicate column" in text:
                hint = (
                    "the database was left half-made by an interrupted first run (or by two first runs at once, before"
                    " automl-yaml serialised them): if it holds no run you need, move it aside and run again"
                )
            raise TrackingError(f"cannot use the tracking store {shown}: {type(exc).__name__}: {text}", hint=hint) from None

    @classmethod
    def _check_without_mlflow(cls, uri: str) -> None:
        """What can be checked without importing MLflow: a server answers, a database's folder exists."""
        if uri.startswith(("http://", "https://")):
            cls._check_server(uri)
        elif uri.startswith("sqlite:///"):
            path = Path(uri[len("sqlite:///") :])
            if not path.parent.exists():
                raise TrackingError(f"the folder of the tracking database {path} does not exist", hint="create it, or change tracking.uri")

    @staticmethod
    def _check_server(uri: str) -> None:
        """A tracking server answers (plain HTTP: no MLflow import needed)."""
        shown = mask_url(uri)
        url = uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - the user's own server
                resp.read(1)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise TrackingError(
                    f"the tracking server {shown} refused access (HTTP {exc.code})",
                    hint="set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN",
                ) from None
            if exc.code >= 500:
                raise TrackingError(f"the tracking server {shown} failed (HTTP {exc.code})") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(
                f"the tracking server {shown} cannot be reached: {reason}",
                hint="start it, fix tracking.uri / MLFLOW_TRACKING_URI, or run with --set tracking.enabled=false",
            ) from None

    def _experiment(self) -> str:
        name = self.spec.tracking.experiment or self.spec.name
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted":
                self.client.restore_experiment(exp.experiment_id)
            return exp.experiment_id
        location = None
        if not self.uri.startswith(("http://", "https://", "databricks")):
            location = (self.loaded.base_dir / "mlartifacts").resolve().as_uri()
        try:
            return self.client.create_experiment(name, artifact_location=location)
        except Exception:  # created meanwhile by another run
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                raise
            return exp.experiment_id

    # -------------------------------------------------------------------- run
    def start(
        self,
        *,
        plan,
        dataset,
        strategy: str,
        version: str,
        reopen: str | None = None,
        done: list[dict[str, Any]] | None = None,
        abandoned: str | None = None,
    ) -> None:
        """Open the parent run: spec params, tags, the redacted spec and the plan.

        ``reopen``: the parent run of the interrupted search this run resumes
        (``--resume``): it is continued, so that one search is one parent
        run; ``done`` are that search's finished trials (from its journal),
        written under the parent where they are missing (the process that
        was writing them was killed). ``abandoned``: the parent run of an
        unfinished search this run discards; left ``RUNNING`` by a killed
        process, it is marked ``KILLED``.
        """
        from mlflow.entities import Param, RunTag

        self.experiment_id = self._experiment()
        if abandoned:
            self._end_if_running(abandoned, "KILLED")
        tags = {
            "mlflow.runName": f"{self.spec.name}",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.name": str(self.loaded.path or "<spec>"),
            "automl_yaml.version": version,
            "automl_yaml.spec_hash": self.loaded.spec_hash(),
            "automl_yaml.strategy": strategy,
            "automl_yaml.task": dataset.task,
        }
        for name, fp in dataset.fingerprints.items():
            tags[mlflow_name(f"data.fingerprint.{name}")] = str(fp)
        if self.loaded.path is not None:
            sha, dirty = git_commit(self.loaded.path.resolve().parent)
            if sha:
                tags["mlflow.source.git.commit"] = sha
                tags["automl_yaml.git_dirty"] = str(dirty).lower()
        tags.update({mlflow_name(k): v for k, v in self.spec.tracking.tags.items()})
        params = flatten(self.loaded.redacted(), "spec")
        old = self._reopen(reopen) if reopen else None
        if old is None:
            run = self.client.create_run(self.experiment_id, tags=tags)
            self.run_id = run.info.run_id
        else:
            self.run_id = old.info.run_id
            # a param cannot change in MLflow: a value --resume changed (search.budget) is a tag
            changed = {k: v for k, v in params.items() if k in old.data.params and old.data.params[k] != v}
            params = {k: v for k, v in params.items() if k not in old.data.params}
            tags.pop("mlflow.runName")
            tags.update({mlflow_name(f"resumed.{k}")[:MAX_KEY]: v for k, v in changed.items()})
            tags["automl_yaml.resumed"] = str(int(old.data.tags.get("automl_yaml.resumed", "0")) + 1)
            self.client.log_batch(self.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), 100):  # log_batch takes at most 100 params
            self.client.log_batch(self.run_id, params=items[i : i + 100])
        self.client.log_batch(self.run_id, tags=[RunTag("automl_yaml.rows_train", str(len(dataset.X_train)))])
        if self.spec.tracking.log_trials is True:
            if self._writer is None:
                self._writer = TrialWriter()
            self._writer.begin(self.uri, self.experiment_id, self.run_id, self.client)
            for rec in self.missing_trials(done or []):
                self._writer.put(rec)

    def _reopen(self, run_id: str):
        """The interrupted search's parent run, ``RUNNING`` again; None if it cannot be continued
        (deleted, in another experiment or store): the run then gets a new parent holding every trial."""
        try:
            old = self.client.get_run(run_id)
        except Exception:  # noqa: BLE001 - not in this store
            return None
        if old.info.experiment_id != self.experiment_id or old.info.lifecycle_stage != "active":
            return None
        self.client.update_run(run_id, status="RUNNING")  # as mlflow.start_run(run_id=...) reopens a run
        return old

    def _end_if_running(self, run_id: str, status: str) -> None:
        with contextlib.suppress(Exception):  # a run that is gone has nothing to end
            if self.client.get_run(run_id).info.status == "RUNNING":
                self.client.log_batch(run_id, tags=[_tag("automl_yaml.error", "the process was killed; its search was discarded by a later run")])
                self.client.set_terminated(run_id, status)

    def missing_trials(self, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Of ``recs``, the trials not complete under the parent run: a trial half-written
        (``RUNNING``, its writer killed) is deleted and written again; a complete one is kept."""
        if not recs:
            return recs
        try:
            runs = self.client.search_runs(
                [self.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{self.run_id}'", max_results=50000
            )
        except Exception:  # noqa: BLE001 - write them all rather than lose any
            return recs
        done: set[int] = set()
        for run in runs:
            number = run.data.tags.get("trial.number")
            if number is None:
                continue
            if run.info.status == "RUNNING":  # half-written
                with contextlib.suppress(Exception):
                    self.client.delete_run(run.info.run_id)
            else:
                done.add(int(number))
        return [rec for rec in recs if rec["number"] not in done]

    def wait_checked(self) -> None:
        """The store was checked by :meth:`check` already (in this process)."""

    def log_trial(self, result, *, params: dict[str, Any] | None = None) -> None:
        """Queue one trial's nested run (non-blocking)."""
        self.log_record(trial_record(result, params))

    def log_record(self, rec: dict[str, Any]) -> None:
        if self._writer is not None:
            self._writer.put(rec)

    def drain(self) -> None:
        """Wait until every queued trial is in the store."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            logged, errors = writer.close()
            self.trials_logged += logged
            self.trials_not_logged += len({rec["number"] for rec in writer.sent}) - logged
            self._errors += [e for e in errors if e not in self._errors]

    def finish(
        self,
        *,
        summary: dict,
        output_dir: Path,
        artifacts: list[Path],
        model,
        X_example,
        holdout: dict[str, float],
        best_cv: dict[str, float],
    ) -> dict[str, Any]:
        """Complete the parent run: metrics, artifacts and the model (``close`` ends it)."""
        import mlflow
        from mlflow.entities import Metric

        self.drain()
        now = int(time.time() * 1000)
        metrics = [Metric(mlflow_name(f"holdout_{k}"), float(v), now, 0) for k, v in holdout.items() if v is not None and math.isfinite(v)]
        metrics += [Metric(mlflow_name(f"cv_{k}"), float(v), now, 0) for k, v in best_cv.items() if v is not None and math.isfinite(v)]
        trials = summary.get("trials", {})
        metrics += [Metric(f"trials_{k}", float(v), now, 0) for k, v in trials.items() if isinstance(v, (int, float))]
        self.client.log_batch(self.run_id, metrics=metrics)
        for path in artifacts:
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), artifact_path=path.name)
            elif path.exists():
                self.client.log_artifact(self.run_id, str(path))
        info: dict[str, Any] = {"run_id": self.run_id, "experiment_id": self.experiment_id, "tracking_uri": mask_url(self.uri)}
        if self.spec.tracking.log_model and model is not None:
            with using_uri(self.uri):
                with mlflow.start_run(run_id=self.run_id):
                    model_info = log_model(model, X_example)
                info["model_uri"] = f"runs:/{self.run_id}/model"
                info["logged_model_uri"] = model_info.model_uri
                self._logged_model_uri = model_info.model_uri
        if self.spec.tracking.log_trials is True:
            info["trials_logged"] = self.trials_logged
            if self.trials_not_logged:
                info["trials_not_logged"] = self.trials_not_logged
        if self._errors:
            info["tracking_errors"] = self._errors[:5]
        return info

    def close(self) -> None:
        """Mark the parent run finished."""
        self.client.set_terminated(self.run_id, "FINISHED")
        _checkpoint(self.uri)


    def register(self, holdout: dict[str, float], gate: Any = None) -> dict[str, Any]:
        """A new version of ``tracking.register`` from the logged model; it takes the alias if the gate says so.

        ``gate`` (:class:`automl_yaml.promote.GateInput`) holds the rows both
        models are scored on and the rule; without it the alias moves, as before
        the gate. See :mod:`automl_yaml.promote`.
        """
        import mlflow
        from mlflow.exceptions import MlflowException

        model_uri = getattr(self, "_logged_model_uri", None)
        if model_uri is None:
            raise TrackingError("there is no logged model to register", hint="keep tracking.log_model: true to register")
        name = self.spec.tracking.register_as
        alias = self.spec.tracking.alias
        decision = self._decide(name, alias, gate) if alias and gate is not None else None
        sink = io.StringIO()
        with using_uri(self.uri), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # MLflow prints its progress
            mv = mlflow.register_model(model_uri, name, tags={f"holdout_{k}": f"{v:.6g}" for k, v in holdout.items() if v is not None})
        out: dict[str, Any] = {"registered_model": name, "registered_version": int(mv.version)}
        if alias:
            promoted = decision is None or decision.promote
            taken = alias if promoted else CHALLENGER_ALIAS
            try:
                self.client.set_registered_model_alias(name, taken, mv.version)
            except MlflowException as exc:
                self._errors.append(f"alias: {exc}")
            out["registered_alias"] = taken
            out["registered_uri"] = f"models:/{name}@{taken}"
            if decision is not None:
                out["promotion"] = {**decision.as_dict(), "alias": alias, "version": int(mv.version)}
                tags = {
                    "mlx.promotion": "promoted" if promoted else "kept",
                    "mlx.promotion_reason": decision.reason[:4000],
                    **({"mlx.challenger_score": f"{decision.challenger:.6g}"} if decision.challenger is not None else {}),
                    **({"mlx.champion_score": f"{decision.champion:.6g}"} if decision.champion is not None else {}),
                    **({"mlx.champion_version": decision.champion_version} if decision.champion_version else {}),
                }
                from mlflow.entities import RunTag

                for key, value in tags.items():
                    self.client.set_model_version_tag(name, mv.version, key, value)
                self.client.log_batch(self.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        return out

    def check_champion(self, uri: str) -> str:
        """The version ``mlx run --challenge URI`` names, before the run trains (a typo is said at once)."""
        from mlflow.exceptions import MlflowException

        hint = "name an existing version: models:/NAME@ALIAS or models:/NAME/VERSION"
        try:
            version = _version_of(self.client, uri)
        except MlflowException as exc:
            raise UsageError(f"--challenge {uri}: {exc.message.splitlines()[0]}", hint=hint) from None
        if version is None:
            raise UsageError(f"--challenge {uri}: no registered version has that alias", hint=hint)
        return version

    def _decide(self, name: str, alias: str, gate: Any):
        """The gate's decision: the champion (the alias's holder, or ``--challenge``) scored on the gate's rows."""
        from .predict import load_model
        from .promote import decide, score_on

        if gate.champion_uri is not None:  # the user named it: a typo must not promote
            champion_uri, version = gate.champion_uri, self.check_champion(gate.champion_uri)
        else:  # the alias's holder, if any (none: the first model of a name)
            champion_uri = f"models:/{name}@{alias}"
            version = _version_of(self.client, champion_uri)
        common = {"metric": gate.metric["name"], "greater_is_better": gate.metric["sign"] > 0, "challenger": gate.challenger, "rows": gate.rows}
        if version is None or gate.rule in ("always", "never"):
            return decide(gate.rule, champion_version=version, **common)
        try:
            import warnings

            champion = load_model(champion_uri, tracking_uri=self.uri)
            with warnings.catch_warnings():  # columns the champion ignores: expected here
                warnings.simplefilter("ignore", UserWarning)
                scores, _ = score_on(champion, gate.X, gate.y, [gate.metric])
            score = scores.get(gate.metric["name"])
            error = None if score is not None else f"{gate.metric['name']} could not be computed for it"
        except Exception as exc:  # noqa: BLE001 - an unscorable champion keeps the alias, with the reason
            score, error = None, str(getattr(exc, "message", exc)).splitlines()[0]
        return decide(gate.rule, champion_version=version, champion=score, champion_error=error, **common)

    def fail(self, error: str, status: str = "FAILED") -> None:
        """Mark the parent run failed (or KILLED on Ctrl+C), keeping what was logged."""
        try:
            self.drain()
            if self.run_id:
                from mlflow.entities import RunTag

                self.client.log_batch(self.run_id, tags=[RunTag("automl_yaml.error", mask_url(error)[:4000])])
                self.client.set_terminated(self.run_id, status)
        except Exception:
            pass


def _tag(key: str, value: str):
    from mlflow.entities import RunTag

    return RunTag(key, value)


#: The alias a registered version gets when the gate keeps the champion (a person can still promote it).
CHALLENGER_ALIAS = "challenger"


def _version_of(client, uri: str) -> str | None:
    """The registered version a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI names; None when no version holds the alias.

    Raises:
        MlflowException: a version that does not exist, or a URI that names no registered model.
    """
    from mlflow.exceptions import MlflowException

    if not uri.startswith("models:/"):
        raise MlflowException(f"'{uri}' is not a registered model (models:/NAME@ALIAS or models:/NAME/VERSION)")
    ref = uri[len("models:/") :]
    if "@" in ref:
        name, alias = ref.split("@", 1)
        try:
            return str(client.get_model_version_by_alias(name, alias).version)
        except MlflowException:  # no such model or alias: no champion yet
            return None
    name, _, number = ref.rpartition("/")
    return str(client.get_model_version(name, number).version)


def _checkpoint(uri: str) -> None:
    """Move a SQLite store's write-ahead log into the database file.

    The ``mlx`` command ends without closing MLflow's connections
    (:func:`automl_yaml.cli.exit_now`), so SQLite does not fold
    ``mlflow.db-wal`` into ``mlflow.db`` itself; a copy of ``mlflow.db``
    alone would then miss the run. One checkpoint makes the file complete.
    """
    if not uri.startswith("sqlite:///"):
        return
    import sqlite3

    with contextlib.suppress(Exception):
        con = sqlite3.connect(uri[len("sqlite:///") :], timeout=5)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()


def model_signature(model, example):
    """The signature of a :class:`~automl_yaml.model.TrainedModel`: its feature names, each of any type.

    MLflow checks an input against the signature before the model sees it
    (``mlflow.pyfunc``, ``mlflow models serve``), and a signature inferred from
    the training frame types each column as it was there: ``long`` rejects a
    missing value in an integer column and ``double`` rejects an int64 column
    (``Can not safely convert int64 to float64``), numbers sent as text and
    dates in another format are refused, and a ``boolean`` column sent as
    ``"false"`` is cast to True. MLflow's own advice (``Handling Integers With
    Missing Values``) of logging integers as doubles fixes only the first.
    So every feature is declared by name as ``Any`` (MLflow documents it for
    fields that "can have multiple types"), and required: a missing column is
    still refused by name, and :meth:`TrainedModel.check_input` reads each
    value as training read it. The types show in the input example, and the
    MLmodel's ``metadata`` names each one (:func:`feature_types`).

    Declaring the real types was measured (MLflow 3.17, the quickstart model,
    ``mlflow.pyfunc``): ``double``/``long`` refuse a row read from the
    training CSV (``flipper_length_mm`` written ``181`` is int64: "Can not
    safely convert int64 to float64"), a JSON record whose float column holds
    ``39`` and an integer column sent as ``null``; even ``string`` alone
    refuses one CSV row whose categorical is empty (an all-missing column is
    float64: "Can not safely convert float64 to <U0"). ``required: false`` is
    not "may be missing" but "may be absent", and the model needs every column.
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    # Only the outputs' schema is taken: the inputs are declared below, so a
    # column MLflow cannot type (uint64, 20-digit numbers) is not worth its
    # "Failed to infer schema for inputs" warning in the middle of a run.
    sig_log = logging.getLogger("mlflow.models.signature")
    level = sig_log.level
    sig_log.setLevel(logging.ERROR)
    try:
        outputs = infer_signature(example, model.predict(example)).outputs
    finally:
        sig_log.setLevel(level)
    return ModelSignature(inputs=Schema([ColSpec(AnyType(), name=str(c)) for c in model.features]), outputs=outputs)


#: pandas dtype (as TrainedModel.dtypes writes it) -> the MLflow type of such a column.
_MLFLOW_TYPES = (
    (("interval",), "any"),
    (("float16", "float32", "Float32"), "float"),
    (("float", "Float"), "double"),
    (("int8", "int16", "int32", "uint8", "uint16", "Int8", "Int16", "Int32", "UInt8", "UInt16"), "integer"),
    (("int", "uint", "Int", "UInt"), "long"),
    (("bool",), "boolean"),
    (("datetime",), "datetime"),
    (("str", "object", "category"), "string"),
)


def feature_types(model) -> dict[str, str]:
    """Each feature's type as MLflow names it (``double``, ``long``, ``string``, ``boolean``, ``datetime``), from its training dtype.

    Written to the MLmodel's ``metadata`` (``automl_yaml.feature_types``),
    not to the signature, which MLflow would enforce (see :func:`model_signature`).
    Any column may be sent missing: the pipeline imputes it. A dtype without
    an MLflow type (a duration) is ``any``.
    """
    out = {}
    for col in model.features:
        dtype = str((model.dtypes or {}).get(col, ""))
        out[str(col)] = next((t for prefixes, t in _MLFLOW_TYPES if dtype.startswith(prefixes)), "any")
    return out


def _metadata(model) -> dict:
    return {"automl_yaml": {"feature_types": feature_types(model)}}


def example_rows(X, n: int = 5):
    """The model's input example: ``n`` training rows, complete ones first.

    MLflow writes the example to ``input_example.json`` and
    ``serving_input_example.json`` (the request body users copy to try
    ``mlflow models serve``); a missing value there is written as ``NaN``,
    which strict JSON parsers (``jq``, browsers, most HTTP clients) reject.
    Rows with missing values are taken only when too few rows are complete.
    """
    complete = X.notna().all(axis=1)
    if int(complete.sum()) >= min(n, len(X)):
        return X[complete].head(n)
    return X.loc[complete.sort_values(ascending=False, kind="stable").index[:n]]


def _model_format(model, X_example) -> dict:
    """The arguments ``mlflow.sklearn.save_model`` and ``log_model`` get from us (MLflow imported, its chatter off).

    The model carries this package (``code_paths``), so that ``mlflow models
    serve`` and ``build-docker`` load it without installing automl-yaml.
    """
    import automl_yaml

    _quiet_mlflow()
    example = example_rows(X_example).copy()
    return {
        "signature": model_signature(model, example),
        "input_example": example,
        "serialization_format": "cloudpickle",
        "code_paths": [str(Path(automl_yaml.__file__).resolve().parent)],
        "pip_requirements": _requirements(),
        "metadata": _metadata(model),
    }


def log_model(model, X_example):
    """Log a :class:`~automl_yaml.model.TrainedModel` with ``mlflow.sklearn`` in the active run."""
    import mlflow

    kwargs = _model_format(model, X_example)
    with _pinned_requirements():
        return mlflow.sklearn.log_model(model, name="model", **kwargs)


def save_model(model, X_example, path: Path) -> None:
    """Write the model in MLflow's format to ``path`` (atomically: a temp folder renamed)."""
    import shutil
    import tempfile

    import mlflow

    kwargs = _model_format(model, X_example)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    shutil.rmtree(tmp)
    try:
        with _pinned_requirements():
            mlflow.sklearn.save_model(model, str(tmp), **kwargs)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # no half-written folder left beside the model
        from .errors import storage_failure

        failure = storage_failure(exc) if isinstance(exc, Exception) else None
        if failure is not None:  # a full disk, said as such (MLflow's words were "cannot be copied"), at the model's folder
            raise OSError(failure[0], os.strerror(failure[0]), str(path)) from exc
        raise


def preload_model_format() -> None:
    """Import what :func:`save_model` uses, and run it once on a tiny model (the side process's warm-up).

    MLflow imports much of itself lazily, on the first save (signature, input
    example, environment files): a throw-away save makes the real one pay
    only for its own writing.
    """
    import shutil
    import tempfile

    import pandas as pd
    from sklearn.dummy import DummyClassifier

    from .model import TrainedModel

    X = pd.DataFrame({"x": [0.0, 1.0]})
    tiny = TrainedModel(pipeline=DummyClassifier().fit(X, [0, 1]), task="classification", classes=[0, 1], target="y").fitted(X)
    tmp = Path(tempfile.mkdtemp(prefix="mlx-warm-"))
    try:
        save_model(tiny, X, tmp / "model")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _requirements() -> list[str]:
    from importlib.metadata import version

    reqs = []
    for dist in ("scikit-learn", "pandas", "numpy", "scipy", "cloudpickle", "mlflow", "pyarrow", "mlxtend", "lightgbm", "xgboost"):
        try:
            reqs.append(f"{dist}=={version(dist)}")
        except Exception:
            pass
    return reqs


# ------------------------------------------------------------------ tracking service


class _ServiceDied(Exception):
    pass


class _Service:
    """One tracking child process, reused by the runs of this process one after the other."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "automl_yaml.tracking", "service"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.outbox: queue.Queue = queue.Queue()
        self.replies: queue.Queue = queue.Queue()
        self.acked: set[int] = set()
        self.dead = False
        self.lock = threading.Lock()  # one run at a time
        self.seq = 0  # numbers the calls: a late answer (to a call interrupted by Ctrl+C) is never taken for another's
        threading.Thread(target=self._feed, name="mlx-tracking-out", daemon=True).start()
        self.reader = threading.Thread(target=self._read, name="mlx-tracking-in", daemon=True)
        self.reader.start()

    def _feed(self) -> None:
        import pickle

        pipe = self.proc.stdin
        while True:
            msg = self.outbox.get()
            try:
                if msg is None:
                    pipe.close()
                    return
                pickle.dump(msg, pipe)
                pipe.flush()
            except (OSError, ValueError):  # the child is gone: the reader reports it
                return

    def _read(self) -> None:
        import pickle

        pipe = self.proc.stdout
        while True:
            try:
                msg = pickle.load(pipe)
            except Exception:  # EOF (the child ended or died), or a broken message
                self.dead = True
                self.replies.put((None, "dead", None))
                return
            if msg[0] == "logged":
                self.acked.add(msg[1])
            else:
                self.replies.put(msg[1:])  # (seq, status, value)

    def usable(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(5)
        self.reader.join(5)  # every acknowledgement it sent is read


_SERVICE: _Service | None = None
_SERVICE_LOCK = threading.Lock()


def _service() -> _Service | None:
    """This process's tracking child, free for a run (a new one if it is busy or gone); None if none can start."""
    global _SERVICE
    with _SERVICE_LOCK:
        svc = _SERVICE
        if svc is not None and svc.usable() and svc.lock.acquire(blocking=False):
            return svc
        try:
            fresh = _Service()
        except OSError:
            return None
        fresh.lock.acquire()
        if svc is None or not svc.usable():
            _SERVICE = fresh  # else the other one is busy with a run (threads): this one is private
        return fresh


class ServiceTracker:
    """An :class:`MlflowTracker` in a child process: the run's own process never imports MLflow.

    MLflow's import (1.3 s) and the opening of its store (0.6 s, SQLAlchemy
    and the schema check) took 2 s of the run's process before it read any
    data, and logging the model another 0.5 s at the end. The child
    (``python -m automl_yaml.tracking service``) starts when the first run
    does, imports MLflow and checks the store while the run reads the data,
    and then does every tracking call the run makes: the parent run, each
    trial's nested run (from a thread of the child: the search only pickles a
    small dict into a pipe), the metrics, artifacts and model at the end, the
    registration. The run waits for the store's check before its search, so a
    store that cannot be used still fails the run before the search. The
    child stays for the next run of the same process (a notebook, the
    library), with MLflow imported; it ends with the process.

    The child acknowledges each trial it wrote. If it dies, or cannot start,
    the run goes on with an :class:`MlflowTracker` of its own (the same parent
    run), which writes the trials the child did not acknowledge: nothing is
    lost or written twice. ``MLX_TRACKING_SERVICE=0`` keeps tracking in the
    run's process.
    """

    enabled = True

    def __init__(self, loaded: LoadedSpec):
        self.loaded = loaded
        self.spec = loaded.spec
        self.uri = resolve_uri(loaded)
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self._svc: _Service | None = None
        self._local: MlflowTracker | None = None
        self._sent: list[dict[str, Any]] = []
        self._pending_check = False
        self._check_seq = 0
        self._started = False
        self._start_sent = False  # the child may have opened the parent run, even if its answer never came (Ctrl+C)

    @property
    def proc(self) -> subprocess.Popen | None:
        return self._svc.proc if self._svc is not None else None

    # ------------------------------------------------------------ the child
    def _spawn(self) -> bool:
        self._svc = _service()
        if self._svc is None:
            return False
        self._svc.acked.clear()  # trial numbers start again at 0
        return True

    def _send(self, cmd: str, *args: Any, **kw: Any) -> int:
        svc = self._svc
        svc.seq += 1
        svc.outbox.put((cmd, args, kw, svc.seq))
        return svc.seq

    def _reply(self, seq: int, timeout: float | None = None) -> Any:
        svc = self._svc
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                got, status, value = svc.replies.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                svc.dead = True  # busy for longer than we wait: never reused
                raise _ServiceDied from None
            if status == "dead":
                svc.replies.put((None, "dead", None))  # stays dead for any later call
                raise _ServiceDied
            if got != seq:
                continue  # the late answer to an interrupted call
            if status == "error":
                raise _rebuilt(*value)
            return value

    def _call(self, cmd: str, *args: Any, timeout: float | None = None, **kw: Any) -> Any:
        return self._reply(self._send(cmd, *args, **kw), timeout)

    def _take_over(self) -> MlflowTracker:
        """The child is gone: track from this process, in the same parent run."""
        if self._local is None:
            local = MlflowTracker(self.loaded)
            self._local = local
            acked: set[int] = set()
            if self._svc is not None:
                svc, self._svc = self._svc, None
                svc.kill()  # if it hangs rather than died
                acked = svc.acked
            if self._started:
                local.run_id, local.experiment_id = self.run_id, self.experiment_id
                if self.spec.tracking.log_trials is True:
                    missing = [rec for rec in self._sent if rec["number"] not in acked]
                    missing = self._not_in_store(local, missing)
                    local._writer = TrialWriter()
                    local._writer.begin(self.uri, self.experiment_id, self.run_id, local.client)
                    for rec in missing:
                        local._writer.put(rec)
        return self._local

    def _not_in_store(self, local: MlflowTracker, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The trials to write again: a child killed between writing a trial and acknowledging it
        left it complete (kept) or half-written (deleted, written again)."""
        return local.missing_trials(recs)

    # ----------------------------------------------------------- the tracker
    def check(self) -> None:
        """Quick checks here; the child imports MLflow and checks the store meanwhile."""
        MlflowTracker._check_without_mlflow(self.uri)  # fails before any data is read
        if self._spawn():
            # the child needs the spec, not the DataFrames of `kind: frame` sources (pickled, they would cross the pipe)
            self._send("init", dataclasses.replace(self.loaded, frames={}))
            self._check_seq = self._send("check")
            self._pending_check = True
        else:
            self._take_over().check()

    def wait_checked(self) -> None:
        """Wait for the child's check of the store (before the search)."""
        if self._local is not None or not self._pending_check:
            return
        self._pending_check = False
        try:
            self._reply(self._check_seq)
        except _ServiceDied:
            self._take_over().check()
        except TrackingError:
            self._stop()
            raise

    def start(self, *, plan, dataset, strategy: str, version: str, **resumed: Any) -> None:
        """See :meth:`MlflowTracker.start` (``resumed``: its ``reopen``, ``done`` and ``abandoned``)."""
        self.wait_checked()
        facts = _DatasetFacts(dataset.task, dict(dataset.fingerprints), len(dataset.X_train))
        if self.spec.tracking.log_trials is True:
            self._sent.extend(resumed.get("done") or [])  # the child writes those missing; if it dies, the take-over does
        if self._local is None:
            try:
                self._start_sent = True
                self.run_id, self.experiment_id = self._call("start", plan=None, dataset=facts, strategy=strategy, version=version, **resumed)
                self._started = True
                return
            except _ServiceDied:
                pass
        local = self._take_over()
        if local.run_id is None:
            local.start(plan=plan, dataset=facts, strategy=strategy, version=version, **resumed)
            self.run_id, self.experiment_id = local.run_id, local.experiment_id

    def log_trial(self, result, *, params: dict[str, Any] | None = None) -> None:
        if self.spec.tracking.log_trials is not True:  # the parent run only
            return
        rec = trial_record(result, params)
        if self._local is not None:
            self._local.log_record(rec)
            return
        self._sent.append(rec)
        self._send("record", rec)

    def finish(self, *, X_example, **kw: Any) -> dict[str, Any]:
        kw["X_example"] = example_rows(X_example)  # all log_model uses (the input example)
        if self._local is None:
            try:
                return self._call("finish", **kw)
            except _ServiceDied:
                pass
        return self._take_over().finish(**kw)

    def register(self, holdout: dict[str, float], gate: Any = None) -> dict[str, Any]:
        if self._local is None:
            try:
                return self._call("register", holdout, gate)
            except _ServiceDied:
                pass
        return self._take_over().register(holdout, gate)

    def check_champion(self, uri: str) -> str:
        self.wait_checked()  # its answer first: _reply drops answers it does not wait for
        if self._local is None:
            try:
                return self._call("check_champion", uri)
            except _ServiceDied:
                pass
        return self._take_over().check_champion(uri)

    def close(self) -> None:
        if self._local is None:
            try:
                self._call("close")
            except _ServiceDied:
                self._take_over().close()
        else:
            self._local.close()
        self._stop()

    def fail(self, error: str, status: str = "FAILED") -> None:
        """End the parent run ``FAILED`` (``KILLED`` on Ctrl+C or SIGTERM), never leave it ``RUNNING``."""
        try:
            if self._local is None and self._svc is not None:
                # A start that was sent may have opened the run even if Ctrl+C cut the wait for its answer:
                # the child does the calls in order, so its fail ends that run (it has none otherwise).
                if self._start_sent:
                    try:
                        self._call("fail", error, status, timeout=30)
                    except _ServiceDied:  # the child is gone (killed with the run's group): end the run from here
                        if self.run_id is not None:
                            self._take_over().fail(error, status)
            elif self._local is not None:
                self._local.fail(error, status)
        except Exception:  # noqa: BLE001 - failing to mark a failed run must not hide its error
            pass
        self._stop()

    def _stop(self) -> None:
        """This run is done with the child: it is free for the next run of the process."""
        if self._svc is not None:
            svc, self._svc = self._svc, None
            if svc.usable():
                svc.lock.release()
            else:
                svc.kill()


def _rebuilt(kind: str, message: str, hint: str | None) -> Exception:
    """The child's error, as the same class of this package's errors (its exit code with it)."""
    from . import errors

    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.AutomlYamlError):
        try:
            return cls(message, hint=hint)
        except TypeError:  # a class with another constructor
            pass
    return TrackingError(message, hint=hint)


@dataclasses.dataclass
class _DatasetFacts:
    """What :meth:`MlflowTracker.start` reads of the dataset (the tables stay in the run's process)."""

    task: str
    fingerprints: dict
    rows: int

    @property
    def X_train(self) -> range:  # len(dataset.X_train)
        return range(self.rows)


def _service_main() -> int:
    """The child of :class:`ServiceTracker`: an :class:`MlflowTracker` driven through stdin/stdout."""
    import pickle
    import signal

    from .errors import AutomlYamlError

    # Ctrl+C and SIGTERM are the parent's to handle (sent to the whole process group, they reach
    # us too): it tells us to end the run; if it is killed, the pipe closes and we finish what it sent
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ["MLX_TRACKING_WRITER"] = "thread"  # the trials' writer thread runs here, off the search
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    lock = threading.Lock()

    def send(msg) -> None:
        with lock:
            pickle.dump(msg, stdout)
            stdout.flush()

    _quiet_mlflow()  # the slow part, while the parent reads the data
    tracker: MlflowTracker | None = None
    warm: list[threading.Thread] = []
    while True:
        try:
            msg = pickle.load(stdin)
        except Exception:  # EOF: the parent closed the pipe, or died
            break
        cmd, args, kw, seq = msg
        if cmd == "init":
            tracker = MlflowTracker(args[0])
            continue
        if cmd == "record":
            if tracker is not None:
                tracker.log_record(args[0])
            continue
        try:
            if tracker is None:  # a call after the run was closed: nothing to do
                value = None
            elif cmd == "check":
                tracker._check()
                value = None
            elif cmd == "start":
                tracker.start(**kw)
                if tracker._writer is not None:
                    tracker._writer.on_logged = lambda n: send(("logged", n))
                value = (tracker.run_id, tracker.experiment_id)
                if not warm:  # the model's logging, warmed up while the (first) search runs
                    warm.append(threading.Thread(target=_warm_model_format, daemon=True))
                    warm[0].start()
            else:
                value = getattr(tracker, cmd)(*args, **kw)
            send(("reply", seq, "ok", value))
        except AutomlYamlError as exc:
            send(("reply", seq, "error", (type(exc).__name__, exc.message, exc.hint)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a tracking error
            text = mask_url(str(exc)).splitlines()[0] if str(exc) else ""
            send(("reply", seq, "error", ("TrackingError", f"MLflow: {type(exc).__name__}: {text}", None)))
        if cmd in ("close", "fail") and tracker is not None:
            # the run is over; this process waits for the next run of its parent.
            # The database file gets the write-ahead log now (the connections stay open).
            _checkpoint(tracker.uri)
            tracker = None
    if tracker is not None and tracker._writer is not None:
        with contextlib.suppress(Exception):
            tracker.drain()  # the parent is gone: write what it sent
    return 0


def _warm_model_format() -> None:
    with contextlib.suppress(Exception):
        preload_model_format()


def make_tracker(loaded: LoadedSpec):
    if not loaded.spec.tracking.enabled:
        return NullTracker()
    if os.environ.get("MLX_TRACKING_SERVICE", "1") == "0":
        return MlflowTracker(loaded)
    return ServiceTracker(loaded)


if __name__ == "__main__":
    sys.exit(_service_main() if sys.argv[1:] == ["service"] else _writer_main())
