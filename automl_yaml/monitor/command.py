"""``mlx monitor``: a model's current data against the profile it was trained with.

    mlx monitor --model models:/churn@champion --current new.csv [--spec spec.yaml]

The model carries its reference profile (:mod:`.reference`, built by
``mlx run`` from the training rows and the held-out predictions and scores).
The current data is read as ``mlx predict`` reads its input (a file, a URL, or
``SPEC.yaml:SOURCE``; with ``--spec``, a bare source name of that spec too),
the model predicts it, and when it carries the target the model is scored on
it. The thresholds are the spec's ``monitor:`` section, or its defaults.

Exit codes, for schedulers: **0** within thresholds, **3** drift or a
performance drop crossed one, 2 bad input (a model without a profile, data
that is not the model's), 1 an environment failure.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError

#: ``mlx monitor``'s exit code when drift or a performance drop crossed a threshold.
EXIT_DRIFT = 3


def thresholds_of(spec_path: str | None):
    """The spec's ``monitor:`` thresholds (its defaults without a spec), and the loaded spec."""
    from .drift import Thresholds

    if spec_path is None:
        return Thresholds(), None
    from ..spec import load_spec

    loaded = load_spec(spec_path, semantic=False)
    m = loaded.spec.monitor
    t = Thresholds(psi_warn=m.psi_warn, psi_drift=m.psi, js_drift=m.js, missing_delta=m.missing, performance_drop=m.performance_drop, new_categories=m.new_categories)
    return t, loaded


def read_current(current: str, loaded) -> Any:
    """The current rows: a source of the spec by name, else what ``mlx predict --input`` reads."""
    from ..predict import read_input

    if loaded is not None and current in loaded.spec.sources:
        from ..data.sources import open_source

        return open_source(current, loaded.spec.sources[current], base_dir=loaded.base_dir).load()
    return read_input(current)  # a path typed on the command line is the working folder's, as for mlx predict --input


def reference_of(model, name: str) -> dict[str, Any]:
    reference = getattr(model, "reference_", None)
    if reference is None:
        raise UsageError(
            f"the model {name} carries no reference profile: it was trained before automl-yaml kept one with each model",
            hint="train it again with `mlx run` (every new model carries its profile), then monitor the new one",
        )
    from .drift import check_reference

    check_reference(reference)
    return reference


def _scores(model, reference: dict, frame) -> dict[str, float]:
    """The model's scores on rows that carry the target, with the metrics of its run."""
    from ..promote import score_on

    target = reference.get("target")
    scores, _ = score_on(model, frame.drop(columns=[target]), frame[target], reference.get("metrics", []))
    return scores


def monitor(
    model: str,
    current: str | None = None,
    *,
    spec: str | None = None,
    tracking_uri: str | None = None,
    output: str | Path | bool | None = None,
    prometheus: str | Path | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """Compare ``current`` with the profile of ``model``; write the outputs; return the report.

    ``output`` is the folder of ``monitor.json``, ``monitor.html`` and the plots
    (default: ``monitor/`` beside the spec, else in the working folder; False:
    none). ``report["drift"]`` says whether anything crossed a threshold; ``mlx monitor``
    exits with :data:`EXIT_DRIFT` then.
    """
    from ..predict import load_model
    from .drift import compare
    from .outputs import write_outputs, write_prometheus

    thresholds, loaded = thresholds_of(spec)
    if output is False:  # nothing written: the report only
        output = None
    elif output is None:  # beside the spec (a scheduler's working folder is anywhere), else here
        output = (loaded.base_dir / "monitor") if loaded is not None else Path("monitor")
    if current is None:
        current = loaded.spec.monitor.current if loaded is not None else None
        if current is None:
            raise UsageError(
                "there is no current data to check", hint="give --current FILE (or SPEC.yaml:SOURCE), or name a source in the spec's monitor.current"
            )
    frame = read_current(current, loaded)
    trained = load_model(model, tracking_uri=tracking_uri or _spec_uri(loaded))
    reference = reference_of(trained, model)
    features = list(reference["features"])
    missing = [c for c in features if c not in frame.columns]
    wrong = _unreadable(reference, frame)
    if wrong or len(missing) * 2 > len(features):
        # not this model's data: one message with every column at fault (a few missing columns are drift, exit 3)
        parts = []
        if missing:
            parts.append(f"lacks {len(missing)} of the model's {len(features)} feature columns: " + ", ".join(missing[:20]) + (", …" if len(missing) > 20 else ""))
        if wrong:
            parts.append("has columns of the wrong type: " + ", ".join(f"{c} ({kind} in training, no value reads as one now)" for c, kind in wrong))
        raise UsageError(
            "the current data " + "; and ".join(parts),
            hint=f"give the data this model reads (its columns: {', '.join(features[:20])}{', …' if len(features) > 20 else ''})",
        )
    notes: list[str] = []
    predictions = scores = None
    if missing:
        notes.append("no predictions: the model cannot read rows without " + ", ".join(missing))
    else:
        import warnings

        try:
            with warnings.catch_warnings():  # unseen categories: the drift report names them
                warnings.simplefilter("ignore", UserWarning)
                predictions = trained.predict(frame)
                if reference.get("target") in frame.columns:
                    scores = _scores(trained, reference, frame)
        except Exception as exc:  # the drift of the features is still worth reporting
            notes.append(f"no predictions: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    present = [c for c in features if c in frame.columns]
    extra = [c for c in frame.columns if c not in features]
    report = compare(
        reference,
        frame[present + extra],
        predictions=predictions,
        scores=scores,
        greater_is_better={m["name"]: m["sign"] > 0 for m in reference.get("metrics", [])},
        thresholds=thresholds,
    )
    report["schema"]["new_columns"] = [c for c in report["schema"]["new_columns"] if c not in set(getattr(trained, "ignored", None) or ())]
    report.update(model=str(model), current=str(current), timestamp=time.time(), notes=notes, thresholds=thresholds.__dict__)
    if output is not None:
        report["outputs"] = {k: str(v) for k, v in write_outputs(report, Path(output), model=str(model), plots=plots).items()}
    if prometheus is not None:
        report.setdefault("outputs", {})["prometheus"] = str(write_prometheus(report, Path(prometheus), model=str(model)))
    uri = tracking_uri or _spec_uri(loaded)
    if str(model).startswith(("runs:/", "models:/")):
        report["mlflow"] = log_monitoring_run(report, str(model), uri)
    elif (tracked := _tracked_as(model)) is not None:  # a run folder whose run was tracked: linked to it too
        try:
            report["mlflow"] = log_monitoring_run(report, tracked[0], uri or tracked[1])
        except Exception as exc:  # noqa: BLE001 - the check itself is done; the link is a bonus
            report["notes"].append(f"not logged to MLflow ({tracked[0]}): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    if ("mlflow" in report or report["notes"]) and "json" in report.get("outputs", {}):  # monitor.json says where its run is (the run holds the first copy)
        from ..io import atomic_write_json

        atomic_write_json(report["outputs"]["json"], report)
    return report


def _tracked_as(model: str) -> tuple[str, str | None] | None:
    """A run folder's model as MLflow knows it (its registered version, else its run), from its summary.json."""
    import json

    for folder in (Path(model), Path(model).parent):
        summary = folder / "summary.json"
        if summary.is_file():
            try:
                info = json.loads(summary.read_text()).get("tracking") or {}
            except (OSError, ValueError):
                return None
            uri = info.get("tracking_uri")
            uri = uri if uri and "***" not in uri else None  # a masked password cannot connect: the spec's URI then
            if info.get("registered_model") and info.get("registered_version"):
                return f"models:/{info['registered_model']}/{info['registered_version']}", uri
            if info.get("run_id"):
                return f"runs:/{info['run_id']}/model", uri
            return None
    return None


def _metric_key(name: str) -> str:
    """A feature name as MLflow takes it in a metric key (letters, digits, ``_-. /``)."""
    import re

    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", name)[:200]


def log_monitoring_run(report: dict[str, Any], model_uri: str, tracking_uri: str | None) -> dict[str, Any]:
    """A run in the model's experiment with the figures and pages, tagged with the model and linked from its version.

    The model version (for ``models:/``) gets the tags ``mlx.last_monitor_run``
    and ``mlx.last_monitor_drift``, so the registry shows the latest check.
    """
    from ..tracking import _quiet_mlflow, using_uri

    _quiet_mlflow()
    from mlflow import MlflowClient
    from mlflow.entities import Metric, RunTag

    with using_uri(tracking_uri):
        client = MlflowClient()
        version = None
        if model_uri.startswith("models:/"):
            name, _, ref = model_uri[len("models:/") :].partition("@")
            if ref:
                version = client.get_model_version_by_alias(name, ref)
            else:
                name, _, number = model_uri[len("models:/") :].rpartition("/")
                version = client.get_model_version(name, number)
            run_id = version.run_id
        else:
            run_id = model_uri[len("runs:/") :].split("/", 1)[0]
        experiment_id = client.get_run(run_id).info.experiment_id
        tags = {"mlx.kind": "monitor", "mlx.model_uri": model_uri, "mlx.model_run": run_id, "mlflow.runName": "monitor"}
        if version is not None:
            tags.update({"mlx.model_name": version.name, "mlx.model_version": str(version.version)})
        run = client.create_run(experiment_id, tags=tags)
        now = int(time.time() * 1000)
        metrics = [Metric("drift", float(report["drift"]), now, 0), Metric("rows", float(report["rows"]), now, 0)]
        for feature, f in report["features"].items():
            for key in ("psi", "ks", "js", "missing_share"):
                value = f.get(key)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    metrics.append(Metric(_metric_key(f"{key}.{feature}"), float(value), now, 0))
        for metric, perf in (report.get("performance") or {}).items():
            metrics.append(Metric(_metric_key(f"current_{metric}"), perf["current"], now, 0))
        client.log_batch(run.info.run_id, metrics=metrics, tags=[RunTag("mlx.drift", str(report["drift"]).lower())])
        for path in (report.get("outputs") or {}).values():
            if Path(path).is_file() and not path.endswith(".prom"):
                client.log_artifact(run.info.run_id, path)
        client.set_terminated(run.info.run_id, "FINISHED")
        if version is not None:
            client.set_model_version_tag(version.name, version.version, "mlx.last_monitor_run", run.info.run_id)
            client.set_model_version_tag(version.name, version.version, "mlx.last_monitor_drift", str(report["drift"]).lower())
    return {"run_id": run.info.run_id, "experiment_id": experiment_id, "model_version": getattr(version, "version", None)}


def _unreadable(reference: dict, frame) -> list[tuple[str, str]]:
    """Number or date columns of which no value reads as one now (``[(column, kind)]``): a wrong type, not drift."""
    import numpy as np

    from .reference import CATEGORICAL, as_numbers

    out = []
    for name, ref in reference["features"].items():
        if name in frame.columns and ref["kind"] != CATEGORICAL:
            values = frame[name]
            present = int(values.notna().sum())
            if present and not np.isfinite(as_numbers(values, ref["kind"])).any():
                out.append((name, "numbers" if ref["kind"] == "numeric" else "dates"))
    return out


def _spec_uri(loaded) -> str | None:
    if loaded is None or not loaded.spec.tracking.enabled:
        return None
    from ..tracking import resolve_uri

    return resolve_uri(loaded)


def monitor_cli(*, model: str, current: str | None, spec: str | None, tracking_uri: str | None, output: str | None, prometheus: str | None, as_json: bool, quiet: bool, plots: bool) -> int:
    import json

    from rich.markup import escape
    from rich.table import Table

    from ..console import make_console
    from .outputs import feature_table

    console = make_console(highlight=False, quiet=quiet or as_json)
    with console.status(f"checking {current or 'the current data'} against the profile of {model}"):
        report = monitor(model, current, spec=spec, tracking_uri=tracking_uri, output=output, prometheus=prometheus, plots=plots)
    if as_json:
        print(json.dumps(report, default=str, indent=2))
    table = Table(title=f"{report['rows']:,} current rows against {report.get('reference_rows') or '?':,} training rows")
    for col in ("feature", "kind", "PSI", "KS", "JS", "missing", "status", "why"):
        table.add_column(col, justify="right" if col in ("PSI", "KS", "JS", "missing") else "left", overflow="fold")
    colours = {"drift": "red", "watch": "yellow", "ok": "green"}
    for row in feature_table(report).itertuples(index=False):
        cells = [_cell(v) for v in row]
        cells[6] = f"[{colours[row.status]}]{row.status}[/{colours[row.status]}]"
        table.add_row(*[c if i == 6 else escape(c) for i, c in enumerate(cells)])
    console.print(table)
    for name, perf in (report.get("performance") or {}).items():
        console.print(f"{escape(name)}: {perf['current']:.4g} now, {perf['reference']:.4g} on the held-out rows ({-perf['relative_drop']:+.1%})")
    for note in report.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    for key, path in report.get("outputs", {}).items():
        console.print(f"{key}: {escape(path)}")
    verdict = "[red]drift[/red]: " + escape("; ".join(report["reasons"][:3])) if report["drift"] else "[green]within thresholds[/green]"
    make_console(highlight=False, quiet=as_json).print(f"monitor: {verdict}")
    return EXIT_DRIFT if report["drift"] else 0


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
