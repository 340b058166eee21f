"""Execute a plan: from sources to a tested, tracked model.

``run()`` walks the steps :func:`automl_yaml.planner.plan` compiles — load,
assemble, split, profile, pipeline, search, evaluate, report, track,
register — in that order. Planning is pure; this module does the I/O.

Resume: the search journals every finished trial under ``<output>/search``;
``mlx run --resume`` continues an interrupted run without re-running them,
provided the spec and the data are unchanged (their hashes are checked).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import re
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import EXIT_USAGE, AutomlYamlError, DataError, SearchError, SpecError, UsageError, interrupt_name, storage_error
from .spec import LoadedSpec, load_spec

SEARCH_DIR = "search"
STATE = "state.json"
# What ``--resume`` lets change: when the search stops and where its trials
# run, not what a trial is (its data, space, folds, metrics, seed).
RESUMABLE_CHANGES = ("search.budget.", "execution.")


@dataclasses.dataclass
class RunResult:
    """What ``automl_yaml.run`` returns.

    Attributes:
        name: The spec's name.
        output_dir: Where everything was written.
        model_path: The trained model (an MLflow model folder).
        task: ``classification`` or ``regression``.
        metric: The optimised metric (the first one).
        best_model: The model key of the best trial.
        best_params: Its configuration (model, params, searched options).
        cv_score: Its CV mean of ``metric`` (display value).
        holdout: Held-out test scores, by metric.
        leaderboard: Every trial, best first.
        summary: The content of ``summary.json``.
        tracking: MLflow run id, model URI, registered version...
    """

    name: str
    output_dir: Path
    model_path: Path
    task: str
    metric: str
    best_model: str
    best_params: dict[str, Any]
    cv_score: float | None
    holdout: dict[str, float]
    # long: left out of the repr (a notebook shows the result in one line)
    leaderboard: Any = dataclasses.field(repr=False)
    summary: dict[str, Any] = dataclasses.field(repr=False)
    tracking: dict[str, Any] = dataclasses.field(repr=False)
    _model: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def load_model(self):
        """The trained model (a :class:`~automl_yaml.model.TrainedModel`: ``predict``, ``predict_proba``...)."""
        from .predict import load_model

        if self._model is None:
            self._model = load_model(self.model_path)
        return self._model

    def predict(self, data, *, proba: bool = False, keep=()):
        """Predictions for a DataFrame or a data file, as ``mlx predict`` writes them (a DataFrame; ``keep``: input columns first)."""
        from .predict import predict

        return predict(self.load_model(), data, proba=proba, keep=keep)

    def one_line(self) -> str:
        h = self.holdout.get(self.metric)
        hs = f"{h:.4f}" if isinstance(h, float) and math.isfinite(h) else "n/a"
        cv = f"{self.cv_score:.4f}" if isinstance(self.cv_score, float) and math.isfinite(self.cv_score) else "n/a"
        return f"{self.name}: best {self.best_model}  cv {self.metric} {cv}  test {self.metric} {hs}  -> {self.model_path}"


class PipelineFactory:
    """Builds the full pipeline (preprocess + select + model) for a configuration.

    Picklable, so that worker processes build their own pipelines.
    """

    def __init__(self, spec, column_types: dict[str, str], task: str, space, seed: int, n_jobs: int = 1, needs_proba: bool = False):
        self.spec = spec
        self.column_types = column_types
        self.task = task
        self.space = space
        self.seed = seed
        self.n_jobs = n_jobs
        # a metric scores probabilities (log_loss), or this builds the model handed back: a
        # classifier without its own gets calibrated ones, unless models.<key>.probabilities is false
        self.needs_proba = needs_proba

    def __call__(self, config: dict):
        from .components.estimators import make_estimator
        from .preprocess.pipeline import build_pipeline

        key, params, options = self.space.split(config)
        name = self.space.models[key].estimator
        proba = self.needs_proba and (self.spec.models is None or key not in self.spec.models or self.spec.models[key].probabilities)
        estimator = make_estimator(name, params, self.task, seed=self.seed, n_jobs=self.n_jobs, needs_proba=proba)
        return build_pipeline(self.spec, self.column_types, self.task, options, estimator, seed=self.seed)


def _check_features_left(spec, column_types: dict[str, str]) -> None:
    """Stop before the search when no column reaches the model whatever the trial (every trial would fail alike).

    Only for a search that changes no preprocessing option: one that does
    (``preprocess.text.encode: {choice: [drop, tfidf]}``) may use columns in some trials.
    """
    from .preprocess.pipeline import _plans

    if _plans(spec, column_types, {}):
        return
    if column_types and set(column_types.values()) == {"text"} and spec.preprocess.text.encode == "drop":
        raise DataError(
            f"no feature column is left to use: every one is free text ({', '.join(list(column_types)[:5])}), which preprocess.text.encode: drop leaves out",
            hint="set preprocess.text.encode: tfidf (or frequency) to use them",
            usage=True,
        )
    raise DataError("no feature column is left to use", hint="check data.drop, data.types and preprocess.columns (drop: true)", usage=True)


# ----------------------------------------------------------------------------- display


class Display:
    """The terminal: rich progress while searching, tables at the end; silent when quiet."""

    def __init__(self, quiet: bool, progress: bool):
        self.quiet = quiet
        self.show_progress = progress and not quiet
        self._console = None
        self._progress = None
        self._task = None
        self.best = None
        self.failed = 0
        self.timed_out = 0
        self.cut = 0  # trials the search's time budget stopped (status timeout, as trial_timeout's)
        self.pruned = 0
        self.metric = None
        self.model_name = "model"  # the model of a search over one model (its trials name none)
        self.done = 0

    @property
    def console(self):
        if self._console is None:
            from .console import make_console

            self._console = make_console(quiet=self.quiet, highlight=False)
        return self._console

    def print(self, *args, **kwargs) -> None:
        if not self.quiet:
            self.console.print(*args, **kwargs)

    def note(self, text: str) -> None:
        self.print(f"[dim]·[/dim] {text}")

    @contextlib.contextmanager
    def phase(self, text: str):
        """A spinner for a step that may take more than a second."""
        if not self.show_progress:
            yield None
            return
        with self.console.status(text, spinner="dots"):
            yield None

    @contextlib.contextmanager
    def data_progress(self):
        # A transient bar shows nothing in a log but the blank line rich ends it with there.
        if not self.show_progress or not self.console.is_interactive:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=True) as p:
            yield p

    @contextlib.contextmanager
    def search(self, trials: int | None, time_budget: float | None, metric, done: int = 0, model_name: str = "model"):
        """The search's bar; ``done``: the trials a resumed search already has (see :meth:`restored`)."""
        self.metric = metric
        self.done = done
        self.model_name = model_name
        if not self.show_progress:
            yield self
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        total = trials
        self._time_budget = time_budget
        self._t0 = time.monotonic()
        columns = [TextColumn("[bold]search[/bold]"), BarColumn()]
        columns.append(MofNCompleteColumn() if total else TextColumn("{task.completed:.0f} trials"))
        columns += [TextColumn("{task.fields[status]}"), TimeElapsedColumn(), _eta_column()]
        with Progress(*columns, console=self.console, transient=False, refresh_per_second=4, redirect_stdout=False, redirect_stderr=False) as p:
            self._progress = p
            self._task = p.add_task("search", total=total, completed=done, status=self._status(), ended="")
            try:
                yield self
            finally:
                self._progress = None

    def restored(self, results) -> None:
        """The finished trials a resumed search starts from: counted, and the best among them shown (before :meth:`search`)."""
        for r in results:
            self._count(r)

    def ended(self, why: str) -> None:
        """The search is over: why, in place of an estimate of the time left."""
        if self._progress is not None:
            self._progress.update(self._task, ended=why)

    def _count(self, result) -> None:
        from .search.driver import BUDGET_STOPPED

        if result.status == "pruned":  # stopped early on purpose: not a failure
            self.pruned += 1
        elif result.status == "timeout" and result.error == BUDGET_STOPPED:
            self.cut += 1  # still running when the search's time ran out: not search.budget.trial_timeout
        elif result.status == "timeout":  # as the leaderboard and the summary line name it
            self.timed_out += 1
        elif result.status != "ok":
            self.failed += 1
        elif self.metric is not None and self.metric.name in (result.scores or {}):
            v = result.scores[self.metric.name]["mean"]
            bigger = self.metric.greater_is_better and not self.metric.objective_only
            # a tie keeps the earlier trial, as the leaderboard does (parallel trials finish out of order)
            if v is not None and (
                self.best is None or (v > self.best[0] if bigger else v < self.best[0]) or (v == self.best[0] and result.number < self.best[2])
            ):
                self.best = (v, result.config.get("model", self.model_name), result.number)

    def _status(self) -> str:
        status = f"best {self.metric.name} {self.best[0]:.4f} ({self.best[1]}, #{self.best[2]})" if self.best else "no result yet"
        if self.pruned:
            status += f"  {self.pruned} pruned"
        if self.failed:
            status += f"  [yellow]{self.failed} failed[/yellow]"
        if self.timed_out:
            status += f"  [yellow]{self.timed_out} timed out[/yellow]"
        if self.cut:
            status += f"  {self.cut} cut by the time budget"
        return status

    def trial(self, result) -> None:
        self.done += 1
        self._count(result)
        if self._progress is not None:
            self._progress.update(self._task, advance=1, status=self._status())


def _eta_column():
    """``eta 0:01:10`` while the search runs; once it ended, why it ended (an estimate then was stale)."""
    from rich.progress import ProgressColumn, TimeRemainingColumn
    from rich.text import Text

    class Eta(ProgressColumn):
        def __init__(self):
            super().__init__()
            self._remaining = TimeRemainingColumn()

        def render(self, task):
            ended = task.fields.get("ended")
            if ended:
                return Text(ended)
            return Text("eta ") + self._remaining.render(task)

    return Eta()


# ----------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _lock(folder: Path):
    """One ``mlx run`` per output folder at a time."""
    import fcntl

    try:
        folder.mkdir(parents=True, exist_ok=True)
        fh = open(folder / ".lock", "a")  # noqa: SIM115 - held for the whole run; "a": a file of that name is not emptied
    except OSError as exc:  # a read-only or full disk, a folder not ours: said so, not an internal error
        failure = storage_error(exc, folder=str(folder))
        if failure is None:
            raise
        raise failure from None
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UsageError(f"another `mlx run` is writing to {folder}", hint="wait for it, or set another output folder with -o") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    out = {"python": platform.python_version(), "automl-yaml": __version__}
    for dist in ("scikit-learn", "pandas", "numpy", "optuna", "mlflow", "deap", "mlxtend", "lightgbm", "xgboost", "hyperopt"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


_SPEC_PATH = re.compile(r"^([A-Za-z_]\w*(?:\.[\w-]+|\[\d+\])*): ")


def _locate_spec_path(exc: AutomlYamlError, loaded: LoadedSpec) -> None:
    """A usage error found on the data that names a spec field first (``preprocess.columns.island.impute: ...``) gets its file:line.

    The preprocessing and selection modules check their options against the
    data's columns without the spec's file; the location is added here, once.
    """
    if loaded.path is None or exc.exit_code != EXIT_USAGE or isinstance(exc, SpecError):
        return
    m = _SPEC_PATH.match(exc.message)
    if m is None:
        return
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", m.group(1))]
    if parts[0] not in type(loaded.spec).model_fields:
        return
    exc.message = f"{loaded.locate(*parts)}: {exc.message}"


def _locate_failing_model(exc, loaded: LoadedSpec, only_model: str) -> None:
    """Every trial failed, all of one model that the spec lists: point the error at that model's entry."""
    outcome = getattr(exc, "outcome", None)
    results = getattr(outcome, "results", None)
    models = loaded.spec.models or {}
    if not results or any(r.status != "failed" for r in results):
        return
    names = {r.config.get("model", only_model) for r in results}
    if len(names) != 1 or (name := names.pop()) not in models:
        return
    exc.message = f"{loaded.locate('models', name)}: models.{name}: {exc.message}"


def _trial_modules(spec) -> list[str]:
    """The modules a trial's pipeline is made of, for this spec (the default zoo's when it names no models)."""
    from . import registry as R
    from .components.catalog import estimator_classes
    from .components.zoo import default_models

    out = [__name__, "automl_yaml.preprocess.pipeline"]
    models = spec.models if spec.models is not None else default_models(None if spec.data.task == "auto" else spec.data.task)
    for name, model in models.items():
        estimator = getattr(model, "estimator", None) or name
        with contextlib.suppress(Exception):  # an unknown name fails later, where it is used
            # the libraries' own estimators only: the fork server stops at a
            # module raising anything but ImportError, and a plugin's might
            if R.estimators.get(estimator).meta.get("builtin"):
                out += [target.partition(":")[0] for target in estimator_classes(estimator).values()]
    return list(dict.fromkeys(out))


def _recorded_validation(out: Path):
    """The validation an interrupted (or finished) search in ``out`` chose by the rule, or None."""
    from .search.cv import Validation

    try:
        recorded = json.loads((out / SEARCH_DIR / STATE).read_text()).get("validation")
        return Validation.from_dict(recorded) if recorded and recorded.get("chosen_by") == "rule" else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # no state, or one from before the rule: the rule decides, and the resume checks go on as before


def _prepare_search_dir(out: Path, state: dict, resume: bool, display: Display) -> Path:
    sdir = out / SEARCH_DIR
    path = sdir / STATE
    if resume:
        if not path.exists():
            raise UsageError(f"there is no interrupted run in {out} to resume", hint="run without --resume")
        old = json.loads(path.read_text())
        last = "the last run" if old.get("complete") else "the interrupted run"
        keys: list[str] = []
        if old.get("spec_hash") != state["spec_hash"] or old.get("search_id") != state["search_id"]:
            keys = _changed_keys(old["spec"], state["spec"]) if isinstance(old.get("spec"), dict) else []
            fixed = [k for k in keys if not k.startswith(RESUMABLE_CHANGES)]
            if fixed or not keys:
                what = f" ({', '.join(fixed[:5])}{', …' if len(fixed) > 5 else ''})" if fixed else ""
                raise UsageError(
                    f"the spec changed since {last} in {out}{what}, so its trials cannot be reused",
                    hint="give the same spec and --set values as that run (only search.budget and execution may change,"
                    " to extend a search: --set search.budget.trials=N), or run without --resume to start again",
                )
        changed = [k for k, v in state["fingerprints"].items() if old.get("fingerprints", {}).get(k) != v]
        if changed:
            raise UsageError(
                f"the data of {', '.join(changed)} changed since {last}",
                hint="run without --resume to start again on the new data",
            )
        if keys:
            # A budget or the workers changed: the trials done are still this
            # search's; it goes on from them under the new limits.
            from .io import atomic_write_json

            display.note(f"resuming the search in {sdir} with {', '.join(keys)} changed")
            kept = {"tracking": old["tracking"]} if "tracking" in old else {}  # the parent run the search continues
            atomic_write_json(path, {**state, "resumed_from": old.get("spec_hash"), **kept})
        elif old.get("complete"):
            display.note(f"the search in {sdir} was complete: no trial is run again; the best one is refitted and tracked anew")
        return sdir
    if sdir.exists():
        old = json.loads(path.read_text()) if path.exists() else {}
        if old and not old.get("complete"):
            display.note(f"an unfinished search in {sdir} is discarded (use --resume to continue one)")
        shutil.rmtree(sdir)
    sdir.mkdir(parents=True)
    from .io import atomic_write_json

    atomic_write_json(path, state)
    return sdir


def _changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two specs (``search.budget.trials``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in list(old) + [k for k in new if k not in old]:
            out += _changed_keys(old.get(k), new.get(k), f"{prefix}.{k}" if prefix else str(k))
        return out
    return [] if old == new else [prefix or "the spec"]


def _read_state(sdir: Path) -> dict:
    try:
        state = json.loads((sdir / STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _remember_parent(sdir: Path, tracker) -> None:
    """The search's MLflow parent run, in its state: ``--resume`` continues it (the URI as shown: no secret)."""
    from .io import atomic_write_json
    from .spec import mask_url

    if not tracker.run_id:
        return
    state = _read_state(sdir)
    state["tracking"] = {"run_id": tracker.run_id, "uri": mask_url(tracker.uri)}
    atomic_write_json(sdir / STATE, state)


def _mark_complete(sdir: Path) -> None:
    from .io import atomic_write_json

    path = sdir / STATE
    state = json.loads(path.read_text())
    state["complete"] = True
    atomic_write_json(path, state)


# --------------------------------------------------------------------------------- run


def run(
    source: str | Path | dict | LoadedSpec,
    *,
    overrides=(),
    frames=None,
    resume: bool = False,
    cache: bool = True,
    quiet: bool = False,
    progress: bool = True,
    environ=None,
    challenge: str | None = None,
) -> RunResult:
    """Run a spec end to end.

    Args:
        source: A spec path, a mapping, or a :class:`LoadedSpec`. In a mapping, a
            pandas DataFrame in place of a source is a ``kind: frame`` source.
        overrides: ``"a.b=value"`` strings (``--set``), or a mapping ``{"a.b": value}``.
        frames: DataFrames for the spec's ``kind: frame`` sources, by source name
            (``{"train": df}``); copied, so a later change by the caller does not reach the run.
        resume: Continue an interrupted search instead of starting again.
        cache: Use the Parquet cache of loaded sources.
        quiet: Print nothing (results come back in the :class:`RunResult`).
        progress: Show progress bars (on stderr).
        challenge: A registered model (``models:/NAME@champion``) the new one must beat on the
            same held-out rows to take ``tracking.alias`` (:mod:`automl_yaml.promote`).

    Returns:
        A :class:`RunResult`.

    Raises:
        AutomlYamlError: for every failure a user can act on; ``KeyboardInterrupt``
            after recording an interrupted run (resume with ``resume=True``).
    """
    if isinstance(source, LoadedSpec):
        loaded = source.with_frames(frames)
    else:
        loaded = load_spec(source, overrides=overrides, environ=environ, frames=frames)
    loaded.require_frames()  # before the output folder is made
    if challenge is not None:
        t = loaded.spec.tracking
        if not (t.enabled and t.register_as and t.alias):
            raise UsageError(
                "--challenge needs a registered model: the new version takes the alias only if it beats the one named",
                hint="set tracking.register (and keep tracking.alias) in the spec",
            )
    display = Display(quiet, progress)
    from rich.markup import escape

    for w in loaded.warnings:
        display.print(f"[yellow]{escape(w.render())}[/yellow]")  # a hint such as pip install "automl-yaml[s3]" is not markup
    out = loaded.output_dir
    with _lock(out), _quiet_warnings():
        return _run(loaded, display, out, resume=resume, cache=cache, overrides=overrides, challenge=challenge)


@contextlib.contextmanager
def _quiet_warnings():
    """Library warnings (deprecations, convergence) are noise in a search of
    hundreds of fits: a trial's score says what matters. Worker processes
    inherit the filter through ``PYTHONWARNINGS``."""
    import warnings

    old = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("PYTHONWARNINGS", None)
            else:
                os.environ["PYTHONWARNINGS"] = old


def resume_command(path: Path | str | None, overrides=()) -> str:
    """``mlx run SPEC --set ... --resume``: the interrupted command again, its ``--set`` values included
    (without them the spec differs and its trials cannot be reused); a literal secret shows as ``***``."""
    import shlex

    from .spec import redact_field

    items = overrides.items() if isinstance(overrides, Mapping) else [(None, o) for o in overrides or ()]
    sets = []
    for key, value in items:
        text = str(value) if key is None else f"{key}={value if isinstance(value, str) else json.dumps(value, default=str)}"
        name, sep, val = text.partition("=")
        shown = f"{name}={redact_field(name.strip().rsplit('.', 1)[-1], val)}" if sep else text
        sets.append(f"--set {shlex.quote(shown)}")
    return " ".join(["mlx run", shlex.quote(str(path or "SPEC")), *sets, "--resume"])


def _run(loaded: LoadedSpec, display: Display, out: Path, *, resume: bool, cache: bool, overrides=(), challenge: str | None = None) -> RunResult:
    """Execute the plan's steps in its (topological) order; see :class:`_Job`.

    The results are written into a staging folder and moved into ``out`` at
    the end (:mod:`automl_yaml.outputs`): a run that fails leaves the earlier ones.
    """
    from .io import atomic_write_json
    from .outputs import OutputFolder
    from .planner import plan as make_plan

    plan = make_plan(loaded)
    folder = OutputFolder(out, loaded.path)
    folder.check(folder.replaced(profile=plan.step("profile") is not None))  # before anything is written
    if not resume and folder.earlier_results():
        display.note(f"the outputs of the last run in {out} are replaced when this one ends (MLflow keeps every run; -o names another folder)")
    job: _Job | None = None

    def again() -> str | None:
        """The command that continues this run, once it has a search to resume (its folder is prepared)."""
        if job is None or job.sdir is None:
            return None
        return resume_command(loaded.path, overrides) if not loaded.frames else "the same call with resume=True (and the same frames)"

    def stored(exc: BaseException) -> None:
        """A full or read-only disk: its cause and path, and the resume command when resuming would work."""
        failure = storage_error(exc, folder=str(out), resume=again())
        if failure is None:
            return
        with contextlib.suppress(Exception):  # on a full disk, MLflow's store may fail too
            job.tracker.fail(failure.message)
        raise failure from exc

    try:
        job = _Job(loaded, display, out, plan, resume=resume, cache=cache, folder=folder, challenge=challenge)
        _execute(job, loaded, display, again, stored)
        job.summary["steps"] = job.executed
        job.summary["serve"] = serve_command(job.summary.get("tracking") or {}, out / "model")  # for scripts: mlx run --json
        from .report import run as report

        try:
            report.write_summary(job.summary, job.stage / "summary.json")
            atomic_write_json(job.stage / "plan.json", job.plan.to_dict())
            folder.commit()  # the results in place, all at once
        except OSError as exc:
            stored(exc)
            raise
    except BaseException:
        folder.discard()  # the earlier run's results stay as they were
        raise
    if job.sdir is not None:
        _mark_complete(job.sdir)
    _final_display(display, job.summary, job.board, job.metrics, out)
    return job.result()


def _execute(job: _Job, loaded: LoadedSpec, display: Display, again, stored) -> None:
    """The plan's steps, in order; an interrupt or a failure is said once, with the resume command when it helps."""
    job.start()
    try:
        for step in job.plan.steps:
            getattr(job, f"step_{step.kind}")(step)
            job.executed.append(step.id)
    except KeyboardInterrupt as exc:
        job.tracker.fail("interrupted", status="KILLED")
        if job.sdir is not None:  # the search's folder is there: finished trials are kept, after the search too
            from rich.markup import escape

            how = interrupt_name(exc)  # " (SIGTERM)": stopped as Ctrl+C stops it
            display.print(f"\n[yellow]interrupted{how}.[/yellow] finished trials are kept; continue with:\n  {escape(again())}", soft_wrap=True)
            exc.mlx_reported = True  # the command line says "interrupted" only once
        raise
    except AutomlYamlError as exc:
        _locate_spec_path(exc, loaded)
        job.tracker.fail(exc.message)
        raise
    except Exception as exc:
        stored(exc)
        job.tracker.fail(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        job.abandon_side_jobs()


class _Job:
    """The state of one run, and one method per kind of plan step.

    :func:`automl_yaml.planner.plan` decides the steps and their order;
    ``step_<kind>`` does each. Steps communicate through this object's
    attributes (the frames, the dataset, the search outcome, the model...).
    """

    def __init__(self, loaded: LoadedSpec, display: Display, out: Path, plan, *, resume: bool, cache: bool, folder=None, challenge=None):
        from .outputs import OutputFolder
        from .tracking import make_tracker

        self.loaded = loaded
        self.spec = loaded.spec
        self.display = display
        self.out = out
        self.folder = folder if folder is not None else OutputFolder(out, loaded.path)
        self.stage = self.folder.stage()  # the results, moved into out when the run ends
        self.plan = plan
        self.resume = resume
        self.cache = cache
        self.challenge = challenge  # mlx run --challenge: the model the new one must beat
        self.tracker = make_tracker(loaded)
        self.t_start = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.executed: list[str] = []
        self.frames: dict[str, Any] = {}
        self.infos: dict[str, Any] = {}
        self.notes: list[str] = []
        self.profile_info = None
        self.importances = None
        self.sdir: Path | None = None
        self.searching = False
        self.plots: dict[str, str] = {}
        self.side_jobs: dict[str, Any] = {}  # automl_yaml.sidecar jobs, from step_evaluate to step_report
        self.sides_late = False  # the side processes start when the search ends (start())
        self._sides_started = False
        self.tracking_info: dict[str, Any] = {}
        self._progress_cm = None
        self._progress = None

    def _timed(self, name: str, t0: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def start(self) -> None:
        from . import sidecar

        self._check_strategy_libraries()  # before any data is read

        # the model's and the plots' processes import MLflow and matplotlib
        # while this one reads the data and searches (see automl_yaml.sidecar);
        # they, and the trials' workers, fork from a server that imports the
        # trials' modules once for all of them
        from .search.driver import _n_workers, in_workers, preload

        budget = self.spec.search.budget
        workers = in_workers(self.spec.execution.n_jobs, budget.time, budget.trial_timeout)
        # trials in this process: the fork server serves only the side
        # processes, and imports their libraries once for both (automl_yaml._side_imports)
        preload(_trial_modules(self.spec) + ([] if workers or not sidecar.enabled() else ["automl_yaml._side_imports"]))
        # Workers on every core: the side processes start when the search ends.
        # Their imports (about 2.4 s of CPU) took that CPU from the workers: the
        # 24-trial search of benchmarks/search.py --parallel took 13.9 s instead
        # of 13.0 s, for a 0.3 s shorter wait for the model and plots at the end.
        self.sides_late = workers and _n_workers(self.spec.execution.n_jobs) >= (os.cpu_count() or 1)
        if not self.sides_late:
            sidecar.start()
        if self.tracker.enabled:
            # fail fast: a tracking server that does not answer before any data is
            # read; the store itself is checked meanwhile, and awaited before the search
            self.tracker.check()
            if self.challenge:
                version = self.tracker.check_champion(self.challenge)  # a typo is said before any training
                self.display.note(f"challenging {self.challenge} (version {version}): the new model takes the alias only if it beats it")
        if workers:
            # trials will run in worker processes: start their fork server now,
            # so that its imports (about a second) overlap the data loading
            from .search.driver import warm_up

            warm_up()

    def _check_strategy_libraries(self) -> None:
        """A strategy whose library is missing fails now, not after the data is read (validate warns about torch, refuses hyperopt)."""
        from importlib.util import find_spec

        from .spec.semantic import needs_torch

        s = self.spec.search
        if needs_torch(s) and find_spec("torch") is None:
            from .errors import TORCH_PIP, MissingDependencyError

            raise MissingDependencyError("torch", purpose=f"the {s.strategy} strategy (Optuna's GPSampler)", pip=TORCH_PIP)
        if s.strategy == "hyperopt" and find_spec("hyperopt") is None:
            from .errors import HYPEROPT_PIP, MissingDependencyError

            raise MissingDependencyError("hyperopt", extra="hyperopt", purpose="the hyperopt strategy", pip=HYPEROPT_PIP)

    # ----------------------------------------------------------------- data
    def step_load(self, step) -> None:
        from .data.assemble import load_source

        name = step.config["source"]
        t = time.perf_counter()
        if self._progress_cm is None:
            self._progress_cm = self.display.data_progress()
            self._progress = self._progress_cm.__enter__()
        self.frames[name], info = load_source(self.loaded, name, cache=self.cache, progress=self._progress)
        self.infos[name] = info
        self._timed("load", t)

    def _close_progress(self) -> None:
        if self._progress_cm is not None:
            self._progress_cm.__exit__(None, None, None)
            self._progress_cm = None
        for info in self.infos.values():
            cached = " (cached)" if info.from_cache else ""
            # a frame's description already gives its size
            size = "" if info.kind == "frame" else f": {info.rows:,} rows x {info.columns} columns"
            self.display.note(f"{info.description}{size}{cached} [{info.seconds:.1f}s]")

    def step_assemble(self, step) -> None:
        from .data.assemble import assemble_frame

        self._close_progress()
        t = time.perf_counter()
        self.frame, self.notes = assemble_frame(self.loaded, self.frames)
        self._timed("load", t)

    def step_split(self, step) -> None:
        import sklearn.model_selection  # noqa: F401 - its import (1-7 s on a busy machine) is not the data's loading time

        from .data.assemble import split

        t = time.perf_counter()
        ds = split(self.loaded, self.frame, keep_validation=_recorded_validation(self.out) if self.resume else None)
        ds.sources = self.infos
        ds.notes = self.notes + ds.notes
        self.dataset = ds
        self.frames = {}  # the assembled table holds what is needed now
        self._timed("load", t)
        from rich.markup import escape

        d = self.display
        # Notes quote the data (column names, values such as "[10-20)"): not rich markup.
        d.note(f"task: [bold]{ds.task}[/bold] — {escape(ds.task_reason)}")
        for n in ds.notes:  # what was done to the rows and columns (dropped targets...) before the sizes it led to
            d.note(escape(n))
        d.note(f"train {len(ds.X_train):,} rows / test {len(ds.X_test):,} row{'' if len(ds.X_test) == 1 else 's'}, {ds.X_train.shape[1]} feature{'' if ds.X_train.shape[1] == 1 else 's'}")
        d.note(f"validation: {ds.validation.describe()} — {escape(ds.validation.reason)}")

    def step_profile(self, step) -> None:
        from .report.profile import write_profile

        ds = self.dataset
        t = time.perf_counter()
        with self.display.phase("profiling the data"):
            self.profile_info = write_profile(
                ds.frame,
                target=self.spec.data.target,
                task=ds.task,
                column_types=ds.column_types,
                out_dir=self.stage / "profile",
                options=self.spec.profile_spec,
                console=None,
                seed=self.spec.seed,
            )
        self._timed("profile", t)
        self.display.note(f"profile: {self.out / 'profile' / 'profile.html'}")

    # ------------------------------------------------------------- pipeline
    def step_pipeline(self, step) -> None:
        """The search space, metrics, CV folds and the pipeline factory for this data."""
        from .components.metrics import resolve
        from .io import atomic_write_json
        from .planner import plan as make_plan
        from .search.cv import make_cv
        from .search.space import compile_space

        spec, ds = self.spec, self.dataset
        n_rows = len(ds.X_train)
        # the plan again, now that the task and size are known (the zoo depends
        # on them); the steps and their ids are the same by construction
        self.plan = make_plan(self.loaded, task=ds.task, n_rows=n_rows, validation=ds.validation)
        atomic_write_json(self.stage / "plan.json", self.plan.to_dict())
        try:
            self.metrics = resolve(spec.search.metrics(), ds.task, n_classes=ds.n_classes)
        except DataError as exc:
            if not spec.search.metrics() or self.loaded.path is None:
                raise
            raise DataError(f"{self.loaded.smap.locate(('search', 'metric'))}: search.metric: {exc.message}", hint=exc.hint, usage=True) from None
        self.space = compile_space(spec, ds.task, n_rows)
        if not self.space.models:
            raise UsageError("no model fits this task and data size", hint="list models in the spec")
        cv_spec = spec.search.cv if ds.cv_folds is None else spec.search.cv.model_copy(update={"folds": ds.cv_folds})
        self.cv = make_cv(cv_spec, spec.data.split.by, ds.task, spec.seed, groups=ds.groups_train, validation=ds.validation)
        from .components.estimators import needs_proba

        proba = needs_proba([m.scorer_name for m in self.metrics])
        self.factory = PipelineFactory(spec, ds.column_types, ds.task, self.space, spec.seed, needs_proba=proba)
        if not self.space.shared:
            _check_features_left(spec, ds.column_types)


    # --------------------------------------------------------------- search
    def step_search(self, step) -> None:
        from . import __version__
        from . import registry as R
        from .search.driver import run_search
        from .search.evaluator import Evaluator

        spec, ds, plan = self.spec, self.dataset, self.plan
        if self.tracker.enabled:
            with self.display.phase("checking the tracking store"):
                self.tracker.wait_checked()  # before the search (and its folder) starts
        metrics = self.metrics
        directions = [m.direction for m in metrics]
        state = {"spec_hash": self.loaded.spec_hash(), "search_id": step.id, "fingerprints": ds.fingerprints}
        state["spec"] = json.loads(json.dumps(self.loaded.redacted(), default=str))  # as state.json keeps it: a --resume names what changed
        state["validation"] = ds.validation.to_dict()  # a --resume scores its trials the same way
        from .outputs import SEARCH

        self.folder.claim(SEARCH)  # mlx's, whatever the search writes into it
        previous = _read_state(self.out / SEARCH_DIR)  # before a new search replaces it: its MLflow parent run
        self.sdir = _prepare_search_dir(self.out, state, self.resume, self.display)
        from .search.driver import _n_workers
        from .search.evaluator import fold_cache_bytes

        evaluator = Evaluator(
            X=ds.X_train,
            y=ds.y_train,
            groups=ds.groups_train,
            cv=self.cv,
            metrics=metrics,
            make_pipeline=self.factory,
            cache_bytes=fold_cache_bytes(_n_workers(spec.execution.n_jobs)),
        )
        strategy_cls = R.strategies.get(spec.search.strategy).load()
        searcher = strategy_cls(self.space, directions=directions, seed=spec.seed, options=spec.search.options, budget_trials=plan.trials, workdir=self.sdir)
        if self.tracker.enabled:
            self.tracker.start(plan=plan, dataset=ds, strategy=spec.search.strategy, version=__version__, **self._parent_run(previous))
            _remember_parent(self.sdir, self.tracker)
        budget = spec.search.budget
        self.display.print(
            f"[bold]searching[/bold] {len(self.space.models)} model(s) with {spec.search.strategy}"
            + (f", {plan.trials} trials" if plan.trials else "")
            + (f", {budget.time:g}s" if budget.time else "")
            + f", {ds.validation.describe()}, optimising {', '.join(m.name for m in metrics)}"
        )

        def on_result(result) -> None:
            self.display.trial(result)
            self.tracker.log_trial(result)

        t = time.perf_counter()
        self.searching = True
        model_name = next(iter(self.space.models))
        restored = []
        if self.resume:
            from .search.journal import read_journal

            # the bar starts at the trials done before (a resumed 60-trial search ended at 56/60), with their best
            restored, _ = read_journal(self.sdir / "trials.jsonl", self.space)
            self.display.model_name, self.display.metric = model_name, metrics[0]
            self.display.restored(restored)
        try:
            with self.display.search(plan.trials, budget.time, metrics[0], done=len(restored), model_name=model_name):
                from .search.driver import describe_stop

                try:
                    self.outcome = run_search(
                        searcher,
                        evaluator,
                        directions=directions,
                        n_trials=plan.trials,
                        time_budget=budget.time,
                        trial_timeout=budget.trial_timeout,
                        patience=budget.patience,
                        n_jobs=spec.execution.n_jobs,
                        journal=self.sdir / "trials.jsonl",
                        resume=self.resume,
                        on_result=on_result,
                        on_draining=self._start_sides_late if self.sides_late else None,
                    )
                except SearchError as exc:  # no trial succeeded: the bar says why the search ended all the same
                    if getattr(exc, "outcome", None) is not None:
                        self.display.ended(describe_stop(exc.outcome.stopped, spec.search.strategy))
                    raise
                except KeyboardInterrupt:
                    self.display.ended("interrupted")
                    raise
                self.display.ended(describe_stop(self.outcome.stopped, spec.search.strategy))
        except SearchError as exc:
            _locate_failing_model(exc, self.loaded, next(iter(self.space.models)))
            raise
        finally:
            evaluator.clear_cache()  # the folds' fitted preprocessing, kept for the trials
            with contextlib.suppress(Exception):
                self.importances = searcher.importances()
            with contextlib.suppress(Exception):
                searcher.close()
        self.searching = False
        self._timed("search", t)
        population = getattr(spec.search.options, "population", None)
        if population and getattr(searcher, "generation", 1) < 1 and (plan.trials is None or plan.trials > population):
            # a budget of trials that cannot reach generation 1 is warned of by validation; time is known only now
            done = len(self.outcome.results)
            self.display.note(
                f"[yellow]the search stopped in generation 0 ({done} of {population} individuals): the genetic search never evolved "
                f"(a random search); give it more time (search.budget.time) or a smaller search.options.population[/yellow]"
            )
        if self.sides_late:
            self._start_sides_late()  # if the search did not (it ended with no worker idle)

    def _parent_run(self, previous: dict) -> dict[str, Any]:
        """What the tracker continues or ends of the last search in this folder (see :meth:`MlflowTracker.start`).

        ``--resume`` of an unfinished search continues its parent run, with the
        finished trials its journal holds (those missing in MLflow are written):
        one search is one parent run. A new search ends the discarded one's
        parent run, left ``RUNNING`` when its process was killed. Only in the
        same store (a resume under another ``MLFLOW_TRACKING_URI`` starts a
        parent run that holds every trial).
        """
        from .spec import mask_url

        old = previous.get("tracking") or {}
        if not old.get("run_id") or previous.get("complete") or old.get("uri") != mask_url(self.tracker.uri):
            return {}
        if not self.resume:
            return {"abandoned": old["run_id"]}
        from .search.journal import read_journal
        from .tracking import trial_record

        done: list = []
        with contextlib.suppress(Exception):  # the search reads the journal again, and says what is wrong with it
            done = [trial_record(r) for r in read_journal(self.sdir / "trials.jsonl", self.space)[0]]
        return {"reopen": old["run_id"], "done": done}

    def _start_sides_late(self) -> None:
        """With workers on every core, what follows the search starts as it ends (see start()).

        Called as soon as a worker is idle at the end of the search (the last
        trials' folds still run): only the model's process, with only MLflow's
        model format, and matplotlib's import here, in a thread; this process
        draws the plots. Drawing them takes about as long as the model's
        process takes to import MLflow and save the model, and a third process
        would only share the same two cores.
        """
        from . import sidecar

        if self._sides_started:
            return
        self._sides_started = True
        sidecar.start(("model",), model_draws=False)
        threading.Thread(target=_import_plots, name="mlx-import-plots", daemon=True).start()

    # ------------------------------------------------------------- evaluate
    def step_evaluate(self, step) -> None:
        """Refit the best on the whole training split; score it on the held-out test split."""
        import pickle

        from .model import TrainedModel

        spec, ds = self.spec, self.dataset
        best = self.outcome.best
        key, _, _ = self.space.split(best.config)
        t = time.perf_counter()
        with self.display.phase(f"refitting the best ({key}) on the whole training set"):
            n_jobs = spec.execution.n_jobs
            # the model handed back gives probabilities (mlx predict --proba), whatever the metric
            refit = PipelineFactory(spec, ds.column_types, ds.task, self.space, spec.seed, n_jobs=n_jobs, needs_proba=ds.task == "classification")
            pipeline = refit(best.config)
            pipeline.fit(ds.X_train, ds.y_train)
        self._timed("refit", t)
        t = time.perf_counter()
        holdout: dict[str, float] = {}
        for m in self.metrics:
            if m.objective_only:
                if m.name == "fit_time":
                    holdout[m.name] = self.timings["refit"]
                elif m.name == "model_size":
                    holdout[m.name] = float(len(pickle.dumps(pipeline)))
                elif m.name == "predict_time":
                    t0 = time.perf_counter()
                    pipeline.predict(ds.X_test)
                    holdout[m.name] = time.perf_counter() - t0
                continue
            try:
                holdout[m.name] = float(m.display(m.scorer()(pipeline, ds.X_test, ds.y_test)))
                if math.isnan(holdout[m.name]) and len(ds.X_test) < 2:
                    # scikit-learn's r2 of one row: undefined, said only in a warning
                    self.display.note(
                        f"[yellow]holdout {m.name} is not defined on a test set of {len(ds.X_test)} row; "
                        "the CV scores stand alone (raise data.split.test_size, or add data)[/yellow]"
                    )
            except Exception as exc:  # a metric the model cannot give on this set
                holdout[m.name] = float("nan")
                from rich.markup import escape

                self.display.note(f"[yellow]holdout {m.name} could not be computed: {escape(f'{type(exc).__name__}: {exc}')}[/yellow]")
        self.pipeline = pipeline
        self.holdout = holdout
        # what the data step left out on purpose (ids, constant columns, data.drop): new rows may carry it
        ignored = [str(c) for c in ds.frame.columns if c not in ds.X_train.columns and c != ds.target] + [str(c) for c in spec.data.drop]
        self.model = TrainedModel(
            pipeline=pipeline, task=ds.task, classes=ds.classes, target=spec.data.target, date_formats=ds.date_formats, ignored=ignored
        ).fitted(ds.X_train)
        self.model.reference_ = self._reference(holdout)
        self._timed("evaluate", t)
        # the model's folder and the plots, in the two side processes (automl_yaml.sidecar),
        # while this one writes the leaderboard; step_report collects them. Each
        # draws about half of the plots (0.1-0.2 s each), the model's one after the save.
        # (With workers on every core, only the model's process was started, as the
        # search ended: no plot goes to it, and this process draws them.)
        from . import sidecar
        from .tracking import example_rows

        plot_args = (self.stage, ds.task, ds.classes, self.outcome.results, self.metrics, self.importances, pipeline, ds.X_test, ds.y_test, spec.seed)
        names = PLOTS_BY_TASK[ds.task]
        mine = ("roc", "feature_importance") if ds.task == "classification" else ("feature_importance",)
        if not sidecar.draws("model"):
            mine = ()
        self.side_jobs["model"] = sidecar.submit("model", save_model_and_draw, self.model, example_rows(ds.X_train), self.stage / "model", plot_args, mine)
        self.side_jobs["plots"] = sidecar.submit("plots", draw_plots, *plot_args, tuple(n for n in names if n not in mine))

    def _reference(self, holdout: dict[str, float]) -> dict:
        """The profile `mlx monitor` compares new data with (automl_yaml.monitor.reference), kept in the model."""
        from .monitor.reference import build_reference

        ds = self.dataset
        scored = [m for m in self.metrics if not m.objective_only]
        reference = build_reference(
            ds.X_train,
            task=ds.task,
            predictions=self.model.predict(ds.X_test) if len(ds.X_test) else None,
            scores={m.name: holdout.get(m.name) for m in scored},
            target=self.spec.data.target,
        )
        reference["metrics"] = [{"name": m.name, "scorer": m.scorer_name, "sign": m.sign} for m in scored]
        return reference

    def abandon_side_jobs(self) -> None:
        """Jobs given to side processes that a failed run will not collect."""
        for job in self.side_jobs.values():
            job.abandon()
        self.side_jobs.clear()

    # --------------------------------------------------------------- report
    def step_report(self, step) -> None:
        """The model, the leaderboard, summary.json, report.html and the redacted spec."""
        import yaml as _yaml
        from rich.markup import escape

        from .io import atomic_write_text
        from .preprocess.pipeline import selected_features
        from .report import run as report

        t = time.perf_counter()
        spec, ds, out, outcome = self.spec, self.dataset, self.stage, self.outcome
        best = outcome.best
        key, params, options = self.space.split(best.config)
        self.board = report.leaderboard(outcome.results, self.metrics, best=best.number, pareto=outcome.pareto, space=self.space)
        report.write_leaderboard(self.board, out / "leaderboard.csv")
        features = []
        with contextlib.suppress(Exception):
            features = selected_features(self.pipeline)
        with self.display.phase("saving the model, drawing plots"):
            # left in side_jobs until both are in: if the first raises (Ctrl+C), the run abandons the other
            model_job, plots_job = self.side_jobs["model"], self.side_jobs["plots"]
            # a job no side process took is done here first, while the other works
            if plots_job.remote or not model_job.remote:
                plots_a, notes_a = model_job.result()
                plots_b, notes_b = plots_job.result()
            else:
                plots_b, notes_b = plots_job.result()
                plots_a, notes_a = model_job.result()
            self.side_jobs.clear()
        # in the order a reader expects (the report shows them in this order)
        drawn = {**plots_a, **plots_b}
        self.plots = {name: drawn[name] for name in PLOTS_BY_TASK[ds.task] if name in drawn}
        notes = notes_a + notes_b
        for note in notes:
            self.display.note(f"[yellow]{escape(note)}[/yellow]")
        counts = {s: sum(r.status == s for r in outcome.results) for s in ("ok", "failed", "timeout", "pruned")}
        counts["total"] = len(outcome.results)
        self.best_cv = {m.name: (best.scores.get(m.name) or {}).get("mean") for m in self.metrics}
        self._timed("report", t)
        self.timings["total"] = time.perf_counter() - self.t_start
        self.summary = {
            "name": spec.name,
            "spec_hash": self.loaded.spec_hash(),
            "task": ds.task,
            "task_reason": ds.task_reason,
            "target": spec.data.target,
            "classes": [str(c) for c in ds.classes] if ds.classes is not None else None,
            "positive_class": None if ds.positive is None else str(ds.positive),
            "metrics": [{"name": m.name, "greater_is_better": m.greater_is_better and not m.objective_only} for m in self.metrics],
            "strategy": spec.search.strategy,
            "best": {
                "trial": best.number,
                "model": key,
                "estimator": self.space.models[key].estimator,
                "params": params,
                "options": options,
                "cv": {m: best.scores.get(m) for m in best.scores},
            },
            "holdout": self.holdout,
            "pareto": outcome.pareto if len(self.metrics) > 1 else None,
            "selected_features": features,
            "trials": counts,
            "stopped": outcome.stopped,
            "validation": ds.validation.to_dict(),
            "data": {
                "rows_train": len(ds.X_train),
                "rows_test": len(ds.X_test),
                "features": ds.X_train.shape[1],
                "column_types": ds.column_types,
                "fingerprints": ds.fingerprints,
            },
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "versions": _versions(),
            "paths": {
                "model": "model",
                "leaderboard": "leaderboard.csv",
                "plots": self.plots,
                "report": "report.html",
                "spec": self.folder.spec_copy,
                "profile": "profile/profile.html" if self.profile_info is not None else None,
            },
            "param_importances": self.importances,
        }
        atomic_write_text(out / self.folder.spec_copy, _yaml.safe_dump(self.loaded.redacted(), sort_keys=False, allow_unicode=True))
        report.write_summary(self.summary, out / "summary.json")
        _write_html(out, self.summary, self.board, self.plots, self.profile_info)

    # ------------------------------------------------------------- tracking
    def step_track(self, step) -> None:
        out = self.stage  # the results, not yet moved into place
        artifacts = [out / self.folder.spec_copy, out / "plan.json", out / "leaderboard.csv", out / "summary.json", out / "report.html", out / "plots"]
        if (out / "profile").exists():
            artifacts.append(out / "profile")
        t = time.perf_counter()
        with self.display.phase("logging to MLflow"):
            self.tracking_info = self.tracker.finish(
                summary=self.summary,
                output_dir=out,
                artifacts=artifacts,
                model=self.model,
                X_example=self.dataset.X_train,
                holdout=self.holdout,
                best_cv=self.best_cv,
            )
        if self.plan.step("register") is None:
            self.tracker.close()
        self._timed("track", t)
        self.summary["tracking"] = self.tracking_info

    def step_register(self, step) -> None:
        t = time.perf_counter()
        with self.display.phase(f"registering '{step.config['name']}'"):
            self.tracking_info.update(self.tracker.register(self.holdout, self._gate_input()))
        self.tracker.close()
        self._timed("track", t)
        self.summary["tracking"] = self.tracking_info
        promotion = self.tracking_info.get("promotion")
        if promotion:
            self.summary["promotion"] = promotion
            from rich.markup import escape

            name, alias = self.tracking_info["registered_model"], promotion["alias"]
            if promotion["promote"]:
                head = f"[green]promoted[/green]: version {promotion['version']} of {escape(name)} is @{escape(alias)}"
            else:
                head = f"[yellow]kept the champion[/yellow]: version {promotion['version']} of {escape(name)} is @{escape(self.tracking_info['registered_alias'])}"
            self.display.print(f"{head} — {escape(promotion['reason'])}", soft_wrap=True)

    def _gate_input(self):
        """The rows and rule of the promotion gate: both models scored on this run's held-out test rows."""
        from .components.metrics import resolve
        from .promote import GateInput, score_on

        spec, ds = self.spec, self.dataset
        rule = spec.tracking.promote
        name = (None if isinstance(rule, str) else rule.metric) or self.metrics[0].name
        metric = next((m for m in self.metrics if m.name == name), None) or resolve([name], ds.task, n_classes=ds.n_classes)[0]
        if metric.objective_only:  # fit_time, model_size: not a score of the rows
            metric = next((m for m in self.metrics if not m.objective_only), None)
            if metric is None:
                return None
        m = {"name": metric.name, "scorer": metric.scorer_name, "sign": metric.sign}
        y = ds.y_test
        if ds.task == "classification" and ds.classes is not None:
            import numpy as np

            y = np.asarray(ds.classes, dtype=object)[np.asarray(y, dtype=int)]
        # the test rows with every column of the table: the champion may read columns this model does not
        X = ds.X_test
        frame = getattr(ds, "frame", None)
        if frame is not None and X.index.isin(frame.index).all():
            X = frame.loc[X.index].drop(columns=[ds.target], errors="ignore")
        import warnings

        with warnings.catch_warnings():  # columns one model ignores: expected here
            warnings.simplefilter("ignore", UserWarning)
            scores, rows = score_on(self.model, X, y, [m])
        return GateInput(
            rule=rule if isinstance(rule, str) else rule.model_dump(),
            metric=m,
            X=X,
            y=y,
            challenger=scores.get(metric.name),
            rows=rows,
            champion_uri=self.challenge,
        )

    # --------------------------------------------------------------- result
    def result(self) -> RunResult:
        best = self.outcome.best
        key = self.summary["best"]["model"]
        primary = self.metrics[0]
        return RunResult(
            name=self.spec.name,
            output_dir=self.out,
            model_path=self.out / "model",
            task=self.dataset.task,
            metric=primary.name,
            best_model=key,
            best_params=dict(best.config),
            cv_score=self.best_cv.get(primary.name),
            holdout=self.holdout,
            leaderboard=self.board,
            summary=self.summary,
            tracking=self.tracking_info,
        )


def _import_plots() -> None:
    with contextlib.suppress(Exception):  # drawing the plots imports it again, and says what fails
        from .report.run import import_matplotlib

        import_matplotlib()


PLOTS_BY_TASK = {
    "classification": ("history", "param_importance", "confusion_matrix", "roc", "feature_importance"),
    "regression": ("history", "param_importance", "residuals", "feature_importance"),
}


def draw_plots(
    out: Path, task: str, classes, results, metrics, importances, pipeline, X_test, y_test, seed: int, only=None
) -> tuple[dict[str, str], list[str]]:
    """The plots of a finished run (those named in ``only``, default all) into ``out/plots``.

    Returns their paths (relative to ``out``) and notes. A plot that cannot
    be drawn gives a note, never an error (a finished run must not fail on a
    picture). Runs in the side processes, which share the plots out.
    """
    import numpy as np

    from .preprocess.pipeline import unwrap
    from .report import run as report

    plots_dir = out / "plots"
    plots: dict[str, str] = {}
    notes: list[str] = []
    wanted = set(PLOTS_BY_TASK[task] if only is None else only)

    def draw(name: str, make) -> None:
        if name not in wanted:
            return
        try:
            path = make()
        except Exception as exc:  # a plot must never fail a finished run
            notes.append(f"the {name.replace('_', ' ')} plot could not be drawn: {type(exc).__name__}: {exc}")
            return
        if path is not None:
            plots[name] = str(Path(path).relative_to(out))

    primary = metrics[0]
    draw("history", lambda: report.plot_history(results, primary, plots_dir / "history.png"))
    if importances:
        draw("param_importance", lambda: report.plot_importances(importances, plots_dir / "param_importance.png", "parameter importance"))
    y_codes = np.asarray(y_test)
    if task == "classification":
        labels = [str(c) for c in classes]  # one label type, whatever the target's

        def confusion():
            y_true = np.asarray(labels)[y_codes.astype(int)]
            y_pred = np.asarray(labels)[np.asarray(pipeline.predict(X_test)).astype(int)]
            return report.plot_confusion(y_true, y_pred, labels, plots_dir / "confusion_matrix.png")

        def roc():
            scores = None
            if hasattr(pipeline, "predict_proba"):
                with contextlib.suppress(Exception):
                    scores = pipeline.predict_proba(X_test)
            if scores is None and hasattr(pipeline, "decision_function"):
                scores = pipeline.decision_function(X_test)
            return None if scores is None else report.plot_roc(y_codes.astype(int), np.asarray(scores), labels, plots_dir / "roc.png")

        draw("confusion_matrix", confusion)
        draw("roc", roc)
    else:
        draw("residuals", lambda: report.plot_residuals(y_test, pipeline.predict(X_test), plots_dir / "residuals.png"))
    score_metric = next((m for m in metrics if not m.objective_only), None)

    def importance():
        fi = report.model_importance(pipeline)
        if fi is not None:
            return report.plot_importances(fi, plots_dir / "feature_importance.png", f"feature importance ({type(unwrap(pipeline)[-1]).__name__})")
        if score_metric is None:
            return None
        fi = report.feature_importance(pipeline, X_test, y_test, score_metric.scorer(), seed=seed)
        return report.plot_importances(fi, plots_dir / "feature_importance.png", "permutation importance (test set)")

    draw("feature_importance", importance)
    return plots, notes


def save_model_and_draw(model, X_example, path: Path, plot_args: tuple, only) -> tuple[dict[str, str], list[str]]:
    """The model's side process: write the model's folder, then draw its share of the plots."""
    from .tracking import save_model

    save_model(model, X_example, path)
    return draw_plots(*plot_args, only=only)


def _write_html(out: Path, summary: dict, board, plots: dict, profile_info) -> None:
    from .report.run import write_html

    write_html(out / "report.html", summary, board, {k: out / v for k, v in plots.items()})


def _final_display(display: Display, summary: dict, board, metrics, out: Path) -> None:
    if display.quiet:
        return
    from rich.table import Table

    from .search.driver import describe_stop

    primary = metrics[0]
    table = Table(title="leaderboard (top 10)", title_justify="left", show_edge=False)
    cols = ["rank", "trial", "model", f"{primary.name}_mean", f"{primary.name}_std", "fit_time_s", "status"]
    if (summary.get("validation") or {}).get("method") == "holdout":
        cols.remove(f"{primary.name}_std")  # one split has no spread: 0.0000 would read as a measured one
    if "pareto" in board.columns:
        cols.append("pareto")
    for c in cols:
        table.add_column(c.replace("_mean", "").replace("_s", " s") if c != f"{primary.name}_std" else "± std", justify="right" if c not in ("model", "status") else "left")
    for _, row in board.head(10).iterrows():
        cells = []
        for c in cols:
            v = row.get(c)
            if isinstance(v, float):
                cells.append("" if v != v else f"{v:.4f}")
            else:
                cells.append("" if v is None or (hasattr(v, "__class__") and str(v) == "<NA>") else str(v))
        table.add_row(*cells)
    display.print(table)
    b = summary["best"]
    from rich.markup import escape

    best = f"trial {b['trial']} — {b['model']} {b['params']}" + (f" {b['options']}" if b["options"] else "")
    display.print(f"[bold]best[/bold]: {escape(best)}")
    hold = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) and math.isfinite(v) else f"{k} n/a" for k, v in summary["holdout"].items())
    display.print(f"[bold]held-out test[/bold]: {hold}")
    if summary.get("validation"):
        v = summary["validation"]
        display.print(f"[bold]validation[/bold]: {escape(v['description'])} — {escape(v['reason'])}")
    from .search.driver import BUDGET_STOPPED

    t = dict(summary["trials"])
    # a trial still running when the search's time ran out is a timeout, but not search.budget.trial_timeout's
    cut = int((board["error"] == BUDGET_STOPPED).sum()) if "error" in board.columns else 0
    t["timeout"] -= cut
    display.print(
        f"trials: {t['ok']} ok"
        + "".join(f", {t[k]} {k}" for k in ("failed", "timeout", "pruned") if t[k])
        + (f", {cut} cut by the time budget" if cut else "")
        + f" — {describe_stop(summary['stopped'], summary['strategy'])}"
    )
    display.print(f"outputs: {out}  (model/, leaderboard.csv, summary.json, report.html)")
    tr = summary.get("tracking") or {}
    if tr.get("run_id"):
        display.print(f"MLflow: run {tr['run_id']} in {tr['tracking_uri']}" + (f"; registered {tr['registered_model']} v{tr['registered_version']}" if tr.get("registered_model") else ""))
        if str(tr["tracking_uri"]).startswith("sqlite:"):
            display.print(f"  browse it: mlflow ui --backend-store-uri {tr['tracking_uri']}")
    warning = tracking_warning(tr)
    if warning:
        display.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    display.print(f"serve it: {summary.get('serve') or serve_command(tr, out / 'model')}", markup=False, soft_wrap=True)  # one line to copy
    from .predict import pickle_refused

    if pickle_refused():
        display.print(
            "  MLFLOW_ALLOW_PICKLE_DESERIALIZATION is false here: MLflow's server will refuse this model (a pickle); "
            "for a model you trust, start the server with MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true",
            markup=False,
        )


def tracking_warning(tracking: Mapping) -> str | None:
    """What a finished run says when some trials could not be logged to MLflow (``mlx run`` then exits 1), else None.

    The run's outputs hold every trial; the experiment in MLflow lacks some,
    which nobody would notice in a run that ends as a success.
    """
    missing = tracking.get("trials_not_logged") or 0
    if not missing:
        return None
    total = missing + (tracking.get("trials_logged") or 0)
    errors = tracking.get("tracking_errors") or []
    why = f" ({errors[0]})" if errors else ""
    return (
        f"{missing} of {total} trial{'' if total == 1 else 's'} could not be logged to MLflow{why}; "
        "the run's outputs are complete (every trial is in leaderboard.csv), its MLflow run is not"
    )


def serve_command(tracking: dict, model_dir: Path) -> str:
    """The ``mlflow models serve`` command for a run's model, to copy and paste.

    The registered model (``models:/NAME@ALIAS``) with the run's tracking URI
    when there is one, else the model folder in the output.
    ``--env-manager local``: the server runs in this environment, which has
    every requirement (MLflow's default builds a new virtualenv and installs
    the model's requirements into it).
    """
    import shlex

    tail = "--env-manager local -h 127.0.0.1 -p 5000"
    name = tracking.get("registered_model")
    if name and tracking.get("tracking_uri"):
        uri = tracking.get("registered_uri") or f"models:/{name}/{tracking['registered_version']}"
        return f"MLFLOW_TRACKING_URI={shlex.quote(str(tracking['tracking_uri']))} mlflow models serve -m {shlex.quote(uri)} {tail}"
    return f"mlflow models serve -m {shlex.quote(str(model_dir))} {tail}"


# ----------------------------------------------------------------------------- profile


def profile(source, *, overrides=(), frames=None, output: str | None = None, cache: bool = True, quiet: bool = False) -> dict:
    """``mlx profile``: load and assemble the data as a run would, then write its profile."""
    from .console import make_console
    from .data.assemble import build_dataset
    from .report.profile import write_profile

    loaded = source.with_frames(frames) if isinstance(source, LoadedSpec) else load_spec(source, overrides=overrides, frames=frames)
    loaded.require_frames()
    display = Display(quiet, not quiet)
    spec = loaded.spec
    out = Path(output) if output else loaded.output_dir / "profile"
    folder = None
    if not output:  # the run's folder: its profile/ is mlx's, or absent
        from .outputs import OutputFolder

        folder = OutputFolder(loaded.output_dir, loaded.path)
        folder.check(["profile"])
        folder.claim("profile")
    with display.data_progress() as prog:
        dataset = build_dataset(loaded, cache=cache, progress=prog)  # the same typing as a run
    from rich.markup import escape

    display.note(f"task: {dataset.task} — {escape(dataset.task_reason)}")
    options = spec.profile_spec if spec.profile_spec.enabled else type(spec.profile_spec)()
    result = write_profile(
        dataset.frame,
        target=spec.data.target,
        task=dataset.task,
        column_types=dataset.column_types,
        out_dir=out,
        options=options,
        console=None if quiet else make_console(),
        seed=spec.seed,
    )
    if folder is not None:
        folder.record("profile")
    display.note(f"profile written to {out}")
    return result
