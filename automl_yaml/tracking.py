"""MLflow tracking: one parent run per ``mlx run``, one nested run per trial.

Everything goes through :class:`mlflow.MlflowClient` from the process that
drives the search — never from many workers at once into SQLite. Trials are
queued to a single background writer thread, each as three calls
(``create_run`` with its tags, one ``log_batch`` with params and metrics,
``set_terminated``): the search does not wait for the database, and the
writer is drained before the run ends.

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
import io
import logging
import math
import os
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from .errors import TrackingError
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


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``; lists are kept as JSON-ish text."""
    import json

    out: dict[str, str] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v and not _is_space(v):
                out.update(flatten(v, key))
            else:
                out[key] = v if isinstance(v, str) else json.dumps(v, default=str)
    else:
        out[prefix or "value"] = json.dumps(data, default=str)
    return {k[:MAX_KEY]: (v if len(v) <= MAX_PARAM else v[: MAX_PARAM - 1] + "…") for k, v in out.items()}


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


class NullTracker:
    """Tracking turned off (``tracking: false``): every call does nothing."""

    enabled = False
    run_id: str | None = None
    uri: str | None = None

    def check(self) -> None:
        pass

    def start(self, **_: Any) -> None:
        pass

    def log_trial(self, result: Any, **_: Any) -> None:
        pass

    def finish(self, **_: Any) -> dict[str, Any]:
        return {}

    def register(self, holdout: Any) -> dict[str, Any]:
        return {}

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
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._errors: list[str] = []
        self._client = None
        self.trials_logged = 0

    # ------------------------------------------------------------------ set-up
    @property
    def client(self):
        if self._client is None:
            _quiet_mlflow()
            if self.uri.startswith("sqlite:///"):
                _fast_sqlite(self.uri[len("sqlite:///") :])
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.uri)
        return self._client

    def check(self) -> None:
        """Fail fast, before any work, if the tracking store cannot be used."""
        shown = mask_url(self.uri)
        if self.uri.startswith(("http://", "https://")):
            url = self.uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
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
            return
        if self.uri.startswith("sqlite:///"):
            path = Path(self.uri[len("sqlite:///") :])
            if not path.parent.exists():
                raise TrackingError(f"the folder of the tracking database {path} does not exist", hint="create it, or change tracking.uri")
        try:
            self.client.search_experiments(max_results=1)
        except Exception as exc:
            raise TrackingError(f"cannot use the tracking store {shown}: {type(exc).__name__}: {mask_url(str(exc)).splitlines()[0]}") from None

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
    def start(self, *, plan, dataset, strategy: str, version: str) -> None:
        """Open the parent run: spec params, tags, the redacted spec and the plan."""
        from mlflow.entities import Param, RunTag

        self.experiment_id = self._experiment()
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
            tags[f"data.fingerprint.{name}"] = str(fp)
        if self.loaded.path is not None:
            sha, dirty = git_commit(self.loaded.path.resolve().parent)
            if sha:
                tags["mlflow.source.git.commit"] = sha
                tags["automl_yaml.git_dirty"] = str(dirty).lower()
        tags.update(self.spec.tracking.tags)
        run = self.client.create_run(self.experiment_id, tags=tags)
        self.run_id = run.info.run_id
        params = flatten(self.loaded.redacted(), "spec")
        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), 100):  # log_batch takes at most 100 params
            self.client.log_batch(self.run_id, params=items[i : i + 100])
        self.client.log_batch(self.run_id, tags=[RunTag("automl_yaml.rows_train", str(len(dataset.X_train)))])
        if self.spec.tracking.log_trials is True:
            self._queue = queue.Queue()
            self._thread = threading.Thread(target=self._writer, name="mlx-mlflow-writer", daemon=True)
            self._thread.start()

    def log_trial(self, result, *, params: dict[str, Any] | None = None) -> None:
        """Queue one trial's nested run (non-blocking)."""
        if self._queue is not None:
            self._queue.put((result, params))

    def _writer(self) -> None:
        from mlflow.entities import Metric, Param, RunTag

        while True:
            item = self._queue.get()
            if item is None:
                return
            result, params = item
            try:
                start = int((result.started_at or time.time()) * 1000)
                end = int((result.finished_at or time.time()) * 1000)
                tags = {
                    "mlflow.parentRunId": self.run_id,
                    "mlflow.runName": f"trial-{result.number}",
                    "trial.number": str(result.number),
                    "trial.status": result.status,
                }
                if result.error:
                    tags["trial.error"] = result.error[:4000]
                run = self.client.create_run(self.experiment_id, start_time=start, tags=tags)
                metrics = []
                for name, s in (result.scores or {}).items():
                    for stat in ("mean", "std"):
                        v = s.get(stat)
                        if v is not None and math.isfinite(v):
                            metrics.append(Metric(f"cv_{name}_{stat}", float(v), end, 0))
                metrics.append(Metric("fit_time", float(result.fit_time or 0.0), end, 0))
                metrics.append(Metric("duration", float(result.duration or 0.0), end, 0))
                p = [Param(k, v) for k, v in flatten(params if params is not None else result.config).items()]
                self.client.log_batch(run.info.run_id, metrics=metrics, params=p[:100], tags=[RunTag("trial.duration", f"{result.duration:.3f}")])
                status = "FINISHED" if result.status == "ok" else ("KILLED" if result.status in ("pruned", "timeout") else "FAILED")
                self.client.set_terminated(run.info.run_id, status, end_time=end)
                self.trials_logged += 1
            except Exception as exc:  # tracking must never break the search
                self._errors.append(f"{type(exc).__name__}: {mask_url(str(exc)).splitlines()[0]}")

    def drain(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

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
        metrics = [Metric(f"holdout_{k}", float(v), now, 0) for k, v in holdout.items() if v is not None and math.isfinite(v)]
        metrics += [Metric(f"cv_{k}", float(v), now, 0) for k, v in best_cv.items() if v is not None and math.isfinite(v)]
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
        if self._errors:
            info["tracking_errors"] = self._errors[:5]
        return info

    def close(self) -> None:
        """Mark the parent run finished."""
        self.client.set_terminated(self.run_id, "FINISHED")

    def register(self, holdout: dict[str, float]) -> dict[str, Any]:
        """A new version of ``tracking.register`` from the logged model, with the alias."""
        import mlflow
        from mlflow.exceptions import MlflowException

        model_uri = getattr(self, "_logged_model_uri", None)
        if model_uri is None:
            raise TrackingError("there is no logged model to register", hint="keep tracking.log_model: true to register")
        name = self.spec.tracking.register_as
        sink = io.StringIO()
        with using_uri(self.uri), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # MLflow prints its progress
            mv = mlflow.register_model(model_uri, name, tags={f"holdout_{k}": f"{v:.6g}" for k, v in holdout.items() if v is not None})
        alias = self.spec.tracking.alias
        if alias:
            try:
                self.client.set_registered_model_alias(name, alias, mv.version)
            except MlflowException as exc:
                self._errors.append(f"alias: {exc}")
        out = {"registered_model": name, "registered_version": int(mv.version)}
        if alias:
            out["registered_alias"] = alias
            out["registered_uri"] = f"models:/{name}@{alias}"
        return out

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


def log_model(model, X_example):
    """Log a :class:`~automl_yaml.model.TrainedModel` with ``mlflow.sklearn`` in the active run.

    The model carries this package (``code_paths``), so that ``mlflow models
    serve`` and ``build-docker`` load it without installing automl-yaml.
    """
    import mlflow
    from mlflow.models import infer_signature

    import automl_yaml

    _quiet_mlflow()
    example = X_example.head(5).copy()
    signature = infer_signature(example, model.predict(example))
    pkg = str(Path(automl_yaml.__file__).resolve().parent)
    return mlflow.sklearn.log_model(
        model,
        name="model",
        signature=signature,
        input_example=example,
        serialization_format="cloudpickle",
        code_paths=[pkg],
        pip_requirements=_requirements(),
    )


def save_model(model, X_example, path: Path) -> None:
    """Write the model in MLflow's format to ``path`` (atomically: a temp folder renamed)."""
    import shutil
    import tempfile

    import mlflow
    from mlflow.models import infer_signature

    import automl_yaml

    _quiet_mlflow()
    example = X_example.head(5).copy()
    signature = infer_signature(example, model.predict(example))
    pkg = str(Path(automl_yaml.__file__).resolve().parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    shutil.rmtree(tmp)
    mlflow.sklearn.save_model(
        model,
        str(tmp),
        signature=signature,
        input_example=example,
        serialization_format="cloudpickle",
        code_paths=[pkg],
        pip_requirements=_requirements(),
    )
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _requirements() -> list[str]:
    from importlib.metadata import version

    reqs = []
    for dist in ("scikit-learn", "pandas", "numpy", "scipy", "cloudpickle", "mlflow", "pyarrow", "mlxtend", "lightgbm", "xgboost"):
        try:
            reqs.append(f"{dist}=={version(dist)}")
        except Exception:
            pass
    return reqs


def make_tracker(loaded: LoadedSpec):
    return MlflowTracker(loaded) if loaded.spec.tracking.enabled else NullTracker()
