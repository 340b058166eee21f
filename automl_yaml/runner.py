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
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any

from .errors import AutomlYamlError, UsageError
from .spec import LoadedSpec, load_spec

SEARCH_DIR = "search"
STATE = "state.json"


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
    leaderboard: Any
    summary: dict[str, Any]
    tracking: dict[str, Any]

    def one_line(self) -> str:
        h = self.holdout.get(self.metric)
        hs = f"{h:.4f}" if isinstance(h, float) else "n/a"
        cv = f"{self.cv_score:.4f}" if isinstance(self.cv_score, float) else "n/a"
        return f"{self.name}: best {self.best_model}  cv {self.metric} {cv}  test {self.metric} {hs}  -> {self.model_path}"


class PipelineFactory:
    """Builds the full pipeline (preprocess + select + model) for a configuration.

    Picklable, so that worker processes build their own pipelines.
    """

    def __init__(self, spec, column_types: dict[str, str], task: str, space, seed: int, n_jobs: int = 1):
        self.spec = spec
        self.column_types = column_types
        self.task = task
        self.space = space
        self.seed = seed
        self.n_jobs = n_jobs

    def __call__(self, config: dict):
        from .components.estimators import make_estimator
        from .preprocess.pipeline import build_pipeline

        key, params, options = self.space.split(config)
        name = self.space.models[key].estimator
        estimator = make_estimator(name, params, self.task, seed=self.seed, n_jobs=self.n_jobs)
        return build_pipeline(self.spec, self.column_types, self.task, options, estimator, seed=self.seed)


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
        self.done = 0

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, quiet=self.quiet, highlight=False)
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
        if not self.show_progress:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=True) as p:
            yield p

    @contextlib.contextmanager
    def search(self, trials: int | None, time_budget: float | None, metric, done: int = 0):
        self.metric = metric
        self.done = done
        if not self.show_progress:
            yield self
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        total = trials
        self._time_budget = time_budget
        self._t0 = time.monotonic()
        columns = [TextColumn("[bold]search[/bold]"), BarColumn()]
        columns.append(MofNCompleteColumn() if total else TextColumn("{task.completed:.0f} trials"))
        columns += [TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
        with Progress(*columns, console=self.console, transient=False, refresh_per_second=4, redirect_stdout=False, redirect_stderr=False) as p:
            self._progress = p
            self._task = p.add_task("search", total=total, completed=done, status="")
            try:
                yield self
            finally:
                self._progress = None

    def trial(self, result) -> None:
        self.done += 1
        if result.status != "ok":
            self.failed += 1
        elif self.metric.name in (result.scores or {}):
            v = result.scores[self.metric.name]["mean"]
            bigger = self.metric.greater_is_better and not self.metric.objective_only
            if v is not None and (self.best is None or (v > self.best[0] if bigger else v < self.best[0])):
                self.best = (v, result.config.get("model", ""), result.number)
        if self._progress is not None:
            status = f"best {self.metric.name} {self.best[0]:.4f} ({self.best[1] or 'model'}, #{self.best[2]})" if self.best else "no result yet"
            if self.failed:
                status += f"  [yellow]{self.failed} failed[/yellow]"
            self._progress.update(self._task, advance=1, status=status)


# ----------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _lock(folder: Path):
    """One ``mlx run`` per output folder at a time."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    fh = open(folder / ".lock", "w")  # noqa: SIM115 - held for the whole run
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
    for dist in ("scikit-learn", "pandas", "numpy", "optuna", "mlflow", "deap", "mlxtend", "lightgbm", "xgboost"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


def _prepare_search_dir(out: Path, state: dict, resume: bool, display: Display) -> Path:
    sdir = out / SEARCH_DIR
    path = sdir / STATE
    if resume:
        if not path.exists():
            raise UsageError(f"there is no interrupted run in {out} to resume", hint="run without --resume")
        old = json.loads(path.read_text())
        if old.get("spec_hash") != state["spec_hash"] or old.get("search_id") != state["search_id"]:
            raise UsageError(
                "the spec changed since the interrupted run, so its trials cannot be reused",
                hint="run without --resume to start again, or undo the change",
            )
        changed = [k for k, v in state["fingerprints"].items() if old.get("fingerprints", {}).get(k) != v]
        if changed:
            raise UsageError(
                f"the data of {', '.join(changed)} changed since the interrupted run",
                hint="run without --resume to start again on the new data",
            )
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
    resume: bool = False,
    cache: bool = True,
    quiet: bool = False,
    progress: bool = True,
    environ=None,
) -> RunResult:
    """Run a spec end to end.

    Args:
        source: A spec path, a mapping, or a :class:`LoadedSpec`.
        overrides: ``"a.b=value"`` strings (``--set``).
        resume: Continue an interrupted search instead of starting again.
        cache: Use the Parquet cache of loaded sources.
        quiet: Print nothing (results come back in the :class:`RunResult`).
        progress: Show progress bars (on stderr).

    Returns:
        A :class:`RunResult`.

    Raises:
        AutomlYamlError: for every failure a user can act on; ``KeyboardInterrupt``
            after recording an interrupted run (resume with ``resume=True``).
    """
    loaded = source if isinstance(source, LoadedSpec) else load_spec(source, overrides=overrides, environ=environ)
    display = Display(quiet, progress)
    for w in loaded.warnings:
        display.print(f"[yellow]{w.render()}[/yellow]")
    out = loaded.output_dir
    with _lock(out), _quiet_warnings():
        return _run(loaded, display, out, resume=resume, cache=cache)


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


def _run(loaded: LoadedSpec, display: Display, out: Path, *, resume: bool, cache: bool) -> RunResult:
    from . import __version__
    from .tracking import make_tracker

    spec = loaded.spec
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    tracker = make_tracker(loaded)
    if tracker.enabled:
        with display.phase("checking the tracking store"):
            tracker.check()

    # trials will run in worker processes: start their fork server now, so that
    # its imports (about a second) overlap the data loading
    budget = spec.search.budget
    if spec.execution.n_jobs != 1 or budget.time is not None or budget.trial_timeout is not None:
        from .search.driver import warm_up

        warm_up()

    # ---------------------------------------------------------------- data
    from .data.assemble import build_dataset

    t = time.perf_counter()
    with display.data_progress() as prog:
        dataset = build_dataset(loaded, cache=cache, progress=prog)
    timings["load"] = time.perf_counter() - t
    for info in dataset.sources.values():
        display.note(f"{info.description}: {info.rows:,} rows x {info.columns} columns" + (" (cached)" if info.from_cache else "") + f" [{info.seconds:.1f}s]")
    display.note(f"task: [bold]{dataset.task}[/bold] — {dataset.task_reason}")
    display.note(f"train {len(dataset.X_train):,} rows / test {len(dataset.X_test):,} rows, {dataset.X_train.shape[1]} features")
    for n in dataset.notes:
        display.note(n)

    # ------------------------------------------------------------- profile
    profile_info = None
    if spec.profile_spec.enabled:
        from .report.profile import write_profile

        t = time.perf_counter()
        with display.phase("profiling the data"):
            profile_info = write_profile(
                dataset.frame,
                target=spec.data.target,
                task=dataset.task,
                column_types=dataset.column_types,
                out_dir=out / "profile",
                options=spec.profile_spec,
                console=None,
                seed=spec.seed,
            )
        timings["profile"] = time.perf_counter() - t
        display.note(f"profile: {out / 'profile' / 'profile.html'}")

    # ---------------------------------------------------------------- plan
    from .components.metrics import resolve
    from .io import atomic_write_json
    from .planner import plan as make_plan
    from .search.space import compile_space

    n_rows = len(dataset.X_train)
    plan = make_plan(loaded, task=dataset.task, n_rows=n_rows)
    atomic_write_json(out / "plan.json", plan.to_dict())
    metrics = resolve(spec.search.metrics(), dataset.task, n_classes=dataset.n_classes)
    space = compile_space(spec, dataset.task, n_rows)
    if not space.models:
        raise UsageError("no model fits this task and data size", hint="list models in the spec")
    directions = [m.direction for m in metrics]
    search_step = plan.step("search")
    state = {"spec_hash": loaded.spec_hash(), "search_id": search_step.id, "fingerprints": dataset.fingerprints}
    sdir = _prepare_search_dir(out, state, resume, display)

    # -------------------------------------------------------------- search
    from . import registry as R
    from .search.cv import make_cv
    from .search.driver import run_search
    from .search.evaluator import Evaluator

    cv = make_cv(spec.search.cv, spec.data.split.by, dataset.task, spec.seed, groups=dataset.groups_train)
    factory = PipelineFactory(spec, dataset.column_types, dataset.task, space, spec.seed)
    evaluator = Evaluator(X=dataset.X_train, y=dataset.y_train, groups=dataset.groups_train, cv=cv, metrics=metrics, make_pipeline=factory)
    strategy_cls = R.strategies.get(spec.search.strategy).load()
    searcher = strategy_cls(space, directions=directions, seed=spec.seed, options=spec.search.options, budget_trials=plan.trials, workdir=sdir)
    if tracker.enabled:
        tracker.start(plan=plan, dataset=dataset, strategy=spec.search.strategy, version=__version__)

    n_jobs = spec.execution.n_jobs
    display.print(
        f"[bold]searching[/bold] {len(space.models)} model(s) with {spec.search.strategy}"
        + (f", {plan.trials} trials" if plan.trials else "")
        + (f", {budget.time:g}s" if budget.time else "")
        + f", {plan.folds}-fold CV, optimising {', '.join(m.name for m in metrics)}"
    )

    def on_result(result) -> None:
        display.trial(result)
        tracker.log_trial(result)

    t = time.perf_counter()
    try:
        with display.search(plan.trials, budget.time, metrics[0]):
            outcome = run_search(
                searcher,
                evaluator,
                directions=directions,
                n_trials=plan.trials,
                time_budget=budget.time,
                trial_timeout=budget.trial_timeout,
                patience=budget.patience,
                n_jobs=n_jobs,
                journal=sdir / "trials.jsonl",
                resume=resume,
                on_result=on_result,
            )
    except KeyboardInterrupt:
        tracker.fail("interrupted", status="KILLED")
        display.print(f"\n[yellow]interrupted.[/yellow] finished trials are kept; continue with:\n  mlx run {loaded.path or 'SPEC'} --resume")
        raise
    except AutomlYamlError as exc:
        tracker.fail(exc.message)
        raise
    finally:
        with contextlib.suppress(Exception):
            searcher.close()
    timings["search"] = time.perf_counter() - t
    importances = None
    with contextlib.suppress(Exception):
        importances = searcher.importances()

    # ------------------------------------------------------------ evaluate
    try:
        result = _finish(loaded, display, out, dataset, space, metrics, outcome, factory, importances, tracker, timings, t_start, plan, profile_info)
    except KeyboardInterrupt:
        tracker.fail("interrupted", status="KILLED")
        raise
    except Exception as exc:
        tracker.fail(str(exc))
        raise
    _mark_complete(sdir)
    return result


def _finish(loaded, display, out, dataset, space, metrics, outcome, factory, importances, tracker, timings, t_start, plan, profile_info) -> RunResult:
    import pickle

    import numpy as np

    from .model import TrainedModel
    from .preprocess.pipeline import selected_features
    from .report import run as report
    from .tracking import save_model

    spec = loaded.spec
    best = outcome.best
    key, params, options = space.split(best.config)
    t = time.perf_counter()
    with display.phase(f"refitting the best ({key}) on the whole training set"):
        refit_factory = PipelineFactory(spec, dataset.column_types, dataset.task, space, spec.seed, n_jobs=max(1, spec.execution.n_jobs) if spec.execution.n_jobs != -1 else -1)
        pipeline = refit_factory(best.config)
        pipeline.fit(dataset.X_train, dataset.y_train)
    timings["refit"] = time.perf_counter() - t

    # held-out scores
    t = time.perf_counter()
    holdout: dict[str, float] = {}
    for m in metrics:
        if m.objective_only:
            if m.name == "fit_time":
                holdout[m.name] = timings["refit"]
            elif m.name == "model_size":
                holdout[m.name] = float(len(pickle.dumps(pipeline)))
            elif m.name == "predict_time":
                t0 = time.perf_counter()
                pipeline.predict(dataset.X_test)
                holdout[m.name] = time.perf_counter() - t0
            continue
        try:
            holdout[m.name] = float(m.display(m.scorer()(pipeline, dataset.X_test, dataset.y_test)))
        except Exception as exc:  # a metric the model cannot give on this set
            holdout[m.name] = float("nan")
            display.note(f"[yellow]holdout {m.name} could not be computed: {type(exc).__name__}: {exc}[/yellow]")
    model = TrainedModel(pipeline=pipeline, task=dataset.task, classes=dataset.classes, target=spec.data.target).fitted(dataset.X_train)

    # plots
    plots_dir = out / "plots"
    plots: dict[str, str] = {}
    primary = metrics[0]

    def keep(name: str, path):
        if path is not None:
            plots[name] = str(Path(path).relative_to(out))

    with display.phase("writing plots"):
        keep("history", report.plot_history(outcome.results, primary, plots_dir / "history.png"))
        if importances:
            keep("param_importance", report.plot_importances(importances, plots_dir / "param_importance.png", "parameter importance"))
        def draw(name: str, make) -> None:
            try:
                keep(name, make())
            except Exception as exc:  # a plot must never fail a finished run
                display.note(f"[yellow]the {name.replace('_', ' ')} plot could not be drawn: {type(exc).__name__}: {exc}[/yellow]")

        y_codes = np.asarray(dataset.y_test)
        if dataset.task == "classification":
            labels = [str(c) for c in dataset.classes]  # one label type, whatever the target's
            y_true = np.asarray(labels)[y_codes.astype(int)]
            y_pred = np.asarray(labels)[np.asarray(pipeline.predict(dataset.X_test)).astype(int)]
            draw("confusion_matrix", lambda: report.plot_confusion(y_true, y_pred, labels, plots_dir / "confusion_matrix.png"))

            def roc():
                scores = None
                if hasattr(pipeline, "predict_proba"):
                    with contextlib.suppress(Exception):
                        scores = pipeline.predict_proba(dataset.X_test)
                if scores is None and hasattr(pipeline, "decision_function"):
                    scores = pipeline.decision_function(dataset.X_test)
                return None if scores is None else report.plot_roc(y_codes.astype(int), np.asarray(scores), labels, plots_dir / "roc.png")

            draw("roc", roc)
        else:
            draw("residuals", lambda: report.plot_residuals(dataset.y_test, pipeline.predict(dataset.X_test), plots_dir / "residuals.png"))
        score_metric = next((m for m in metrics if not m.objective_only), None)
        if score_metric is not None:

            def importance():
                fi = report.feature_importance(pipeline, dataset.X_test, dataset.y_test, score_metric.scorer(), seed=spec.seed)
                return report.plot_importances(fi, plots_dir / "feature_importance.png", "permutation importance (test set)")

            draw("feature_importance", importance)
    timings["evaluate"] = time.perf_counter() - t

    # model, leaderboard, summary
    model_dir = out / "model"
    with display.phase("saving the model"):
        save_model(model, dataset.X_train, model_dir)
    board = report.leaderboard(outcome.results, metrics, best=best.number, pareto=outcome.pareto, space=space)
    report.write_leaderboard(board, out / "leaderboard.csv")
    features = []
    with contextlib.suppress(Exception):
        features = selected_features(pipeline)
    counts = {s: sum(r.status == s for r in outcome.results) for s in ("ok", "failed", "timeout", "pruned")}
    counts["total"] = len(outcome.results)
    timings["total"] = time.perf_counter() - t_start
    best_cv = {m.name: (best.scores.get(m.name) or {}).get("mean") for m in metrics}
    summary = {
        "name": spec.name,
        "spec_hash": loaded.spec_hash(),
        "task": dataset.task,
        "task_reason": dataset.task_reason,
        "target": spec.data.target,
        "classes": [str(c) for c in dataset.classes] if dataset.classes is not None else None,
        "positive_class": None if dataset.positive is None else str(dataset.positive),
        "metrics": [{"name": m.name, "greater_is_better": m.greater_is_better and not m.objective_only} for m in metrics],
        "strategy": spec.search.strategy,
        "best": {
            "trial": best.number,
            "model": key,
            "estimator": space.models[key].estimator,
            "params": params,
            "options": options,
            "cv": {m: best.scores.get(m) for m in best.scores},
        },
        "holdout": holdout,
        "pareto": outcome.pareto if len(metrics) > 1 else None,
        "selected_features": features,
        "trials": counts,
        "stopped": outcome.stopped,
        "data": {
            "rows_train": len(dataset.X_train),
            "rows_test": len(dataset.X_test),
            "features": dataset.X_train.shape[1],
            "column_types": dataset.column_types,
            "fingerprints": dataset.fingerprints,
        },
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "versions": _versions(),
        "paths": {
            "model": "model",
            "leaderboard": "leaderboard.csv",
            "plots": plots,
            "report": "report.html",
            "profile": "profile/profile.html" if profile_info is not None else None,
        },
        "param_importances": importances,
    }
    # the redacted spec, as run
    from .io import atomic_write_text

    import yaml as _yaml

    atomic_write_text(out / "spec.yaml", _yaml.safe_dump(loaded.redacted(), sort_keys=False, allow_unicode=True))
    tracking_info: dict[str, Any] = {}
    if tracker.enabled:
        with display.phase("logging to MLflow"):
            report.write_summary(summary, out / "summary.json")
            _write_html(out, summary, board, plots, profile_info)
            artifacts = [out / "spec.yaml", out / "plan.json", out / "leaderboard.csv", out / "summary.json", out / "report.html", plots_dir]
            if (out / "profile").exists():
                artifacts.append(out / "profile")
            tracking_info = tracker.finish(
                summary=summary,
                output_dir=out,
                artifacts=artifacts,
                model=model,
                X_example=dataset.X_train,
                holdout=holdout,
                best_cv=best_cv,
            )
        summary["tracking"] = tracking_info
    report.write_summary(summary, out / "summary.json")
    _write_html(out, summary, board, plots, profile_info)
    _final_display(display, summary, board, metrics, out)
    return RunResult(
        name=spec.name,
        output_dir=out,
        model_path=model_dir,
        task=dataset.task,
        metric=primary.name,
        best_model=key,
        best_params=dict(best.config),
        cv_score=best_cv.get(primary.name),
        holdout=holdout,
        leaderboard=board,
        summary=summary,
        tracking=tracking_info,
    )


def _write_html(out: Path, summary: dict, board, plots: dict, profile_info) -> None:
    from .report.run import write_html

    write_html(out / "report.html", summary, board, {k: out / v for k, v in plots.items()})


def _final_display(display: Display, summary: dict, board, metrics, out: Path) -> None:
    if display.quiet:
        return
    from rich.table import Table

    primary = metrics[0]
    table = Table(title="leaderboard (top 10)", title_justify="left", show_edge=False)
    cols = ["rank", "trial", "model", f"{primary.name}_mean", f"{primary.name}_std", "fit_time_s", "status"]
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
    display.print(f"[bold]best[/bold]: trial {b['trial']} — {b['model']} {b['params']}" + (f" {b['options']}" if b["options"] else ""))
    hold = ", ".join(f"{k} {v:.4f}" for k, v in summary["holdout"].items() if isinstance(v, float))
    display.print(f"[bold]held-out test[/bold]: {hold}")
    t = summary["trials"]
    display.print(
        f"trials: {t['ok']} ok" + "".join(f", {t[k]} {k}" for k in ("failed", "timeout", "pruned") if t[k]) + f" — stopped by {summary['stopped']}"
    )
    display.print(f"outputs: {out}  (model/, leaderboard.csv, summary.json, report.html)")
    tr = summary.get("tracking") or {}
    if tr.get("run_id"):
        display.print(f"MLflow: run {tr['run_id']} in {tr['tracking_uri']}" + (f"; registered {tr['registered_model']} v{tr['registered_version']}" if tr.get("registered_model") else ""))


# ----------------------------------------------------------------------------- profile


def profile(source, *, overrides=(), output: str | None = None, cache: bool = True, quiet: bool = False) -> dict:
    """``mlx profile``: load and assemble the data as a run would, then write its profile."""
    from rich.console import Console

    from .data.assemble import build_dataset
    from .report.profile import write_profile

    loaded = source if isinstance(source, LoadedSpec) else load_spec(source, overrides=overrides)
    display = Display(quiet, not quiet)
    spec = loaded.spec
    out = Path(output) if output else loaded.output_dir / "profile"
    with display.data_progress() as prog:
        dataset = build_dataset(loaded, cache=cache, progress=prog)  # the same typing as a run
    display.note(f"task: {dataset.task} — {dataset.task_reason}")
    options = spec.profile_spec if spec.profile_spec.enabled else type(spec.profile_spec)()
    result = write_profile(
        dataset.frame,
        target=spec.data.target,
        task=dataset.task,
        column_types=dataset.column_types,
        out_dir=out,
        options=options,
        console=None if quiet else Console(stderr=True),
        seed=spec.seed,
    )
    display.note(f"profile written to {out}")
    return result
