"""What ``mlx monitor`` writes: ``monitor.json``, plots, one HTML page, and Prometheus metrics.

The Prometheus file is in the text exposition format, for node-exporter's
textfile collector (name it ``*.prom`` in the collector's folder). It is
written by ``prometheus_client`` (atomically: a temporary file, then a rename).
The metric and label names are stable; dashboards rely on them:

==================================  ===================  =========================================
metric                              labels               value
==================================  ===================  =========================================
``mlx_monitor_drift``               model                1 when anything crossed a threshold, else 0
``mlx_monitor_rows``                model                rows of the current data
``mlx_monitor_timestamp_seconds``   model                when the check ran (Unix time)
``mlx_feature_drift``               model, feature       1 when the feature drifted, else 0
``mlx_feature_psi``                 model, feature       population stability index
``mlx_feature_ks``                  model, feature       Kolmogorov-Smirnov statistic (numbers)
``mlx_feature_js``                  model, feature       Jensen-Shannon distance (categories)
``mlx_feature_missing_share``       model, feature       share of missing values now
``mlx_schema_missing_columns``      model                columns the model reads that are missing
``mlx_prediction_psi``              model                PSI of the predictions
``mlx_performance``                 model, metric, data  a score on ``data="current"`` or ``"reference"``
==================================  ===================  =========================================
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import atomic_write_json

METRICS = (
    "mlx_monitor_drift",
    "mlx_monitor_rows",
    "mlx_monitor_timestamp_seconds",
    "mlx_feature_drift",
    "mlx_feature_psi",
    "mlx_feature_ks",
    "mlx_feature_js",
    "mlx_feature_missing_share",
    "mlx_schema_missing_columns",
    "mlx_prediction_psi",
    "mlx_performance",
)


def write_prometheus(report: dict[str, Any], path: Path, *, model: str) -> Path:
    """The report's figures as Prometheus metrics in ``path`` (see the module's doc)."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, ("model", *labels), registry=registry)

    gauge("mlx_monitor_drift", "1 when drift or a performance drop crossed a threshold").labels(model).set(int(report["drift"]))
    gauge("mlx_monitor_rows", "Rows of the current data").labels(model).set(report["rows"])
    gauge("mlx_monitor_timestamp_seconds", "When the check ran").labels(model).set(report.get("timestamp", time.time()))
    drift = gauge("mlx_feature_drift", "1 when the feature drifted", ("feature",))
    stats = {
        "psi": gauge("mlx_feature_psi", "Population stability index", ("feature",)),
        "ks": gauge("mlx_feature_ks", "Kolmogorov-Smirnov statistic", ("feature",)),
        "js": gauge("mlx_feature_js", "Jensen-Shannon distance", ("feature",)),
        "missing_share": gauge("mlx_feature_missing_share", "Share of missing values", ("feature",)),
    }
    for name, feature in report["features"].items():
        drift.labels(model, name).set(int(feature["drift"]))
        for key, g in stats.items():
            value = feature.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                g.labels(model, name).set(value)
    gauge("mlx_schema_missing_columns", "Columns the model reads that are missing").labels(model).set(
        len(report["schema"]["missing_columns"])
    )
    prediction = report.get("prediction", {}).get("psi")
    if prediction is not None:
        gauge("mlx_prediction_psi", "PSI of the predictions").labels(model).set(prediction)
    perf = gauge("mlx_performance", "A score of the model", ("metric", "data"))
    for metric, scores in report.get("performance", {}).items():
        perf.labels(model, metric, "current").set(scores["current"])
        perf.labels(model, metric, "reference").set(scores["reference"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)
    return path


def feature_table(report: dict[str, Any]) -> pd.DataFrame:
    """One row per feature (and the predictions): the statistics and the verdict, drifted first."""
    rows = []
    entries = list(report["features"].items())
    if "prediction" in report:
        entries.append(("(predictions)", report["prediction"]))
    for name, f in entries:
        rows.append(
            {
                "feature": name,
                "kind": f["kind"],
                "PSI": f.get("psi"),
                "KS": f.get("ks"),
                "JS": f.get("js"),
                "missing": f.get("missing_share"),
                "status": "drift" if f["drift"] else ("watch" if f.get("warn") else "ok"),
                "why": "; ".join(f["reasons"]),
            }
        )
    for name in report["schema"]["missing_columns"]:
        rows.append({"feature": name, "kind": "", "status": "drift", "why": "column missing"})
    table = pd.DataFrame(rows, columns=["feature", "kind", "PSI", "KS", "JS", "missing", "status", "why"])
    order = {"drift": 0, "watch": 1, "ok": 2}
    return table.sort_values("status", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def plot_feature(name: str, feature: dict[str, Any], path: Path) -> Path | None:
    """Reference against current: the PSI bins of a number, the frequencies of a category."""
    from ..report.plots import _figure, _save, _short

    if "bins_reference" in feature:
        labels = [f"{i + 1}" for i in range(len(feature["bins_reference"]))]
        ref, cur, xlabel = feature["bins_reference"], feature["bins_current"], "reference decile bin"
    elif "frequencies_reference" in feature:
        keys = list(feature["frequencies_reference"])[:20]
        labels = [_short(k, 14) for k in keys]
        ref = [feature["frequencies_reference"][k] for k in keys]
        cur = [feature["frequencies_current"][k] for k in keys]
        xlabel = "category"
    else:
        return None
    fig = _figure(6.0, 3.0)
    ax = fig.add_subplot()
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], ref, width=0.4, label="reference", color="#4c72b0")
    ax.bar([i + 0.2 for i in x], cur, width=0.4, label="current", color="#dd8452")
    ax.set_xticks(list(x), labels, rotation=45 if len(labels) > 10 else 0, ha="right" if len(labels) > 10 else "center")
    ax.set_ylabel("share of rows")
    ax.set_xlabel(xlabel)
    verdict = "drift" if feature["drift"] else "ok"
    ax.set_title(f"{_short(name)}: {verdict}" + (f" (PSI {feature['psi']:.3f})" if feature.get("psi") is not None else ""))
    ax.legend()
    return _save(fig, path)


def write_outputs(report: dict[str, Any], out: Path, *, model: str, plots: bool = True) -> dict[str, Path]:
    """``monitor.json``, ``plots/*.png`` and ``monitor.html`` in ``out``; their paths."""
    from ..report.html import Section, image, page

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "monitor.json"}
    atomic_write_json(paths["json"], report)
    images = []
    if plots:
        entries = list(report["features"].items()) + ([("predictions", report["prediction"])] if "prediction" in report else [])
        ranked = sorted(entries, key=lambda kv: (not kv[1]["drift"], -(kv[1].get("psi") or 0.0)))
        for i, (name, feature) in enumerate(ranked[:30]):
            png = plot_feature(name, feature, out / "plots" / f"drift_{i:02d}.png")
            if png is not None:
                images.append(image(png, caption=name))
    verdict = "Drift or a performance drop crossed a threshold" if report["drift"] else "Within thresholds"
    sections = [
        Section("Verdict", [verdict, *report["reasons"][:50]]),
        Section("Features", [feature_table(report)]),
    ]
    if report.get("performance"):
        perf = pd.DataFrame([{"metric": k, **v} for k, v in report["performance"].items()])
        sections.append(Section("Performance", [perf]))
    if images:
        sections.append(Section("Reference against current", images))
    paths["html"] = out / "monitor.html"
    from ..io import atomic_write_text

    atomic_write_text(paths["html"], page(f"Monitoring {model}", sections, subtitle=f"{report['rows']:,} current rows"))
    return paths
